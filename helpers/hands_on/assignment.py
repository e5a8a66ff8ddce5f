"""Notebook 11's hands-on cell: which methods beat the random map on both scores.

The student writes ``beats_random(table, random_map)``: one True/False per row of
``table`` (the methods' rows of the comparison table), True when the method's deletion
AUC is lower than the random map's *and* its insertion AUC higher. The check runs it on
the notebook's own table and on :data:`TEST_TABLE`, a small table made so that every
catalogued mistake changes the answer: on a real table several of them can agree with the
right one (when every method that wins deletion also wins insertion, ``|`` and ``&`` give
the same answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..exercises import Answer, Mistake, WrongAnswerError

#: Deletion and insertion AUCs that tell every mistake apart from the right answer, against
#: :data:`TEST_RANDOM`: each quadrant, a near miss, and a row between the two random scores.
TEST_TABLE = pd.DataFrame(
    {
        "deletion_auc": [0.10, 0.10, 0.30, 0.30, 0.25, 0.19],
        "insertion_auc": [0.50, 0.20, 0.50, 0.20, 0.25, 0.31],
    },
    index=pd.Index(
        ["wins_both", "wins_deletion", "wins_insertion", "wins_neither", "between", "near_miss"],
        name="method",
    ),
)
TEST_RANDOM = {"deletion_auc": 0.20, "insertion_auc": 0.30}


def _scores(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (
        table["deletion_auc"].to_numpy(np.float64),
        table["insertion_auc"].to_numpy(np.float64),
    )


def beats_random_answer(table: pd.DataFrame, random_map: Mapping) -> Answer:
    """The expected answer for one table and the catalogue of typical mistakes."""
    d, i = _scores(table)
    rd, ri = float(random_map["deletion_auc"]), float(random_map["insertion_auc"])
    expected = ((d < rd) & (i > ri)).astype(np.float64)
    first_d, first_i = d[0], i[0]
    with_random = np.append(expected, 0.0)  # the random map does not beat itself
    mistakes = [
        Mistake(
            "| (or) instead of & (and): one score better than the random map's is not enough",
            (d < rd) | (i > ri),
            "Combine the two comparisons with &.",
        ),
        Mistake(
            "deletion compared the wrong way: a lower deletion AUC is better",
            (d > rd) & (i > ri),
            "table['deletion_auc'] < random_map['deletion_auc'].",
        ),
        Mistake(
            "insertion compared the wrong way: a higher insertion AUC is better",
            (d < rd) & (i < ri),
            "table['insertion_auc'] > random_map['insertion_auc'].",
        ),
        Mistake(
            "both scores compared the wrong way round",
            (d > rd) & (i < ri),
            "Deletion: lower is better (<); insertion: higher is better (>).",
        ),
        Mistake(
            "deletion only: the insertion score is not used",
            d < rd,
            "A map must beat the random map on both scores.",
        ),
        Mistake(
            "insertion only: the deletion score is not used",
            i > ri,
            "A map must beat the random map on both scores.",
        ),
        Mistake(
            "the random map's two scores swapped",
            (d < ri) & (i > rd),
            "Compare deletion with random_map['deletion_auc'], insertion with "
            "random_map['insertion_auc'].",
        ),
        Mistake(
            "compared with the table's first row (a method), not with the random map",
            (d < first_d) & (i > first_i),
            "The line to beat is random_map, the random map's row.",
        ),
        Mistake(
            "compared with the table's average, not with the random map",
            (d < d.mean()) & (i > i.mean()),
            "The line to beat is random_map, the random map's row.",
        ),
        Mistake(
            "one entry per row of the full table, the random map's own row included",
            with_random,
            "Use the table you are given (the methods' rows): one entry per method.",
        ),
    ]
    return Answer(
        expected,
        [m for m in mistakes if not _same(m.value, expected)],
        hint="One True/False per method: (deletion lower) & (insertion higher) than "
        "random_map's.",
    )


def _same(value, expected: np.ndarray) -> bool:
    value = np.asarray(value, np.float64)
    return value.shape == expected.shape and bool(np.array_equal(value, expected))


def check_beats_random(
    beats_random: Callable, table: pd.DataFrame, random_map: Mapping
) -> np.ndarray:
    """Run the student's function on the notebook's table and on :data:`TEST_TABLE`; raise
    naming the mistake, or return its answer for the notebook's table."""
    cases = {"your table": (table, random_map), "a test table": (TEST_TABLE, TEST_RANDOM)}
    mine = None
    for where, (rows, line) in cases.items():
        yours = beats_random(rows.copy(), dict(line))
        try:
            beats_random_answer(rows, line).check("beats_random", yours)
        except WrongAnswerError as err:
            raise WrongAnswerError(f"on {where}, {err}") from None
        mine = yours if mine is None else mine
    return np.asarray(mine, dtype=bool)
