"""Running the methods for the assignment: each one timed after a warm-up, and scored.

Which methods exist, their settings and how their output becomes a 2-D map all come from
:mod:`helpers.methods.registry`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..methods.registry import METHODS, UnknownMethodError, parse_methods
from .rules import FAST_METRIC_STEPS, METRIC_STEPS, RANDOM_SEED, ReportError

Progress = Callable[[str], None] | None


def chosen_methods(methods: str | Iterable[str] | None) -> tuple[str, ...]:
    """:func:`helpers.methods.registry.parse_methods`, raising :class:`ReportError`."""
    try:
        return parse_methods(methods)
    except UnknownMethodError as exc:
        raise ReportError(str(exc)) from None


def default_methods() -> tuple[str, ...]:
    """The methods run when none are named: every registered method whose ``by_default``
    is true (``helpers.explain`` without ``--methods`` on a new folder, ``make_report``
    with ``methods=None``, notebook 11)."""
    return parse_methods(None)


def opt_in_methods() -> tuple[str, ...]:
    """The registered methods run only when named (or with ``"all"``)."""
    return tuple(m for m in METHODS if m not in default_methods())


def method_settings(
    methods: Iterable[str], fast: bool = False, overrides: Mapping[str, Mapping] | None = None
) -> dict[str, dict[str, Any]]:
    """Settings for each method: the registry's defaults, then its fast values (``fast``),
    then ``overrides``."""
    settings = {m: METHODS[m].settings(fast, **(overrides or {}).get(m, {})) for m in methods}
    unknown = set(overrides or {}) - set(settings)
    if unknown:
        raise ReportError(f"settings given for methods that are not run: {sorted(unknown)}")
    return settings


@dataclass
class MethodResult:
    """One method's output on one image, with its cost and scores."""

    method: str
    display_map: np.ndarray  # (H, W) float32: what the PNG shows and the metrics rank
    attributions: np.ndarray | None  # (H, W, 3) raw attributions, gradient methods only
    runtime_s: float
    settings: dict[str, Any]
    completeness: Any = None  # helpers.Completeness for Integrated Gradients
    deletion_auc: float | None = None
    insertion_auc: float | None = None
    metric_steps: int | None = None  # steps of the deletion and insertion curves

    @property
    def ig_completeness_gap(self) -> float | None:
        """|sum(attributions) - (f(x) - f(x'))| / |f(x) - f(x')| (IG only)."""
        return None if self.completeness is None else float(self.completeness.relative_gap)

    @property
    def ig_steps(self) -> int | None:
        """The path-integral intervals Integrated Gradients used (``steps="auto"`` picks them)."""
        return getattr(self.completeness, "steps", None)

    @property
    def settings_text(self) -> str:
        text = describe_settings(self.method, self.settings)
        if self.ig_steps is not None and self.settings.get("steps") == "auto":
            converged = getattr(self.completeness, "converged", None)
            text += f"; used {self.ig_steps} steps" + ("" if converged else " (the cap)")
        return text


def describe_settings(method: str, settings: Mapping[str, Any]) -> str:
    """The settings in words, e.g. 'n=50, noise=15%, seed=0'."""
    return METHODS[method].describe(settings)


def _warm_up(model, image: np.ndarray, class_index: int, methods: Iterable[str]) -> None:
    """Trace the compiled functions once, so that runtimes compare the methods, not tracing."""
    from ..methods.gradients import vanilla_gradients
    from ..models.scores import batch_logits

    batch_logits(model, image[None])
    vanilla_gradients(model, image, class_index)
    for method in methods:
        passes = METHODS[method].passes(METHODS[method].settings(), image.shape[:2])
        if passes.backward + passes.forward <= 1:  # one pass: it may compile its own function
            METHODS[method].run(model, image, class_index)


def run_one(model, image: np.ndarray, class_index: int, method: str, settings: Mapping):
    """(2-D map, raw attributions or None, completeness or None, settings used)."""
    settings = dict(settings)
    if "layer" in settings and settings["layer"] is None:  # record the layer explained
        from ..models.layers import grad_cam_layer

        settings["layer"] = grad_cam_layer(model)
    display, raw, completeness = METHODS[method].run(model, image, class_index, **settings)
    return display, raw, completeness, settings


def random_map_scores(
    model, image: np.ndarray, class_index: int, steps: int = METRIC_STEPS, seed: int = RANDOM_SEED
) -> dict[str, float]:
    """Deletion/insertion AUC of a map of uniform noise: the line to beat. Returns
    ``{"deletion_auc", "insertion_auc", "seed", "metric_steps"}``."""
    from ..evaluation.deletion_insertion import deletion_insertion_auc, random_saliency

    noise = random_saliency(image.shape[:2], seed)
    scores = deletion_insertion_auc(model, image, class_index, noise, steps=steps)
    return {**{k: float(v) for k, v in scores.items()}, "seed": seed, "metric_steps": steps}


def against_random(deletion: float, insertion: float, random_map: Mapping | None) -> str:
    """How a method's scores compare with the random map's, in words."""
    if not random_map:
        return ""
    lower = deletion < random_map["deletion_auc"]
    higher = insertion > random_map["insertion_auc"]
    if lower and higher:
        return "beats the random map on both"
    if lower or higher:
        return f"beats the random map on {'deletion' if lower else 'insertion'} only"
    return "does not beat the random map"


def run_methods(
    model,
    image: np.ndarray,
    class_index: int,
    methods: Iterable[str] | str | None = None,
    settings: Mapping[str, Mapping] | None = None,
    fast: bool = False,
    metric_steps: int | None = None,
    progress: Progress = print,
    random_map: Mapping | None = None,
) -> dict[str, MethodResult]:
    """Run each method on one image, timed (after a warm-up), and score its map.

    ``settings`` override the registry's defaults per method; ``fast`` uses its fast
    settings. ``metric_steps`` (default 32, or 12 when fast) is the number of
    steps of the deletion and insertion curves. ``progress`` receives one line per method
    (saying whether it beats ``random_map``, the random map's scores, when given).
    """
    from ..evaluation.deletion_insertion import deletion_insertion_auc

    methods = chosen_methods(methods)
    chosen = method_settings(methods, fast, settings)
    steps = metric_steps or (FAST_METRIC_STEPS if fast else METRIC_STEPS)
    image = np.asarray(image, np.float32)
    _warm_up(model, image, class_index, methods)
    results: dict[str, MethodResult] = {}
    width = max(len(m) for m in methods)
    for i, method in enumerate(methods, start=1):
        start = time.perf_counter()
        display, raw, completeness, used = run_one(
            model, image, class_index, method, chosen[method]
        )
        runtime = time.perf_counter() - start
        scores = deletion_insertion_auc(model, image, class_index, display, steps=steps)
        result = MethodResult(
            method,
            display,
            raw,
            runtime,
            used,
            completeness,
            float(scores["deletion_auc"]),
            float(scores["insertion_auc"]),
            steps,
        )
        results[method] = result
        if progress:
            gap = result.ig_completeness_gap
            extra = f", completeness gap {gap:.1%}" if gap is not None else ""
            extra += f" with {result.ig_steps} steps" if result.ig_steps else ""
            verdict = against_random(result.deletion_auc, result.insertion_auc, random_map)
            extra += f" ({verdict})" if verdict else ""
            progress(
                f"[{i}/{len(methods)}] {method:<{width}} {runtime:6.2f} s   deletion AUC "
                f"{result.deletion_auc:.3f}, insertion AUC {result.insertion_auc:.3f}{extra}"
            )
    return results


