"""KernelSHAP: exact Shapley values against a brute-force enumeration written here, the
efficiency sum, the kernel regression, sampling, seeds and settings."""

from itertools import combinations
from math import factorial

import numpy as np
import pytest

from helpers.methods.checks import ParameterError
from helpers.methods.kernel_shap import (
    all_coalitions,
    kernel_regression,
    kernel_shap,
    sample_coalitions,
    shapley_kernel_weight,
    shapley_values,
)
from helpers.models.scores import predict_logits
from tests.black_box_toys import block_image, float64_cnn

GREY = np.array([123.68, 116.779, 103.939], np.float32)  # ImageNet's mean colour


@pytest.fixture(scope="module")
def model():
    return float64_cnn()


def brute_force_shapley(model, image, segments, cls, fill):
    """Shapley values from the definition: every subset S of the other players, the weight
    |S|! (M - |S| - 1)! / M!, the model's logit with S (and S + i) kept, the rest filled."""
    players = int(segments.max()) + 1

    def value(kept):
        copy = np.where(np.isin(segments, list(kept))[..., None], image, fill)
        return float(predict_logits(model, copy)[0, cls])

    cache = {}
    phi = np.zeros(players)
    for i in range(players):
        others = [p for p in range(players) if p != i]
        for size in range(players):
            weight = factorial(size) * factorial(players - size - 1) / factorial(players)
            for subset in combinations(others, size):
                with_i = tuple(sorted((*subset, i)))
                for kept in (subset, with_i):
                    if kept not in cache:
                        cache[kept] = value(kept)
                phi[i] += weight * (cache[with_i] - cache[subset])
    return phi, cache[()], cache[tuple(range(players))]


def test_exact_values_equal_brute_force_shapley_values(model):
    image = block_image(rows=3, cols=4, block=10, seed=2)[:, :, :]  # (30, 40, 3)
    image = np.pad(image, ((1, 1), (0, 0), (0, 0)), mode="edge")  # (32, 40, 3): the model's
    result = kernel_shap(model, image, 2, segments=9, exact=True, progress=False)
    players = len(result.values)
    assert 6 <= players <= 10 and result.exact and result.evaluations == 2**players
    phi, v_empty, v_full = brute_force_shapley(model, image, result.segments, 2, GREY)
    np.testing.assert_allclose(result.values, phi, rtol=0, atol=1e-6)
    assert result.completeness.score_baseline == pytest.approx(v_empty, abs=1e-9)
    assert result.completeness.score_input == pytest.approx(v_full, abs=1e-9)
    assert abs(result.values.sum() - (v_full - v_empty)) < 1e-9  # efficiency
    assert result.completeness.relative_gap < 1e-9
    painted = result.attributions
    for k in range(players):
        assert np.allclose(painted[result.segments == k], result.values[k])


def test_sampled_values_keep_efficiency_and_approach_the_exact_ones(model):
    image = block_image(seed=3)
    exact = kernel_shap(model, image, 0, segments=14, exact=True, progress=False)
    players = len(exact.values)
    assert players >= 9, players
    errors = []
    for budget in (40, 2**players - 40):
        sampled = kernel_shap(model, image, 0, segments=14, samples=budget, exact=False,
                              seed=1, progress=False)
        assert not sampled.exact and sampled.evaluations == budget + 2
        assert sampled.completeness.relative_gap < 1e-9  # the constraint holds exactly
        errors.append(np.abs(sampled.values - exact.values).max())
    assert errors[1] < errors[0] / 3 and errors[1] < 0.05 * np.abs(exact.values).max(), errors


def test_the_kernel_regression_on_every_coalition_gives_the_shapley_values():
    """Lundberg & Lee's theorem: the Shapley-kernel weighted fit on all coalitions is exact."""
    rng = np.random.default_rng(0)
    for players in (2, 3, 6, 9):
        values = rng.normal(size=2**players)
        coalitions = all_coalitions(players)
        weights = [shapley_kernel_weight(players, s) for s in coalitions.sum(1)[1:-1]]
        fitted = kernel_regression(coalitions[1:-1], values[1:-1], weights, values[0], values[-1])
        np.testing.assert_allclose(fitted, shapley_values(values, players), atol=1e-10)


def test_sampling_enumerates_the_heaviest_sizes_and_pairs_the_rest():
    coalitions, weights = sample_coalitions(12, 500, np.random.default_rng(0))
    sizes = coalitions.sum(1)
    assert len(coalitions) == 500 and len({c.tobytes() for c in coalitions}) == 500
    assert (np.bincount(sizes, minlength=13)[[1, 11]] == 12).all()  # sizes 1 and 11 complete
    assert (np.bincount(sizes, minlength=13)[[2, 10]] == 66).all()
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
    again, _ = sample_coalitions(12, 500, np.random.default_rng(0))
    assert (again == coalitions).all()


def test_a_linear_model_gets_each_segments_weight_x_input(model):
    """For a linear logit the Shapley value of a segment is its pixels' sum of w (x - x')."""
    from tests.toy_models import linear_model

    linear, weights, _ = linear_model((32, 40, 3), classes=3)
    image = block_image(seed=4)
    result = kernel_shap(linear, image, 1, segments=30, samples=300, baseline="black",
                         progress=False)
    assert not result.exact
    per_pixel = (weights[:, 1].reshape(image.shape) * image).sum(-1)
    expected = np.bincount(result.segments.ravel(), per_pixel.ravel())
    np.testing.assert_allclose(result.values, expected, rtol=1e-4, atol=1e-3)


def test_seeds_give_identical_values_and_exact_ones_need_no_seed(model):
    image = block_image(seed=5)
    a = kernel_shap(model, image, 1, segments=30, samples=60, seed=3, progress=False)
    b = kernel_shap(model, image, 1, segments=30, samples=60, seed=3, batch_size=5,
                    progress=False)
    c = kernel_shap(model, image, 1, segments=30, samples=60, seed=4, progress=False)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-9)  # chunks: float64 rounding only
    assert np.array_equal(
        a.values, kernel_shap(model, image, 1, segments=30, samples=60, seed=3,
                              progress=False).values
    )
    assert not np.allclose(a.values, c.values)
    e1 = kernel_shap(model, image, 1, segments=8, seed=1, progress=False)
    e2 = kernel_shap(model, image, 1, segments=8, seed=2, progress=False)
    assert e1.exact and np.array_equal(e1.values, e2.values)


def test_a_batch_gives_each_images_result(model):
    images = np.stack([block_image(seed=5), block_image(seed=6)])
    both = kernel_shap(model, images, [1, 2], segments=30, samples=40, progress=False)
    alone = kernel_shap(model, images[1], 2, segments=30, samples=40, progress=False)
    assert both.attributions.shape == (2, 32, 40) and len(both.values) == 2
    np.testing.assert_allclose(both.values[1], alone.values, rtol=1e-9)
    assert both.completeness[1] == alone.completeness and both.evaluations == [42, 42]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"samples": 0}, r"samples \(coalitions to score\) must be a whole number >= 1"),
        ({"segments": 0}, r"segments .* >= 1, got 0"),
        ({"exact": "yes"}, "exact must be None, True or False"),
        ({"exact": True, "segments": 60}, "exact Shapley values of .* superpixels need 2"),
        ({"baseline": [1, 2]}, "baseline must be a number, 3 channel values or an image"),
        ({"baseline": float("inf")}, "baseline must be a finite number"),
        ({"score": "prob"}, "score must be one of"),
    ],
)
def test_bad_settings_are_named(model, settings, message):
    with pytest.raises(ParameterError, match=message):
        kernel_shap(model, block_image(), 1, progress=False, **settings)
