"""Faithfulness metrics for saliency maps: deletion and insertion (Petsiuk et al., 2018).

Deletion: remove pixels in the order the map ranks them (most important first) and track
the class probability; a faithful map makes it fall fast (low area under the curve).
Insertion: start from a blurred image and put the original pixels back in the same order;
a faithful map makes the probability rise fast (high area under the curve).

Two documented variants from the literature are available as options:

* ``block``: change square regions of ``block`` x ``block`` pixels at a time, ranked by
  the map's mean inside each region (the *region perturbation* of Samek et al., 2017).
  ``block=1`` is Petsiuk et al.'s pixel-level protocol. Removing scattered single pixels
  (what a random map does at pixel level) creates high-frequency noise the network never
  saw in training, which by itself lowers the probability; regions make the removals of a
  good map and of a random map look more alike.
* ``order``: ``"morf"`` (most relevant first, the default) or ``"lerf"`` (least relevant
  first). For a faithful map, deleting the *least* relevant pixels first should keep the
  probability high, so the LeRF deletion AUC minus the MoRF deletion AUC is large; for a
  random map the two orders are the same experiment and the difference is about zero.
  Both orders create the same kind of artefacts, so the difference cancels much of the
  out-of-distribution effect (both orders are compared, e.g., in the degradation test of
  Schulz et al., 2020; Rong et al., 2022, show where such tests can still mislead).

Every forward pass is batched (:func:`helpers.gradients.batch_logits`), and frames that
several curves share (the untouched image and the fully replaced one) are scored once.
Also here: :func:`completeness_gap`, how far any pixel attribution map is from summing to
f(x) - f(baseline), the property Integrated Gradients promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np
from scipy.ndimage import gaussian_filter

from .attribution import Completeness, baseline_image
from .batching import checked_images, chunks, class_indices, resolve_batch_size
from .gradients import batch_logits
from .scores import softmax

SUBSTRATES = ("black", "blur", "mean")
ORDERS = ("morf", "lerf")
KINDS = ("deletion", "insertion")
CURVE_KINDS = ("deletion", "insertion", "deletion_lerf", "insertion_lerf")
BLUR_SIGMA = 5.0  # pixels, as in Petsiuk et al.'s code (11x11 kernel, sigma 5)
#: The substrate each curve starts from or ends in by default, as in Petsiuk et al. (2018).
DEFAULT_SUBSTRATE = {"deletion": "black", "insertion": "blur"}


@dataclass(frozen=True)
class Curve:
    """Probability of the class after each step, against the fraction of pixels changed."""

    kind: str  # "deletion" or "insertion"
    fractions: np.ndarray  # (steps + 1,) from 0 to 1
    probabilities: np.ndarray  # (steps + 1,)
    order: str = "morf"  # "morf": most relevant first; "lerf": least relevant first

    @property
    def auc(self) -> float:
        """Area under the curve (trapezoid rule on [0, 1])."""
        return float(np.trapezoid(self.probabilities, self.fractions))


def mean_curve(curves: Sequence[Curve]) -> Curve:
    """The pointwise mean of curves of the same kind, order and steps (e.g. several random maps)."""
    if not curves:
        raise ValueError("mean_curve needs at least one curve")
    first = curves[0]
    for other in curves[1:]:
        if (other.kind, other.order) != (first.kind, first.order) or not np.array_equal(
            other.fractions, first.fractions
        ):
            raise ValueError("mean_curve needs curves of the same kind, order and steps")
    probabilities = np.mean([c.probabilities for c in curves], axis=0)
    return Curve(first.kind, first.fractions, probabilities, first.order)


def substrate(image: np.ndarray, kind: str) -> np.ndarray:
    """What removed pixels become: ``"black"`` (zeros), ``"blur"`` or ``"mean"`` colour."""
    if kind == "black":
        return np.zeros_like(image)
    if kind == "blur":
        return gaussian_filter(image, sigma=(BLUR_SIGMA, BLUR_SIGMA, 0)).astype(np.float32)
    if kind == "mean":
        return np.broadcast_to(image.mean(axis=(0, 1)), image.shape).astype(np.float32)
    raise ValueError(f"unknown substrate {kind!r}; choose one of {SUBSTRATES}")


def _as_2d(saliency: np.ndarray) -> np.ndarray:
    values = np.asarray(saliency, dtype=np.float64)
    if values.ndim == 3:
        values = np.abs(values).max(axis=-1)
    if values.ndim != 2 or not np.all(np.isfinite(values)):
        raise ValueError(
            f"saliency must be a finite (H, W) or (H, W, 3) map, got shape {values.shape}"
        )
    return values


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {choices}")


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def region_order(
    saliency: np.ndarray, block: int = 1, seed: int = 0, order: str = "morf"
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels grouped into square regions, regions ranked by the map.

    Returns ``(pixels, region_ends)``: flat pixel indices, region after region, from most
    to least salient region (``order="morf"``) or the reverse (``"lerf"``), and the end
    position of each region in ``pixels``. A region's score is the map's mean over it
    (3-channel maps are first reduced to max |a| over channels). Regions tile the image
    from the top-left corner (border regions may be smaller). Ties are broken at random,
    seeded. ``block=1`` ranks single pixels (then ``region_ends`` is 1, 2, 3, ...).
    """
    _check_positive_int("block", block)
    _check_choice("order", order, ORDERS)
    values = _as_2d(saliency)
    height, width = values.shape
    rows, cols = np.divmod(np.arange(height * width), width)
    region = (rows // block) * (-(-width // block)) + cols // block
    counts = np.bincount(region)
    scores = np.bincount(region, weights=values.ravel()) / counts
    tie_breaker = np.random.default_rng(seed).permutation(scores.size)
    ranked = np.lexsort((tie_breaker, -scores if order == "morf" else scores))
    rank_of = np.empty_like(ranked)
    rank_of[ranked] = np.arange(ranked.size)
    pixels = np.argsort(rank_of[region], kind="stable")
    return pixels, np.cumsum(counts[ranked])


def pixel_order(saliency: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices from most to least salient; ties broken at random (seeded)."""
    return region_order(saliency, 1, seed)[0]


def random_saliency(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A map of uniform noise: the baseline every real method should beat."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def deletion_insertion_curves(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    maps: Mapping[str, np.ndarray],
    kinds: Sequence[str] = ("deletion", "insertion"),
    steps: int = 32,
    block: int = 1,
    substrates: Mapping[str, str] | None = None,
    batch_size: int | None = None,
    seed: int = 0,
) -> dict[str, dict[str, Curve]]:
    """Deletion and/or insertion curves of several maps of one image, in shared batches.

    ``kinds``: any of ``"deletion"``, ``"insertion"`` (most relevant first) and
    ``"deletion_lerf"``, ``"insertion_lerf"`` (least relevant first). Returns
    ``{map name: {kind: Curve}}``. ``steps`` curve points after the start; ``block`` as
    in :func:`region_order` (the regions are split evenly over the steps); ``substrates``
    maps ``"deletion"`` / ``"insertion"`` to ``"black"``, ``"blur"`` or ``"mean"``
    (default: deletion to black, insertion from a blurred image, as in Petsiuk et al.).
    The class probability is the softmax of the model's logits.
    """
    _check_positive_int("steps", steps)
    _check_positive_int("block", block)
    for kind in kinds:
        _check_choice("kind", kind, CURVE_KINDS)
    chosen = {**DEFAULT_SUBSTRATE, **(substrates or {})}
    for kind, value in chosen.items():
        _check_choice("kind", kind, KINDS)
        _check_choice("substrate", value, SUBSTRATES)
    batch, single = checked_images(model, image)
    if not single:
        raise ValueError("deletion/insertion curves take one image (H, W, 3)")
    img = batch[0]
    height, width = img.shape[:2]
    cls = int(class_indices(model, class_index, 1)[0])
    replaced = {kind: substrate(img, chosen[kind]) for kind in KINDS}
    flat_img = img.reshape(height * width, -1)

    # One "frame" per curve point: (start image, end image, pixel order, pixels changed).
    # Frames that are the untouched start or the fully changed end are scored once.
    jobs, frame_of_point, unique_frames, index_of = [], [], [], {}
    for name, saliency in maps.items():
        if np.shape(saliency)[:2] != (height, width):
            raise ValueError(
                f"map {name!r} has shape {np.shape(saliency)[:2]}, the image {(height, width)}"
            )
        for order in ORDERS:
            wanted = [k for k in kinds if (k.endswith("_lerf")) == (order == "lerf")]
            if not wanted:
                continue
            pixels, ends = region_order(saliency, block, seed, order)
            region_counts = np.round(np.linspace(0, ends.size, steps + 1)).astype(int)
            counts = np.concatenate([[0], ends])[region_counts]
            for kind in wanted:
                base = kind.removesuffix("_lerf")
                other = replaced[base]
                start, end = (img, other) if base == "deletion" else (other, img)
                points = []
                for count in counts:
                    if count == 0:
                        key = (base, "start")
                    elif count == pixels.size:
                        key = (base, "end")
                    else:
                        key = ("frame", len(unique_frames))
                    if key not in index_of:
                        index_of[key] = len(unique_frames)
                        unique_frames.append((start, end, pixels, int(count)))
                    points.append(index_of[key])
                jobs.append((name, kind, base, order, counts / pixels.size))
                frame_of_point.append(points)

    probabilities = np.empty(len(unique_frames))
    size = resolve_batch_size(model, batch_size)  # larger chunks are no faster per image
    for part in chunks(len(unique_frames), size):
        frames = np.empty((part.stop - part.start, *img.shape), np.float32)
        for k, (start, end, pixels, count) in enumerate(unique_frames[part]):
            frame = start.reshape(flat_img.shape).copy()
            chosen_pixels = pixels[:count]
            frame[chosen_pixels] = end.reshape(flat_img.shape)[chosen_pixels]
            frames[k] = frame.reshape(img.shape)
        logits = batch_logits(model, frames).astype(np.float64)
        probabilities[part] = softmax(logits)[:, cls]

    result: dict[str, dict[str, Curve]] = {name: {} for name in maps}
    for (name, kind, base, order, fractions), points in zip(jobs, frame_of_point, strict=True):
        result[name][kind] = Curve(base, fractions, probabilities[points], order)
    return result


def _one_curve(model, image, class_index, saliency, kind, order, steps, substrate_kind,
               batch_size, seed, block) -> Curve:
    _check_choice("order", order, ORDERS)
    key = kind if order == "morf" else f"{kind}_lerf"
    return deletion_insertion_curves(
        model, image, class_index, {"map": saliency}, (key,), steps, block,
        {kind: substrate_kind}, batch_size, seed,
    )["map"][key]


def deletion_curve(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    saliency: np.ndarray,
    steps: int = 32,
    substrate_kind: str = "black",
    batch_size: int | None = None,
    seed: int = 0,
    block: int = 1,
    order: str = "morf",
) -> Curve:
    """Class probability as the most salient pixels are replaced by the substrate (black).

    ``block`` and ``order`` as in :func:`region_order` (defaults: single pixels, most
    relevant first, Petsiuk et al.'s protocol).
    """
    return _one_curve(model, image, class_index, saliency, "deletion", order, steps,
                      substrate_kind, batch_size, seed, block)


def insertion_curve(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    saliency: np.ndarray,
    steps: int = 32,
    substrate_kind: str = "blur",
    batch_size: int | None = None,
    seed: int = 0,
    block: int = 1,
    order: str = "morf",
) -> Curve:
    """Class probability as the most salient pixels are put back into a blurred image."""
    return _one_curve(model, image, class_index, saliency, "insertion", order, steps,
                      substrate_kind, batch_size, seed, block)


def deletion_insertion_auc(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    saliency: np.ndarray,
    steps: int = 32,
    block: int = 1,
    batch_size: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Both scores for one map: ``{"deletion_auc": ... (lower is better),
    "insertion_auc": ... (higher is better)}`` (deletion to black, insertion from blur)."""
    result = deletion_insertion_curves(
        model, image, class_index, {"map": saliency}, KINDS, steps, block,
        batch_size=batch_size, seed=seed,
    )["map"]
    return {
        "deletion_auc": result["deletion"].auc,
        "insertion_auc": result["insertion"].auc,
    }


def completeness_gap(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    attributions: np.ndarray,
    baseline: float | np.ndarray | None = None,
) -> Completeness:
    """How far pixel attributions are from summing to f(x) - f(baseline) (f = class logit).

    Integrated Gradients promises sum(attributions) = f(x) - f(x') (completeness); its
    numerical integral misses it by a gap that more steps shrink. Any attribution map
    in pixel units, shaped like the image (e.g. gradient x input, whose baseline is
    black), can be measured the same way. ``baseline``: None (black), a number, or an
    image-shaped array. Read ``.relative_gap`` (0.01 = 1 %) or print the result.
    """
    batch, single = checked_images(model, image)
    if not single:
        raise ValueError("completeness_gap takes one image (H, W, 3)")
    img = batch[0]
    values = np.asarray(attributions, dtype=np.float64)
    if values.shape != img.shape:
        raise ValueError(
            f"attributions must be shaped like the image {img.shape} (per pixel and channel), "
            f"got {values.shape}"
        )
    cls = int(class_indices(model, class_index, 1)[0])
    base = baseline_image(img, baseline)
    logits = batch_logits(model, np.stack([img, base]))[:, cls].astype(np.float64)
    return Completeness(float(values.sum()), float(logits[0]), float(logits[1]))
