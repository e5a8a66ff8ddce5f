"""Solutions for notebook 01 (linear models): the hands-on cell and the five exercises."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def hands_on_gradient(model, x, class_index):
    """d score / d x for a batch of one image, with GradientTape, as a (64,) array."""
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)  # an input is not a variable: ask the tape to follow it
        score = model(x)[0, class_index]
    return tape.gradient(score, x).numpy()[0]


def _digit(ax, values, title, signed=True):
    top = np.abs(values).max() or 1.0
    if signed:
        ax.imshow(values.reshape(8, 8), cmap="RdBu_r", vmin=-top, vmax=top)
    else:
        ax.imshow(values.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def exercise_1(clf, weights, biases, x_test, y_test):
    """Gradient x input of a misclassified digit, for its true and its predicted class."""
    wrong = np.flatnonzero(clf.predict(x_test) != y_test)
    k = int(wrong[0])
    x, true = x_test[k], int(y_test[k])
    predicted = int(clf.predict(x[None])[0])
    parts = {c: weights[:, c] * x for c in (true, predicted)}  # the linear model's gradient x input
    for c, part in parts.items():  # each adds up to the score minus the bias
        score = clf.decision_function(x[None])[0, c]
        assert np.isclose(part.sum() + biases[c], score, atol=1e-4)
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
    _digit(axes[0], x, f"test image {k}: a {true}", signed=False)
    _digit(axes[1], parts[true], f"contributions to {true} (true)")
    _digit(axes[2], parts[predicted], f"contributions to {predicted} (predicted)")
    _digit(axes[3], parts[predicted] - parts[true], f"{predicted} minus {true}: red pushed wrong")
    plt.show()
    push = np.argsort(parts[predicted] - parts[true])[::-1][:3]
    print(
        f"{len(wrong)} of {len(y_test)} test digits are misclassified; image {k}, a {true}, "
        f"is read as {predicted}. The pixels that pushed it most towards {predicted} "
        f"(row, column): {[divmod(int(i), 8) for i in push]}: ink where the weights of "
        f"{predicted} are higher than those of {true}."
    )
    return k, parts


def roughness(coef: np.ndarray) -> float:
    """How speckled weight maps are: the mean |difference| between horizontally or vertically
    neighbouring pixels of the 8 x 8 maps, over the mean |weight| (scale-free: 0 for flat
    maps; independent Gaussian pixels give sqrt(2) = 1.41)."""
    w = np.asarray(coef).reshape(-1, 8, 8)
    steps = np.concatenate(
        [np.abs(np.diff(w, axis=1)).ravel(), np.abs(np.diff(w, axis=2)).ravel()]
    )
    return float(steps.mean() / np.abs(w).mean())


def exercise_2(x_train, y_train, x_test, y_test):
    """Weights and accuracy at C = 0.01, 1 (the notebook's default) and 100."""
    from sklearn.linear_model import LogisticRegression

    values = (0.01, 1.0, 100.0)
    fits = {c: LogisticRegression(C=c, max_iter=5000).fit(x_train, y_train) for c in values}
    fig, axes = plt.subplots(3, 10, figsize=(13, 4.6))
    for row, (c_value, fit) in enumerate(fits.items()):
        for digit in range(10):
            title = f"C={c_value:g}: {digit}" if digit == 0 else str(digit)
            _digit(axes[row, digit], fit.coef_[digit], title)
    plt.show()
    size = {c: float(np.abs(fit.coef_).mean()) for c, fit in fits.items()}
    rough = {c: roughness(fit.coef_) for c, fit in fits.items()}
    accuracy = {c: fit.score(x_test, y_test) for c, fit in fits.items()}
    for c_value in fits:
        print(
            f"C = {c_value:6g}: mean |weight| {size[c_value]:.3f}, roughness "
            f"{rough[c_value]:.2f}, test accuracy {accuracy[c_value]:.1%}"
        )
    flat = fits[values[0]].coef_.ravel()
    sharp = fits[values[-1]].coef_.ravel()
    same_pattern = float(flat @ sharp / (np.linalg.norm(flat) * np.linalg.norm(sharp)))
    growth = size[values[-1]] / size[values[0]]
    print(
        f"From C = 0.01 to C = 100 the weights grow {growth:.0f}x, and their pattern shifts "
        f"(cosine similarity of the two sets of maps {same_pattern:.2f}). Roughness (the "
        "mean jump between neighbouring pixels, over the mean |weight|; 1.41 for unrelated "
        "pixels) goes "
        + " -> ".join(f"{rough[c]:.2f}" for c in values)
        + (
            ": weaker regularisation makes the maps a little more speckled. "
            if rough[values[0]] < rough[values[1]] < rough[values[2]]
            else ": no steady trend towards speckle. "
        )
        + "Strong regularisation (C = 0.01) costs accuracy "
        f"({accuracy[values[0]]:.1%} against {accuracy[1.0]:.1%}); C = 100 gives "
        f"{accuracy[values[-1]]:.1%}."
    )
    assert size[0.01] < size[1.0] < size[100.0], size
    assert accuracy[0.01] < accuracy[1.0], accuracy
    return accuracy


def _taylor_errors(model, x0, c, steps):
    import tensorflow as tf

    direction = np.random.default_rng(0).normal(size=x0.size).astype("float32")
    direction *= np.linalg.norm(x0) / np.linalg.norm(direction)
    x = tf.constant(x0[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model(x)[0, c]
    g0 = tape.gradient(score, x).numpy()[0]
    f0 = float(score)
    true_change = model(x0[None] + steps[:, None] * direction[None]).numpy()[:, c] - f0
    predicted = steps * float(g0 @ direction)
    return np.abs(true_change - predicted) / np.abs(true_change)


def exercise_3(x_train, y_train, x0, c, tanh_errors):
    """The Taylor test on a ReLU network: exact for small steps, then off once units switch."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    relu_net = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    relu_net.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    relu_net.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    steps = np.logspace(-3, 0, 13).astype("float32")
    errors = _taylor_errors(relu_net, x0, c, steps)
    plt.figure(figsize=(6, 4))
    plt.loglog(steps, np.maximum(errors, 1e-8), "o-", label="ReLU network")
    plt.loglog(steps, tanh_errors, "s--", label="tanh network (section 8)")
    plt.xlabel("|delta| / |x|")
    plt.ylabel("relative error of the linear prediction")
    plt.legend()
    plt.show()
    linear_until = steps[: int(np.argmax(errors >= 1e-3))] if errors.max() >= 1e-3 else steps
    print(
        f"ReLU network: relative error {errors[0]:.1e} at the smallest step (tanh network: "
        f"{tanh_errors[0]:.1e}), below 0.1 % for every step up to "
        + (f"{linear_until.max():.2%} of |x|, " if len(linear_until) else "none of the steps, ")
        + f"{errors.max():.0%} at the largest step. A ReLU network is piecewise linear: until "
        "the step makes some unit cross zero the score is exactly linear (what is left is "
        "float32 rounding); then the slope changes at once, and the error jumps."
    )
    assert errors[0] < 1e-3 and errors[0] < tanh_errors[0] / 10, (errors[0], tanh_errors[0])
    assert errors.max() > 0.05, errors
    return errors


def exercise_4(mlp, x_test, y_test, c):
    """Gradient of the softmax probability vs of the score, at the "3" the network is surest of."""
    import tensorflow as tf

    threes = x_test[y_test == c]
    p = tf.nn.softmax(mlp(threes)).numpy()[:, c]
    x = tf.constant(threes[int(p.argmax())][None])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        scores = mlp(x)
        probability = tf.nn.softmax(scores)[0, c]
        score = scores[0, c]
    g_score = tape.gradient(score, x).numpy()[0]
    g_prob = tape.gradient(probability, x).numpy()[0]
    ratio = np.linalg.norm(g_prob) / np.linalg.norm(g_score)
    print(
        f"p(3) = {float(probability):.5f}; |d p / dx| / |d score / dx| = {ratio:.2e}. "
        "The softmax "
        "is saturated: d p / d score = p (1 - p) is almost 0, so the probability's gradient "
        "nearly vanishes however much the pixels matter to the score."
    )
    assert float(probability) > 0.99 and ratio < 0.05, (float(probability), ratio)
    return ratio


def exercise_5(weights, x_train, y_train, c=3):
    """The weight vector w_3 against the 'template' mean(3) - mean(all digits)."""
    template = x_train[y_train == c].mean(axis=0) - x_train.mean(axis=0)
    w = weights[:, c]
    cosine = float(w @ template / (np.linalg.norm(w) * np.linalg.norm(template)))
    disagree = np.flatnonzero(np.sign(w) != np.sign(template))
    against_ink = int(((w < 0) & (template > 0)).sum())
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    _digit(axes[0], w, f"weights w_{c}")
    _digit(axes[1], template, f"mean {c} - mean digit")
    plt.show()
    print(
        f"cosine similarity {cosine:.2f}; the signs disagree on {len(disagree)} of 64 pixels, "
        f"and on {against_ink} of them the weight is negative where 3s have more ink than the "
        "average digit. The template says where 3s have ink; the weights say which ink "
        "separates a 3 from the other nine (and cancel pixels that are merely correlated)."
    )
    assert cosine < 0.9 and len(disagree) > 0, (cosine, len(disagree))
    return cosine
