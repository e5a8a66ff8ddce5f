"""Solutions for notebook 10 (ground truth, metrics that disagree, a Vision Transformer).

Light settings (a few images, few curve points) keep solution mode within the notebook's
time; each exercise prints what it measured and asserts only what holds on any model the
notebook trains (the synthetic CNN and ViT are trained in the notebook, so their claims
hold in every mode; claims about the photos are guarded by helpers.default_model_only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import helpers
from helpers.evaluation.agreement import kendall_matrix
from helpers.evaluation.complexity import sparseness
from helpers.evaluation.deletion_insertion import deletion_insertion_curves, random_saliency
from helpers.evaluation.localisation import localisation_scores, pointing_game_chance
from helpers.evaluation.road import road
from helpers.methods.attention import attention_weights, rollout, token_map


def hands_on_hits(maps, masks):
    """One hit per image: is the (signed) map's maximum inside the mask?"""
    return np.array([mask.ravel()[m.argmax()] for m, mask in zip(maps, masks, strict=True)],
                    dtype=float)


def exercise_1(cnn_maps, data, tolerances=(0, 4, 8)):
    """The pointing game with a tolerance ring: every method gains, and so does chance."""
    rows = {}
    for name, maps in cnn_maps.items():
        rows[name] = {
            f"{t} px": localisation_scores(maps, data.masks, t)["pointing_game"].mean()
            for t in tolerances
        }
    rows["chance (grown box's share)"] = {
        f"{t} px": np.mean([pointing_game_chance(k, t) for k in data.masks]) for t in tolerances
    }
    table = pd.DataFrame(rows).T
    print(table.round(3).to_string())
    chance = table.loc["chance (grown box's share)"]
    print(f"chance rises from {chance.iloc[0]:.3f} to {chance.iloc[-1]:.3f}: a generous ring "
          "flatters every method, so report the chance level with the score.")
    assert chance.is_monotonic_increasing and chance.iloc[-1] > 4 * chance.iloc[0]
    assert (table.diff(axis=1).iloc[:, 1:] >= -1e-12).all().all()  # a ring never loses a hit
    return table


def exercise_2(vit, data):
    """Rollout with and without the residual identity, scored by relevance mass."""
    weights = attention_weights(vit, data.images)
    scores = {}
    for residual in (True, False):
        joint = rollout(weights, residual=residual)
        maps = token_map(joint[:, 0, 1:], data.images.shape[1:3])
        scores[f"residual={residual}"] = localisation_scores(maps, data.masks)
    table = pd.DataFrame(
        {name: {metric: v.mean() for metric, v in found.items()} for name, found in scores.items()}
    ).T
    print(table.round(3).to_string())
    print(
        "Without the identity, rollout multiplies raw attention matrices: it ignores that half "
        "of every token's next state is the token itself (the residual connection), so what a "
        "patch contributes directly is lost in the product."
    )
    return table


def exercise_3(model, image, fractions):
    """Grad-CAM vs a random map under ROAD (with and without noise) and black deletion."""
    cls = helpers.top_k(model, image, k=1)[0][0]
    maps = {"Grad-CAM": helpers.grad_cam(model, image, cls),
            "Random map": random_saliency(image.shape[:2], seed=0)}
    rows = {}
    for noise in (0.0, 0.01):
        results = road(model, image, cls, maps, fractions=fractions, noise=noise, progress=False)
        rows[f"ROAD, noise {noise:.0%} (higher better)"] = {
            name: r.combined for name, r in results.items()
        }
    curves = deletion_insertion_curves(model, image, cls, maps, kinds=("deletion",),
                                       steps=len(fractions) + 2, progress=False)
    rows["black deletion AUC (lower better)"] = {n: c["deletion"].auc for n, c in curves.items()}
    table = pd.DataFrame(rows)
    print(table.round(3).to_string())
    if helpers.default_model_only(model, "ROAD ranks Grad-CAM above the random map on the cat"):
        for column in table.columns[:2]:
            assert table.loc["Grad-CAM", column] > table.loc["Random map", column], table
    return table


def exercise_4(cnn, data, cnn_maps, truth, images=6):
    """Proxy metrics on the synthetic CNN, and their Kendall tau with the ground truth."""
    names = [n for n in cnn_maps if n != "Random map"] + ["Random map"]
    rows = {name: {"deletion AUC": [], "ROAD": [], "sparseness": []} for name in names}
    for i in range(images):
        image, label = data.images[i], int(data.labels[i])
        maps = {name: cnn_maps[name][i] for name in names}
        curves = deletion_insertion_curves(cnn, image, label, maps, kinds=("deletion",), steps=8,
                                           progress=False)
        roads = road(cnn, image, label, maps, fractions=(0.05, 0.2, 0.5), progress=False)
        for name in names:
            rows[name]["deletion AUC"].append(curves[name]["deletion"].auc)
            rows[name]["ROAD"].append(roads[name].combined)
            rows[name]["sparseness"].append(sparseness(maps[name]))
    proxies = pd.DataFrame({n: {m: np.mean(v) for m, v in r.items()} for n, r in rows.items()}).T
    table = pd.concat([truth.loc[names], proxies], axis=1)
    better = {"pointing game": True, "relevance mass": True, "deletion AUC": False, "ROAD": True,
              "sparseness": True}
    tau = kendall_matrix(table, better)
    print(table.round(3).to_string())
    print("\nKendall's tau with the ground truth:")
    print(tau.loc[["pointing game", "relevance mass"], ["deletion AUC", "ROAD", "sparseness"]]
          .round(2).to_string())
    assert np.allclose(np.diag(tau.values), 1.0)
    return tau
