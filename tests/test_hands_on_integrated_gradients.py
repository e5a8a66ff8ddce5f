"""Notebook 06's hands-on check: Integrated Gradients' trapezoid sum and its completeness gap.
Each mistake a student makes, written as student code, is named; several correct forms pass
(on the real model: the tabby, black baseline, 16 steps, as in the notebook)."""

import numpy as np
import pytest
import tensorflow as tf

import helpers
from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.integrated_gradients import (
    check_my_integrated_gradients,
    integrated_gradients_catalogue,
)
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY, STEPS = 281, 16


@pytest.fixture(scope="module")
def baseline(cat):
    return np.zeros_like(cat)


@pytest.fixture(scope="module")
def reference(lite0, cat, baseline):
    return helpers.integrated_gradients(lite0, cat, TABBY, baseline=baseline, steps=STEPS)


@pytest.fixture(scope="module")
def answers(lite0, cat, baseline, reference):
    return integrated_gradients_catalogue(lite0, cat, TABBY, baseline, STEPS, reference)


@pytest.fixture(scope="module")
def path_gradients(lite0, cat, baseline):
    """The path's gradients as the cell's comments compute them (alpha = 0, 1/16, ..., 1)."""
    alphas = np.linspace(0, 1, STEPS + 1, dtype=np.float32)
    path = baseline + alphas[:, None, None, None] * (cat - baseline)
    return helpers.vanilla_gradients(lite0, path, TABBY)


def trapezoid(n=STEPS):
    w = np.full(n + 1, 1 / n)
    w[0] = w[-1] = 0.5 / n
    return w


# Student code for ig_mine: (model, cat, baseline, gradients) -> attributions.
def right_tensordot(model, cat, baseline, g):
    return (cat - baseline) * np.tensordot(trapezoid(), g, axes=1)


def right_loop_float32(model, cat, baseline, g):
    total = np.zeros_like(cat)
    for k in range(STEPS + 1):
        weight = np.float32(0.5 / STEPS if k in (0, STEPS) else 1 / STEPS)
        total += weight * g[k]
    return (cat - baseline) * total


def right_numpy_trapezoid(model, cat, baseline, g):
    alphas = np.linspace(0, 1, STEPS + 1)
    return (cat - baseline) * np.trapezoid(g, alphas, axis=0)


def right_tensorflow(model, cat, baseline, g):
    w = tf.constant(trapezoid(), tf.float32)
    return ((cat - baseline) * tf.tensordot(w, g, axes=1)).numpy()


def right_one_point_at_a_time(model, cat, baseline, g):
    alphas = np.linspace(0, 1, STEPS + 1, dtype=np.float32)
    grads = [
        helpers.vanilla_gradients(model, baseline + a * (cat - baseline), TABBY) for a in alphas
    ]
    return (cat - baseline) * sum(w * gk for w, gk in zip(trapezoid(), grads, strict=True))


CORRECT_IG = [
    right_tensordot,
    right_loop_float32,
    right_numpy_trapezoid,
    right_tensorflow,
    right_one_point_at_a_time,
]


@pytest.mark.parametrize("student", CORRECT_IG)
def test_correct_attributions_pass(student, answers, lite0, cat, baseline, path_gradients):
    result = student(lite0, cat, baseline, path_gradients)
    assert verdict(answers["ig_mine"], result) == "correct", student.__name__


def _gap(model, cat, baseline, ig):
    f = helpers.predict_logits(model, np.stack([cat, baseline]))[:, TABBY]
    return abs(ig.sum() - (f[0] - f[1])) / abs(f[0] - f[1])


def _gap_float64_separate_calls(model, cat, baseline, ig):
    fx = float(helpers.predict_logits(model, cat)[0, TABBY])
    fb = float(helpers.predict_logits(model, baseline)[0, TABBY])
    return abs(float(np.sum(ig, dtype=np.float64)) - (fx - fb)) / abs(fx - fb)


@pytest.mark.parametrize("student_ig", [right_tensordot, right_loop_float32])
@pytest.mark.parametrize("student_gap", [_gap, _gap_float64_separate_calls])
def test_correct_gaps_pass(student_ig, student_gap, answers, lite0, cat, baseline, path_gradients):
    ig = student_ig(lite0, cat, baseline, path_gradients)
    assert verdict(answers["ig_gap"], student_gap(lite0, cat, baseline, ig)) == "correct"


def _mean(g, w=None):
    return np.tensordot(trapezoid() if w is None else w, g, axes=1)


IG_MISTAKES = [  # (student code (model, cat, baseline, g) -> ig_mine, the mistake's label)
    (
        lambda m, x, b, g: _mean(g),
        "no (x - x') factor: the weighted mean of the gradients alone",
    ),
    (
        lambda m, x, b, g: (x - b) * _mean(g, np.full(STEPS + 1, 1 / STEPS)),
        "the two ends not halved (every weight 1/STEPS)",
    ),
    (
        lambda m, x, b, g: (x - b) * g.mean(axis=0),
        "the plain mean of the STEPS + 1 gradients (weights 1/(STEPS + 1))",
    ),
    (
        lambda m, x, b, g: (x - b) * g[1:].sum(axis=0) / STEPS,
        "a right Riemann sum (the points 1/STEPS ... 1, no baseline end)",
    ),
    (
        lambda m, x, b, g: (x - b) * g[:STEPS].sum(axis=0) / STEPS,
        "a left Riemann sum (the points 0 ... (STEPS - 1)/STEPS, no image end)",
    ),
    (
        lambda m, x, b, g: _short_grid(m, x, b),
        "STEPS points instead of STEPS + 1 (np.linspace(0, 1, STEPS))",
    ),
    (
        lambda m, x, b, g: (x - b) * _mean(g, trapezoid() * STEPS),
        "the weights without their 1/STEPS (the sum is STEPS times too large)",
    ),
    (
        lambda m, x, b, g: (x - b) * _mean((x - b) * g),
        "(x - x') applied twice",
    ),
    (
        lambda m, x, b, g: (b - x) * _mean(g),
        "the sign flipped: (x' - x) instead of (x - x')",
    ),
    (
        lambda m, x, b, g: (x - b) * helpers.vanilla_gradients(m, x, TABBY),
        "the gradient at the image alone times (x - x') (gradient x input, no path)",
    ),
]


def _short_grid(model, cat, baseline):
    alphas = np.linspace(0, 1, STEPS, dtype=np.float32)  # one point short
    path = baseline + alphas[:, None, None, None] * (cat - baseline)
    weights = np.full(STEPS, 1 / STEPS)
    weights[[0, -1]] /= 2  # the cell's comment, on the short grid
    return (cat - baseline) * _mean(helpers.vanilla_gradients(model, path, TABBY), weights)


@pytest.mark.parametrize(("student", "label"), IG_MISTAKES, ids=[m[1][:40] for m in IG_MISTAKES])
def test_each_attribution_mistake_is_named(
    student, label, answers, lite0, cat, baseline, path_gradients
):
    assert verdict(answers["ig_mine"], student(lite0, cat, baseline, path_gradients)) == label


def _logits(model, cat, baseline):
    return helpers.predict_logits(model, np.stack([cat, baseline]))[:, TABBY].astype(np.float64)


GAP_MISTAKES = [  # (student code (model, cat, baseline, ig) -> ig_gap, the mistake's label)
    (
        lambda m, x, b, ig: abs(ig.sum() - np.subtract(*_logits(m, x, b))),
        "the absolute gap, not divided by |f(x) - f(x')|",
    ),
    (
        lambda m, x, b, ig: (
            (ig.sum() - np.subtract(*_logits(m, x, b))) / abs(np.subtract(*_logits(m, x, b)))
        ),
        "the gap with its sign (no |.| around sum - (f(x) - f(x')))",
    ),
    (
        lambda m, x, b, ig: abs(ig.sum() - np.subtract(*_logits(m, x, b))) / _logits(m, x, b)[0],
        "relative to f(x) instead of f(x) - f(x')",
    ),
    (
        lambda m, x, b, ig: abs(ig.sum() - _logits(m, x, b)[0]) / _logits(m, x, b)[0],
        "the baseline's logit left out (f(x) - f(x') taken as f(x))",
    ),
    (
        lambda m, x, b, ig: (
            abs(ig.sum() - (_logits(m, x, b)[1] - _logits(m, x, b)[0]))
            / abs(np.subtract(*_logits(m, x, b)))
        ),
        "f(x) and f(x') swapped (the logits taken at the wrong ends)",
    ),
    (
        lambda m, x, b, ig: _probability_gap(m, x, b, ig),
        "the probability instead of the logit",
    ),
    (
        lambda m, x, b, ig: 100 * _gap(m, x, b, ig),
        "a percentage, not a fraction (times 100)",
    ),
]


def _probability_gap(model, cat, baseline, ig):
    p = tf.nn.softmax(helpers.predict_logits(model, np.stack([cat, baseline]))).numpy()[:, TABBY]
    return abs(ig.sum() - (p[0] - p[1])) / abs(p[0] - p[1])


@pytest.mark.parametrize(("student", "label"), GAP_MISTAKES, ids=[m[1][:40] for m in GAP_MISTAKES])
def test_each_gap_mistake_is_named(student, label, answers, lite0, cat, baseline, path_gradients):
    ig = right_tensordot(lite0, cat, baseline, path_gradients)
    assert verdict(answers["ig_gap"], student(lite0, cat, baseline, ig)) == label


def test_check_prints_correct_and_names_a_mistake(
    lite0, cat, baseline, reference, path_gradients, capsys
):
    ig = right_tensordot(lite0, cat, baseline, path_gradients)
    gap = _gap(lite0, cat, baseline, ig)
    check_my_integrated_gradients(ig, gap, lite0, cat, TABBY, baseline, STEPS, reference)
    assert capsys.readouterr().out.split() == ["ig_mine:", "correct", "ig_gap:", "correct"]
    unhalved = (cat - baseline) * _mean(path_gradients, np.full(STEPS + 1, 1 / STEPS))
    with pytest.raises(WrongAnswerError, match=r"^ig_mine: the two ends not halved"):
        check_my_integrated_gradients(unhalved, gap, lite0, cat, TABBY, baseline, STEPS, reference)
    with pytest.raises(WrongAnswerError, match=r"^ig_gap: a percentage"):
        check_my_integrated_gradients(ig, 100 * gap, lite0, cat, TABBY, baseline, STEPS, reference)
    with pytest.raises(ExerciseNotDoneError, match="ig_gap"):
        check_my_integrated_gradients(ig, ..., lite0, cat, TABBY, baseline, STEPS, reference)


def test_every_mistake_is_listed_in_instructors_md():
    labels = {label for _, label in IG_MISTAKES + GAP_MISTAKES}
    assert unlisted_mistakes(sorted(labels)) == []
