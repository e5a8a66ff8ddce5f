"""How smooth and how reproducible a saliency map is (the measures of notebook 04).

* :func:`speckle`: the share of a map's variance at the finest scale, i.e. the share a
  light Gaussian blur (2 pixels) removes. Pixel-to-pixel noise puts most variance there.
* :func:`seed_stability`: the correlation of two maps made with different random seeds,
  pixel by pixel or after the same blur (the scale at which one reads a map).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from ..methods.maps import reduce_channels

BLUR = 2.0  # pixels


def _as_2d(saliency: np.ndarray) -> np.ndarray:
    values = np.asarray(saliency, dtype=np.float64)
    if values.ndim == 3:
        values = reduce_channels(values).astype(np.float64)
    if values.ndim != 2:
        raise ValueError(f"expected a map (H, W) or attributions (H, W, 3), got {values.shape}")
    return values


def speckle(saliency: np.ndarray, blur: float = BLUR) -> float:
    """Share of the map's variance that a Gaussian blur of ``blur`` pixels removes (0 = smooth).

    (H, W, 3) attributions are reduced with max |a| over channels first. A flat map has no
    variance: the result is NaN."""
    m = _as_2d(saliency)
    m = m - m.mean()
    total = float((m**2).sum())
    if total == 0:
        return float("nan")
    return float(((m - gaussian_filter(m, blur)) ** 2).sum() / total)


def seed_stability(a: np.ndarray, b: np.ndarray, blur: float = 0.0) -> float:
    """Pearson correlation of two maps (after a Gaussian blur of ``blur`` pixels if > 0)."""
    a, b = _as_2d(a), _as_2d(b)
    if blur:
        a, b = gaussian_filter(a, blur), gaussian_filter(b, blur)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
