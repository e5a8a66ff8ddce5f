"""How hot a map is along the image border, or in one region, relative to the whole map.

Notebook 02 uses it on the bright block at the left edge of the cat's gradient maps (also in
gradient x input and Integrated Gradients, notebook 06): a *density* is the mean of |map| in
a region divided by the mean of |map| over the image, so 1 means "as hot as the map on
average", 3 "three times as hot". (H, W, 3) attributions are reduced with max |a| over the
channels first, as the course draws them.
"""

from __future__ import annotations

import numpy as np

from .smoothness import _as_2d

SIDES = ("left", "right", "top", "bottom")


def _magnitude(saliency: np.ndarray) -> np.ndarray:
    """|map| as float64 (H, W); (H, W, 3) attributions reduced with max |a| over channels."""
    values = np.abs(_as_2d(saliency))
    if not np.isfinite(values).all():
        raise ValueError("the map contains NaN or infinite values")
    return values


def region_density(saliency: np.ndarray, rows: slice, columns: slice) -> float:
    """Mean |map| in ``[rows, columns]`` over the mean |map| of the whole image (NaN for an
    all-zero map)."""
    m = _magnitude(saliency)
    region = m[rows, columns]
    if region.size == 0:
        raise ValueError(f"the region rows {rows}, columns {columns} is empty for a map {m.shape}")
    mean = m.mean()
    return float(region.mean() / mean) if mean > 0 else float("nan")


def border_density(saliency: np.ndarray, width: int = 8) -> dict[str, float]:
    """The density of the strip ``width`` pixels wide along each side of the image.

    Returns ``{"left": ..., "right": ..., "top": ..., "bottom": ...}``; 1 means the strip is
    as hot as the map on average. The outermost pixels of a convolutional network's maps
    are usually *colder* (fewer paths lead from them to the score), so a value well above 1
    points at the photo's content at that edge.
    """
    m = _magnitude(saliency)
    if not 1 <= width <= min(m.shape) // 2:
        raise ValueError(f"width must be 1..{min(m.shape) // 2} pixels, got {width}")
    strips = {
        "left": np.s_[:, :width],
        "right": np.s_[:, -width:],
        "top": np.s_[:width, :],
        "bottom": np.s_[-width:, :],
    }
    return {side: region_density(m, *strips[side]) for side in SIDES}
