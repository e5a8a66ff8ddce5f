"""Notebook 09's hands-on cell: Spearman's rank correlation of |a| and |b|, by hand.

The student ranks the absolute values of two (H, W) maps and correlates the ranks; the check
compares the number with the library's (:func:`helpers.evaluation.randomization.map_similarity`,
which the sanity-check table uses). The maps are **signed** (the gradient summed over the
colour channels: about half of the pixels are negative), so that ranking the signed values
instead of their magnitudes changes the result; on the sanity check's own maps, already
absolute values, a forgotten ``abs`` would pass unnoticed.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau, rankdata, spearmanr

from ..evaluation.randomization import map_similarity
from ..exercises import Answer, Mistake


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def _row_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks within each row (what argsort on a 2-D map gives)."""
    return rankdata(values, axis=-1)


def spearman_answer(a: np.ndarray, b: np.ndarray) -> Answer:
    """The catalogue for two (H, W) maps: the expected Spearman correlation of |a| and |b|,
    its other correct forms, and the mistakes that change it for these maps."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    abs_a, abs_b = np.abs(a).ravel(), np.abs(b).ravel()
    ranks_a, ranks_b = rankdata(abs_a), rankdata(abs_b)
    expected = map_similarity(a, b)["spearman_abs"]
    ordinal = _corr(np.argsort(np.argsort(abs_a)), np.argsort(np.argsort(abs_b)))
    mistakes = [
        Mistake(
            "the ranks of the signed values, not of |a| and |b|",
            _corr(rankdata(a.ravel()), rankdata(b.ravel())),
            "Rank the magnitudes: rankdata(np.abs(a).ravel()); a strongly negative pixel "
            "matters as much as a strongly positive one.",
        ),
        Mistake(
            "Pearson's correlation of |a| and |b|, not of their ranks",
            _corr(abs_a, abs_b),
            "Spearman's rho is Pearson's correlation of the *ranks*: rank both maps first.",
        ),
        Mistake(
            "Pearson's correlation of the signed maps (no ranks, no abs)",
            _corr(a.ravel(), b.ravel()),
            "Rank |a| and |b| (flattened), then correlate the two rank arrays.",
        ),
        Mistake(
            "exactly 1: the same map ranked twice, or the diagonal [0, 0] of np.corrcoef",
            1.0,
            "Correlate the ranks of |a| with the ranks of |b|: np.corrcoef(ranks_a, "
            "ranks_b)[0, 1].",
        ),
        Mistake(
            "the pixels ranked within each row, not over the whole map",
            _corr(_row_ranks(np.abs(a)).ravel(), _row_ranks(np.abs(b)).ravel()),
            "Flatten each map first (.ravel()), then rank: one ranking of all H x W pixels.",
        ),
        Mistake(
            "np.corrcoef of two 2-D arrays: its [0, 1] correlates two rows of the first map",
            _corr(_row_ranks(np.abs(a)), _row_ranks(np.abs(b))),
            "np.corrcoef treats each row of a 2-D array as a variable: pass flat arrays "
            "(.ravel()).",
        ),
        Mistake(
            "np.argsort once: the order of the pixels, not their ranks",
            _corr(np.argsort(abs_a), np.argsort(abs_b)),
            "argsort gives the indices that sort the map; the ranks are rankdata(...) or "
            "np.argsort(np.argsort(...)).",
        ),
        Mistake(
            "Kendall's tau instead of Spearman's rho",
            float(kendalltau(abs_a, abs_b)[0]),
            "Spearman's rho is Pearson's correlation of the ranks: np.corrcoef(ranks_a, "
            "ranks_b)[0, 1].",
        ),
        Mistake(
            "the covariance of the ranks, not their correlation",
            float(np.cov(ranks_a, ranks_b)[0, 1]),
            "np.corrcoef (not np.cov) divides by both standard deviations.",
        ),
        Mistake(
            "the whole 2 x 2 matrix of np.corrcoef",
            np.corrcoef(ranks_a, ranks_b),
            "Take the off-diagonal entry: np.corrcoef(ranks_a, ranks_b)[0, 1].",
        ),
        Mistake(
            "the whole result of spearmanr (the statistic and its p-value)",
            np.array(tuple(spearmanr(abs_a, abs_b))),
            "Take the statistic: spearmanr(...).statistic (or [0]).",
        ),
    ]
    reference = Answer(expected)
    distinct = [
        m
        for m in mistakes
        if np.shape(m.value) != () or not reference.matches(np.asarray(m.value, np.float64))
    ]
    return Answer(
        expected,
        distinct,
        correct=[_corr(ranks_a, ranks_b), ordinal],
        hint="Rank np.abs(a).ravel() and np.abs(b).ravel() (rankdata), then "
        "np.corrcoef(ranks_a, ranks_b)[0, 1].",
    )
