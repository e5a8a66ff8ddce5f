"""Solutions for notebook 02 (vanilla gradients): the hands-on cell and every exercise.

Each exercise solution computes what it states and prints its conclusion from the numbers;
asserts cover only what holds on any model.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from scipy import ndimage
from scipy.stats import spearmanr

import helpers

# the coffee in the cup, read off the 224 x 224 espresso photo
COFFEE = {"x0": 84, "x1": 140, "y0": 40, "y1": 100}


def hands_on_vanilla_gradient(scorer, img: np.ndarray, class_index: int) -> np.ndarray:
    """d logit_c / d x for one image with tf.GradientTape: (224, 224, 3)."""
    x = tf.convert_to_tensor(img[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = scorer(x, training=False)[:, class_index]
    return tape.gradient(score, x).numpy()[0]


def exercise_1(model, cat_saliency: np.ndarray) -> float:
    """The espresso class on the espresso photo: are the photo's edges (the cup's outline)
    brighter than the rest? Returns how much brighter the map is on the strongest edges."""
    espresso = helpers.load_image(helpers.sample_image("espresso"))
    saliency = helpers.reduce_channels(helpers.vanilla_gradients(model, espresso, 967))
    grey = espresso.mean(axis=-1)
    edges = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))
    on_edges = edges >= np.percentile(edges, 90)
    ratio = float(saliency[on_edges].mean() / saliency[~on_edges].mean())
    helpers.plot_maps(
        espresso,
        {
            "max |g|, espresso (967)": saliency,
            "strongest 10 % edges of the photo": on_edges.astype(float),
        },
        overlay_on_image=False,
    )
    plt.show()
    helpers.plot_maps(
        helpers.load_image(helpers.sample_image("cat")), {"max |g|, cat (281)": cat_saliency}
    )
    plt.show()
    coffee = (
        saliency[COFFEE["y0"] : COFFEE["y1"], COFFEE["x0"] : COFFEE["x1"]].mean() / saliency.mean()
    )
    if ratio > 1.2:
        verdict = "the outlines are brighter than the rest"
    elif ratio < 0.8:
        verdict = (
            "the map is darker on the outlines than elsewhere: its bright pixels lie inside regions"
        )
    else:
        verdict = "outlines and regions are about equally bright"
    print(
        f"On the photo's 10 % strongest edges (the cup's rim, the saucer, the spoon) the espresso "
        f"map is {ratio:.2f}x as bright as elsewhere: {verdict}. The coffee's surface is "
        f"{coffee:.2f}x as bright as the map's average. Compare with the cat's "
        "tabby map below."
    )
    return ratio


def exercise_2(img: np.ndarray, g: np.ndarray) -> None:
    """Max, sum of |g| and signed sum over the colour channels."""
    maps = {how: helpers.reduce_channels(g, how=how) for how in ("max_abs", "sum_abs", "sum")}
    helpers.plot_maps(img, {f'how="{how}"': m for how, m in maps.items()}, overlay_on_image=False)
    plt.show()
    rho = spearmanr(maps["max_abs"].ravel(), maps["sum_abs"].ravel()).statistic
    ratio = maps["sum_abs"] / np.maximum(maps["max_abs"], 1e-30)
    mixed = float(((g > 0).any(axis=-1) & (g < 0).any(axis=-1)).mean())
    cancelled = float(np.abs(maps["sum"]).sum() / maps["sum_abs"].sum())
    assert np.all(maps["max_abs"] <= maps["sum_abs"] * (1 + 1e-6))
    assert np.all(maps["sum_abs"] <= 3 * maps["max_abs"] * (1 + 1e-6))
    assert np.all(np.abs(maps["sum"]) <= maps["sum_abs"] * (1 + 1e-6))
    print(
        f"max vs sum of |g|: Spearman {rho:.2f}, "
        + ("so they rank the pixels almost alike. " if rho > 0.9 else "not the same ranking. ")
        + "Their "
        f"ratio runs from 1 (one channel dominates) to 3 (all three equal), here up to "
        f"{ratio.max():.2f}: the sum favours pixels where the three channels agree."
    )
    print(
        f"Signed sum: at {mixed:.0%} of the pixels the channels' gradients have mixed signs, and "
        f"|sum| keeps only {cancelled:.0%} of the sum of |g|: red and blue cancel, and a "
        "near-zero value can mean 'insensitive' or 'channels disagree'. The sign of a gradient "
        "says which way to change a pixel, not whether it is evidence for the class."
    )


def exercise_3(model, img: np.ndarray, class_index: int, saliency: np.ndarray) -> None:
    """Gradient x input next to the vanilla map: it fades in the dark regions."""
    gxi = helpers.gradient_x_input(model, img, class_index)
    g = helpers.vanilla_gradients(model, img, class_index)
    assert np.allclose(gxi, g * img, rtol=1e-4, atol=1e-6 * np.abs(gxi).max())
    gxi_map = helpers.reduce_channels(gxi)
    helpers.plot_maps(img, {"vanilla: max |g|": saliency, "gradient x input: max |g x|": gxi_map})
    plt.show()
    brightness = img.mean(axis=-1)
    dark = brightness <= np.percentile(brightness, 20)
    share_vanilla = saliency[dark].sum() / saliency.sum()
    share_gxi = gxi_map[dark].sum() / gxi_map.sum()
    print(
        f"The darkest 20 % of the pixels hold {share_vanilla:.0%} of the vanilla map's mass and "
        f"{share_gxi:.0%} of gradient x input's. Multiplying by the pixel value measures "
        "against a black image, so dark pixels get little attribution whatever their gradient"
        + (" (as measured here)." if share_gxi < share_vanilla else "; here the effect is small.")
    )


def exercise_4(img: np.ndarray, saliency: np.ndarray) -> None:
    """The same map with its colour scale clipped at the 90th, 99th and 99.9th percentile."""
    levels = (90, 99, 99.9)
    saturated, dark = {}, {}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, q in zip(axes, levels, strict=True):
        helpers.show_map(ax, saliency, title=f"percentile {q}", percentile=q)
        top = np.percentile(saliency, q)
        saturated[q] = float((saliency >= top).mean())
        dark[q] = float((saliency < 0.1 * top).mean())
        assert abs(saturated[q] - (1 - q / 100)) < 0.01
        print(
            f"percentile {q}: {saturated[q]:.1%} of the pixels at full brightness, "
            f"{dark[q]:.0%} below a tenth of the scale"
        )
    plt.show()
    print(
        f"At the 90th percentile {saturated[90]:.0%} of the pixels share the brightest colour, "
        "so the strongest ones can no longer be told apart, while the weak structure (fur, "
        f"background) shows ({dark[90]:.0%} of the map below a tenth of the scale). At 99.9 "
        f"the top pixels keep their ranking but {dark[99.9]:.0%} of the map falls below a "
        "tenth of the scale. 99 is a compromise, not a truth."
    )
