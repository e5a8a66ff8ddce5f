"""Small Keras models whose attributions can be worked out by hand."""

import keras
import numpy as np


def linear_model(shape=(6, 5, 3), classes=3, seed=0):
    """y = W.x + b on flattened pixels, then a softmax: returns (model, W, b)."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input(shape)
    logits_layer = keras.layers.Dense(classes, name="logits")
    logits = logits_layer(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Softmax(name="predictions")(logits))
    weights = rng.normal(size=(int(np.prod(shape)), classes)).astype(np.float32)
    bias = rng.normal(size=classes).astype(np.float32)
    logits_layer.set_weights([weights, bias])
    return model, weights, bias


def smooth_cnn(shape=(10, 12, 3), seed=0):
    """A small CNN with smooth activations, computed in float64 (for finite differences)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    x = keras.layers.Conv2D(4, 3, activation="tanh", dtype="float64")(inputs)
    x = keras.layers.Conv2D(5, 3, strides=2, activation="softplus", dtype="float64")(x)
    x = keras.layers.Flatten(dtype="float64")(x)
    logits = keras.layers.Dense(3, name="logits", dtype="float64")(x)
    return keras.Model(inputs, keras.layers.Softmax(name="predictions", dtype="float64")(logits))


def tiny_conv_net(seed=0):
    """Input (6, 6, 1) -> Conv2D 'same' with 2 filters -> global mean -> Dense(2) logits."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((6, 6, 1))
    conv = keras.layers.Conv2D(2, 3, padding="same", name="conv")
    pooled = keras.layers.GlobalAveragePooling2D()(conv(inputs))
    head = keras.layers.Dense(2, name="logits")
    model = keras.Model(inputs, keras.layers.Softmax(name="predictions")(head(pooled)))
    conv.set_weights(
        [rng.normal(size=(3, 3, 1, 2)).astype(np.float32), np.array([0.1, -0.2], np.float32)]
    )
    head.set_weights([rng.normal(size=(2, 2)).astype(np.float32), np.zeros(2, np.float32)])
    return model


def quadrant_model(shape=(32, 48, 3)):
    """Its class-0 logit is the mean of the top-left quadrant's pixels; it ignores the rest."""
    height, width, _ = shape
    inputs = keras.Input(shape)
    crop = keras.layers.Cropping2D(((0, height // 2), (0, width // 2)))(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(crop)
    head = keras.layers.Dense(2, name="logits")
    model = keras.Model(inputs, keras.layers.Softmax(name="predictions")(head(pooled)))
    head.set_weights([np.array([[1, 0]] * 3, np.float32) / 3, np.zeros(2, np.float32)])
    return model
