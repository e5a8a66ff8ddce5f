"""tf-explain 0.3.1 on Keras 3: the workshop's code, in its own style, on the real model."""

import warnings

import numpy as np
import pytest
from PIL import Image
from tf_explain.core.activations import ExtractActivations
from tf_explain.core.grad_cam import GradCAM
from tf_explain.core.gradients_inputs import GradientsInputs
from tf_explain.core.integrated_gradients import IntegratedGradients
from tf_explain.core.occlusion_sensitivity import OcclusionSensitivity
from tf_explain.core.smoothgrad import SmoothGrad
from tf_explain.core.vanilla_gradients import VanillaGradients

from helpers.compat.tf_explain import (
    TfExplainInputError,
    disable_tf_explain_compat,
    enable_tf_explain_compat,
    is_tf_explain_compat_enabled,
)
from helpers.data.labels import ClassIndexError
from helpers.models.layers import LayerNotFoundError

CLASS_INDEX = 281

EXPLAINERS = {
    "grad_cam": (GradCAM, {"class_index": CLASS_INDEX}, (224, 224, 3)),
    "activations": (ExtractActivations, {"layers_name": ["top_conv"]}, (252, 252)),
    "vanilla_gradients": (VanillaGradients, {"class_index": CLASS_INDEX}, (224, 224)),
    "gradients_inputs": (GradientsInputs, {"class_index": CLASS_INDEX}, (224, 224)),
    "smoothgrad": (SmoothGrad, {"class_index": CLASS_INDEX}, (224, 224)),
    "integrated_gradients": (IntegratedGradients, {"class_index": CLASS_INDEX}, (224, 224)),
    "occlusion": (
        OcclusionSensitivity,
        {"class_index": CLASS_INDEX, "patch_size": 56},
        (224, 224, 3),
    ),
}


@pytest.fixture(autouse=True)
def compat():
    enable_tf_explain_compat()
    yield
    enable_tf_explain_compat()


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_every_explainer_runs_in_the_workshop_style(name, lite0, cat, tmp_path):
    cls, kwargs, shape = EXPLAINERS[name]
    explainer = cls()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Unsupported model architecture", no input warnings
        grid = explainer.explain((np.array([cat]), None), lite0, **kwargs)
    assert grid.shape == shape
    assert grid.dtype == np.uint8
    assert grid.max() > grid.min(), "a constant map"
    explainer.save(grid, str(tmp_path), f"{name}.png")
    saved = np.asarray(Image.open(tmp_path / f"{name}.png"))
    assert saved.shape == shape


def test_grad_cam_without_layer_name_picks_the_last_4d_layer(lite0):
    assert GradCAM.infer_grad_cam_target_layer(lite0) == "top_activation"


def test_grad_cam_overlay_of_a_float_image_shows_the_photo(lite0, cat):
    """tf-explain multiplied float [0, 255] images by 255 (noise); the fix keeps the photo."""
    grid = GradCAM().explain((np.array([cat]), None), lite0, CLASS_INDEX, image_weight=1.0)
    as_uint8 = GradCAM().explain(
        (np.array([cat.astype(np.uint8)]), None), lite0, CLASS_INDEX, image_weight=1.0
    )
    assert np.abs(grid.astype(int) - as_uint8.astype(int)).mean() < 2.0


def test_without_the_fix_grad_cam_fails_on_keras_3(lite0, cat):
    disable_tf_explain_compat()
    assert not is_tf_explain_compat_enabled()
    with pytest.raises(AttributeError, match="output_shape"):
        GradCAM().explain((np.array([cat]), None), lite0, class_index=CLASS_INDEX)
    enable_tf_explain_compat()
    assert is_tf_explain_compat_enabled()


def test_activations_accept_a_list_of_images_and_a_single_name(lite0, cat):
    grid = ExtractActivations().explain(([cat], None), lite0, "top_conv")
    assert grid.shape == (252, 252)


def test_class_index_out_of_range(lite0, cat):
    with pytest.raises(ClassIndexError, match=r"outside 0\.\.999"):
        VanillaGradients().explain((np.array([cat]), None), lite0, class_index=1000)


def test_unknown_layer_name(lite0, cat):
    with pytest.raises(LayerNotFoundError, match="top_conv"):
        GradCAM().explain((np.array([cat]), None), lite0, CLASS_INDEX, layer_name="top_cnv")
    with pytest.raises(LayerNotFoundError, match="block5"):
        ExtractActivations().explain((np.array([cat]), None), lite0, ["block5_conv3"])


def test_image_not_wrapped_in_a_batch(lite0, cat):
    with pytest.raises(TfExplainInputError, match=r"np\.array\(\[img\]\)"):
        GradCAM().explain((cat, None), lite0, CLASS_INDEX)


def test_validation_data_not_a_tuple(lite0, cat):
    with pytest.raises(TfExplainInputError, match=r"tuple \(images, labels\)"):
        GradCAM().explain(np.array([cat]), lite0, CLASS_INDEX)


def test_occlusion_and_activations_predict_without_progress_bars(lite0, cat, capfd):
    """tf-explain's model.predict printed a Keras bar per call; the fix changes no number."""
    explainer = OcclusionSensitivity()
    disable_tf_explain_compat()
    try:
        loud = explainer.get_sensitivity_map(lite0, cat, CLASS_INDEX, 112)
        loud_out = capfd.readouterr().out
    finally:
        enable_tf_explain_compat()
    quiet = explainer.get_sensitivity_map(lite0, cat, CLASS_INDEX, 112)
    ExtractActivations().explain((np.array([cat]), None), lite0, ["top_conv"])
    OcclusionSensitivity().explain((np.array([cat]), None), lite0, CLASS_INDEX, patch_size=112)
    quiet_out = capfd.readouterr().out
    assert "step" in loud_out  # the control: without the fix, Keras draws its bar
    assert "step" not in quiet_out and "━" not in quiet_out, quiet_out
    np.testing.assert_array_equal(quiet, loud)
