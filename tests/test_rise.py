"""RISE: the paper's masks, what the map estimates on a linear model, seeds and settings."""

import numpy as np
import pytest
from skimage.transform import resize

from helpers.methods.checks import ParameterError
from helpers.methods.rise import rise, rise_masks
from tests.black_box_toys import block_image, digits_linear_model, float64_cnn


@pytest.mark.parametrize(("shape", "cells"), [((224, 224), 7), ((10, 13), 3), ((8, 8), 7)])
def test_masks_are_the_reference_codes(shape, cells):
    """Petsiuk's code: resize(grid, (s + 1) * ceil(side / s), order=1, mode='reflect',
    anti_aliasing=False), cropped at the random shift."""
    masks = rise_masks(12, shape, cells, keep=0.5, seed=3)
    built = masks[0:12]
    up = tuple((cells + 1) * -(-side // cells) for side in shape)
    for grid, (top, left), mine in zip(masks.grids, masks.shifts, built, strict=True):
        reference = resize(grid.astype("float32"), up, order=1, mode="reflect",
                           anti_aliasing=False)
        np.testing.assert_allclose(mine, reference[top : top + shape[0], left : left + shape[1]],
                                   atol=1e-6)
    assert (masks.shifts < [-(-side // cells) for side in shape]).all()
    assert 0.3 < masks.grids.mean() < 0.7


@pytest.fixture(scope="module")
def digits():
    return digits_linear_model()


def test_on_a_linear_model_the_map_is_exactly_a_smoothed_weight_x_input(digits):
    """For logit f = w.x + b and a black baseline, masked copies score b + sum_j w_j x_j M_j,
    so RISE's map is exactly b * mean(M) / p + (M^T M / (N p)) (w * x): the masks' Gram
    matrix applied to weight x input. Checked to float precision for the masks used."""
    model, weights, bias, images = digits
    image, cls, count = images[0], 0, 300
    saliency = rise(model, image, cls, masks=count, baseline=0.0, score="logit", progress=False)
    masks = rise_masks(count, (8, 8), 7, 0.5, seed=0)[0:count].reshape(count, -1)
    contribution = weights[:, cls] * image.ravel()  # weight x input
    expected = bias[cls] * masks.mean(0) / 0.5 + (masks.T @ masks) @ contribution / (count * 0.5)
    np.testing.assert_allclose(saliency.ravel(), expected, rtol=1e-4, atol=1e-4)


def test_on_a_linear_model_rise_estimates_weight_x_input_blurred_by_the_masks(digits):
    """In expectation, RISE's map = const + Cov(M) (w * x) / p: weight x input blurred by the
    masks' covariance. With the paper's smooth masks (7 x 7 grid) the map correlates > 0.99
    with that, but only about 0.66 with weight x input itself on notebook 01's first test
    digit and its predicted class: the issue's "> 0.95 with weight x input" is false for the
    paper's estimator."""
    model, weights, _, images = digits
    image, count = images[0], 20000
    cls = int(np.argmax(model.predict(image[None], verbose=0)))  # notebook 01's example
    saliency = rise(model, image, cls, masks=count, baseline=0.0, score="logit", progress=False)
    masks = rise_masks(count, (8, 8), 7, 0.5, seed=0)[0:count].reshape(count, -1)
    contribution = weights[:, cls] * image.ravel()
    blurred = np.cov(masks.T) @ contribution
    assert np.corrcoef(saliency.ravel(), blurred)[0, 1] > 0.99
    raw = np.corrcoef(saliency.ravel(), contribution)[0, 1]
    print(f"RISE vs weight x input: r = {raw:.3f}; vs its mask-blurred version: > 0.99")
    assert raw < 0.95, raw  # the blur is real: pixel-level weights are not recovered
    probability = rise(model, image, cls, masks=count, baseline=0.0, progress=False)
    assert np.corrcoef(probability.ravel(), blurred)[0, 1] > 0.95  # the paper's score: close


def test_seeds_chunks_and_batches():
    model = float64_cnn()
    image = block_image()
    one = rise(model, image, 1, masks=40, seed=5, batch_size=7, progress=False)
    assert np.array_equal(one, rise(model, image, 1, masks=40, seed=5, batch_size=7,
                                    progress=False))
    again = rise(model, image, 1, masks=40, seed=5, batch_size=16, progress=False)
    np.testing.assert_allclose(one, again, rtol=1e-6)  # other chunks: float32 rounding only
    both = rise(model, np.stack([block_image(seed=1), image]), [0, 1], masks=40, seed=5,
                batch_size=7, progress=False)
    np.testing.assert_allclose(both[1], one, rtol=1e-6)
    assert not np.allclose(one, rise(model, image, 1, masks=40, seed=6, progress=False))
    assert one.shape == (32, 40) and one.dtype == np.float32


def test_coverage_normalisation_divides_by_how_often_each_pixel_was_visible():
    model, image = float64_cnn(), block_image()
    paper = rise(model, image, 1, masks=50, seed=2, progress=False)
    coverage = rise(model, image, 1, masks=50, seed=2, normalize="coverage", progress=False)
    visible = rise_masks(50, (32, 40), 7, 0.5, seed=2)[0:50].sum(axis=0)
    np.testing.assert_allclose(coverage, paper * (50 * 0.5) / visible, rtol=1e-5)
    constant = rise(model, image, 1, masks=50, baseline=image, normalize="coverage",
                    progress=False)  # hiding changes nothing: f is constant, and so is the map
    np.testing.assert_allclose(constant, constant.mean(), rtol=1e-5)


def test_progress_reports_every_mask():
    seen = []
    rise(float64_cnn(), block_image(), 1, masks=30, batch_size=8, progress=seen.append)
    assert seen[-1] == 1.0 and len(seen) == 4 and seen == sorted(seen)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"masks": 0}, r"masks \(number of random masks\) must be a whole number >= 1, got 0"),
        ({"masks": 2.5}, "masks .* got 2.5 \\(float\\)"),
        ({"keep": 1.5}, r"keep must be in \(0, 1\], got 1.5"),
        ({"keep": float("nan")}, "keep .* finite"),
        ({"cells": "7"}, "cells .* got '7' \\(str\\)"),
        ({"baseline": "grey"}, "baseline must be one of 'mean', 'black', 'blur'"),
        ({"baseline": "segment_mean"}, "needs superpixels; RISE has none"),
        ({"score": "softmax"}, "score must be one of 'logit', 'probability'"),
        ({"normalize": "N"}, "normalize must be one of 'paper', 'coverage'"),
        ({"seed": -1}, "seed .* >= 0"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ParameterError, match=message):
        rise(float64_cnn(), block_image(), 1, progress=False, **settings)
