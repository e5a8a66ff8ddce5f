"""Vanilla gradients, gradient x input, SmoothGrad and Integrated Gradients, with numbers."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from helpers.data.labels import ClassIndexError
from helpers.environment import CourseSettingError, check_environment
from helpers.methods.gradients import gradient_x_input, vanilla_gradients
from helpers.methods.integrated_gradients import integrated_gradients
from helpers.methods.maps import reduce_channels
from helpers.methods.smoothgrad import smoothgrad
from helpers.paths import PROJECT_ROOT
from tests.toy_models import linear_model, smooth_cnn

RNG = np.random.default_rng(42)


def test_linear_model_gradient_is_the_weight_vector():
    model, weights, _ = linear_model()
    image = RNG.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    for cls in range(3):
        grads = vanilla_gradients(model, image, cls)
        assert grads.shape == image.shape and grads.dtype == np.float32
        np.testing.assert_array_equal(grads.ravel(), weights[:, cls])


def test_linear_model_gradient_x_input_sums_to_score_minus_bias():
    model, weights, bias = linear_model()
    image = RNG.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    score = image.ravel().astype(np.float64) @ weights[:, 1] + bias[1]
    attribution = gradient_x_input(model, image, 1)
    np.testing.assert_allclose(attribution.sum(dtype=np.float64), score - bias[1], rtol=1e-5)


def test_gradients_match_finite_differences_on_a_small_cnn():
    model = smooth_cnn()
    scorer = keras.Model(model.input, model.get_layer("logits").output)
    image = RNG.uniform(0, 1, (10, 12, 3))
    grads = vanilla_gradients(model, image.astype(np.float32), 2).astype(np.float64)

    def logit(x):
        return float(np.asarray(scorer(x[None]))[0, 2])

    eps = 1e-4
    for _ in range(5):  # directional derivatives along random directions, in float64
        direction = RNG.normal(size=image.shape)
        numeric = (logit(image + eps * direction) - logit(image - eps * direction)) / (2 * eps)
        analytic = float((grads * direction).sum())
        assert abs(numeric - analytic) <= 1e-3 * abs(analytic), (numeric, analytic)


def test_batch_equals_one_by_one_and_class_per_image(lite0, cat, espresso):
    batch = np.stack([cat, espresso])
    together = vanilla_gradients(lite0, batch, [281, 967], batch_size=2)
    assert together.shape == (2, 224, 224, 3)
    np.testing.assert_allclose(together[0], vanilla_gradients(lite0, cat, 281), atol=1e-6)
    np.testing.assert_allclose(together[1], vanilla_gradients(lite0, espresso, 967), atol=1e-6)


def test_reduce_channels():
    a = np.array([[[1.0, -3.0, 2.0]]])
    assert reduce_channels(a)[0, 0] == 3.0
    assert reduce_channels(a, "sum_abs")[0, 0] == 6.0
    assert reduce_channels(a, "sum")[0, 0] == 0.0
    with pytest.raises(ValueError, match="choose"):
        reduce_channels(a, "mean")


def test_smoothgrad_without_noise_and_one_sample_is_vanilla(lite0, cat):
    np.testing.assert_allclose(
        smoothgrad(lite0, cat, 281, n=1, noise=0.0), vanilla_gradients(lite0, cat, 281), atol=1e-7
    )


def test_smoothgrad_same_seed_same_map_other_seed_other_map():
    model, _, _ = linear_model()
    cnn = smooth_cnn()
    image = RNG.uniform(0, 1, (10, 12, 3)).astype(np.float32)
    first = smoothgrad(cnn, image, 0, n=8, seed=3)
    np.testing.assert_array_equal(first, smoothgrad(cnn, image, 0, n=8, seed=3))
    assert not np.array_equal(first, smoothgrad(cnn, image, 0, n=8, seed=4))
    # a linear model's gradient does not depend on x: noise changes nothing
    flat = RNG.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        smoothgrad(model, flat, 0, n=5), vanilla_gradients(model, flat, 0), rtol=1e-6
    )


def test_smoothgrad_noise_is_a_fraction_of_the_input_range():
    model, _, _ = linear_model()
    image = np.zeros((6, 5, 3), np.float32)
    image[0, 0, 0] = 200.0  # range 200
    seen = []

    def spy(model, images, class_index, batch_size=None):
        seen.append(images - image)
        return np.zeros_like(images)

    smoothgrad(model, image, 0, n=400, noise=0.1, method=spy, batch_size=50)
    noise = np.concatenate(seen)
    assert noise.shape == (400, 6, 5, 3)
    assert abs(noise.std() - 20.0) < 0.3  # 10 % of 200
    assert max(len(s) for s in seen) <= 50  # never more than one chunk at a time


def test_smoothgrad_wraps_other_methods(lite0, cat):
    from helpers.methods.cam import grad_cam

    cam = smoothgrad(lite0, cat, 281, n=4, noise=0.1, method=grad_cam)
    assert cam.shape == (224, 224)
    assert cam.min() >= 0 and cam.max() <= 1


def test_smoothgrad_peak_memory_does_not_grow_with_n():
    """n = 400 needs no more memory than n = 100: noisy copies are made chunk by chunk.

    One fresh process: a warm-up call first (the first call of any TensorFlow program
    allocates 70-100 MB once: kernels, thread pools, tracing; measured against n alone
    that looked like growth), then, for each call, the high-water mark is reset
    (``/proc/self/clear_refs``) and its rise above the resident size is read (VmHWM).
    Measured here (2 cores, loaded): warm-up 103 MB, then 31-40 MB for n = 20 to 800 alike
    (allocator noise; n = 100 and 400 gave 39 and 31 MB). Making all the noisy copies at once
    would add 3 MB per extra sample (a 256 x 256 x 3 float32 image) plus its activations: the
    control, n = 100 in one chunk (744 MB), shows the measurement sees that.
    """
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        import keras, numpy as np
        from helpers.methods.smoothgrad import smoothgrad
        inputs = keras.Input((256, 256, 3))
        x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
        logits = keras.layers.Dense(2, name="logits")(keras.layers.GlobalAveragePooling2D()(x))
        model = keras.Model(inputs, keras.layers.Softmax()(logits))
        image = np.random.default_rng(0).uniform(0, 255, (256, 256, 3)).astype(np.float32)

        def kib(field):
            for line in open("/proc/self/status"):
                if line.startswith(field):
                    return int(line.split()[1])

        def rise(n, batch_size):
            open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark
            before = kib("VmRSS:")
            smoothgrad(model, image, 0, n=n, batch_size=batch_size, progress=False)
            return kib("VmHWM:") - before

        rise(20, 10)  # warm-up: the one-off cost of the first call
        print(rise(100, 10), rise(400, 10), rise(100, 100))  # KiB
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    small, large, unchunked = map(int, out.stdout.split()[-3:])
    per_sample = 256 * 256 * 3 * 4 // 1024  # KiB of one noisy copy
    # 300 more samples, made all at once, would add 300 * 768 KiB = 225 MiB; allow 1/8 of it
    assert large <= small + 300 * per_sample // 8, (small, large)
    # the control: 100 copies in one chunk (77 MB of images plus their activations)
    assert unchunked > small + 90 * per_sample, (small, unchunked)


def test_integrated_gradients_completeness_on_a_linear_model():
    model, weights, bias = linear_model()
    image = RNG.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    attributions, check = integrated_gradients(model, image, 2, steps=4)
    # linear: IG is exact at any number of steps, and equals (x - 0) * w
    np.testing.assert_allclose(attributions.ravel(), image.ravel() * weights[:, 2], rtol=1e-5)
    assert check.relative_gap < 1e-5
    np.testing.assert_allclose(check.score_baseline, bias[2], rtol=1e-5)


def test_integrated_gradients_baselines():
    model, weights, _ = linear_model()
    image = RNG.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    grey = integrated_gradients(model, image, 0, baseline=127.5, steps=2).attributions
    np.testing.assert_allclose(grey.ravel(), (image.ravel() - 127.5) * weights[:, 0], rtol=1e-4)
    own = integrated_gradients(model, image, 0, baseline=image, steps=2)
    assert np.all(own.attributions == 0)
    with pytest.raises(ValueError, match="shaped like the image"):
        integrated_gradients(model, image, 0, baseline=np.zeros((2, 2, 3)))


@pytest.mark.parametrize("steps", [0, -1, 2.5])
def test_integrated_gradients_bad_steps(steps):
    model, _, _ = linear_model()
    with pytest.raises(ValueError, match="steps"):
        integrated_gradients(model, np.zeros((6, 5, 3), np.float32), 0, steps=steps)


def test_integrated_gradients_completeness_on_lite0_cat(lite0, cat):
    """The real model and the cat: 256 trapezoid steps close the gap to under 1 %."""
    attributions, check = integrated_gradients(lite0, cat, 281, steps=256)
    assert attributions.shape == (224, 224, 3) and attributions.dtype == np.float32
    assert check.score_difference > 5  # tabby's logit clearly rises from black to the cat
    assert check.relative_gap < 0.01, str(check)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 0}, "whole number >= 1"), ({"noise": -0.1}, "fraction of the input range")],
)
def test_smoothgrad_bad_arguments(kwargs, match):
    model, _, _ = linear_model()
    with pytest.raises(ValueError, match=match):
        smoothgrad(model, np.zeros((6, 5, 3), np.float32), 0, **kwargs)


def test_class_index_checked_against_the_model():
    model, _, _ = linear_model(classes=3)
    with pytest.raises(ClassIndexError, match=r"outside 0\.\.2"):
        vanilla_gradients(model, np.zeros((6, 5, 3), np.float32), 3)


def test_nan_image_is_refused(lite0):
    with pytest.raises(ValueError, match="NaN"):
        vanilla_gradients(lite0, np.full((224, 224, 3), np.nan, np.float32), 281)


def test_course_batch_size_fixes_the_chunks(monkeypatch):
    """CI's second arithmetic setting runs every method in other chunks ($COURSE_BATCH_SIZE)."""
    from helpers.methods.batching import auto_batch_size

    model, _, _ = linear_model()
    image = RNG.uniform(0, 255, (6, 5, 3)).astype(np.float32)
    seen = []

    def spy(model, images, class_index, **kwargs):
        seen.append(len(images))
        return np.zeros_like(images)

    default = auto_batch_size(model)
    monkeypatch.setenv("COURSE_BATCH_SIZE", "3")
    assert auto_batch_size(model) == 3 != default
    smoothgrad(model, image, 0, n=10, method=spy)
    assert seen == [3, 3, 2, 2]  # 10 in equal pieces of at most 3
    for bad in ("0", "-2", "five", "2.5", "²", "5000"):
        monkeypatch.setenv("COURSE_BATCH_SIZE", bad)
        with pytest.raises(CourseSettingError, match=r"COURSE_BATCH_SIZE=.* whole number"):
            auto_batch_size(model)
    monkeypatch.setenv("COURSE_BATCH_SIZE", " 5 ")
    assert check_environment()["COURSE_BATCH_SIZE"] == 5
