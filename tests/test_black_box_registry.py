"""RISE, LIME, KernelSHAP and XRAI through the registry: opt-in, their costs in passes, the
explorer's cheaper starting settings, and a run of each on EfficientNet-Lite0."""

import time

import numpy as np
import pytest

import helpers
from helpers.methods.registry import METHODS, Passes, parse_methods

NEW = ("rise", "lime", "kernel_shap", "xrai")


def test_registered_opt_in_with_their_costs():
    assert set(NEW) <= set(parse_methods("all")) and not set(NEW) & set(parse_methods(None))
    assert parse_methods("SHAP, Rise") == ("kernel_shap", "rise")
    hw = (224, 224)
    assert METHODS["rise"].passes(METHODS["rise"].settings(), hw) == Passes(forward=4000)
    assert METHODS["lime"].passes(METHODS["lime"].settings(fast=True), hw) == Passes(forward=200)
    shap = METHODS["kernel_shap"]
    assert shap.passes(shap.settings(), hw) == Passes(forward=1002)  # 50 superpixels: sampled
    assert shap.passes(shap.settings(segments=9), hw) == Passes(forward=512)  # enumerated
    assert shap.passes(shap.settings(segments=9, exact=False), hw) == Passes(forward=1002)
    x = METHODS["xrai"]
    assert x.passes(x.settings(), hw) == Passes(backward=66)  # two IG paths of 33 points
    assert x.passes(x.settings(attribution="rise"), hw) == Passes(forward=4000)
    assert "exact=auto" in shap.describe() and "attribution=IG" in x.describe()


def test_the_explorer_gets_cheaper_settings():
    for name in NEW:
        m = METHODS[name]
        cost = m.passes(m.settings(**m.explorer), (224, 224))
        full = m.passes(m.settings(), (224, 224))
        assert cost.forward + cost.backward < full.forward + full.backward, name


@pytest.mark.parametrize("name", NEW)
def test_each_runs_on_lite0_at_its_fast_settings(name, lite0, espresso):
    method = METHODS[name]
    start = time.perf_counter()
    values, raw, completeness = method.run(lite0, espresso, 967, progress=False,
                                           **method.fast)
    seconds = time.perf_counter() - start
    assert values.shape == (224, 224) and np.isfinite(values).all() and raw is None
    assert values.std() > 0
    if name == "kernel_shap":
        assert completeness.relative_gap < 1e-6
    print(f"{name}: {seconds:.2f} s at {method.describe(method.fast)}")


def test_the_explorer_starts_rise_at_its_explorer_settings(lite0, cat):
    ex = helpers.explorer(lite0, {"cat": cat})
    masks, samples = METHODS["rise"].explorer["masks"], METHODS["lime"].explorer["samples"]
    assert ex.controls["masks"].value == masks and ex.controls["samples"].value == samples
    assert ex.controls["steps"].value == 8
    ex.controls["method"].value = "RISE"
    assert ex.controls["masks"].layout.display == "" and ex.controls["n"].layout.display == "none"
    expected = helpers.rise(lite0, cat, 285, masks=masks, progress=False)
    np.testing.assert_allclose(ex.last_map, expected, rtol=1e-5)
    assert "computed" in ex.status.value and ex._cost("RISE") == f" ({masks} forward passes)"
    ex.controls["method"].value = "KernelSHAP"
    assert "completeness gap" in ex.status.value
