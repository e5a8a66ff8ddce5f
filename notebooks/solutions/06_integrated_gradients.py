"""Solutions for notebook 06 (Integrated Gradients, gradient x input, Guided Backprop)."""

from __future__ import annotations

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


def exercise_1(model, cat, class_index):
    """IG with a white and a uniform-noise baseline: zero-attribution pixels and the gaps."""
    noise = np.random.default_rng(0).uniform(0, 255, cat.shape).astype(np.float32)
    for name, base in (("white (255)", np.full_like(cat, 255.0)), ("uniform noise", noise)):
        result = helpers.integrated_gradients(model, cat, class_index, baseline=base, steps=32)
        same = cat == base  # x_i = x'_i: attribution 0 whatever the gradient
        assert np.all(result.attributions[same] == 0)
        print(f"{name}: gap {result.completeness.relative_gap:.1%}, f(x') = "
              f"{result.completeness.score_baseline:.2f}; {same.mean():.2%} of the pixel values "
              "equal the baseline's and get zero attribution by construction")
    print("White zeroes the pure-white (blown-out) pixels, and gives little to bright ones; the "
          "noise baseline zeroes only chance coincidences, but its map depends on the noise's "
          "seed (average over several noise baselines to remove that, as Expected Gradients "
          "does).")


def exercise_2(model, espresso, class_index):
    """Completeness gaps on the espresso for 16, 32, 64 equal steps and steps='auto'."""
    gaps = {}
    for steps in (16, 32, 64):
        gaps[steps] = helpers.integrated_gradients(model, espresso, class_index, steps=steps)
        print(f"{steps} equal steps: {gaps[steps].completeness}")
    if _has_auto():
        auto = helpers.integrated_gradients(model, espresso, class_index, steps="auto")
        print(f"steps='auto': {auto.completeness} ({auto.completeness.steps + 1} gradients)")
        assert not auto.completeness.converged or auto.completeness.relative_gap <= 0.05
    values = [gaps[s].completeness.relative_gap for s in (16, 32, 64)]
    better = all(b <= a for a, b in zip(values, values[1:], strict=False))
    print("more steps always better:", better)


def _has_auto() -> bool:
    import inspect

    return "tolerance" in inspect.signature(helpers.integrated_gradients).parameters


def exercise_3(model, cat):
    """Guided Backprop and Guided Grad-CAM for tabby (281) and espresso (967): which changes?"""
    from scipy.stats import spearmanr

    rows = {}
    for name, method in (("Guided Backprop", helpers.guided_backprop),
                         ("Guided Grad-CAM", helpers.guided_grad_cam)):
        tabby, cup = (helpers.reduce_channels(method(model, cat, c)) for c in (281, 967))
        rows[name] = spearmanr(tabby.ravel(), cup.ravel()).statistic
        print(f"{name}: Spearman between the tabby and the espresso map {rows[name]:.2f}")
    print("Guided Backprop barely changes with the class (it mostly reconstructs the image's "
          "edges); Guided Grad-CAM inherits Grad-CAM's class dependence.")
    claim = "Guided Backprop changes less with the class than Guided Grad-CAM"
    if helpers.default_model_only(model, claim):
        assert rows["Guided Backprop"] > rows["Guided Grad-CAM"]
