"""How concentrated a map is: sparseness (Gini index) and entropy.

* :func:`sparseness` (Chalasani et al., 2020; Quantus's ``Sparseness``): the Gini index of
  the map's absolute values. 0 when every pixel carries the same weight, (n - 1) / n when
  a single pixel carries it all. Higher = sparser, which people find easier to read; it
  says nothing about whether the few bright pixels are the right ones.
* :func:`map_entropy`: the Shannon entropy (nats) of the histogram of the map's absolute
  values scaled to [0, 1]: low for a few peaks on a flat ground, high for noise. The
  efficient randomization test (:func:`helpers.evaluation.model_sensitivity.efficient_mprt`)
  compares it before and after the model's weights are randomized.
"""

from __future__ import annotations

import numpy as np

from .localisation import as_map

ENTROPY_BINS = 100


def _magnitudes(saliency: np.ndarray) -> np.ndarray:
    return np.abs(as_map(saliency)).ravel()


def sparseness(saliency: np.ndarray) -> float:
    """Gini index of |map|: sum_i (2i - n - 1) a_(i) / (n sum_i a_i), values sorted
    ascending, i = 1..n. An all-zero map counts as uniform (0.0)."""
    a = np.sort(_magnitudes(saliency))
    n = a.size
    total = a.sum()
    if total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * a) / (n * total))


def map_entropy(saliency: np.ndarray, bins: int = ENTROPY_BINS) -> float:
    """Shannon entropy (nats) of the histogram of |map| / max |map| over ``bins`` equal bins
    on [0, 1]. An all-zero map has entropy 0 (one bin)."""
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"bins must be a whole number >= 2, got {bins!r}")
    a = _magnitudes(saliency)
    peak = a.max()
    if peak == 0:
        return 0.0
    counts, _ = np.histogram(a / peak, bins=bins, range=(0.0, 1.0))
    p = counts[counts > 0] / a.size
    return float(-(p * np.log(p)).sum())
