"""Notebook 02's hands-on check: each GradientTape mistake, written as student code, is named;
several correct forms pass (on the real model, the cat and class 281 tabby)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import helpers
from helpers.hands_on.vanilla_gradients import gradient_catalogue
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY = 281


@pytest.fixture(scope="module")
def scorer(lite0):
    return keras.Model(lite0.input, lite0.get_layer("logits").output)  # as the notebook builds it


@pytest.fixture(scope="module")
def answer(lite0, cat):
    return gradient_catalogue(lite0, cat, TABBY)["g_by_hand"]


def _tape(model, images, target, watch=True):
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        if watch:
            tape.watch(x)
        value = target(model(x, training=False))
    return tape.gradient(value, x)


# Student code: (model, scorer, img) -> g_by_hand
def right_by_hand(model, scorer, img):
    x = tf.convert_to_tensor(img[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = scorer(x, training=False)[:, TABBY]
    return tape.gradient(score, x).numpy()[0]


def right_variable(model, scorer, img):
    x = tf.Variable(img[None])
    with tf.GradientTape() as tape:
        score = scorer(x)[0, TABBY]
    return tape.gradient(score, x)[0].numpy()


def right_in_a_batch_of_two(model, scorer, img):
    espresso = helpers.load_image(helpers.sample_image("espresso"))
    g = _tape(scorer, np.stack([img, espresso]), lambda z: z[0, TABBY] + z[1, 967])
    return g.numpy()[0]


def right_float64_input(model, scorer, img):
    return _tape(scorer, img[None].astype("float64"), lambda z: z[:, TABBY]).numpy()[0]


def right_library(model, scorer, img):
    return helpers.vanilla_gradients(model, img, TABBY)


def right_gather(model, scorer, img):
    g = _tape(scorer, img[None], lambda z: tf.gather(z, [TABBY], axis=1))
    return g[0]  # an EagerTensor: the check converts it


@pytest.mark.parametrize(
    "student",
    [
        right_by_hand,
        right_variable,
        right_in_a_batch_of_two,
        right_float64_input,
        right_library,
        right_gather,
    ],
)
def test_correct_forms_pass(student, answer, lite0, scorer, cat):
    assert verdict(answer, student(lite0, scorer, cat)) == "correct"


MISTAKES = [  # (student code, the mistake it must be named as)
    (
        lambda m, s, img: _tape(s, img[None], lambda z: z[:, TABBY], watch=False),
        "the tape did not watch x (tape.gradient returned None)",
    ),
    (
        lambda m, s, img: _tape(m, img[None], lambda p: p[:, TABBY]).numpy()[0],
        "the gradient of the probability (the model's softmax output), not of the logit",
    ),
    (
        lambda m, s, img: _tape(
            m,
            img[None],
            lambda p: keras.losses.sparse_categorical_crossentropy(tf.constant([TABBY]), p),
        ).numpy()[0],
        "the gradient of the cross-entropy loss, not of the logit",
    ),
    (
        lambda m, s, img: _tape(
            s,
            img[None],
            lambda z: keras.losses.sparse_categorical_crossentropy(
                tf.constant([TABBY]), z, from_logits=True
            ),
        ).numpy()[0],
        "the gradient of the cross-entropy loss, not of the logit",
    ),
    (
        lambda m, s, img: _tape(s, img[None], lambda z: z[:, 285]).numpy()[0],  # the top-1 class
        "the gradient of another class's logit",
    ),
    (
        lambda m, s, img: _tape(s, img[None], lambda z: z[:, 282]).numpy()[0],
        "the gradient of another class's logit",
    ),
    (
        lambda m, s, img: _tape(s, img[None], lambda z: z).numpy()[0],
        "the gradient of the sum of all 1000 logits (no class selected)",
    ),
    (
        lambda m, s, img: np.abs(_tape(s, img[None], lambda z: z[:, TABBY]).numpy()[0]),
        "|g|: the absolute value, not the signed gradient",
    ),
    (
        lambda m, s, img: helpers.reduce_channels(right_by_hand(m, s, img)),
        "the saliency map (max |g| over the channels), not the raw gradient",
    ),
    (
        lambda m, s, img: np.abs(_tape(s, img[None], lambda z: z[:, TABBY]).numpy()[0]).max(-1),
        "the saliency map (max |g| over the channels), not the raw gradient",
    ),
    (
        lambda m, s, img: _tape(s, img[None], lambda z: z[:, TABBY]).numpy(),
        "the batch axis kept: shape (1, 224, 224, 3)",
    ),
    (
        lambda m, s, img: _tape(s, img[None] / 255.0, lambda z: z[:, TABBY]).numpy()[0],
        "the gradient at the image divided by 255 (the model takes pixels in [0, 255])",
    ),
    (
        lambda m, s, img: right_by_hand(m, s, img) * img,
        "gradient x input, not the gradient",
    ),
]


@pytest.mark.parametrize(("student", "label"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_each_mistake_is_named(student, label, answer, lite0, scorer, cat):
    assert verdict(answer, student(lite0, scorer, cat)) == label


def test_the_softmax_is_no_longer_a_bare_correlation(answer, lite0, cat):
    """Issue 16: the probability's gradient got only 'correlates 0.086'; now it is named."""
    g = _tape(lite0, cat[None], lambda p: p[:, TABBY]).numpy()[0]
    assert "probability" in answer.mistake(g).label and "logit" in answer.mistake(g).fix


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, label in MISTAKES})) == []
