"""KernelSHAP on superpixels (Lundberg & Lee, 2017): Shapley values of image regions.

The players are the image's superpixels; a coalition S is a copy of the image with the
superpixels in S kept and the others taken from the baseline, and v(S) is the model's class
score on it. A superpixel's Shapley value is its average marginal contribution,

    phi_i = sum over S not containing i of |S|! (M - |S| - 1)! / M! * (v(S + i) - v(S)),

and the values add up exactly: sum_i phi_i = v(all) - v(none) = f(x) - f(baseline)
(*efficiency*, the property Integrated Gradients calls completeness).

* With few superpixels (when all 2^M coalitions cost no more forward passes than the
  ``samples`` budget, e.g. M <= 9 at 1000) the values are **exact**: every coalition is
  scored and the formula above is summed.
* Otherwise KernelSHAP's weighted regression: coalitions are drawn as the ``shap``
  package's ``KernelExplainer`` draws them (sizes with the most Shapley-kernel weight are
  enumerated completely while the budget allows, the rest sampled in complementary pairs,
  a repeated coalition adding weight instead of a forward pass), then the Shapley-kernel
  weighted least-squares fit with the efficiency constraint, solved by scikit-learn's
  ``LinearRegression`` after eliminating one variable (as ``shap`` does; without its
  optional L1 feature selection). The constraint makes the sum exact here too; the
  individual values carry the sampling error.

The score is the class **logit** by default, so sum(phi) is the same f(x) - f(baseline)
that Integrated Gradients' completeness gap is measured against (notebook 06).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb, factorial
from typing import NamedTuple

import keras
import numpy as np

from .batching import Progress, prepare, progress_bar
from .checks import ParameterError, positive_int, seed_value
from .integrated_gradients import Completeness
from .perturbation import (
    check_baseline,
    check_score,
    coalition_scores,
    combine,
    paint,
    removed_image,
    superpixels,
)

#: Exact enumeration beyond this many players is refused (2^16 = 65,536 forward passes).
MAX_EXACT_PLAYERS = 16


class ShapResult(NamedTuple):
    """KernelSHAP's map (H, W) and its parts (for a batch: one entry per image)."""

    attributions: np.ndarray  # each superpixel's Shapley value on all its pixels
    values: np.ndarray | list  # (K,) the Shapley values, summing to f(x) - f(baseline)
    completeness: Completeness | list  # sum(values) against f(x) - f(baseline)
    segments: np.ndarray  # (H, W) superpixel labels
    exact: bool | list  # True: enumerated; False: sampled and fitted
    evaluations: int | list  # forward passes used


def all_coalitions(players: int) -> np.ndarray:
    """(2^M, M) bool: row r keeps player k when bit k of r is set (row 0 keeps none)."""
    rows = np.arange(2**players)[:, None]
    return ((rows >> np.arange(players)) & 1).astype(bool)


def shapley_values(values: np.ndarray, players: int) -> np.ndarray:
    """Exact Shapley values from v of all 2^M coalitions, in :func:`all_coalitions` order."""
    values = np.asarray(values, np.float64)
    if values.shape != (2**players,):
        raise ValueError(f"need 2^{players} = {2**players} coalition values, got {values.shape}")
    rows = np.arange(2**players)
    sizes = np.bitwise_count(rows) if hasattr(np, "bitwise_count") else all_coalitions(
        players
    ).sum(1)
    weight = np.array(
        [factorial(s) * factorial(players - s - 1) / factorial(players) for s in range(players)]
    )
    phi = np.empty(players)
    for k in range(players):
        without = rows[(rows >> k) & 1 == 0]
        phi[k] = weight[sizes[without]] @ (values[without | (1 << k)] - values[without])
    return phi


def shapley_kernel_weight(players: int, size: int) -> float:
    """The Shapley kernel pi(z) = (M - 1) / (C(M, |z|) |z| (M - |z|)) of one coalition
    (infinite for the empty and the full coalition, which the fit holds as constraints)."""
    if size in (0, players):
        return float("inf")
    return (players - 1) / (comb(players, size) * size * (players - size))


def sample_coalitions(players: int, budget: int, rng: np.random.Generator):
    """``shap``'s KernelExplainer sampling: (coalitions (n, M) bool, weights (n,)), n <= budget,
    weights summing to 1; neither the empty nor the full coalition is included."""
    from itertools import combinations

    sizes = int(np.ceil((players - 1) / 2))  # sizes 1..sizes, each with its complement
    paired = int(np.floor((players - 1) / 2))
    mass = np.array([(players - 1) / (k * (players - k)) for k in range(1, sizes + 1)])
    mass[:paired] *= 2
    mass /= mass.sum()
    rows: list[np.ndarray] = []
    weights: list[float] = []
    left, remaining, full = budget, mass.copy(), 0
    for size in range(1, sizes + 1):  # enumerate whole sizes while the budget covers them
        count = comb(players, size) * (2 if size <= paired else 1)
        if left * remaining[size - 1] / count < 1 - 1e-8:
            break
        full += 1
        left -= count
        if remaining[size - 1] < 1:
            remaining /= 1 - remaining[size - 1]
        weight = mass[size - 1] / comb(players, size) / (2 if size <= paired else 1)
        for members in combinations(range(players), size):
            row = np.zeros(players, bool)
            row[list(members)] = True
            rows += [row, ~row] if size <= paired else [row]
            weights += [weight] * (2 if size <= paired else 1)
    fixed = len(rows)
    if full < sizes and left > 0:  # sample the other sizes, in complementary pairs
        draw = mass.copy()
        draw[:paired] /= 2
        draw = draw[full:] / draw[full:].sum()
        seen: dict[bytes, int] = {}
        for pick in rng.choice(len(draw), 4 * left, p=draw):
            if left <= 0:
                break
            size = int(pick) + full + 1
            row = np.zeros(players, bool)
            row[rng.permutation(players)[:size]] = True
            key = row.tobytes()
            new = key not in seen
            if new:
                seen[key] = len(rows)
                rows.append(row)
                weights.append(1.0)
                left -= 1
            else:
                weights[seen[key]] += 1.0
            if left > 0 and size <= paired:
                if new:
                    rows.append(~row)
                    weights.append(1.0)
                    left -= 1
                else:
                    weights[seen[key] + 1] += 1.0
        sampled = np.asarray(weights[fixed:])
        weights[fixed:] = list(sampled * mass[full:].sum() / sampled.sum())
    return np.array(rows, bool).reshape(-1, players), np.array(weights)


def kernel_regression(
    coalitions: np.ndarray, values: np.ndarray, weights: np.ndarray, v_empty: float, v_full: float
) -> np.ndarray:
    """Shapley values by the Shapley-kernel weighted least squares fit of v(z) - v(empty) on
    z with sum(phi) = v_full - v_empty held exactly (the last player is eliminated)."""
    from sklearn.linear_model import LinearRegression

    z = np.asarray(coalitions, np.float64)
    total = v_full - v_empty
    target = np.asarray(values, np.float64) - v_empty - z[:, -1] * total
    design = z[:, :-1] - z[:, -1:]
    fit = LinearRegression(fit_intercept=False).fit(design, target, sample_weight=weights)
    return np.append(fit.coef_, total - fit.coef_.sum())


def uses_enumeration(players: int, samples: int, exact: bool | None) -> bool:
    """Whether KernelSHAP enumerates: forced by ``exact``, else when 2^M <= samples + 2
    (always for a single superpixel: there is nothing to sample)."""
    if exact is None or players < 2:
        return 2**players <= samples + 2
    if exact and players > MAX_EXACT_PLAYERS:
        raise ParameterError(
            f"exact Shapley values of {players} superpixels need 2^{players} forward passes; "
            f"use at most {MAX_EXACT_PLAYERS} segments or exact=None (sampled)"
        )
    return bool(exact)


def kernel_shap(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    samples: int = 1000,
    segments: int = 50,
    baseline: str | float | np.ndarray = "mean",
    score: str = "logit",
    exact: bool | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    progress: Progress = None,
) -> ShapResult:
    """Shapley values of the image's superpixels for a class, painted on the image.

    Args:
        samples: coalitions scored besides the image and the baseline (one forward pass
            each) when sampling; 1000 is the ``shap`` image examples' budget.
        segments: SLIC's target number of superpixels (it returns about that many).
        baseline: what a hidden superpixel becomes: ``"mean"`` (ImageNet's mean colour),
            ``"blur"``, ``"black"``, ``"segment_mean"``, a number, a colour or an image.
        score: ``"logit"`` (default: sum(phi) = the logit's f(x) - f(baseline), as IG's
            completeness) or ``"probability"``.
        exact: None (enumerate when 2^M <= samples + 2), True (always: at most 16
            superpixels) or False (always sample).
        seed: seeds the sampled coalitions (exact values use no random draw).
    """
    samples = positive_int("samples", samples, "coalitions to score", low=1)
    baseline = check_baseline(baseline)
    score = check_score(score)
    seed = seed_value(seed)
    if exact not in (None, True, False):
        raise ParameterError(f"exact must be None, True or False, got {exact!r}")
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    plans = []
    for img in batch:
        labels = superpixels(img, segments)
        players = int(labels.max()) + 1
        plans.append((labels, players, uses_enumeration(players, samples, exact)))
    total = sum(2**p if whole else samples + 2 for _, p, whole in plans)
    results = []
    with progress_bar(total, progress, "KernelSHAP", size) as advance:
        for img, cls, (labels, players, whole) in zip(batch, classes, plans, strict=True):
            removed = removed_image(img, baseline, labels)
            if whole:
                coalitions = all_coalitions(players)
            else:
                drawn, weights = sample_coalitions(players, samples, np.random.default_rng(seed))
                ends = np.array([[False] * players, [True] * players])
                coalitions = np.concatenate([ends, drawn])
            values = coalition_scores(
                model, img, removed, labels, coalitions, int(cls), score, size, advance
            )
            if whole:
                phi, v_empty, v_full = shapley_values(values, players), values[0], values[-1]
            else:
                v_empty, v_full = values[0], values[1]
                phi = kernel_regression(drawn, values[2:], weights, v_empty, v_full)
            check = Completeness(float(phi.sum()), float(v_full), float(v_empty))
            results.append(
                ShapResult(paint(labels, phi), phi, check, labels, whole, len(coalitions))
            )
    return combine(results, single, stacked=("attributions", "segments"))
