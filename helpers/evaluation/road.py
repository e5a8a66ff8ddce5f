"""ROAD: RemOve And Debias (Rong et al., 2022), deletion without the telltale holes.

Deletion (notebook 09) paints removed pixels black; the black shape itself tells the network
*where* the map pointed, and the network reacts to the artefact. ROAD fills removed pixels
by **noisy linear imputation** instead: each removed pixel becomes the weighted mean of its
8 neighbours (weight 1/6 for the 4 direct ones, 1/12 for the diagonals), all removed
pixels at once, which is one sparse linear system, plus a little Gaussian noise so that the
filled region carries no exact trace of the mask's shape.

The score follows the class probability after removing a fraction of the pixels, for
several fractions (10 %, 20 %, ..., 90 %), in both orders:

* **MoRF** (most relevant first): a faithful map makes the probability drop: lower is better;
* **LeRF** (least relevant first): a faithful map keeps it: higher is better;
* ``lerf - morf`` (halved, as pytorch-grad-cam's ``ROADCombined``): higher is better.

The imputation is checked against pytorch-grad-cam's ``metrics/road.py`` (from the
authors' code) in ``tests/test_road.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import splu

from ..methods.batching import Progress, checked_images, chunks, class_indices, progress_bar
from ..models.scores import batch_logits, softmax
from .deletion_insertion import region_order

#: (row offset, column offset, weight) of the 8 neighbours in the imputation.
NEIGHBOURS = (
    (1, 1, 1 / 12), (0, 1, 1 / 6), (-1, 1, 1 / 12), (1, -1, 1 / 12),
    (0, -1, 1 / 6), (-1, -1, 1 / 12), (1, 0, 1 / 6), (-1, 0, 1 / 6),
)
FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Default noise: 1 % of the pixel range (Rong et al. add 0.01 to normalised images).
NOISE = 0.01


def noisy_linear_impute(
    image: np.ndarray, removed: np.ndarray, noise: float = NOISE, seed: int = 0
) -> np.ndarray:
    """``image`` (H, W, C) with the ``removed`` pixels (H, W bool) filled in.

    Every removed pixel equals the weighted mean of its neighbours inside the image
    (:data:`NEIGHBOURS`; removed neighbours are unknowns too), solved as one sparse
    system, plus Gaussian noise of standard deviation ``noise`` x 255 (``noise=0`` for
    the exact solution). Kept pixels are returned unchanged.
    """
    img = np.asarray(image, dtype=np.float64)
    holes = np.asarray(removed, dtype=bool)
    if img.ndim != 3 or holes.shape != img.shape[:2]:
        raise ValueError(
            f"need an (H, W, C) image and an (H, W) mask, got {img.shape} and {holes.shape}"
        )
    if noise < 0 or not np.isfinite(noise):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    height, width, channels = img.shape
    unknown = np.flatnonzero(holes)
    if unknown.size == 0:
        return img.astype(np.float32)
    if unknown.size == holes.size:
        raise ValueError("cannot impute an image with every pixel removed: keep at least one")
    number = np.full(holes.size, -1)
    number[unknown] = np.arange(unknown.size)
    flat = img.reshape(-1, channels)
    rows, cols = np.divmod(unknown, width)
    right_hand = np.zeros((unknown.size, channels))
    weight_sum = np.zeros(unknown.size)
    entries_i, entries_j, entries_w = [], [], []
    for dr, dc, weight in NEIGHBOURS:
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        weight_sum[inside] += weight
        neighbour = r[inside] * width + c[inside]
        equation = np.flatnonzero(inside)
        known = number[neighbour] < 0
        right_hand[equation[known]] += weight * flat[neighbour[known]]
        entries_i.append(equation[~known])
        entries_j.append(number[neighbour[~known]])
        entries_w.append(np.full(int((~known).sum()), weight))
    # weight_sum * x_i - sum_j w_ij x_j = sum_k w_ik known_k
    i = np.concatenate([np.arange(unknown.size), *entries_i])
    j = np.concatenate([np.arange(unknown.size), *entries_j])
    w = np.concatenate([weight_sum, *(-v for v in entries_w)])
    system = coo_matrix((w, (i, j)), shape=(unknown.size, unknown.size)).tocsc()
    solution = splu(system).solve(right_hand)
    if noise > 0:
        solution = solution + np.random.default_rng(seed).normal(0.0, noise * 255.0, solution.shape)
    filled = flat.copy()
    filled[unknown] = solution
    return filled.reshape(img.shape).astype(np.float32)


@dataclass(frozen=True)
class RoadResult:
    """Class probability after removing each fraction of pixels, in both orders."""

    fractions: np.ndarray  # (F,)
    morf: np.ndarray  # (F,) most relevant removed first
    lerf: np.ndarray  # (F,) least relevant removed first
    original: float  # probability on the untouched image

    @property
    def morf_score(self) -> float:
        """Mean probability over the fractions, most relevant first (lower is better)."""
        return float(self.morf.mean())

    @property
    def lerf_score(self) -> float:
        """Mean probability over the fractions, least relevant first (higher is better)."""
        return float(self.lerf.mean())

    @property
    def combined(self) -> float:
        """(LeRF - MoRF) / 2, pytorch-grad-cam's ROADCombined (higher is better)."""
        return (self.lerf_score - self.morf_score) / 2

    def scores(self) -> dict[str, float]:
        return {"road_morf": self.morf_score, "road_lerf": self.lerf_score,
                "road_combined": self.combined}


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    values = np.asarray(fractions, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or np.any((values <= 0) | (values >= 1)):
        raise ValueError(f"fractions must be numbers strictly between 0 and 1, got {fractions!r}")
    return values


def road(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    maps: Mapping[str, np.ndarray],
    fractions: Sequence[float] = FRACTIONS,
    noise: float = NOISE,
    seed: int = 0,
    batch_size: int | None = None,
    progress: Progress = None,
) -> dict[str, RoadResult]:
    """ROAD for several maps of one image: ``{map name: RoadResult}``.

    For each map, order (MoRF, LeRF) and fraction, the chosen pixels (ranked by the map,
    ties broken at random with ``seed``; 3-channel maps by max |a|) are imputed
    (:func:`noisy_linear_impute`, noise seeded) and the class probability is measured.
    All imputed images go through the model in shared batches.
    """
    values = _check_fractions(fractions)
    batch, single = checked_images(model, image)
    if not single:
        raise ValueError("road takes one image (H, W, 3)")
    img = batch[0]
    cls = int(class_indices(model, class_index, 1)[0])
    pixels = img.shape[0] * img.shape[1]
    frames, keys = [img], []
    for name, saliency in maps.items():
        if np.shape(saliency)[:2] != img.shape[:2]:
            raise ValueError(f"map {name!r} has shape {np.shape(saliency)}, the image {img.shape}")
        for order in ("morf", "lerf"):
            ranked, _ = region_order(saliency, 1, seed, order)
            for k, fraction in enumerate(values):
                removed = np.zeros(pixels, dtype=bool)
                removed[ranked[: int(round(fraction * pixels))]] = True
                frames.append(
                    noisy_linear_impute(img, removed.reshape(img.shape[:2]), noise, seed + k)
                )
                keys.append((name, order))
    frames = np.stack(frames)
    probabilities = np.empty(len(frames))
    size = batch_size or 16
    with progress_bar(len(frames), progress, "ROAD", size) as advance:
        for part in chunks(len(frames), size):
            logits = batch_logits(model, frames[part]).astype(np.float64)
            probabilities[part] = softmax(logits)[:, cls]
            advance(part.stop - part.start)
    curves = probabilities[1:].reshape(len(maps), 2, values.size)
    return {
        name: RoadResult(values, curves[m, 0], curves[m, 1], float(probabilities[0]))
        for m, name in enumerate(maps)
    }


def road_scores(
    model: keras.Model, image: np.ndarray, class_index: int, saliency: np.ndarray, **options
) -> dict[str, float]:
    """ROAD for one map: ``{"road_morf" (lower is better), "road_lerf" (higher is better),
    "road_combined" (higher is better)}``; ``options`` as for :func:`road`."""
    return road(model, image, class_index, {"map": saliency}, **options)["map"].scores()
