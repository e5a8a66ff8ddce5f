"""Solutions for notebook 08 (methods without gradients: RISE, LIME, KernelSHAP, XRAI)."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np

import helpers


def hands_on_shapley(v, players):
    """Shapley values by enumeration: every coalition S without i, weighted."""
    phi = np.zeros(players)
    for i in range(players):
        others = [p for p in range(players) if p != i]
        for size in range(players):
            weight = factorial(size) * factorial(players - size - 1) / factorial(players)
            for s in combinations(others, size):
                phi[i] += weight * (v[frozenset(s) | {i}] - v[frozenset(s)])
    return phi


def exercise_1(model, cat, budget, rise_masks):
    """RISE for 281 tabby: two seeds, the paper's normalisation and the coverage's."""
    from helpers.methods.perturbation import class_scores

    masks = max(budget["masks"] // 2, 8)
    paper, by_coverage = {}, {}
    for seed in (0, 1):
        paper[seed] = helpers.rise(model, cat, 281, masks=masks, seed=seed, progress=False)
        visible = rise_masks(masks, (224, 224), 7, 0.5, seed)[0:masks].sum(axis=0)
        by_coverage[seed] = paper[seed] * masks * 0.5 / visible
    r_paper = np.corrcoef(paper[0].ravel(), paper[1].ravel())[0, 1]
    r_coverage = np.corrcoef(by_coverage[0].ravel(), by_coverage[1].ravel())[0, 1]
    print(f"tabby, {masks} masks: two seeds correlate {r_paper:.2f} (paper) and "
          f"{r_coverage:.2f} (normalised by the coverage)")
    grey = np.array([123.68, 116.779, 103.939], np.float32)
    count = min(32, budget["masks"])
    shown = rise_masks(count, (224, 224), 7, 0.5, seed=5)[0:count]
    copies = grey + shown[..., None] * (cat - grey)
    for cls in (285, 281):
        p = class_scores(model, copies, cls, "probability")
        print(f"class {cls}: probability over {count} masked copies {p.mean():.3f} +- "
              f"{p.std():.3f} (relative spread {p.std() / p.mean():.0%})")
    assert np.isfinite(r_paper) and np.isfinite(r_coverage)


def exercise_2(model, cat, cls, budget):
    """LIME at lime's default 1000 samples: do two seeds agree?"""
    samples = 2 * budget["samples"]
    a, b = (helpers.lime(model, cat, cls, samples=samples, seed=s, progress=False)
            for s in (0, 1))
    r = np.corrcoef(a.weights, b.weights)[0, 1]
    rho = np.corrcoef(np.argsort(np.argsort(a.weights)), np.argsort(np.argsort(b.weights)))[0, 1]
    shared = len(set(np.argsort(a.weights)[-5:]) & set(np.argsort(b.weights)[-5:]))
    print(f"{samples} samples: Pearson r = {r:.2f}, Spearman {rho:.2f}, {shared} of the top 5 "
          f"superpixels shared; weighted R^2 {a.score:.2f} / {b.score:.2f}")


def exercise_3(model, cat, cls, exact, budget):
    """Sampled KernelSHAP against the exact values on the same superpixels."""
    players = len(exact.values)
    coalitions = 2**players - 2
    for fraction in (0.25, 0.5, 0.9):
        samples = max(2, int(fraction * coalitions))
        sampled = helpers.kernel_shap(model, cat, cls, segments=budget["exact_segments"],
                                      samples=samples, exact=False, seed=0, progress=False)
        error = np.abs(sampled.values - exact.values).max() / np.abs(exact.values).max()
        print(f"{samples} of {coalitions} coalitions: largest error {error:.1%} of the largest "
              f"|phi|; the sum misses by {sampled.completeness.relative_gap:.1e}")
        assert sampled.completeness.relative_gap < 1e-6


def exercise_4(model, cat, cls, xrai_ig, top_area):
    """XRAI ranked by Grad-CAM instead of IG: how much do the top-20 % areas overlap?"""
    on_cam = helpers.xrai(model, cat, cls, attribution="grad_cam", progress=False)
    a, b = top_area(xrai_ig, 0.2), top_area(on_cam, 0.2)
    print(f"top 20 %: IoU {(a & b).sum() / (a | b).sum():.2f}; XRAI on Grad-CAM ranked "
          f"{len(on_cam.gains)} regions")
