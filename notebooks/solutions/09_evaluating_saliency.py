"""Solutions for notebook 09 (evaluating saliency maps): the hands-on cell and the exercises.

The exercises run at light settings (few seeds, few curve points) so that the notebook stays
within a minute in solution mode; each prints what it measured and asserts what it states.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import helpers
from helpers.evaluation.deletion_insertion import (
    deletion_insertion_curves,
    mean_curve,
    random_saliency,
)
from helpers.evaluation.randomization import cascading_randomization


def hands_on_spearman(a, b):
    """Spearman's rank correlation of |a| and |b|: the Pearson correlation of their ranks."""
    from scipy.stats import rankdata

    ranks_a = rankdata(np.abs(a).ravel())  # ties share their average rank
    ranks_b = rankdata(np.abs(b).ravel())
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def _random_mean(model, image, cls, kinds, steps, seeds, **options):
    randoms = {f"r{s}": random_saliency(image.shape[:2], s) for s in seeds}
    curves = deletion_insertion_curves(model, image, cls, randoms, kinds, steps=steps, **options)
    return {kind: mean_curve([c[kind] for c in curves.values()]) for kind in kinds}


def exercise_1(model, images, targets, all_maps, all_curves, steps):
    """Deletion in 8 x 8 and 32 x 32 blocks: Grad-CAM against a random map (the mean curve of
    5 seeds; for single pixels, the notebook's mean of 3)."""
    rows = {}
    for name, image in images.items():
        cls = targets[name][0]
        pixels = all_curves[name]  # block 1: the notebook's curves (random: mean of 3 seeds)
        rows[(name, "block 1")] = {
            "Grad-CAM": pixels["Grad-CAM"]["deletion"].auc,
            "random": pixels["Random"]["deletion"].auc,
        }
        for block in (8, 32):
            gc = deletion_insertion_curves(
                model,
                image,
                cls,
                {"Grad-CAM": all_maps[name]["Grad-CAM"]},
                ("deletion",),
                steps=steps,
                block=block,
            )["Grad-CAM"]["deletion"].auc
            rnd = _random_mean(model, image, cls, ("deletion",), steps, range(5), block=block)
            rows[(name, f"block {block}")] = {
                "Grad-CAM": gc,
                "random": rnd["deletion"].auc,
            }
    table = pd.DataFrame(rows).T
    table["Grad-CAM better"] = table["Grad-CAM"] < table["random"]
    print(table.round(3).to_string())
    print(
        "8-pixel blocks are still small specks to the network: the random map keeps winning. "
        "With 32-pixel blocks a random order removes a few large squares instead of scattering "
        "black pixels, its deletion AUC is several times higher than with single pixels, and "
        "Grad-CAM beats it on both photos."
    )
    claim = "Grad-CAM beats the random map on deletion with 32-pixel blocks, not with 8"
    if helpers.default_model_only(model, claim):
        for name in images:
            pixel, big = table.loc[(name, "block 1"), "random"], table.loc[(name, "block 32")]
            assert big["random"] > 2 * pixel, (name, table)
            assert table.loc[(name, "block 32"), "Grad-CAM better"], table
            assert not table.loc[(name, "block 8"), "Grad-CAM better"], table
    return table


def exercise_2(model, image, cls, stages, seed=0):
    """SmoothGrad and Integrated Gradients in the cascade (light settings: n = 8, 16 steps)."""

    def smoothgrad(net, x, c):
        return helpers.reduce_channels(
            helpers.smoothgrad(net, x, c, n=8, noise=0.15, seed=0), "sum_abs"
        )

    def integrated_gradients(net, x, c):
        return helpers.reduce_channels(
            helpers.integrated_gradients(net, x, c, steps=16).attributions, "sum"
        )

    def gradient(net, x, c):
        return helpers.reduce_channels(helpers.vanilla_gradients(net, x, c), "sum_abs")

    def gradient_x_input(net, x, c):
        return helpers.reduce_channels(helpers.gradient_x_input(net, x, c), "sum_abs")

    methods = {
        "Gradient": gradient,
        "SmoothGrad": smoothgrad,
        "Gradient x input": gradient_x_input,
        "Integrated Gradients": integrated_gradients,
    }
    run = cascading_randomization(
        model, image, cls, methods, stages=stages, seed=seed, in_place=True, progress=False
    )
    table = run.table("spearman_abs")
    print(table.round(2).to_string())
    print(
        "Both behave like the gradient. SmoothGrad averages gradients, so it changes as soon as "
        "the weights do. Integrated Gradients multiplies by x like gradient x input, but its "
        "path-averaged gradient changes completely and its signed channel sum lets the signs "
        "cancel: far less of the photo survives than in |gradient x input|."
    )
    randomized = table.columns[1:]
    if helpers.default_model_only(model, "SmoothGrad and IG fall below gradient x input"):
        for name in ("SmoothGrad", "Integrated Gradients"):
            assert (table.loc[name, randomized] < table.loc["Gradient x input", randomized]).all()
    return table


def exercise_3(model, image, cls, grad_cam_map, steps):
    """Deletion to a blurred image instead of black: the random map's curve."""
    kinds = ("deletion",)
    black = _random_mean(model, image, cls, kinds, steps, range(3))["deletion"]
    blur = _random_mean(
        model, image, cls, kinds, steps, range(3), substrates={"deletion": "blur"}
    )["deletion"]
    gc = {
        substrate: deletion_insertion_curves(
            model,
            image,
            cls,
            {"g": grad_cam_map},
            kinds,
            steps=steps,
            substrates={"deletion": substrate},
        )["g"]["deletion"].auc
        for substrate in ("black", "blur")
    }
    first = black.fractions[1]
    print(
        f"random map deletion AUC: to black {black.auc:.3f}, to blur {blur.auc:.3f}; "
        f"Grad-CAM: to black {gc['black']:.3f}, to blur {gc['blur']:.3f}"
    )
    print(
        f"p_c after the first step ({first:.0%} of the pixels, random order): "
        f"{black.probabilities[1]:.3f} to black, {blur.probabilities[1]:.3f} to blur "
        f"(photo: {black.probabilities[0]:.3f})"
    )
    print(
        "Blurred pixels scattered over the photo are far less alien than black specks: the "
        "random map's curve no longer collapses in the first step, so its AUC rises."
    )
    if helpers.default_model_only(model, "deleting to blur keeps the random curve up"):
        assert blur.auc > black.auc, (blur.auc, black.auc)
        assert blur.probabilities[1] > 2 * black.probabilities[1], (blur, black)
    return black.auc, blur.auc, gc


def exercise_4(model, image, cls, maps, curves, steps_before, steps=48):
    """Deletion and insertion with 48 points instead of 10 (two maps, to stay fast)."""
    chosen = {name: maps[name] for name in ("Gradient", "Grad-CAM")}
    kinds = ("deletion", "insertion")
    fine = deletion_insertion_curves(model, image, cls, chosen, kinds, steps=steps)
    rows = {
        name: {
            f"{kind} AUC, {s} steps": (
                curves[name][kind] if s == steps_before else fine[name][kind]
            ).auc
            for kind in kinds
            for s in (steps_before, steps)
        }
        for name in fine
    }
    table = pd.DataFrame(rows).T
    for kind in kinds:
        table[f"{kind} change"] = (
            table[f"{kind} AUC, {steps} steps"] - table[f"{kind} AUC, {steps_before} steps"]
        )
    print(table.round(3).to_string())
    moved = [(n, k) for n in table.index for k in kinds if abs(table.loc[n, f"{k} change"]) > 0.01]
    print("AUCs that moved by more than 0.01:", moved or "none")
    for kind in kinds:
        before = list(table[f"{kind} AUC, {steps_before} steps"].sort_values().index)
        after = list(table[f"{kind} AUC, {steps} steps"].sort_values().index)
        print(
            f"{kind}: ranking {'unchanged' if before == after else 'changed'} ({' < '.join(after)})"
        )
    return table


def exercise_5(model, image, top_class, grad_cam_map, steps, cls=281):
    """Deletion and insertion for a class the model doubts (tabby) against the top class."""
    p = helpers.top_k(model, image, k=1000)
    probability = {i: q for i, _, q in p}
    kinds = ("deletion", "insertion")
    rows, orders, random_top = {}, {}, None
    for c in (top_class, cls):
        maps = {"Grad-CAM": helpers.grad_cam(model, image, c) if c != top_class else grad_cam_map}
        orders[c] = maps["Grad-CAM"]
        gc = deletion_insertion_curves(model, image, c, maps, kinds, steps=steps)["Grad-CAM"]
        rnd = _random_mean(model, image, c, kinds, steps, range(3))
        random_top = rnd["insertion"] if c == top_class else random_top
        rows[f"{c} {helpers.class_name(c)}"] = {
            "p_c(photo)": probability[c],
            "p_c(blurred)": gc["insertion"].probabilities[0],
            "Grad-CAM deletion": gc["deletion"].auc,
            "random deletion": rnd["deletion"].auc,
            "Grad-CAM insertion": gc["insertion"].auc,
            "random insertion": rnd["insertion"].auc,
        }
    table = pd.DataFrame(rows).T
    table["insertion: Grad-CAM - random"] = table["Grad-CAM insertion"] - table["random insertion"]
    print(table.round(3).to_string())
    # The rival: the top class's probability while the tabby's Grad-CAM order puts pixels back
    rival = deletion_insertion_curves(
        model, image, top_class, {"tabby order": orders[cls]}, ("insertion",), steps=steps
    )["tabby order"]["insertion"].auc
    top, doubted = table.iloc[0], table.iloc[1]
    top_name = helpers.class_name(top_class)
    print(
        f"Both AUCs are areas under p_c, which starts at p_c(photo) for deletion: for the "
        f"tabby ({doubted['p_c(photo)']:.2f}) every curve is squeezed near 0. Worse, the "
        f"ranking turns round on insertion: Grad-CAM minus random is "
        f"{top['insertion: Grad-CAM - random']:+.3f} for the top class but "
        f"{doubted['insertion: Grad-CAM - random']:+.3f} for the tabby. A class the model "
        "doubts competes with the one it believes: the blurred photo gives the tabby "
        f"{doubted['p_c(blurred)']:.2f}, more than the sharp photo, and the pixels the "
        f"tabby's Grad-CAM puts back first raise p({top_name}) faster than random pixels do "
        f"(its insertion AUC {rival:.3f} in the tabby's Grad-CAM order, "
        f"{random_top.auc:.3f} in random order), taking probability from the tabby. Such AUCs "
        "measure the competition between classes, not the map: explain a class the model "
        "believes, or read them with care."
    )
    claim = "for the tabby the AUCs are squeezed and Grad-CAM loses insertion to random"
    if cls != top_class and helpers.default_model_only(model, claim):
        assert doubted["p_c(photo)"] < 0.1 < top["p_c(photo)"], table
        assert top["insertion: Grad-CAM - random"] > 0.2, table
        assert doubted["insertion: Grad-CAM - random"] < 0, table
        assert doubted["p_c(blurred)"] > doubted["p_c(photo)"], table
        assert rival > random_top.auc, (rival, random_top.auc)
    return table


def exercise_6(model, image, stages, seeds=(0, 1, 2), cls=281):
    """The paper's four maps in the cascade for the workshop's class 281 (tabby)."""
    import warnings

    methods = helpers.guided_comparison_methods()  # max |.| over the channels
    runs = [
        cascading_randomization(
            model, image, cls, methods, stages=stages, seed=s, in_place=True, progress=False
        )
        for s in seeds
    ]
    values = {name: np.array([run.similarity(name) for run in runs]) for name in methods}
    with warnings.catch_warnings():  # a flat Grad-CAM gives NaN for one seed: skip it
        warnings.simplefilter("ignore", RuntimeWarning)
        means = {name: np.nanmean(v, axis=0) for name, v in values.items()}
    table = pd.DataFrame(means, index=list(runs[0].stages)).T
    print(
        f"Spearman of |map|, class {cls} ({helpers.class_name(cls)}), mean of {len(seeds)} seeds:"
    )
    print(table.round(2).to_string())
    print("Guided Backprop passes unchanged again; Guided Grad-CAM follows Grad-CAM down.")
    if helpers.default_model_only(
        model, "on class 281 Guided Backprop stays, Guided Grad-CAM falls"
    ):
        assert values["guided backprop"][:, 1:].min() > 0.8, values["guided backprop"]
        assert np.all(means["guided Grad-CAM"][1:] < means["guided backprop"][1:] - 0.3), table
    return table
