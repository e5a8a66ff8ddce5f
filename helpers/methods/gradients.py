"""Vanilla gradients and gradient x input, as their papers define them.

All methods share one call style: ``method(model, image, class_index, ...)`` where
``image`` is one (H, W, 3) image or a batch (N, H, W, 3) of RGB pixels in [0, 255], the
model takes pixels (preprocessing inside, see :func:`helpers.load_model`), and the
result is a float32 numpy array in pixel space with the batch axis only if you gave one.
Every gradient is the gradient of the class *logit* (pre-softmax score).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .kernels import logit_gradients

ClassIndex = int | Sequence[int]
AttributionMethod = Callable[..., np.ndarray]


def gradients_in_chunks(
    model, batch, classes, batch_size: int, progress: Progress = None
) -> tuple[np.ndarray, np.ndarray]:
    """Logit gradients and logits of a checked batch, ``batch_size`` images at a time."""
    grads = np.empty_like(batch)
    scores = np.empty(len(batch), dtype=np.float32)
    with progress_bar(len(batch), progress, "gradients", batch_size) as advance:
        for part in chunks(len(batch), batch_size):
            grads[part], scores[part] = logit_gradients(model, batch[part], classes[part])
            advance(part.stop - part.start)
    return grads, scores


def vanilla_gradients(
    model: keras.Model,
    image: np.ndarray,
    class_index: ClassIndex,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Gradient of the class logit w.r.t. every pixel and channel (Simonyan et al., 2014).

    Returns (H, W, 3), signed. For the classic saliency picture reduce it with
    :func:`helpers.reduce_channels` (max |g| over the colour channels).
    """
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    grads, _ = gradients_in_chunks(model, batch, classes, size, progress)
    return unbatch(grads, single)


def gradient_x_input(
    model: keras.Model, image: np.ndarray, class_index: ClassIndex, **options
) -> np.ndarray:
    """Gradient times input (Shrikumar et al., 2016), elementwise, in pixel space: (H, W, 3).

    For a linear score y = w.x + b it sums exactly to y - b. Note that it is measured
    against a black image: dark pixels get little attribution whatever the gradient.
    ``options``: ``batch_size`` and ``progress``, as for :func:`vanilla_gradients`.
    """
    return vanilla_gradients(model, image, class_index, **options) * np.asarray(image, np.float32)
