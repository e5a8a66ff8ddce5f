"""The CAM family (HiResCAM, Grad-CAM++, LayerCAM, XGrad-CAM, Score-CAM, Eigen-CAM) against
hand computations, on toy models and on EfficientNet-Lite0 and VGG16."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import helpers
from helpers.methods.cam import NotAFeatureMapLayerError, cam_parts, grad_cam_weights
from helpers.methods.cam_variants import (
    GRAD_CAM_PLUS_PLUS_VARIANTS,
    grad_cam_plus_plus,
    grad_cam_plus_plus_weights,
    hires_cam,
    hires_cam_weights,
    layer_cam,
    layer_cam_weights,
    xgrad_cam,
    xgrad_cam_weights,
)
from helpers.methods.checks import ParameterError
from helpers.methods.eigen_cam import eigen_cam, eigen_cam_weights
from helpers.methods.registry import METHODS, get
from helpers.methods.score_cam import score_cam, score_cam_channels, top_variance_channels
from helpers.models.layers import LayerNotFoundError
from helpers.models.scores import softmax

NEW = ("hires_cam", "grad_cam_plus_plus", "layer_cam", "xgrad_cam", "score_cam", "eigen_cam")
RNG = np.random.default_rng(18)


def flatten_dense_cnn(shape=(8, 8, 3), channels=4, classes=3, seed=0):
    """Conv2D 'same' + ReLU (layer 'conv') -> Flatten -> Dense logits: the logit is linear in
    the conv layer's output but uses every position with its own weight (no pooling).
    Returns (model, dense kernel, dense bias)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    features = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name="conv")(
        inputs
    )
    dense = keras.layers.Dense(classes, name="logits")
    logits = dense(keras.layers.Flatten(name="flatten")(features))
    model = keras.Model(inputs, keras.layers.Softmax(name="predictions")(logits))
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, RNG.normal(size=classes).astype(np.float32)])
    return model, *dense.get_weights()


@pytest.fixture(scope="module")
def toy():
    model, kernel, bias = flatten_dense_cnn()
    image = RNG.uniform(0, 1, (8, 8, 3)).astype(np.float32)
    return model, kernel, bias, image


def _features(model, image, layer="conv"):
    return helpers.activations(model, image, layer).astype(np.float64)


def _pearson(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


# --- HiResCAM -----------------------------------------------------------------------------------


def test_hires_cam_is_grad_cam_before_the_relu_on_lite0_and_sums_to_the_logit(lite0, cat):
    grad = cam_parts(lite0, cat, 281, grad_cam_weights)
    hires = cam_parts(lite0, cat, 281, hires_cam_weights)
    scale = np.abs(grad.weighted_sum).max()
    assert np.abs(hires.weighted_sum - grad.weighted_sum).max() <= 1e-5 * scale
    logit = helpers.predict_logits(lite0, cat)[0, 281]
    bias = lite0.get_layer("logits").get_weights()[1][281]
    total = hires.weighted_sum.astype(np.float64).sum()
    assert abs(total - (logit - bias)) <= 1e-4 * abs(logit - bias), (total, logit - bias)
    # and after the ReLU and upsampling the two methods give the same map
    np.testing.assert_allclose(hires_cam(lite0, cat, 281), helpers.grad_cam(lite0, cat, 281),
                               atol=1e-5)


def test_hires_cam_differs_from_grad_cam_on_a_flatten_dense_head_and_still_sums(toy):
    model, kernel, bias, image = toy
    for cls in range(3):
        hires = cam_parts(model, image, cls, hires_cam_weights)
        grad = cam_parts(model, image, cls, grad_cam_weights)
        assert _pearson(hires.weighted_sum, grad.weighted_sum) < 0.99
        logit = helpers.predict_logits(model, image)[0, cls]
        total = hires.weighted_sum.astype(np.float64).sum()
        assert abs(total - (logit - bias[cls])) <= 1e-4 * max(abs(logit - bias[cls]), 1e-3)
        # the gradient of a Flatten -> Dense head is the dense kernel, cell by cell
        np.testing.assert_allclose(hires.gradients, kernel[:, cls].reshape(8, 8, 4), rtol=1e-6)


# --- Grad-CAM++, LayerCAM, XGrad-CAM against NumPy -----------------------------------------------


def _by_hand(model, kernel, image, cls):
    """Feature maps and gradients of the toy worked out without the library."""
    return _features(model, image), kernel[:, cls].reshape(8, 8, 4).astype(np.float64)


def test_grad_cam_plus_plus_alpha_is_the_papers_general_formula_for_exp_of_the_score(toy):
    """Eq. 10 of the paper, alpha = Y'' / (2 Y'' + sum_ab A_ab Y''') with Y = exp(S), with the
    second and third derivatives taken by automatic differentiation of the toy's head, equals
    the closed form the library uses (g^2 / (2 g^2 + sum A g^3))."""
    model, kernel, bias, image = toy
    cls = 1
    features, g = _by_hand(model, kernel, image, cls)
    head = tf.constant(kernel[:, cls], tf.float64)
    flat = tf.Variable(features.ravel())
    for cell in [(0, 0, 0), (3, 5, 1), (7, 2, 3)]:
        index = np.ravel_multi_index(cell, features.shape)
        with tf.GradientTape() as t3, tf.GradientTape() as t2, tf.GradientTape() as t1:
            score = tf.exp(tf.tensordot(flat, head, 1) + float(bias[cls]))
            first = t1.gradient(score, flat)[index]
            second = t2.gradient(first, flat)[index]
        third = t3.gradient(second, flat)[index]
        total = features[..., cell[2]].sum()
        alpha = second.numpy() / (2 * second.numpy() + total * third.numpy())
        gc = g[cell]
        assert alpha == pytest.approx(gc**2 / (2 * gc**2 + total * gc**3), rel=1e-9)


def test_grad_cam_plus_plus_and_its_library_variants_equal_numpy(toy):
    model, kernel, bias, image = toy
    cls = 2
    features, g = _by_hand(model, kernel, image, cls)
    total, mean = features.sum(axis=(0, 1)), features.mean(axis=(0, 1))
    paper_alpha = g**2 / (2 * g**2 + total * g**3)
    expected = {
        "paper": (paper_alpha * np.maximum(g, 0)).sum(axis=(0, 1)),
        "pytorch-grad-cam": (g**2 / (2 * g**2 + total * g**3 + 1e-6) * np.maximum(g, 0)).sum(
            axis=(0, 1)
        ),
        "tf-keras-vis": (paper_alpha / paper_alpha.sum(axis=(0, 1)) * np.maximum(g, 0)).sum(
            axis=(0, 1)
        ),
        "xplique": (g**2 / (2 * g**2 + mean * g**3) * np.maximum(g, 0)).mean(axis=(0, 1)),
    }
    for variant, weights in expected.items():
        parts = cam_parts(model, image, cls, GRAD_CAM_PLUS_PLUS_VARIANTS[variant])
        np.testing.assert_allclose(parts.channel_weights, weights, rtol=1e-5, err_msg=variant)
        cam = np.maximum((features * weights).sum(-1), 0)
        ours = grad_cam_plus_plus(model, image, cls, variant=variant)  # 8x8: no resizing
        np.testing.assert_allclose(ours, cam / cam.max(), atol=1e-5, err_msg=variant)
    spread = {v: _pearson(expected["paper"], w) for v, w in expected.items()}
    assert min(spread.values()) < 0.9999  # the variants are not the same method
    assert GRAD_CAM_PLUS_PLUS_VARIANTS["paper"] is grad_cam_plus_plus_weights


def test_layer_cam_and_xgrad_cam_equal_numpy(toy):
    model, kernel, bias, image = toy
    for cls in range(3):
        features, g = _by_hand(model, kernel, image, cls)
        layer = np.maximum((np.maximum(g, 0) * features).sum(-1), 0)
        np.testing.assert_allclose(layer_cam(model, image, cls), layer / layer.max(), atol=1e-5)
        weights = (features * g).sum(axis=(0, 1)) / features.sum(axis=(0, 1))
        xgrad = np.maximum((features * weights).sum(-1), 0)
        np.testing.assert_allclose(xgrad_cam(model, image, cls), xgrad / xgrad.max(), atol=1e-5)
    parts = cam_parts(model, image, 0, layer_cam_weights)
    assert parts.channel_weights.shape == (8, 8, 4) and parts.channel_weights.min() >= 0
    assert cam_parts(model, image, 0, xgrad_cam_weights).channel_weights.shape == (4,)


def test_on_a_gap_head_xgrad_cam_is_grad_cam(lite0, cat):
    np.testing.assert_allclose(xgrad_cam(lite0, cat, 281), helpers.grad_cam(lite0, cat, 281),
                               atol=1e-5)


def test_layer_cam_at_an_early_layer_localises_where_grad_cam_does_not(lite0, cat):
    """At an early layer Grad-CAM's averaged gradient mixes signs over the whole grid and its
    map is no better than a flat one on the cat's face; LayerCAM keeps each cell's positive
    gradient (notebook 07, section 5: the face box of notebook 03)."""
    box = (slice(48, 224), slice(50, 188))
    area = (224 - 48) * (188 - 50) / 224**2
    layer = "block4a_activation"  # the depthwise convolution's rectified output, 14x14
    grad = helpers.grad_cam(lite0, cat, 281, layer=layer)
    layer_map = layer_cam(lite0, cat, 281, layer=layer)
    assert layer_map.shape == (224, 224) and np.isclose(layer_map.max(), 1.0)
    grad_mass, layer_mass = (m[box].sum() / m.sum() for m in (grad, layer_map))
    assert grad_mass < area + 0.02 and layer_mass > area + 0.05, (grad_mass, layer_mass, area)


# --- Score-CAM ------------------------------------------------------------------------------------


def _score_cam_by_hand(model, image, cls, channels=None, over="classes"):
    """Score-CAM on the toy (the conv layer has the image's size: no resizing)."""
    features = _features(model, image)
    chosen = range(features.shape[-1]) if channels is None else channels
    scores = []
    for k in chosen:
        a = features[..., k]
        mask = (a - a.min()) / (a.max() - a.min()) if a.max() > a.min() else np.zeros_like(a)
        logits = helpers.predict_logits(model, image * mask[..., None])[0].astype(np.float64)
        scores.append(softmax(logits)[cls] if over == "classes" else logits[cls])
    scores = np.asarray(scores)
    weights = scores if over == "classes" else softmax(scores)
    cam = np.maximum(sum(w * features[..., k] for w, k in zip(weights, chosen, strict=True)), 0)
    return cam / cam.max()


@pytest.mark.parametrize("over", ["classes", "channels"])
def test_score_cam_equals_a_hand_computation(toy, over):
    model, _, _, image = toy
    expected = _score_cam_by_hand(model, image, 1, over=over)
    np.testing.assert_allclose(score_cam(model, image, 1, softmax=over), expected, atol=1e-5)
    top = top_variance_channels(_features(model, image), 2)
    np.testing.assert_allclose(
        score_cam(model, image, 1, max_channels=2, softmax=over),
        _score_cam_by_hand(model, image, 1, top, over), atol=1e-5,
    )


def test_score_cam_max_channels_at_or_above_k_is_the_exact_method(lite0, cat):
    layer = helpers.grad_cam_layer(lite0, "block2a_project_conv")  # 24 channels: cheap
    k = lite0.get_layer(layer).output.shape[-1]
    exact = score_cam(lite0, cat, 281, layer=layer, progress=False)
    for count in (k, k + 40):
        np.testing.assert_array_equal(
            score_cam(lite0, cat, 281, layer=layer, max_channels=count, progress=False), exact
        )
    fewer = score_cam(lite0, cat, 281, layer=layer, max_channels=k // 3, progress=False)
    assert not np.allclose(fewer, exact, atol=1e-3)
    assert score_cam_channels(lite0, layer, None) == k == score_cam_channels(lite0, layer, k + 40)


def test_top_variance_channels():
    maps = np.zeros((3, 3, 4))
    maps[..., 1] = np.arange(9).reshape(3, 3)  # variance 6.67
    maps[..., 3] = 2 * np.arange(9).reshape(3, 3)  # largest
    maps[0, 0, 2] = 1.0  # small
    assert list(top_variance_channels(maps, None)) == [3, 1, 2, 0]
    assert list(top_variance_channels(maps, 2)) == [3, 1]


def test_score_cam_progress_counts_forward_passes_and_chunks_do_not_matter(toy):
    model, _, _, image = toy
    seen = []
    together = score_cam(model, np.stack([image, image[::-1]]), [0, 2], progress=seen.append,
                         batch_size=3)
    assert seen[-1] == 1.0 and len(seen) >= 4 and seen == sorted(seen)
    alone = score_cam(model, image[::-1], 2, batch_size=1, progress=False)
    np.testing.assert_allclose(together[1], alone, atol=1e-6)
    np.testing.assert_array_equal(alone, score_cam(model, image[::-1], 2, progress=False))


# --- Eigen-CAM ------------------------------------------------------------------------------------


def test_eigen_cam_is_the_first_principal_component_with_a_fixed_sign():
    features = RNG.uniform(0, 1, (5, 6, 7, 9))
    weights = eigen_cam_weights(features)
    for maps, v in zip(features, weights, strict=True):
        x = maps.reshape(-1, 9)
        x = x - x.mean(axis=0)
        reference = np.linalg.svd(x, full_matrices=False)[2][0]
        assert min(np.abs(v - reference).max(), np.abs(v + reference).max()) < 1e-10
        projection = x @ v
        assert _pearson(projection, maps.mean(-1)) > 0  # the sign convention
        assert v.sum() >= 0  # the same rule for the centred matrix
    # the same direction, sign included, whatever the order of the grid cells
    reordered = eigen_cam_weights(features[:, ::-1, ::-1])
    np.testing.assert_allclose(reordered, weights, atol=1e-10)
    # negated features negate the mean activation too: the same direction, a negated map
    np.testing.assert_allclose(eigen_cam_weights(-features), weights, atol=1e-10)
    uncentred = eigen_cam_weights(features, center=False)
    assert np.all(uncentred >= -1e-12)  # non-negative maps: a non-negative top direction


def test_eigen_cam_is_class_independent_and_positive_where_the_activity_is(lite0, cat):
    tabby = eigen_cam(lite0, cat, 281)
    np.testing.assert_array_equal(tabby, eigen_cam(lite0, cat, 967))
    activity = helpers.activations(lite0, cat, helpers.grad_cam_layer(lite0)).mean(-1)
    grid = helpers.cam_parts(lite0, cat, 281, grad_cam_weights).feature_maps
    centred = grid.reshape(-1, grid.shape[-1]) - grid.reshape(-1, grid.shape[-1]).mean(0)
    projection = centred @ eigen_cam_weights(grid[None])[0]
    assert _pearson(projection, activity) > 0
    assert tabby.shape == (224, 224) and np.isclose(tabby.max(), 1.0) and tabby.min() >= 0


# --- every new method: the registry, both models, bad parameters -------------------------------


def test_the_registry_entries(lite0, cat):
    for name in NEW:
        method = METHODS[name]
        assert not method.by_default and method.map == "2d"
        assert any(c.kind == "layer" for c in method.controls)
    score = METHODS["score_cam"]
    k = lite0.get_layer(helpers.grad_cam_layer(lite0)).output.shape[-1]
    assert score.count_passes(score.settings(), (224, 224), lite0).forward == k + 1
    assert score.count_passes(score.settings(fast=True), (224, 224)).forward == 33
    explorer = score.settings(**score.explorer)
    assert score.count_passes(explorer, (224, 224), lite0).forward <= 129  # about 1 s on Lite0
    assert METHODS["hires_cam"].count_passes({}, (224, 224), lite0).backward == 1
    assert get("Grad-CAM++") is METHODS["grad_cam_plus_plus"] is get("gradcampp")


@pytest.mark.parametrize("name", NEW)
def test_each_method_runs_through_the_registry_on_lite0(lite0, cat, espresso, name):
    maps, raw, completeness = METHODS[name].run(
        lite0, np.stack([cat, espresso]), [281, 967], progress=False,
        **METHODS[name].settings(fast=True),
    )
    assert maps.shape == (2, 224, 224) and maps.dtype == np.float32 and raw is None
    assert completeness is None
    assert np.all(maps >= 0) and np.allclose(maps.max(axis=(1, 2)), 1.0)
    again, _, _ = METHODS[name].run(lite0, cat, 281, progress=False,
                                    **METHODS[name].settings(fast=True))
    np.testing.assert_allclose(again, maps[0], atol=1e-5)  # alone = in a batch; deterministic


@pytest.fixture(scope="module")
def vgg16():
    return helpers.load_model("vgg16", pretrained=False, verbose=False)


def test_every_method_works_on_vgg16(vgg16, cat):
    assert helpers.grad_cam_layer(vgg16) == "block5_conv3"
    for name in NEW:
        settings = {"max_channels": 4} if name == "score_cam" else {}
        heat = getattr(helpers, name)(vgg16, cat, 281, progress=False, **settings)
        assert heat.shape == (224, 224) and np.all(np.isfinite(heat)), name
        assert heat.min() >= 0 and heat.max() <= 1, name
    # VGG16's head uses position (max pooling, then fully connected layers): HiResCAM is not
    # Grad-CAM there
    hires = cam_parts(vgg16, cat, 281, hires_cam_weights).weighted_sum
    grad = cam_parts(vgg16, cat, 281, grad_cam_weights).weighted_sum
    assert _pearson(hires, grad) < 0.99


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, x: grad_cam_plus_plus(m, x, 0, variant="pytorch"), ParameterError,
         "variant must be one of 'paper'"),
        (lambda m, x: grad_cam_plus_plus(m, x, 0, variant=None), ParameterError, "variant"),
        (lambda m, x: score_cam(m, x, 0, max_channels=0), ParameterError,
         r"max_channels \(channels to score, or None for all of them\) must be a whole number"),
        (lambda m, x: score_cam(m, x, 0, max_channels=2.5), ParameterError, "max_channels"),
        (lambda m, x: score_cam(m, x, 0, max_channels=True), ParameterError, "max_channels"),
        (lambda m, x: score_cam(m, x, 0, max_channels="all"), ParameterError, "max_channels"),
        (lambda m, x: score_cam(m, x, 0, softmax="logits"), ParameterError,
         "softmax must be 'classes'"),
        (lambda m, x: eigen_cam(m, x, 0, center="yes"), ParameterError, "center must be True"),
        (lambda m, x: hires_cam(m, x, 0, layer="cnv"), LayerNotFoundError, "Close matches"),
        (lambda m, x: layer_cam(m, x, 0, layer="flatten"), NotAFeatureMapLayerError,
         "not feature maps"),
        (lambda m, x: xgrad_cam(m, x, 7), helpers.ClassIndexError, "class"),
        (lambda m, x: eigen_cam(m, x, -1), helpers.ClassIndexError, "class"),
        (lambda m, x: score_cam(m, x, 0, batch_size=0), ValueError, "batch_size"),
    ],
)
def test_bad_parameters_give_clear_errors(toy, call, error, match):
    model, _, _, image = toy
    with pytest.raises(error, match=match):
        call(model, image)


# --- the explorer: a registry entry's ``explorer`` settings ----------------------------------


def test_the_explorer_starts_from_a_methods_explorer_settings(lite0, cat):
    from helpers.methods.registry import Method, Passes, register, unregister

    def scaled(model, image, class_index, scale=1.0, batch_size=None, progress=None):
        return np.full(image.shape[:2], scale, np.float32)

    register(Method(name="scaled_test", title="Scaled (test)", function=scaled, paper="none",
                    defaults={"scale": 9.0}, explorer={"scale": 2.0},
                    passes=lambda s, hw: Passes(forward=0)))
    try:
        ex = helpers.explorer(lite0, {"cat": cat})
        ex.controls["method"].value = "Scaled (test)"  # no control: the explorer value is used
        np.testing.assert_array_equal(ex.last_map, 2.0)
        assert METHODS["scaled_test"].run(lite0, cat, 281)[0][0, 0] == 9.0  # elsewhere: default
        ex.controls["method"].value = "Score-CAM"
        assert ex.controls["max_channels"].value == METHODS["score_cam"].explorer["max_channels"]
        assert ex.settings("Score-CAM")["max_channels"] == ex.controls["max_channels"].value
        passes = METHODS["score_cam"].explorer["max_channels"] + 1  # the channels + the image
        assert ex.last_map.shape == (224, 224)
        assert f"{passes} forward passes" in ex._cost("Score-CAM")
        ex.controls["max_channels"].value = 16
        np.testing.assert_allclose(ex.last_map, score_cam(lite0, cat, ex.controls["class"].value,
                                                          max_channels=16, progress=False))
    finally:
        unregister("scaled_test")
