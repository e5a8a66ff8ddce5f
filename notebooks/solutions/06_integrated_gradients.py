"""Solutions for notebook 06 (Integrated Gradients, gradient x input, Guided Backprop)."""

from __future__ import annotations

import time

import numpy as np

import helpers


def hands_on_integrated_gradients(model, image, class_index, baseline, steps):
    """IG by the trapezoid rule on ``steps`` equal intervals, and its relative completeness gap."""
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    path = baseline + alphas[:, None, None, None] * (image - baseline)
    gradients = helpers.vanilla_gradients(model, path, class_index)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    mean_gradient = np.tensordot(weights, gradients.astype(np.float64), axes=1)
    ig = ((image - baseline) * mean_gradient).astype(np.float32)
    f_input, f_baseline = helpers.predict_logits(model, np.stack([image, baseline]))[:, class_index]
    difference = float(f_input) - float(f_baseline)
    gap = abs(float(ig.sum(dtype=np.float64)) - difference) / abs(difference)
    return ig, gap


def exercise_1(model, cat, class_index, steps=32):
    """IG with a white and a uniform-noise baseline: zero-attribution pixels and the gaps."""
    noise = np.random.default_rng(0).uniform(0, 255, cat.shape).astype(np.float32)
    shares = {}
    for name, base in (("white (255)", np.full_like(cat, 255.0)), ("uniform noise", noise)):
        result = helpers.integrated_gradients(model, cat, class_index, baseline=base, steps=steps)
        same = cat == base  # x_i = x'_i: attribution 0 whatever the gradient
        assert np.all(result.attributions[same] == 0)
        shares[name] = same.mean()
        print(
            f"{name}: gap {result.completeness.relative_gap:.1%}, f(x') = "
            f"{result.completeness.score_baseline:.2f}; {same.sum()} of {same.size} pixel values "
            f"({same.mean():.2%}) equal the baseline's and get zero attribution by construction"
        )
    brightest = float(cat.max())
    print(
        f"White zeroes the pixel values that are pure white (255): this photo has none (its "
        f"brightest value is {brightest:.1f}), so here it zeroes nothing, but it gives little "
        "to bright pixels, whose x - x' is small. The noise baseline zeroes only chance "
        "coincidences, and its map depends on the noise's seed (average over several noise "
        "baselines to remove that, as Expected Gradients does)."
    )
    assert shares["white (255)"] == 0 or brightest == 255.0


def exercise_2(model, espresso, class_index, steps=(16, 32, 64), max_steps=512):
    """Completeness gaps on the espresso for 16, 32, 64 equal steps and steps='auto'.

    The coarser grids are nested in the finest one (section 1.3), so the gradients of the
    64-step path give all three (the library computes each the same way). ``steps`` and
    ``max_steps`` are smaller in the tests' fast setting (a slow model).
    """
    alphas = np.linspace(0.0, 1.0, steps[-1] + 1, dtype=np.float32)
    baseline = np.zeros_like(espresso)
    path = baseline + alphas[:, None, None, None] * (espresso - baseline)
    gradients = helpers.vanilla_gradients(model, path, class_index).astype(np.float64)
    f_input, f_baseline = helpers.predict_logits(model, np.stack([espresso, baseline]))[
        :, class_index
    ]
    gaps = {}
    for n in steps:
        weights = np.full(n + 1, 1.0 / n)
        weights[[0, -1]] /= 2
        attributions = (espresso - baseline) * np.tensordot(
            weights, gradients[:: steps[-1] // n], axes=1
        )
        total = float(attributions.sum())
        gaps[n] = helpers.Completeness(total, float(f_input), float(f_baseline), steps=n)
        print(f"{n} equal steps: {gaps[n]}")
    if _has_auto():
        auto = helpers.integrated_gradients(
            model, espresso, class_index, steps="auto", max_steps=max_steps
        )
        print(f"steps='auto': {auto.completeness} ({auto.completeness.steps + 1} gradients)")
        assert not auto.completeness.converged or auto.completeness.relative_gap <= 0.05
    values = [gaps[n].relative_gap for n in steps]
    better = all(b <= a for a, b in zip(values, values[1:], strict=False))
    print(
        "more steps always better here:",
        better,
        "(on the cat, section 1.3, they were not: convergence need not be monotonic)",
    )


def _has_auto() -> bool:
    import inspect

    return "tolerance" in inspect.signature(helpers.integrated_gradients).parameters


def exercise_3(model, cat, guided=None):
    """Guided Backprop and Guided Grad-CAM for tabby (281) and espresso (967): which changes?"""
    from scipy.stats import spearmanr

    rows = {}
    for name, method in (
        ("Guided Backprop", helpers.guided_backprop),
        ("Guided Grad-CAM", helpers.guided_grad_cam),
    ):
        maps = [
            guided
            if (c == 281 and guided is not None and method is helpers.guided_backprop)
            else method(model, cat, c)
            for c in (281, 967)
        ]
        tabby, cup = (helpers.reduce_channels(m) for m in maps)
        rows[name] = spearmanr(tabby.ravel(), cup.ravel()).statistic
        print(f"{name}: Spearman between the tabby and the espresso map {rows[name]:.2f}")
    print(
        "Guided Backprop "
        + ("barely changes" if rows["Guided Backprop"] > 0.9 else "changes")
        + " with the class: the guided rule discards the class's negative evidence at every "
        "layer, and what is left reflects the image and the architecture far more than the "
        "class. Guided Grad-CAM inherits Grad-CAM's class dependence."
    )
    claim = "Guided Backprop changes less with the class than Guided Grad-CAM"
    if helpers.default_model_only(model, claim):
        assert rows["Guided Backprop"] > rows["Guided Grad-CAM"]


def exercise_4(model, cat, class_index, guided):
    """Guided Backprop on VGG16 with random weights, next to this model's and a Sobel edge map."""
    import keras
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    from helpers.models.loading import cached_vgg16_weights

    start = time.perf_counter()
    if model.name == "vgg16" and model.course_weights == "random":
        vgg = model  # the notebook already runs on it
    else:
        keras.utils.set_random_seed(0)  # the same random weights every run
        vgg = helpers.load_model("vgg16", pretrained=False, verbose=False)
    edges = helpers.edge_map(cat)
    maps = {f"{model.name}, {model.course_weights} weights": helpers.reduce_channels(guided)}
    if vgg is not model:
        maps["vgg16, random weights"] = helpers.reduce_channels(
            helpers.guided_backprop(vgg, cat, class_index)
        )
        del vgg  # about 550 MB of random weights
    if cached_vgg16_weights() is not None and model.name != "vgg16":
        try:  # the trained VGG16 too, where Keras has its ImageNet weights (no download here)
            trained = helpers.load_model("vgg16", verbose=False)
            maps["vgg16, imagenet weights"] = helpers.reduce_channels(
                helpers.guided_backprop(trained, cat, class_index)
            )
            del trained
        except helpers.ModelUnavailableError as err:
            print(f"the cached VGG16 weights did not load: {err}")
    seconds = time.perf_counter() - start
    helpers.plot_maps(
        cat,
        {"Sobel edges (no model)": edges, **{f"Guided Backprop, {k}": m for k, m in maps.items()}},
        overlay_on_image=False,
        colorbar=False,
        panel_size=3.6,
    )
    plt.show()
    scores = {}
    for name, m in maps.items():
        even, odd = m[0::2, 0::2].mean(), m[1::2, 1::2].mean()
        scores[name] = spearmanr(m.ravel(), edges.ravel()).statistic
        print(
            f"Guided Backprop on {name}: Spearman with the edges {scores[name]:.2f}, "
            f"(even, even) / (odd, odd) pixels {even / odd:.2f}"
        )
    print(
        f"({seconds:.1f} s) "
        + (
            "The random VGG16's map follows the edges more than the trained model's: Guided "
            "Backprop draws the image's edges without any learnt knowledge, so a sharp picture "
            "is no evidence that the model learnt the object."
            if "vgg16, random weights" in scores
            and scores["vgg16, random weights"] > list(scores.values())[0]
            else "Compare the numbers: which map is closer to the edge detector?"
        )
    )
    claim = "a random VGG16's Guided Backprop follows the cat's edges more than Lite0's"
    if "vgg16, random weights" in scores and helpers.default_model_only(model, claim):
        assert scores["vgg16, random weights"] > list(scores.values())[0] + 0.1, scores
