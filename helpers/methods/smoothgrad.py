"""SmoothGrad (Smilkov et al., 2017): average a method over noisy copies of the image."""

from __future__ import annotations

import keras
import numpy as np

from .aggregates import MapAggregate, check_aggregate
from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .checks import smoothgrad_settings
from .gradients import AttributionMethod, ClassIndex, vanilla_gradients

#: The paper's settings (Smilkov et al., 2017: sigma 10-20 % of the range, n about 50), one
#: argument away: ``smoothgrad(..., noise=PAPER_NOISE, n=PAPER_SAMPLES)``.
PAPER_NOISE, PAPER_SAMPLES = 0.15, 50


def smoothgrad(
    model: keras.Model,
    image: np.ndarray,
    class_index: ClassIndex,
    n: int = 100,
    noise: float = 0.20,
    method: AttributionMethod = vanilla_gradients,
    seed: int = 0,
    batch_size: int | None = None,
    progress: Progress = None,
    aggregate: str = "mean",
    **method_kwargs,
) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): the average of ``method`` over ``n`` noisy copies.

    Args:
        n: noisy copies (default 100: two seeds then give the same map at a 2-pixel
            scale, correlation >= 0.95 on the course's photos; the paper used 50).
        noise: the Gaussian noise's standard deviation as a fraction of the image's value
            range (max - min), as in the paper. Default 0.20, the top of the paper's
            10-20 %: on EfficientNet-Lite0 the paper's 0.15 (``noise=PAPER_NOISE``) gives a
            map no smoother than the plain gradient, while above 0.20 the model stops
            seeing the espresso in its noisy copies (``benchmarks/smoothgrad_defaults.py``).
            0 gives no noise.
        method: any attribution method with this module's call style, e.g.
            :func:`vanilla_gradients` (the paper), :func:`gradient_x_input`, or
            :func:`helpers.grad_cam` (the variant the workshop text describes).
        seed: seeds the noise. Every image's draws start from the seed, so an image's map
            does not depend on the batch it is in, nor on the chunk size.
        batch_size: noisy copies per forward/backward pass (default: sized to keep the
            activations within about 1 GiB), so memory does not grow with ``n``.
        progress: None (a bar when it takes more than one chunk), False, or a function
            that receives the fraction done.
        aggregate: ``"mean"`` (SmoothGrad), ``"square"`` (SmoothGrad-squared, the mean of
            the squared maps; Hooker et al., 2019) or ``"variance"`` (VarGrad, their
            variance; Adebayo et al., 2018): same noise, same seed
            (:mod:`helpers.methods.aggregates`).

    Returns the aggregated map, shaped like one ``method`` result.
    """
    check_aggregate(aggregate)
    n, noise, seed = smoothgrad_settings(n, noise, seed, method)
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    results = []
    with progress_bar(n * len(batch), progress, "SmoothGrad", size) as advance:
        for img, cls in zip(batch, classes, strict=True):
            rng = np.random.default_rng(seed)  # per image: independent of the batch
            sigma = noise * float(img.max() - img.min())
            combined = MapAggregate(aggregate)
            for part in chunks(n, size):
                count = part.stop - part.start
                noisy = rng.standard_normal((count, *img.shape), dtype=np.float32)
                noisy *= sigma
                noisy += img
                maps = np.asarray(
                    method(model, noisy, [int(cls)] * count, batch_size=size, **method_kwargs)
                )
                combined.add(maps)
                advance(count)
            results.append(combined.result())
    return unbatch(np.stack(results), single)
