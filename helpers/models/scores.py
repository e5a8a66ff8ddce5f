"""Class scores: the pre-softmax logits every gradient method differentiates, and top-k.

Saliency methods differentiate the *score* of a class (the logit, before the softmax),
as in Simonyan et al. (2014) and Grad-CAM: the softmax output saturates, and its
gradient also depends on every other class.
"""

from __future__ import annotations

import numbers
import warnings
import weakref

import keras
import numpy as np

from ..data.labels import NUM_CLASSES, check_class_index, class_names
from .layers import symbolic_input
from .preprocessing import PixelPreprocessing

_LOGITS_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FORWARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SQUASHING = ("softmax", "sigmoid")


class ImageShapeError(ValueError):
    """Images whose shape does not fit the model."""


class ImageValueError(ValueError):
    """Images whose values cannot be what the model takes (NaN, or [0, 1] for [0, 255])."""


def _activation_name(layer: keras.layers.Layer) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") if activation is not None else ""


def _logits_tensor(model: keras.Model):
    names = [layer.name for layer in model.layers]
    if "logits" in names:
        return model.get_layer("logits").output
    last = model.layers[-1]
    if isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and _activation_name(last) in _SQUASHING
    ):
        return last.input
    if isinstance(last, keras.layers.Dense) and _activation_name(last) in _SQUASHING:
        # e.g. keras.applications.VGG16(): the softmax lives inside the Dense layer.
        twin = keras.layers.Dense(last.units, name=f"{last.name}_logits")
        scores = twin(last.input)
        twin.set_weights(last.get_weights())
        return scores
    warnings.warn(
        f"model '{model.name}' does not end in a softmax or sigmoid; its output is taken "
        "as the class scores",
        stacklevel=3,
    )
    return model.outputs[0]


def logits_model(model: keras.Model) -> keras.Model:
    """A model with the same input that outputs the pre-softmax class scores (cached).

    Uses the layer named ``logits`` if there is one, else the input of a final
    Softmax/Activation layer, else a linear copy of a final Dense layer with a softmax.
    """
    cached = _LOGITS_MODELS.get(model)
    if cached is None:
        cached = keras.Model(
            symbolic_input(model), _logits_tensor(model), name=f"{model.name}_logits"
        )
        _LOGITS_MODELS[model] = cached
    return cached


def num_classes(model: keras.Model) -> int:
    """Number of classes the model scores."""
    return int(model.outputs[0].shape[-1])


def image_batch(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Check ``images`` against the model's input and return a float32 batch (N, H, W, C).

    Accepts one image (H, W, C) or a batch (N, H, W, C).
    """
    batch = np.asarray(images, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if batch.ndim == len(expected):
        batch = batch[None]
    if batch.ndim != len(expected) + 1 or any(
        e is not None and e != s for e, s in zip(expected, batch.shape[1:], strict=True)
    ):
        shown = "x".join("?" if e is None else str(e) for e in expected)
        raise ImageShapeError(
            f"model '{model.name}' takes images of shape ({shown}) or batches of them, got an "
            f"array of shape {np.shape(images)}. Load images with helpers.load_image(path, "
            f"size={expected[0] if expected[0] else 224})."
        )
    check_pixel_values(model, batch)
    return batch


def batch_logits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class logits (N, classes) of a checked float32 batch (forward pass only, compiled once
    per model for any batch size)."""
    import tensorflow as tf

    forward = _FORWARD.get(model)
    if forward is None:
        scorer = logits_model(model)
        spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)
        forward = _FORWARD[model] = tf.function(
            lambda images: scorer(images, training=False), input_signature=[spec]
        )
    return forward(tf.convert_to_tensor(images, tf.float32)).numpy()


def takes_pixels(model: keras.Model) -> bool:
    """Whether the model preprocesses RGB pixels in [0, 255] itself (the course's models)."""
    return any(isinstance(layer, PixelPreprocessing) for layer in model.layers)


def check_pixel_values(model: keras.Model, batch: np.ndarray) -> None:
    """Refuse NaN or infinite values; and, for models that take pixels in [0, 255], a batch
    whose values all lie in [-1, 1] (a [0, 1] or [-1, 1] image; all zeros, black, is fine).

    The rule looks at the whole batch, so a path of dimmed copies (Integrated Gradients)
    that includes the image itself passes.
    """
    if not np.all(np.isfinite(batch)):
        raise ImageValueError("images contain NaN or infinite values")
    if not takes_pixels(model) or batch.size == 0:
        return
    low, high = float(batch.min()), float(batch.max())
    if high > 1.0 or low < -1.0 or (low == 0.0 and high == 0.0):
        return
    if low >= 0.0:
        raise ImageValueError(
            f"this looks like a [0, 1] image (all values between {low:.3g} and {high:.3g}); "
            f"model '{model.name}' takes RGB pixels in [0, 255]: multiply by 255 "
            "(helpers.load_image returns [0, 255])"
        )
    raise ImageValueError(
        f"this looks like a [-1, 1] image (values from {low:.3g} to {high:.3g}); model "
        f"'{model.name}' takes RGB pixels in [0, 255] and preprocesses them itself: pass "
        "(image + 1) * 127.5, or the pixels from helpers.load_image"
    )


def predict_logits(model: keras.Model, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Pre-softmax class scores, shape (N, classes)."""
    batch = image_batch(model, images)
    return np.concatenate(
        [batch_logits(model, batch[i : i + batch_size]) for i in range(0, len(batch), batch_size)]
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def label_of(index: int, n_classes: int) -> str:
    """ImageNet name for 1000-class models, else 'class i'."""
    return class_names()[index] if n_classes == NUM_CLASSES else f"class {index}"


def top_k(model: keras.Model, image: np.ndarray, k: int = 5) -> list[tuple[int, str, float]]:
    """The model's ``k`` most probable classes for one image: [(index, name, probability)]."""
    n = num_classes(model)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise ValueError(
            f"k (how many classes to list) must be a whole number in 1..{n}, got {k!r} "
            f"({type(k).__name__})"
        )
    k = int(k)
    logits = predict_logits(model, image)
    if len(logits) != 1:
        raise ImageShapeError(f"top_k takes one image, got a batch of {len(logits)}")
    probabilities = softmax(logits[0].astype(np.float64))
    best = np.argsort(-probabilities)[:k]
    return [(int(i), label_of(int(i), n), float(probabilities[i])) for i in best]


def class_probability(model: keras.Model, image: np.ndarray, class_index: int) -> float:
    """Softmax probability of one class for one image."""
    logits = predict_logits(model, image)
    index = check_class_index(class_index, logits.shape[-1])
    return float(softmax(logits[0].astype(np.float64))[index])
