"""Gradient-based attribution methods, as their papers define them.

All methods share one call style: ``method(model, image, class_index, ...)`` where
``image`` is one (H, W, 3) image or a batch (N, H, W, 3) of RGB pixels in [0, 255], the
model takes pixels (preprocessing inside, see :func:`helpers.load_model`), and the
result is a float32 numpy array in pixel space with the batch axis only if you gave one.
Every gradient is the gradient of the class *logit* (pre-softmax score).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import keras
import numpy as np

from .batching import (
    checked_images,
    chunks,
    class_indices,
    resolve_batch_size,
    unbatch,
)
from .gradients import logit_gradients, weighted_path_gradients

ClassIndex = int | Sequence[int]
AttributionMethod = Callable[..., np.ndarray]


def _gradients_in_chunks(model, batch, classes, batch_size) -> tuple[np.ndarray, np.ndarray]:
    grads = np.empty_like(batch)
    scores = np.empty(len(batch), dtype=np.float32)
    for part in chunks(len(batch), batch_size):
        grads[part], scores[part] = logit_gradients(model, batch[part], classes[part])
    return grads, scores


def vanilla_gradients(
    model: keras.Model, image: np.ndarray, class_index: ClassIndex, batch_size: int | None = None
) -> np.ndarray:
    """Gradient of the class logit w.r.t. every pixel and channel (Simonyan et al., 2014).

    Returns (H, W, 3), signed. For the classic saliency picture reduce it with
    :func:`helpers.maps.reduce_channels` (max |g| over the colour channels).
    """
    batch, single = checked_images(model, image)
    classes = class_indices(model, class_index, len(batch))
    grads, _ = _gradients_in_chunks(model, batch, classes, resolve_batch_size(model, batch_size))
    return unbatch(grads, single)


def gradient_x_input(
    model: keras.Model, image: np.ndarray, class_index: ClassIndex, batch_size: int | None = None
) -> np.ndarray:
    """Gradient times input (Shrikumar et al., 2016), elementwise, in pixel space: (H, W, 3).

    For a linear score y = w.x + b it sums exactly to y - b. Note that it is measured
    against a black image: dark pixels get little attribution whatever the gradient.
    """
    batch, single = checked_images(model, image)
    classes = class_indices(model, class_index, len(batch))
    grads, _ = _gradients_in_chunks(model, batch, classes, resolve_batch_size(model, batch_size))
    return unbatch(grads * batch, single)


def smoothgrad(
    model: keras.Model,
    image: np.ndarray,
    class_index: ClassIndex,
    n: int = 50,
    noise: float = 0.15,
    method: AttributionMethod = vanilla_gradients,
    seed: int = 0,
    batch_size: int | None = None,
    **method_kwargs,
) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): the average of ``method`` over ``n`` noisy copies.

    Args:
        noise: the Gaussian noise's standard deviation as a fraction of the image's value
            range (max - min), as in the paper (10-20 % works well). 0 gives no noise.
        method: any attribution method with this module's call style, e.g.
            :func:`vanilla_gradients` (the paper), :func:`gradient_x_input`, or
            :func:`helpers.grad_cam` (the variant the workshop text describes).
        seed: seeds the noise; the same seed gives the same map.
        batch_size: noisy copies per forward/backward pass (default: sized to keep the
            activations within about 1 GiB), so memory does not grow with ``n``.

    Returns the averaged map, shaped like one ``method`` result.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (number of noisy samples) must be a positive integer, got {n!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(
            "noise is a fraction of the input range (e.g. 0.15 for 15 %) and must be >= 0, "
            f"got {noise!r}"
        )
    batch, single = checked_images(model, image)
    classes = class_indices(model, class_index, len(batch))
    size = resolve_batch_size(model, batch_size)
    rng = np.random.default_rng(seed)
    results = []
    for img, cls in zip(batch, classes, strict=True):
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
        results.append((total / n).astype(np.float32))
    return unbatch(np.stack(results), single)


@dataclass(frozen=True)
class Completeness:
    """How well attributions add up: IG promises sum(attributions) = f(x) - f(baseline)."""

    attribution_sum: float
    score_input: float
    score_baseline: float

    @property
    def score_difference(self) -> float:
        """f(x) - f(baseline), the target the attributions should sum to."""
        return self.score_input - self.score_baseline

    @property
    def absolute_gap(self) -> float:
        """|sum(attributions) - (f(x) - f(baseline))|."""
        return abs(self.attribution_sum - self.score_difference)

    @property
    def relative_gap(self) -> float:
        """The absolute gap as a fraction of |f(x) - f(baseline)| (0.01 = 1 %)."""
        return self.absolute_gap / max(abs(self.score_difference), 1e-12)

    def __str__(self) -> str:
        return (
            f"sum of attributions {self.attribution_sum:.4f} vs f(x) - f(x') = "
            f"{self.score_input:.4f} - {self.score_baseline:.4f} = {self.score_difference:.4f}: "
            f"gap {self.relative_gap:.2%}"
        )


class IntegratedGradientsResult(NamedTuple):
    """Attributions (H, W, 3) or (N, H, W, 3), and the completeness check (one per image)."""

    attributions: np.ndarray
    completeness: Completeness | list[Completeness]


def baseline_image(img: np.ndarray, baseline) -> np.ndarray:
    """The baseline x' for one image: None -> black; a number -> a flat image of it;
    else an image-shaped array (checked)."""
    if baseline is None:
        return np.zeros_like(img)
    if np.ndim(baseline) == 0:
        return np.full_like(img, float(baseline))
    base = np.asarray(baseline, dtype=np.float32)
    if base.shape != img.shape:
        raise ValueError(
            f"baseline must be a number or an array shaped like the image {img.shape}, "
            f"got shape {base.shape}"
        )
    return base


def integrated_gradients(
    model: keras.Model,
    image: np.ndarray,
    class_index: ClassIndex,
    baseline: float | np.ndarray | None = None,
    steps: int = 64,
    batch_size: int | None = None,
) -> IntegratedGradientsResult:
    """Integrated Gradients (Sundararajan et al., 2017) with its completeness check.

    attributions = (x - x') * integral over a in [0, 1] of grad f(x' + a (x - x')) da,
    the integral by the trapezoid rule on ``steps`` intervals (``steps + 1`` gradient
    evaluations, chunked). ``baseline`` x': None (black, all zeros), a number (a flat
    grey), or an image-shaped array. f is the class logit.

    Completeness says sum(attributions) = f(x) - f(x'); the result reports how far the
    numerical integral is from that (``result.completeness.relative_gap``). More steps
    shrink the gap, not always monotonically.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    batch, single = checked_images(model, image)
    classes = class_indices(model, class_index, len(batch))
    size = resolve_batch_size(model, batch_size)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] = 0.5 / steps
    attributions, checks = [], []
    for img, cls in zip(batch, classes, strict=True):
        base = baseline_image(img, baseline)
        delta = img - base
        integral = np.zeros(img.shape, dtype=np.float64)
        endpoint_scores = {}
        for part in chunks(steps + 1, size):
            weighted, scores = weighted_path_gradients(
                model, base, delta, alphas[part], weights[part], int(cls)
            )
            integral += weighted
            if part.start == 0:
                endpoint_scores["baseline"] = float(scores[0])
            if part.stop == steps + 1:
                endpoint_scores["input"] = float(scores[-1])
        attribution = (delta * integral).astype(np.float32)
        attributions.append(attribution)
        checks.append(
            Completeness(
                float(attribution.sum(dtype=np.float64)),
                endpoint_scores["input"],
                endpoint_scores["baseline"],
            )
        )
    stacked = unbatch(np.stack(attributions), single)
    return IntegratedGradientsResult(stacked, checks[0] if single else checks)
