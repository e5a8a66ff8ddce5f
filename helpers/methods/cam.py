"""Grad-CAM (Selvaraju et al., 2017), as the paper defines it.

For a conv layer with feature maps A^k (h x w x K) and the class logit y^c:
  0. A^k: by default the last convolutional block's rectified output (after BatchNorm and
     activation), see :func:`helpers.grad_cam_layer`;
  1. gradients dy^c / dA^k, plain (not "guided");
  2. channel weights alpha_k = their spatial mean;
  3. the weighted sum over channels, sum_k alpha_k A^k;
  4. ReLU: keep only what speaks *for* the class;
  5. bilinear upsampling to the image size, scaled to [0, 1].

Steps 3-5 are shared by every class-activation-map variant
(:func:`class_activation_map`): a variant only says how it weights the feature maps, as
:func:`grad_cam_weights` does for Grad-CAM (pytorch-grad-cam's ``get_cam_weights``). A
new variant is a weight function ``(feature maps, gradients) -> weights``, either one
weight per channel (N, K) or one per grid cell and channel (N, h, w, K), and a three-line
method calling :func:`cam_method` (the CAM family: :mod:`.cam_variants`,
:mod:`.score_cam`, :mod:`.eigen_cam`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from ..models.layers import find_layer, grad_cam_layer, last_conv_layer, symbolic_input
from ..models.scores import logits_model
from .batching import (
    Progress,
    checked_images,
    chunks,
    class_indices,
    prepare,
    progress_bar,
    unbatch,
)

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class NotAFeatureMapLayerError(ValueError):
    """Grad-CAM needs a layer whose output is a stack of 2-D feature maps."""


def _feature_layer(model: keras.Model, layer: str | None) -> str:
    name = grad_cam_layer(model) if layer is None else find_layer(model, layer).name
    shape = model.get_layer(name).output.shape
    if len(shape) != 4:
        raise NotAFeatureMapLayerError(
            f"layer '{name}' outputs shape {tuple(shape)}, not feature maps (batch, h, w, "
            f"channels); choose a convolutional layer, e.g. '{last_conv_layer(model)}'"
        )
    return name


def _compile(model: keras.Model, layer: str):
    both = keras.Model(
        symbolic_input(model), [model.get_layer(layer).output, logits_model(model).output]
    )
    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec([None], tf.int32)])
    def parts(images, classes):
        with tf.GradientTape() as tape:
            features, logits = both(images, training=False)
            scores = tf.gather(logits, classes, batch_dims=1)
        return features, tape.gradient(scores, features)

    return parts


def _compile_features(model: keras.Model, layer: str):
    features = keras.Model(symbolic_input(model), model.get_layer(layer).output)
    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec([None], tf.int32)])
    def parts(images, classes):  # same call as _compile's, no gradients: a forward pass
        return features(images, training=False), tf.zeros([0])

    return parts


def _compiled_parts(model: keras.Model, layer: str, gradients: bool = True):
    per_model = _COMPILED.setdefault(model, {})
    key = layer if gradients else (layer, "forward only")
    if key not in per_model:
        per_model[key] = _compile(model, layer) if gradients else _compile_features(model, layer)
    return per_model[key]


def _arrays(compiled, images: np.ndarray, classes: np.ndarray, gradients: bool):
    features, grads = compiled(images, classes)
    return features.numpy(), (grads.numpy() if gradients else None)


ChannelWeights = Callable[..., np.ndarray]


def grad_cam_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Grad-CAM's channel weights alpha_k: the spatial mean of the gradients, (N, K)."""
    return gradients.mean(axis=(1, 2))


def class_activation_map(feature_maps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k w_k A^k for (N, h, w, K) feature maps: (N, h, w), before the ReLU.

    ``weights`` (N, K) weigh each channel (Grad-CAM); (N, h, w, K) weigh each grid cell of
    each channel (HiResCAM, LayerCAM: sum_k w_ijk A^k_ij)."""
    if weights.ndim == 4:
        return np.einsum("bhwk,bhwk->bhw", feature_maps, weights, optimize=True)
    return np.einsum("bhwk,bk->bhw", feature_maps, weights, optimize=True)


@dataclass(frozen=True)
class CamContext:
    """What a weight function that runs the network again (Score-CAM) gets as its third
    argument: the model, the chunk's images and classes, the chunk size for its own passes,
    and ``advance(count)`` for the progress bar (``count`` network passes done)."""

    model: keras.Model
    images: np.ndarray
    classes: np.ndarray
    batch_size: int
    advance: Callable[[int], None]


@dataclass(frozen=True)
class GradCamParts:
    """Every intermediate of a class-activation map for one image (for teaching and
    checking): Grad-CAM's, or any variant's (:func:`cam_parts`)."""

    layer: str
    feature_maps: np.ndarray  # (h, w, K): A^k
    gradients: np.ndarray  # (h, w, K): d logit / d A^k
    channel_weights: np.ndarray  # (K,) per channel, or (h, w, K) per cell (HiResCAM, LayerCAM)
    weighted_sum: np.ndarray  # (h, w): sum_k alpha_k A^k, before the ReLU
    cam: np.ndarray  # (h, w): after the ReLU


CamParts = GradCamParts


def cam_parts(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    weights: ChannelWeights,
    layer: str | None = None,
) -> GradCamParts:
    """The steps of a gradient-weighted CAM for one image at the layer's own resolution:
    feature maps, gradients of the class logit, ``weights(feature maps, gradients)``, the
    weighted sum before the ReLU and after it (``layer=None``: :func:`helpers.grad_cam_layer`)."""
    batch, single = checked_images(model, image)
    if not single:
        raise ValueError("cam_parts explains one image (H, W, 3); use the method for a batch")
    name = _feature_layer(model, layer)
    classes = class_indices(model, class_index, 1)
    features, grads = _arrays(_compiled_parts(model, name), batch, classes, True)
    w = weights(features, grads)
    cam = class_activation_map(features, w)[0]
    return GradCamParts(name, features[0], grads[0], w[0], cam, np.maximum(cam, 0.0))


def grad_cam_parts(
    model: keras.Model, image: np.ndarray, class_index: int, layer: str | None = None
) -> GradCamParts:
    """The steps of Grad-CAM for one image, at the layer's own resolution (``layer=None``:
    :func:`helpers.grad_cam_layer`)."""
    return cam_parts(model, image, class_index, grad_cam_weights, layer)


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (N, h, w) maps to (N, *size)."""
    resized = tf.image.resize(maps[..., None], size, method="bilinear")
    return resized.numpy()[..., 0]


def scale_to_unit(maps: np.ndarray) -> np.ndarray:
    """Divide each (h, w) map by its maximum; an all-zero map stays zero (never NaN)."""
    peak = maps.reshape(len(maps), -1).max(axis=1)
    scale = np.where(peak > 0, peak, 1.0)
    return (maps / scale[:, None, None]).astype(np.float32)


def cam_method(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    weights: ChannelWeights,
    layer: str | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
    *,
    gradients: bool = True,
    combine: Callable[[np.ndarray, np.ndarray], np.ndarray] = class_activation_map,
    passes_per_image: int = 0,
    description: str = "class activation maps",
) -> np.ndarray:
    """A class-activation map (H, W) in [0, 1] per image with weights from
    ``weights(feature maps, gradients)``: weighted sum (``combine``), ReLU, bilinear
    upsampling, divided by the maximum (a map with no positive evidence is all zeros).

    ``gradients=False``: a forward pass to the layer only (the weight function gets None).
    ``passes_per_image > 0``: the weight function runs the network again (Score-CAM); it is
    called as ``weights(features, gradients, CamContext)`` and advances the progress bar,
    whose total is that many passes per image."""
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    compiled = _compiled_parts(model, _feature_layer(model, layer), gradients)
    cams = []
    total = len(batch) * max(passes_per_image, 1)
    with progress_bar(total, progress, description, size) as advance:
        for part in chunks(len(batch), size):
            features, grads = _arrays(compiled, batch[part], classes[part], gradients)
            if passes_per_image:
                context = CamContext(model, batch[part], classes[part], size, advance)
                w = weights(features, grads, context)
            else:
                w = weights(features, grads)
                advance(part.stop - part.start)
            cams.append(combine(features, w))
    cam = np.maximum(np.concatenate(cams), 0.0)
    return unbatch(scale_to_unit(upsample(cam, batch.shape[1:3])), single)


def feature_layer(model: keras.Model, layer: str | None) -> str:
    """The layer a CAM method explains (``None``: :func:`helpers.grad_cam_layer`), checked to
    output feature maps (batch, h, w, channels)."""
    return _feature_layer(model, layer)


def grad_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Grad-CAM heatmap (H, W) in [0, 1] for each image.

    ``layer=None`` explains the last convolutional block's rectified output
    (:func:`helpers.grad_cam_layer`: ``block5_conv3`` in VGG16, ``top_activation`` in
    EfficientNet-Lite0). Plain gradients of the class logit, channel weights = their
    spatial mean, weighted sum of the feature maps, ReLU, bilinear upsampling to the
    image, divided by the maximum (a map with no positive evidence is all zeros).
    """
    return cam_method(model, image, class_index, grad_cam_weights, layer, batch_size, progress)
