"""Notebook 01's hands-on check: each GradientTape mistake, written as student code, is named;
several correct forms pass (on the notebook's digits and logistic regression)."""

import keras
import pytest
import tensorflow as tf

from helpers.hands_on.linear_models import gradient_catalogue
from tests.hands_on_cases import unlisted_mistakes, verdict

CLASS = 5


@pytest.fixture(scope="module")
def setup():
    """The notebook's split, fit and Keras copy of the linear model (cells 01-004 to 01-014)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    x_train, x_test, y_train, _ = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    clf = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    weights, bias = clf.coef_.T.astype("float32"), clf.intercept_.astype("float32")
    inputs = keras.Input(shape=(64,), name="pixels")
    linear = keras.Model(inputs, keras.layers.Dense(10, name="logits")(inputs))
    linear.get_layer("logits").set_weights([weights, bias])
    return linear, x_test[:1], weights


@pytest.fixture(scope="module")
def answer(setup):
    linear, x, weights = setup
    return gradient_catalogue(linear, x, CLASS, weights)["grad_5"]


def right_watch(linear, x_np):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = linear(x)[0, 5]
    return tape.gradient(score, x).numpy()[0]


def right_variable(linear, x_np):
    x = tf.Variable(x_np)  # a Variable is watched without tape.watch
    with tf.GradientTape() as tape:
        score = linear(x)[:, 5]
    return tape.gradient(score, x)[0].numpy()


def right_float64(linear, x_np):
    x = tf.constant(x_np.astype("float64"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.reduce_sum(linear(x)[:, 5])
    return tape.gradient(score, x).numpy()[0]


def right_jacobian(linear, x_np):
    x = tf.convert_to_tensor(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = linear(x)
    return tape.jacobian(scores, x).numpy()[0, 5, 0]


def right_tensor_not_numpy(linear, x_np):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = linear(x)[0][5]
    return tape.gradient(score, x)[0]  # an EagerTensor: the check converts it


@pytest.mark.parametrize(
    "student", [right_watch, right_variable, right_float64, right_jacobian, right_tensor_not_numpy]
)
def test_correct_forms_pass(student, setup, answer):
    linear, x, _ = setup
    assert verdict(answer, student(linear, x)) == "correct"


def unwatched(linear, x_np):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        score = linear(x)[0, 5]
    return tape.gradient(score, x)


def score_outside_the_tape(linear, x_np):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
    score = linear(x)[0, 5]
    return tape.gradient(score, x)


def softmax(linear, x_np):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
        p = tf.nn.softmax(linear(x))[0, 5]
    return tape.gradient(p, x).numpy()[0]


def other_class(c):
    def student(linear, x_np):
        x = tf.constant(x_np)
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = linear(x)[0, c]
        return tape.gradient(score, x).numpy()[0]

    return student


def batch_axis(linear, x_np):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = linear(x)[0, 5]
    return tape.gradient(score, x).numpy()


def all_scores(linear, x_np, keep_batch=False):
    x = tf.constant(x_np)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = linear(x)
    g = tape.gradient(scores, x).numpy()
    return g if keep_batch else g[0]


def weights_gradient(linear, x_np):
    with tf.GradientTape() as tape:
        score = linear(tf.constant(x_np))[0, 5]
    return tape.gradient(score, linear.trainable_weights)[0].numpy()


def the_score(linear, x_np):
    return linear(tf.constant(x_np)).numpy()[0, 5]


MISTAKES = [  # (student code, the mistake it must be named as)
    (unwatched, "the tape did not watch x (tape.gradient returned None)"),
    (score_outside_the_tape, "the tape did not watch x (tape.gradient returned None)"),
    (softmax, "the gradient of the softmax probability, not of the score"),
    (other_class(2), "the gradient of another class's score"),  # the image's own label
    (other_class(4), "the gradient of another class's score"),
    (batch_axis, "the batch axis kept: shape (1, 64)"),
    (all_scores, "the gradient of the sum of all ten scores"),
    (lambda m, x: all_scores(m, x, keep_batch=True), "the gradient of the sum of all ten scores"),
    (weights_gradient, "the gradient with respect to the weights, not the input"),
    (the_score, "the score itself, not its gradient"),
]


@pytest.mark.parametrize(("student", "label"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_each_mistake_is_named(student, label, setup, answer):
    linear, x, _ = setup
    assert verdict(answer, student(linear, x)) == label


def test_the_fix_of_a_wrong_class_names_it(setup, answer):
    linear, x, _ = setup
    found = answer.mistake(other_class(2)(linear, x))
    assert "class 2's score" in found.fix


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, label in MISTAKES})) == []
