"""Notebook 02's hands-on cell: the vanilla gradient of a class logit, by GradientTape.

The student writes ``g_by_hand``: d z_c / d x for the cat and class 281 *tabby*, through
``tf.GradientTape`` on the model's logits, as a (224, 224, 3) array. The typical mistakes:
the softmax probability (the model's own output) or the cross-entropy loss differentiated
instead of the logit, another class (the model's favourite, 285 *Egyptian cat* on
EfficientNet-Lite0), all 1000 logits at once, an input the tape did not watch (None), the
picture of notebook 02 (|g|, or its maximum over the colour channels) instead of the raw
gradient, the batch axis kept, the image scaled to [0, 1] although the model takes pixels
in [0, 255], and gradient x input. All the gradients come from one batched backward pass.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..exercises import Answer, Mistake
from ..methods.gradients import vanilla_gradients
from ..models.scores import logits_model, predict_logits
from .common import distinct

#: How many other classes are catalogued: the model's favourites other than the asked one.
OTHER_CLASSES = 2


def _batched_gradients(model, image: np.ndarray, class_index: int, others: list[int]):
    """One backward pass with one target per row of a batch: the logit of ``class_index``
    (a correct form: the same gradient computed in a batch), the other classes' logits,
    the probability, the cross-entropy loss, the sum of all logits, and the logit at the
    image divided by 255. Images in a batch do not interact (inference mode)."""
    scorer = logits_model(model)
    first = 1 + len(others)  # the row of the probability; loss, sum and scaled follow
    x = tf.convert_to_tensor(np.stack([image] * (first + 3) + [image / 255.0]), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = scorer(x, training=False)
        p = tf.nn.softmax(z)  # the model's output: its last layer is this softmax
        targets = [z[0, class_index], *(z[1 + k, c] for k, c in enumerate(others))]
        targets.append(p[first, class_index])
        targets.append(-tf.nn.log_softmax(z[first + 1])[class_index])  # cross-entropy loss
        targets.append(tf.reduce_sum(z[first + 2]))
        targets.append(z[first + 3, class_index])
        total = tf.add_n(targets)
    grads = tape.gradient(total, x).numpy()
    return {
        "batched": grads[0],
        "others": list(grads[1:first]),
        "probability": grads[first],
        "loss": grads[first + 1],
        "all_logits": grads[first + 2],
        "scaled": grads[first + 3],
    }


def gradient_catalogue(model, image: np.ndarray, class_index: int) -> dict[str, Answer]:
    """The catalogue of ``g_by_hand`` for one image (H, W, 3) in [0, 255] and one class."""
    image = np.asarray(image, np.float32)
    expected = vanilla_gradients(model, image, class_index)
    ranking = [int(i) for i in np.argsort(-predict_logits(model, image)[0])]
    others = [c for c in ranking if c != class_index][:OTHER_CLASSES]
    grads = _batched_gradients(model, image, class_index, others)
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
    correct = [grads["batched"]]
    return {
        "g_by_hand": Answer(
            expected,
            distinct(expected, mistakes, correct),
            correct=correct,
            hint="Differentiate scorer's output for class_index with respect to x.",
        )
    }
