"""Notebook 01's hands-on cell: the gradient of a linear model's class score, by GradientTape.

The student writes ``grad_5``: d y_5 / d x for one 8x8 digit, through ``tf.GradientTape``, as
a (64,) array. For a linear model y = W^T x + b it is the weight column w_5 at every input.
The typical mistakes are those of a first GradientTape: an input the tape did not watch
(``tape.gradient`` returns None), the softmax probability differentiated instead of the
score, another class's column, the batch axis kept, all ten scores differentiated at once,
or the gradient with respect to the weights instead of the input.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..exercises import Answer, Mistake
from .common import distinct


def _tape_gradient(model, x: np.ndarray, target) -> np.ndarray:
    """d target(model(x)) / d x for a batch x, by GradientTape."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = target(model(x))
    return tape.gradient(value, x).numpy()


def _weight_gradient(model, x: np.ndarray, class_index: int) -> np.ndarray:
    """d y_c / d (the Dense layer's kernel): the gradient backpropagation uses to train."""
    kernel = model.trainable_variables[0]
    with tf.GradientTape() as tape:
        score = model(tf.convert_to_tensor(x))[0, class_index]
    return tape.gradient(score, kernel).numpy()


def gradient_catalogue(
    model, x: np.ndarray, class_index: int, weights: np.ndarray
) -> dict[str, Answer]:
    """The catalogue of ``grad_5`` for a linear Keras ``model`` with kernel ``weights``
    (pixels, classes), at the batch of one image ``x`` (1, pixels)."""
    x = np.asarray(x, np.float32)
    expected = np.asarray(weights, np.float32)[:, class_index]
    by_tape = _tape_gradient(model, x, lambda y: y[0, class_index])[0]
    in_float64 = _tape_gradient(model, x.astype(np.float64), lambda y: y[0, class_index])[0]
    softmax = _tape_gradient(model, x, lambda y: tf.nn.softmax(y)[0, class_index])[0]
    all_scores = _tape_gradient(model, x, tf.reduce_sum)[0]
    watch = (
        "Inside `with tf.GradientTape() as tape:` call tape.watch(x) (x is a constant, "
        "not a Variable), then compute the score from x itself, inside the block."
    )
    mistakes = [
        Mistake("the tape did not watch x (tape.gradient returned None)", None, watch),
        Mistake(
            "the gradient of the softmax probability, not of the score",
            softmax,
            f"Differentiate the score linear(x)[0, {class_index}] (the logit), without "
            "tf.nn.softmax: notebook 02 shows why.",
        ),
        *(
            Mistake(
                "the gradient of another class's score",
                np.asarray(weights, np.float32)[:, other],
                f"That is the gradient of class {other}'s score; differentiate "
                f"linear(x)[0, {class_index}].",
            )
            for other in range(np.shape(weights)[1])
            if other != class_index
        ),
        Mistake(
            "the batch axis kept: shape (1, 64)",
            expected[None],
            "x is a batch of one image: take the gradient of that image with .numpy()[0].",
        ),
        *(
            Mistake(
                "the gradient of the sum of all ten scores",
                value,
                f"Pick one score before differentiating: linear(x)[0, {class_index}], not "
                "linear(x). (The sum's gradient is almost 0 here: the ten weight vectors of "
                "a softmax regression add up to about 0.)",
            )
            for value in (all_scores, all_scores[None])
        ),
        Mistake(
            "the gradient with respect to the weights, not the input",
            _weight_gradient(model, x, class_index),
            "tape.gradient(score, x): saliency asks how the score changes with the pixels.",
        ),
        Mistake(
            "the score itself, not its gradient",
            float(model(tf.convert_to_tensor(x)).numpy()[0, class_index]),
            "Return tape.gradient(score, x), not the score.",
        ),
    ]
    correct = [by_tape, in_float64]
    return {
        "grad_5": Answer(
            expected,
            distinct(expected, mistakes, correct),
            correct=correct,
            hint=f"Watch x on the tape, differentiate linear(x)[0, {class_index}], and "
            "index the batch away: .numpy()[0].",
        )
    }
