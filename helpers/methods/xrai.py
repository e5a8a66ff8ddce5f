"""XRAI (Kapishnikov et al., 2019): rank image regions by the attribution they hold.

Given a pixel attribution (by default Integrated Gradients, averaged over a black and a
white baseline, as the paper and PAIR's ``saliency`` do) and many overlapping candidate
regions (segments of six Felzenszwalb segmentations, dilated:
:func:`helpers.methods.perturbation.felzenszwalb_masks`), XRAI grows a selection greedily:
at each step it adds the region whose *new* pixels have the highest mean attribution (its
gain), drops regions that would add fewer than ``min_pixel_diff`` new pixels, and stops when
no region is left (or the selection covers ``area`` of the image). Every pixel then carries
the gain of the step that added it; regions are ranked by gain (1 = most important).

This is PAIR ``saliency`` 0.2.1's ``XRAI._xrai`` ("full" algorithm) step for step, computed
on the regions' intersections (pixels that belong to the same regions are interchangeable),
which makes a step a matrix-vector product instead of a loop over masks.
``tests/test_xrai.py`` checks that the ranking equals PAIR's given the same attribution and
regions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import keras
import numpy as np

from .batching import Progress, prepare, progress_bar
from .checks import ParameterError, finite_array, finite_number, positive_int
from .perturbation import combine, felzenszwalb_masks


class XraiResult(NamedTuple):
    """XRAI's map and ranking (for a batch: one entry per image)."""

    attributions: np.ndarray  # (H, W): the gain of the region each pixel was added with
    ranks: np.ndarray  # (H, W) int: 1 = the pixel's region is the most important
    regions: np.ndarray | list  # (n, H, W) bool: the added pixels of each region, by rank
    gains: np.ndarray | list  # (n,) each region's gain (mean base attribution of its pixels)
    base_attribution: np.ndarray  # (H, W) the attribution the regions were ranked by


def xrai_regions(
    attribution: np.ndarray, masks: np.ndarray, area: float = 1.0, min_pixel_diff: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """XRAI's greedy selection: (gain map (H, W), ranks (H, W), regions (n, H, W), gains (n,)).

    ``attribution`` (H, W); ``masks`` (K, H, W) bool candidate regions.
    """
    from scipy import sparse

    attr = np.asarray(attribution, np.float64)
    masks = np.asarray(masks, bool)
    shape = attr.shape
    if masks.ndim != 3 or masks.shape[1:] != shape:
        raise ValueError(f"masks must be (K, {shape[0]}, {shape[1]}), got {masks.shape}")
    # atoms: groups of pixels that lie in exactly the same masks
    membership = np.packbits(masks.reshape(len(masks), -1), axis=0).T  # (P, ceil(K/8))
    _, atom_of, counts = np.unique(
        np.ascontiguousarray(membership).view(f"V{membership.shape[1]}").ravel(),
        return_inverse=True,
        return_counts=True,
    )
    atom_of = atom_of.ravel()
    sums = np.bincount(atom_of, attr.ravel(), minlength=len(counts))
    first = np.zeros(len(counts), int)
    first[atom_of[::-1]] = np.arange(len(atom_of))[::-1]  # one pixel per atom
    in_mask = sparse.csr_matrix(masks.reshape(len(masks), -1)[:, first], dtype=np.float64)
    covered = np.zeros(len(counts), bool)
    alive = np.ones(len(masks), bool)
    gain_of_atom = np.full(len(counts), -np.inf)
    trace: list[tuple[np.ndarray, float]] = []
    total = atom_of.size
    while counts[covered].sum() / total <= area:
        free = ~covered
        new_pixels = in_mask @ np.where(free, counts, 0.0)
        alive &= new_pixels >= min_pixel_diff
        if not alive.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            gains = np.where(alive, (in_mask @ np.where(free, sums, 0.0)) / new_pixels, -np.inf)
        best = int(np.argmax(gains))
        members = in_mask[best].toarray().ravel() > 0
        added = free & members
        trace.append((added, float(gains[best])))
        gain_of_atom[added] = gains[best]
        covered |= members
        alive[best] = False
    rest = gain_of_atom == -np.inf
    if rest.any():
        gain_of_atom[rest] = sums[rest].sum() / counts[rest].sum()
    order = sorted(trace, key=lambda step: -step[1])  # stable, as PAIR's sort
    atoms_by_rank = [a for a, _ in order] + ([rest] if rest.any() else [])
    gains_by_rank = [g for _, g in order] + ([gain_of_atom[rest][0]] if rest.any() else [])
    rank_of_atom = np.zeros(len(counts), int)
    for rank, atoms in enumerate(atoms_by_rank, start=1):
        rank_of_atom[atoms] = rank
    regions = np.stack([atoms[atom_of].reshape(shape) for atoms in atoms_by_rank])
    return (
        gain_of_atom[atom_of].reshape(shape),
        rank_of_atom[atom_of].reshape(shape),
        regions,
        np.array(gains_by_rank),
    )


def _pixel_attribution(attribution: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) from (H, W) or (H, W, C): the signed max over channels, as PAIR's XRAI."""
    values = finite_array("attribution", attribution, "a map (H, W) or attributions (H, W, C)")
    if values.ndim == 3:
        values = values.max(axis=-1)
    if values.shape != shape:
        raise ParameterError(f"attribution must be shaped {shape} (or {shape} + channels), "
                             f"got {np.shape(attribution)}")
    return values.astype(np.float64)


def black_and_white_ig(model, image, class_index, steps, progress) -> np.ndarray:
    """Integrated Gradients averaged over a flat baseline at the image's minimum and one at
    its maximum (black and white; the paper's and PAIR's default base for XRAI)."""
    from .integrated_gradients import integrated_gradients

    maps = []
    for k, level in enumerate((float(image.min()), float(image.max()))):
        result = integrated_gradients(
            model, image, class_index, baseline=level, steps=steps, progress=
            (lambda done, k=k: progress((k + done) / 2)) if callable(progress) else False,
        )
        maps.append(result.attributions)
    return np.mean(maps, axis=0)


def xrai(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    attribution: np.ndarray | str | Callable | None = None,
    steps: int = 32,
    area: float = 1.0,
    min_pixel_diff: int = 50,
    dilation: int = 5,
    batch_size: int | None = None,
    progress: Progress = None,
) -> XraiResult:
    """XRAI's region map for a class.

    Args:
        attribution: the base attribution: None (Integrated Gradients with a black and a
            white baseline, ``steps`` intervals each, averaged), a registered method's name
            (e.g. ``"rise"``, ``"grad_cam"``: run with its defaults), a function called
            as ``f(model, image, class_index)``, or an array (H, W) or (H, W, C) (a batch:
            one per image); (H, W, C) is reduced by the signed max over channels, as PAIR.
        steps: intervals of each Integrated Gradients path (PAIR: 100 points).
        area: stop once the selected regions cover this fraction of the image (1 = rank
            every region); the rest becomes one last region.
        min_pixel_diff: regions that would add fewer new pixels are dropped (PAIR: 50).
        dilation: radius of each region's dilation in pixels (PAIR: 5).
    """
    steps = positive_int("steps", steps, "Integrated Gradients intervals")
    area = finite_number("area", area, "fraction of the image to rank", low=0.0)
    min_pixel_diff = positive_int("min_pixel_diff", min_pixel_diff, "new pixels a region adds")
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    if isinstance(attribution, (np.ndarray, list)):
        given = np.asarray(attribution)
        given = given[None] if single else given
        if len(given) != len(batch):
            raise ParameterError(f"got {len(given)} attributions for {len(batch)} images")
    results = []
    with progress_bar(len(batch), progress, "XRAI") as advance:
        for index, (img, cls) in enumerate(zip(batch, classes, strict=True)):
            if attribution is None:
                base = black_and_white_ig(model, img, int(cls), steps, progress)
            elif isinstance(attribution, str):
                from .registry import get

                base = get(attribution).run(model, img, int(cls), progress=False)[0]
            elif callable(attribution):
                base = attribution(model, img, int(cls))
            else:
                base = given[index]
            base = _pixel_attribution(getattr(base, "attributions", base), img.shape[:2])
            masks = felzenszwalb_masks(img, dilation)
            gain_map, ranks, regions, gains = xrai_regions(base, masks, area, min_pixel_diff)
            results.append(
                XraiResult(gain_map.astype(np.float32), ranks, regions, gains,
                           base.astype(np.float32))
            )
            advance(1)
    return combine(results, single, stacked=("attributions", "ranks", "base_attribution"))
