"""Solutions for notebook 04 (SmoothGrad): the hands-on cell and every exercise.

Each exercise solution computes what it states and prints its conclusion from the numbers;
asserts cover only what holds on any model.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

import helpers


def hands_on_smoothgrad(
    model, image: np.ndarray, class_index: int, n: int, noise: float, seed: int
) -> np.ndarray:
    """SmoothGrad by hand: n noisy copies (sigma = noise x the image's range) drawn as
    helpers.smoothgrad draws them, and the mean of their signed gradients: (H, W, 3)."""
    rng = np.random.default_rng(seed)
    sigma = noise * float(image.max() - image.min())
    noisy = image + sigma * rng.standard_normal((n, *image.shape), dtype=np.float32)
    return helpers.vanilla_gradients(model, noisy, class_index).mean(axis=0)


def exercise_1(image: np.ndarray, grads: np.ndarray, speckle, correlation) -> None:
    """SmoothGrad-squared (mean of g^2) and VarGrad (variance of g) next to SmoothGrad."""
    mean = grads.mean(axis=0)
    squared = (grads**2).mean(axis=0)
    var = grads.var(axis=0)
    assert np.allclose(var, squared - mean**2, rtol=1e-3, atol=1e-6 * squared.max())
    maps = {"SmoothGrad": mean, "SmoothGrad-squared": squared, "VarGrad": var}
    helpers.plot_maps(image, maps, overlay_on_image=False, colorbar=False)
    plt.show()
    for name, m in maps.items():
        print(
            f"{name:20s} speckle {speckle(m):.3f}, correlation with SmoothGrad "
            f"{correlation(m, mean):.2f} (blurred {correlation(m, mean, blur=2.0):.2f})"
        )
    print(
        "VarGrad = SmoothGrad-squared - SmoothGrad^2 (checked), so where the gradient's mean "
        "is small next to its spread the two new maps nearly coincide; both square the "
        "gradients, which keeps magnitude but drops sign."
    )


def exercise_2(model, image: np.ndarray, class_index: int, n: int, speckle) -> None:
    """SmoothGrad applied to gradient x input: does the noise help it as much?"""
    plain = helpers.gradient_x_input(model, image, class_index)
    smooth = helpers.smoothgrad(
        model, image, class_index, n=n, noise=0.15, seed=0, method=helpers.gradient_x_input
    )
    vanilla = helpers.vanilla_gradients(model, image, class_index)
    smooth_g = helpers.smoothgrad(model, image, class_index, n=n, noise=0.15, seed=0)
    helpers.plot_maps(
        image,
        {"gradient x input": plain, f"SmoothGrad of it (n={n})": smooth},
        overlay_on_image=False,
        colorbar=False,
    )
    plt.show()
    before, after = speckle(plain), speckle(smooth)
    before_g, after_g = speckle(vanilla), speckle(smooth_g)
    print(
        f"speckle, gradient x input: {before:.3f} -> {after:.3f}; gradients: {before_g:.3f} -> "
        f"{after_g:.3f} (15 %, n={n}). For gradient x input the noise "
        + ("lowers" if after < before else "raises")
        + " the speckle: every noisy copy's gradient is multiplied by that noisy copy, so the "
        "pixel noise of the input enters the map itself. The paper smooths plain gradients."
    )


def exercise_3(grads_0: np.ndarray, grads_1: np.ndarray, correlation, counts) -> int | None:
    """The smallest n at which two runs (two seeds, same noise) correlate >= 0.95 after a
    2-pixel blur; the runs are prefixes of two batches of noisy gradients."""
    rows = [
        (n, correlation(grads_0[:n].mean(axis=0), grads_1[:n].mean(axis=0), blur=2.0))
        for n in counts
        if n <= min(len(grads_0), len(grads_1))
    ]
    for n, r in rows:
        print(f"n = {n:3d}: correlation of the two runs {r:.3f}")
    enough = [n for n, r in rows if r >= 0.95]
    print(
        f"smallest n with correlation >= 0.95: {enough[0]}"
        if enough
        else "no tried n reaches 0.95: take more samples"
    )
    return enough[0] if enough else None


def exercise_4(
    model,
    image: np.ndarray,
    class_index: int,
    noisy: np.ndarray,
    unclipped: np.ndarray,
    speckle,
    correlation,
) -> None:
    """Clip the same noisy copies to [0, 255] and compare the SmoothGrad maps."""
    clipped = helpers.vanilla_gradients(model, np.clip(noisy, 0, 255), class_index).mean(axis=0)
    share = float(((noisy < 0) | (noisy > 255)).mean())
    helpers.plot_maps(
        image,
        {"unclipped": unclipped, "clipped to [0, 255]": clipped},
        overlay_on_image=False,
        colorbar=False,
    )
    plt.show()
    print(
        f"{share:.0%} of the noisy values fall outside [0, 255]. Correlation clipped vs "
        f"unclipped {correlation(clipped, unclipped):.2f} (after a 2-px blur "
        f"{correlation(clipped, unclipped, blur=2.0):.2f}); speckle {speckle(clipped):.3f} vs "
        f"{speckle(unclipped):.3f}. Clipping makes the noise smaller and lopsided in bright "
        "and dark areas, so the neighbourhood is no longer Gaussian."
    )


def exercise_5(model, speckle, n: int) -> dict[str, float]:
    """The library's default settings (20 %, n) and the paper's (15 %, 50) on the espresso photo."""
    photo = helpers.load_image(helpers.sample_image("espresso"))
    vanilla = helpers.vanilla_gradients(model, photo, 967)
    maps = {
        "vanilla": vanilla,
        f"SmoothGrad 20 %, n={n}": helpers.smoothgrad(model, photo, 967, n=n, noise=0.20, seed=0),
        f"SmoothGrad 15 %, n={min(n, 50)}": helpers.smoothgrad(
            model, photo, 967, n=min(n, 50), noise=0.15, seed=0
        ),
    }
    helpers.plot_maps(photo, maps, overlay_on_image=False, colorbar=False)
    plt.show()
    scores = {name: speckle(m) for name, m in maps.items()}
    for name, s in scores.items():
        print(f"{name:24s} speckle {s:.3f}")
    smoother = [name for name, s in scores.items() if s < scores["vanilla"]]
    print(
        "Smoother than vanilla on the espresso: "
        + (", ".join(smoother) if smoother else "neither")
        + ". A setting chosen on one photo is a hypothesis for the next one: measure it there."
    )
    return scores
