"""Notebook 07's hands-on check (Grad-CAM++'s alpha and weights): each mistake a student makes,
written as student code, is named; several correct forms pass (on the real model, at the last
layer and at a middle layer where the gradient varies over the grid)."""

import numpy as np
import pytest
import tensorflow as tf

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.cam_family import (
    check_my_grad_cam_plus_plus,
    grad_cam_plus_plus_steps,
    where_counted,
)
from helpers.methods.cam import grad_cam_parts
from helpers.models.layers import conv_layer_names, grad_cam_layer
from helpers.models.scores import predict_logits
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY = 281


@pytest.fixture(scope="module")
def layers(lite0):
    names = conv_layer_names(lite0)
    return grad_cam_layer(lite0), grad_cam_layer(lite0, names[len(names) // 2])


@pytest.fixture(scope="module")
def steps(lite0, cat, layers):
    logit = float(predict_logits(lite0, cat)[0, TABBY])
    result = {}
    for layer in layers:
        parts = grad_cam_parts(lite0, cat, TABBY, layer=layer)
        result[layer] = (parts, grad_cam_plus_plus_steps(parts, logit), logit)
    return result


def test_the_middle_layer_is_one_where_the_gradient_varies(steps, layers):
    last, middle = (steps[layer][0].gradients for layer in layers)
    assert np.ptp(last, axis=(0, 1)).max() <= 1e-6 * np.abs(last).max()  # GAP head
    assert np.ptp(middle, axis=(0, 1)).max() > 0.1 * np.abs(middle).max()
    assert (middle == 0).any()  # cells where alpha is 0/0


# Student code: (alpha, weights) from (A, G), each the way a student writes it.
def right_divide(a, g):
    den = 2 * g**2 + a.sum(axis=(0, 1)) * g**3
    alpha = np.divide(g**2, den, out=np.zeros_like(g), where=den != 0)
    return alpha, (alpha * np.maximum(g, 0)).sum(axis=(0, 1))


def right_where_float64(a, g):
    a, g = a.astype(np.float64), g.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(g != 0, g * g / (2 * g * g + a.sum(0).sum(0) * g**3), 0.0)
    return alpha, np.einsum("hwk,hwk->k", alpha, np.where(g > 0, g, 0))


def right_tensorflow(a, g):
    g2 = tf.square(g)
    den = 2 * g2 + tf.reduce_sum(a, axis=(0, 1)) * g2 * g
    alpha = tf.math.divide_no_nan(g2, den)
    return alpha.numpy(), tf.reduce_sum(alpha * tf.nn.relu(g), axis=(0, 1)).numpy()


def right_with_the_exponential_factor(a, g):
    """The paper's derivatives of Y = exp(S) kept in alpha: the factor cancels."""
    e = np.exp(3.0)
    second, third = e * g**2, e * g**3
    with np.errstate(invalid="ignore"):
        alpha = np.nan_to_num(second / (2 * second + a.sum(axis=(0, 1)) * third))
    return alpha, (alpha * np.clip(g, 0, None)).sum(axis=(0, 1))


def right_loop(a, g):
    alpha = np.zeros(g.shape)
    for k in range(g.shape[-1]):
        total = a[..., k].sum()
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                gij = float(g[i, j, k])
                if gij != 0:
                    alpha[i, j, k] = gij**2 / (2 * gij**2 + total * gij**3)
    return alpha, (alpha * np.maximum(g, 0)).sum(axis=(0, 1))


CORRECT = [right_divide, right_where_float64, right_tensorflow, right_with_the_exponential_factor]


@pytest.mark.parametrize("student", CORRECT, ids=lambda f: f.__name__)
def test_correct_forms_pass(student, steps):
    for parts, catalogue, _ in steps.values():
        alpha, weights = student(parts.feature_maps, parts.gradients)
        results = (where_counted(alpha, parts.gradients), weights)
        for name, value in zip(("my_alpha", "my_weights"), results, strict=True):
            assert verdict(catalogue[name], value) == "correct", (student.__name__, name)


def test_a_loop_is_correct_too(steps, layers):
    parts, catalogue, _ = steps[layers[0]]  # the 7x7 grid: the loop is quick there
    alpha, weights = right_loop(parts.feature_maps, parts.gradients)
    assert verdict(catalogue["my_alpha"], where_counted(alpha, parts.gradients)) == "correct"
    assert verdict(catalogue["my_weights"], weights) == "correct"


def _alpha(a, g):
    return right_divide(a, g)[0]


LAST, MIDDLE = 0, 1
MISTAKES = [  # (answer, layer where it shows, student code, the mistake it must be named as)
    (
        "my_alpha",
        MIDDLE,
        lambda a, g: np.nan_to_num(g**2 / (2 * g**2 + a.mean(axis=(0, 1)) * g**3)),
        "mean(A) in the denominator instead of the sum (xplique's variant)",
    ),
    (
        "my_alpha",
        LAST,
        lambda a, g: _alpha(a, g) / _alpha(a, g).sum(axis=(0, 1)),
        "alpha divided by its sum over the grid (tf-keras-vis' variant)",
    ),
    (
        "my_alpha",
        MIDDLE,
        lambda a, g: np.nan_to_num(g**2 / (2 * g**2 + a.sum() * g**3)),
        "the sum over every channel in the denominator, not the channel's own",
    ),
    (
        "my_alpha",
        MIDDLE,
        lambda a, g: _alpha(a, g.mean(axis=(0, 1)) * np.ones_like(g)),
        "the channel's mean gradient in place of each cell's gradient",
    ),
    (
        "my_alpha",
        LAST,
        lambda a, g: np.nan_to_num(g**2 / (g**2 + a.sum(axis=(0, 1)) * g**3)),
        "the factor 2 missing in the denominator",
    ),
    (
        "my_alpha",
        LAST,
        lambda a, g: g**2 / (2 * g**2 + a.sum(axis=(0, 1)) * g**3 + 1e-6),
        "an epsilon in the denominator as large as its terms (pytorch-grad-cam adds 1e-6)",
    ),
    (
        "my_weights",
        LAST,
        lambda a, g: (_alpha(a, g) * g).sum(axis=(0, 1)),
        "no ReLU on the gradients",
    ),
    (
        "my_weights",
        MIDDLE,
        lambda a, g: (_alpha(a, g) * np.maximum(g, 0)).mean(axis=(0, 1)),
        "the mean over the grid instead of the sum",
    ),
    (
        "my_weights",
        MIDDLE,
        lambda a, g: g.mean(axis=(0, 1)),
        "Grad-CAM's channel weights (the mean gradient): alpha is missing",
    ),
    (
        "my_weights",
        MIDDLE,
        "exp",  # needs the logit: written in the test below
        "the weights times exp(S^c)",
    ),
]


@pytest.mark.parametrize(
    ("name", "where", "student", "label"), MISTAKES, ids=[m[3][:40] for m in MISTAKES]
)
def test_each_mistake_is_named_where_it_shows(name, where, student, label, steps, layers):
    parts, catalogue, logit = steps[layers[where]]
    a, g = parts.feature_maps, parts.gradients
    if student == "exp":
        value = np.exp(logit) * (_alpha(a, g) * np.maximum(g, 0)).sum(axis=(0, 1))
    else:
        value = student(a, g)
    if name == "my_alpha":
        value = where_counted(value, g)
    assert verdict(catalogue[name], value) == label


def test_one_mistake_passes_where_the_gradient_is_constant_over_the_grid(steps, layers):
    """Why the check runs a middle layer too: on the GAP head it changes nothing."""
    parts, catalogue, _ = steps[layers[LAST]]
    g = parts.gradients
    mean_g = _alpha(parts.feature_maps, g.mean(axis=(0, 1)) * np.ones_like(g))
    assert verdict(catalogue["my_alpha"], where_counted(mean_g, g)) == "correct"


def test_check_names_the_layer_and_the_mistake(lite0, cat, layers):
    def no_relu(a, g):
        alpha = _alpha(a, g)
        return alpha, (alpha * g).sum(axis=(0, 1))

    with pytest.raises(WrongAnswerError, match=f"^at layer {layers[0]}, my_weights: no ReLU"):
        check_my_grad_cam_plus_plus(no_relu, lite0, cat, TABBY, layers)
    check_my_grad_cam_plus_plus(right_divide, lite0, cat, TABBY, layers)


def test_nan_where_the_gradient_is_zero_gets_the_hint(steps, layers):
    parts, catalogue, _ = steps[layers[MIDDLE]]
    a, g = parts.feature_maps, parts.gradients
    with np.errstate(invalid="ignore"):
        alpha = g**2 / (2 * g**2 + a.sum(axis=(0, 1)) * g**3)
    message = verdict(catalogue["my_weights"], (alpha * np.maximum(g, 0)).sum(axis=(0, 1)))
    assert "NaN" in message and "0/0" in message


def test_an_unfinished_function_is_not_done(lite0, cat, layers):
    with pytest.raises(ExerciseNotDoneError, match="my_alpha"):
        check_my_grad_cam_plus_plus(lambda a, g: (..., ...), lite0, cat, TABBY, layers)
    with pytest.raises(WrongAnswerError, match="must return two things"):
        check_my_grad_cam_plus_plus(lambda a, g: _alpha(a, g), lite0, cat, TABBY, layers)


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for *_, label in MISTAKES})) == []
