"""Notebook 03's hands-on cell: Grad-CAM's steps 2-4 (channel weights, weighted sum, ReLU).

The student writes ``my_grad_cam(feature_maps, gradients) -> (alpha, weighted_sum, cam)``;
the check runs it for the tabby and for a class whose weighted sum has negative cells
(967 *espresso* on the cat photo: for the tabby every cell is positive, so a forgotten ReLU
would pass unnoticed there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..exercises import Answer, Mistake, WrongAnswerError, check_answers
from ..methods.cam import GradCamParts, grad_cam_parts

NAMES = ("my_alpha", "my_sum", "my_cam")


def _distinct(expected: np.ndarray, mistakes: Iterable[Mistake]) -> list[Mistake]:
    """The mistakes that change the result here (some coincide with the right answer on a
    global-average-pooling head, e.g. the element-wise product of gradients and maps)."""
    reference = Answer(expected)
    return [
        m
        for m in mistakes
        if np.shape(m.value) != np.shape(expected)
        or not reference.matches(np.asarray(m.value, np.float64))
    ]


def grad_cam_steps(parts: GradCamParts) -> dict[str, Answer]:
    """The catalogue for one class: expected alpha, weighted sum and ReLU, and the mistakes."""
    maps = parts.feature_maps.astype(np.float64)
    grads = parts.gradients.astype(np.float64)
    alpha = grads.mean(axis=(0, 1))
    weighted = np.einsum("hwk,k->hw", maps, alpha)
    channels = maps.shape[-1]
    alpha_mistakes = [
        Mistake(
            "the sum of the gradients over the grid, not their mean",
            grads.sum(axis=(0, 1)),
            "Average over the grid: .mean(axis=(0, 1)).",
        ),
        Mistake(
            "the mean of the feature maps, not of the gradients",
            maps.mean(axis=(0, 1)),
            "alpha_k averages the gradients d y / d A^k.",
        ),
        Mistake(
            "the mean of |gradient|: the sign of each weight is lost",
            np.abs(grads).mean(axis=(0, 1)),
            "Average the signed gradients; a negative alpha_k speaks against the class.",
        ),
        Mistake(
            "a ReLU on the channel weights",
            np.maximum(alpha, 0.0),
            "Grad-CAM keeps negative weights too; the ReLU comes after the weighted sum.",
        ),
    ]
    sum_mistakes = [
        Mistake(
            "the mean over the channels instead of the sum",
            weighted / channels,
            "Sum over the channels: np.einsum('hwk,k->hw', A, alpha) or (A * alpha).sum(axis=-1).",
        ),
        Mistake(
            "the feature maps summed without their weights",
            maps.sum(axis=-1),
            "Multiply each map A^k by its weight alpha_k before summing.",
        ),
        Mistake(
            "the gradients weighted instead of the feature maps",
            np.einsum("hwk,k->hw", grads, alpha),
            "The weighted sum is over the feature maps A^k, weighted by alpha_k.",
        ),
        Mistake(
            "the element-wise product of gradients and feature maps (that is HiResCAM)",
            (grads * maps).sum(axis=-1),
            "Grad-CAM averages the gradients first: alpha_k, then sum_k alpha_k A^k.",
        ),
        Mistake(
            "the ReLU already applied to the weighted sum",
            np.maximum(weighted, 0.0),
            "my_sum is the signed sum, before the ReLU (the next step).",
        ),
    ]
    cam_mistakes = [
        Mistake(
            "the weighted sum without the ReLU",
            weighted,
            "Set the negative cells to 0: np.maximum(my_sum, 0).",
        ),
        Mistake(
            "the absolute value instead of the ReLU",
            np.abs(weighted),
            "The ReLU drops the cells that speak against the class; |.| would keep them.",
        ),
        Mistake(
            "the ReLU of the negated sum",
            np.maximum(-weighted, 0.0),
            "np.maximum(my_sum, 0) keeps the positive cells.",
        ),
        Mistake(
            "divided by its maximum already",
            np.maximum(weighted, 0.0) / max(np.maximum(weighted, 0.0).max(), 1e-30),
            "Scaling to [0, 1] is step 5, after the upsampling; my_cam is just the ReLU.",
        ),
    ]
    cam = np.maximum(weighted, 0.0)
    return {
        "my_alpha": Answer(
            alpha,
            _distinct(alpha, alpha_mistakes),
            correct=[parts.channel_weights],
            hint="Average the gradients over the grid (axes 0 and 1): one number per channel.",
        ),
        "my_sum": Answer(
            weighted,
            _distinct(weighted, sum_mistakes),
            correct=[parts.weighted_sum],
            hint="Multiply each feature map by its weight and sum over the channels.",
        ),
        "my_cam": Answer(
            cam,
            _distinct(cam, cam_mistakes),
            correct=[parts.cam],
            hint="Set the negative cells of the weighted sum to 0.",
        ),
    }


def check_my_grad_cam(
    my_grad_cam: Callable, model, image: np.ndarray, classes: Iterable[int], layer: str
) -> None:
    """Run the student's ``my_grad_cam`` for each class and check its three results."""
    for class_index in classes:
        parts = grad_cam_parts(model, image, class_index, layer=layer)
        results = my_grad_cam(parts.feature_maps, parts.gradients)
        if not isinstance(results, tuple) or len(results) != 3:
            raise WrongAnswerError("my_grad_cam must return three things: my_alpha, my_sum, my_cam")
        negative = int((parts.weighted_sum < 0).sum())
        cells = parts.weighted_sum.size
        print(f"class {class_index} ({negative} of {cells} cells negative before the ReLU):")
        try:
            check_answers(grad_cam_steps(parts), **dict(zip(NAMES, results, strict=True)))
        except WrongAnswerError as err:
            raise WrongAnswerError(f"for class {class_index}, {err}") from None
