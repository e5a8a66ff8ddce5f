"""Notebook 08's hands-on cell: Shapley values by enumeration, for a game of a few players.

The student gets ``v``, a dict from each coalition (a ``frozenset`` of players) to its value,
and writes the Shapley value of every player,

    phi_i = sum over S not containing i of |S|! (M - |S| - 1)! / M! * (v(S + i) - v(S)).

The catalogue names what goes wrong most often: the weight forgotten (every subset counted
alike: the Banzhaf value, or a plain sum), a marginal contribution taken against one coalition
only (the empty one, or all the others: that is occlusion), an off-by-one in the weight, and
the difference taken the wrong way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import comb, factorial

import numpy as np

from ..exercises import Answer, Mistake
from ..methods.kernel_shap import all_coalitions, shapley_values


def quadrant_game(model, image: np.ndarray, class_index: int) -> tuple[dict, np.ndarray]:
    """The game of the hands-on cell: four players, the image's quadrants (0 top left,
    1 top right, 2 bottom left, 3 bottom right); v(S) is the class logit of the image with the
    quadrants in S kept and the others filled with ImageNet's mean colour.

    Returns ``(v, copies)``: ``v[frozenset(S)]`` and the 16 images, in
    :func:`~helpers.methods.kernel_shap.all_coalitions` order."""
    from ..methods.perturbation import class_scores, coalition_images, removed_image

    height, width = image.shape[:2]
    quadrants = np.zeros((height, width), int)
    quadrants[:, width // 2 :] += 1
    quadrants[height // 2 :] += 2
    rows = all_coalitions(4)
    copies = coalition_images(image, removed_image(image, "mean"), quadrants, rows)
    logits = class_scores(model, copies, class_index, "logit")
    kept = [frozenset(np.flatnonzero(row).tolist()) for row in rows]
    v = {players: float(x) for players, x in zip(kept, logits, strict=True)}
    return v, copies


def game_values(v: Mapping[frozenset, float], players: int) -> np.ndarray:
    """The 2^M values of ``v`` in :func:`~helpers.methods.kernel_shap.all_coalitions` order."""
    rows = all_coalitions(players)
    return np.array([float(v[frozenset(np.flatnonzero(row).tolist())]) for row in rows])


def _weighted(values: np.ndarray, players: int, weight) -> np.ndarray:
    """sum over S not containing i of weight(|S|) * (v(S + i) - v(S)), for every player i."""
    rows = np.arange(2**players)
    sizes = all_coalitions(players).sum(axis=1)
    phi = np.zeros(players)
    for i in range(players):
        without = rows[(rows >> i) & 1 == 0]
        gains = values[without | (1 << i)] - values[without]
        phi[i] = sum(weight(int(s)) * g for s, g in zip(sizes[without], gains, strict=True))
    return phi


def shapley_answer(v: Mapping[frozenset, float], players: int) -> Answer:
    """The expected Shapley values of the game ``v`` and the catalogue of mistakes (only those
    that change the result on this game)."""
    values = game_values(v, players)
    m = players
    expected = shapley_values(values, m)
    full, empty = 2**m - 1, 0
    single = np.array([values[1 << i] - values[empty] for i in range(m)])
    last = np.array([values[full] - values[full & ~(1 << i)] for i in range(m)])
    mistakes = [
        Mistake(
            "every subset weighted alike (that is the Banzhaf value): the Shapley weight "
            "|S|! (M - |S| - 1)! / M! is missing",
            _weighted(values, m, lambda s: 1 / 2 ** (m - 1)),
            "Weight each marginal contribution by |S|! (M - |S| - 1)! / M!.",
        ),
        Mistake(
            "the marginal contributions summed without any weight",
            _weighted(values, m, lambda s: 1.0),
            "Weight each marginal contribution by |S|! (M - |S| - 1)! / M!.",
        ),
        Mistake(
            "only the contribution to the empty coalition, v({i}) - v({})",
            single,
            "Average over every coalition S without i, not only the empty one.",
        ),
        Mistake(
            "only the contribution to all the others, v(N) - v(N - {i}): that is occlusion",
            last,
            "Average over every coalition S without i, not only the largest one.",
        ),
        Mistake(
            "an off-by-one in the weight: |S|! (M - |S|)! / M! instead of "
            "|S|! (M - |S| - 1)! / M!",
            _weighted(values, m, lambda s: factorial(s) * factorial(m - s) / factorial(m)),
            "The coalitions without i have at most M - 1 players: (M - |S| - 1)!.",
        ),
        Mistake(
            "an off-by-one in the weight: 1 / (M C(M, |S|)) instead of 1 / (M C(M - 1, |S|))",
            _weighted(values, m, lambda s: 1 / (m * comb(m, s))),
            "S is chosen among the M - 1 other players: C(M - 1, |S|).",
        ),
        Mistake(
            "the difference the wrong way round, v(S) - v(S + {i})",
            -expected,
            "A marginal contribution is v(S + {i}) - v(S): with i minus without.",
        ),
    ]
    reference = Answer(expected)
    distinct = [x for x in mistakes if not reference.matches(np.asarray(x.value, np.float64))]
    return Answer(
        expected,
        distinct,
        correct=[expected.astype(np.float32)],
        hint="For each player i: loop over the coalitions S without i, weight "
        "v(S + {i}) - v(S) by |S|! (M - |S| - 1)! / M!, and sum.",
    )
