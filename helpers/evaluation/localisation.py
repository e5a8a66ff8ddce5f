"""Scoring a map against known evidence (a ground-truth mask): the localisation metrics.

* :func:`pointing_game` (Zhang et al., 2016/2018): does the map's single highest pixel
  fall inside the mask (grown by a ``tolerance`` in pixels)? Averaged over images it is
  the *hit rate*.
* :func:`relevance_mass_accuracy` (Arras et al., 2022): the share of the map's positive
  relevance that lies inside the mask.
* :func:`relevance_rank_accuracy` (Arras et al., 2022): of the K highest pixels (K = the
  mask's size), the share inside the mask.

**Chance levels.** A map that carries no information (uniform noise) has its maximum at a
uniformly random pixel, so its expected pointing-game score is the share of the image the
(grown) mask covers, :func:`pointing_game_chance`; its expected relevance mass and rank
accuracy are the mask's own area share. With a tolerance ring, chance rises quickly: a
10 x 10 box covers 2.4 % of a 64 x 64 image; grown by 8 pixels (a disc), about six times
as much (100 + 4 x 10 x 8 + 64 pi pixels away from the borders, 15 %). Always compare
with these numbers (or with a random map), never with 0.

Ties: if the maximum is shared by several pixels (a flat or saturated map), the pointing
game scores the share of those pixels inside the mask, the expected hit of breaking the
tie at random. An all-zero map thus scores exactly chance, not a lucky hit at pixel (0, 0).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation

from ..methods.maps import reduce_channels


def as_map(saliency: np.ndarray) -> np.ndarray:
    """A finite float64 (H, W) map from a map or (H, W, 3) attributions (max |a| over
    channels); anything else is refused with its shape."""
    values = np.asarray(saliency, dtype=np.float64)
    if values.ndim == 3 and values.shape[-1] in (1, 3):
        values = reduce_channels(values).astype(np.float64)
    if values.ndim != 2:
        raise ValueError(
            f"saliency must be one (H, W) map or (H, W, 3) attributions, got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("saliency contains NaN or infinite values")
    return values


def _mask_2d(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    region = np.asarray(mask)
    if region.shape != shape:
        raise ValueError(f"mask has shape {region.shape}, the map {shape}: they must match")
    if region.dtype != bool:
        if not np.isin(region, (0, 1)).all():
            raise ValueError("mask must be boolean (or 0/1): True marks the evidence")
        region = region.astype(bool)
    if not region.any():
        raise ValueError("mask is empty: it must mark at least one pixel of evidence")
    return region


def grown_mask(mask: np.ndarray, tolerance: int = 0) -> np.ndarray:
    """``mask`` grown by ``tolerance`` pixels (a disc of that radius): the pointing game's
    tolerance ring (Zhang et al. used 15 pixels on 224 x 224 images)."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ValueError(f"tolerance must be a whole number of pixels >= 0, got {tolerance!r}")
    region = np.asarray(mask, dtype=bool)
    if tolerance == 0:
        return region
    offsets = np.arange(-tolerance, tolerance + 1)
    disc = offsets[:, None] ** 2 + offsets[None, :] ** 2 <= tolerance**2
    return binary_dilation(region, structure=disc)


def pointing_game(saliency: np.ndarray, mask: np.ndarray, tolerance: int = 0) -> float:
    """1.0 if the map's maximum lies in ``mask`` (grown by ``tolerance`` pixels), else 0.0;
    with tied maxima, the share of them inside (the expected hit of a random tie-break)."""
    values = as_map(saliency)
    region = grown_mask(_mask_2d(mask, values.shape), tolerance)
    peaks = values == values.max()
    return float(region[peaks].mean())


def pointing_game_chance(mask: np.ndarray, tolerance: int = 0) -> float:
    """The expected pointing-game score of a map with no information: the share of the
    image that the grown mask covers."""
    region = np.asarray(mask, dtype=bool)
    return float(grown_mask(region, tolerance).mean())


def relevance_mass_accuracy(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Share of the map's positive relevance inside ``mask`` (Arras et al., 2022):
    sum of max(R, 0) inside / sum of max(R, 0) everywhere. Signed maps count only their
    positive evidence; a map with no positive value scores 0."""
    values = np.maximum(as_map(saliency), 0.0)
    region = _mask_2d(mask, values.shape)
    total = values.sum()
    return float(values[region].sum() / total) if total > 0 else 0.0


def relevance_rank_accuracy(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Of the K highest pixels of the map (K = pixels in ``mask``), the share inside it
    (Arras et al., 2022). Ties at the K-th value are broken by position (stable sort)."""
    values = as_map(saliency)
    region = _mask_2d(mask, values.shape)
    k = int(region.sum())
    top = np.argsort(-values.ravel(), kind="stable")[:k]
    return float(region.ravel()[top].mean())


def localisation_scores(
    maps: np.ndarray, masks: np.ndarray, tolerance: int = 0
) -> dict[str, np.ndarray]:
    """Every localisation metric for a stack of maps (N, H, W) and masks (N, H, W):
    ``{"pointing_game", "relevance_mass", "relevance_rank"}``, one score per image."""
    maps, masks = np.asarray(maps), np.asarray(masks)
    if maps.ndim != 3 or masks.shape != maps.shape:
        raise ValueError(
            f"need maps (N, H, W) and masks of the same shape, got {maps.shape} and {masks.shape}"
        )
    return {
        "pointing_game": np.array(
            [pointing_game(m, k, tolerance) for m, k in zip(maps, masks, strict=True)]
        ),
        "relevance_mass": np.array(
            [relevance_mass_accuracy(m, k) for m, k in zip(maps, masks, strict=True)]
        ),
        "relevance_rank": np.array(
            [relevance_rank_accuracy(m, k) for m, k in zip(maps, masks, strict=True)]
        ),
    }
