"""Bad parameters to the methods and top_k: each is refused before any work, with a message
that names the parameter and says what is allowed; numpy numbers are accepted."""

import math

import numpy as np
import pytest

import helpers
from helpers.data.labels import ClassIndexError
from helpers.methods.checks import ParameterError

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"noise": NAN}, r"noise \(a fraction of the input range, e.g. 0.15\) must be a finite"),
        ({"noise": INF}, r"noise .* must be a finite number >= 0, got inf"),
        ({"noise": -0.1}, r"noise .* must be a finite number >= 0, got -0.1"),
        ({"noise": "0.15"}, r"noise .* got '0.15' \(str\)"),
        ({"noise": None}, r"noise .* got None \(NoneType\)"),
        ({"n": 0}, r"n \(number of noisy samples\) must be a whole number >= 1, got 0"),
        ({"n": 2.5}, r"n \(number of noisy samples\) must be a whole number >= 1, got 2.5"),
        ({"n": "50"}, r"n .* got '50' \(str\)"),
        ({"n": True}, r"n .* got True \(bool\)"),
        ({"seed": -1}, r"seed \(seeds the random draws\) must be a whole number >= 0, got -1"),
        ({"seed": 1.5}, r"seed .* got 1.5 \(float\)"),
        ({"seed": None}, r"seed .* got None \(NoneType\)"),
        ({"seed": "0"}, r"seed .* got '0' \(str\)"),
        ({"method": "grad_cam"}, r"method must be a saliency function .* got 'grad_cam' \(str\)"),
    ],
)
def test_smoothgrad_refuses(lite0, espresso, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        helpers.smoothgrad(lite0, espresso, 967, **{"n": 2, **kwargs})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"baseline": NAN}, r"baseline must be a finite number, got nan"),
        ({"baseline": -INF}, r"baseline must be a finite number, got -inf"),
        ({"baseline": np.full((224, 224, 3), np.nan)}, r"baseline .* holds NaN or inf"),
        ({"baseline": "black"}, r"baseline must be None \(black\), a number .* got 'black'"),
        ({"baseline": True}, r"baseline must be None \(black\), a number .* got True"),
        ({"baseline": np.zeros((10, 10, 3))}, r"array shaped like the image \(224, 224, 3\)"),
        (
            {"steps": 0},
            r"steps \(intervals of the path integral, or 'auto'\) must be a whole number >= 1",
        ),
        ({"steps": 64.0}, r"steps .* got 64.0 \(float\)"),
        ({"steps": "64"}, r"steps .* got '64' \(str\)"),
    ],
)
def test_integrated_gradients_refuses(lite0, espresso, kwargs, message):
    with pytest.raises(ValueError, match=message):
        helpers.integrated_gradients(lite0, espresso, 967, **{"steps": 2, **kwargs})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fill": NAN}, r"fill must be a finite number, got nan"),
        ({"fill": INF}, r"fill must be a finite number, got inf"),
        ({"fill": [0, NAN, 0]}, r"fill must be None .* holds NaN or inf"),
        ({"fill": "grey"}, r"fill must be None \(ImageNet's mean colour\), .* got 'grey'"),
        ({"fill": [1, 2]}, r"fill must be a number or 3 channel values"),
        ({"patch": 0}, r"patch \(side of the hidden square, in pixels\) must be a whole number"),
        ({"patch": 32.0}, r"patch .* got 32.0 \(float\)"),
        ({"stride": None}, r"stride \(pixels between patches\) .* got None"),
        ({"stride": -4}, r"stride .* must be a whole number >= 1, got -4"),
        ({"stride": 112}, r"stride 112 is larger than the patch 56"),
        ({"patch": 300}, r"patch 300 is larger than the image"),
        ({"score": "prob"}, r"score must be 'logit' or 'probability'"),
    ],
)
def test_occlusion_refuses(lite0, espresso, kwargs, message):
    with pytest.raises(ValueError, match=message):
        helpers.occlusion(lite0, espresso, 967, **{"patch": 56, "stride": 56, **kwargs})


@pytest.mark.parametrize(
    "k, message",
    [
        (0, r"k \(how many classes to list\) must be a whole number in 1..1000, got 0"),
        (1001, r"in 1..1000, got 1001"),
        (5.0, r"got 5.0 \(float\)"),
        ("5", r"got '5' \(str\)"),
        (None, r"got None \(NoneType\)"),
        (True, r"got True \(bool\)"),
    ],
)
def test_top_k_refuses(lite0, espresso, k, message):
    with pytest.raises(ValueError, match=message):
        helpers.top_k(lite0, espresso, k=k)


@pytest.mark.parametrize(
    "class_index, message",
    [
        ("967", r"class index must be a whole number in 0..999, got '967' \(str\)"),
        (967.0, r"got 967.0 \(float\)"),
        (None, r"got None \(NoneType\)"),
        (True, r"got True \(bool\)"),
        (1000, r"class index 1000 is outside 0..999"),
        ([967, 967], r"got 2 class indices for 1 images"),
    ],
)
def test_methods_refuse_bad_class_index(lite0, espresso, class_index, message):
    with pytest.raises((ClassIndexError, ValueError), match=message):
        helpers.vanilla_gradients(lite0, espresso, class_index)


def test_numpy_numbers_are_accepted_and_give_the_same_result(lite0, espresso):
    """A value from a numpy array or a slider is as good as a Python number."""
    plain = helpers.smoothgrad(lite0, espresso, 967, n=2, noise=0.1, seed=3)
    numpy = helpers.smoothgrad(
        lite0, espresso, np.int64(967), n=np.int64(2), noise=np.float32(0.1), seed=np.int32(3)
    )
    np.testing.assert_allclose(numpy, plain, rtol=1e-5, atol=1e-7)
    top = helpers.top_k(lite0, espresso, k=np.int64(3))
    assert len(top) == 3 and top[0][0] == 967
    zero = np.float64(0.0)
    ig = helpers.integrated_gradients(lite0, espresso, 967, steps=np.int64(2), baseline=zero)
    assert np.isfinite(ig.attributions).all()
    occ = helpers.occlusion(lite0, espresso, 967, patch=np.int64(112), stride=112, fill=0)
    assert occ.shape == (224, 224) and np.isfinite(occ).all()
