"""SmoothGrad (Smilkov et al., 2017): average a method over noisy copies of the image."""

from __future__ import annotations

import keras
import numpy as np

from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .checks import smoothgrad_settings
from .gradients import AttributionMethod, ClassIndex, vanilla_gradients


def smoothgrad(
    model: keras.Model,
    image: np.ndarray,
    class_index: ClassIndex,
    n: int = 50,
    noise: float = 0.15,
    method: AttributionMethod = vanilla_gradients,
    seed: int = 0,
    batch_size: int | None = None,
    progress: Progress = None,
    **method_kwargs,
) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): the average of ``method`` over ``n`` noisy copies.

    Args:
        noise: the Gaussian noise's standard deviation as a fraction of the image's value
            range (max - min), as in the paper (10-20 % works well). 0 gives no noise.
        method: any attribution method with this module's call style, e.g.
            :func:`vanilla_gradients` (the paper), :func:`gradient_x_input`, or
            :func:`helpers.grad_cam` (the variant the workshop text describes).
        seed: seeds the noise. Every image's draws start from the seed, so an image's map
            does not depend on the batch it is in, nor on the chunk size.
        batch_size: noisy copies per forward/backward pass (default: sized to keep the
            activations within about 1 GiB), so memory does not grow with ``n``.
        progress: None (a bar when it takes more than one chunk), False, or a function
            that receives the fraction done.

    Returns the averaged map, shaped like one ``method`` result.
    """
    n, noise, seed = smoothgrad_settings(n, noise, seed, method)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (number of noisy samples) must be a positive integer, got {n!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(
            "noise is a fraction of the input range (e.g. 0.15 for 15 %) and must be >= 0, "
            f"got {noise!r}"
        )
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    results = []
    with progress_bar(n * len(batch), progress, "SmoothGrad", size) as advance:
        for img, cls in zip(batch, classes, strict=True):
            rng = np.random.default_rng(seed)  # per image: independent of the batch
            sigma = noise * float(img.max() - img.min())
            total = None
            for part in chunks(n, size):
                count = part.stop - part.start
                noisy = rng.standard_normal((count, *img.shape), dtype=np.float32)
                noisy *= sigma
                noisy += img
                maps = np.asarray(
                    method(model, noisy, [int(cls)] * count, batch_size=size, **method_kwargs)
                )
                part_sum = maps.sum(axis=0, dtype=np.float64)
                total = part_sum if total is None else total + part_sum
                advance(count)
            results.append((total / n).astype(np.float32))
    return unbatch(np.stack(results), single)
