"""The hands-on cells' check names the mistake; the solution switch is one variable."""

import numpy as np
import pytest

from helpers.exercises import (
    Answer,
    ExerciseNotDoneError,
    Mistake,
    WrongAnswerError,
    answered,
    check_answer,
    check_answers,
    solution_mode,
)

EXPECTED = np.linspace(-1.0, 2.0, 12).reshape(3, 4)


def _message(answer: Answer, yours) -> str:
    with pytest.raises(WrongAnswerError) as info:
        answer.check("x", yours)
    return str(info.value)


def test_correct_answer_passes(capsys):
    check_answer("gradient", EXPECTED + 1e-9, EXPECTED)
    assert "correct" in capsys.readouterr().out


def test_float32_rounding_of_a_float64_result_passes():
    check_answer("gradient", EXPECTED.astype(np.float32), EXPECTED)


def test_the_placeholder_is_not_done_but_none_is_an_answer():
    assert not answered(...) and answered(None) and answered(0)
    with pytest.raises(ExerciseNotDoneError, match="write your code"):
        check_answer("gradient", ..., EXPECTED)
    with pytest.raises(WrongAnswerError, match="produced None"):
        check_answer("gradient", None, EXPECTED)


@pytest.mark.parametrize(
    ("yours", "words"),
    [
        (-EXPECTED, "sign flipped"),
        (np.zeros_like(EXPECTED), "all zeros"),
        (EXPECTED[None], "batch axis; take the one image with [0]"),
        (EXPECTED[..., None], "trailing axis of size 1; drop it with [..., 0]"),
        (EXPECTED.T, "axes swapped"),
        (EXPECTED.sum(), "a single number where an array was expected"),
        (np.full_like(EXPECTED, np.nan), "NaN"),
        (EXPECTED + 0.05 * np.sin(np.arange(12)).reshape(3, 4), "correlates 0.99"),
        ("abc", "array of numbers"),
    ],
)
def test_generic_differences_are_named(yours, words):
    with pytest.raises(WrongAnswerError) as info:
        check_answer("gradient", yours, EXPECTED)
    assert words in str(info.value)


def test_no_trailing_axis_fix_is_offered_as_a_batch_index():
    message = _message(Answer(EXPECTED), EXPECTED[..., None])
    assert "[0]" not in message


def test_a_constant_factor_is_named_only_where_the_cell_says_it_is_plausible():
    assert "times" not in _message(Answer(EXPECTED), EXPECTED / 255)
    message = _message(Answer(EXPECTED, scale_hint="1/n or 255?"), EXPECTED / 255)
    assert "times 0.003922 (1/n or 255?)" in message


def test_a_catalogued_mistake_is_named_with_its_fix():
    relu = np.maximum(EXPECTED, 0)
    answer = Answer(relu, mistakes=[Mistake("no ReLU", EXPECTED, "np.maximum(s, 0)")])
    assert _message(answer, EXPECTED.astype(np.float32)) == "x: no ReLU. np.maximum(s, 0)"
    answer.check("x", relu)


def test_a_none_mistake_matches_code_that_returned_none():
    answer = Answer(EXPECTED, mistakes=[Mistake("the tape did not watch x", None, "tape.watch(x)")])
    assert "the tape did not watch x" in _message(answer, None)


def test_mistakes_are_matched_with_the_answer_tolerance_only():
    near = EXPECTED * 1.01
    answer = Answer(EXPECTED, mistakes=[Mistake("one percent", near)])
    assert "one percent" in _message(answer, near + 1e-7)
    assert "one percent" not in _message(answer, EXPECTED * 1.02)


def test_correct_forms_widen_the_tolerance_to_cover_them():
    jitter = EXPECTED + 0.01  # e.g. a ReLU flipped by one ulp in sigma
    strict = Answer(EXPECTED)
    assert "none of the usual mistakes" in _message(strict, jitter)
    Answer(EXPECTED, correct=[jitter]).check("x", jitter)
    Answer(EXPECTED, correct=[jitter]).check("x", EXPECTED - 0.02)  # within 3x the spread
    assert "none" in _message(Answer(EXPECTED, correct=[jitter]), EXPECTED + 0.05)


def test_a_correct_form_of_another_shape_is_a_catalogue_bug():
    with pytest.raises(ValueError, match="correct form has shape"):
        Answer(EXPECTED, correct=[EXPECTED[0]]).check("x", EXPECTED)


def test_check_answers_stops_at_the_first_wrong_answer(capsys):
    catalogue = {"a": Answer(1.0), "b": Answer(2.0)}
    check_answers(catalogue, a=1.0, b=2.0)
    assert capsys.readouterr().out.count("correct") == 2
    with pytest.raises(WrongAnswerError, match="^a: "):
        check_answers(catalogue, a=3.0, b=5.0)


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
