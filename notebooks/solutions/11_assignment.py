"""Solutions for notebook 11 (the assignment): the worked example, the hands-on cell and the
exercises.

The worked example explains *military uniform* in the bundled Grace Hopper photo with the
course's model, EfficientNet-Lite0. Its answers describe the maps of that run with numbers
measured on them (:func:`map_profile`: where each map is dense, how speckled, its grid
texture) and quote the table the notebook just computed; :func:`check_worked_example`
prints those measurements and asserts the fixed words the answers use, so a change of model
or method that makes them false fails loudly.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import helpers


def worked_example_class() -> str:
    """The class of the worked example."""
    return "military uniform"


def worked_example_image() -> str:
    """The bundled photo of the worked example."""
    return "grace_hopper"


def hands_on_beats_random(table, random_map):
    """One bool per method: lower deletion AND higher insertion AUC than the random map."""
    better_deletion = table["deletion_auc"] < random_map["deletion_auc"]
    better_insertion = table["insertion_auc"] > random_map["insertion_auc"]
    return (better_deletion & better_insertion).to_numpy()


def _scores(table, random_map, method):
    row = table.loc[method]
    return (
        f"deletion AUC {row['deletion_auc']:.3f} and insertion AUC {row['insertion_auc']:.3f} "
        f"against the random map's {random_map['deletion_auc']:.3f} and "
        f"{random_map['insertion_auc']:.3f}"
    )


def _verdict(table, random_map, method) -> str:
    from helpers.assignment.run import against_random

    row = table.loc[method]
    return against_random(row["deletion_auc"], row["insertion_auc"], random_map)


#: Regions of the Grace Hopper photo at 224 x 224, drawn by hand on the photo:
#: (first row, last row, first column, last column), end excluded.
REGIONS = {
    "the cap": (5, 60, 72, 165),
    "the face": (60, 128, 70, 160),
    "the collar and tie": (128, 190, 85, 140),
    "the jacket": (140, 224, 0, 224),  # minus the collar and tie
    "the flag": (0, 140, 0, 70),
    "the blue background": (0, 140, 165, 224),
}
UNIFORM = ("the cap", "the collar and tie", "the jacket")


def region_masks(shape) -> dict[str, np.ndarray]:
    """Boolean masks of :data:`REGIONS` (scaled to ``shape``)."""
    masks = {}
    for name, (r0, r1, c0, c1) in REGIONS.items():
        mask = np.zeros(shape, bool)
        rows = slice(round(r0 * shape[0] / 224), round(r1 * shape[0] / 224))
        mask[rows, round(c0 * shape[1] / 224) : round(c1 * shape[1] / 224)] = True
        masks[name] = mask
    masks["the jacket"] &= ~masks["the collar and tie"]
    return masks


def map_profile(results, image) -> pd.DataFrame:
    """What each map looks like, measured: its density on each region (mean of |map| there
    over its mean everywhere; occlusion: the drop, negatives as 0), its share on the uniform,
    its speckle (share of variance a 2-pixel blur removes), its grid texture (mean of the
    pixels in even rows and columns over the odd ones) and dark / bright (mean on pixels
    darker than 40 over pixels brighter than 150)."""
    from helpers.evaluation.smoothness import speckle

    masks = region_masks(image.shape[:2])
    brightness = image.mean(axis=-1)
    rows = {}
    for method, result in results.items():
        values = np.asarray(result.display_map, np.float64)
        values = np.maximum(values, 0) if method == "occlusion" else np.abs(values)
        mean = values.mean()
        row = {name: values[mask].mean() / mean for name, mask in masks.items()}
        uniform = np.logical_or.reduce([masks[n] for n in UNIFORM])
        row["uniform share"] = values[uniform].sum() / values.sum()
        row["speckle"] = speckle(values)
        row["grid"] = values[0::2, 0::2].mean() / values[1::2, 1::2].mean()
        row["dark / bright"] = values[brightness < 40].mean() / values[brightness > 150].mean()
        rows[method] = row
    return pd.DataFrame(rows).T


def _where(profile, method, top: int = 2) -> str:
    row = profile.loc[method, list(REGIONS)].sort_values(ascending=False)
    best = [f"{name} ({row[name]:.1f})" for name in row.index[:top]]
    best[0] = best[0].replace(")", " times its average)")
    return f"densest on {' and '.join(best)}, weakest on {row.index[-1]} ({row.iloc[-1]:.1f})"


def _noise(profile, method) -> str:
    value = profile.loc[method, "speckle"]
    word = "Low" if value < 0.1 else "Medium" if value < 0.35 else "High"
    return f"{word}: a 2-pixel blur removes {value:.0%} of its variance"


def _on_object(profile, method, area) -> str:
    share, face = profile.loc[method, "uniform share"], profile.loc[method, "the face"]
    ratio = share / area
    word = "Yes" if ratio > 1.25 else "Partly" if ratio > 1.05 else "No more than chance"
    return (
        f"{word}: {share:.0%} of the map lies on the uniform (cap, collar, tie, jacket), "
        f"which covers {area:.0%} of the photo; the face gets {face:.1f} times the map's average"
    )


def worked_example_answers(table, random_map, results, image) -> dict[str, dict[str, str]]:
    """The instructor's answers for the worked example: every description is computed from
    the run's maps (:func:`map_profile`) and every number quoted from its table.

    ``table``: the comparison table's method rows, indexed by method; ``random_map``: the
    random map's scores; ``results``: ``report.results``; ``image``: the photo.
    """
    profile = map_profile(results, image)
    masks = region_masks(image.shape[:2])
    area = np.logical_or.reduce([masks[n] for n in UNIFORM]).mean()
    s = {
        m: f"{_scores(table, random_map, m)}: {_verdict(table, random_map, m)}"
        for m in table.index
    }
    rank = table["insertion_auc"].rank(ascending=False).astype(int)
    n = len(table)
    answers = {}
    for m in profile.index:
        answers[m] = {
            "on_the_object": _on_object(profile, m, area),
            "noise_level": _noise(profile, m),
        }
    answers["grad_cam"] |= {
        "what_it_highlights": f"One broad, smooth blob (a 7 x 7 map upsampled), "
        f"{_where(profile, 'grad_cam')}.",
        "would_you_trust_it": "Partly. It points at the right region but is too coarse to say "
        f"which part of the uniform matters. {s['grad_cam']}.",
    }
    answers["vanilla_gradients"] |= {
        "what_it_highlights": "Scattered single-pixel dots, "
        f"{_where(profile, 'vanilla_gradients')}.",
        "would_you_trust_it": "No. It shows where the logit is most sensitive to tiny changes, "
        f"not what the decision rests on; {s['vanilla_gradients']}.",
    }
    if "smoothgrad" in profile.index:
        plain = profile.loc["vanilla_gradients", "speckle"]
        answers["smoothgrad"] |= {
            "what_it_highlights": f"Dots again, but {_where(profile, 'smoothgrad')}, where the "
            "plain gradient's were densest on "
            f"{profile.loc['vanilla_gradients', list(REGIONS)].idxmax()}.",
            "would_you_trust_it": f"Partly: {s['smoothgrad']}, insertion rank {rank['smoothgrad']} "
            f"of {n}; but its speckle ({profile.loc['smoothgrad', 'speckle']:.0%}, the plain "
            f"gradient's {plain:.0%}) says averaging did not smooth it at the pixel scale.",
        }
    for m, name in (("integrated_gradients", "Integrated Gradients"), ("gradient_x_input", "it")):
        if m not in profile.index:
            continue
        dark = profile.loc[m, "dark / bright"]
        gap = (
            f"its numbers add up (completeness gap {table.loc[m, 'ig_completeness_gap']:.1%}), but "
            if m == "integrated_gradients" else ""
        )
        answers[m] |= {
            "what_it_highlights": f"Bright details, {_where(profile, m)}; a dark pixel gets "
            f"{dark:.0%} of what a bright one gets.",
            "would_you_trust_it": f"Partly: {gap}multiplying by the pixel values "
            f"(x - black) makes {name} follow brightness, so the black uniform can hardly get "
            f"credit whatever the model uses; {s[m]}.",
        }
    if "occlusion" in profile.index:
        drop = results["occlusion"].display_map
        row, col = np.unravel_index(np.argmax(drop), drop.shape)
        at = next((n for n, mask in masks.items() if mask[row, col]), "the photo")
        answers["occlusion"] |= {
            "what_it_highlights": f"Hiding a patch of {at} (around row {row}, column {col}) "
            f"lowers the logit most, by {drop.max():.2f}; overall the drop is "
            f"{_where(profile, 'occlusion')}.",
            "would_you_trust_it": "The most direct test of the table: it measures what hiding a "
            f"region does to the score; {s['occlusion']}. But it is coarse (32-pixel patches), "
            "and grey patches are unusual inputs themselves.",
        }
    if "guided_backprop" in profile.index:
        grid = profile.loc["guided_backprop", "grid"]
        flag = profile.loc["guided_backprop", "the flag"]
        answers["guided_backprop"] |= {
            "what_it_highlights": "Fine speckle on a regular 2-pixel grid (pixels in even rows "
            f"and columns carry {grid:.1f} times what the odd ones do), "
            f"{_where(profile, 'guided_backprop')}. The flag's stars seen in the PNG are the "
            f"photo under the overlay: the map itself is weak there ({flag:.1f}).",
            "would_you_trust_it": "No, although it looks detailed: notebook 09 showed its map "
            "barely changes when the model's top layers are replaced by random weights, so it "
            f"shows the image more than the model; {s['guided_backprop']}.",
        }
    return {m: a for m, a in answers.items() if m in table.index and len(a) == 4}


def check_worked_example(model, table, random_map, results, image) -> None:
    """Print the measurements the worked example's answers quote, and assert the fixed
    words they use (they describe EfficientNet-Lite0's maps: skipped, with a note, on
    another model)."""
    profile = map_profile(results, image)
    print(profile.round(2).to_string())
    if not helpers.default_model_only(model, "the worked example's answers describe Lite0's maps"):
        return
    layer = helpers.grad_cam_layer(model)
    assert tuple(model.get_layer(layer).output.shape[1:3]) == (7, 7)  # "a 7 x 7 map upsampled"
    assert profile.loc["grad_cam", "speckle"] < 0.1  # "One broad, smooth blob"
    for method in ("integrated_gradients", "gradient_x_input"):  # "follow brightness"
        assert profile.loc[method, "dark / bright"] < 0.5, method
    assert profile.loc["guided_backprop", "grid"] > 1.5  # "a regular 2-pixel grid"
    assert profile.loc["guided_backprop", "the flag"] < 1  # "weak there"
    assert table.loc["integrated_gradients", "ig_completeness_gap"] <= 0.05  # "add up"
    print("the worked example's fixed words hold on this run")


def exercise_1(model, image, class_index, steps=(32, 64, 128)):
    """The completeness gap at fixed step counts, and what steps='auto' chose."""
    rows = {}
    for n in steps:
        result = helpers.integrated_gradients(model, image, class_index, steps=n)
        rows[f"{n} steps"] = {"gap": result.completeness.relative_gap, "map": result.attributions}
    auto = helpers.integrated_gradients(model, image, class_index)  # steps="auto", 5 %
    used = auto.completeness.steps
    rows[f"auto ({used} steps)"] = {"gap": auto.completeness.relative_gap, "map": auto.attributions}
    reference = rows[f"auto ({used} steps)"]["map"].sum(axis=-1).ravel()
    table = pd.DataFrame(
        {
            name: {
                "completeness gap": row["gap"],
                "correlation with the auto map": float(
                    np.corrcoef(row["map"].sum(axis=-1).ravel(), reference)[0, 1]
                ),
            }
            for name, row in rows.items()
        }
    ).T
    print(table.to_string(formatters={"completeness gap": "{:.1%}".format}))
    print(
        "The gap need not shrink monotonically with the steps (notebook 06 measured the same "
        "on the cat); "
        "steps='auto' keeps refining until it is below the tolerance. The maps themselves "
        "correlate highly: a large gap is a warning about the numbers more than the picture."
    )
    if auto.completeness.converged:
        assert auto.completeness.relative_gap <= 0.05 + 1e-9, auto.completeness
    return table


def exercise_2(model, image, class_index, top5, report):
    """Grad-CAM and occlusion for the second-best class next to those of the chosen class."""
    import matplotlib.pyplot as plt

    other = next(i for i, _, _ in top5 if i != class_index)
    maps = {
        "Grad-CAM": {c: helpers.grad_cam(model, image, c) for c in (class_index, other)},
        "occlusion": {
            class_index: report.results["occlusion"].display_map
            if "occlusion" in report.results
            else helpers.occlusion(model, image, class_index),
            other: helpers.occlusion(model, image, other),
        },
    }
    fig, axes = plt.subplots(2, 2, figsize=(8, 8))
    for row, (method, by_class) in enumerate(maps.items()):
        for col, (c, values) in enumerate(by_class.items()):
            helpers.show_map(
                axes[row, col],
                values,
                image=image,
                colorbar=False,
                title=f"{method}, {c} {helpers.class_name(c)}",
            )
    plt.show()
    similarity = {}
    for method, by_class in maps.items():
        a, b = by_class.values()
        similarity[method] = helpers.cosine_similarity(a, b)
        print(f"{method}: cosine similarity of the two classes' maps {similarity[method]:.2f}")
    same = [m for m, s in similarity.items() if s > 0.9]
    moved = [m for m, s in similarity.items() if s <= 0.9]
    print(
        f"Second class: {other} {helpers.class_name(other)}. Nearly the same map for both "
        f"classes: {', '.join(same) or 'none'}; moved: {', '.join(moved) or 'none'}. A map "
        "that barely moves between two classes explains the image (or what the two classes "
        "share), not the class."
    )
    return other


def exercise_3(model):
    """The rocket photo: what the model sees, and the maps for 'missile' and its own top-1."""
    import matplotlib.pyplot as plt

    rocket = helpers.load_image(helpers.sample_image("rocket"))
    missile = helpers.resolve_class("missile")
    ranking = helpers.top_k(model, rocket, k=1000)
    rank = next(k for k, (i, _, _) in enumerate(ranking, start=1) if i == missile)
    top1 = ranking[0][0]
    print("top-5:", ", ".join(f"{i} {name} {p:.2f}" for i, name, p in ranking[:5]))
    print(f"missile ({missile}) is ranked {rank} with p = {ranking[rank - 1][2]:.3f}")
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, c in zip(axes, (missile, top1), strict=True):
        helpers.show_map(
            ax,
            helpers.grad_cam(model, rocket, c),
            image=rocket,
            colorbar=False,
            title=f"Grad-CAM, {c} {helpers.class_name(c)}",
        )
    plt.show()
    print(
        "Read the top-5 before the maps: a map for a class the model barely believes "
        "explains a small score, and says little about what the model sees in the photo."
    )
    return rank


def exercise_4(model, image, class_index, report):
    """Occlusion with 16-pixel patches: the map, the time, and what stride 8 would cost."""
    import matplotlib.pyplot as plt

    from helpers.methods.occlusion import occlusion_patch_count

    start = time.perf_counter()
    fine = helpers.occlusion(model, image, class_index, patch=16, stride=16)
    seconds = time.perf_counter() - start
    shape = image.shape[:2]
    passes = {(p, s): occlusion_patch_count(shape, p, s) for p, s in ((32, 16), (16, 16), (16, 8))}
    per_pass = seconds / passes[(16, 16)]
    coarse = (
        report.results["occlusion"].display_map
        if "occlusion" in report.results
        else helpers.occlusion(model, image, class_index)
    )
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    helpers.show_map(axes[0], coarse, image=image, colorbar=False, title="patch 32, stride 16")
    helpers.show_map(axes[1], fine, image=image, colorbar=False, title="patch 16, stride 16")
    plt.show()
    for (p, s), n in passes.items():
        cost = f"{seconds:.2f} s measured" if (p, s) == (16, 16) else f"about {n * per_pass:.1f} s"
        print(f"patch {p}, stride {s}: {n} forward passes, {cost}")
    bigger = "smaller" if fine.max() < coarse.max() else "not smaller"
    print(
        f"Largest drop in the logit: {coarse.max():.2f} with 32-pixel patches, {fine.max():.2f} "
        f"with 16: a smaller patch hides less of the evidence at once, so its map is finer and "
        f"its largest drop {bigger}. The cost grows with the number of positions: halving "
        f"the stride multiplies it by {passes[(16, 8)] / passes[(16, 16)]:.1f}."
    )
    return passes


def exercise_5(model, image, class_index):
    """tf-explain's GradCAM in the workshop's style next to the course's Grad-CAM."""
    import matplotlib.pyplot as plt
    from tf_explain.core.grad_cam import GradCAM

    grid = GradCAM().explain((np.array([image]), None), model, class_index=class_index)
    ours = helpers.grad_cam(model, image, class_index)
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    axes[0].imshow(grid)
    axes[0].set_title(f"tf-explain GradCAM (layer {GradCAM.infer_grad_cam_target_layer(model)})")
    axes[0].axis("off")
    helpers.show_map(
        axes[1],
        ours,
        image=image,
        colorbar=False,
        title=f"helpers.grad_cam (layer {helpers.grad_cam_layer(model)})",
    )
    plt.show()
    print(
        "tf-explain uses guided gradients, no ReLU and a layer it picks itself (notebook 03 "
        "and the appendix measure each difference)."
    )
    return grid
