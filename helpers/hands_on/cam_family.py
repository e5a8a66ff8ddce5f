"""Notebook 07's hands-on cell: Grad-CAM++'s alpha and channel weights from the gradients.

The student writes ``my_grad_cam_plus_plus(feature_maps, gradients) -> (alpha, weights)``:
alpha_ij = g_ij^2 / (2 g_ij^2 + sum_ab A_ab g_ij^3) per cell and channel (0 where g = 0) and
w_k = sum_ij alpha_ij ReLU(g_ij). The check runs it at the last layer and at a middle one:
on EfficientNet-Lite0's global-average-pooling head the gradient is the same in every cell
of a channel, so a mistake that confuses a cell's gradient with the channel's mean only
shows where the gradient varies over the grid.

alpha is compared only where g > 0, the cells where it multiplies ReLU(g): where g < 0 the
denominator 2 + g sum(A) can come arbitrarily close to 0 (alpha in the thousands at the
middle layer), where float32 and float64 disagree and nothing depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..exercises import Answer, Mistake, WrongAnswerError, check_answers
from ..methods.cam import GradCamParts, grad_cam_parts
from ..models.scores import predict_logits
from .common import distinct

NAMES = ("my_alpha", "my_weights")


def _alpha(grads: np.ndarray, total, two: float = 2.0, eps: float = 0.0) -> np.ndarray:
    g2 = grads * grads
    denominator = two * g2 + total * g2 * grads + eps
    return np.divide(g2, denominator, out=np.zeros_like(g2), where=denominator != 0)


def where_counted(alpha, gradients: np.ndarray):
    """The student's alpha where g > 0, 0 elsewhere (as it is compared); anything that is not
    an array of the gradients' shape is passed on for the check to name."""
    try:
        array = np.asarray(alpha, np.float64)
    except (TypeError, ValueError):
        return alpha
    if alpha is None or alpha is Ellipsis or array.shape != gradients.shape:
        return alpha
    return np.where(gradients > 0, array, 0.0)


def grad_cam_plus_plus_steps(parts: GradCamParts, logit: float) -> dict[str, Answer]:
    """The catalogue for one layer and class: expected alpha and weights, and the mistakes.

    ``logit`` is the class score S^c (for the mistake of keeping the factor exp(S^c))."""
    maps = parts.feature_maps.astype(np.float64)
    grads = parts.gradients.astype(np.float64)
    total = maps.sum(axis=(0, 1))
    alpha = _alpha(grads, total)
    positive = np.maximum(grads, 0.0)
    counted = grads > 0  # alpha is compared where it multiplies ReLU(g)
    weights = (alpha * positive).sum(axis=(0, 1))
    norm = alpha.sum(axis=(0, 1))
    alpha_mistakes = [
        Mistake(
            "mean(A) in the denominator instead of the sum (xplique's variant)",
            _alpha(grads, maps.mean(axis=(0, 1))),
            "Eq. 19 sums the channel's activations over the grid: A.sum(axis=(0, 1)).",
        ),
        Mistake(
            "alpha divided by its sum over the grid (tf-keras-vis' variant)",
            alpha / np.where(norm == 0, 1.0, norm),
            "The paper does not normalise alpha; leave out the division.",
        ),
        Mistake(
            "the sum over every channel in the denominator, not the channel's own",
            _alpha(grads, maps.sum()),
            "Sum over the grid only (axes 0 and 1), one total per channel.",
        ),
        Mistake(
            "the channel's mean gradient in place of each cell's gradient",
            _alpha(np.broadcast_to(grads.mean(axis=(0, 1)), grads.shape), total),
            "alpha_ij uses the gradient of its own cell, g_ij, not the mean over the grid.",
        ),
        Mistake(
            "the factor 2 missing in the denominator",
            _alpha(grads, total, two=1.0),
            "The denominator is 2 g^2 + sum(A) g^3.",
        ),
        Mistake(
            "an epsilon in the denominator as large as its terms (pytorch-grad-cam adds 1e-6)",
            _alpha(grads, total, eps=1e-6),
            "Here g is about 1e-3, so 2 g^2 is about 1e-6: divide only where the denominator "
            "is not 0 (np.divide(..., where=den != 0)) instead of adding an epsilon.",
        ),
    ]
    alpha_mistakes = [Mistake(m.label, np.where(counted, m.value, 0.0), m.fix)
                      for m in alpha_mistakes]
    weight_mistakes = [
        Mistake(
            "no ReLU on the gradients",
            (alpha * grads).sum(axis=(0, 1)),
            "Only positive gradients count: np.maximum(gradients, 0), cell by cell.",
        ),
        Mistake(
            "the mean over the grid instead of the sum",
            (alpha * positive).mean(axis=(0, 1)),
            "w_k sums alpha_ij ReLU(g_ij) over the grid: .sum(axis=(0, 1)).",
        ),
        Mistake(
            "Grad-CAM's channel weights (the mean gradient): alpha is missing",
            grads.mean(axis=(0, 1)),
            "Multiply each cell's ReLU(g_ij) by its alpha_ij, then sum over the grid.",
        ),
        Mistake(
            "the weights times exp(S^c)",
            weights * np.exp(float(logit)),
            "dY/dA = exp(S) g, but exp(S) is the same for every channel and the map is divided "
            "by its maximum: the library leaves it out, so use ReLU(g) itself.",
        ),
    ]
    return {
        "my_alpha": Answer(
            np.where(counted, alpha, 0.0),
            distinct(np.where(counted, alpha, 0.0), alpha_mistakes),
            correct=[np.where(counted, _alpha(parts.gradients, parts.feature_maps.sum((0, 1))), 0)],
            hint="alpha = g^2 / (2 g^2 + A.sum(axis=(0, 1)) g^3), compared where g > 0.",
        ),
        "my_weights": Answer(
            weights,
            distinct(weights, weight_mistakes),
            correct=[(alpha * positive).astype(np.float32).sum(axis=(0, 1))],
            hint="w_k = sum over the grid of alpha_ij * ReLU(g_ij), shape (K,); where g = 0, "
            "alpha is 0/0: set it to 0 (np.divide(..., where=den != 0)).",
        ),
    }


def check_my_grad_cam_plus_plus(
    my_function: Callable, model, image: np.ndarray, class_index: int, layers: Iterable[str]
) -> None:
    """Run the student's function at each layer and check its alpha and weights."""
    logit = float(predict_logits(model, image)[0, class_index])
    for layer in layers:
        parts = grad_cam_parts(model, image, class_index, layer=layer)
        results = my_function(parts.feature_maps, parts.gradients)
        if not isinstance(results, tuple) or len(results) != 2:
            raise WrongAnswerError(
                "my_grad_cam_plus_plus must return two things: my_alpha, my_weights"
            )
        results = (where_counted(results[0], parts.gradients), results[1])
        spread = parts.gradients.std(axis=(0, 1)).max() / max(np.abs(parts.gradients).max(), 1e-30)
        varies = "varies" if spread > 1e-4 else "is the same in every cell of a channel"
        print(f"layer {layer} {parts.feature_maps.shape} (the gradient {varies}):")
        try:
            check_answers(
                grad_cam_plus_plus_steps(parts, logit), **dict(zip(NAMES, results, strict=True))
            )
        except WrongAnswerError as err:
            raise WrongAnswerError(f"at layer {layer}, {err}") from None
