"""Notebook 09's hands-on check (Spearman's rank correlation by hand): each mistake a student
makes, written as student code, is named; several correct forms pass. The maps are the signed
gradient of the real model for the cat, trained and with its logits randomized (seed 0), as
in the notebook: about half of their pixels are negative, so a forgotten abs shows."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import rankdata

from helpers.evaluation.randomization import cascading_randomization, layer_groups
from helpers.hands_on.spearman import spearman_answer
from helpers.methods.gradients import vanilla_gradients
from helpers.methods.maps import reduce_channels
from helpers.models.scores import top_k
from tests.hands_on_cases import unlisted_mistakes, verdict


def signed_gradient(net, image, cls):
    return reduce_channels(vanilla_gradients(net, image, cls), "sum")


@pytest.fixture(scope="module")
def maps(lite0, cat):
    logits = [name for name, _ in layer_groups(lite0)][:1]
    cls = top_k(lite0, cat, k=1)[0][0]
    run = cascading_randomization(
        lite0,
        cat,
        cls,
        {"g": signed_gradient},
        stages=logits,
        seed=0,
        in_place=True,
        progress=False,
    )
    return run.maps["g"]


def test_the_maps_have_both_signs(maps):
    for m in maps:
        assert 0.3 < (m < 0).mean() < 0.7


# Student code: rho from the two maps, each the way a student writes it.
def right_rankdata(a, b):
    return np.corrcoef(rankdata(np.abs(a).ravel()), rankdata(np.abs(b).ravel()))[0, 1]


def right_spearmanr(a, b):
    return stats.spearmanr(np.abs(a).flatten(), np.abs(b).flatten()).statistic


def right_pandas(a, b):
    return pd.Series(np.abs(a).ravel()).corr(pd.Series(np.abs(b).ravel()), method="spearman")


def right_argsort_twice(a, b):
    ra = np.argsort(np.argsort(np.abs(a).ravel()))
    rb = np.argsort(np.argsort(np.abs(b).ravel()))
    return float(np.corrcoef(ra, rb)[0, 1])


def right_descending_float32(a, b):
    ra = rankdata(-np.abs(a).reshape(-1)).astype(np.float32)
    rb = rankdata(-np.abs(b).reshape(-1)).astype(np.float32)
    return np.corrcoef(ra, rb)[0][1]


@pytest.mark.parametrize(
    "student",
    [right_rankdata, right_spearmanr, right_pandas, right_argsort_twice, right_descending_float32],
)
def test_correct_forms_pass(student, maps):
    assert verdict(spearman_answer(*maps), student(*maps)) == "correct", student.__name__


def _ranks(m):
    return rankdata(np.abs(m).ravel())


MISTAKES = [  # (student code, the mistake it must be named as)
    (
        lambda a, b: np.corrcoef(rankdata(a.ravel()), rankdata(b.ravel()))[0, 1],
        "the ranks of the signed values, not of |a| and |b|",
    ),
    (
        lambda a, b: stats.spearmanr(a.ravel(), b.ravel())[0],
        "the ranks of the signed values, not of |a| and |b|",
    ),
    (
        lambda a, b: np.corrcoef(np.abs(a).ravel(), np.abs(b).ravel())[0, 1],
        "Pearson's correlation of |a| and |b|, not of their ranks",
    ),
    (
        lambda a, b: stats.pearsonr(np.abs(a).ravel(), np.abs(b).ravel())[0],
        "Pearson's correlation of |a| and |b|, not of their ranks",
    ),
    (
        lambda a, b: np.corrcoef(a.ravel(), b.ravel())[0, 1],
        "Pearson's correlation of the signed maps (no ranks, no abs)",
    ),
    (
        lambda a, b: np.corrcoef(_ranks(a), _ranks(a))[0, 1],
        "exactly 1: the same map ranked twice, or the diagonal [0, 0] of np.corrcoef",
    ),
    (
        lambda a, b: np.corrcoef(_ranks(a), _ranks(b))[0, 0],
        "exactly 1: the same map ranked twice, or the diagonal [0, 0] of np.corrcoef",
    ),
    (
        lambda a, b: np.corrcoef(
            rankdata(np.abs(a), axis=1).ravel(), rankdata(np.abs(b), axis=1).ravel()
        )[0, 1],
        "the pixels ranked within each row, not over the whole map",
    ),
    (
        lambda a, b: np.corrcoef(
            np.argsort(np.argsort(np.abs(a))), np.argsort(np.argsort(np.abs(b)))
        )[0, 1],
        "np.corrcoef of two 2-D arrays: its [0, 1] correlates two rows of the first map",
    ),
    (
        lambda a, b: np.corrcoef(np.argsort(np.abs(a).ravel()), np.argsort(np.abs(b).ravel()))[
            0, 1
        ],
        "np.argsort once: the order of the pixels, not their ranks",
    ),
    (
        lambda a, b: stats.kendalltau(np.abs(a).ravel(), np.abs(b).ravel()).statistic,
        "Kendall's tau instead of Spearman's rho",
    ),
    (
        lambda a, b: np.cov(_ranks(a), _ranks(b))[0, 1],
        "the covariance of the ranks, not their correlation",
    ),
    (lambda a, b: np.corrcoef(_ranks(a), _ranks(b)), "the whole 2 x 2 matrix of np.corrcoef"),
    (
        lambda a, b: stats.spearmanr(np.abs(a).ravel(), np.abs(b).ravel()),
        "the whole result of spearmanr (the statistic and its p-value)",
    ),
]


@pytest.mark.parametrize(("student", "label"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_each_mistake_is_named(student, label, maps):
    assert verdict(spearman_answer(*maps), student(*maps)) == label


def test_the_forgotten_abs_passes_on_maps_that_are_already_absolute(maps):
    """Why the hands-on cell uses signed maps: on |maps| (the sanity check's own) it passes."""
    a, b = (np.abs(m) for m in maps)
    no_abs = np.corrcoef(rankdata(a.ravel()), rankdata(b.ravel()))[0, 1]
    assert verdict(spearman_answer(a, b), no_abs) == "correct"


def test_a_wrong_number_of_the_right_sign_gets_no_factor_diagnosis(maps):
    said = verdict(spearman_answer(*maps), right_rankdata(*maps) * 1.014)
    assert said.startswith("wrong: answer: none of the usual mistakes") and "times" not in said


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes(sorted({label for _, label in MISTAKES})) == []
