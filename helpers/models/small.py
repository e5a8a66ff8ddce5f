"""Two small models for the synthetic task (:mod:`helpers.data.synthetic`), trained in seconds.

Both take RGB pixels in [0, 255] (preprocessing is their first layer, as in the course's
ImageNet models) and end in a linear ``logits`` Dense layer followed by a ``predictions``
softmax layer, so every method of the library works on them unchanged.

* :func:`small_cnn`: four 3 x 3 convolutions, global max pooling (the evidence is one
  small shape anywhere in the image), the logits.
* :func:`tiny_vit`: a Vision Transformer (Dosovitskiy et al., 2021) in Keras 3 layers:
  an 8 x 8 grid of patch tokens from a small convolutional stem, a class token, learned
  position embeddings, pre-norm encoder blocks (multi-head self-attention + MLP, each with a
  residual connection), the class token's final state to the logits. Each block's
  attention layer is named ``block<i>_attention`` and returns its attention weights as a
  second output (:func:`attention_layers`), which attention rollout reads.

:func:`train` fits either with Adam, seeded (``keras.utils.set_random_seed``); TensorFlow's
CPU kernels may still sum in a different order from run to run, so accuracies can move in
the last digit: the notebook asserts a margin, not an exact value.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from .preprocessing import PixelPreprocessing

IMAGE_SHAPE = (64, 64, 3)


@keras.saving.register_keras_serializable(package="helpers")
class ClassToken(keras.layers.Layer):
    """Prepends one learned token to a sequence: (N, T, D) -> (N, T + 1, D)."""

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(1, 1, input_shape[-1]), initializer="zeros", name="token"
        )

    def call(self, tokens):
        batch = keras.ops.shape(tokens)[0]
        token = keras.ops.broadcast_to(self.token, (batch, 1, keras.ops.shape(tokens)[-1]))
        return keras.ops.concatenate([keras.ops.cast(token, tokens.dtype), tokens], axis=1)

    def compute_output_shape(self, input_shape):
        length = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], length, input_shape[2])


@keras.saving.register_keras_serializable(package="helpers")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector to each position of a fixed-length sequence."""

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=(1, input_shape[1], input_shape[2]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embedding",
        )

    def call(self, tokens):
        return tokens + keras.ops.cast(self.embedding, tokens.dtype)


def small_cnn(classes: int = 4, seed: int = 0) -> keras.Model:
    """A small CNN for 64 x 64 pixels: conv 16-32-64-64 (ReLU), global max pooling, logits."""
    keras.utils.set_random_seed(seed)
    pixels = keras.Input(IMAGE_SHAPE, name="pixels")
    x = PixelPreprocessing("efficientnet_lite", name="preprocess")(pixels)
    for i, (filters, pool) in enumerate(((16, True), (32, True), (64, False), (64, False))):
        x = keras.layers.Conv2D(
            filters, 3, padding="same", activation="relu", name=f"conv{i + 1}"
        )(x)
        if pool:
            x = keras.layers.MaxPooling2D(name=f"pool{i + 1}")(x)
    x = keras.layers.GlobalMaxPooling2D(name="global_max")(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    probabilities = keras.layers.Softmax(name="predictions")(logits)
    return keras.Model(pixels, probabilities, name="small_cnn")


def tiny_vit(
    classes: int = 4,
    patch: int = 8,
    dim: int = 64,
    depth: int = 3,
    heads: int = 4,
    seed: int = 0,
) -> keras.Model:
    """A tiny Vision Transformer for 64 x 64 pixels: (64 / patch)^2 patch tokens + a class
    token, ``depth`` pre-norm encoder blocks of ``heads`` attention heads, logits from the
    class token."""
    keras.utils.set_random_seed(seed)
    pixels = keras.Input(IMAGE_SHAPE, name="pixels")
    x = PixelPreprocessing("efficientnet_lite", name="preprocess")(pixels)
    # A convolutional stem instead of one linear projection per patch (Xiao et al., 2021,
    # "Early convolutions help transformers see better"): two stride-2 3 x 3 convolutions,
    # then a 2 x 2 stride-2 one, so each of the 8 x 8 tokens sees a 14-pixel window. With a
    # single patch projection this ViT learned the task or stayed at chance depending on
    # the Keras version and seed; with the stem it learns it every time.
    stride = patch // 4
    x = keras.layers.Conv2D(dim // 2, 3, strides=2, padding="same", activation="gelu",
                            name="stem_conv1")(x)
    x = keras.layers.Conv2D(dim, 3, strides=2, padding="same", activation="gelu",
                            name="stem_conv2")(x)
    x = keras.layers.Conv2D(dim, stride, strides=stride, name="patch_embedding")(x)
    grid = IMAGE_SHAPE[0] // patch
    x = keras.layers.Reshape((grid * grid, dim), name="patch_tokens")(x)
    x = ClassToken(name="class_token")(x)
    x = PositionEmbedding(name="position_embedding")(x)
    for i in range(1, depth + 1):
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm1")(x)
        y, _ = keras.layers.MultiHeadAttention(
            heads, dim // heads, name=f"block{i}_attention"
        )(y, y, return_attention_scores=True)
        x = keras.layers.Add(name=f"block{i}_add1")([x, y])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm2")(x)
        y = keras.layers.Dense(2 * dim, activation="gelu", name=f"block{i}_mlp1")(y)
        y = keras.layers.Dense(dim, name=f"block{i}_mlp2")(y)
        x = keras.layers.Add(name=f"block{i}_add2")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = keras.layers.Lambda(lambda t: t[:, 0], name="class_state")(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    probabilities = keras.layers.Softmax(name="predictions")(logits)
    return keras.Model(pixels, probabilities, name="tiny_vit")


def attention_layers(model: keras.Model) -> list[str]:
    """Names of a model's self-attention layers, input to output."""
    return [
        layer.name for layer in model.layers if isinstance(layer, keras.layers.MultiHeadAttention)
    ]


@dataclass(frozen=True)
class TrainingReport:
    """What :func:`train` did: epochs, seconds and the test accuracy."""

    epochs: int
    seconds: float
    train_accuracy: float
    test_accuracy: float

    def __str__(self) -> str:
        return (
            f"{self.epochs} epochs in {self.seconds:.1f} s: train accuracy "
            f"{self.train_accuracy:.1%}, test accuracy {self.test_accuracy:.1%}"
        )


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` whose top class is the label."""
    from .scores import predict_logits

    return float(np.mean(predict_logits(model, images, batch_size=256).argmax(1) == labels))


def train(
    model: keras.Model,
    train_set,
    test_set,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    seed: int = 0,
    verbose: int = 0,
    jit_compile: bool | str = "auto",
    warmup_epochs: int = 0,
) -> TrainingReport:
    """Fit ``model`` on a :class:`~helpers.data.synthetic.SyntheticSet` with Adam (cosine-
    decayed learning rate) and sparse cross-entropy on the softmax output; seeded."""
    keras.utils.set_random_seed(seed)
    per_epoch = -(-len(train_set) // batch_size)
    warmup = per_epoch if warmup_epochs else 0
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate / 10 if warmup else learning_rate, epochs * per_epoch - warmup,
        alpha=0.05, warmup_target=learning_rate if warmup else None, warmup_steps=warmup,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    start = time.perf_counter()
    history = model.fit(
        train_set.images, train_set.labels, batch_size=batch_size, epochs=epochs,
        shuffle=True, verbose=verbose,
    )
    seconds = time.perf_counter() - start
    return TrainingReport(
        epochs,
        seconds,
        float(history.history["accuracy"][-1]),
        accuracy(model, test_set.images, test_set.labels),
    )
