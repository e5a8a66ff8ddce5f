"""TensorFlow's retracing warning: quiet about the course's per-layer kernels, kept for others."""

import logging

import keras
import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (installs the filter)
from helpers.methods.cam import grad_cam


def _toy(layers: int = 7) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = inputs
    for i in range(layers):
        x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name=f"conv{i}")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


def _retracing(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "tf.function retracing" in r.getMessage()]


def test_one_kernel_per_layer_does_not_warn_but_a_students_retracing_does(caplog):
    model, image = _toy(), np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype("float32")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for i in range(7):  # seven layers' kernels, one code object: TensorFlow counts them
            grad_cam(model, image, 0, layer=f"conv{i}")
    assert _retracing(caplog) == []

    def student(x):
        return x * 2

    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for size in range(1, 9):  # a new shape every call: real retracing, still reported
            tf.function(student)(tf.zeros([size]))
    assert _retracing(caplog), "a student's retracing must still be reported"
