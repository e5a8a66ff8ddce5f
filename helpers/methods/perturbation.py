"""What the black-box methods share: superpixels, what replaces a hidden region, and the
class score of perturbed copies of an image, scored in chunks.

* :func:`superpixels`: SLIC (Achanta et al., 2012) segments for LIME and KernelSHAP, whose
  "players" are superpixels; :func:`felzenszwalb_masks`: XRAI's overlapping regions from
  six Felzenszwalb segmentations, built exactly as PAIR's ``saliency`` builds them.
* :func:`removed_image`: the image every hidden pixel is taken from (the *baseline*):
  ImageNet's mean colour by default (what occlusion fills patches with, and what RISE's
  reference code gets when it multiplies a mean-subtracted image by a mask), black, a
  blurred copy, LIME's per-superpixel mean colour, a colour or an image.
* :func:`coalition_images` / :func:`class_scores`: a batch of copies with some superpixels
  kept and the rest taken from the baseline, and the class score of a batch.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .checks import ParameterError, finite_array, finite_number, positive_int
from .occlusion import IMAGENET_MEAN_RGB

#: What a hidden pixel becomes (``baseline=`` of LIME, KernelSHAP and RISE).
BASELINES = {
    "mean": "ImageNet's mean colour (occlusion's fill; RISE's reference code)",
    "black": "black (all zeros)",
    "blur": "a Gaussian blur of the image (sigma = 10 % of its shorter side)",
    "segment_mean": "each superpixel's own mean colour (the lime package's default)",
}
SCORES = ("logit", "probability")
#: XRAI's segmentations (PAIR ``saliency``): Felzenszwalb scales on a 224 x 224 copy in
#: [-1, 1], sigma 0.8, segments of at least 150 pixels, each dilated by a disk of radius 5.
FELZENSZWALB_SCALES = (50, 100, 150, 250, 500, 1200)


def check_choice(name: str, value: Any, allowed) -> str:
    """``value`` if it is one of ``allowed`` (strings), else a ParameterError naming them."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(map(repr, allowed))
        raise ParameterError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_baseline(baseline: Any) -> str | float | np.ndarray:
    """A name of :data:`BASELINES`, a finite number (a flat grey), one value per channel
    or an image-shaped array of finite values."""
    what = f"one of {', '.join(map(repr, BASELINES))}, a number, a colour or an image"
    if isinstance(baseline, str):
        return check_choice("baseline", baseline, BASELINES)
    if isinstance(baseline, bool) or baseline is None:
        raise ParameterError(f"baseline must be {what}, got {baseline!r}")
    if isinstance(baseline, numbers.Real):
        return finite_number("baseline", baseline)
    return finite_array("baseline", baseline, what)


def superpixels(
    image: np.ndarray, segments: int = 50, compactness: float = 10.0, sigma: float = 1.0
) -> np.ndarray:
    """SLIC superpixels of one RGB image in [0, 255]: labels (H, W), 0 .. K - 1.

    scikit-image's ``slic`` on the image scaled to [0, 1] (it works in CIELAB, where
    ``compactness`` 10 is the documented typical value; higher = squarer segments), after a
    Gaussian smoothing of ``sigma`` pixels. ``segments`` is SLIC's target: it returns
    about that many or fewer (the cat: 50 -> 40, 10 -> 6), all connected. Deterministic.
    """
    from skimage.segmentation import slic

    segments = positive_int("segments", segments, "SLIC's target number of superpixels")
    compactness = finite_number("compactness", compactness, "SLIC's compactness", low=1e-3)
    sigma = finite_number("sigma", sigma, "SLIC's smoothing in pixels", low=0.0)
    pixels = np.asarray(image, np.float64)
    if pixels.ndim != 3 or pixels.shape[-1] != 3:
        raise ValueError(f"superpixels need one RGB image (H, W, 3), got shape {pixels.shape}")
    labels = slic(pixels / 255.0, n_segments=segments, compactness=compactness, sigma=sigma,
                  start_label=0, channel_axis=-1)
    _, consecutive = np.unique(labels, return_inverse=True)
    return consecutive.reshape(labels.shape).astype(np.int32)


def felzenszwalb_masks(image: np.ndarray, dilation: int = 5) -> np.ndarray:
    """XRAI's candidate regions (K, H, W) bool, as PAIR ``saliency`` 0.2.1 makes them.

    The image is rescaled to [-1, 1] (its own min and max), resized to 224 x 224 (cubic,
    anti-aliased); Felzenszwalb's graph segmentation (sigma 0.8, at least 150 pixels per
    segment) runs at the six :data:`FELZENSZWALB_SCALES`; each segmentation is resized back
    (nearest neighbour); every segment becomes a mask, dilated by a disk of ``dilation``
    pixels. Masks of different scales overlap: that is what XRAI chooses among.
    """
    from scipy.ndimage import binary_dilation
    from skimage.morphology import disk
    from skimage.segmentation import felzenszwalb
    from skimage.transform import resize

    dilation = positive_int("dilation", dilation, "radius of each region's dilation", low=0)
    pixels = np.asarray(image)
    if not np.issubdtype(pixels.dtype, np.floating):
        pixels = pixels.astype(np.float32)
    low, high = pixels.min(), pixels.max()
    scaled = (pixels - low) / ((high - low) or 1.0) * 2.0 + -1.0  # PAIR's arithmetic, its dtype
    small = resize(scaled, (224, 224), order=3, mode="constant", preserve_range=True,
                   anti_aliasing=True)
    masks = []
    for scale in FELZENSZWALB_SCALES:
        labels = felzenszwalb(small, scale=scale, sigma=0.8, min_size=150)
        labels = resize(labels, pixels.shape[:2], order=0, preserve_range=True,
                        mode="constant", anti_aliasing=False).astype(int)
        masks.extend(labels == k for k in range(labels.min(), labels.max() + 1))
    masks = np.stack(masks)
    if dilation:
        footprint = disk(dilation).astype(bool)
        for mask in masks:  # dilate within each mask's bounding box (+ the radius): faster
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            if rows.size:
                box = (slice(max(rows[0] - dilation, 0), rows[-1] + dilation + 1),
                       slice(max(cols[0] - dilation, 0), cols[-1] + dilation + 1))
                mask[box] = binary_dilation(mask[box], structure=footprint)
    return masks


def removed_image(
    image: np.ndarray, baseline: str | float | np.ndarray, segments: np.ndarray | None = None
) -> np.ndarray:
    """The baseline x' for one image (H, W, C), float32: hidden pixels come from here."""
    image = np.asarray(image, np.float32)
    channels = image.shape[-1]
    if isinstance(baseline, str):
        if baseline == "mean":
            if channels != 3:
                raise ParameterError(
                    f"baseline 'mean' is ImageNet's RGB mean colour; this image has {channels} "
                    "channel(s): pass a number (e.g. baseline=0.0) instead"
                )
            return np.broadcast_to(np.float32(IMAGENET_MEAN_RGB), image.shape).copy()
        if baseline == "black":
            return np.zeros_like(image)
        if baseline == "blur":
            from scipy.ndimage import gaussian_filter

            sigma = 0.1 * min(image.shape[:2])
            return gaussian_filter(image, (sigma, sigma, 0), mode="nearest").astype(np.float32)
        if segments is None:
            raise ValueError("baseline 'segment_mean' needs the superpixels")
        flat, counts = segments.ravel(), np.bincount(segments.ravel())
        means = np.stack(
            [np.bincount(flat, image[..., c].ravel()) / counts for c in range(channels)], axis=-1
        )
        return means[segments].astype(np.float32)
    value = np.asarray(baseline, np.float32)
    if value.ndim == 0 or value.shape == (channels,):
        return np.broadcast_to(value, image.shape).astype(np.float32)
    if value.shape != image.shape:
        raise ParameterError(
            f"baseline must be a number, {channels} channel values or an image shaped like "
            f"the input {image.shape}, got shape {value.shape}"
        )
    return value


def coalition_images(
    image: np.ndarray, removed: np.ndarray, segments: np.ndarray, coalitions: np.ndarray
) -> np.ndarray:
    """Copies (n, H, W, C): superpixel k of copy i is the image's if ``coalitions[i, k]``,
    else the baseline's."""
    keep = np.asarray(coalitions, bool)[:, segments]  # (n, H, W)
    return np.where(keep[..., None], image[None], removed[None])


def check_score(score: Any) -> str:
    """``"logit"`` or ``"probability"``."""
    return check_choice("score", score, SCORES)


def class_scores(model, images: np.ndarray, class_index: int, score: str) -> np.ndarray:
    """The class logit or softmax probability of each image of a batch, float64 (n,)."""
    from ..models.scores import batch_logits, softmax

    logits = batch_logits(model, images).astype(np.float64)
    return logits[:, class_index] if score == "logit" else softmax(logits)[:, class_index]


def coalition_scores(
    model, image, removed, segments, coalitions, class_index, score, size, advance
) -> np.ndarray:
    """The class score of every coalition's copy (float64), ``size`` copies per pass."""
    from .batching import chunks

    values = np.empty(len(coalitions))
    for part in chunks(len(coalitions), size):
        batch = coalition_images(image, removed, segments, coalitions[part])
        values[part] = class_scores(model, batch, class_index, score)
        advance(part.stop - part.start)
    return values


def paint(segments: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A map (H, W), float32, with each superpixel's value on all its pixels."""
    return np.asarray(values, np.float32)[segments]


def combine(results: list, single: bool, stacked: tuple[str, ...]):
    """A method's result for what the caller gave: one image's result as it is; for a batch,
    one result of the same kind whose fields named in ``stacked`` are stacked arrays (one per
    image) and whose other fields are lists."""
    if single:
        return results[0]
    kind = type(results[0])
    columns = zip(kind._fields, zip(*results, strict=True), strict=True)
    return kind(*(np.stack(v) if name in stacked else list(v) for name, v in columns))

