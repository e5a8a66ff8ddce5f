"""LIME on superpixels: lime's draws, kernel and ridge fit (checked against the lime package
when it is installed), a linear model's weights recovered, seeds and settings."""

import numpy as np
import pytest

from helpers.methods.checks import ParameterError
from helpers.methods.lime import lime, lime_samples
from helpers.methods.perturbation import removed_image, superpixels
from helpers.models.scores import predict_logits, softmax
from tests.black_box_toys import block_image, float64_cnn


@pytest.fixture(scope="module")
def model():
    return float64_cnn()


def test_matches_the_lime_package(model):
    """Same segments, same seed, same fill: lime 0.2's explanation, weight for weight."""
    lime_image = pytest.importorskip("lime.lime_image", reason="lime is not installed")
    image = block_image(seed=6)
    ours = lime(model, image, 1, samples=300, segments=20, seed=7, progress=False)
    explainer = lime_image.LimeImageExplainer(random_state=7)
    grey = removed_image(image, "mean")[0, 0]
    theirs = explainer.explain_instance(
        image.astype(np.float64), lambda b: softmax(predict_logits(model, b)), labels=(1,),
        top_labels=None, hide_color=tuple(grey), num_samples=300, batch_size=50,
        segmentation_fn=lambda _: ours.segments, random_seed=0,
    )
    weights = dict(theirs.local_exp[1])
    np.testing.assert_allclose(ours.weights, [weights[k] for k in range(len(weights))],
                               rtol=1e-6, atol=1e-9)
    assert ours.score == pytest.approx(theirs.score, rel=1e-6)
    assert ours.intercept == pytest.approx(theirs.intercept[1], rel=1e-6)


def test_lime_draws_what_lime_draws():
    data = lime_samples(5, 4, seed=3)
    expected = np.random.RandomState(3).randint(0, 2, 20).reshape(5, 4)
    expected[0] = 1
    np.testing.assert_array_equal(data, expected)


def test_a_linear_logit_is_fitted_almost_exactly():
    """The logit of a linear model is linear in the on/off vector: weight = the segment's
    sum of w (x - x'), up to the ridge penalty (alpha 1, small against these values)."""
    from tests.toy_models import linear_model

    linear, weights, _ = linear_model((32, 40, 3), classes=3)
    image = block_image(seed=4)
    result = lime(linear, image, 1, samples=400, segments=20, score="logit", baseline="black",
                  progress=False)
    per_pixel = (weights[:, 1].reshape(image.shape) * image).sum(-1)
    expected = np.bincount(result.segments.ravel(), per_pixel.ravel())
    assert result.score > 0.999
    np.testing.assert_allclose(result.weights, expected, rtol=0.02, atol=0.02 * abs(expected).max())


def test_seeds_give_identical_maps(model):
    image = block_image(seed=8)
    a = lime(model, image, 0, samples=80, segments=20, seed=2, progress=False)
    b = lime(model, image, 0, samples=80, segments=20, seed=2, batch_size=9, progress=False)
    c = lime(model, image, 0, samples=80, segments=20, seed=3, progress=False)
    np.testing.assert_allclose(a.attributions, b.attributions, rtol=1e-9)
    assert not np.allclose(a.weights, c.weights)
    assert a.attributions.shape == (32, 40) and 0 <= a.score <= 1
    both = lime(model, np.stack([image, block_image(seed=9)]), [0, 2], samples=80,
                segments=20, seed=2, progress=False)
    np.testing.assert_allclose(both.attributions[0], a.attributions, rtol=1e-9)
    assert len(both.weights) == 2 and both.segments.shape == (2, 32, 40)


def test_baselines():
    image = block_image(seed=1)
    labels = superpixels(image, 20)
    assert (removed_image(image, "black") == 0).all()
    means = removed_image(image, "segment_mean", labels)
    assert np.allclose(means[labels == 3], image[labels == 3].mean(0), atol=1e-3)
    blurred = removed_image(image, "blur")
    assert blurred.std() < image.std() and abs(blurred.mean() - image.mean()) < 2
    assert (removed_image(image, (1, 2, 3))[5, 7] == [1, 2, 3]).all()
    with pytest.raises(ParameterError, match="ImageNet's RGB mean colour; this image has 1"):
        removed_image(image[..., :1], "mean")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"samples": 1}, r"samples \(perturbed copies\) must be a whole number >= 2"),
        ({"kernel_width": 0}, "kernel_width .* >= 1e-06"),
        ({"segments": True}, "segments .* got True"),
        ({"baseline": None}, "baseline must be one of 'mean'"),
        ({"baseline": np.zeros((5, 5, 3))}, r"shaped like the input \(32, 40, 3\)"),
        ({"seed": 1.5}, "seed .* got 1.5"),
    ],
)
def test_bad_settings_are_named(model, settings, message):
    with pytest.raises(ParameterError, match=message):
        lime(model, block_image(), 1, progress=False, **settings)
