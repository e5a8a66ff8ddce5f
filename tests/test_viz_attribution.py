"""Readable attributions: magnitude by default, signed on a grey photo, robust limits."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.viz.attribution import (  # noqa: E402
    attribution_map,
    attribution_norm,
    attribution_overlay,
    grayscale,
    show_attribution,
)

RED = np.zeros((20, 30, 3), np.float32) + np.array([220.0, 20.0, 20.0], np.float32)


def test_grayscale_has_no_colour_and_no_extremes():
    grey = grayscale(np.random.default_rng(0).uniform(0, 255, (8, 9, 3)))
    assert grey.shape == (8, 9, 3)
    assert np.all(grey[..., 0] == grey[..., 1]) and np.all(grey[..., 1] == grey[..., 2])
    assert grey.min() >= 0.15 and grey.max() <= 0.85
    with pytest.raises(ValueError, match="RGB"):
        grayscale(np.zeros((8, 9)))


def test_signed_map_on_a_red_object_shows_for_and_against():
    values = np.zeros((20, 30, 3), np.float32)
    values[5, 5] = 1.0  # evidence for, on a red object
    values[10, 10] = -1.0  # evidence against
    rgb = attribution_overlay(RED, values, signed=True)
    grey = grayscale(RED)
    np.testing.assert_allclose(rgb[0, 0], grey[0, 0])  # no attribution: just the grey photo
    red, green, blue = rgb[5, 5]
    assert red > green + 0.3 and red > blue + 0.3  # clearly red on a grey background
    assert rgb[10, 10, 2] > rgb[10, 10, 0] + 0.3  # clearly blue
    norm = attribution_norm(attribution_map(values, signed=True), signed=True)
    assert norm.vmin == -norm.vmax


def test_magnitude_is_the_default_and_ignores_the_sign():
    values = np.zeros((20, 30), np.float32)
    values[3, 3], values[4, 4] = 2.0, -2.0
    np.testing.assert_array_equal(attribution_map(values), np.abs(values))
    rgb = attribution_overlay(RED, values)
    np.testing.assert_allclose(rgb[3, 3], rgb[4, 4])


def test_one_outlier_does_not_wash_out_the_map():
    values = np.ones((20, 30), np.float32)
    values[0, 0] = 1000.0
    norm = attribution_norm(values, signed=False)
    assert norm.vmax < 2.0
    rgb = attribution_overlay(RED, values, max_alpha=1.0)
    assert not np.allclose(rgb[10, 10], grayscale(RED)[10, 10])  # ordinary pixels show


def test_show_attribution_and_bad_arguments():
    fig, ax = plt.subplots()
    show_attribution(ax, np.ones((20, 30, 3)), RED, signed=True, title="t")
    assert ax.get_title() == "t" and len(fig.axes) == 2  # with its colour bar
    plt.close(fig)
    with pytest.raises(ValueError, match="differ in size"):
        attribution_overlay(RED, np.ones((5, 5)))
    with pytest.raises(ValueError, match="max_alpha"):
        attribution_overlay(RED, np.ones((20, 30)), max_alpha=0)
