"""Guided Backprop and Guided Grad-CAM: the rule by hand, the model untouched, real models."""

import keras
import numpy as np
import pytest

from helpers.methods.cam import grad_cam
from helpers.methods.gradients import vanilla_gradients
from helpers.methods.guided import (
    NoReluError,
    UnsupportedActivationError,
    guided_backprop,
    guided_grad_cam,
    relu_max_value,
)
from tests.toy_models import smooth_cnn


def _toy(seed=2):
    """pixels (2,2,1) -> Dense(6, relu) -> Dense(5) -> ReLU6 -> Dense(3) logits; numpy weights."""
    rng = np.random.default_rng(seed)
    w1, b1 = rng.normal(size=(4, 6)) * 1.5, rng.normal(size=6)
    w2, b2 = rng.normal(size=(6, 5)) * 1.5, rng.normal(size=5)
    w3, x = rng.normal(size=(5, 3)), rng.normal(size=4) * 2
    inputs = keras.Input((2, 2, 1))
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")
    second = keras.layers.Dense(5, name="second")
    head = keras.layers.Dense(3, name="logits")
    h = keras.layers.ReLU(6.0, name="relu6")(second(hidden(keras.layers.Flatten()(inputs))))
    model = keras.Model(inputs, keras.layers.Softmax(name="predictions")(head(h)))
    hidden.set_weights([w1.astype(np.float32), b1.astype(np.float32)])
    second.set_weights([w2.astype(np.float32), b2.astype(np.float32)])
    head.set_weights([w3.astype(np.float32), np.zeros(3, np.float32)])
    weights = [np.float32(w).astype(np.float64) for w in (w1, b1, w2, b2, w3)]
    return model, weights, np.float32(x).reshape(2, 2, 1)


def test_guided_gradient_equals_the_rule_applied_by_hand():
    model, (w1, b1, w2, b2, w3), image = _toy()
    x = image.ravel().astype(np.float64)
    z1 = x @ w1 + b1
    z2 = np.maximum(z1, 0) @ w2 + b2
    up2 = w3[:, 1]  # d logit_1 / d relu6 output
    # the cases the rule distinguishes all occur: ReLU6 saturated, open and closed; negative
    # and positive gradients arriving at open units
    open6 = (z2 > 0) & (z2 < 6)
    assert (z2 > 6).any() and open6.any() and (z2 < 0).any() and (up2[open6] < 0).any()
    g2 = np.where(open6 & (up2 > 0), up2, 0.0)
    up1 = w2 @ g2
    assert (up1[z1 > 0] < 0).any() and (up1[z1 > 0] > 0).any()
    expected = w1 @ np.where((z1 > 0) & (up1 > 0), up1, 0.0)
    plain = w1 @ ((w2 @ (up2 * open6)) * (z1 > 0))

    got = guided_backprop(model, image, 1).ravel()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(vanilla_gradients(model, image, 1).ravel(), plain, rtol=1e-5)
    assert np.abs(expected - plain).max() > 0.5  # the guided rule changed the answer


def _sequential_relus():
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
            keras.layers.Conv2D(4, 3, name="conv2"),
            keras.layers.Activation("relu6", name="act2"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, name="logits"),
            keras.layers.Softmax(name="predictions"),
        ]
    )


def test_the_users_model_is_unchanged_and_later_weight_changes_are_seen():
    model = _sequential_relus()
    image = np.random.default_rng(0).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    before = {layer.name: getattr(layer, "activation", None) for layer in model.layers}
    weights = [w.copy() for w in model.get_weights()]
    prediction = model.predict(image[None], verbose=0)
    first = guided_backprop(model, image, 0)
    assert {layer.name: getattr(layer, "activation", None) for layer in model.layers} == before
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    np.testing.assert_array_equal(model.predict(image[None], verbose=0), prediction)
    assert model.get_layer("conv1").activation is keras.activations.relu
    model.to_json()  # still serializable

    model.get_layer("conv1").set_weights([w * 2 for w in model.get_layer("conv1").get_weights()])
    fresh = _sequential_relus()
    fresh.set_weights(model.get_weights())
    np.testing.assert_allclose(guided_backprop(model, image, 0), guided_backprop(fresh, image, 0))
    assert not np.allclose(guided_backprop(model, image, 0), first)


def test_guided_grad_cam_is_guided_backprop_times_grad_cam():
    model = _sequential_relus()
    images = np.random.default_rng(1).uniform(0, 1, (2, 8, 8, 3)).astype(np.float32)
    got = guided_grad_cam(model, images, [0, 2], layer="act2")
    cam = grad_cam(model, images, [0, 2], layer="act2")
    np.testing.assert_allclose(got, guided_backprop(model, images, [0, 2]) * cam[..., None])
    assert got.shape == (2, 8, 8, 3)


def test_models_without_relus_or_with_leaky_ones_get_clear_errors():
    with pytest.raises(NoReluError, match="no ReLU"):
        guided_backprop(smooth_cnn(), np.zeros((10, 12, 3)), 0)
    with pytest.raises(UnsupportedActivationError, match="negative_slope"):
        relu_max_value(keras.layers.ReLU(negative_slope=0.1))
    assert relu_max_value(keras.layers.Dense(2, activation="relu6")) == (True, 6.0)
    assert relu_max_value(keras.layers.Dense(2, activation="gelu")) == (False, None)


def test_guided_backprop_on_lite0_guides_every_relu6(lite0, cat):
    from helpers.methods.guided import guided_model

    relus = [layer for layer in lite0.layers if isinstance(layer, keras.layers.ReLU)]
    twin = guided_model(lite0)
    guided = [
        layer
        for layer in twin.layers
        if "guided" in getattr(getattr(layer, "activation", None), "__name__", "")
    ]
    assert len(relus) == len(guided) > 30
    assert all(layer.get_config()["max_value"] == 6.0 for layer in relus)  # unchanged
    gb = guided_backprop(lite0, cat, 281)
    vanilla = vanilla_gradients(lite0, cat, 281)
    assert gb.shape == cat.shape and np.isfinite(gb).all() and np.abs(gb).max() > 0
    assert np.corrcoef(gb.ravel(), vanilla.ravel())[0, 1] < 0.9


def test_guided_backprop_on_vgg16_architecture_with_random_weights():
    from helpers.methods.guided import guided_model
    from helpers.models.loading import build_vgg16

    model = build_vgg16(pretrained=False)
    image = np.random.default_rng(0).uniform(0, 255, (224, 224, 3)).astype(np.float32)
    twin = guided_model(model)
    relus = [layer.name for layer in model.layers if relu_max_value(layer)[0]]
    assert len(relus) == 15  # 13 convolutions and fc1, fc2 have the ReLU built in
    assert all(model.get_layer(n).activation is keras.activations.relu for n in relus)
    assert all("guided" in twin.get_layer(n).activation.__name__ for n in relus)
    gb = guided_backprop(model, image, 281)
    assert gb.shape == (224, 224, 3) and np.isfinite(gb).all()
    assert all(model.get_layer(n).activation is keras.activations.relu for n in relus)


def test_tf_explain_guided_grads_are_a_coarse_grad_cam_not_guided_backprop(lite0, cat):
    """tf-explain's GradCAM(use_guided_grads=True) gates only the gradient at the layer,
    [A > 0] [g > 0] g, and averages it into channel weights: a map on the 7 x 7 grid that
    ranks like Grad-CAM, far from Guided Backprop's pixel-level map."""
    from scipy.stats import spearmanr
    from tf_explain.core.grad_cam import GradCAM

    from helpers.methods.cam import grad_cam_parts, upsample
    from helpers.methods.maps import reduce_channels
    from helpers.models.scores import logits_model

    layer = "top_activation"
    outputs, gated = GradCAM.get_gradients_and_filters(
        logits_model(lite0), cat[None], layer, 281, True
    )
    tf_explain_map = GradCAM.generate_ponderated_output(outputs, gated)[0].numpy()
    parts = grad_cam_parts(lite0, cat, 281, layer=layer)
    weights = gated.numpy()[0].mean(axis=(0, 1))
    assert tf_explain_map.shape == (7, 7) and (weights >= 0).all()
    assert np.mean(weights > 0) < 0.5 < np.mean(parts.channel_weights != 0)
    assert spearmanr(tf_explain_map.ravel(), parts.cam.ravel())[0] > 0.9
    upsampled = upsample(np.maximum(tf_explain_map, 0)[None].astype(np.float32), (224, 224))[0]
    guided = reduce_channels(guided_backprop(lite0, cat, 281))
    assert spearmanr(upsampled.ravel(), guided.ravel())[0] < 0.7


def test_guided_backprop_fails_the_randomization_check_on_lite0(lite0, cat):
    """Adebayo et al. (2018): randomizing the logits and the top block barely changes Guided
    Backprop's map, while the gradient's and Grad-CAM's change a lot (5 seeds, 4 photos:
    see helpers.evaluation.randomization_table.randomization_table)."""
    from helpers.evaluation.randomization import cascading_randomization
    from helpers.evaluation.randomization_table import guided_comparison_methods

    methods = {k: v for k, v in guided_comparison_methods().items() if k != "guided Grad-CAM"}
    result = cascading_randomization(
        lite0, cat, 281, methods, stages=["logits", "top"], seed=0, in_place=True
    )
    guided = result.similarity("guided backprop")
    assert guided[1] > 0.95 and guided[2] > 0.95, guided
    assert result.similarity("gradient")[1:].max() < 0.5
    assert result.similarity("Grad-CAM")[2] < 0.6  # (after the logits alone it varies by seed)
    assert result.similarity("guided backprop", "ssim")[2] > 0.9


def test_randomization_table_summarises_seeds():
    from helpers.evaluation.randomization_table import (
        guided_comparison_methods,
        randomization_table,
    )

    model = _sequential_relus()
    image = np.random.default_rng(4).uniform(0, 1, (8, 8, 3)).astype(np.float32)
    weights = [w.copy() for w in model.get_weights()]
    table = randomization_table(
        model, image, 1, seeds=(0, 1), methods=guided_comparison_methods(layer="act2")
    )
    assert list(table.columns) == ["trained", "logits", "conv2", "conv1"]
    assert set(table.index.get_level_values("statistic")) == {"mean", "min", "max", "flat maps"}
    means = table.xs("mean", level="statistic")
    assert np.allclose(means["trained"], 1.0)
    assert (table.xs("flat maps", level="statistic")["trained"] == 0).all()
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
