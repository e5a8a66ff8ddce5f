"""helpers: the small library behind the saliency-maps course.

Everything public is importable from here (``import helpers; helpers.load_model()``).
Names are loaded on first use, so ``import helpers`` is instant and the command-line
tools that need no TensorFlow (``python -m helpers.check_submission``) start fast.
"""

from __future__ import annotations

import importlib

_EXPORTS: dict[str, str] = {
    # models and layers
    "load_model": "models",
    "choose_model": "models",
    "MODEL_NAMES": "models",
    "ModelUnavailableError": "models",
    "default_model_only": "models",
    "vgg16_weights_available": "models",
    "is_default_model": "models",
    "conv_layer_names": "layers",
    "last_conv_layer": "layers",
    "grad_cam_layer": "layers",
    "find_layer": "layers",
    "LayerNotFoundError": "layers",
    "NoConvLayerError": "layers",
    "preprocess_pixels": "preprocessing",
    # images and labels
    "load_image": "images",
    "sample_image": "images",
    "SAMPLE_IMAGES": "images",
    "ImageLoadError": "images",
    "class_name": "labels",
    "class_names": "labels",
    "find_class": "labels",
    "resolve_class": "labels",
    "ClassIndexError": "labels",
    # scores
    "top_k": "scores",
    "predict_logits": "scores",
    "softmax": "scores",
    "logits_model": "scores",
    "class_probability": "scores",
    # attribution methods
    "vanilla_gradients": "attribution",
    "gradient_x_input": "attribution",
    "smoothgrad": "attribution",
    "integrated_gradients": "attribution",
    "reduce_channels": "maps",
    "Completeness": "attribution",
    "grad_cam": "gradcam",
    "grad_cam_parts": "gradcam",
    "occlusion": "occlusion_sensitivity",
    "occlusion_patch_count": "occlusion_sensitivity",
    "activations": "feature_maps",
    "strongest_channels": "feature_maps",
    "auto_batch_size": "batching",
    # evaluating maps
    "deletion_curve": "metrics",
    "insertion_curve": "metrics",
    "deletion_insertion_curves": "metrics",
    "deletion_insertion_auc": "metrics",
    "completeness_gap": "metrics",
    "random_saliency": "metrics",
    "Curve": "metrics",
    "cascading_randomization": "sanity",
    "layer_groups": "sanity",
    "randomized_model": "sanity",
    "map_similarity": "sanity",
    "edge_map": "sanity",
    "explorer": "saliency_explorer",
    # the assignment
    "make_report": "report",
    "run_methods": "report",
    "fill_answers": "report",
    "read_table": "report",
    "choose_image": "report",
    "prediction_check": "report",
    "inspect_submission": "check_submission",
    # visualisation
    "normalize": "viz",
    "colorize": "viz",
    "overlay": "viz",
    "show_map": "viz",
    "plot_maps": "viz",
    "save_map_png": "viz",
    # tf-explain on Keras 3
    "enable_tf_explain_compat": "tf_explain_compat",
    "disable_tf_explain_compat": "tf_explain_compat",
    # environment
    "environment_report": "environment",
    "find_project_root": "environment",
    "in_colab": "environment",
    "fast_or": "environment",
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
