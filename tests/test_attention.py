"""ViT methods: attention rollout against the keras-io ``probing_vits`` formula, rollout's
class independence, gradient rollout and token Grad-CAM, and the library's gradient methods
on a transformer."""

import numpy as np
import pytest

import helpers
from helpers.methods.attention import (
    NotATransformerError,
    attention_rollout,
    attention_weights,
    gradient_rollout,
    rollout,
    token_grad_cam,
    token_map,
)
from helpers.models.small import small_cnn, tiny_vit


def probing_vits_rollout(attention_stack):
    """keras-io examples/vision/probing_vits.py, ``attention_rollout_map``, in numpy: mean over
    heads, + identity, rows re-normalised, joint[n] = aug[n] @ joint[n - 1]. Input (L, H, T, T)
    for one image; returns the last joint attention (T, T)."""
    attn_mat = np.mean(attention_stack, axis=1)
    aug_attn_mat = attn_mat + np.eye(attn_mat.shape[1])
    aug_attn_mat = aug_attn_mat / np.sum(aug_attn_mat, axis=-1)[..., None]
    joint_attentions = np.zeros(aug_attn_mat.shape)
    joint_attentions[0] = aug_attn_mat[0]
    for n in range(1, aug_attn_mat.shape[0]):
        joint_attentions[n] = np.matmul(aug_attn_mat[n], joint_attentions[n - 1])
    return joint_attentions[-1]


@pytest.fixture(scope="module")
def attention_stack():
    """A fixed stack: 3 blocks, 4 heads, 17 tokens, each row a softmax of random scores."""
    scores = np.random.default_rng(5).normal(0, 2, size=(3, 4, 17, 17))
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def test_rollout_equals_the_probing_vits_formula_and_its_rows_are_stochastic(attention_stack):
    ours = rollout(list(attention_stack))
    np.testing.assert_allclose(ours, probing_vits_rollout(attention_stack), atol=1e-6)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, atol=1e-6)
    assert ours.min() >= 0
    batched = rollout([np.stack([a, a[:, ::-1, ::-1]]) for a in attention_stack])
    np.testing.assert_allclose(batched[0], ours, atol=1e-12)
    np.testing.assert_allclose(batched.sum(axis=-1), 1.0, atol=1e-6)


def test_rollout_without_residual_is_the_plain_product(attention_stack):
    means = attention_stack.mean(axis=1)
    np.testing.assert_allclose(
        rollout(list(attention_stack), residual=False), means[2] @ means[1] @ means[0], atol=1e-12
    )


@pytest.fixture(scope="module")
def vit_and_images():
    model = tiny_vit(dim=32, depth=2, heads=2, seed=3)
    images = np.random.default_rng(0).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    return model, images


def test_model_attention_rollout_is_class_independent(vit_and_images):
    model, images = vit_and_images
    weights = attention_weights(model, images)
    assert len(weights) == 2 and weights[0].shape == (3, 2, 65, 65)
    np.testing.assert_allclose(weights[0].sum(-1), 1.0, atol=1e-5)
    maps = attention_rollout(model, images, 0)
    assert maps.shape == (3, 64, 64) and maps.max() == pytest.approx(1.0)
    np.testing.assert_array_equal(maps, attention_rollout(model, images, 3))
    joint = probing_vits_rollout(np.stack([w[1] for w in weights]))  # the second image
    expected = token_map(joint[None, 0, 1:], (64, 64))[0]
    np.testing.assert_allclose(attention_rollout(model, images[1]), expected, atol=1e-5)


def test_gradient_methods_differ_between_classes(vit_and_images):
    model, images = vit_and_images
    for method in (gradient_rollout, token_grad_cam):
        a, b = method(model, images, 0), method(model, images, 1)
        assert a.shape == (3, 64, 64)
        assert a.min() >= 0 and a.max() <= 1
        assert not np.allclose(a, b)


def test_the_librarys_gradient_methods_run_on_the_vit(vit_and_images):
    """The registry's gradient methods need only a differentiable model with logits."""
    model, images = vit_and_images
    for name in ("vanilla_gradients", "smoothgrad", "integrated_gradients", "gradient_x_input"):
        method = helpers.METHODS[name]
        settings = method.settings(fast=True, progress=False)
        result, _, _ = method.run(model, images[0], 1, **settings)
        assert result.shape == (64, 64) and np.all(np.isfinite(result)), name


def test_a_cnn_is_refused_with_a_clear_message():
    with pytest.raises(NotATransformerError, match="MultiHeadAttention"):
        attention_rollout(small_cnn(), np.zeros((64, 64, 3), np.float32) + 10)
