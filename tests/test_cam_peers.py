"""The CAM family against tf-keras-vis on EfficientNet-Lite0 (a peer check, not a dependency).

Runs only where tf-keras-vis is importable (e.g. ``pip install --target DIR --no-deps
tf-keras-vis deprecated`` and ``PYTHONPATH=DIR``; never in requirements.txt). tf-keras-vis
explains the logits sub-model (its ``Scorecam`` applies the softmax over the classes itself),
at the layer's own resolution (``expand_cam=False, normalize_cam=False``); its map is
compared with ours after the same bilinear upsampling and division by the maximum, to
1e-5 of the maximum.
"""

import contextlib
import io

import numpy as np
import pytest

tf_keras_vis = pytest.importorskip("tf_keras_vis", reason="tf-keras-vis is not installed")

import helpers  # noqa: E402
from helpers.methods import score_cam as score_cam_module  # noqa: E402
from helpers.methods.cam import scale_to_unit, upsample  # noqa: E402

TOLERANCE = 1e-5
TABBY = 281


def _theirs(kind, model, image, layer, **options):
    from tf_keras_vis.utils.scores import CategoricalScore

    explainer = kind(helpers.logits_model(model), clone=False)
    with contextlib.redirect_stdout(io.StringIO()):  # Keras' predict progress bar
        cam = explainer(CategoricalScore([TABBY]), image[None], penultimate_layer=layer,
                        seek_penultimate_conv_layer=False, expand_cam=False,
                        normalize_cam=False, **options)
    return scale_to_unit(upsample(np.asarray(cam, np.float32), image.shape[:2]))[0]


def test_grad_cam_plus_plus_matches_tf_keras_vis(lite0, cat):
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus

    layer = helpers.grad_cam_layer(lite0)
    theirs = _theirs(GradcamPlusPlus, lite0, cat, layer)
    ours = helpers.grad_cam_plus_plus(lite0, cat, TABBY, variant="tf-keras-vis")
    assert np.abs(ours - theirs).max() <= TOLERANCE
    paper = helpers.grad_cam_plus_plus(lite0, cat, TABBY)  # the paper's: a different map
    assert np.abs(paper - theirs).max() > 100 * TOLERANCE


@pytest.mark.parametrize("depth", ["last", "early"])
def test_layer_cam_matches_tf_keras_vis(lite0, cat, depth):
    from tf_keras_vis.layercam import Layercam

    layer = helpers.grad_cam_layer(lite0, None if depth == "last" else "block4a_expand_conv")
    theirs = _theirs(Layercam, lite0, cat, layer)
    ours = helpers.layer_cam(lite0, cat, TABBY, layer=layer)
    assert np.abs(ours - theirs).max() <= TOLERANCE


def _zoom_masks(maps, size):
    """tf-keras-vis' masks: scipy's zoom (order 1, corners aligned, mode 'nearest'), then
    min-max with 1e-7 added to the range."""
    from scipy.ndimage import zoom

    up = zoom(maps, (size[0] / maps.shape[0], size[1] / maps.shape[1], 1), order=1,
              mode="nearest")
    low, high = up.min(axis=(0, 1), keepdims=True), up.max(axis=(0, 1), keepdims=True)
    return np.moveaxis((up - low) / (high - low + 1e-7), -1, 0)


@pytest.mark.parametrize(("layer", "channels"), [(None, 64), ("block2a_project_conv", None)])
def test_score_cam_matches_tf_keras_vis_with_its_mask_upsampling(
    lite0, cat, monkeypatch, layer, channels
):
    from tf_keras_vis.scorecam import Scorecam

    layer = helpers.grad_cam_layer(lite0, layer)
    theirs = _theirs(Scorecam, lite0, cat, layer, max_N=channels, batch_size=16)
    ours = helpers.score_cam(lite0, cat, TABBY, layer=layer, max_channels=channels,
                             progress=False)
    assert np.abs(ours - theirs).max() > 100 * TOLERANCE  # the masks' upsampling matters
    monkeypatch.setattr(score_cam_module, "score_cam_masks", _zoom_masks)
    ours = helpers.score_cam(lite0, cat, TABBY, layer=layer, max_channels=channels,
                             progress=False)
    assert np.abs(ours - theirs).max() <= TOLERANCE
