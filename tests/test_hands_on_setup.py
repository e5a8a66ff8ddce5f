"""Notebook 00's hands-on check: each mistake a student makes, written as student code, is
named; several correct forms pass (on the real model and the cat photo)."""

import numpy as np
import pytest
import tensorflow as tf

import helpers
from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.setup import check_tabby, tabby_catalogue
from tests.hands_on_cases import unlisted_mistakes, verdict


@pytest.fixture(scope="module")
def catalogue(lite0, cat):
    return tabby_catalogue(lite0, cat)


def _row(model, image, index):
    return next(row for row in helpers.top_k(model, image, k=1000) if row[0] == index)


def test_the_tabby_is_not_the_top_class_on_lite0(lite0, cat):
    """Why the example catches the most common mistake: the table's first row is not tabby."""
    assert [i for i, _, _ in helpers.top_k(lite0, cat, k=3)] == [285, 282, 281]


CORRECT_INDEX = [
    lambda m, x: helpers.find_class("tabby cat")[0][0],
    lambda m, x: helpers.find_class("tabby")[0][0],
    lambda m, x: np.int64(helpers.find_class("tabby cat")[0][0]),
    lambda m, x: float(helpers.find_class("tabby cat")[0][0]),
    lambda m, x: [i for i, name in helpers.find_class("cat") if name == "tabby"][0],
]
CORRECT_PROBABILITY = [
    lambda m, x: _row(m, x, 281)[2],
    lambda m, x: helpers.class_probability(m, x, 281),
    lambda m, x: float(m(x[None]).numpy()[0, 281]),
    lambda m, x: m.predict(x[None], verbose=0)[0][281],
    lambda m, x: tf.nn.softmax(helpers.predict_logits(m, x)[0]).numpy()[281],
    lambda m, x: {i: p for i, _, p in helpers.top_k(m, x, k=1000)}[281],
]


@pytest.mark.parametrize("student", CORRECT_INDEX)
def test_correct_indices_pass(student, catalogue, lite0, cat):
    assert verdict(catalogue["tabby_index"], student(lite0, cat)) == "correct"


@pytest.mark.parametrize("student", CORRECT_PROBABILITY)
def test_correct_probabilities_pass(student, catalogue, lite0, cat):
    assert verdict(catalogue["tabby_probability"], student(lite0, cat)) == "correct"


MISTAKES = [  # (answer, student code, the mistake it must be named as)
    ("tabby_index", lambda m, x: helpers.top_k(m, x)[0][0], "the top-1 class instead of tabby"),
    ("tabby_index", lambda m, x: 285, "the top-1 class instead of tabby"),
    ("tabby_index", lambda m, x: helpers.find_class("tiger cat")[0][0], "tiger cat, not tabby"),
    (
        "tabby_index",
        lambda m, x: [i for i, (c, _, _) in enumerate(helpers.top_k(m, x)) if c == 281][0],
        "a position in a list (a row of the table), not the class index",
    ),
    (
        "tabby_index",
        lambda m, x: 3,
        "a position in a list (a row of the table), not the class index",
    ),
    (
        "tabby_index",
        lambda m, x: _row(m, x, 281)[2],
        "the probability where the index belongs (the two answers swapped?)",
    ),
    (
        "tabby_probability",
        lambda m, x: helpers.top_k(m, x, k=1)[0][2],
        "the probability of the top-1 class, not of tabby",
    ),
    (
        "tabby_probability",
        lambda m, x: helpers.top_k(m, x, k=5)[1][2],
        "tiger cat's probability, not tabby's",
    ),
    (
        "tabby_probability",
        lambda m, x: helpers.predict_logits(m, x)[0, 281],
        "the logit (pre-softmax score) instead of the probability",
    ),
    (
        "tabby_probability",
        lambda m, x: 100 * _row(m, x, 281)[2],
        "a percentage instead of a probability in [0, 1]",
    ),
    ("tabby_probability", lambda m, x: 0.072, "rounded: typed in from the table?"),
    ("tabby_probability", lambda m, x: 0.07, "rounded: typed in from the table?"),
    (
        "tabby_probability",
        lambda m, x: sum(p for i, _, p in helpers.top_k(m, x) if i in {281, 282, 285}),
        "the total probability of the cat classes, not tabby's alone",
    ),
    (
        "tabby_probability",
        lambda m, x: helpers.find_class("tabby cat")[0][0],
        "the index where the probability belongs (the two answers swapped?)",
    ),
]


@pytest.mark.parametrize(("name", "student", "label"), MISTAKES, ids=[m[2][:40] for m in MISTAKES])
def test_each_mistake_is_named(name, student, label, catalogue, lite0, cat):
    assert verdict(catalogue[name], student(lite0, cat)) == label


RETURNED_OBJECTS = [  # what find_class or top_k returned, handed in as is
    (lambda m, x: helpers.find_class("tabby cat")[0], None, "find_class's (index, name) pair"),
    (lambda m, x: helpers.find_class("tabby cat"), None, "find_class's whole list of matches"),
    (lambda m, x: "tabby", None, "the class name instead of a number"),
    (lambda m, x: 281, lambda m, x: _row(m, x, 281), "a whole row of top_k"),
    (lambda m, x: 281, lambda m, x: helpers.top_k(m, x, k=1000), "top_k's whole list of rows"),
]


@pytest.mark.parametrize(("index", "probability", "words"), RETURNED_OBJECTS)
def test_returned_objects_are_named(index, probability, words, lite0, cat):
    p = probability(lite0, cat) if probability else _row(lite0, cat, 281)[2]
    with pytest.raises(WrongAnswerError) as info:
        check_tabby(lite0, cat, index(lite0, cat), p)
    assert words in str(info.value)


def test_check_names_the_answer_and_the_mistake(lite0, cat, capsys):
    with pytest.raises(WrongAnswerError, match="^tabby_index: the top-1 class instead of tabby"):
        check_tabby(lite0, cat, 285, 0.79)
    with pytest.raises(ExerciseNotDoneError, match="tabby_probability"):
        check_tabby(lite0, cat, 281, ...)
    check_tabby(lite0, cat, 281, helpers.class_probability(lite0, cat, 281))
    assert capsys.readouterr().out.count("correct") == 3  # the two above, then both


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, _, label in MISTAKES})) == []
