"""The one list of saliency methods: every tool that runs, shows or checks methods reads it.

The report and ``python -m helpers.explain`` (names, ``--methods`` and its help, settings,
the 2-D map that is saved and scored), the explorer (its method menu and controls), the
benchmark (settings and the floor) and the submission checker all read :data:`METHODS`.
Defaults live here and nowhere else.

Importing this module is light (no TensorFlow): each method's function is named by its
dotted path and imported on first use, so the submission checker stays fast.

**Adding a method is one file and one entry.**

1. Write ``helpers/methods/my_method.py`` with a function in the library's call style,
   ``my_method(model, image, class_index, *, <settings>, batch_size=None, progress=None)``,
   using the skeleton of :mod:`helpers.methods.batching` (:func:`~helpers.methods.batching.
   prepare`, :func:`~helpers.methods.batching.progress_bar`, ``unbatch``).
2. Add one :class:`Method` to the list at the bottom of this file (or call
   :func:`register` from your own code)::

       Method(
           name="my_method", aliases=("mm",), title="My method",
           function="helpers.methods.my_method:my_method",  # imported on first use
           paper="Author et al. (2024), Title",
           defaults={"n": 20}, fast={"n": 5},  # the only place the defaults live
           map="max_abs",  # or "sum", or "2d" when the function returns (H, W) maps
           passes=lambda s, hw: Passes(backward=s["n"]),  # the benchmark's floor
           controls=(Control("n", "Samples", 4, 100, 4),),  # the explorer's sliders
           explorer={"n": 8},  # where the defaults are too slow for the explorer
       )

   It then appears in ``helpers.explain --methods``, the report, the explorer and the
   benchmark. To export it as ``helpers.my_method`` add it to ``helpers/__init__.py``.

The function may return a map or an object with ``.attributions`` (and ``.completeness``,
as Integrated Gradients does). Give its signature the same defaults as the record
(``tests/test_registry.py`` checks that they match). A new CAM variant needs only a channel
weight function and :func:`helpers.methods.cam.cam_method`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: How a method's output becomes the 2-D map that is drawn, saved and scored.
MAP_REDUCTIONS: dict[str, str] = {
    "2d": "already 2-D",
    "max_abs": "max |value| over the RGB channels",
    "sum": "signed sum over the RGB channels",
}


class UnknownMethodError(ValueError):
    """A method name that is not registered (the message lists the valid ones)."""


@dataclass(frozen=True)
class Passes:
    """Passes through the network one image needs: the benchmark's floor is
    ``backward`` x (forward+backward cost) + ``forward`` x (forward cost)."""

    backward: float = 0
    forward: float = 0


@dataclass(frozen=True)
class Control:
    """One explorer control for a setting: a slider (``low``..``high`` by ``step``), or a
    menu of the model's layers when ``kind="layer"``."""

    setting: str
    label: str
    low: float = 0
    high: float = 0
    step: float = 1
    kind: str = "int"  # "int", "float" or "layer"


@dataclass(frozen=True)
class Method:
    """One saliency method: how to call it, its defaults and how to show its result."""

    name: str
    title: str
    function: str | Callable[..., Any]  # "package.module:function", imported on first use
    paper: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    fast: Mapping[str, Any] = field(default_factory=dict)
    map: str = "2d"  # a key of MAP_REDUCTIONS
    map_text: str = ""  # what the 2-D map shows, in words (default: MAP_REDUCTIONS[map])
    passes: Callable[[Mapping[str, Any], tuple[int, int]], Passes] = lambda s, hw: Passes(1)
    controls: tuple[Control, ...] = ()
    aliases: tuple[str, ...] = ()
    #: Run when no method is named (the assignment and ``helpers.explain``); ``"all"`` runs
    #: every method. Variants that add little for a first comparison are opt-in.
    by_default: bool = True
    #: Settings the explorer starts from, where the defaults are too slow (> 2 s on Lite0).
    explorer: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.map not in MAP_REDUCTIONS:
            raise ValueError(f"map must be one of {list(MAP_REDUCTIONS)}, got {self.map!r}")

    def resolve(self) -> Callable[..., Any]:
        """The method's function (imported now if it was given as a dotted path)."""
        if callable(self.function):
            return self.function
        module, _, name = self.function.partition(":")
        return getattr(importlib.import_module(module), name)

    def settings(self, fast: bool = False, **overrides: Any) -> dict[str, Any]:
        """The defaults, then the fast values (if ``fast``), then ``overrides``."""
        return {**self.defaults, **(self.fast if fast else {}), **overrides}

    def count_passes(self, settings: Mapping[str, Any], hw: tuple[int, int], model=None) -> Passes:
        """``passes(settings, hw)``, with ``model=`` too if it takes one (Score-CAM)."""
        takes_model = "model" in inspect.signature(self.passes).parameters
        return self.passes(settings, hw, model=model) if takes_model else self.passes(settings, hw)

    def describe(self, settings: Mapping[str, Any] | None = None) -> str:
        """The settings in words, e.g. 'n=50, noise=15%, seed=0'."""
        values = self.settings(**(settings or {}))
        return ", ".join(f"{k}={_word(k, v)}" for k, v in values.items()) or "-"

    @property
    def map_description(self) -> str:
        return self.map_text or MAP_REDUCTIONS[self.map]

    @property
    def signed(self) -> bool:
        """True when the 2-D map is signed (``map="sum"``: Integrated Gradients, gradient x
        input). Pictures then show its magnitude by default, or the signed map on a grey
        photo when asked (:mod:`helpers.viz.attribution`)."""
        return self.map == "sum"

    def run(self, model, image: np.ndarray, class_index, **settings: Any):
        """Call the method with its defaults (overridden by ``settings``); returns
        ``(2-D map(s), raw attributions or None, completeness or None)``."""
        output = self.resolve()(model, image, class_index, **self.settings(**settings))
        return self.to_map(output)

    def to_map(self, output: Any):
        """``(map, raw attributions or None, completeness or None)`` from the raw output."""
        completeness = getattr(output, "completeness", None)
        raw = np.asarray(getattr(output, "attributions", output), np.float32)
        if self.map == "2d":
            return raw, None, completeness
        from .maps import reduce_channels

        return reduce_channels(raw, self.map), raw, completeness


#: What None means for a setting, in the settings' description.
NONE_WORDS = {"baseline": "black", "layer": "last conv block", "fill": "mean colour"}


def _word(key: str, value: Any) -> str:
    if value is None:
        return NONE_WORDS.get(key, "default")
    if key in ("noise", "tolerance") and isinstance(value, float):
        return f"{value:.0%}"
    if isinstance(value, np.ndarray):
        return f"array {value.shape}"
    return str(value)


#: Every registered method, by name, in the order the course introduces them.
METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add (or replace) a method; returns it. Its name and aliases must be new."""
    taken = {a: m.name for m in METHODS.values() for a in (m.name, *m.aliases)}
    for key in (method.name, *method.aliases):
        if taken.get(key, method.name) != method.name:
            raise ValueError(f"{key!r} already names the method {taken[key]!r}")
    METHODS[method.name] = method
    return method


register_method = register


def unregister(name: str) -> None:
    """Remove a method (for tests and experiments)."""
    METHODS.pop(name, None)


def get(name: str) -> Method:
    """The method called ``name`` (or one of its aliases; case and hyphens ignored)."""
    return METHODS[parse_methods(name)[0]]


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _aliases() -> dict[str, str]:
    return {a: m.name for m in METHODS.values() for a in m.aliases}


def canonical_name(text: str) -> str:
    """The method name a spelling stands for (case, hyphens and aliases resolved); an
    unknown spelling comes back normalised, so ``canonical_name(x) in METHODS`` tests it."""
    key = _norm(text)
    return _aliases().get(key, key)


def parse_methods(methods: str | Iterable[str] | None) -> tuple[str, ...]:
    """Method names from ``"grad_cam,ig"`` or a list; ``"all"`` gives every method, None the
    default set (every method whose ``by_default`` is true).

    Case, hyphens and aliases are accepted; duplicates are dropped; an unknown name raises
    :class:`UnknownMethodError` naming the closest match and the valid names.
    """
    if methods is None:
        return tuple(name for name, m in METHODS.items() if m.by_default)
    aliases = _aliases()
    parts = methods.split(",") if isinstance(methods, str) else list(methods)
    chosen: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise UnknownMethodError(f"method names are strings, got {part!r}")
        key = _norm(part)
        if key == "all":
            chosen.extend(METHODS)
        elif key:
            key = aliases.get(key, key)
            if key not in METHODS:
                close = difflib.get_close_matches(key, [*METHODS, *aliases], n=1, cutoff=0.6)
                hint = f" Did you mean {aliases.get(close[0], close[0])}?" if close else ""
                raise UnknownMethodError(
                    f"unknown method {part.strip()!r}.{hint} Valid methods: "
                    f"{', '.join(METHODS)} (or 'all')."
                )
            chosen.append(key)
    if not chosen:
        raise UnknownMethodError(f"no method given; choose from {', '.join(METHODS)}")
    return tuple(dict.fromkeys(chosen))


def methods_help() -> str:
    """The methods and their short names, for ``--help``."""
    return "; ".join(
        m.name + (f" ({', '.join(m.aliases)})" if m.aliases else "") for m in METHODS.values()
    )


def _occlusion_passes(s: Mapping[str, Any], hw: tuple[int, int]) -> Passes:
    from .occlusion import occlusion_patch_count  # needs TensorFlow: only called with a model

    return Passes(forward=occlusion_patch_count(hw, s["patch"], s["stride"]) + 1)


def _ig_passes(s: Mapping[str, Any], hw: tuple[int, int]) -> Passes:
    """``steps + 1`` path points; ``steps="auto"`` needs at least 17 (its first level), and
    how many more depends on the image: the benchmark uses the count a run reports."""
    return Passes(backward=(16 if s["steps"] == "auto" else s["steps"]) + 1)


def _noise_loop(
    name: str,
    aliases: tuple[str, ...],
    title: str,
    function: str,
    paper: str,
    map_text: str,
    by_default: bool = True,
) -> Method:
    """SmoothGrad's noise loop (shared by SmoothGrad, SmoothGrad-squared and VarGrad).

    Defaults measured on EfficientNet-Lite0 (``benchmarks/smoothgrad_defaults.py``): the
    largest noise at which every course photo keeps at least half its clean class
    probability (20 %), then the fewest samples whose maps from two seeds correlate
    >= 0.95 after a 2-pixel blur (100). The paper's 15 %, n = 50 is no smoother than the
    plain gradient on this model (``helpers.PAPER_NOISE``, ``helpers.PAPER_SAMPLES``).
    """
    return Method(
        name=name, aliases=aliases, title=title, paper=paper,
        function=f"helpers.methods.{function}",
        defaults={"n": 100, "noise": 0.20, "seed": 0},
        fast={"n": 8},
        explorer={"n": 48},  # the explorer within 2 s (issue 20); its slider goes to 200
        map="max_abs",
        map_text=map_text,
        passes=lambda s, hw: Passes(backward=s["n"]),
        controls=(
            Control("noise", "Noise (of range)", 0.0, 0.5, 0.05, kind="float"),
            Control("n", "Samples", 4, 200, 4),
        ),
        by_default=by_default,
    )


for _method in (
    Method(
        name="grad_cam", aliases=("gradcam",), title="Grad-CAM",
        function="helpers.methods.cam:grad_cam",
        paper="Selvaraju et al. (2017), Grad-CAM: visual explanations from deep networks "
        "via gradient-based localization",
        defaults={"layer": None},  # None: helpers.grad_cam_layer (last conv block, rectified)
        map_text="already 2-D: ReLU of the weighted feature maps, upsampled, scaled to [0, 1]",
        passes=lambda s, hw: Passes(backward=1),  # a partial backward pass, to the layer
        controls=(Control("layer", "Layer", kind="layer"),),
    ),
    Method(
        name="vanilla_gradients",
        aliases=("vanilla", "gradients", "saliency"),
        title="Vanilla gradients",
        function="helpers.methods.gradients:vanilla_gradients",
        paper="Simonyan et al. (2014), Deep inside convolutional networks",
        map="max_abs",
        map_text="max |gradient| over the RGB channels",
    ),
    _noise_loop(
        "smoothgrad", ("sg", "smooth_grad"), "SmoothGrad", "smoothgrad:smoothgrad",
        "Smilkov et al. (2017), SmoothGrad: removing noise by adding noise",
        "max |averaged gradient| over the RGB channels",
    ),
    Method(
        name="integrated_gradients", aliases=("ig",), title="Integrated Gradients",
        function="helpers.methods.integrated_gradients:integrated_gradients",
        paper="Sundararajan et al. (2017), Axiomatic attribution for deep networks",
        # "auto": refine until the completeness gap is <= tolerance; None: a black image
        defaults={"steps": "auto", "tolerance": 0.05, "max_steps": 512, "baseline": None},
        fast={"steps": 16},
        # the explorer within 2 s (issue 20): at most 33 gradients; the status line shows
        # the gap reached (most photos reach 5 % there; Grace Hopper needs 128 steps)
        explorer={"max_steps": 32},
        map="sum",
        passes=_ig_passes,
        controls=(Control("tolerance", "Tolerance (gap)", 0.01, 0.2, 0.01, kind="float"),),
    ),
    Method(
        name="gradient_x_input", aliases=("gxi", "gradient_input"), title="Gradient x input",
        function="helpers.methods.gradients:gradient_x_input",
        paper="Shrikumar et al. (2016), Not just a black box",
        map="sum",
    ),
    Method(
        name="occlusion", aliases=("occlusion_sensitivity",), title="Occlusion",
        function="helpers.methods.occlusion:occlusion",
        paper="Zeiler & Fergus (2014), Visualizing and understanding convolutional networks",
        defaults={"patch": 32, "stride": 16},
        fast={"patch": 56, "stride": 28},
        explorer={"stride": 24},  # 81 patches instead of 169: the explorer within 2 s
        map_text="already 2-D: drop in the class logit when a patch is greyed out",
        passes=_occlusion_passes,
        controls=(
            Control("patch", "Patch (px)", 16, 112, 8),
            Control("stride", "Stride", 8, 112, 8),
        ),
    ),
    _noise_loop(
        "smoothgrad_squared", ("sg2", "smoothgrad2"), "SmoothGrad-squared",
        "vargrad:smoothgrad_squared", "Hooker et al. (2019), A benchmark for "
        "interpretability methods in deep neural networks",
        "max over the RGB channels of the mean squared gradient",
        by_default=False,
    ),
    _noise_loop(
        "vargrad", ("var_grad",), "VarGrad", "vargrad:vargrad",
        "Adebayo et al. (2018), Sanity checks for saliency maps",
        "max over the RGB channels of the gradient's variance under the noise",
        by_default=False,
    ),
    Method(
        name="guided_backprop", aliases=("guided_backpropagation", "gbp"),
        title="Guided Backprop",
        function="helpers.methods.guided:guided_backprop",
        paper="Springenberg et al. (2015), Striving for simplicity: the all convolutional net",
        map="max_abs",
        map_text="max |guided gradient| over the RGB channels",
        passes=lambda s, hw: Passes(backward=1),
    ),
    Method(
        name="guided_grad_cam", aliases=("guided_gradcam", "ggc"), title="Guided Grad-CAM",
        function="helpers.methods.guided:guided_grad_cam",
        paper="Selvaraju et al. (2017), Grad-CAM: visual explanations from deep networks "
        "via gradient-based localization",
        defaults={"layer": None},  # None: helpers.grad_cam_layer, as for Grad-CAM
        map="max_abs",
        map_text="max over the RGB channels of |guided gradient| x Grad-CAM",
        passes=lambda s, hw: Passes(backward=2),  # guided backprop + Grad-CAM's partial pass
        controls=(Control("layer", "Layer", kind="layer"),),
        by_default=False,
    ),
):
    register(_method)


def _register_families() -> None:  # entries in their own files (they import this module)
    # the CAM family (notebook 07), then RISE, LIME, KernelSHAP and XRAI (notebook 08)
    for family in ("registry_cam", "registry_black_box"):
        importlib.import_module(f"{__package__}.{family}")


_register_families()
