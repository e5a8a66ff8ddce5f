"""helpers.evaluation.borders: densities of border strips and regions of a map."""

import numpy as np
import pytest

from helpers.evaluation.borders import border_density, region_density


def test_a_flat_map_has_density_one_everywhere():
    flat = np.ones((32, 32))
    assert border_density(flat, width=4) == pytest.approx(
        {"left": 1.0, "right": 1.0, "top": 1.0, "bottom": 1.0}
    )
    assert region_density(flat, np.s_[3:9], np.s_[0:5]) == pytest.approx(1.0)


def test_a_hot_left_strip_is_measured_against_the_whole_map():
    m = np.ones((20, 20))
    m[:, :2] = 10.0  # 2 of 20 columns at 10, the rest at 1: mean 1.9
    d = border_density(m, width=2)
    assert d["left"] == pytest.approx(10 / 1.9)
    assert d["right"] == pytest.approx(1 / 1.9)
    assert d["top"] == pytest.approx(d["bottom"]) == pytest.approx(1.0)  # same mix of columns


def test_signed_attributions_are_read_as_magnitudes_with_max_over_channels():
    a = np.zeros((10, 10, 3))
    a[0:2, 0:2, 1] = -4.0  # a negative block in the green channel
    a[5, 5] = [1.0, -2.0, 0.5]
    expected = 4.0 / ((4 * 4.0 + 2.0) / 100)  # the block mean over the image mean
    assert region_density(a, np.s_[0:2], np.s_[0:2]) == pytest.approx(expected)


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="width must be"):
        border_density(np.ones((10, 10)), width=6)
    with pytest.raises(ValueError, match="empty"):
        region_density(np.ones((10, 10)), np.s_[12:14], np.s_[0:2])
    with pytest.raises(ValueError, match="NaN"):
        border_density(np.full((10, 10), np.nan))
    with pytest.raises(ValueError, match=r"expected a map"):
        border_density(np.ones(10))
    assert np.isnan(region_density(np.zeros((4, 4)), np.s_[0:1], np.s_[0:1]))
