"""Integrated Gradients (Sundararajan et al., 2017), with its completeness check."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import keras
import numpy as np

from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .checks import integrated_gradients_settings
from .gradients import ClassIndex
from .ig_path import adaptive_path_integral, auto_evaluations, check_auto_settings
from .kernels import weighted_path_gradients


@dataclass(frozen=True)
class Completeness:
    """How well attributions add up: IG promises sum(attributions) = f(x) - f(baseline)."""

    attribution_sum: float
    score_input: float
    score_baseline: float
    steps: int | None = None  # intervals of the path integral used
    converged: bool | None = None  # steps="auto": False if it stopped at max_steps

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
            + ("" if self.steps is None else f" with {self.steps} steps")
            + (" (stopped at max_steps before the tolerance)" if self.converged is False else "")
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
    steps: int | str = "auto",
    tolerance: float = 0.05,
    max_steps: int = 512,
    batch_size: int | None = None,
    progress: Progress = None,
) -> IntegratedGradientsResult:
    """Integrated Gradients (Sundararajan et al., 2017) with its completeness check.

    attributions = (x - x') * integral over a in [0, 1] of grad f(x' + a (x - x')) da,
    the integral by the trapezoid rule on ``steps`` intervals (``steps + 1`` gradient
    evaluations, chunked). ``baseline`` x': None (black, all zeros), a number (a flat
    grey), or an image-shaped array. f is the class logit.

    Completeness says sum(attributions) = f(x) - f(x'); the result reports how far the
    numerical integral is from that (``result.completeness.relative_gap``). More steps
    shrink the gap, not always monotonically.

    ``steps="auto"`` (default) refines the integral until the gap is at most ``tolerance``
    (5 %) and a further doubling agrees with it (:mod:`helpers.methods.ig_path`: points
    dense near the baseline, every gradient reused), with at most ``max_steps`` intervals;
    ``completeness.steps`` and ``completeness.converged`` say what it took (a warning
    when it stopped at the cap). An integer gives the plain trapezoid rule on that many
    equal intervals (``tolerance`` and ``max_steps`` are then not used).
    """
    baseline, steps = integrated_gradients_settings(baseline, steps)
    if steps == "auto":
        return _integrated_gradients_auto(
            model, image, class_index, baseline, tolerance, max_steps, batch_size, progress
        )
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] = 0.5 / steps
    attributions, checks = [], []
    with progress_bar((steps + 1) * len(batch), progress, "Integrated Gradients", size) as advance:
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
                advance(part.stop - part.start)
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
                    steps=steps,
                )
            )
    stacked = unbatch(np.stack(attributions), single)
    return IntegratedGradientsResult(stacked, checks[0] if single else checks)


def _integrated_gradients_auto(
    model, image, class_index, baseline, tolerance, max_steps, batch_size, progress
) -> IntegratedGradientsResult:
    """``steps="auto"``: :func:`~helpers.methods.ig_path.adaptive_path_integral` per image."""
    check_auto_settings(tolerance, max_steps)
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    cap = auto_evaluations(max_steps)  # the bar's total: the most it can take per image
    attributions, checks = [], []
    with progress_bar(cap * len(batch), progress, "Integrated Gradients", size) as advance:
        for img, cls in zip(batch, classes, strict=True):
            base = baseline_image(img, baseline)
            delta = img - base
            done = [0]

            def counted(count: int, done=done) -> None:
                done[0] += count
                advance(count)

            path = adaptive_path_integral(
                model, base, delta, int(cls), size, tolerance, max_steps, counted
            )
            advance(cap - done[0])  # stopped before the cap: the rest of this image's share
            attribution = (delta * path.integral).astype(np.float32)
            check = Completeness(
                float(attribution.sum(dtype=np.float64)),
                path.score_input,
                path.score_baseline,
                steps=path.steps,
                converged=path.converged,
            )
            if not path.converged:
                warnings.warn(
                    f"Integrated Gradients did not reach tolerance {tolerance:.0%}: {check}",
                    stacklevel=3,
                )
            attributions.append(attribution)
            checks.append(check)
    stacked = unbatch(np.stack(attributions), single)
    return IntegratedGradientsResult(stacked, checks[0] if single else checks)
