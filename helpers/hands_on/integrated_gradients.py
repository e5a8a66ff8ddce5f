"""Notebook 06's hands-on cell: Integrated Gradients by the trapezoid rule, and its relative
completeness gap.

The student writes ``ig_mine`` ((x - x') times the trapezoid-weighted mean of the gradients
at the ``steps + 1`` points of the straight path) and ``ig_gap`` (|sum(ig_mine) - (f(x) -
f(x'))| / |f(x) - f(x')|, f the class logit). The check compares them with
:func:`helpers.integrated_gradients` with the same steps and baseline. The correct forms
that set the tolerance are the student's own ways of computing it (the path's gradients in
one call of :func:`helpers.vanilla_gradients` or one point at a time, other batches than the
library's, in float64 or float32 arithmetic), and the gaps they give. Every catalogued
mistake changes the result on the notebook's example (the tabby, black baseline, 16 steps),
which the tests check.
"""

from __future__ import annotations

import numpy as np

from ..exercises import Answer, Mistake
from ..methods.gradients import vanilla_gradients
from ..models.scores import predict_logits, softmax
from .catalogue import check_lazily, with_mistakes

IG_HINT = (
    "Weights 1/STEPS at the STEPS + 1 points alpha = 0, 1/STEPS, ..., 1, halved at both ends; "
    "multiply the weighted sum of the gradients by (x - x') once, at the end."
)
GAP_HINT = (
    "ig_gap = |ig_mine.sum() - (f(x) - f(x'))| / |f(x) - f(x')|, f the class logit "
    "(helpers.predict_logits) of the image and of the baseline: a fraction, not a percentage."
)


def _path_gradients(model, image, baseline, alphas, class_index, **options) -> np.ndarray:
    path = baseline + alphas.astype(np.float32)[:, None, None, None] * (image - baseline)
    grads = vanilla_gradients(model, path, class_index, progress=False, **options)
    return grads.astype(np.float64)


def trapezoid_weights(steps: int, dtype=np.float64) -> np.ndarray:
    """The trapezoid rule's weights on ``steps`` equal intervals of [0, 1]: 1/steps, the two
    ends halved."""
    weights = np.full(steps + 1, 1.0 / steps, dtype=dtype)
    weights[[0, -1]] /= 2
    return weights


def _relative_gap(attributions: np.ndarray, difference: float) -> float:
    return abs(float(np.sum(attributions, dtype=np.float64)) - difference) / abs(difference)


def integrated_gradients_catalogue(
    model, image: np.ndarray, class_index: int, baseline: np.ndarray, steps: int, reference
) -> dict[str, Answer]:
    """The answers of the cell, ``ig_mine`` and ``ig_gap``, with their correct forms and
    mistakes; ``reference`` is ``helpers.integrated_gradients(..., steps=steps)``."""
    image = np.asarray(image, np.float32)
    baseline = np.asarray(baseline, np.float32)
    delta = (image - baseline).astype(np.float64)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    gradients = _path_gradients(model, image, baseline, alphas, class_index)
    weights = trapezoid_weights(steps)
    mean_gradient = np.tensordot(weights, gradients, axes=1)
    float32_form = delta.astype(np.float32) * np.tensordot(
        trapezoid_weights(steps, np.float32), gradients.astype(np.float32), axes=1
    )
    one_at_a_time = _path_gradients(model, image, baseline, alphas, class_index, batch_size=1)
    student_forms = [
        delta * mean_gradient,
        float32_form,
        delta * np.tensordot(weights, one_at_a_time, axes=1),
    ]
    # STEPS points instead of STEPS + 1, with the cell's weights (1/STEPS, ends halved)
    short = _path_gradients(
        model, image, baseline, np.linspace(0.0, 1.0, steps, dtype=np.float32), class_index
    )
    short_weights = np.full(steps, 1.0 / steps)
    short_weights[[0, -1]] /= 2
    ig_mistakes = [
        Mistake(
            "no (x - x') factor: the weighted mean of the gradients alone",
            mean_gradient,
            "Multiply the weighted mean of the path's gradients by (cat - baseline).",
        ),
        Mistake(
            "the two ends not halved (every weight 1/STEPS)",
            delta * gradients.sum(axis=0) / steps,
            "The trapezoid rule halves the weights of the first and the last point.",
        ),
        Mistake(
            "the plain mean of the STEPS + 1 gradients (weights 1/(STEPS + 1))",
            delta * gradients.mean(axis=0),
            "Weight 1/STEPS each, halved at both ends: the weights sum to 1.",
        ),
        Mistake(
            "a right Riemann sum (the points 1/STEPS ... 1, no baseline end)",
            delta * gradients[1:].mean(axis=0),
            "Use all STEPS + 1 points, alpha = 0 included, with the ends halved.",
        ),
        Mistake(
            "a left Riemann sum (the points 0 ... (STEPS - 1)/STEPS, no image end)",
            delta * gradients[:-1].mean(axis=0),
            "Use all STEPS + 1 points, alpha = 1 included, with the ends halved.",
        ),
        Mistake(
            "STEPS points instead of STEPS + 1 (np.linspace(0, 1, STEPS))",
            delta * np.tensordot(short_weights, short, axes=1),
            "STEPS intervals have STEPS + 1 end points: np.linspace(0, 1, STEPS + 1).",
        ),
        Mistake(
            "the weights without their 1/STEPS (the sum is STEPS times too large)",
            delta * mean_gradient * steps,
            "Each weight is 1/STEPS (half of it at the ends), so the weights sum to 1.",
        ),
        Mistake(
            "(x - x') applied twice",
            delta * delta * mean_gradient,
            "Multiply by (cat - baseline) once: the path's gradients are plain gradients.",
        ),
        Mistake(
            "the sign flipped: (x' - x) instead of (x - x')",
            -delta * mean_gradient,
            "The factor is (cat - baseline), the image minus the baseline.",
        ),
        Mistake(
            "the gradient at the image alone times (x - x') (gradient x input, no path)",
            delta * gradients[-1],
            "Average the gradients over the whole path, not only at alpha = 1.",
        ),
    ]
    logits = predict_logits(model, np.stack([image, baseline])).astype(np.float64)
    f_input, f_baseline = logits[:, class_index]
    difference = f_input - f_baseline
    p_input, p_baseline = softmax(logits)[:, class_index]
    expected_ig = np.asarray(reference.attributions, np.float64)
    total = float(np.sum(expected_ig, dtype=np.float64))
    gap = reference.completeness.relative_gap
    gap_forms = [_relative_gap(form, difference) for form in student_forms]
    gap_forms.append(abs(float(np.sum(reference.attributions)) - difference) / abs(difference))
    gap_mistakes = [
        Mistake(
            "the absolute gap, not divided by |f(x) - f(x')|",
            abs(total - difference),
            "Divide by |f(x) - f(x')|: the gap is relative.",
        ),
        Mistake(
            "the gap with its sign (no |.| around sum - (f(x) - f(x')))",
            (total - difference) / abs(difference),
            "Take the absolute value: the gap says how far off, not in which direction.",
        ),
        Mistake(
            "relative to f(x) instead of f(x) - f(x')",
            abs(total - difference) / abs(f_input),
            "Divide by |f(x) - f(x')|, the change IG explains.",
        ),
        Mistake(
            "the baseline's logit left out (f(x) - f(x') taken as f(x))",
            abs(total - f_input) / abs(f_input),
            "IG explains f(x) - f(x'): subtract the baseline's logit.",
        ),
        Mistake(
            "f(x) and f(x') swapped (the logits taken at the wrong ends)",
            abs(total + difference) / abs(difference),
            "f(x) is the logit of the image (alpha = 1), f(x') of the baseline (alpha = 0).",
        ),
        Mistake(
            "the probability instead of the logit",
            abs(total - (p_input - p_baseline)) / abs(p_input - p_baseline),
            "IG here explains the logit: use helpers.predict_logits, not a softmax.",
        ),
        Mistake(
            "a percentage, not a fraction (times 100)",
            100 * gap,
            "Give the gap as a fraction (0.05 for 5 %); format it with :.1% to print it.",
        ),
    ]
    return {
        "ig_mine": with_mistakes(
            Answer(expected_ig, correct=student_forms, hint=IG_HINT), ig_mistakes
        ),
        "ig_gap": with_mistakes(Answer(gap, correct=gap_forms, hint=GAP_HINT), gap_mistakes),
    }


def check_my_integrated_gradients(
    ig_mine, ig_gap, model, image: np.ndarray, class_index: int, baseline, steps: int, reference
) -> None:
    """Check the cell's ``ig_mine`` and ``ig_gap`` against ``reference``
    (``helpers.integrated_gradients`` with the same steps and baseline)."""
    check_lazily(
        {"ig_mine": reference.attributions, "ig_gap": reference.completeness.relative_gap},
        lambda: integrated_gradients_catalogue(
            model, image, class_index, baseline, steps, reference
        ),
        ig_mine=ig_mine,
        ig_gap=ig_gap,
    )
