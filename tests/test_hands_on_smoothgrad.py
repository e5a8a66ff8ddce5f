"""Notebook 04's hands-on check: each mistake a student makes in SmoothGrad by hand, written as
student code, is named; several correct forms pass, among them the cell's own comment
followed literally (sigma in float32, which can land one rounding step from the library's)."""

import hashlib

import numpy as np
import pytest
import tensorflow as tf

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.smoothgrad import check_my_smoothgrad, smoothgrad_catalogue
from helpers.methods.gradients import vanilla_gradients
from helpers.methods.smoothgrad import smoothgrad
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY, N_HANDS, NOISE = 281, 10, 0.15  # as in the notebook


@pytest.fixture(scope="module")
def answer(lite0, cat):
    return smoothgrad_catalogue(lite0, cat, TABBY, N_HANDS, NOISE, 0)


@pytest.fixture(scope="module")
def gradients(lite0):
    """helpers.vanilla_gradients(model, images, TABBY), remembered by content (the student
    forms below often send the same noisy copies)."""
    seen = {}

    def compute(images):
        images = np.asarray(images)
        key = hashlib.sha1(images.astype(np.float32).tobytes()).hexdigest(), images.ndim
        if key not in seen:
            seen[key] = vanilla_gradients(lite0, images, TABBY, progress=False)
        return seen[key]

    return compute


# Student code: (cat, gradients) -> my_smoothgrad, each the way a student writes it.
def comment_literally(cat, gradients):
    rng = np.random.default_rng(0)
    sigma = NOISE * (cat.max() - cat.min())  # a float32, as the cell's comment reads
    noisy = cat + sigma * rng.standard_normal((N_HANDS, *cat.shape), dtype=np.float32)
    return gradients(noisy).mean(axis=0)


def python_float_sigma(cat, gradients):
    rng = np.random.default_rng(0)
    sigma = NOISE * float(np.ptp(cat))
    noise = rng.standard_normal((N_HANDS, *cat.shape), dtype=np.float32) * sigma
    return np.mean(gradients(noise + cat), axis=0)


def float64_arithmetic(cat, gradients):
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((N_HANDS, *cat.shape), dtype=np.float32).astype(np.float64)
    sigma = NOISE * (np.float64(cat.max()) - np.float64(cat.min()))
    noisy = cat.astype(np.float64) + sigma * draws
    return gradients(noisy).astype(np.float64).sum(axis=0) / N_HANDS


def one_copy_at_a_time(cat, gradients):
    rng = np.random.default_rng(0)
    sigma = NOISE * (cat.max() - cat.min())
    maps = []
    for _ in range(N_HANDS):
        noisy = cat + rng.standard_normal(cat.shape, dtype=np.float32) * sigma
        maps.append(gradients(noisy))
    return np.mean(maps, axis=0)


def tensorflow_mean(cat, gradients):
    rng = np.random.default_rng(0)
    sigma = tf.constant(NOISE, tf.float32) * (tf.reduce_max(cat) - tf.reduce_min(cat))
    draws = rng.standard_normal((N_HANDS, *cat.shape), dtype=np.float32)
    noisy = (tf.constant(cat) + sigma * draws).numpy()
    return tf.reduce_mean(gradients(noisy), axis=0).numpy()


@pytest.mark.parametrize(
    "student",
    [
        comment_literally,
        python_float_sigma,
        float64_arithmetic,
        one_copy_at_a_time,
        tensorflow_mean,
    ],
)
def test_correct_forms_pass(student, answer, cat, gradients):
    assert verdict(answer, student(cat, gradients)) == "correct", student.__name__


def test_the_library_call_passes(answer, lite0, cat):
    library = smoothgrad(lite0, cat, TABBY, n=N_HANDS, noise=NOISE, seed=0)
    assert verdict(answer, library) == "correct"


def test_the_tolerance_is_what_one_ulp_of_sigma_does(answer):
    """The correct forms spread by about 1 % of the map's largest value (one ReLU6 flips),
    far above float32 rounding of the average itself, and far below every mistake."""
    scale = np.abs(answer.expected).max()
    assert 1e-3 < answer._spread() / scale < 0.05
    assert all(
        np.abs(np.asarray(m.value) - answer.expected).max() > 5 * answer.allowed().max()
        for m in answer.mistakes
    )


def _noisy(cat, draws, sigma):
    return cat + sigma * draws


def _draws(cat, seed=0, **kw):
    return np.random.default_rng(seed).standard_normal((N_HANDS, *cat.shape), **kw)


MISTAKES = [  # (student code, the mistake it must be named as)
    (
        lambda cat, g: g(
            cat
            + np.random.default_rng(0).normal(
                0, NOISE * (cat.max() - cat.min()), (N_HANDS, *cat.shape)
            )
        ).mean(0),
        "float64 draws (rng.normal, or rng.standard_normal without dtype=np.float32)",
    ),
    (
        lambda cat, g: g(_noisy(cat, _draws(cat), NOISE * np.ptp(cat))).mean(0),
        "float64 draws (rng.normal, or rng.standard_normal without dtype=np.float32)",
    ),
    (
        lambda cat, g: (
            np.random.seed(0),
            g(cat + NOISE * np.ptp(cat) * np.random.randn(N_HANDS, *cat.shape)).mean(0),
        )[1],
        "the legacy global generator (np.random.seed / np.random.randn)",
    ),
    (
        lambda cat, g: g(_noisy(cat, _draws(cat, 1, dtype=np.float32), NOISE * np.ptp(cat))).mean(
            0
        ),
        "the generator seeded with 1, not 0",
    ),
    (
        lambda cat, g: g(_noisy(cat, _draws(cat, dtype=np.float32), NOISE)).mean(0),
        "sigma not scaled by the image's range (the noise level used as sigma)",
    ),
    (
        lambda cat, g: g(_noisy(cat, _draws(cat, dtype=np.float32), NOISE * 255)).mean(0),
        "sigma a fraction of 255, not of the image's range (max - min)",
    ),
    (
        lambda cat, g: g(
            _noisy(cat, _draws(cat, dtype=np.float32), (NOISE * np.ptp(cat)) ** 2)
        ).mean(0),
        "the variance sigma**2 used as the standard deviation",
    ),
    (
        lambda cat, g: g(
            np.clip(_noisy(cat, _draws(cat, dtype=np.float32), NOISE * np.ptp(cat)), 0, 255)
        ).mean(0),
        "the noisy copies clipped to [0, 255]",
    ),
    (
        lambda cat, g: g(
            cat
            + NOISE
            * np.ptp(cat)
            * np.random.default_rng(0).standard_normal((N_HANDS, 224, 224, 1), dtype=np.float32)
        ).mean(0),
        "one noise value per pixel, shared by the three colour channels",
    ),
    (
        lambda cat, g: g(
            np.repeat(
                (
                    cat
                    + NOISE
                    * np.ptp(cat)
                    * np.random.default_rng(0).standard_normal(cat.shape, dtype=np.float32)
                )[None],
                N_HANDS,
                axis=0,
            )
        ).mean(0),
        "the same noise added to every copy",
    ),
    (
        lambda cat, g: np.abs(
            g(_noisy(cat, _draws(cat, dtype=np.float32), NOISE * np.ptp(cat)))
        ).mean(0),
        "the average of |gradient|, not of the signed gradients",
    ),
    (
        lambda cat, g: g(_noisy(cat, _draws(cat, dtype=np.float32), NOISE * np.ptp(cat))).sum(0),
        "the sum over the copies, not the mean",
    ),
    (
        lambda cat, g: g(
            np.concatenate(
                [cat[None], _noisy(cat, _draws(cat, dtype=np.float32), NOISE * np.ptp(cat))]
            )
        ).mean(0),
        "the clean image's gradient averaged in with the noisy ones",
    ),
]


@pytest.mark.parametrize(("student", "label"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_each_mistake_is_named(student, label, answer, cat, gradients):
    assert verdict(answer, student(cat, gradients)) == label


def test_another_seed_is_wrong_with_a_hint(answer, cat, gradients):
    noisy = _noisy(cat, _draws(cat, 7, dtype=np.float32), NOISE * np.ptp(cat))
    result = verdict(answer, gradients(noisy).mean(0))
    assert result.startswith("wrong: answer: none of the usual mistakes")
    assert "default_rng(0)" in result


def test_check_accepts_the_comment_form_and_names_a_mistake(lite0, cat, capsys):
    n = 4  # a smaller example: a wrong answer makes the check build its whole catalogue
    expected = smoothgrad(lite0, cat, TABBY, n=n, noise=NOISE, seed=0)
    sigma = NOISE * (cat.max() - cat.min())  # float32, as the cell's comment reads
    draws = np.random.default_rng(0).standard_normal((n, *cat.shape), dtype=np.float32)
    grads = vanilla_gradients(lite0, cat + sigma * draws, TABBY)
    check_my_smoothgrad(grads.mean(axis=0), lite0, cat, TABBY, n, NOISE, 0, expected)
    # at n = 4, sigma's float32 rounding flips a ReLU6: accepted by the widened tolerance
    assert capsys.readouterr().out.strip().splitlines()[-1] == "my_smoothgrad: correct"
    with pytest.raises(WrongAnswerError, match="^my_smoothgrad: the sum over the copies"):
        check_my_smoothgrad(grads.sum(axis=0), lite0, cat, TABBY, n, NOISE, 0, expected)
    with pytest.raises(ExerciseNotDoneError):
        check_my_smoothgrad(..., lite0, cat, TABBY, n, NOISE, 0, expected)


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, label in MISTAKES})) == []
