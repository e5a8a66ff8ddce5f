"""Each model's input preprocessing, as a function and as the model's first layer.

The course's models take RGB pixels in [0, 255] and preprocess inside the network, so
every saliency map is a map over the pixels you see, and tf-explain's explainers (which
feed the images they are given straight into the model) get correctly scaled inputs.
Keras' own ``VGG16`` expects ``preprocess_input`` to be applied first (the original
workshop handout forgot it).
"""

from __future__ import annotations

import keras
import numpy as np

#: ImageNet channel means in BGR order (Caffe-style VGG16 preprocessing).
VGG16_BGR_MEAN = (103.939, 116.779, 123.68)
#: EfficientNet-Lite: (x - 127) / 128, the same for every channel.
LITE_MEAN, LITE_STD = 127.0, 128.0

MODES = ("vgg16", "efficientnet_lite")


def preprocess_pixels(pixels, mode: str):
    """Map RGB pixels in [0, 255] to what the network expects (numpy or tensor in, same out).

    ``"vgg16"``: RGB -> BGR, minus the ImageNet mean per channel (Keras' ``"caffe"`` mode).
    ``"efficientnet_lite"``: (x - 127) / 128, giving about [-1, 1].
    """
    if mode == "vgg16":
        return pixels[..., ::-1] - np.asarray(VGG16_BGR_MEAN, dtype=np.float32)
    if mode == "efficientnet_lite":
        return (pixels - LITE_MEAN) / LITE_STD
    raise ValueError(f"unknown preprocessing mode {mode!r}; choose one of {MODES}")


@keras.saving.register_keras_serializable(package="helpers")
class PixelPreprocessing(keras.layers.Layer):
    """A layer that applies :func:`preprocess_pixels` (no weights)."""

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; choose one of {MODES}")
        self.mode = mode

    def call(self, inputs):
        if self.mode == "vgg16":
            return keras.ops.flip(inputs, axis=-1) - keras.ops.convert_to_tensor(
                VGG16_BGR_MEAN, dtype=inputs.dtype
            )
        return (inputs - LITE_MEAN) / LITE_STD

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
