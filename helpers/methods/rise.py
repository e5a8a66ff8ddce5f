"""RISE (Petsiuk, Das & Saenko, 2018): randomized input sampling for explanation.

Show the model the image through N random soft masks M_i and weight each mask by the class
score it leaves:

    S(pixel) = sum_i f(x ⊙ M_i) M_i(pixel) / (N p)

where p is the probability that a mask cell is "on". For binary masks this is the
expected score given that the pixel is visible, E[f(x ⊙ M) | M(pixel) = 1]. The masks are
the paper's: a random s x s grid of cells (each on with probability p), upsampled
bilinearly to (s + 1) x (cell size) and cropped at a random shift, so that mask edges fall
anywhere, not on a fixed grid. A masked pixel is blended with the baseline (ImageNet's mean
colour by default, which is what the reference code gets when it multiplies a
mean-subtracted image by the mask).

**Normalisation.** The paper divides by N p, the expected number of times a pixel is
visible. When the class probability barely changes from mask to mask (the cat, whose
Egyptian-cat probability stays near 0.7 whichever half is hidden), that map mostly shows
how often each pixel *happened* to be visible: on EfficientNet-Lite0 at 1000 masks it
correlates 0.89 with that coverage, and two seeds' maps only 0.03. ``normalize="coverage"``
divides by the actual coverage sum_i M_i(pixel) instead (as the xplique library does): a
self-normalised estimate of the same E[f | pixel visible], whose two seeds correlate 0.93
there (``benchmarks/black_box_defaults.py``, notebook 08).

f is the class **probability**, as in the paper (its reference code appends a softmax):
an expected probability reads as "how confident the model stays when this pixel is
visible", while an expected logit is dominated by the few masked images whose logits run
largest. ``score="logit"`` is one argument away; on a model whose logit is linear in the
pixels, RISE's map with the logit is then an exact linear function of weight x input
(``tests/test_rise.py`` checks the identity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .checks import ParameterError, finite_number, positive_int, seed_value
from .perturbation import (
    check_baseline,
    check_choice,
    check_score,
    class_scores,
    removed_image,
)


def upsampling_matrix(cells: int, size: int) -> np.ndarray:
    """(size, cells): the linear map scikit-image's ``resize(order=1, mode="reflect",
    anti_aliasing=False)`` applies along one axis (the reference code's upsampling), so
    that a grid G upsamples to ``A_rows @ G @ A_cols.T`` for a whole chunk at once."""
    from skimage.transform import resize

    return resize(np.eye(cells), (size, cells), order=1, mode="reflect", anti_aliasing=False)


@dataclass(frozen=True)
class RiseMasks:
    """N seeded masks, built chunk by chunk on demand (``masks[a:b]`` -> (n, H, W))."""

    grids: np.ndarray  # (N, s, s) bool: which cells are on
    shifts: np.ndarray  # (N, 2) int: the crop's offset in the upsampled mask
    rows: np.ndarray  # (upsampled height, s)
    cols: np.ndarray  # (upsampled width, s)
    shape: tuple[int, int]

    def __len__(self) -> int:
        return len(self.grids)

    def __getitem__(self, part: slice) -> np.ndarray:
        height, width = self.shape
        grids = self.grids[part].astype(np.float64)
        out = np.empty((len(grids), height, width), np.float32)
        for k, (grid, (top, left)) in enumerate(zip(grids, self.shifts[part], strict=True)):
            out[k] = self.rows[top : top + height] @ grid @ self.cols[left : left + width].T
        return out


def rise_masks(
    count: int, shape: tuple[int, int], cells: int = 7, keep: float = 0.5, seed: int = 0
) -> RiseMasks:
    """The paper's masks: cell size C = ceil(side / s), grids upsampled to (s + 1) C,
    cropped at shifts drawn from [0, C). Seeded: the same seed gives the same masks."""
    height, width = shape
    cell_h, cell_w = -(-height // cells), -(-width // cells)
    rng = np.random.default_rng(seed)
    grids = rng.random((count, cells, cells)) < keep
    shifts = np.stack(
        [rng.integers(0, cell_h, count), rng.integers(0, cell_w, count)], axis=1
    )
    return RiseMasks(
        grids,
        shifts,
        upsampling_matrix(cells, (cells + 1) * cell_h),
        upsampling_matrix(cells, (cells + 1) * cell_w),
        (height, width),
    )


def rise(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    masks: int = 4000,
    cells: int = 7,
    keep: float = 0.5,
    baseline: str | float | np.ndarray = "mean",
    score: str = "probability",
    normalize: str = "paper",
    seed: int = 0,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """RISE map (H, W): the mask-weighted mean class score, divided by ``keep``.

    Args:
        masks: random masks, one forward pass each (default: the paper's 4000 for
            ResNet-50; it used 8000 for VGG16). How close two seeds' maps come at each
            count is measured by ``benchmarks/black_box_defaults.py``.
        cells: s, the side of the random grid (the paper: 7).
        keep: p, the probability that a cell is visible (the paper: 0.5).
        baseline: what a hidden pixel becomes: ``"mean"`` (ImageNet's mean colour),
            ``"black"``, ``"blur"``, a number, a colour or an image
            (:data:`helpers.methods.perturbation.BASELINES`).
        score: ``"probability"`` (the paper) or ``"logit"``.
        normalize: ``"paper"`` (divide by N p) or ``"coverage"`` (divide by each pixel's
            summed mask values: lower variance when the score barely moves).
        seed: seeds the masks; every image of a batch sees the same masks.
        batch_size: masked copies per forward pass.
    """
    count = positive_int("masks", masks, "number of random masks")
    cells = positive_int("cells", cells, "side of the random grid")
    keep = finite_number("keep", keep, "probability that a cell is visible", low=0.0)
    if not 0.0 < keep <= 1.0:
        raise ParameterError(f"keep must be in (0, 1], got {keep:g}")
    baseline = check_baseline(baseline)
    if isinstance(baseline, str) and baseline == "segment_mean":
        raise ParameterError("baseline 'segment_mean' needs superpixels; RISE has none")
    score = check_score(score)
    normalize = check_choice("normalize", normalize, ("paper", "coverage"))
    seed = seed_value(seed)
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    generator = rise_masks(count, batch.shape[1:3], cells, keep, seed)
    maps = []
    with progress_bar(count * len(batch), progress, "RISE", size) as advance:
        for img, cls in zip(batch, classes, strict=True):
            removed = removed_image(img, baseline)
            delta = img - removed
            total, coverage = np.zeros(batch.shape[1:3]), np.zeros(batch.shape[1:3])
            for part in chunks(count, size):
                chunk = generator[part]
                masked = removed + chunk[..., None] * delta
                scores = class_scores(model, masked, int(cls), score)
                # the score-weighted sum of the chunk's masks, in float32 (a float64 tensordot
                # would copy the chunk first) and without BLAS: a BLAS call here leaves its
                # threads spinning into the next forward pass, which then took 1.5x as long
                total += np.einsum("n,nhw->hw", scores.astype(np.float32), chunk)
                coverage += chunk.sum(axis=0)
                advance(part.stop - part.start)
            if normalize == "paper":
                result = total / (count * keep)
            else:  # a pixel no mask ever showed gets 0 (its score is unknown)
                result = np.divide(total, coverage, out=np.zeros_like(total), where=coverage > 0)
            maps.append(result.astype(np.float32))
    return unbatch(np.stack(maps), single)
