"""The gradient computations every method shares, compiled once per model.

For a batch of pixel images x and one target class per image, returns d score / d x, where
score is the class's *logit* (pre-softmax), and the scores themselves. Images in a batch
do not interact (inference mode), so one backward pass of the summed scores gives every
image's own gradient.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from ..models.scores import logits_model

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def input_gradient_function(scorer: keras.Model, model: keras.Model):
    """A tf.function (images, classes) -> (d score / d images, scores) for a ``scorer`` that
    maps ``model``'s input images to class scores, traced once for any batch size."""
    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec([None], tf.int32)])
    def input_gradients(images, classes):
        with tf.GradientTape() as tape:
            tape.watch(images)
            scores = tf.gather(scorer(images, training=False), classes, batch_dims=1)
        return tape.gradient(scores, images), scores

    return input_gradients


class _Compiled:
    """tf.functions for one model, traced once for any batch size."""

    def __init__(self, model: keras.Model):
        scorer = logits_model(model)
        input_gradients = input_gradient_function(scorer, model)

        image_spec = tf.TensorSpec(model.inputs[0].shape[1:], tf.float32)
        vector = tf.TensorSpec([None], tf.float32)

        @tf.function(
            input_signature=[image_spec, image_spec, vector, vector, tf.TensorSpec([], tf.int32)]
        )
        def weighted_path_gradients(baseline, delta, alphas, weights, cls):
            path = baseline[None] + alphas[:, None, None, None] * delta[None]
            with tf.GradientTape() as tape:
                tape.watch(path)
                scores = scorer(path, training=False)[:, cls]
            return tf.tensordot(weights, tape.gradient(scores, path), axes=1), scores

        self.input_gradients = input_gradients
        self.weighted_path_gradients = weighted_path_gradients


def _compiled(model: keras.Model) -> _Compiled:
    compiled = _COMPILED.get(model)
    if compiled is None:
        compiled = _COMPILED[model] = _Compiled(model)
    return compiled


def logit_gradients(
    model: keras.Model, images: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients (N, H, W, C) of each image's class logit w.r.t. its pixels, and the logits (N,).

    ``images`` must already be a checked float32 batch and ``classes`` int32 of length N;
    callers chunk the work (see :mod:`helpers.methods.batching`).
    """
    grads, scores = _compiled(model).input_gradients(
        tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(classes, tf.int32)
    )
    return grads.numpy(), scores.numpy()


def weighted_path_gradients(
    model: keras.Model,
    baseline: np.ndarray,
    delta: np.ndarray,
    alphas: np.ndarray,
    weights: np.ndarray,
    class_index: int,
) -> tuple[np.ndarray, np.ndarray]:
    """sum_i weights[i] * grad f(baseline + alphas[i] * delta), and the logits f along the path.

    One chunk of Integrated Gradients' path integral: the path images are made, and the
    gradients summed, inside the compiled graph (only one image-sized array comes back).
    """
    total, scores = _compiled(model).weighted_path_gradients(
        tf.convert_to_tensor(baseline, tf.float32),
        tf.convert_to_tensor(delta, tf.float32),
        tf.convert_to_tensor(alphas, tf.float32),
        tf.convert_to_tensor(weights, tf.float32),
        tf.constant(class_index, tf.int32),
    )
    return total.numpy(), scores.numpy()
