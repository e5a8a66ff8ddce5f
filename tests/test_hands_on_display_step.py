"""Notebook 12's hands-on check (tf-explain's display step): each mistake a student makes,
written as student code, is named for the map where it shows; several correct forms pass.

Two maps of the tabby on the real model: the vanilla gradient, whose std (2.4e-4) is far
below the floor 1/sqrt(N) = 4.5e-3, and gradient x input, whose std is far above it.
"""

import numpy as np
import pytest
import tensorflow as tf

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.display_step import check_my_display_step, display_step_answer
from helpers.methods.gradients import gradient_x_input, vanilla_gradients
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY = 281


@pytest.fixture(scope="module")
def maps(lite0, cat):
    return {"g": vanilla_gradients(lite0, cat, TABBY), "gxi": gradient_x_input(lite0, cat, TABBY)}


def test_the_floor_is_used_for_one_map_and_not_the_other(maps):
    floor = 1 / np.sqrt(224 * 224)
    assert np.abs(maps["g"]).sum(-1).std() < floor / 10
    assert np.abs(maps["gxi"]).sum(-1).std() > floor * 5


# Student code: the display step, each the way a student writes it.
def right_numpy(a):
    gray = np.abs(a).sum(axis=-1)
    return (gray - gray.mean()) / max(gray.std(), 1 / np.sqrt(gray.size))


def right_float64(a):
    gray = np.sum(np.abs(a.astype(np.float64)), axis=2)
    return (gray - np.mean(gray)) / np.maximum(np.std(gray), 1.0 / np.sqrt(224 * 224))


def right_tensorflow(a):
    gray = tf.reduce_sum(tf.abs(a), axis=-1)
    std = tf.math.reduce_std(gray)
    floor = tf.math.rsqrt(tf.cast(tf.size(gray), tf.float32))
    return ((gray - tf.reduce_mean(gray)) / tf.maximum(std, floor)).numpy()


def right_sample_std(a):  # ddof=1, as pandas computes it: a 1e-5 relative change
    gray = np.abs(a).sum(axis=-1)
    h, w = gray.shape
    return (gray - gray.mean()) / max(gray.std(ddof=1), (h * w) ** -0.5)


def right_tf_library(a):
    gray = np.abs(a).sum(-1)[..., None]
    return tf.image.per_image_standardization(gray).numpy()[..., 0]


@pytest.mark.parametrize(
    "student", [right_numpy, right_float64, right_tensorflow, right_sample_std, right_tf_library]
)
def test_correct_forms_pass(student, maps):
    for x in maps.values():
        assert verdict(display_step_answer(x), student(x)) == "correct", student.__name__


def _gray(a):
    return np.abs(a).sum(axis=-1)


def _floor(gray):
    return 1 / np.sqrt(gray.size)


MISTAKES = [  # (map, student code, the mistake it must be named as)
    (
        "g",
        lambda a: (_gray(a) - _gray(a).mean()) / _gray(a).std(),
        "the standard deviation without its floor 1/sqrt(N) (or a floor too small to matter)",
    ),
    (
        "g",
        lambda a: (_gray(a) - _gray(a).mean()) / max(_gray(a).std(), 1 / _gray(a).size),
        "the standard deviation without its floor 1/sqrt(N) (or a floor too small to matter)",
    ),
    (
        "g",
        lambda a: (np.abs(a).mean(-1) - np.abs(a).mean()) / max(np.abs(a).mean(-1).std(), 1 / 224),
        "the mean over the colour channels instead of the sum",
    ),
    (
        "gxi",
        lambda a: (_gray(a) - _gray(a).mean()) * np.sqrt(_gray(a).size),
        "divided by the floor 1/sqrt(N) where the standard deviation is larger",
    ),
    (
        "g",
        lambda a: (_gray(a) - _gray(a).mean()) / max(_gray(a).std(), 1 / np.sqrt(a.size)),
        "the floor computed from all H x W x 3 values, not from the H x W pixels",
    ),
    (
        "g",
        lambda a: (a.sum(-1) - a.sum(-1).mean()) / max(a.sum(-1).std(), _floor(a.sum(-1))),
        "the signed attributions summed, without the absolute value",
    ),
    (
        "gxi",
        lambda a: (a.sum(-1) - a.sum(-1).mean()) / max(a.sum(-1).std(), _floor(a.sum(-1))),
        "the signed attributions summed, without the absolute value",
    ),
    (
        "gxi",
        lambda a: right_numpy(np.abs(a).max(axis=-1, keepdims=True)),
        "the maximum over the colour channels instead of the sum",
    ),
    (
        "g",
        lambda a: _gray(a) / max(_gray(a).std(), _floor(_gray(a))),
        "the mean not subtracted",
    ),
    (  # the variance (1.2e-3 here) is below the floor 4.5e-3: it divides by the floor
        "gxi",
        lambda a: (_gray(a) - _gray(a).mean()) / max(_gray(a).var(), _floor(_gray(a))),
        "divided by the floor 1/sqrt(N) where the standard deviation is larger",
    ),
    (
        "g",
        lambda a: (_gray(a) - _gray(a).min()) / np.ptp(_gray(a)),
        "min-max scaling instead of standardisation",
    ),
    (
        "gxi",
        lambda a: np.clip(right_numpy(a) * 255, 0, 255),
        "already the 8-bit picture (x 255, clipped to 0..255)",
    ),
    (
        "g",
        lambda a: np.minimum(np.maximum(255.0 * right_float64(a), 0), 255),
        "already the 8-bit picture (x 255, clipped to 0..255)",
    ),
]


@pytest.mark.parametrize(("which", "student", "label"), MISTAKES, ids=[m[2][:40] for m in MISTAKES])
def test_each_mistake_is_named_for_the_map_where_it_shows(which, student, label, maps):
    x = maps[which]
    assert verdict(display_step_answer(x), student(x)) == label


def test_the_mean_over_channels_passes_for_gradient_x_input_alone(maps):
    """Why the check runs the gradient too: above the floor, a factor 1/3 cancels out."""
    x = maps["gxi"]
    gray = np.abs(x).mean(-1)
    mean_over_channels = (gray - gray.mean()) / max(gray.std(), _floor(gray))
    assert verdict(display_step_answer(x), mean_over_channels) == "correct"


def test_a_trailing_axis_gets_the_fix_that_drops_it(maps):
    x = maps["gxi"]
    kept = tf.image.per_image_standardization(np.abs(x).sum(-1, keepdims=True)).numpy()
    said = verdict(display_step_answer(x), kept)
    assert said.startswith("wrong:") and "[..., 0]" in said and "[0]." not in said, said


def test_check_names_the_map_and_the_mistake(maps):
    inputs = {"the vanilla gradient": maps["g"], "gradient x input": maps["gxi"]}

    def no_floor(a):
        return (_gray(a) - _gray(a).mean()) / _gray(a).std()

    with pytest.raises(
        WrongAnswerError, match="^for the vanilla gradient, standardised: the standard deviation"
    ):
        check_my_display_step(no_floor, inputs)
    check_my_display_step(right_numpy, inputs)


def test_a_uint8_picture_is_named_by_its_type(maps):
    def picture(a):
        return np.clip(right_numpy(a) * 255, 0, 255).astype(np.uint8)

    with pytest.raises(WrongAnswerError, match=r"^for g, standardised: already the 8-bit picture"):
        check_my_display_step(picture, {"g": maps["g"]})


def test_an_unfinished_function_is_not_done(maps):
    with pytest.raises(ExerciseNotDoneError, match="standardised"):
        check_my_display_step(lambda a: ..., {"g": maps["g"]})


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, _, label in MISTAKES})) == []
