"""Saliency for Vision Transformers: attention rollout, gradient-weighted rollout, token Grad-CAM.

A ViT cuts the image into patches, turns each into a token, prepends a class token and
mixes the tokens in every block by self-attention: ``A[b]`` (heads x T x T) says how much
each token takes from each other token. The class token's final state gives the logits.

* :func:`attention_rollout` (Abnar & Zuidema, 2020): multiply the blocks' head-averaged
  attention matrices, each with the residual connection added as the identity and its rows
  re-normalised (as in the keras-io example ``probing_vits``); read the class token's row.
  It uses no gradient and no class: **the same map for every class**.
* :func:`gradient_rollout` (Chefer et al., 2021, "Generic attention-model explainability"):
  weight each attention matrix by its gradient, keep the positive part,
  ``Abar = mean_h (dy_c/dA * A)^+``, and accumulate ``R <- R + Abar R`` from R = I.
  Class-specific.
* :func:`token_grad_cam`: Grad-CAM (:mod:`helpers.methods.cam`) on the patch tokens that
  enter the last block (pytorch-grad-cam's recipe for ViTs): the class token is dropped and
  the patch tokens are laid back on their grid as "feature maps".

Token maps are patch-sized; they are upsampled bilinearly to the image and divided by
their maximum, like Grad-CAM's. The model must be a functional Keras model whose attention
layers are ``keras.layers.MultiHeadAttention`` called with ``return_attention_scores=True``
(as :func:`helpers.models.small.tiny_vit` builds it) and whose first token is the class token.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from ..models.layers import find_layer, symbolic_input
from ..models.scores import logits_model
from .batching import Progress, chunks, prepare, progress_bar, unbatch
from .cam import class_activation_map, grad_cam_weights, scale_to_unit, upsample

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class NotATransformerError(ValueError):
    """The model has no attention layer that returns its attention weights."""


def attention_layer_names(model: keras.Model) -> list[str]:
    """The model's ``MultiHeadAttention`` layers that output their weights, input to output."""
    names = [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.MultiHeadAttention)
        and isinstance(layer.output, (list, tuple))
    ]
    if not names:
        raise NotATransformerError(
            f"model '{model.name}' has no MultiHeadAttention layer called with "
            "return_attention_scores=True, so its attention cannot be read; build it like "
            "helpers.models.small.tiny_vit"
        )
    return names


def rollout(attentions: Sequence[np.ndarray], residual: bool = True) -> np.ndarray:
    """Attention rollout of a stack of attention weights, first block first.

    ``attentions``: one array per block, (N, heads, T, T) or (heads, T, T). Each is
    averaged over its heads; with ``residual`` the identity is added and every row
    divided by its sum; the blocks are then multiplied, later blocks on the left.
    Returns the joint attention (N, T, T) (or (T, T)): every row sums to 1.
    """
    stack = [np.asarray(a, np.float64) for a in attentions]
    if not stack:
        raise ValueError("rollout needs the attention weights of at least one block")
    single = stack[0].ndim == 3
    joint = None
    for weights in stack:
        if single:
            weights = weights[None]
        if weights.ndim != 4 or weights.shape[-1] != weights.shape[-2]:
            raise ValueError(
                f"each block's attention must be (N, heads, T, T), got {weights.shape}"
            )
        fused = weights.mean(axis=1)
        if residual:
            fused = fused + np.eye(fused.shape[-1])
            fused = fused / fused.sum(axis=-1, keepdims=True)
        joint = fused if joint is None else fused @ joint
    return joint[0] if single else joint


def _grid(tokens: int) -> int:
    side = int(round(np.sqrt(tokens)))
    if side * side != tokens:
        raise ValueError(f"{tokens} patch tokens do not form a square grid")
    return side


def token_map(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Patch-token scores (N, P) -> maps (N, *size): laid on the sqrt(P) grid, ReLU,
    bilinear upsampling, divided by each map's maximum."""
    side = _grid(values.shape[1])
    grid = np.maximum(values.reshape(len(values), side, side), 0.0).astype(np.float32)
    return scale_to_unit(upsample(grid, size))


def _compiled(model: keras.Model, kind: str, layer: str | None = None):
    key = (kind, layer)
    per_model = _COMPILED.setdefault(model, {})
    if key in per_model:
        return per_model[key]
    names = attention_layer_names(model)
    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)
    classes_spec = tf.TensorSpec([None], tf.int32)
    if kind == "weights":
        reader = keras.Model(symbolic_input(model), [model.get_layer(n).output[1] for n in names])

        @tf.function(input_signature=[spec])
        def run(images):
            return reader(images, training=False)

    elif kind == "gradients":
        both = keras.Model(
            symbolic_input(model),
            [logits_model(model).output, *[model.get_layer(n).output[1] for n in names]],
        )

        @tf.function(input_signature=[spec, classes_spec])
        def run(images, classes):
            with tf.GradientTape() as tape:
                logits, *weights = both(images, training=False)
                scores = tf.gather(logits, classes, batch_dims=1)
            return weights, tape.gradient(scores, weights)

    else:  # token features and their gradients
        both = keras.Model(symbolic_input(model), [_token_tensor(model, layer),
                                                   logits_model(model).output])

        @tf.function(input_signature=[spec, classes_spec])
        def run(images, classes):
            with tf.GradientTape() as tape:
                tokens, logits = both(images, training=False)
                scores = tf.gather(logits, classes, batch_dims=1)
            return tokens, tape.gradient(scores, tokens)

    per_model[key] = run
    return run


def _token_tensor(model: keras.Model, layer: str | None):
    """The token sequence (N, T, D) that Grad-CAM explains: ``layer``'s output, or the
    query that enters the last attention layer."""
    if layer is not None:
        tensor = find_layer(model, layer).output
    else:
        tensor = model.get_layer(attention_layer_names(model)[-1]).input
        tensor = tensor[0] if isinstance(tensor, (list, tuple)) else tensor
    if isinstance(tensor, (list, tuple)) or len(tensor.shape) != 3:
        raise ValueError(
            f"token Grad-CAM needs a layer that outputs tokens (batch, tokens, channels); "
            f"'{layer}' does not"
        )
    return tensor


def attention_weights(model: keras.Model, image: np.ndarray) -> list[np.ndarray]:
    """Every block's attention weights for the images: a list of (N, heads, T, T) arrays
    (or (heads, T, T) for one image)."""
    batch, _, single, size = prepare(model, image, 0, None)
    run = _compiled(model, "weights")
    parts = [[w.numpy() for w in run(batch[part])] for part in chunks(len(batch), size)]
    weights = [np.concatenate(block) for block in zip(*parts, strict=True)]
    return [unbatch(w, single) for w in weights]


def attention_rollout(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int] | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Attention rollout map (H, W) in [0, 1] per image: the class token's row of
    :func:`rollout`, without the class token itself. ``class_index`` is accepted for the
    library's call style and ignored: rollout is the same for every class."""
    batch, _, single, size = prepare(model, image, 0 if class_index is None else class_index,
                                     batch_size)
    run = _compiled(model, "weights")
    maps = []
    with progress_bar(len(batch), progress, "attention rollout", size) as advance:
        for part in chunks(len(batch), size):
            joint = rollout([w.numpy() for w in run(batch[part])])
            maps.append(token_map(joint[:, 0, 1:], batch.shape[1:3]))
            advance(part.stop - part.start)
    return unbatch(np.concatenate(maps), single)


def gradient_rollout(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Gradient-weighted attention rollout (Chefer et al., 2021): map (H, W) in [0, 1] per
    image, from R <- R + mean_h((dy_c/dA * A)^+) R over the blocks, R = I at the start."""
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    run = _compiled(model, "gradients")
    maps = []
    with progress_bar(len(batch), progress, "gradient rollout", size) as advance:
        for part in chunks(len(batch), size):
            weights, grads = run(batch[part], classes[part])
            relevance = None
            for a, g in zip(weights, grads, strict=True):
                fused = np.maximum(a.numpy() * g.numpy(), 0.0).mean(axis=1).astype(np.float64)
                if relevance is None:
                    relevance = np.broadcast_to(np.eye(fused.shape[-1]), fused.shape).copy()
                relevance = relevance + fused @ relevance
            maps.append(token_map(relevance[:, 0, 1:], batch.shape[1:3]))
            advance(part.stop - part.start)
    return unbatch(np.concatenate(maps), single)


def token_grad_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Grad-CAM on a ViT's patch tokens: map (H, W) in [0, 1] per image.

    ``layer=None`` explains the tokens entering the last attention layer (the output of
    the last block's first LayerNorm). Channel weights = the mean gradient over the patch
    tokens, weighted sum over channels, ReLU, upsampled (the class token is left out)."""
    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    run = _compiled(model, "tokens", layer)
    maps = []
    with progress_bar(len(batch), progress, "token Grad-CAM", size) as advance:
        for part in chunks(len(batch), size):
            tokens, grads = (t.numpy()[:, 1:] for t in run(batch[part], classes[part]))
            side = _grid(tokens.shape[1])
            features = tokens.reshape(len(tokens), side, side, -1)
            gradients = grads.reshape(features.shape)
            cam = class_activation_map(features, grad_cam_weights(features, gradients))
            maps.append(token_map(cam.reshape(len(cam), -1), batch.shape[1:3]))
            advance(part.stop - part.start)
    return unbatch(np.concatenate(maps), single)
