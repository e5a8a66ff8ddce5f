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
    grads = grads.astype(np.float64)
    mean = grads.mean(axis=0)
    squared = (grads**2).mean(axis=0)
    var = grads.var(axis=0)
    # E[g^2] = mean^2 + variance, in float64: a few dozen rounding steps of the largest value
    rounding = 64 * np.finfo(np.float64).eps * squared.max()
    assert np.allclose(var, squared - mean**2, rtol=0, atol=rounding)
    maps = {"SmoothGrad": mean, "SmoothGrad-squared": squared, "VarGrad": var}
    helpers.plot_maps(image, maps, overlay_on_image=False, colorbar=False)
    plt.show()
    for name, m in maps.items():
        print(
            f"{name:20s} speckle {speckle(m):.3f}, correlation with SmoothGrad "
            f"{correlation(m, mean):.2f} (blurred {correlation(m, mean, blur=2.0):.2f}), with "
            f"SmoothGrad-squared {correlation(m, squared):.2f}"
        )
    share = float((mean**2).sum() / squared.sum())
    print(
        f"VarGrad = SmoothGrad-squared - SmoothGrad^2 (checked). Over the image the squared "
        f"mean is {share:.1%} of SmoothGrad-squared, the variance the rest: "
        + ("so the two new maps nearly coincide" if share < 0.1 else "so the two new maps differ")
        + f" (correlation {correlation(var, squared):.2f}). Both square the gradients, which "
        "keeps magnitude but drops sign: they say where the gradient is large under noise, not "
        "which way it pushes the score."
    )


def exercise_2(
    model, image: np.ndarray, class_index: int, n: int, noise: float, speckle, structure
) -> None:
    """SmoothGrad applied to gradient x input: does the noise help it as much?"""
    plain = helpers.gradient_x_input(model, image, class_index)
    smooth = helpers.smoothgrad(
        model, image, class_index, n=n, noise=noise, seed=0, method=helpers.gradient_x_input
    )
    vanilla = helpers.vanilla_gradients(model, image, class_index)
    smooth_g = helpers.smoothgrad(model, image, class_index, n=n, noise=noise, seed=0)
    helpers.plot_maps(
        image,
        {"gradient x input": plain, f"SmoothGrad of it (n={n})": smooth},
        overlay_on_image=False,
        colorbar=False,
    )
    plt.show()
    rows = {
        "gradient x input": (plain, smooth),
        "gradients": (vanilla, smooth_g),
    }
    verdicts = []
    for name, (before, after) in rows.items():
        s0, s1, c0, c1 = speckle(before), speckle(after), structure(before), structure(after)
        print(
            f"{name:17s} speckle {s0:.3f} -> {s1:.3f}, structure (8 x 8 blocks) {c0:.3f} -> "
            f"{c1:.3f} ({noise:.0%}, n={n})"
        )
        verdicts.append(f"{name}: {'less' if s1 < s0 else 'more'} speckled")
    print(
        f"At n = {n}: " + "; ".join(verdicts) + ". With so few samples the average still carries "
        "much sampling noise (section 3), whichever map it smooths. Gradient x input has a "
        "second source: every noisy copy's gradient is multiplied by that noisy copy, so the "
        "input's pixel noise enters the map itself. The paper smooths plain gradients."
    )


def exercise_3(grads_0: np.ndarray, grads_1: np.ndarray, correlations, running_means) -> int | None:
    """The smallest n from which on two runs (two seeds, same noise) correlate >= 0.95 after a
    2-pixel blur; the runs' n-sample maps are the running means of two batches of gradients."""
    total = min(len(grads_0), len(grads_1))
    first, second = (helpers.reduce_channels(running_means(g[:total])) for g in (grads_0, grads_1))
    r = correlations(first, second, blur=2.0)
    for n in (1, 5, 10, 20, 50, 100):
        if n <= total:
            print(f"n = {n:3d}: correlation of the two runs {r[n - 1]:.4f}")
    below = np.flatnonzero(r < 0.95)
    start = 1 if below.size == 0 else int(below[-1]) + 2
    if start > total:
        print(f"the two runs do not stay >= 0.95 within {total} samples: take more")
        return None
    first_hit = int(np.argmax(r >= 0.95)) + 1
    print(
        f"from n = {start} on the two runs correlate >= 0.95 (first reached at n = {first_hit}, "
        f"{r[first_hit - 1]:.4f}); the library's n = 100 has "
        + (f"{100 - start} samples to spare on this photo." if start <= 100 else "too few.")
    )
    return start


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
