"""Notebook 11's hands-on check (`beats_random`): each mistake a student makes, written as
student code, is named; several correct forms pass. No model: a table like the
espresso's (measured with --fast) and the check's own test table."""

import re

import numpy as np
import pandas as pd
import pytest

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.assignment import (
    TEST_RANDOM,
    TEST_TABLE,
    beats_random_answer,
    check_beats_random,
)
from tests.hands_on_cases import unlisted_mistakes, verdict

#: The espresso's table from `explain --fast` (deletion, insertion) and its random map.
ESPRESSO = pd.DataFrame(
    {
        "deletion_auc": [0.130, 0.181, 0.052, 0.051, 0.063, 0.091, 0.043],
        "insertion_auc": [0.570, 0.213, 0.517, 0.148, 0.164, 0.527, 0.563],
    },
    index=pd.Index(["grad_cam", "vanilla_gradients", "smoothgrad", "integrated_gradients",
                    "gradient_x_input", "occlusion", "guided_backprop"], name="method"),
)  # fmt: skip
ESPRESSO_RANDOM = {"deletion_auc": 0.055, "insertion_auc": 0.207}


# Correct forms, as students write them.
def right_pandas(t, r):
    return (t["deletion_auc"] < r["deletion_auc"]) & (t["insertion_auc"] > r["insertion_auc"])


def right_numpy(t, r):
    return np.logical_and(t.deletion_auc.values < r["deletion_auc"],
                          t.insertion_auc.values > r["insertion_auc"])  # fmt: skip


def right_list(t, r):
    return [d < r["deletion_auc"] and i > r["insertion_auc"]
            for d, i in zip(t["deletion_auc"], t["insertion_auc"], strict=True)]  # fmt: skip


def right_methods(t, r):
    return t["deletion_auc"].lt(r["deletion_auc"]) & t["insertion_auc"].gt(r["insertion_auc"])


def right_query(t, r):
    keep = t.query("deletion_auc < @r['deletion_auc'] and insertion_auc > @r['insertion_auc']")
    return t.index.isin(keep.index)


CORRECT = [right_pandas, right_numpy, right_list, right_methods, right_query]

MISTAKES = [  # (student code, the mistake it must be named as)
    (lambda t, r: (t.deletion_auc < r["deletion_auc"]) | (t.insertion_auc > r["insertion_auc"]),
     "| (or) instead of & (and): one score better than the random map's is not enough"),
    (lambda t, r: (t.deletion_auc > r["deletion_auc"]) & (t.insertion_auc > r["insertion_auc"]),
     "deletion compared the wrong way: a lower deletion AUC is better"),
    (lambda t, r: (t.deletion_auc < r["deletion_auc"]) & (t.insertion_auc < r["insertion_auc"]),
     "insertion compared the wrong way: a higher insertion AUC is better"),
    (lambda t, r: (t.deletion_auc > r["deletion_auc"]) & (t.insertion_auc < r["insertion_auc"]),
     "both scores compared the wrong way round"),
    (lambda t, r: t["deletion_auc"] < r["deletion_auc"],
     "deletion only: the insertion score is not used"),
    (lambda t, r: t["insertion_auc"].values > r["insertion_auc"],
     "insertion only: the deletion score is not used"),
    (lambda t, r: (t.deletion_auc < r["insertion_auc"]) & (t.insertion_auc > r["deletion_auc"]),
     "the random map's two scores swapped"),
    (lambda t, r: (t.deletion_auc < t.deletion_auc.iloc[0])
     & (t.insertion_auc > t.insertion_auc.iloc[0]),
     "compared with the table's first row (a method), not with the random map"),
    (lambda t, r: (t.deletion_auc < t.deletion_auc.mean())
     & (t.insertion_auc > t.insertion_auc.mean()),
     "compared with the table's average, not with the random map"),
    (lambda t, r: right_pandas(pd.concat([t, pd.DataFrame([r], index=["random_map"])]), r),
     "one entry per row of the full table, the random map's own row included"),
]  # fmt: skip


@pytest.mark.parametrize("student", CORRECT, ids=[f.__name__ for f in CORRECT])
@pytest.mark.parametrize("table, line", [(ESPRESSO, ESPRESSO_RANDOM), (TEST_TABLE, TEST_RANDOM)])
def test_correct_forms_pass(student, table, line):
    assert verdict(beats_random_answer(table, line), student(table.copy(), line)) == "correct"


@pytest.mark.parametrize(("student", "label"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_each_mistake_is_named_on_the_test_table(student, label):
    answer = beats_random_answer(TEST_TABLE, TEST_RANDOM)
    assert verdict(answer, student(TEST_TABLE.copy(), TEST_RANDOM)) == label


def test_on_a_real_table_several_mistakes_agree_with_the_right_answer():
    """Why the check also runs the test table: on the espresso's table a student who wrote
    | or only one score would pass."""
    answer = beats_random_answer(ESPRESSO, ESPRESSO_RANDOM)
    missed = [
        label
        for student, label in MISTAKES
        if verdict(answer, student(ESPRESSO.copy(), ESPRESSO_RANDOM)) == "correct"
    ]
    assert missed, "the espresso's table tells every mistake apart: the test table is not needed"
    for student, label in MISTAKES:  # ... and the check as a whole still names each one
        named = f"^on (your table|a test table), beats_random: {re.escape(label)}"
        with pytest.raises(WrongAnswerError, match=named):
            check_beats_random(student, ESPRESSO, ESPRESSO_RANDOM)


def test_the_check_returns_the_answer_and_names_where_it_failed():
    on_both = check_beats_random(right_list, ESPRESSO, ESPRESSO_RANDOM)
    assert list(ESPRESSO.index[on_both]) == ["smoothgrad", "guided_backprop"]
    with pytest.raises(WrongAnswerError, match=r"^on a test table, beats_random: \| \(or\)"):
        check_beats_random(MISTAKES[0][0], ESPRESSO.iloc[[2, 6]], ESPRESSO_RANDOM)


def test_unfinished_and_odd_answers():
    with pytest.raises(ExerciseNotDoneError, match="write your code"):
        check_beats_random(lambda t, r: ..., ESPRESSO, ESPRESSO_RANDOM)
    with pytest.raises(WrongAnswerError, match="produced None"):
        check_beats_random(lambda t, r: None, ESPRESSO, ESPRESSO_RANDOM)
    with pytest.raises(WrongAnswerError, match="shape"):  # the rows themselves, not booleans
        check_beats_random(lambda t, r: t[right_pandas(t, r)], ESPRESSO, ESPRESSO_RANDOM)


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes([label for _, label in MISTAKES]) == []
