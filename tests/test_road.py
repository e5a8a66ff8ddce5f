"""ROAD (Rong et al., 2022): the imputation against pytorch-grad-cam's, and the scores."""

import numpy as np
import pytest

from helpers.evaluation.road import NEIGHBOURS, noisy_linear_impute, road, road_scores
from tests.road_reference import impute as reference_impute
from tests.toy_models import quadrant_model


@pytest.fixture(scope="module")
def image_and_mask():
    rng = np.random.default_rng(7)
    image = rng.uniform(0, 255, size=(32, 32, 3))
    removed = rng.random((32, 32)) < 0.4
    removed[:6, :6] = True  # a block touching two borders
    removed[20:30, 10:25] = True  # a large hole
    return image, removed


def test_imputation_equals_pytorch_grad_cams_with_noise_off(image_and_mask):
    image, removed = image_and_mask
    ours = noisy_linear_impute(image, removed, noise=0.0)
    theirs = reference_impute(image.transpose(2, 0, 1), (~removed).astype(np.float32))
    np.testing.assert_allclose(ours, theirs.transpose(1, 2, 0), atol=1e-5 * 255, rtol=1e-5)
    assert np.abs(ours - theirs.transpose(1, 2, 0)).max() < 1e-3  # float32 of values up to 255


def test_each_filled_pixel_is_the_weighted_mean_of_its_neighbours(image_and_mask):
    image, removed = image_and_mask
    filled = noisy_linear_impute(image, removed, noise=0.0).astype(np.float64)
    np.testing.assert_array_equal(filled[~removed], image[~removed].astype(np.float32))
    for r, c in zip(*np.nonzero(removed), strict=True):
        total, weight = np.zeros(3), 0.0
        for dr, dc, w in NEIGHBOURS:
            if 0 <= r + dr < 32 and 0 <= c + dc < 32:
                total += w * filled[r + dr, c + dc]
                weight += w
        np.testing.assert_allclose(filled[r, c], total / weight, atol=1e-3)


def test_a_flat_image_stays_flat_and_noise_is_seeded():
    flat = np.full((16, 16, 3), 100.0)
    removed = np.zeros((16, 16), bool)
    removed[4:12, 4:12] = True
    np.testing.assert_allclose(noisy_linear_impute(flat, removed, noise=0.0), 100.0, atol=1e-4)
    a = noisy_linear_impute(flat, removed, noise=0.01, seed=3)
    b = noisy_linear_impute(flat, removed, noise=0.01, seed=3)
    np.testing.assert_array_equal(a, b)
    assert abs(np.std(a[removed] - 100.0) - 2.55) < 0.5  # 1 % of the 0-255 range


def test_bad_inputs_are_refused():
    image = np.zeros((8, 8, 3))
    with pytest.raises(ValueError, match="every pixel"):
        noisy_linear_impute(image, np.ones((8, 8), bool))
    with pytest.raises(ValueError, match=r"\(H, W\) mask"):
        noisy_linear_impute(image, np.ones((4, 8), bool))
    with pytest.raises(ValueError, match="noise"):
        noisy_linear_impute(image, np.zeros((8, 8), bool), noise=-1)


def test_road_ranks_a_map_of_the_evidence_above_its_opposite():
    """The quadrant model's class-0 score is the mean of the top-left quadrant: a map that
    points there loses the class fast when its top pixels go (MoRF) and keeps it when the
    rest goes (LeRF); the reversed map does the opposite."""
    model = quadrant_model((32, 32, 3))
    rng = np.random.default_rng(0)
    image = rng.uniform(-2, 2, (32, 32, 3)).astype(np.float32)
    image[:16, :16] = 3.0  # the evidence: class 0's logit is 3, class 1's is 0
    good = np.zeros((32, 32))
    good[:16, :16] = 1.0
    good += rng.random((32, 32)) * 1e-3
    results = road(model, image, 0, {"good": good, "reversed": -good}, noise=0.0, progress=False)
    assert results["good"].morf_score < results["reversed"].morf_score
    assert results["good"].lerf_score > results["reversed"].lerf_score
    assert results["good"].combined > 0 > results["reversed"].combined
    scores = road_scores(model, image, 0, good, noise=0.0, progress=False)
    assert scores["road_combined"] == pytest.approx(results["good"].combined)
    with pytest.raises(ValueError, match="fractions"):
        road(model, image, 0, {"good": good}, fractions=(0.0, 0.5))
