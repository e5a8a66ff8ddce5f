"""Notebook 03's hands-on check: each mistake a student makes, written as student code, is
named; several correct forms pass (on the real model, for the tabby and for espresso)."""

import numpy as np
import pytest
import tensorflow as tf

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.grad_cam import check_my_grad_cam, grad_cam_steps
from helpers.methods.cam import grad_cam_parts
from helpers.models.layers import grad_cam_layer
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY, ESPRESSO = 281, 967


@pytest.fixture(scope="module")
def parts(lite0, cat):
    layer = grad_cam_layer(lite0)
    return {c: grad_cam_parts(lite0, cat, c, layer=layer) for c in (TABBY, ESPRESSO)}


def test_espresso_is_a_class_where_the_relu_matters(parts):
    assert (parts[TABBY].weighted_sum < 0).sum() == 0  # why the tabby alone cannot test it
    assert (parts[ESPRESSO].weighted_sum < 0).mean() > 0.3


# Student code: (alpha, weighted sum, cam) from (A, G), each the way a student writes it.
def right_einsum(a, g):
    alpha = g.mean(axis=(0, 1))
    s = np.einsum("hwk,k->hw", a, alpha)
    return alpha, s, np.maximum(s, 0)


def right_float64_broadcast(a, g):
    alpha = g.astype(np.float64).mean(axis=0).mean(axis=0)
    s = (a.astype(np.float64) * alpha).sum(axis=-1)
    return alpha, s, s * (s > 0)


def right_tensorflow(a, g):
    alpha = tf.reduce_mean(g, axis=(0, 1))
    s = tf.tensordot(a, alpha, axes=[[2], [0]])
    return alpha.numpy(), s.numpy(), tf.nn.relu(s).numpy()


def right_loop(a, g):
    alpha = np.array([g[..., k].mean() for k in range(g.shape[-1])])
    s = sum(alpha[k] * a[..., k] for k in range(a.shape[-1]))
    return alpha, s, np.where(s > 0, s, 0.0)


@pytest.mark.parametrize(
    "student", [right_einsum, right_float64_broadcast, right_tensorflow, right_loop]
)
def test_correct_forms_pass(student, parts):
    for p in parts.values():
        results = student(p.feature_maps, p.gradients)
        for name, value in zip(("my_alpha", "my_sum", "my_cam"), results, strict=True):
            assert verdict(grad_cam_steps(p)[name], value) == "correct", (student.__name__, name)


def _alpha(a, g):
    return g.mean(axis=(0, 1))


def _sum(a, g):
    return np.einsum("hwk,k->hw", a, _alpha(a, g))


MISTAKES = [  # (answer, student code, the mistake it must be named as)
    (
        "my_alpha",
        lambda a, g: g.sum(axis=(0, 1)),
        "the sum of the gradients over the grid, not their mean",
    ),
    (
        "my_alpha",
        lambda a, g: a.mean(axis=(0, 1)),
        "the mean of the feature maps, not of the gradients",
    ),
    (
        "my_alpha",
        lambda a, g: np.abs(g).mean(axis=(0, 1)),
        "the mean of |gradient|: the sign of each weight is lost",
    ),
    (
        "my_alpha",
        lambda a, g: np.clip(g.mean(axis=(0, 1)), 0, None),
        "a ReLU on the channel weights",
    ),
    (
        "my_sum",
        lambda a, g: np.einsum("hwk,k->hw", a, _alpha(a, g)) / a.shape[-1],
        "the mean over the channels instead of the sum",
    ),
    (
        "my_sum",
        lambda a, g: (a * _alpha(a, g)).mean(axis=-1),
        "the mean over the channels instead of the sum",
    ),
    ("my_sum", lambda a, g: a.sum(axis=2), "the feature maps summed without their weights"),
    (
        "my_sum",
        lambda a, g: (g * _alpha(a, g)).sum(axis=-1),
        "the gradients weighted instead of the feature maps",
    ),
    (
        "my_sum",
        lambda a, g: np.maximum((a * _alpha(a, g)).sum(-1), 0),
        "the ReLU already applied to the weighted sum",
    ),
    ("my_cam", lambda a, g: _sum(a, g), "the weighted sum without the ReLU"),
    ("my_cam", lambda a, g: np.abs(_sum(a, g)), "the absolute value instead of the ReLU"),
    ("my_cam", lambda a, g: np.maximum(-_sum(a, g), 0), "the ReLU of the negated sum"),
    (
        "my_cam",
        lambda a, g: np.maximum(_sum(a, g), 0) / np.maximum(_sum(a, g), 0).max(),
        "divided by its maximum already",
    ),
]


@pytest.mark.parametrize(("name", "student", "label"), MISTAKES, ids=[m[2][:40] for m in MISTAKES])
def test_each_mistake_is_named_for_the_class_where_it_shows(name, student, label, parts):
    p = parts[ESPRESSO]
    assert verdict(grad_cam_steps(p)[name], student(p.feature_maps, p.gradients)) == label


def test_the_forgotten_relu_passes_for_the_tabby_alone(parts):
    """Why the check runs espresso too: for the tabby the ReLU changes nothing."""
    p = parts[TABBY]
    assert verdict(grad_cam_steps(p)["my_cam"], _sum(p.feature_maps, p.gradients)) == "correct"


def test_check_names_the_class_and_the_mistake(lite0, cat):
    def no_relu(a, g):
        return _alpha(a, g), _sum(a, g), _sum(a, g)

    with pytest.raises(
        WrongAnswerError, match="^for class 967, my_cam: the weighted sum without the ReLU"
    ):
        check_my_grad_cam(no_relu, lite0, cat, [TABBY, ESPRESSO], grad_cam_layer(lite0))


def test_an_unfinished_function_is_not_done(lite0, cat):
    def unfinished(a, g):
        return g.mean(axis=(0, 1)), ..., ...

    with pytest.raises(ExerciseNotDoneError, match="my_sum"):
        check_my_grad_cam(unfinished, lite0, cat, [TABBY], grad_cam_layer(lite0))


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, _, label in MISTAKES})) == []
