"""Solutions for notebook 05 (activations and occlusion sensitivity)."""

from __future__ import annotations

import time

import numpy as np

import helpers
from helpers.methods.occlusion import IMAGENET_MEAN_RGB


def hands_on_one_patch(model, cat, class_index, top, left, size):
    """Hide one square patch with the mean colour; the drop of the class logit."""
    hidden = cat.copy()
    hidden[top : top + size, left : left + size] = IMAGENET_MEAN_RGB
    logits = helpers.predict_logits(model, np.stack([cat, hidden]))
    return hidden, float(logits[0, class_index] - logits[1, class_index])


def exercise_1(model, espresso, class_index, per_pass, patch=28, stride=14):
    """Predict the passes and time of a patch-28, stride-14 occlusion map, then measure
    (the tests' fast setting, on a slow model, passes a coarser patch and stride)."""
    per_row = -(-(224 - patch) // stride) + 1  # ceil((224 - patch) / stride) + 1
    passes = helpers.occlusion_patch_count((224, 224), patch, stride) + 1  # + the unoccluded image
    predicted = passes * per_pass
    start = time.perf_counter()
    helpers.occlusion(model, espresso, class_index, patch=patch, stride=stride)
    seconds = time.perf_counter() - start
    print(f"(ceil((224 - {patch}) / {stride}) + 1)^2 + 1 = {passes} forward passes; predicted "
          f"{predicted:.1f} s at {per_pass * 1000:.0f} ms per pass, measured {seconds:.1f} s "
          f"(ratio {seconds / predicted:.2f}; a shared machine adds noise)")
    assert passes == per_row**2 + 1


def exercise_2(model, cat):
    """Occlusion maps of the cat for Egyptian cat (285) and tiger cat (282)."""
    import matplotlib.pyplot as plt

    maps = {c: helpers.occlusion(model, cat, c, patch=56, stride=28) for c in (285, 282)}
    helpers.plot_maps(cat, {f"{c} {helpers.class_name(c)}": m for c, m in maps.items()},
                      panel_size=4, suptitle="Occlusion (patch 56, stride 28): logit drop")
    plt.show()
    for c, m in maps.items():
        top = np.unravel_index(m.argmax(), m.shape)
        print(f"{helpers.class_name(c)}: hiding raises the logit on {(m < 0).mean():.0%} of "
              f"the pixels; the largest drop {m.max():.2f} is around (row, col) = "
              f"{tuple(map(int, top))}")
    assert all(m.shape == cat.shape[:2] for m in maps.values())


def exercise_3(model, cat, class_index, last_maps):
    """How many of the 8 most active last-layer channels carry one of the 8 largest weights?"""
    from scipy.stats import spearmanr

    parts = helpers.grad_cam_parts(model, cat, class_index)
    active = {int(k) for k in helpers.strongest_channels(last_maps, 8)}
    weighted = set(np.argsort(parts.channel_weights)[-8:].tolist())
    rho = spearmanr(last_maps.mean(axis=(0, 1)), parts.channel_weights).statistic
    print(f"8 most active channels {sorted(active)}; 8 largest weights {sorted(weighted)}: "
          f"{len(active & weighted)} in common. Spearman correlation of mean activity and "
          f"weight over all {len(parts.channel_weights)} channels: {rho:.2f}")
    print("A channel can fire strongly and still carry little weight for the class: activity is "
          "not importance; the weights come from the class score's gradient.")
    assert parts.channel_weights.shape == (last_maps.shape[-1],)
