"""Grad-CAM against a hand computation, occlusion on a model with a known focus, activations."""

import numpy as np
import pytest

from helpers.methods.activations import activations, strongest_channels
from helpers.methods.cam import NotAFeatureMapLayerError, grad_cam, grad_cam_parts
from helpers.methods.occlusion import occlusion, occlusion_patch_count, patch_positions
from helpers.models.layers import LayerNotFoundError, NoConvLayerError
from tests.toy_models import linear_model, quadrant_model, tiny_conv_net

RNG = np.random.default_rng(7)


def _hand_grad_cam(model, image, cls):
    kernel, conv_bias = model.get_layer("conv").get_weights()
    head = model.get_layer("logits").get_weights()[0]
    padded = np.pad(image[..., 0], 1)
    features = np.zeros((6, 6, 2))
    for i in range(6):
        for j in range(6):
            patch = padded[i : i + 3, j : j + 3]
            features[i, j] = np.tensordot(patch, kernel[..., 0, :], axes=2) + conv_bias
    # logit = sum_k head[k, c] * mean_ij A^k_ij + b, so d logit / d A^k_ij = head[k, c] / 36
    alpha = head[:, cls] / 36.0
    return features, alpha, np.maximum((features * alpha).sum(axis=-1), 0.0)


@pytest.mark.parametrize("cls", [0, 1])
def test_grad_cam_equals_a_hand_computation(cls):
    model = tiny_conv_net()
    image = RNG.uniform(-1, 1, (6, 6, 1)).astype(np.float32)
    features, alpha, cam = _hand_grad_cam(model, image, cls)
    parts = grad_cam_parts(model, image, cls)
    assert parts.layer == "conv"
    np.testing.assert_allclose(parts.feature_maps, features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(parts.channel_weights, alpha, rtol=1e-5)
    np.testing.assert_allclose(parts.cam, cam, rtol=1e-5, atol=1e-6)
    heat = grad_cam(model, image, cls)  # same resolution: upsampling is the identity
    expected = cam / cam.max() if cam.max() > 0 else cam
    np.testing.assert_allclose(heat, expected, rtol=1e-5, atol=1e-6)


def test_grad_cam_on_lite0(lite0, cat):
    heat = grad_cam(lite0, cat, 281)
    assert heat.shape == (224, 224) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    parts = grad_cam_parts(lite0, cat, 281)
    assert parts.layer == "top_activation" and parts.feature_maps.shape == (7, 7, 1280)
    assert parts.feature_maps.min() >= 0  # rectified feature maps (ReLU6)
    early = grad_cam(lite0, cat, 281, layer="block2a_project_conv")
    assert early.shape == (224, 224) and not np.allclose(early, heat)


def test_grad_cam_batch_and_two_classes(lite0, cat, espresso):
    both = grad_cam(lite0, np.stack([cat, espresso]), [281, 967])
    assert both.shape == (2, 224, 224)
    np.testing.assert_allclose(both[1], grad_cam(lite0, espresso, 967), atol=1e-5)


def test_grad_cam_with_no_positive_evidence_is_zero_not_nan():
    model = tiny_conv_net()
    zeros = np.zeros((6, 6, 1), np.float32)  # features = conv bias: one channel positive
    for cls in (0, 1):
        heat = grad_cam(model, zeros, cls)
        assert np.all(np.isfinite(heat))


def test_grad_cam_errors(lite0, cat):
    with pytest.raises(LayerNotFoundError, match="Close matches"):
        grad_cam(lite0, cat, 281, layer="top_cnv")
    with pytest.raises(NotAFeatureMapLayerError, match="top_conv"):
        grad_cam(lite0, cat, 281, layer="avg_pool")
    model, _, _ = linear_model()
    with pytest.raises(NoConvLayerError, match="no convolutional layer"):
        grad_cam(model, np.zeros((6, 5, 3), np.float32), 0)


def test_patch_positions_reach_the_border():
    assert patch_positions(10, 4, 3) == [0, 3, 6]
    assert patch_positions(11, 4, 3) == [0, 3, 6, 7]
    assert occlusion_patch_count((224, 224), 32, 16) == 13 * 13


def test_occlusion_finds_the_only_region_the_model_uses_on_a_non_square_image():
    model = quadrant_model((32, 48, 3))
    image = RNG.uniform(100, 255, (32, 48, 3)).astype(np.float32)
    heat = occlusion(model, image, 0, patch=8, stride=4, fill=0.0)
    assert heat.shape == (32, 48)  # rows, columns: orientation kept
    quadrant, outside = heat[:16, :24], heat[24:, 32:]
    assert quadrant.min() > 0  # hiding any part of the quadrant lowers the score
    np.testing.assert_array_equal(outside, 0.0)  # the rest is never looked at
    top, left = np.unravel_index(heat.argmax(), heat.shape)
    assert top < 16 and left < 24


def test_occlusion_probability_and_errors():
    model = quadrant_model((32, 48, 3))
    image = RNG.uniform(100, 255, (32, 48, 3)).astype(np.float32)
    heat = occlusion(model, image, 0, patch=8, stride=8, score="probability")
    assert 0 <= heat.max() <= 1
    with pytest.raises(ValueError, match="larger than the image"):
        occlusion(model, image, 0, patch=40)
    with pytest.raises(ValueError, match=r"stride .* must be a whole number >= 1"):
        occlusion(model, image, 0, stride=0)
    with pytest.raises(ValueError, match="never be hidden"):
        occlusion(model, image, 0, patch=8, stride=12)
    with pytest.raises(ValueError, match="score must be"):
        occlusion(model, image, 0, score="loss")
    with pytest.raises(ValueError, match="fill must be"):
        occlusion(model, image, 0, fill=(1, 2))


def test_occlusion_on_lite0_is_one_pass_per_patch_position(lite0, cat):
    heat = occlusion(lite0, cat, 281, patch=56, stride=56)
    assert heat.shape == (224, 224) and np.all(np.isfinite(heat))
    blocks = heat[::56, ::56]  # stride = patch: each 56x56 block holds one patch's score drop
    assert len(np.unique(blocks)) == 16
    np.testing.assert_array_equal(heat[:56, :56], blocks[0, 0])


def test_activations(lite0, cat):
    maps = activations(lite0, cat, "top_conv")
    assert maps.shape == (7, 7, 1280) and maps.dtype == np.float32
    relu = activations(lite0, cat, "top_activation")
    assert relu.min() >= 0 and relu.max() <= 6  # ReLU6
    top = strongest_channels(relu, 4)
    assert len(top) == 4 and top[0] == relu.mean(axis=(0, 1)).argmax()
    with pytest.raises(LayerNotFoundError):
        activations(lite0, cat, "nope")
