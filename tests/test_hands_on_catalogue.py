"""The shared steps of the hands-on catalogues (no model needed): mistakes that coincide with the
answer are dropped, a cheap first check gives the same verdict as the full catalogue, and the
correct forms' spread grows with the magnitude of a mistake it is compared with."""

import numpy as np
import pytest

from helpers.exercises import Answer, ExerciseNotDoneError, Mistake, WrongAnswerError
from helpers.hands_on.catalogue import check_lazily, distinct_mistakes, with_mistakes
from tests.hands_on_cases import verdict

RNG = np.random.default_rng(0)
EXPECTED = RNG.standard_normal((8, 8))
WOBBLE = 0.01 * RNG.standard_normal((8, 8))  # a correct form a few percent away, as a ReLU flip


def test_a_mistake_equal_to_the_answer_is_dropped():
    answer = Answer(EXPECTED, correct=[EXPECTED + WOBBLE])
    same = Mistake("coincides here", EXPECTED + 0.5 * WOBBLE)
    other = Mistake("changes the result", 2 * EXPECTED)
    unanswered = Mistake("returned nothing", None)
    assert distinct_mistakes(answer, [same, other, unanswered]) == [other, unanswered]
    assert [m.label for m in with_mistakes(answer, [same, other]).mistakes] == [
        "changes the result"
    ]


def test_the_spread_grows_with_a_larger_mistake():
    """A sum instead of a mean over n = 10 copies, computed with one correct form's wobble,
    is still named: the spread around it is ten times the spread around the answer."""
    answer = Answer(
        EXPECTED, [Mistake("the sum, not the mean", 10 * EXPECTED)], [EXPECTED + WOBBLE]
    )
    assert verdict(answer, 10 * (EXPECTED + WOBBLE)) == "the sum, not the mean"
    assert verdict(answer, EXPECTED + WOBBLE) == "correct"
    assert np.allclose(answer.allowed(), Answer(EXPECTED, correct=[EXPECTED + WOBBLE]).allowed())


def test_check_lazily_builds_the_catalogue_only_for_a_wrong_answer(capsys):
    built = []

    def catalogue():
        built.append(1)
        return {"a": Answer(EXPECTED, [Mistake("doubled", 2 * EXPECTED)], [EXPECTED + WOBBLE])}

    check_lazily({"a": EXPECTED}, catalogue, a=EXPECTED.astype(np.float32))
    assert capsys.readouterr().out.strip() == "a: correct" and not built
    check_lazily({"a": EXPECTED}, catalogue, a=EXPECTED + WOBBLE)  # correct, but only widened
    assert capsys.readouterr().out.strip() == "a: correct" and built == [1]
    with pytest.raises(WrongAnswerError, match="^a: doubled"):
        check_lazily({"a": EXPECTED}, catalogue, a=2 * EXPECTED)
    with pytest.raises(ExerciseNotDoneError):
        check_lazily({"a": EXPECTED}, catalogue, a=...)
