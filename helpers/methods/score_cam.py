"""Score-CAM (Wang et al., 2020): channel weights from forward passes, no gradient.

For each channel k of the layer: upsample A^k to the image (bilinear), scale it to [0, 1]
(min-max), multiply the image by it (a soft mask; where the mask is 0 the pixels are black,
as the course's models take pixels in [0, 255]), and score the masked image. The map is
ReLU(sum_k w_k A^k), upsampled and divided by its maximum, as for every CAM.

**The softmax.** The paper exists in two versions, and the libraries follow one each:

* ``softmax="classes"`` (the default): w_k = p_c(X * M_k), the *class probability* of the
  masked image (softmax over the classes), as in the official code (haofanwang/Score-CAM)
  and in tf-keras-vis' ``Scorecam``;
* ``softmax="channels"``: w_k = softmax over the channels of the class *logit* of the
  masked images, as in the paper's Algorithm 1 (its baseline f(X_b) is the same for every
  channel, so it cancels in the softmax) and in pytorch-grad-cam's ``ScoreCAM``.

**Cost:** one forward pass per channel and image (1280 for EfficientNet-Lite0's last
block, 512 for VGG16's), chunked, with a progress bar. ``max_channels`` keeps only the
channels whose activation varies most over the grid (largest variance, as Faster
Score-CAM and tf-keras-vis' ``max_N`` do); the others get weight 0. ``max_channels=None``,
or any value >= the layer's channel count, is the exact method.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from ..models.scores import logits_model
from ..models.scores import softmax as softmax_over_last_axis
from .batching import Progress, chunks
from .cam import CamContext, cam_method, feature_layer, upsample
from .checks import ParameterError, positive_int

SOFTMAX_CONVENTIONS = ("classes", "channels")
_MASKED_LOGITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def score_cam_settings(max_channels, softmax) -> tuple[int | None, str]:
    """``max_channels`` (None or a whole number >= 1) and ``softmax``, checked."""
    if max_channels is not None:
        max_channels = positive_int(
            "max_channels", max_channels, "channels to score, or None for all of them"
        )
    if not isinstance(softmax, str) or softmax not in SOFTMAX_CONVENTIONS:
        raise ParameterError(
            f"softmax must be 'classes' (the class probability of each masked image, as "
            f"tf-keras-vis) or 'channels' (softmax of the logits over the channels, as "
            f"pytorch-grad-cam), got {softmax!r}"
        )
    return max_channels, softmax


def top_variance_channels(feature_maps: np.ndarray, count: int | None) -> np.ndarray:
    """Indices of the ``count`` channels of (h, w, K) maps whose values vary most over the
    grid (largest variance; ties: the lower index first), in that order; all K if ``count``
    is None or >= K."""
    variance = feature_maps.reshape(-1, feature_maps.shape[-1]).var(axis=0, dtype=np.float64)
    order = np.argsort(-variance, kind="stable")
    return order if count is None else order[:count]


def score_cam_masks(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(c, H, W) masks from (h, w, c) feature maps: each upsampled (bilinear) and scaled to
    [0, 1] (min-max); a constant map gives an all-zero mask."""
    up = upsample(np.moveaxis(maps, -1, 0).astype(np.float32), size)
    low = up.min(axis=(1, 2), keepdims=True)
    span = up.max(axis=(1, 2), keepdims=True) - low
    return np.divide(up - low, span, out=np.zeros_like(up), where=span > 0)


def _masked_logits(model: keras.Model):
    """A tf.function (image, masks (c, H, W)) -> logits (c, classes) of the masked images,
    compiled once per model: the masked batch is made inside the graph."""
    if model not in _MASKED_LOGITS:
        scorer = logits_model(model)
        shape = model.inputs[0].shape[1:]

        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32),
                                      tf.TensorSpec([None, *shape[:-1]], tf.float32)])
        def masked_logits(image, masks):
            return scorer(image[None] * masks[..., None], training=False)

        _MASKED_LOGITS[model] = masked_logits
    return _MASKED_LOGITS[model]


def masked_scores(
    model: keras.Model,
    image: np.ndarray,
    maps: np.ndarray,
    class_index: int,
    batch_size: int,
    advance=lambda count: None,
) -> tuple[np.ndarray, np.ndarray]:
    """The class logit and class probability of the image masked by each of the (h, w, c)
    maps (:func:`score_cam_masks`): two arrays (c,), in chunks of ``batch_size`` images."""
    logits, probabilities = [], []
    forward, pixels = _masked_logits(model), tf.constant(image, tf.float32)
    for part in chunks(maps.shape[-1], batch_size):
        masks = score_cam_masks(maps[..., part], image.shape[:2]).astype(np.float32)
        scores = forward(pixels, masks).numpy().astype(np.float64)
        logits.append(scores[:, class_index])
        probabilities.append(softmax_over_last_axis(scores)[:, class_index])
        advance(part.stop - part.start)
    return np.concatenate(logits), np.concatenate(probabilities)


def score_cam_weights(
    feature_maps: np.ndarray,
    gradients: None,
    context: CamContext,
    max_channels: int | None = None,
    softmax: str = "classes",
) -> np.ndarray:
    """Score-CAM's channel weights (N, K) for a chunk of images (``gradients`` unused)."""
    weights = np.zeros((len(feature_maps), feature_maps.shape[-1]), np.float64)
    for i, maps in enumerate(feature_maps):
        chosen = top_variance_channels(maps, max_channels)
        logits, probabilities = masked_scores(
            context.model, context.images[i], maps[..., chosen], int(context.classes[i]),
            context.batch_size, context.advance,
        )
        weights[i, chosen] = probabilities if softmax == "classes" else (
            softmax_over_last_axis(logits)
        )
    return weights


def score_cam_channels(model: keras.Model, layer: str | None, max_channels: int | None) -> int:
    """How many channels (forward passes per image) Score-CAM scores at ``layer``."""
    channels = int(model.get_layer(feature_layer(model, layer)).output.shape[-1])
    return channels if max_channels is None else min(max_channels, channels)


def score_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    max_channels: int | None = None,
    softmax: str = "classes",
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Score-CAM (Wang et al., 2020): (H, W) in [0, 1] per image.

    ``layer=None``: :func:`helpers.grad_cam_layer`. ``max_channels``: score only the
    channels with the largest variance over the grid (None: all, the exact method).
    ``softmax``: ``"classes"`` (w_k = class probability of the masked image, as the
    official code and tf-keras-vis) or ``"channels"`` (softmax of the logits over the
    channels, as the paper's Algorithm 1 and pytorch-grad-cam). Costs one forward pass per
    scored channel and image (:func:`score_cam_channels`), plus one to the layer.
    """
    max_channels, softmax = score_cam_settings(max_channels, softmax)
    name = feature_layer(model, layer)
    weights = functools.partial(score_cam_weights, max_channels=max_channels, softmax=softmax)
    return cam_method(
        model, image, class_index, weights, name, batch_size, progress, gradients=False,
        passes_per_image=score_cam_channels(model, name, max_channels), description="Score-CAM",
    )
