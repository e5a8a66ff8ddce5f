"""The ipywidgets explorer, driven headlessly: set values in code, check what changed."""

import datetime
import io

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from helpers.attribution import integrated_gradients
from helpers.maps import reduce_channels
from helpers.saliency_explorer import (
    METHOD_PARAMETERS,
    _integrated_gradients_with_progress,
    explorer,
    uploaded_files,
)
from tests.toy_models import smooth_cnn


def _png_bytes(colour=(200, 10, 10), size=(40, 60)):
    buffer = io.BytesIO()
    Image.fromarray(np.full((*size, 3), colour, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ex(lite0, cat, espresso):
    return explorer(lite0, {"cat": cat, "espresso": espresso})


def test_it_builds_and_shows_grad_cam_of_the_top_class(ex):
    assert ex.compute_count == 1
    assert ex.controls["class"].value == 285  # Egyptian cat, the model's top-1
    assert len(ex.controls["class"].options) == 5
    assert ex.last_map.shape == (224, 224)
    assert ex.view.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Grad-CAM" in ex.status.value and ex.progress.value == 100


def test_opacity_redraws_without_recomputing(ex):
    ex.controls["method"].value = "Grad-CAM"
    count, picture, values = ex.compute_count, ex.view.value, ex.last_map
    ex.controls["alpha"].value = 0.9 if ex.controls["alpha"].value != 0.9 else 0.2
    assert ex.compute_count == count
    assert ex.view.value != picture
    assert ex.last_map is values


def test_a_new_method_recomputes_and_going_back_uses_the_cache(ex):
    ex.controls["method"].value = "Grad-CAM"
    grad_cam_map = ex.last_map
    ex.controls["method"].value = "Vanilla gradients"
    count = ex.compute_count
    assert not np.allclose(ex.last_map, grad_cam_map)
    ex.controls["method"].value = "Grad-CAM"
    assert ex.compute_count == count
    np.testing.assert_array_equal(ex.last_map, grad_cam_map)
    assert "from the cache" in ex.status.value


def test_only_the_method_parameters_are_shown_and_keyed(ex):
    ex.controls["method"].value = "SmoothGrad"
    shown = {
        n
        for n in ("layer", "noise", "samples", "steps", "patch")
        if ex.controls[n].layout.display != "none"
    }
    assert shown == set(METHOD_PARAMETERS["SmoothGrad"]) == {"noise", "samples"}
    count = ex.compute_count
    ex.controls["steps"].value = 16  # an Integrated Gradients setting: nothing to recompute
    assert ex.compute_count == count
    first = ex.last_map
    ex.controls["samples"].value = 8
    assert ex.compute_count == count + 1 and ex.progress.value == 100
    assert not np.allclose(first, ex.last_map)


def test_grad_cam_layer_and_occlusion_patch(ex):
    ex.controls["method"].value = "Grad-CAM"
    top = ex.last_map
    ex.controls["layer"].value = "block6a_project_bn"  # a middle block (no activation)
    assert ex.last_map.shape == (224, 224) and not np.allclose(ex.last_map, top)
    ex.controls["patch"].value = 112  # 3 x 3 patches: quick
    ex.controls["method"].value = "Occlusion"
    assert ex.last_key[3] == (("patch", 112),)
    assert np.ptp(ex.last_map) > 0


def test_choose_a_class_by_name_and_an_image(ex):
    ex.controls["method"].value = "Grad-CAM"
    ex.controls["layer"].value = "top_activation"
    cat_map = ex.last_map
    ex.controls["class_search"].value = "banana"
    assert ex.controls["class"].value == 954
    assert not np.allclose(ex.last_map, cat_map)
    ex.controls["class_search"].value = "zzzz-no-such-class"
    assert "No single class" in ex.status.value and ex.controls["class"].value == 954
    ex.controls["image"].value = "espresso"
    assert ex.controls["class"].value == 967  # espresso's top-1
    assert ex.last_key[1] == 967
    ex.controls["image"].value = "cat"


def _simulate_upload(upload, name, content):
    """What the browser does when a file is chosen, in ipywidgets 7 or 8."""
    if ipywidgets.__version__.startswith("7."):
        upload.metadata = [{"name": name, "type": "image/png", "size": len(content)}]
        upload.data = [content]
        upload._counter += 1  # ipywidgets 7 then builds its (read-only) value
    else:
        upload.value = (
            {
                "name": name,
                "type": "image/png",
                "size": len(content),
                "content": memoryview(content),
                "last_modified": datetime.datetime(2024, 1, 1),
            },
        )


def test_an_uploaded_image_is_added_and_explained(ex):
    _simulate_upload(ex.controls["upload"], "red.png", _png_bytes())
    assert ex.image_name == "upload: red.png"
    assert ex.images["upload: red.png"].shape == (224, 224, 3)
    assert ex.last_key[0].startswith("upload: red.png")
    ex.controls["image"].value = "cat"


def test_uploaded_files_reads_both_ipywidgets_formats():
    content = _png_bytes()
    version7 = {"a.png": {"metadata": {"name": "a.png", "type": "image/png"}, "content": content}}
    version8 = ({"name": "b.png", "type": "image/png", "content": memoryview(content)},)
    assert uploaded_files(version7) == [("a.png", content)]
    assert uploaded_files(version8) == [("b.png", content)]
    assert uploaded_files(()) == [] and uploaded_files({}) == []


def test_integrated_gradients_in_segments_equals_one_call():
    model = smooth_cnn()
    image = np.random.default_rng(0).uniform(0, 1, (10, 12, 3)).astype(np.float32)
    seen = []
    values, gap = _integrated_gradients_with_progress(model, image, 1, 12, seen.append)
    whole = integrated_gradients(model, image, 1, steps=12)
    np.testing.assert_allclose(values, reduce_channels(whole.attributions, "sum"), atol=1e-6)
    assert gap == pytest.approx(whole.completeness.relative_gap, abs=1e-4)
    assert seen == [0.25, 0.5, 0.75, 1.0]


def test_errors_are_shown_not_raised(ex, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("broken method")

    monkeypatch.setattr(ex, "_compute", broken)
    ex.controls["method"].value = "Gradient x input"
    assert "broken method" in ex.status.value and ex.progress.bar_style == "danger"
    monkeypatch.undo()
    ex.render()
    assert ex.last_key[2] == "Gradient x input"


def test_the_status_tells_how_much_work_a_slow_method_is(ex):
    ex.controls["patch"].value = 112
    assert ex._cost("Occlusion") == " (10 forward passes)"  # 3 x 3 patches + the image
    ex.controls["steps"].value = 32
    assert ex._cost("Integrated Gradients") == " (36 forward+backward passes)"
    assert ex._cost("Grad-CAM") == ""
