"""The methods of issue 12 through the registry, the report and the command line."""

import json

import numpy as np
import pytest
from PIL import Image

import helpers
from helpers.assignment.cli import build_parser
from helpers.assignment.submission import make_report
from helpers.methods.registry import METHODS, parse_methods

NEW = ("guided_backprop", "guided_grad_cam", "smoothgrad_squared", "vargrad")


def test_new_methods_are_registered_with_short_names():
    assert set(NEW) <= set(METHODS)
    assert parse_methods("gbp,ggc,sg2,var_grad") == NEW
    assert METHODS["integrated_gradients"].defaults["steps"] == "auto"
    assert METHODS["integrated_gradients"].defaults["tolerance"] == 0.05
    assert METHODS["smoothgrad"].defaults["n"] == 100
    assert METHODS["smoothgrad"].defaults["noise"] == 0.20
    assert [m for m in METHODS if METHODS[m].signed] == ["integrated_gradients", "gradient_x_input"]


@pytest.mark.parametrize("name", NEW)
def test_registry_runs_the_library_function(lite0, cat, name):
    method = METHODS[name]
    display, raw, _ = method.run(lite0, cat, 285, **method.fast)
    direct = getattr(helpers, name)(lite0, cat, 285, **method.fast)
    np.testing.assert_allclose(raw, direct, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(display, helpers.reduce_channels(direct), rtol=1e-5, atol=1e-8)
    assert display.shape == (224, 224) and np.isfinite(display).all() and display.max() > 0


def test_vargrad_and_squared_share_smoothgrads_noise(lite0, cat):
    mean = helpers.smoothgrad(lite0, cat, 285, n=6)
    square = helpers.smoothgrad_squared(lite0, cat, 285, n=6)
    variance = helpers.vargrad(lite0, cat, 285, n=6)
    np.testing.assert_allclose(
        variance, square - mean.astype(np.float64) ** 2, atol=1e-3 * square.max()
    )


def test_report_records_igs_steps_and_draws_signed_maps_readably(lite0, espresso, tmp_path):
    """Default IG (steps='auto') in the table: its gap and the steps it used; IG and
    gradient x input drawn as magnitude by default, signed on a grey photo when asked."""
    pngs = {}
    for signed in (False, True):
        report = make_report(
            lite0,
            espresso,
            "espresso",
            tmp_path / str(signed),
            "grad_cam,ig,gxi",
            progress=None,
            signed_maps=signed,
        )
        ig = report.results["integrated_gradients"]
        assert ig.settings["steps"] == "auto" and ig.completeness.steps >= 16
        assert ig.ig_completeness_gap <= 0.05
        row = report.table.set_index("method").loc["integrated_gradients"]
        assert f"used {ig.completeness.steps} steps" in row["settings"]
        assert row["ig_completeness_gap"] == pytest.approx(ig.completeness.relative_gap)
        manifest = json.loads((report.out_dir / "submission.json").read_text())
        assert manifest["signed_maps"] is signed
        pngs[signed] = {
            m: np.asarray(Image.open(report.out_dir / f"{m}.png"), np.float32)
            for m in ("grad_cam", "integrated_gradients")
        }
    np.testing.assert_array_equal(pngs[False]["grad_cam"], pngs[True]["grad_cam"])
    magnitude, signed = pngs[False]["integrated_gradients"], pngs[True]["integrated_gradients"]
    assert np.abs(magnitude - signed).mean() > 1.0
    expected = helpers.attribution_overlay(
        espresso, report.results["integrated_gradients"].display_map, True
    )
    np.testing.assert_allclose(signed / 255, expected, atol=1 / 255 + 1e-6)


def test_command_line_has_signed_switch():
    args = build_parser().parse_args(["espresso", "--class", "espresso", "--signed"])
    assert args.signed is True
    assert build_parser().parse_args(["espresso", "--class", "espresso"]).signed is False
