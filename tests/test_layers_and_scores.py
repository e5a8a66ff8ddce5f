"""Layer lookup, preprocessing, class scores and top-k."""

import keras
import numpy as np
import pytest

from helpers.models.layers import LayerNotFoundError, NoConvLayerError, find_layer, last_conv_layer
from helpers.models.preprocessing import PixelPreprocessing, preprocess_pixels
from helpers.models.scores import ImageShapeError, logits_model, predict_logits, top_k


def _dense_softmax_model():
    """Like keras.applications.VGG16(): the softmax lives inside the last Dense layer."""
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(5, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(hidden)
    return keras.Model(inputs, outputs)


def test_unknown_layer_suggests_close_names(lite0):
    with pytest.raises(LayerNotFoundError, match=r"'top_cnv'.*Close matches: top_conv"):
        find_layer(lite0, "top_cnv")
    assert find_layer(lite0, "top_conv").name == "top_conv"


def test_model_without_conv_layer():
    with pytest.raises(NoConvLayerError, match="no convolutional layer"):
        last_conv_layer(_dense_softmax_model())


def test_nested_model_hint():
    inner = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)], name="inner")
    outer = keras.Sequential([keras.Input((8, 8, 3)), inner, keras.layers.Flatten()])
    with pytest.raises(NoConvLayerError, match="wraps other models"):
        last_conv_layer(outer)


def test_preprocessing_matches_keras_vgg16():
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype(np.float32)
    expected = keras.applications.vgg16.preprocess_input(pixels.copy())
    np.testing.assert_allclose(preprocess_pixels(pixels, "vgg16"), expected, atol=1e-4)
    layer_out = keras.ops.convert_to_numpy(PixelPreprocessing("vgg16")(pixels))
    np.testing.assert_allclose(layer_out, expected, atol=1e-4)


def test_preprocessing_lite():
    pixels = np.array([0.0, 127.0, 255.0], np.float32)
    np.testing.assert_allclose(preprocess_pixels(pixels, "efficientnet_lite"), [-127 / 128, 0, 1])
    with pytest.raises(ValueError, match="choose one of"):
        preprocess_pixels(pixels, "torch")


def test_logits_of_a_softmax_dense_model_are_its_pre_activation():
    model = _dense_softmax_model()
    x = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    hidden = model.layers[1](x)
    kernel, bias = model.layers[2].get_weights()
    expected = keras.ops.convert_to_numpy(hidden) @ kernel + bias
    np.testing.assert_allclose(predict_logits(model, x), expected, rtol=1e-5, atol=1e-5)
    assert logits_model(model) is logits_model(model)  # built once, then cached


def test_logits_of_a_model_ending_in_an_activation_layer():
    inputs = keras.Input((3,))
    scores = keras.layers.Dense(2, name="scores")(inputs)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(scores))
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(
        predict_logits(model, x),
        keras.ops.convert_to_numpy(model.get_layer("scores")(x)),
        rtol=1e-6,
    )


def test_wrong_image_shape_is_explained(lite0):
    with pytest.raises(ImageShapeError, match=r"224x224x3.*size=224"):
        top_k(lite0, np.zeros((300, 451, 3), np.float32))


def test_top_k_wants_one_image_and_sane_k(lite0, cat):
    with pytest.raises(ImageShapeError, match="one image"):
        top_k(lite0, np.stack([cat, cat]))
    with pytest.raises(ValueError, match=r"k .* must be a whole number in 1\.\.1000"):
        top_k(lite0, cat, k=0)


def test_top_k_is_sorted_and_named(lite0, cat):
    top = top_k(lite0, cat, k=10)
    probs = [p for _, _, p in top]
    assert probs == sorted(probs, reverse=True)
    assert all(isinstance(n, str) and n for _, n, _ in top)


def test_sequential_models_work_and_need_an_input():
    from helpers.methods.gradients import vanilla_gradients
    from helpers.models.layers import ModelInputError

    model = keras.Sequential(
        [
            keras.Input((2, 2, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, name="logits"),
            keras.layers.Softmax(),
        ]
    )
    grads = vanilla_gradients(model, np.ones((2, 2, 1), np.float32), 1)
    np.testing.assert_allclose(grads.ravel(), model.get_layer("logits").get_weights()[0][:, 1])
    no_input = keras.Sequential([keras.layers.Dense(2), keras.layers.Softmax()])
    with pytest.raises(ModelInputError, match="keras.Input"):
        logits_model(no_input)


def test_grad_cam_layer_is_the_rectified_output_of_the_last_conv_block(lite0):
    from helpers.models.layers import grad_cam_layer

    assert grad_cam_layer(lite0) == "top_activation"  # top_conv -> top_bn -> top_activation
    assert grad_cam_layer(lite0, "block4a_dwconv") == "block4a_activation"
    vgg = keras.applications.VGG16(weights=None)
    assert grad_cam_layer(vgg) == "block5_conv3"  # ReLU inside the conv; then max-pooling
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    branch = keras.layers.ReLU(name="relu")(conv)
    other = keras.layers.BatchNormalization(name="bn_of_input")(inputs)  # not fed by the conv
    model = keras.Model(inputs, [branch, other])
    assert grad_cam_layer(model) == "relu"
