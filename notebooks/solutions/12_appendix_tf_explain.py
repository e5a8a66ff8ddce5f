"""Solutions for notebook 12 (appendix: the workshop's tf-explain code)."""

from __future__ import annotations

import numpy as np

import helpers


def hands_on_display_step(attributions: np.ndarray) -> np.ndarray:
    """tf-explain's display step: |attributions| summed over channels, standardised per image
    with the standard deviation floored at 1/sqrt(N), as tf.image.per_image_standardization."""
    gray = np.abs(attributions).sum(axis=-1).astype(np.float64)
    return (gray - gray.mean()) / max(gray.std(), 1.0 / np.sqrt(gray.size))


def exercise_1(model, image: np.ndarray, class_index: int) -> None:
    """A worked answer for Integrated Gradients: tf-explain's result does not add up to the
    change in the score, so a student could not have checked completeness with it."""
    from tf_explain.core.integrated_gradients import IntegratedGradients

    path = IntegratedGradients.generate_interpolations(np.array([image]), 10)
    averaged = IntegratedGradients.get_integrated_gradients(path, model, class_index, 10)
    averaged = np.asarray(averaged)[0]
    p_image = helpers.class_probability(model, image, class_index)
    p_black = helpers.class_probability(model, np.zeros_like(image), class_index)
    target = p_image - p_black
    theirs = float(averaged.sum())
    ours = helpers.integrated_gradients(model, image, class_index)
    print(
        f"tf-explain's IntegratedGradients: its numbers sum to {theirs:.3g}, while the "
        f"probability it differentiates changes by {target:.3g} from the black image to the cat "
        f"(a gap of {abs(theirs - target) / abs(target):.0%}). A workshop student would have "
        "read its picture as an attribution map whose pixels add up to the prediction; it is "
        "an average gradient (no factor x - x'), so completeness never held. The course's "
        f"version closes the gap to {ours.completeness.relative_gap:.1%} "
        f"({ours.completeness.steps} steps)."
    )
    if helpers.default_model_only(model, "tf-explain's IG misses f(x) - f(x') by over half"):
        assert abs(theirs - target) > 0.5 * abs(target) > 0
        assert ours.completeness.relative_gap <= 0.05
