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
(:func:`class_activation_map`): a variant only says how it weights the channels, as
:func:`grad_cam_weights` does for Grad-CAM (pytorch-grad-cam's ``get_cam_weights``). A
new variant is a weight function ``(feature maps, gradients) -> (N, K)`` and a three-line
method calling :func:`cam_method`.
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


def _compiled_parts(model: keras.Model, layer: str):
    per_model = _COMPILED.setdefault(model, {})
    if layer not in per_model:
        per_model[layer] = _compile(model, layer)
    return per_model[layer]


ChannelWeights = Callable[[np.ndarray, np.ndarray], np.ndarray]


def grad_cam_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Grad-CAM's channel weights alpha_k: the spatial mean of the gradients, (N, K)."""
    return gradients.mean(axis=(1, 2))


def class_activation_map(feature_maps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k weights_k A^k for (N, h, w, K) feature maps and (N, K) weights: (N, h, w),
    before the ReLU."""
    return np.einsum("bhwk,bk->bhw", feature_maps, weights, optimize=True)


@dataclass(frozen=True)
class GradCamParts:
    """Every intermediate of Grad-CAM for one image (for teaching and checking)."""

    layer: str
    feature_maps: np.ndarray  # (h, w, K): A^k
    gradients: np.ndarray  # (h, w, K): d logit / d A^k
    channel_weights: np.ndarray  # (K,): spatial mean of the gradients
    weighted_sum: np.ndarray  # (h, w): sum_k alpha_k A^k, before the ReLU
    cam: np.ndarray  # (h, w): after the ReLU


def grad_cam_parts(
    model: keras.Model, image: np.ndarray, class_index: int, layer: str | None = None
) -> GradCamParts:
    """The steps of Grad-CAM for one image, at the layer's own resolution (``layer=None``:
    :func:`helpers.grad_cam_layer`)."""
    batch, single = checked_images(model, image)
    if not single:
        raise ValueError("grad_cam_parts explains one image (H, W, 3); use grad_cam for a batch")
    name = _feature_layer(model, layer)
    classes = class_indices(model, class_index, 1)
    features, grads = (t.numpy() for t in _compiled_parts(model, name)(batch, classes))
    weights = grad_cam_weights(features, grads)
    cam = class_activation_map(features, weights)[0]
    return GradCamParts(name, features[0], grads[0], weights[0], cam, np.maximum(cam, 0.0))


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
) -> np.ndarray:
    """A class-activation map (H, W) in [0, 1] per image with channel weights from
    ``weights(feature maps, gradients)``: weighted sum, ReLU, bilinear upsampling, divided
    by the maximum (a map with no positive evidence is all zeros)."""
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    compiled = _compiled_parts(model, _feature_layer(model, layer))
    cams = []
    with progress_bar(len(batch), progress, "class activation maps", size) as advance:
        for part in chunks(len(batch), size):
            features, grads = (t.numpy() for t in compiled(batch[part], classes[part]))
            cams.append(class_activation_map(features, weights(features, grads)))
            advance(part.stop - part.start)
    cam = np.maximum(np.concatenate(cams), 0.0)
    return unbatch(scale_to_unit(upsample(cam, batch.shape[1:3])), single)


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
