"""Solutions for notebook 07 (the CAM family): the hands-on cell and every exercise.

Each exercise solution computes what it states and prints its conclusion from the numbers;
asserts cover only what holds on any model.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

import helpers
from helpers.methods.score_cam import score_cam_masks, top_variance_channels


def hands_on_grad_cam_plus_plus(
    feature_maps: np.ndarray, gradients: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM++'s alpha (eq. 19 with the exponential score) and channel weights, from the
    feature maps and the gradients of the class logit, both (h, w, K)."""
    g = gradients.astype(np.float64)
    total = feature_maps.sum(axis=(0, 1), dtype=np.float64)  # sum_ab A^k_ab, one per channel
    denominator = 2 * g**2 + total * g**3
    alpha = np.divide(g**2, denominator, out=np.zeros_like(g), where=denominator != 0)
    weights = (alpha * np.maximum(g, 0)).sum(axis=(0, 1))  # exp(S^c) left out: a common factor
    return alpha, weights


def exercise_1(toy, cat: np.ndarray, left: np.ndarray) -> None:
    """Grad-CAM++'s variants for the left-columns class of the toy, against HiResCAM."""
    width = cat.shape[1]
    shares = {}
    for variant in helpers.GRAD_CAM_PLUS_PLUS_VARIANTS:
        heat = helpers.grad_cam_plus_plus(toy, cat, 0, variant=variant)
        shares[variant] = float(heat[:, width // 2 :].sum() / heat.sum())
    hires = helpers.hires_cam(toy, cat, 0)
    hires_share = float(hires[:, width // 2 :].sum() / hires.sum())
    parts = helpers.cam_parts(toy, cat, 0, helpers.grad_cam_plus_plus_weights)
    right = parts.weighted_sum[:, ~left]
    for variant, share in shares.items():
        print(f"{variant:17s}: {share:.0%} of the map on the right half")
    print(f"HiResCAM         : {hires_share:.0%}")
    print(f"paper's Grad-CAM++ weighted sum on the right columns: {(right > 0).mean():.0%} of "
          "the cells positive")
    spread = min(shares.values()) > 2 * hires_share
    print("Every variant " + ("spreads over the right half like Grad-CAM" if spread else
                              "stays mostly on the left") +
          ": alpha is 0 where g = 0, so the right columns add nothing to the weights, but each "
          "channel still gets one weight, and its map is active on the right too. Only "
          "HiResCAM, which weights cell by cell, is 0 there.")


def exercise_2(model, espresso: np.ndarray, class_index: int, channels: int) -> None:
    """Score-CAM on the espresso photo with both softmax conventions, against Grad-CAM."""
    grad = helpers.grad_cam(model, espresso, class_index)
    maps = {
        over: helpers.score_cam(model, espresso, class_index, max_channels=channels,
                                softmax=over, progress=False)
        for over in ("classes", "channels")
    }
    corr = {k: float(np.corrcoef(m.ravel(), grad.ravel())[0, 1]) for k, m in maps.items()}
    helpers.plot_maps(espresso, {"Grad-CAM": grad, **{f"Score-CAM, softmax over the {k}": m
                                                       for k, m in maps.items()}},
                      percentile=100, panel_size=3.6)
    plt.show()
    closer = max(corr, key=corr.get)
    print(f"correlation with Grad-CAM: softmax over the classes {corr['classes']:.3f}, over the "
          f"channels {corr['channels']:.3f}; the {closer} convention agrees more here.")


def exercise_3(model, cat: np.ndarray, class_index: int, feature_maps: np.ndarray) -> None:
    """Score-CAM's weights with half-pixel and with corner-aligned mask upsampling."""
    from scipy.ndimage import zoom

    chosen = top_variance_channels(feature_maps, 32)
    maps = feature_maps[..., chosen].astype(np.float32)
    half_pixel = score_cam_masks(maps, cat.shape[:2])
    factor = (cat.shape[0] / maps.shape[0], cat.shape[1] / maps.shape[1], 1)
    corners = np.moveaxis(zoom(maps, factor, order=1, mode="nearest"), -1, 0)
    low = corners.min(axis=(1, 2), keepdims=True)
    span = corners.max(axis=(1, 2), keepdims=True) - low
    corners = np.divide(corners - low, span, out=np.zeros_like(corners), where=span > 0)
    weights = []
    for masks in (half_pixel, corners):
        logits = helpers.predict_logits(model, cat[None] * masks[..., None]).astype(np.float64)
        weights.append(helpers.softmax(logits)[:, class_index])
    change = np.abs(weights[0] - weights[1]) / weights[0]
    print(f"largest mask difference {np.abs(half_pixel - corners).max():.2f}; the 32 weights "
          f"change by up to {change.max():.0%} (median {np.median(change):.0%}); their "
          f"correlation is {np.corrcoef(*weights)[0, 1]:.3f}. An interpolation convention is "
          "part of the method's definition when results are compared across libraries.")


def exercise_4(model, cat, class_index, layers, box_mass, box_area, finish) -> None:
    """Face-box mass of Grad-CAM and LayerCAM at each of ``layers``."""
    grad, layer_cam = [], []
    for name in layers:
        parts = helpers.cam_parts(model, cat, class_index, helpers.grad_cam_weights, layer=name)
        gc = finish(parts.weighted_sum)
        lc = finish((np.maximum(parts.gradients, 0) * parts.feature_maps).sum(axis=-1))
        grad.append(box_mass(gc) if gc.max() > 0 else np.nan)  # a blank map has no mass
        layer_cam.append(box_mass(lc))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.plot(range(len(layers)), grad, "o-", label="Grad-CAM (gaps: a blank map)")
    ax.plot(range(len(layers)), layer_cam, "s-", label="LayerCAM")
    ax.axhline(box_area, color="grey", ls="--", label="box area (a flat map)")
    ax.set_xticks(range(len(layers)), layers, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="mass in the face box")
    ax.legend()
    plt.show()
    blank = int(np.isnan(grad).sum())
    above = int(np.sum(np.array(layer_cam) > box_area))
    print(f"Grad-CAM is blank at {blank} of {len(layers)} layers; LayerCAM puts more than the "
          f"box's area share in the box at {above} of {len(layers)}.")


def exercise_5(centred: np.ndarray, grid: tuple[int, int], finish, cat: np.ndarray) -> None:
    """Eigen-CAM with the second principal direction."""
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    first = (centred @ vt[0]).reshape(grid)
    second = (centred @ vt[1]).reshape(grid)
    share = singular[:2] ** 2 / (singular**2).sum()
    helpers.plot_maps(cat, {"first component": finish(first),
                            "second component, ReLU(+)": finish(second),
                            "second component, ReLU(-)": finish(-second)},
                      percentile=100, panel_size=3.4)
    plt.show()
    print(f"the first component explains {share[0]:.0%} of the variance across the grid, the "
          f"second {share[1]:.0%}. The second has no preferred sign: both halves are shown; "
          "it splits the image along the next strongest contrast in the features.")
