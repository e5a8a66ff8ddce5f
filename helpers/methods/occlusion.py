"""Occlusion sensitivity (Zeiler & Fergus, 2014): hide a patch, see how much the score drops."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from ..models.scores import batch_logits, softmax
from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .checks import occlusion_settings

#: ImageNet's mean colour (RGB): a grey that the network sees as "nothing special".
IMAGENET_MEAN_RGB = (123.68, 116.779, 103.939)


def patch_positions(length: int, patch: int, stride: int) -> list[int]:
    """Start offsets along one axis; the last patch always reaches the border."""
    starts = list(range(0, length - patch + 1, stride))
    if starts[-1] != length - patch:
        starts.append(length - patch)
    return starts


def occlusion_patch_count(image_shape: tuple[int, int], patch: int, stride: int) -> int:
    """Forward passes occlusion needs for one image (plus one for the unoccluded image)."""
    height, width = image_shape
    return len(patch_positions(height, patch, stride)) * len(patch_positions(width, patch, stride))


def _fill_value(fill, channels: int) -> np.ndarray:
    value = np.asarray(IMAGENET_MEAN_RGB if fill is None else fill, dtype=np.float32)
    if value.ndim == 0:
        value = np.full(channels, value, np.float32)
    if value.shape != (channels,):
        raise ValueError(f"fill must be a number or {channels} channel values, got {fill!r}")
    return value


def _scores(model, images: np.ndarray, cls: int, score: str) -> np.ndarray:
    logits = batch_logits(model, images).astype(np.float64)
    return logits[:, cls] if score == "logit" else softmax(logits)[:, cls]


def occlusion(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    patch: int = 32,
    stride: int = 16,
    fill: float | Sequence[float] | None = None,
    score: str = "logit",
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Map (H, W) of the drop in the class score when a square patch around a pixel is hidden.

    Every patch position (stride ``stride``, the last one flush with the border) is
    filled with ``fill`` (default: ImageNet's mean colour) and scored in batches; each
    pixel gets the mean drop over the patches that covered it. Positive = hiding this
    region lowers the score (evidence for the class); negative = evidence against.

    ``score``: ``"logit"`` (default) or ``"probability"``. Costs
    :func:`occlusion_patch_count` forward passes per image (no backward pass).
    """
    patch, stride, fill = occlusion_settings(patch, stride, fill)
    if score not in ("logit", "probability"):
        raise ValueError(f"score must be 'logit' or 'probability', got {score!r}")
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    height, width, channels = batch.shape[1:]
    if patch > min(height, width):
        raise ValueError(f"patch {patch} is larger than the image ({height}x{width})")
    if stride > patch:
        raise ValueError(
            f"stride {stride} is larger than the patch {patch}: pixels between patches would "
            "never be hidden; use stride <= patch"
        )
    colour = _fill_value(fill, channels)
    boxes = [
        (top, left)
        for top in patch_positions(height, patch, stride)
        for left in patch_positions(width, patch, stride)
    ]
    maps = []
    with progress_bar(len(boxes) * len(batch), progress, "occlusion", size) as advance:
        for img, cls in zip(batch, classes, strict=True):
            reference = _scores(model, img[None], int(cls), score)[0]
            drop_sum = np.zeros((height, width))
            cover = np.zeros((height, width))
            for part in chunks(len(boxes), size):  # larger chunks are no faster per image
                occluded = np.repeat(img[None], part.stop - part.start, axis=0)
                for k, (top, left) in enumerate(boxes[part]):
                    occluded[k, top : top + patch, left : left + patch] = colour
                drops = reference - _scores(model, occluded, int(cls), score)
                for (top, left), drop in zip(boxes[part], drops, strict=True):
                    drop_sum[top : top + patch, left : left + patch] += drop
                    cover[top : top + patch, left : left + patch] += 1
                advance(len(drops))
            maps.append((drop_sum / cover).astype(np.float32))
    return unbatch(np.stack(maps), single)
