"""The CAM family's registry entries (issue 18, notebook 07): imported by the registry.

HiResCAM, Grad-CAM++, LayerCAM and XGrad-CAM cost one (partial) backward pass like
Grad-CAM; Eigen-CAM one forward pass to the layer; Score-CAM one forward pass per scored
channel. All are opt-in (``by_default=False``): ``--methods all`` or by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import NONE_WORDS, Control, Method, Passes, register

NONE_WORDS["max_channels"] = "all"


def _score_cam_passes(s: Mapping[str, Any], hw: tuple[int, int], model=None) -> Passes:
    """One forward pass per scored channel, plus one to the layer. With
    ``max_channels=None`` the count is the layer's channels, known from the model (without
    it: infinite, i.e. "many")."""
    if model is None:
        return Passes(forward=1 + (s["max_channels"] or float("inf")))
    from .score_cam import score_cam_channels  # needs TensorFlow: only called with a model

    return Passes(forward=1 + score_cam_channels(model, s["layer"], s["max_channels"]))


_LAYER_CONTROL = (Control("layer", "Layer", kind="layer"),)
_ONE_GRADIENT = {"passes": lambda s, hw: Passes(backward=1), "controls": _LAYER_CONTROL}

for _method in (
    Method(
        name="hires_cam", aliases=("hirescam",), title="HiResCAM",
        function="helpers.methods.cam_variants:hires_cam",
        paper="Draelos & Carin (2020), Use HiResCAM instead of Grad-CAM for faithful "
        "explanations of convolutional neural networks",
        defaults={"layer": None},
        map_text="already 2-D: ReLU of sum_k gradient x feature map, cell by cell, upsampled, "
        "scaled to [0, 1]",
        by_default=False, **_ONE_GRADIENT,
    ),
    Method(
        name="grad_cam_plus_plus", aliases=("gradcam++", "grad_cam++", "gradcampp"),
        title="Grad-CAM++",
        function="helpers.methods.cam_variants:grad_cam_plus_plus",
        paper="Chattopadhay et al. (2018), Grad-CAM++: generalized gradient-based visual "
        "explanations for deep convolutional networks",
        defaults={"layer": None, "variant": "paper"},
        map_text="already 2-D: ReLU of the feature maps weighted by eq. 19's alpha x positive "
        "gradients, upsampled, scaled to [0, 1]",
        by_default=False, **_ONE_GRADIENT,
    ),
    Method(
        name="layer_cam", aliases=("layercam",), title="LayerCAM",
        function="helpers.methods.cam_variants:layer_cam",
        paper="Jiang et al. (2021), LayerCAM: exploring hierarchical class activation maps "
        "for localization",
        defaults={"layer": None},
        map_text="already 2-D: ReLU of sum_k ReLU(gradient) x feature map, cell by cell, "
        "upsampled, scaled to [0, 1]",
        by_default=False, **_ONE_GRADIENT,
    ),
    Method(
        name="xgrad_cam", aliases=("xgradcam",), title="XGrad-CAM",
        function="helpers.methods.cam_variants:xgrad_cam",
        paper="Fu et al. (2020), Axiom-based Grad-CAM: towards accurate visualization and "
        "explanation of CNNs",
        defaults={"layer": None},
        map_text="already 2-D: ReLU of the feature maps weighted by activation-weighted mean "
        "gradients, upsampled, scaled to [0, 1]",
        by_default=False, **_ONE_GRADIENT,
    ),
    Method(
        name="score_cam", aliases=("scorecam",), title="Score-CAM",
        function="helpers.methods.score_cam:score_cam",
        paper="Wang et al. (2020), Score-CAM: score-weighted visual explanations for "
        "convolutional neural networks",
        # max_channels None: every channel (exact); softmax over the classes (official code)
        defaults={"layer": None, "max_channels": None, "softmax": "classes"},
        fast={"max_channels": 32},
        map_text="already 2-D: ReLU of the feature maps weighted by the class probability of "
        "the image masked by each, upsampled, scaled to [0, 1]",
        passes=_score_cam_passes,
        controls=(*_LAYER_CONTROL, Control("max_channels", "Channels scored", 8, 512, 8)),
        # 48 channels: 1.7 CPU s at 64 in the browser test (issue 20's 2 s goal, all threads)
        explorer={"max_channels": 48},
        by_default=False,
    ),
    Method(
        name="eigen_cam", aliases=("eigencam",), title="Eigen-CAM",
        function="helpers.methods.eigen_cam:eigen_cam",
        paper="Muhammad & Yeasin (2020), Eigen-CAM: class activation map using principal "
        "components",
        defaults={"layer": None, "center": True},
        map_text="already 2-D: ReLU of the feature maps projected on their first principal "
        "component (the same for every class), upsampled, scaled to [0, 1]",
        passes=lambda s, hw: Passes(forward=1),
        controls=_LAYER_CONTROL,
        by_default=False,
    ),
):
    register(_method)
