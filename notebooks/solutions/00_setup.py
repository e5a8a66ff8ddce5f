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


def _tf_explain_cams(model, img, classes, layer):
    """tf-explain's Grad-CAM maps before its overlay (guided gradients of ``model``'s output),
    at the layer's resolution, one per class."""
    from tf_explain.core.grad_cam import GradCAM

    cams = []
    for c in classes:
        outputs, grads = GradCAM.get_gradients_and_filters(model, img[None], layer, c, True)
        cams.append(GradCAM.generate_ponderated_output(outputs, grads)[0].numpy())
    return cams


def _correlation(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def exercise_2(model, img):
    """tf-explain's Grad-CAM for 281 (tabby) and 285 (Egyptian cat), against the course's
    Grad-CAM, and what makes tf-explain's two pictures differ more."""
    import matplotlib.pyplot as plt
    from tf_explain.core.grad_cam import GradCAM

    classes = (281, 285)
    batch = (np.array([img]), None)
    grids = {c: GradCAM().explain(batch, model, class_index=c) for c in classes}
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, (c, grid) in zip(axes, grids.items(), strict=True):
        ax.imshow(grid)
        ax.set_title(f"tf-explain, class {c} ({helpers.class_name(c)})")
        ax.axis("off")
    plt.show()
    layer = GradCAM.infer_grad_cam_target_layer(model)
    r_tf_explain = _correlation(*_tf_explain_cams(model, img, classes, layer))
    r_logits = _correlation(*_tf_explain_cams(helpers.logits_model(model), img, classes, layer))
    ours = [helpers.grad_cam(model, img, c) for c in classes]
    r_ours = _correlation(*ours)
    p = [helpers.class_probability(model, img, c) for c in classes]
    print(
        f"Correlation of the two classes' maps: tf-explain {r_tf_explain:.2f}; tf-explain on "
        f"the logits instead of the softmax output {r_logits:.2f}; the course's Grad-CAM "
        f"(helpers.grad_cam) {r_ours:.2f}."
    )
    print(
        "tf-explain differentiates the model's output, the probability. The gradient of p_c "
        "subtracts the probability-weighted average of every class's gradient (notebook 02, "
        f"section 3); with p(285) = {p[1]:.2f} and p(281) = {p[0]:.2f} that average is "
        "dominated by Egyptian cat, so the two probability maps differ more than the logit "
        + (
            "maps do: on the logits tf-explain's two maps agree more. "
            if r_logits > r_tf_explain
            else "maps would; here the logits do not make them agree more. "
        )
        + (
            "The course's Grad-CAM barely moves: the channels that say 'tabby' (fur, stripes, "
            "the face) also say 'Egyptian cat'. A class-discriminative map needs classes that "
            "use different features."
            if r_ours > 0.9
            else "The course's Grad-CAM maps differ too on this model."
        )
    )
    if helpers.default_model_only(
        model, "the course's Grad-CAM barely moves; the probability makes tf-explain's move"
    ):
        assert r_ours > 0.9 and r_logits > r_tf_explain, (r_ours, r_logits, r_tf_explain)
    return r_ours, r_tf_explain


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
