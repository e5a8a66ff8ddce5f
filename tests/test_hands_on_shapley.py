"""Notebook 08's hands-on check (Shapley values by enumeration): each typical mistake, written
as student code, is named; several correct forms pass. On the real model's quadrant game."""

from itertools import combinations, permutations
from math import comb, factorial

import numpy as np
import pytest

from helpers.exercises import ExerciseNotDoneError, WrongAnswerError, check_answer
from helpers.hands_on.shapley import quadrant_game, shapley_answer
from helpers.methods.kernel_shap import shapley_values
from tests.hands_on_cases import unlisted_mistakes, verdict

M = 4
EGYPTIAN_CAT = 285


@pytest.fixture(scope="module")
def game(lite0, cat):
    v, copies = quadrant_game(lite0, cat, EGYPTIAN_CAT)
    assert len(v) == 16 and copies.shape == (16, 224, 224, 3)
    return v


def others(i):
    return [p for p in range(M) if p != i]


# Correct forms, the way students write them.
def right_subsets(v):
    phi = np.zeros(M)
    for i in range(M):
        for size in range(M):
            for s in combinations(others(i), size):
                w = factorial(size) * factorial(M - size - 1) / factorial(M)
                phi[i] += w * (v[frozenset(s) | {i}] - v[frozenset(s)])
    return phi


def right_permutations(v):
    phi = np.zeros(M)
    orders = list(permutations(range(M)))
    for order in orders:
        before = frozenset()
        for player in order:
            phi[player] += v[before | {player}] - v[before]
            before = before | {player}
    return phi / len(orders)


def right_binomial_list(v):
    return [
        sum(
            (v[frozenset(s) | {i}] - v[frozenset(s)]) / (M * comb(M - 1, len(s)))
            for size in range(M)
            for s in combinations(others(i), size)
        )
        for i in range(M)
    ]


def right_coalitions_containing_i(v):
    phi = np.zeros(M, np.float32)
    for i in range(M):
        for size in range(1, M + 1):
            for s in combinations(range(M), size):
                if i in s:
                    w = factorial(size - 1) * factorial(M - size) / factorial(M)
                    phi[i] += w * (v[frozenset(s)] - v[frozenset(s) - {i}])
    return phi


def right_kernel_regression(v):
    """Lundberg & Lee: the Shapley-kernel weighted least squares on all coalitions."""
    rows = [np.array([p in s for p in range(M)], float) for s in map(frozenset, _all())]
    sizes = [int(r.sum()) for r in rows]
    w = [1e9 if k in (0, M) else (M - 1) / (comb(M, k) * k * (M - k)) for k in sizes]
    x = np.column_stack([np.ones(len(rows)), np.array(rows)])
    y = np.array([v[frozenset(s)] for s in _all()])
    root = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(x * root, y * root[:, 0], rcond=None)[0]
    return coef[1:]


def _all():
    return [c for size in range(M + 1) for c in combinations(range(M), size)]


@pytest.mark.parametrize(
    "student",
    [right_subsets, right_permutations, right_binomial_list, right_coalitions_containing_i,
     right_kernel_regression],
)
def test_correct_forms_pass(student, game):
    assert verdict(shapley_answer(game, M), student(game)) == "correct", student.__name__


def banzhaf(v):
    return np.array([
        np.mean([v[frozenset(s) | {i}] - v[frozenset(s)]
                 for size in range(M) for s in combinations(others(i), size)])
        for i in range(M)
    ])


def plain_sum(v):
    return np.array([
        sum(v[frozenset(s) | {i}] - v[frozenset(s)]
            for size in range(M) for s in combinations(others(i), size))
        for i in range(M)
    ])


def weighted(weight):
    def student(v):
        return np.array([
            sum(weight(size) * (v[frozenset(s) | {i}] - v[frozenset(s)])
                for size in range(M) for s in combinations(others(i), size))
            for i in range(M)
        ])
    return student


MISTAKES = [
    (banzhaf, "every subset weighted alike (that is the Banzhaf value): the Shapley weight "
              "|S|! (M - |S| - 1)! / M! is missing"),
    (plain_sum, "the marginal contributions summed without any weight"),
    (lambda v: np.array([v[frozenset({i})] - v[frozenset()] for i in range(M)]),
     "only the contribution to the empty coalition, v({i}) - v({})"),
    (lambda v: np.array([v[frozenset(range(M))] - v[frozenset(others(i))] for i in range(M)]),
     "only the contribution to all the others, v(N) - v(N - {i}): that is occlusion"),
    (weighted(lambda s: factorial(s) * factorial(M - s) / factorial(M)),
     "an off-by-one in the weight: |S|! (M - |S|)! / M! instead of |S|! (M - |S| - 1)! / M!"),
    (weighted(lambda s: 1 / (M * comb(M, s))),
     "an off-by-one in the weight: 1 / (M C(M, |S|)) instead of 1 / (M C(M - 1, |S|))"),
    (lambda v: -right_subsets(v), "the difference the wrong way round, v(S) - v(S + {i})"),
]


@pytest.mark.parametrize(("student", "label"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_each_mistake_is_named(student, label, game):
    assert verdict(shapley_answer(game, M), student(game)) == label


def test_every_catalogued_mistake_changes_the_result_here(game):
    """The catalogue drops a mistake that coincides with the answer on a game; on the real
    model's quadrant game none does (the quadrants interact: the game is far from additive)."""
    answer = shapley_answer(game, M)
    assert len(answer.mistakes) == len(MISTAKES)
    values = np.array([game[frozenset(s)] for s in _all()])
    assert np.ptp(values) > 1.0


def test_the_check_cell(game, capsys):
    expected = shapley_values(np.array([game[frozenset(np.flatnonzero([(r >> k) & 1 for k in
                                        range(M)]).tolist())] for r in range(16)]), M)
    answer = shapley_answer(game, M)
    with pytest.raises(ExerciseNotDoneError):
        check_answer("phi", ..., answer.expected, mistakes=answer.mistakes)
    with pytest.raises(WrongAnswerError, match="phi: only the contribution to the empty"):
        check_answer("phi", MISTAKES[2][0](game), answer.expected, mistakes=answer.mistakes)
    check_answer("phi", right_subsets(game), expected, mistakes=answer.mistakes)
    assert "phi: correct" in capsys.readouterr().out


def test_every_mistake_is_listed_in_instructors_md():
    assert unlisted_mistakes([label for _, label in MISTAKES]) == []
