"""SmoothGrad-squared and VarGrad through smoothgrad's one noise loop."""

import numpy as np
import pytest

from helpers.methods.aggregates import MapAggregate
from helpers.methods.gradients import vanilla_gradients
from helpers.methods.smoothgrad import smoothgrad
from tests.toy_models import linear_model, smooth_cnn


@pytest.mark.parametrize("chunk_sizes", [(23,), (7, 1, 15), (1,) * 23])
def test_chunked_statistics_match_numpy(chunk_sizes):
    maps = np.random.default_rng(0).normal(3.0, 2.0, size=(23, 5, 4)).astype(np.float32)
    expected = {
        "mean": maps.mean(axis=0),
        "square": (maps.astype(np.float64) ** 2).mean(axis=0),
        "variance": maps.astype(np.float64).var(axis=0),
    }
    for aggregate, reference in expected.items():
        combined, start = MapAggregate(aggregate), 0
        for size in chunk_sizes:
            combined.add(maps[start : start + size])
            start += size
        np.testing.assert_allclose(combined.result(), reference, rtol=1e-5, atol=1e-6)


def test_one_sample_without_noise():
    model = smooth_cnn()
    image = np.random.default_rng(1).uniform(0, 255, (10, 12, 3)).astype(np.float32)
    vanilla = vanilla_gradients(model, image, 1)
    plain = {
        a: smoothgrad(model, image, 1, n=1, noise=0.0, aggregate=a)
        for a in ("mean", "square", "variance")
    }
    np.testing.assert_allclose(plain["mean"], vanilla, rtol=1e-6)
    np.testing.assert_allclose(plain["square"], vanilla**2, rtol=1e-5)
    assert np.all(plain["variance"] == 0)


def test_vargrad_of_constant_gradients_is_zero():
    model, weights, _ = linear_model()
    image = np.random.default_rng(2).uniform(0, 255, (6, 5, 3)).astype(np.float32)
    w = weights[:, 0].reshape(6, 5, 3)
    variance = smoothgrad(model, image, 0, n=20, noise=0.3, aggregate="variance", batch_size=6)
    np.testing.assert_allclose(variance, 0.0, atol=1e-10)
    square = smoothgrad(model, image, 0, n=20, noise=0.3, aggregate="square", batch_size=6)
    np.testing.assert_allclose(square, w**2, rtol=1e-5)


def test_vargrad_is_the_variance_of_the_same_noisy_gradients():
    model = smooth_cnn()
    image = np.random.default_rng(3).uniform(0, 255, (10, 12, 3)).astype(np.float32)
    n, noise, seed = 12, 0.2, 5
    # smoothgrad's draws: one standard normal block per chunk from default_rng(seed)
    rng = np.random.default_rng(seed)
    sigma = noise * float(image.max() - image.min())
    noisy = image + sigma * rng.standard_normal((n, *image.shape), dtype=np.float32)
    grads = vanilla_gradients(model, noisy, [2] * n).astype(np.float64)
    for aggregate, expected in (
        ("mean", grads.mean(0)),
        ("variance", grads.var(0)),
        ("square", (grads**2).mean(0)),
    ):
        got = smoothgrad(
            model, image, 2, n=n, noise=noise, seed=seed, batch_size=n, aggregate=aggregate
        )
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-9)
        np.testing.assert_array_equal(
            got,
            smoothgrad(
                model, image, 2, n=n, noise=noise, seed=seed, aggregate=aggregate, batch_size=n
            ),
        )
        other = smoothgrad(model, image, 2, n=n, noise=noise, seed=seed + 1, aggregate=aggregate)
        assert not np.allclose(got, other)


def test_unknown_aggregate():
    model, _, _ = linear_model()
    with pytest.raises(ValueError, match="VarGrad"):
        smoothgrad(model, np.zeros((6, 5, 3), np.float32), 0, n=2, aggregate="median")


def test_default_smoothgrad_is_smoother_than_vanilla_on_the_cat(lite0, cat):
    """Acceptance (issue 12), by notebook 04's speckle measure; the paper's 15 %, 50 samples
    is not smoother on this model (0.60 vs 0.59), the default (20 %, 100) is (0.51-0.52)."""
    from helpers.evaluation.smoothness import speckle
    from helpers.methods.smoothgrad import PAPER_NOISE, PAPER_SAMPLES

    vanilla = speckle(vanilla_gradients(lite0, cat, 281))
    default = speckle(smoothgrad(lite0, cat, 281))
    paper = speckle(smoothgrad(lite0, cat, 281, n=PAPER_SAMPLES, noise=PAPER_NOISE))
    assert default < 0.92 * vanilla and default < 0.92 * paper, (default, vanilla, paper)


def test_speckle_and_stability_measures():
    from helpers.evaluation.smoothness import seed_stability, speckle

    rng = np.random.default_rng(0)
    noise = rng.normal(size=(64, 64))
    smooth = np.add.outer(np.sin(np.arange(64) / 10), np.cos(np.arange(64) / 10))
    assert speckle(noise) > 0.8 > 0.05 > speckle(smooth)
    assert np.isnan(speckle(np.ones((8, 8))))
    assert seed_stability(noise, noise) == pytest.approx(1.0)
    other = rng.normal(size=(64, 64))
    assert abs(seed_stability(noise, other)) < 0.1 < seed_stability(noise + 0.5 * other, noise)
