"""Solutions for notebook 00 (setup): the hands-on cell and the four exercises."""

from __future__ import annotations

import numpy as np

import helpers


def hands_on_tabby(model, image):
    """The workshop's class found by name, and its probability in the model's full ranking."""
    index = helpers.find_class("tabby cat")[0][0]  # [(281, 'tabby')]: the best match first
    ranking = helpers.top_k(model, image, k=1000)  # every class, so it is there on any model
    probability = next(p for i, _, p in ranking if i == index)
    return index, probability


def exercise_1(model):
    """The espresso photo's top-5: which class wins, and how sure the model is."""
    espresso = helpers.load_image(helpers.sample_image("espresso"))
    top5 = helpers.top_k(model, espresso)
    index, name, p = top5[0]
    print(f"top-1: {index} {name}, probability {p:.2f}; runner-up {top5[1][1]} {top5[1][2]:.2f}")
    if helpers.default_model_only(model, "the espresso photo is 967 espresso with p > 0.8"):
        assert index == 967 and p > 0.8, top5
        print("The model is sure: one class holds most of the probability.")
    return top5


def exercise_2(model, img):
    """tf-explain's Grad-CAM for 281 (tabby) and 285 (Egyptian cat), and how alike they are."""
    import matplotlib.pyplot as plt
    from tf_explain.core.grad_cam import GradCAM

    batch = (np.array([img]), None)
    grids = {c: GradCAM().explain(batch, model, class_index=c) for c in (281, 285)}
    ours = {c: helpers.grad_cam(model, img, c) for c in (281, 285)}  # the raw maps behind them
    similarity = helpers.cosine_similarity(ours[281], ours[285])
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, (c, grid) in zip(axes, grids.items(), strict=True):
        ax.imshow(grid)
        ax.set_title(f"class {c} ({helpers.class_name(c)})")
        ax.axis("off")
    plt.show()
    print(
        f"cosine similarity of the two Grad-CAM maps (helpers.grad_cam): {similarity:.3f}. "
        "Both classes are cats: the last convolutional layer's channels that say 'tabby' "
        "(fur, stripes, the face) also say 'Egyptian cat', so the channel weights, and the "
        "map, barely move. A class-discriminative map needs classes that use different features."
    )
    if helpers.default_model_only(model, "the two cat classes' Grad-CAM maps are nearly identical"):
        assert similarity > 0.9, similarity
    return similarity


def exercise_3(model, img):
    """Granny Smith's index, and the error tf-explain gives for class_index=1000."""
    from tf_explain.core.grad_cam import GradCAM

    index = helpers.find_class("Granny Smith")[0][0]
    print(f"Granny Smith is class {index} ({helpers.class_name(index)})")
    assert index == 948
    try:
        GradCAM().explain((np.array([img]), None), model, class_index=1000)
    except ValueError as error:  # helpers' check, switched on by load_model: a clear message
        print(f"class_index=1000: {type(error).__name__}: {error}")
        return index, str(error)
    raise AssertionError("class_index=1000 should have been refused")


def exercise_4(full):
    """Where VGG16's top holds its parameters: fc1 dominates (7 x 7 x 512 inputs x 4096 units)."""
    import pandas as pd

    top = {name: full.get_layer(name).count_params() for name in ("fc1", "fc2", "predictions")}
    assert top["fc1"] == 7 * 7 * 512 * 4096 + 4096  # weights + biases
    assert top["fc2"] == 4096 * 4096 + 4096 and top["predictions"] == 4096 * 1000 + 1000
    total = sum(top.values())
    share = {name: count / full.count_params() for name, count in top.items()}
    table = pd.DataFrame({"parameters": top, "share of VGG16": share})
    formats = {"parameters": "{:,}".format, "share of VGG16": "{:.1%}".format}
    print(table.to_string(formatters=formats))
    print(
        f"the top: {total:,} parameters, {total / full.count_params():.0%} of VGG16; "
        f"fc1 alone holds {top['fc1'] / total:.0%} of them"
    )
    return top
