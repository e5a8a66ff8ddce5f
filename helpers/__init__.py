"""helpers: the small library behind the saliency-maps course.

Everything public is importable from here (``import helpers; helpers.load_model()``).
Names are loaded on first use, so ``import helpers`` is instant and the command-line
tools that need no TensorFlow (``python -m helpers.check_submission``) start fast.
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    # models and layers
    "load_model": "models.loading",
    "choose_model": "models.loading",
    "MODEL_NAMES": "models.loading",
    "ModelUnavailableError": "models.loading",
    "default_model_only": "models.loading",
    "vgg16_weights_available": "models.loading",
    "is_default_model": "models.loading",
    "conv_layer_names": "models.layers",
    "last_conv_layer": "models.layers",
    "grad_cam_layer": "models.layers",
    "find_layer": "models.layers",
    "LayerNotFoundError": "models.layers",
    "NoConvLayerError": "models.layers",
    "preprocess_pixels": "models.preprocessing",
    # images and labels
    "load_image": "data.images",
    "sample_image": "data.images",
    "SAMPLE_IMAGES": "data.images",
    "ImageLoadError": "data.images",
    "class_name": "data.labels",
    "class_names": "data.labels",
    "find_class": "data.labels",
    "resolve_class": "data.labels",
    "ClassIndexError": "data.labels",
    # scores
    "top_k": "models.scores",
    "predict_logits": "models.scores",
    "ImageValueError": "models.scores",
    "softmax": "models.scores",
    "logits_model": "models.scores",
    "class_probability": "models.scores",
    # attribution methods
    "vanilla_gradients": "methods.gradients",
    "gradient_x_input": "methods.gradients",
    "smoothgrad": "methods.smoothgrad",
    "PAPER_NOISE": "methods.smoothgrad",
    "PAPER_SAMPLES": "methods.smoothgrad",
    "smoothgrad_squared": "methods.vargrad",
    "vargrad": "methods.vargrad",
    "guided_backprop": "methods.guided",
    "guided_grad_cam": "methods.guided",
    "guided_model": "methods.guided",
    "integrated_gradients": "methods.integrated_gradients",
    "reduce_channels": "methods.maps",
    "cosine_similarity": "methods.maps",
    "Completeness": "methods.integrated_gradients",
    "grad_cam": "methods.cam",
    "grad_cam_parts": "methods.cam",
    "class_activation_map": "methods.cam",
    "grad_cam_weights": "methods.cam",
    "METHODS": "methods.registry",
    "Method": "methods.registry",
    "register_method": "methods.registry",
    "occlusion": "methods.occlusion",
    "occlusion_patch_count": "methods.occlusion",
    "activations": "methods.activations",
    "strongest_channels": "methods.activations",
    "auto_batch_size": "methods.batching",
    # the CAM family (notebook 07)
    "cam_method": "methods.cam",
    "cam_parts": "methods.cam",
    "hires_cam": "methods.cam_variants",
    "hires_cam_weights": "methods.cam_variants",
    "layer_cam": "methods.cam_variants",
    "layer_cam_weights": "methods.cam_variants",
    "xgrad_cam": "methods.cam_variants",
    "xgrad_cam_weights": "methods.cam_variants",
    "grad_cam_plus_plus": "methods.cam_variants",
    "grad_cam_plus_plus_weights": "methods.cam_variants",
    "GRAD_CAM_PLUS_PLUS_VARIANTS": "methods.cam_variants",
    "score_cam": "methods.score_cam",
    "score_cam_masks": "methods.score_cam",
    "score_cam_channels": "methods.score_cam",
    "eigen_cam": "methods.eigen_cam",
    "eigen_cam_weights": "methods.eigen_cam",
    # evaluating maps
    "deletion_curve": "evaluation.deletion_insertion",
    "insertion_curve": "evaluation.deletion_insertion",
    "deletion_insertion_curves": "evaluation.deletion_insertion",
    "deletion_insertion_auc": "evaluation.deletion_insertion",
    "completeness_gap": "evaluation.deletion_insertion",
    "random_saliency": "evaluation.deletion_insertion",
    "Curve": "evaluation.deletion_insertion",
    "cascading_randomization": "evaluation.randomization",
    "layer_groups": "evaluation.randomization",
    "randomized_model": "evaluation.randomization",
    "map_similarity": "evaluation.randomization",
    "edge_map": "evaluation.randomization",
    "randomization_table": "evaluation.randomization_table",
    "guided_comparison_methods": "evaluation.randomization_table",
    "speckle": "evaluation.smoothness",
    "seed_stability": "evaluation.smoothness",
    # ground truth, more metrics and the Vision Transformer (notebook 10)
    "make_synthetic": "data.synthetic",
    "small_cnn": "models.small",
    "tiny_vit": "models.small",
    "attention_rollout": "methods.attention",
    "gradient_rollout": "methods.attention",
    "token_grad_cam": "methods.attention",
    "rollout": "methods.attention",
    "pointing_game": "evaluation.localisation",
    "pointing_game_chance": "evaluation.localisation",
    "relevance_mass_accuracy": "evaluation.localisation",
    "relevance_rank_accuracy": "evaluation.localisation",
    "localisation_scores": "evaluation.localisation",
    "noisy_linear_impute": "evaluation.road",
    "road_scores": "evaluation.road",
    "sparseness": "evaluation.complexity",
    "map_entropy": "evaluation.complexity",
    "random_logit": "evaluation.model_sensitivity",
    "efficient_mprt": "evaluation.model_sensitivity",
    "kendall_matrix": "evaluation.agreement",
    "explorer": "viz.explorer",
    "answer_form": "viz.answer_form",
    # the assignment
    "make_report": "assignment.submission",
    "run_methods": "assignment.run",
    "fill_answers": "assignment.table",
    "read_table": "assignment.table",
    "choose_image": "assignment.choices",
    "prediction_check": "assignment.choices",
    "inspect_submission": "assignment.checker",
    # visualisation
    "normalize": "viz.plots",
    "colorize": "viz.plots",
    "overlay": "viz.plots",
    "show_map": "viz.plots",
    "plot_maps": "viz.plots",
    "save_map_png": "viz.plots",
    "grayscale": "viz.attribution",
    "attribution_map": "viz.attribution",
    "attribution_overlay": "viz.attribution",
    "show_attribution": "viz.attribution",
    # tf-explain on Keras 3
    "enable_tf_explain_compat": "compat.tf_explain",
    "disable_tf_explain_compat": "compat.tf_explain",
    # environment
    "environment_report": "environment",
    "find_project_root": "environment",
    "in_colab": "environment",
    "fast_or": "environment",
    "solution_mode": "exercises",
    "check_answer": "exercises",
    "check_answers": "exercises",
    "answered": "exercises",
    "Answer": "exercises",
    "Mistake": "exercises",
    "load_solutions": "exercises",
    "install_missing_requirements": "install",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
