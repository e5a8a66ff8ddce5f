"""The bright block at the left edge of the cat's gradient maps: where it comes from.

Every gradient map of the cat (class 281, EfficientNet-Lite0) has a hot block about 10
pixels wide at the left edge, rows 44-84 (also gradient x input and Integrated Gradients).
This script measures its *density* (mean |map| there over the mean of the whole map,
:mod:`helpers.evaluation.borders`) and tests each suspect:

1. our preprocessing: the photo resized by TensorFlow instead of Pillow;
2. a property of the left border (TF "same" padding is asymmetric: stride-2 convolutions
   pad right/bottom more than left/top): the other bundled photos, smooth random images,
   and VGG16's architecture with random weights (symmetric padding, no stride-2 convs);
3. the photo's own content at the edge: the photo moved right by 1-32 pixels (the left
   column repeated), cropped on the left, its leftmost columns painted grey;
4. the network's zero padding: Lite0 rebuilt with the same weights but mirror padding
   (``tf.pad(mode="SYMMETRIC")``) at every convolution wider than 1, and with zero
   padding split evenly instead of TF's (more on the right).

Findings (2026-12, Lite0, 2 cores): block 3.63 on the cat; the same with tf.image.resize
(not our preprocessing); the other photos' left strips 0.47-0.58, smooth random images'
left and right strips alike, VGG16-random's borders 0.5-0.6 and no block (not a general
left-border effect); moved 8 px, cropped 2 px or greyed, the block is gone (it needs this
content at the edge); mirror padding with the same weights removes it (0.90), so it is the
network's zero padding meeting the photo's flat, bright background at the edge. Inside the
block the signed gradient alternates from pixel to pixel (half of it positive, mostly in
the green channel): a sensitivity to fine patterns there, not to the block's brightness.

Run:  python benchmarks/border_block.py     (about a minute on 2 cores)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import helpers.models.efficientnet_lite as lite  # noqa: E402
from helpers.data.images import SAMPLE_IMAGES, load_image, sample_image  # noqa: E402
from helpers.evaluation.borders import border_density, region_density  # noqa: E402
from helpers.methods.gradients import vanilla_gradients  # noqa: E402
from helpers.models.loading import load_model  # noqa: E402
from helpers.models.preprocessing import PixelPreprocessing  # noqa: E402
from helpers.models.scores import predict_logits  # noqa: E402

TABBY = 281
BLOCK = (np.s_[44:84], np.s_[0:10])


class Pad(keras.layers.Layer):
    """Explicit padding before a 'valid' convolution (mode: tf.pad's CONSTANT or SYMMETRIC)."""

    def __init__(self, left_right: tuple[int, int], mode: str, **kwargs):
        super().__init__(**kwargs)
        self.left_right, self.mode = left_right, mode

    def call(self, x):
        low, high = self.left_right
        return tf.pad(x, [[0, 0], [low, high], [low, high], [0, 0]], mode=self.mode)


def _amounts(size: int, kernel: int, stride: int, split: str) -> tuple[int, int]:
    """TF "same" padding's total, split as TF does (the extra pixel right/bottom) or evenly."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    if split == "even" and stride > 1:
        return (total + 1) // 2, (total + 1) // 2
    return total // 2, total - total // 2


def lite0_with_padding(reference: keras.Model, mode: str, split: str) -> keras.Model:
    """Lite0's architecture with other padding, carrying ``reference``'s weights; outputs
    the logits."""

    def conv(layer, x, kernel, stride=1, **kwargs):
        if kernel == 1:
            return layer(kernel_size=1, padding="same", use_bias=False, **kwargs)(x)
        x = Pad(_amounts(x.shape[1], kernel, stride, split), mode)(x)
        return layer(kernel_size=kernel, strides=stride, padding="valid", use_bias=False, **kwargs)(
            x
        )

    def conv_bn(x, filters, kernel, stride, prefix, names, activate=True):
        x = conv(keras.layers.Conv2D, x, kernel, stride, filters=filters, name=prefix + names[0])
        x = keras.layers.BatchNormalization(epsilon=lite.BN_EPSILON, name=prefix + names[1])(x)
        return keras.layers.ReLU(6.0, name=prefix + names[2])(x) if activate else x

    pixels = keras.Input((lite.IMAGE_SIZE, lite.IMAGE_SIZE, 3))
    x = PixelPreprocessing("efficientnet_lite")(pixels)
    x = conv_bn(x, lite.STEM_CHANNELS, 3, 2, "stem_", ("conv", "bn", "activation"))
    channels, prefixes = lite.STEM_CHANNELS, iter(lite.block_names())
    for stage in lite.LITE0_STAGES:
        for repeat in range(stage.repeats):
            stride, prefix, inputs = (stage.stride if repeat == 0 else 1), next(prefixes), x
            if stage.expand != 1:
                names = ("expand_conv", "expand_bn", "expand_activation")
                x = conv_bn(x, channels * stage.expand, 1, 1, prefix, names)
            x = conv(keras.layers.DepthwiseConv2D, x, stage.kernel, stride, name=f"{prefix}dwconv")
            x = keras.layers.BatchNormalization(epsilon=lite.BN_EPSILON, name=f"{prefix}bn")(x)
            x = keras.layers.ReLU(6.0, name=f"{prefix}activation")(x)
            names = ("project_conv", "project_bn", "")
            x = conv_bn(x, stage.out_channels, 1, 1, prefix, names, activate=False)
            if stride == 1 and channels == stage.out_channels:
                x = keras.layers.Add()([x, inputs])
            channels = stage.out_channels
    x = conv_bn(x, lite.HEAD_CHANNELS, 1, 1, "top_", ("conv", "bn", "activation"))
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(pixels, keras.layers.Dense(1000, name="logits")(x))
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(reference.get_layer(layer.name).get_weights())
    return model


def logit_gradient(scorer: keras.Model, image: np.ndarray, class_index: int) -> np.ndarray:
    x = tf.convert_to_tensor(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = scorer(x, training=False)[:, class_index]
    return tape.gradient(score, x).numpy()[0]


def row(label: str, saliency: np.ndarray, block_columns=BLOCK[1]) -> str:
    strips = border_density(saliency)
    block = region_density(saliency, BLOCK[0], block_columns)
    sides = " ".join(f"{side} {value:.2f}" for side, value in strips.items())
    return f"{label:44s} block {block:5.2f}   8-px strips: {sides}"


def main() -> None:
    model = load_model("efficientnet_lite0", verbose=False)
    photos = {name: load_image(sample_image(name)) for name in sorted(SAMPLE_IMAGES)}
    cat = photos["cat"]
    classes = {
        name: TABBY if name == "cat" else int(predict_logits(model, x)[0].argmax())
        for name, x in photos.items()
    }

    print("1-2. The photos, and the cat resized by TensorFlow instead of Pillow")
    for name, image in photos.items():
        print(
            row(f"{name} (class {classes[name]})", vanilla_gradients(model, image, classes[name]))
        )
    full = load_image(sample_image("cat"), size=None)
    by_tf = tf.image.resize(full[None], cat.shape[:2], antialias=True).numpy()[0].clip(0, 255)
    print(f"   largest pixel difference Pillow vs TensorFlow: {np.abs(by_tf - cat).max():.1e}")
    print(row("cat resized by tf.image.resize", vanilla_gradients(model, by_tf, TABBY)))
    rng = np.random.default_rng(0)
    smooth = tf.image.resize(rng.uniform(0, 255, (8, 14, 14, 3)), cat.shape[:2], "bicubic")
    smooth = np.clip(smooth.numpy(), 0, 255).astype(np.float32)
    maps = vanilla_gradients(model, smooth, [TABBY] * len(smooth))
    mean = {s: np.mean([border_density(m)[s] for m in maps]) for s in ("left", "right")}
    print(f"   8 smooth random images: left strip {mean['left']:.2f}, right {mean['right']:.2f}")

    print("\n3. The cat's content moved against the edge")
    for shift in (1, 2, 4, 8, 16, 32):
        moved = np.concatenate([np.repeat(cat[:, :1], shift, axis=1), cat[:, :-shift]], axis=1)
        g = vanilla_gradients(model, moved, TABBY)
        print(
            row(f"moved {shift} px right", g) + f"   at the content: "
            f"{region_density(g, BLOCK[0], np.s_[shift : shift + 10]):.2f}"
        )
    for crop in (2, 4, 8):
        cropped = np.concatenate([cat[:, crop:], np.repeat(cat[:, -1:], crop, axis=1)], axis=1)
        print(row(f"cropped {crop} px on the left", vanilla_gradients(model, cropped, TABBY)))
    grey = cat.copy()
    grey[:, :8] = 127.0
    print(row("left 8 columns grey (127)", vanilla_gradients(model, grey, TABBY)))
    g = vanilla_gradients(model, cat, TABBY)[BLOCK]
    print(
        f"   signs in the block: {(g > 0).mean():.0%} positive; share of |g| per channel "
        f"(R, G, B): {np.round(np.abs(g).sum(axis=(0, 1)) / np.abs(g).sum(), 2)}"
    )

    print("\n4. The same weights, other padding (logits compared with Lite0's)")
    reference_logits = predict_logits(model, cat)[0]
    for mode, split in (("CONSTANT", "tf"), ("SYMMETRIC", "tf"), ("CONSTANT", "even")):
        variant = lite0_with_padding(model, mode, split)
        change = np.abs(variant(cat[None]).numpy()[0] - reference_logits).max()
        label = f"{'zero' if mode == 'CONSTANT' else 'mirror'} padding, {split} split"
        print(row(f"{label} (logits move {change:.1e})", logit_gradient(variant, cat, TABBY)))

    print("\n2 (continued). VGG16's architecture with random weights: symmetric padding")
    vgg = load_model("vgg16", pretrained=False, verbose=False)
    for name, image in photos.items():
        print(row(f"vgg16-random, {name}", vanilla_gradients(vgg, image, classes[name])))


if __name__ == "__main__":
    main()
