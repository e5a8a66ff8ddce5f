"""Solutions for notebook 11 (the assignment): the worked example, the hands-on cell and the
exercises.

The worked example explains *military uniform* in the bundled Grace Hopper photo with the
course's model, EfficientNet-Lite0. Its answers describe the maps of that run and quote the
numbers of the table the notebook just computed; :func:`check_worked_example` asserts the
facts they rely on, so a change of model or method that makes them false fails loudly.
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


def worked_example_answers(table, random_map) -> dict[str, dict[str, str]]:
    """The instructor's answers for the worked example, with the run's numbers quoted.

    ``table``: the comparison table indexed by method; ``random_map``: the random map's
    scores (``report.manifest["random_map"]``).
    """
    s = {m: _scores(table, random_map, m) for m in table.index}
    ig = table.loc["integrated_gradients"] if "integrated_gradients" in table.index else None
    answers = {
        "grad_cam": {
            "what_it_highlights": "A broad, smooth blob over the lower middle of the photo, "
            "strongest on the white collar, the tie and the jacket just below the chin, fading "
            "over the face; weak on the flag and the blue background.",
            "on_the_object": "Mostly: its peak is on the collar and the front of the uniform, "
            "but the coarse blob also covers her chin and part of the face.",
            "noise_level": "Low: smooth, no speckle (a 7 x 7 map upsampled).",
            "would_you_trust_it": "Partly. It points at the right region but is too coarse to "
            f"say which part of the uniform matters. {s['grad_cam']}: it wins insertion by far "
            "but not deletion (notebook 09: scattered black pixels make the random map look "
            "good at deleting).",
        },
        "vanilla_gradients": {
            "what_it_highlights": "Scattered bright dots over the whole dark jacket, densest "
            "low on the jacket and around the ribbons; fewer on the face and the background.",
            "on_the_object": "Mostly on the uniform, but as dots rather than a region.",
            "noise_level": "High: salt-and-pepper speckle all over the jacket.",
            "would_you_trust_it": "No. It shows where the logit is most sensitive to tiny "
            f"changes, not what the decision rests on; {s['vanilla_gradients']}: worse than "
            "random on deletion.",
        },
        "smoothgrad": {
            "what_it_highlights": "Dots that gather on the face and glasses, the cap's badge, "
            "the white collar, the name tag and the ribbons; the black cloth stays mostly dark.",
            "on_the_object": "Partly: cap, collar, name tag and ribbons are the uniform, but "
            "the face gets as much as they do.",
            "noise_level": "Medium: averaging the noisy gradients removed the speckle on the "
            "jacket, but the map is still dotted rather than smooth.",
            "would_you_trust_it": f"Partly: {s['smoothgrad']}, the best insertion of the "
            "table, but it does not separate the uniform from the person wearing it.",
        },
        "integrated_gradients": {
            "what_it_highlights": "The bright details: face, glasses, white collar and tie, "
            "name tag, ribbons, cap badge. The black jacket gets almost nothing.",
            "on_the_object": "Partly: collar, tie and insignia belong to the uniform, but it "
            "ignores the dark cloth and gives much to the face.",
            "noise_level": "High: pixel-scale specks (shown as magnitude; signed, positive and "
            "negative pixels alternate).",
            "would_you_trust_it": "Partly: its numbers add up (completeness gap "
            f"{ig['ig_completeness_gap']:.1%}), but with a black baseline a black uniform "
            f"cannot get credit however much the model uses it; {s['integrated_gradients']}.",
        }
        if ig is not None
        else {},
        "gradient_x_input": {
            "what_it_highlights": "Almost the same picture as Integrated Gradients: collar, "
            "name tag, ribbons and face; nearly nothing on the black jacket.",
            "on_the_object": "Partly: the bright details of the uniform yes, its dark cloth no.",
            "noise_level": "High: pixel-scale specks.",
            "would_you_trust_it": "No: multiplying by the pixel values makes it follow "
            "brightness, so the dark uniform is nearly invisible to it whatever the model does "
            f"({s['gradient_x_input']}).",
        },
        "occlusion": {
            "what_it_highlights": "Hiding the chin, the collar and the tie lowers the score "
            "most, then the lower jacket and the ribbons; patches over the face, the cap and "
            "the background barely matter.",
            "on_the_object": "Yes: the largest drops are on the collar, tie and jacket (the "
            "chin shares a patch with the collar).",
            "noise_level": "Low: blocky (32-pixel patches, stride 16) but clean.",
            "would_you_trust_it": f"The most of the table: it measures directly what hiding a "
            f"region does to the score; {s['occlusion']}. But it is coarse, and grey patches "
            "are unusual inputs themselves.",
        },
        "guided_backprop": {
            "what_it_highlights": "A crisp picture of the photo's edges: the outline of the "
            "face, glasses and cap, the medals, but also the flag's stars and the background.",
            "on_the_object": "Not specifically: it draws the whole photo's edges, uniform or not.",
            "noise_level": "Medium: fine-grained texture everywhere, no speckle.",
            "would_you_trust_it": "No, although it looks the sharpest: notebook 09 showed its "
            "map barely changes when the model's top layers are replaced by random weights, so "
            f"it shows the image, not the model; {s['guided_backprop']}.",
        },
    }
    return {m: a for m, a in answers.items() if m in table.index and a}


def check_worked_example(model, table, random_map, results, image) -> None:
    """Assert the facts the worked example's answers rely on, measured on this run (they
    describe EfficientNet-Lite0's maps: skipped, with a note, on another model)."""
    if not helpers.default_model_only(model, "the worked example's answers describe Lite0's maps"):
        return
    t, r = table, random_map
    assert t.loc["occlusion", "deletion_auc"] < r["deletion_auc"]
    assert t.loc["occlusion", "insertion_auc"] > r["insertion_auc"]
    assert t.loc["vanilla_gradients", "deletion_auc"] > r["deletion_auc"]  # worse than random
    assert t.loc["grad_cam", "insertion_auc"] > 2 * r["insertion_auc"]
    assert t.loc["grad_cam", "deletion_auc"] > 0.9 * r["deletion_auc"]  # no better than random
    assert t.loc["smoothgrad", "insertion_auc"] == t["insertion_auc"].max()  # the best insertion
    assert t.loc["guided_backprop", "deletion_auc"] > r["deletion_auc"]
    assert t.loc["integrated_gradients", "ig_completeness_gap"] <= 0.05  # steps="auto"
    brightness = image.mean(axis=-1)
    for method in ("integrated_gradients", "gradient_x_input"):  # both follow brightness
        values = np.abs(results[method].display_map)
        assert values[brightness < 40].mean() < 0.5 * values[brightness > 150].mean(), method
    print("the worked example's claims hold on this run")


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
        f"Nearly the same map for both classes: {', '.join(same) or 'none'}; moved: "
        f"{', '.join(moved) or 'none'}. A map that barely moves between two classes explains "
        "the image (or what the two classes share, here the person's upper body), not the "
        "class."
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
    print(
        f"Largest drop in the logit: {coarse.max():.2f} with 32-pixel patches, {fine.max():.2f} "
        "with 16: a smaller patch hides less of the evidence at once, so its map is finer but "
        "its drops are smaller and noisier. The cost grows with the number of positions: "
        "halving the stride quadruples it."
    )
    assert passes[(16, 8)] > 3 * passes[(16, 16)]
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
