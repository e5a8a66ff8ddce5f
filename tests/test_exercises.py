"""The hands-on cells' check names the mistake; the solution switch is one variable."""

import numpy as np
import pytest

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError, check_answer, solution_mode

EXPECTED = np.linspace(-1.0, 2.0, 12).reshape(3, 4)


def test_correct_answer_passes(capsys):
    check_answer("gradient", EXPECTED + 1e-9, EXPECTED)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("placeholder", [None, ...])
def test_placeholder_is_not_done(placeholder):
    with pytest.raises(ExerciseNotDoneError, match="write your code"):
        check_answer("gradient", placeholder, EXPECTED)


@pytest.mark.parametrize(
    ("yours", "words"),
    [
        (-EXPECTED, "sign flipped"),
        (EXPECTED / 255, "times 0.003922"),
        (np.zeros_like(EXPECTED), "all zeros"),
        (EXPECTED[None], "extra axis of size 1"),
        (EXPECTED.T, "shape (4, 3)"),
        (np.full_like(EXPECTED, np.nan), "NaN"),
        (EXPECTED + 0.05 * np.sin(np.arange(12)).reshape(3, 4), "correlates 0.99"),
        ("abc", "array of numbers"),
    ],
)
def test_wrong_answers_are_named(yours, words):
    with pytest.raises(WrongAnswerError, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_answer("gradient", yours, EXPECTED)


def test_solution_mode_reads_one_variable(monkeypatch):
    monkeypatch.delenv("COURSE_SOLUTION", raising=False)
    assert not solution_mode()
    monkeypatch.setenv("COURSE_SOLUTION", "1")
    assert solution_mode()
    monkeypatch.setenv("COURSE_SOLUTION", "0")
    assert not solution_mode()


def test_load_solutions_names_the_missing_file():
    from helpers.exercises import load_solutions

    with pytest.raises(FileNotFoundError, match="no solutions file"):
        load_solutions("no_such_notebook")
