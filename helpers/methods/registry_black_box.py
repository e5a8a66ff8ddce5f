"""The registry's entries for the methods without gradients (notebook 08): RISE, LIME,
KernelSHAP and XRAI, registered after the course's first methods, all opt-in
(``by_default=False``: each costs hundreds to thousands of forward passes).

Kept beside :mod:`helpers.methods.registry` (which stays the one list, :data:`METHODS`)
so that the registry's own file stays small; the registry imports this module at its end
(``_register_families``), so the entries exist whenever the registry is used. No
TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import NONE_WORDS, Control, Method, Passes, get, register

NONE_WORDS.setdefault("exact", "auto")
NONE_WORDS.setdefault("attribution", "IG, black and white baselines")

#: Shared by LIME and KernelSHAP (same setting names, so the explorer shows one slider).
SAMPLES = Control("samples", "Samples", 100, 2000, 100)
SEGMENTS = Control("segments", "Superpixels", 10, 200, 5)


def _kernel_shap_passes(s: Mapping[str, Any], hw: tuple[int, int]) -> Passes:
    """2^M coalitions when enumerating, else ``samples`` + the image + the baseline; M is
    taken as SLIC's target ``segments`` (it often returns fewer: an upper bound)."""
    players = s["segments"]
    exact = s["exact"] if s["exact"] is not None else 2**players <= s["samples"] + 2
    return Passes(forward=2**players if exact else s["samples"] + 2)


def _xrai_passes(s: Mapping[str, Any], hw: tuple[int, int]) -> Passes:
    """The base attribution's passes: two IG paths of ``steps`` + 1 points by default."""
    base = s["attribution"]
    if isinstance(base, str):
        method = get(base)
        return method.passes(method.settings(), hw)
    return Passes(backward=2 * (s["steps"] + 1)) if base is None else Passes()


for _method in (
    Method(
        name="rise", aliases=("randomized_input_sampling",), title="RISE",
        function="helpers.methods.rise:rise",
        paper="Petsiuk, Das & Saenko (2018), RISE: randomized input sampling for explanation "
        "of black-box models",
        defaults={"masks": 4000, "cells": 7, "keep": 0.5, "baseline": "mean",
                  "score": "probability", "normalize": "paper", "seed": 0},
        fast={"masks": 500},
        explorer={"masks": 100},  # the browser test: 160 took 2.15 s click to picture
        map_text="already 2-D: the class probability of randomly masked copies, averaged "
        "with each mask as weight (divided by the keep probability)",
        passes=lambda s, hw: Passes(forward=s["masks"]),
        controls=(Control("masks", "Masks", 100, 4000, 100), Control("cells", "Grid", 2, 16)),
        by_default=False,
    ),
    Method(
        name="lime", aliases=("lime_superpixels",), title="LIME",
        function="helpers.methods.lime:lime",
        paper="Ribeiro, Singh & Guestrin (2016), \"Why should I trust you?\": explaining the "
        "predictions of any classifier",
        defaults={"samples": 1000, "segments": 50, "kernel_width": 0.25, "baseline": "mean",
                  "score": "probability", "seed": 0},
        fast={"samples": 200},
        explorer={"samples": 100},
        map_text="already 2-D: each superpixel's weight in a local linear fit of the class "
        "probability (signed)",
        passes=lambda s, hw: Passes(forward=s["samples"]),
        controls=(SAMPLES, SEGMENTS),
        by_default=False,
    ),
    Method(
        name="kernel_shap", aliases=("kernelshap", "shap"), title="KernelSHAP",
        function="helpers.methods.kernel_shap:kernel_shap",
        paper="Lundberg & Lee (2017), A unified approach to interpreting model predictions",
        defaults={"samples": 1000, "segments": 50, "baseline": "mean", "score": "logit",
                  "exact": None, "seed": 0},
        fast={"samples": 200},
        explorer={"samples": 100},
        map_text="already 2-D: each superpixel's Shapley value for the class logit "
        "(signed; they sum to f(x) - f(baseline))",
        passes=_kernel_shap_passes,
        controls=(SAMPLES, SEGMENTS),
        by_default=False,
    ),
    Method(
        name="xrai", aliases=(), title="XRAI",
        function="helpers.methods.xrai:xrai",
        paper="Kapishnikov et al. (2019), XRAI: better attributions through regions",
        defaults={"attribution": None, "steps": 32, "area": 1.0},
        fast={"steps": 8},
        explorer={"steps": 8},
        map_text="already 2-D: regions ranked greedily by the mean Integrated Gradients "
        "attribution of the pixels they add",
        passes=_xrai_passes,
        controls=(Control("steps", "IG steps", 4, 64, 4),),
        by_default=False,
    ),
):
    register(_method)
