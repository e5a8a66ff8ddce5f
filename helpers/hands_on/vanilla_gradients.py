"""Notebook 02's hands-on cell: the vanilla gradient of a class logit, by GradientTape.

The student writes ``g_by_hand``: d z_c / d x for the cat and class 281 *tabby*, through
``tf.GradientTape`` on the model's logits, as a (224, 224, 3) array. The typical mistakes:
the softmax probability (the model's own output) or the cross-entropy loss differentiated
instead of the logit, another class (the model's favourite, 285 *Egyptian cat* on
EfficientNet-Lite0), all 1000 logits at once, an input the tape did not watch (None), the
picture of notebook 02 (|g|, or its maximum over the colour channels) instead of the raw
gradient, the batch axis kept, the image scaled to [0, 1] although the model takes pixels
in [0, 255], and gradient x input.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..exercises import Answer, Mistake
from ..methods.gradients import vanilla_gradients
from ..methods.kernels import logit_gradients
from ..models.scores import logits_model, predict_logits
from .common import distinct

#: How many other classes are catalogued: the model's favourites other than the asked one.
OTHER_CLASSES = 2


def _wrong_gradients(model, image: np.ndarray, class_index: int, others: list[int]) -> dict:
    """The gradients of the wrong targets. The other classes' logits and the logit at the
    image divided by 255 go through the library's compiled kernel (traced already by
    :func:`vanilla_gradients`); the probability and the sum of all logits take one eager
    backward pass of two images (images in a batch do not interact). The cross-entropy
    loss -log p_c has the gradient -(d p_c / dx) / p_c."""
    rows = np.stack([image] * len(others) + [image / 255.0]).astype(np.float32)
    logit_grads, _ = logit_gradients(model, rows, np.array([*others, class_index], np.int32))
    x = tf.convert_to_tensor(np.stack([image, image]), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = logits_model(model)(x, training=False)
        p_c = tf.nn.softmax(z[0])[class_index]  # the model's output: its last layer's softmax
        total = p_c + tf.reduce_sum(z[1])
    grads = tape.gradient(total, x).numpy()
    return {
        "others": list(logit_grads[:-1]),
        "scaled": logit_grads[-1],
        "probability": grads[0],
        "loss": -grads[0] / float(p_c),
        "all_logits": grads[1],
    }


def gradient_catalogue(model, image: np.ndarray, class_index: int) -> dict[str, Answer]:
    """The catalogue of ``g_by_hand`` for one image (H, W, 3) in [0, 255] and one class."""
    image = np.asarray(image, np.float32)
    expected = vanilla_gradients(model, image, class_index)
    ranking = [int(i) for i in np.argsort(-predict_logits(model, image)[0])]
    others = [c for c in ranking if c != class_index][:OTHER_CLASSES]
    grads = _wrong_gradients(model, image, class_index, others)
    logit = "scorer(x, training=False)[:, class_index]"
    mistakes = [
        Mistake(
            "the tape did not watch x (tape.gradient returned None)",
            None,
            "Call tape.watch(x) inside the `with tf.GradientTape() as tape:` block and "
            "compute the score from x there.",
        ),
        Mistake(
            "the gradient of the probability (the model's softmax output), not of the logit",
            grads["probability"],
            f"Differentiate the logit, {logit}: `model` ends in a softmax (section 3).",
        ),
        Mistake(
            "the gradient of the cross-entropy loss, not of the logit",
            grads["loss"],
            f"Saliency differentiates the class score itself, {logit}, not a training loss.",
        ),
        *(
            Mistake(
                "the gradient of another class's logit",
                g,
                f"That is class {c}'s gradient; take the logit of class_index.",
            )
            for c, g in zip(others, grads["others"], strict=True)
        ),
        Mistake(
            "the gradient of the sum of all 1000 logits (no class selected)",
            grads["all_logits"],
            f"Select the class before differentiating: {logit}.",
        ),
        Mistake(
            "|g|: the absolute value, not the signed gradient",
            np.abs(expected),
            "Keep the sign: the map (magnitude, max over channels) comes in section 4.",
        ),
        Mistake(
            "the saliency map (max |g| over the channels), not the raw gradient",
            np.abs(expected).max(axis=-1),
            "Return the gradient itself, (224, 224, 3); section 4 turns it into a map.",
        ),
        Mistake(
            "the batch axis kept: shape (1, 224, 224, 3)",
            expected[None],
            "x is a batch of one image: take its gradient with .numpy()[0].",
        ),
        Mistake(
            "the gradient at the image divided by 255 (the model takes pixels in [0, 255])",
            grads["scaled"],
            "Feed img itself: the model scales the pixels in its first layer.",
        ),
        Mistake(
            "gradient x input, not the gradient",
            expected * image,
            "Return tape.gradient(score, x) without multiplying by the image.",
        ),
    ]
    return {
        "g_by_hand": Answer(
            expected,
            distinct(expected, mistakes),
            hint="Differentiate scorer's output for class_index with respect to x.",
        )
    }
