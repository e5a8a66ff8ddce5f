"""Solutions for notebook 03 (Grad-CAM): the hands-on cell and every exercise.

Each exercise solution computes what it states and prints its conclusion from the numbers;
asserts cover only what holds on any model.
"""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import helpers
from helpers.methods.cam import scale_to_unit, upsample

# the cup, read off the 224 x 224 espresso photo
ESPRESSO_CUP_BOX = {"x0": 64, "x1": 160, "y0": 8, "y1": 128}


def hands_on_grad_cam(
    feature_maps: np.ndarray, gradients: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grad-CAM's channel weights, weighted sum and ReLU from the feature maps and the
    gradients of the class logit with respect to them, both (h, w, K)."""
    alpha = gradients.mean(axis=(0, 1))  # (K,): global average pooling of the gradients
    weighted = np.einsum("hwk,k->hw", feature_maps, alpha)  # weighted sum of the feature maps
    relu = np.maximum(weighted, 0.0)  # ReLU
    return alpha, weighted, relu


def exercise_1(model, cat: np.ndarray, layer: str, to_image_size) -> None:
    """Egyptian cat minus tabby: Grad-CAM of the logit difference y_285 - y_281."""
    tabby = helpers.grad_cam_parts(model, cat, 281, layer=layer)
    egyptian = helpers.grad_cam_parts(model, cat, 285, layer=layer)
    weights = egyptian.channel_weights - tabby.channel_weights
    weighted = np.einsum("hwk,k->hw", tabby.feature_maps, weights)
    assert np.allclose(weighted, egyptian.weighted_sum - tabby.weighted_sum, rtol=1e-4, atol=1e-5)
    up = to_image_size(np.maximum(weighted, 0.0))
    helpers.plot_maps(cat, {"Grad-CAM of y_285 - y_281": up}, percentile=100, panel_size=4)
    plt.show()
    y, x = np.unravel_index(np.argmax(up), up.shape)
    print(
        f"{(weighted > 0).mean():.0%} of the grid cells favour Egyptian cat over tabby; "
        f"the peak is at "
        f"x={x}, y={y}. Grad-CAM is linear in the weights, so the difference map is the "
        "difference of the two weighted sums (checked)."
    )


def exercise_2(model, layer: str) -> float:
    """Espresso (967) and cup (968) on the espresso photo: their maps and correlation."""
    espresso = helpers.load_image(helpers.sample_image("espresso"))
    cams = helpers.grad_cam(model, np.stack([espresso, espresso]), [967, 968], layer=layer)
    r_maps = float(np.corrcoef(cams[0].ravel(), cams[1].ravel())[0, 1])
    parts = [helpers.grad_cam_parts(model, espresso, c, layer=layer) for c in (967, 968)]
    r_weights = float(np.corrcoef(parts[0].channel_weights, parts[1].channel_weights)[0, 1])
    totals = parts[0].feature_maps.sum(axis=(0, 1))
    contributions = [p.channel_weights * totals for p in parts]
    r_contrib = float(np.corrcoef(*contributions)[0, 1])
    helpers.plot_maps(espresso, {"967 espresso": cams[0], "968 cup": cams[1]}, percentile=100)
    plt.show()
    print(
        f"The two maps correlate {r_maps:.2f}, although the channel weights of the two classes "
        f"correlate only {r_weights:.2f}. What counts is weight x activation: the contributions "
        f"alpha_k * sum A^k of the channels active on this photo correlate {r_contrib:.2f}. Both "
        "maps are built from the same features of the one object in the photo, and an espresso "
        "is served in a cup: the classes differ in channels that are silent here."
    )
    return r_maps


def exercise_3(model, pair: np.ndarray, layer: str, to_image_size) -> None:
    """Counterfactual map: -alpha_k, then the ReLU, for tabby on the two-object image."""
    parts = helpers.grad_cam_parts(model, pair, 281, layer=layer)
    weighted = np.einsum("hwk,k->hw", parts.feature_maps, -parts.channel_weights)
    assert np.allclose(weighted, -parts.weighted_sum, rtol=1e-4, atol=1e-5)
    counter = to_image_size(np.maximum(weighted, 0.0))
    width = pair.shape[1] // 2
    if counter.sum() > 0:
        right = counter[:, width:].sum() / counter.sum()
        print(f"{right:.0%} of the counterfactual (against tabby) mass lies on the espresso half.")
    else:
        print("No cell speaks against tabby: the counterfactual map is empty.")
    helpers.plot_maps(
        pair,
        {"Grad-CAM, tabby": to_image_size(parts.cam), "counterfactual: -alpha": counter},
        percentile=100,
        panel_size=4,
    )
    plt.show()


def exercise_4(model, cat: np.ndarray, box: dict, box_stats) -> list[tuple[str, float]]:
    """Mass in the face box for every fourth convolution's rectified output, in one pass.

    One model returns all the layers' feature maps and the logits, so one tape gives every
    layer's gradients (instead of one tracing per layer); the last layer is checked against
    helpers.grad_cam.
    """
    names = helpers.conv_layer_names(model)[::4]
    layers = list(dict.fromkeys(helpers.grad_cam_layer(model, name) for name in names))
    logits = helpers.logits_model(model)
    probe = keras.Model(logits.input, [*(model.get_layer(n).output for n in layers), logits.output])
    x = tf.convert_to_tensor(cat[None])
    with tf.GradientTape() as tape:
        *features, z = probe(x, training=False)
        score = z[:, 281]
    grads = tape.gradient(score, features)
    results, spread = [], {}
    for name, a, g in zip(layers, features, grads, strict=True):
        weighted = np.einsum("bhwk,bk->bhw", a.numpy(), g.numpy().mean(axis=(1, 2)))
        cam = scale_to_unit(upsample(np.maximum(weighted, 0.0), cat.shape[:2]))[0]
        results.append((name, box_stats(cam, box)[0] if cam.sum() > 0 else float("nan")))
        spread[name] = float((cam >= 0.5).mean())  # share of the image at >= half the peak
    assert np.abs(cam - helpers.grad_cam(model, cat, 281, layer=layers[-1])).max() < 1e-3
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(range(len(results)), [m for _, m in results], marker="o")
    ax.set_xticks(range(len(results)), [n for n, _ in results], rotation=70, fontsize=7)
    ax.set(ylabel="mass in the face box", title="Grad-CAM at every fourth convolution, tabby")
    plt.show()
    shares = np.array([m for _, m in results])
    measured = shares[~np.isnan(shares)]
    steady = bool(np.all(np.diff(measured) >= 0))
    best = max(results, key=lambda r: np.nan_to_num(r[1]))
    last = results[-1]
    print(
        f"{len(results)} layers, {int(np.isnan(shares).sum())} of them with an empty map (every "
        "cell <= 0 before the ReLU). The mass in the face box "
        + ("grows steadily with depth" if steady else "does not grow steadily with depth")
        + f": highest {best[1]:.0%} at {best[0]}, {last[1]:.0%} at the last layer {last[0]}."
    )
    if best[0] != last[0]:
        print(
            f"At {best[0]} the map is at least half its peak on {spread[best[0]]:.1%} of the "
            f"image, against {spread[last[0]]:.1%} at the last layer: "
            + (
                "a few small bright spots that happen to lie in the box, not a map of the head. "
                if spread[best[0]] < spread[last[0]]
                else "a broad map. "
            )
            + "A high share in a box is not yet an explanation of the class (section 5 makes "
            "the same point about the raw convolution and BatchNorm outputs)."
        )
    return results


def exercise_5(model, box_stats) -> None:
    """A localisation claim on another photo: the espresso map sits on the cup."""
    photo = helpers.load_image(helpers.sample_image("espresso"))
    index, name, p = helpers.top_k(model, photo, k=1)[0]
    cam = helpers.grad_cam(model, photo, index)
    mass, area, ratio = box_stats(cam, ESPRESSO_CUP_BOX)
    assert area < 0.5
    helpers.plot_maps(
        photo, {f"Grad-CAM, {index} {name} (p = {p:.2f})": cam}, percentile=100, panel_size=4
    )
    plt.show()
    print(
        f"Top class {index} {name}. The cup box covers {area:.0%} of the image and holds "
        f"{mass:.0%} of the map's mass ({ratio:.1f}x as dense inside as outside): "
        + ("the claim holds." if mass > area and ratio > 1.5 else "the claim is not supported.")
    )
