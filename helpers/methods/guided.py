"""Guided Backpropagation (Springenberg et al., 2015) and Guided Grad-CAM (Selvaraju et al., 2017).

Guided Backprop changes the backward pass through every ReLU-type activation: where the
ordinary gradient passes ``upstream * [x > 0]`` (ReLU6: ``[0 < x < 6]``), the guided one
passes ``max(upstream, 0) * [x > 0]``: only positive gradients, only where the forward input
was positive. Everything else (convolutions, BatchNorm, pooling, the logit) is unchanged.
Guided Grad-CAM multiplies that pixel-level map by the upsampled Grad-CAM heatmap.

The rule is applied to a *guided twin* of the model, built once and cached: layers without
a ReLU are shared with the model (same weights, nothing copied); ReLU / ReLU6 layers and
``Activation('relu'/'relu6')`` become guided activations; layers with a built-in ReLU
(e.g. VGG16's ``Conv2D(activation='relu')``) are re-created with the guided activation and
their weights are copied from the model at every call (so later weight changes are seen).
The model you pass in is never modified.

Note: tf-explain's ``GradCAM(use_guided_grads=True)`` is a different thing. It keeps the
ordinary backward pass and gates only the gradient at the Grad-CAM layer,
``[A > 0] * [dy/dA > 0] * dy/dA``, before averaging it into channel weights: its map still
lives on the layer's coarse grid. Guided Backprop changes every ReLU's backward pass and
gives a map at pixel resolution.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from ..models.scores import logits_model
from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .cam import grad_cam
from .gradients import ClassIndex
from .kernels import input_gradient_function

_GUIDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RELU_NAMES = {"relu": None, "relu6": 6.0}


class NoReluError(ValueError):
    """The model has no ReLU-type activation: Guided Backprop would equal the plain gradient."""


class UnsupportedActivationError(ValueError):
    """A ReLU layer whose variant (leaky slope, threshold) has no guided rule here."""


def guided_relu(max_value: float | None = None):
    """A ReLU (``max_value=6.0``: ReLU6) whose gradient follows Guided Backprop's rule:
    d/dx = max(upstream, 0) * [0 < x (< max_value)]."""

    @tf.custom_gradient
    def activation(x):
        y = tf.nn.relu(x) if max_value is None else tf.clip_by_value(x, 0.0, max_value)
        gate = x > 0 if max_value is None else tf.logical_and(x > 0, x < max_value)

        def gradient(upstream):
            return tf.where(tf.logical_and(gate, upstream > 0), upstream, tf.zeros_like(upstream))

        return y, gradient

    activation.__name__ = "guided_relu" if max_value is None else f"guided_relu{max_value:g}"
    return activation


def relu_max_value(layer: keras.layers.Layer) -> tuple[bool, float | None]:
    """(True, max_value) if ``layer`` applies a ReLU (max_value None) or ReLU6 (6.0), else
    (False, None). Covers ``ReLU`` layers, ``Activation('relu'/'relu6')`` and layers with a
    built-in ``activation='relu'/'relu6'``."""
    if isinstance(layer, keras.layers.ReLU):
        config = layer.get_config()
        if float(config.get("negative_slope") or 0.0) or float(config.get("threshold") or 0.0):
            raise UnsupportedActivationError(
                f"layer '{layer.name}' is a ReLU with negative_slope="
                f"{config.get('negative_slope')} and threshold={config.get('threshold')}; "
                "Guided Backprop is defined here for plain ReLU and ReLU6 only"
            )
        top = config.get("max_value")
        return True, None if top is None else float(top)
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    if name in _RELU_NAMES:
        return True, _RELU_NAMES[name]
    return False, None


def _guided_twin(model: keras.Model):
    replaced: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone(layer):
        is_relu, top = relu_max_value(layer)
        if not is_relu:
            return layer  # shared: same weights, no copy
        if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
            return keras.layers.Activation(guided_relu(top), name=layer.name)
        twin = type(layer).from_config({**layer.get_config(), "activation": guided_relu(top)})
        replaced.append((layer, twin))
        return twin

    if not any(relu_max_value(layer)[0] for layer in _all_layers(model)):
        raise NoReluError(
            f"model '{model.name}' has no ReLU or ReLU6 activation, so Guided Backpropagation "
            "would give the plain gradient (use vanilla_gradients)"
        )
    # Clone the logits sub-model: with shared layers, get_layer(name).output would point
    # into the original graph, so the twin's own output must already be the logits.
    twin = keras.models.clone_model(logits_model(model), clone_function=clone, recursive=True)
    return twin, replaced, input_gradient_function(twin, model)


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    found = []
    for layer in model.layers:
        found.extend(_all_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return found


def _synced(model: keras.Model):
    if model not in _GUIDED:
        _GUIDED[model] = _guided_twin(model)
    twin, replaced, gradients = _GUIDED[model]
    for original, copy in replaced:
        copy.set_weights(original.get_weights())
    return twin, gradients


def guided_model(model: keras.Model) -> keras.Model:
    """The guided twin of the model's logits (cached), with the model's current weights:
    input pixels -> class logits, every ReLU-type activation guided on the way back."""
    return _synced(model)[0]


def guided_backprop(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Guided Backpropagation (Springenberg et al., 2015) of the class logit: (H, W, 3), raw.

    The gradient of the logit with every ReLU-type activation's backward pass replaced by
    the guided rule (only positive gradients, only where the forward input was positive;
    ReLU6 also needs it below 6). Reduce it for display with
    :func:`helpers.reduce_channels`. Works on any Keras model with ReLU/ReLU6
    activations; the model itself is not modified.
    """
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    _, gradients = _synced(model)
    grads = np.empty_like(batch)
    with progress_bar(len(batch), progress, "Guided Backprop", size) as advance:
        for part in chunks(len(batch), size):
            grads[part] = gradients(batch[part], classes[part])[0].numpy()
            advance(part.stop - part.start)
    return unbatch(grads, single)


def guided_grad_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: ClassIndex,
    layer: str | None = None,
    **options,
) -> np.ndarray:
    """Guided Grad-CAM (Selvaraju et al., 2017): Guided Backprop x the upsampled Grad-CAM.

    The elementwise product of :func:`guided_backprop` (H, W, 3) and :func:`helpers.grad_cam`
    (H, W, in [0, 1]) for ``layer`` (default: :func:`helpers.grad_cam_layer`): fine detail
    where Grad-CAM says the class is. Returns (H, W, 3), raw. ``options``: ``batch_size``
    and ``progress``, as for :func:`guided_backprop`.
    """
    guided = guided_backprop(model, image, class_index, **options)
    cam = grad_cam(model, image, class_index, layer, options.get("batch_size"), progress=False)
    return (guided * cam[..., None]).astype(np.float32)
