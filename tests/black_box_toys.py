"""Small models and images for the tests of the methods without gradients."""

import keras
import numpy as np


def block_image(rows=4, cols=5, block=8, seed=0, noise=4.0):
    """An RGB image in [0, 255] made of rows x cols flat colour blocks (SLIC finds them)."""
    rng = np.random.default_rng(seed)
    colours = rng.uniform(20, 235, (rows, cols, 3))
    image = np.kron(colours, np.ones((block, block, 1)))
    return (image + rng.normal(0, noise, image.shape)).clip(0, 255).astype(np.float32)


def float64_cnn(shape=(32, 40, 3), classes=3, seed=0):
    """A small non-linear CNN computed in float64 (so Shapley sums hold to 1e-10)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    x = keras.layers.Rescaling(1 / 255.0, dtype="float64")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="tanh", dtype="float64")(x)
    x = keras.layers.Conv2D(6, 3, strides=2, activation="softplus", dtype="float64")(x)
    x = keras.layers.Flatten(dtype="float64")(x)
    logits = keras.layers.Dense(classes, name="logits", dtype="float64")(x)
    return keras.Model(inputs, keras.layers.Softmax(name="predictions", dtype="float64")(logits))


def digits_linear_model():
    """Notebook 01's digit classifier (logistic regression, same split and fit) as a Keras
    model on 8 x 8 x 1 images: returns (model, W (64, 10), b (10,), test images (N, 8, 8, 1))."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    x_train, x_test, y_train, _ = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    fit = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    weights, bias = fit.coef_.T.astype("float32"), fit.intercept_.astype("float32")
    inputs = keras.Input((8, 8, 1))
    dense = keras.layers.Dense(10, name="logits")
    scores = dense(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Softmax(name="predictions")(scores))
    dense.set_weights([weights, bias])
    return model, weights, bias, x_test.reshape(-1, 8, 8, 1)
