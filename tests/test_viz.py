"""Visualisation: robust scaling, no NaN on flat maps, overlays, grids, PNGs."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from helpers.viz.plots import colorize, is_signed, normalize, overlay, plot_maps, save_map_png  # noqa: E402


def test_flat_map_gives_zeros_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for flat in (np.zeros((5, 5)), np.full((5, 5), 3.0)):
            out = normalize(flat)
            assert np.all(out == 0) and np.all(np.isfinite(out))
            assert np.all(np.isfinite(colorize(flat)))


def test_percentile_clipping_ignores_outliers():
    values = np.linspace(0, 1, 10_000).reshape(100, 100)
    values[0, 0] = 1000.0  # one huge gradient
    out = normalize(values, percentile=99)
    assert out.max() == 1.0
    assert np.mean(out >= 1.0) < 0.02  # only the top 1 % saturates...
    assert 0.45 < out[50, 50] < 0.55  # ...and the rest keeps its contrast


def test_signed_maps_keep_their_sign():
    values = np.array([[-2.0, 0.0], [1.0, 2.0]])
    assert is_signed(values) and not is_signed(np.abs(values))
    out = normalize(values, percentile=100)
    np.testing.assert_allclose(out, [[-1, 0], [0.5, 1]])


def test_overlay_blends_in_unit_range():
    image = np.full((4, 6, 3), 255.0, np.float32)
    heat = np.zeros((4, 6))
    heat[0, 0] = 1.0
    out = overlay(image, heat, alpha=0.4)
    assert out.shape == (4, 6, 3) and out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out[0, 0], out[3, 5])
    with pytest.raises(ValueError, match="differ in size"):
        overlay(image, np.zeros((6, 4)))
    with pytest.raises(ValueError, match="alpha"):
        overlay(image, heat, alpha=2)


def test_3d_map_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="reduce_channels"):
        normalize(np.zeros((4, 4, 3)))


def test_plot_maps_grid_with_titles():
    image = np.random.default_rng(0).uniform(0, 255, (8, 8, 3))
    maps = {"a": np.random.default_rng(1).normal(size=(8, 8)), "b": np.ones((8, 8, 3))}
    fig = plot_maps(image, maps, ncols=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["input", "a", "b"]
    plt.close(fig)


def test_save_map_png(tmp_path):
    heat = np.outer(np.arange(5), np.arange(7)).astype(float)
    path = save_map_png(heat, tmp_path / "sub" / "m.png")
    saved = np.asarray(Image.open(path))
    assert saved.shape == (5, 7, 3) and saved.dtype == np.uint8
    assert saved[0, 0].tolist() != saved[4, 6].tolist()
