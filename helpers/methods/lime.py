"""LIME on superpixels (Ribeiro, Singh & Guestrin, 2016), as the ``lime`` package does it.

1. Cut the image into superpixels (SLIC, :func:`helpers.methods.perturbation.superpixels`).
2. Draw ``samples`` random on/off vectors z (each superpixel on with probability 1/2; the
   first sample is the image itself, all on) and score each copy: hidden superpixels come
   from the baseline.
3. Weight each sample by its closeness to the image: the cosine distance d between z and
   all-ones, through lime's kernel sqrt(exp(-d^2 / width^2)), width 0.25.
4. Fit a weighted ridge regression (scikit-learn's ``Ridge``, alpha 1, as lime) of the
   class score on z; the coefficient of each superpixel is its weight in the explanation.

The draws are ``numpy.random.RandomState(seed).randint(0, 2, ...)``, the very call lime
makes, so the same seed and segments give lime's samples. What the fit does not explain
is reported: ``score`` is the fit's weighted R^2 (lime's ``prediction_score``). LIME's best
known problem is that another seed gives another explanation; notebook 08 measures it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import keras
import numpy as np

from .batching import Progress, prepare, progress_bar
from .checks import finite_number, positive_int, seed_value
from .perturbation import (
    check_baseline,
    check_score,
    coalition_scores,
    combine,
    paint,
    removed_image,
    superpixels,
)


class LimeResult(NamedTuple):
    """LIME's map (H, W) and its parts (for a batch: one entry per image)."""

    attributions: np.ndarray  # each superpixel's coefficient on its pixels
    weights: np.ndarray | list  # (K,) the coefficients
    intercept: float | list
    score: float | list  # weighted R^2 of the linear fit (1 = it explains every sample)
    segments: np.ndarray  # (H, W) superpixel labels


def lime_kernel(distances: np.ndarray, kernel_width: float = 0.25) -> np.ndarray:
    """lime's default kernel: sqrt(exp(-d^2 / width^2))."""
    return np.sqrt(np.exp(-(distances**2) / kernel_width**2))


def lime_samples(samples: int, players: int, seed: int) -> np.ndarray:
    """(samples, players) 0/1 as lime draws them; the first row is all ones (the image)."""
    data = np.random.RandomState(seed).randint(0, 2, samples * players).reshape(samples, players)
    data[0, :] = 1
    return data


def fit_lime(data: np.ndarray, targets: np.ndarray, kernel_width: float = 0.25):
    """The weighted ridge fit of ``targets`` on the 0/1 ``data``: (coefficients, intercept,
    weighted R^2)."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import pairwise_distances

    distances = pairwise_distances(data, data[:1], metric="cosine").ravel()
    weights = lime_kernel(distances, kernel_width)
    fit = Ridge(alpha=1.0, fit_intercept=True).fit(data, targets, sample_weight=weights)
    return fit.coef_, float(fit.intercept_), float(fit.score(data, targets, sample_weight=weights))


def lime(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    samples: int = 1000,
    segments: int = 50,
    kernel_width: float = 0.25,
    baseline: str | float | np.ndarray = "mean",
    score: str = "probability",
    seed: int = 0,
    batch_size: int | None = None,
    progress: Progress = None,
) -> LimeResult:
    """LIME's superpixel weights for a class, painted on the image.

    Args:
        samples: perturbed copies, one forward pass each (lime's default 1000).
        segments: SLIC's target number of superpixels (it returns about that many).
        kernel_width: width of the proximity kernel on the cosine distance (lime: 0.25).
        baseline: what a hidden superpixel becomes: ``"mean"`` (ImageNet's mean colour,
            as occlusion), ``"segment_mean"`` (lime's default), ``"black"``, ``"blur"``, a
            number, a colour or an image.
        score: ``"probability"`` (what lime explains when given ``predict_proba``) or
            ``"logit"``.
        seed: seeds the perturbations (lime's ``random_seed``).
    """
    samples = positive_int("samples", samples, "perturbed copies", low=2)
    kernel_width = finite_number("kernel_width", kernel_width, "the kernel's width", low=1e-6)
    baseline = check_baseline(baseline)
    score = check_score(score)
    seed = seed_value(seed)
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    results = []
    with progress_bar(samples * len(batch), progress, "LIME", size) as advance:
        for img, cls in zip(batch, classes, strict=True):
            labels = superpixels(img, segments)
            data = lime_samples(samples, int(labels.max()) + 1, seed)
            removed = removed_image(img, baseline, labels)
            targets = coalition_scores(
                model, img, removed, labels, data.astype(bool), int(cls), score, size, advance
            )
            weights, intercept, r2 = fit_lime(data, targets, kernel_width)
            results.append(LimeResult(paint(labels, weights), weights, intercept, r2, labels))
    return combine(results, single, stacked=("attributions", "segments"))
