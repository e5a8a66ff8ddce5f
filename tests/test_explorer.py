"""The ipywidgets explorer, driven headlessly: set values in code, check what changed."""

import datetime
import io
import re

import ipywidgets
import numpy as np
import pytest
from PIL import Image

import helpers
from helpers.methods.registry import METHODS
from helpers.viz.explorer import explorer, uploaded_files


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
        for n in ("layer", "noise", "n", "tolerance", "patch", "stride")
        if ex.controls[n].layout.display != "none"
    }
    assert shown == set(ex.used_settings("smoothgrad")) == {"noise", "n"}
    count = ex.compute_count
    ex.controls["tolerance"].value = 0.2  # an Integrated Gradients setting: nothing to recompute
    assert ex.compute_count == count
    first = ex.last_map
    ex.controls["n"].value = 8
    assert ex.compute_count == count + 1 and ex.progress.value == 100
    assert not np.allclose(first, ex.last_map)


def test_grad_cam_layer_and_occlusion_patch(ex):
    ex.controls["method"].value = "Grad-CAM"
    top = ex.last_map
    ex.controls["layer"].value = "block6a_project_bn"  # a middle block (no activation)
    assert ex.last_map.shape == (224, 224) and not np.allclose(ex.last_map, top)
    ex.controls["patch"].value = 112  # 3 x 3 patches: quick
    ex.controls["method"].value = "Occlusion"
    ex.controls["stride"].value = 56
    assert ex.last_key[3] == (("patch", 112), ("stride", 56))
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


def test_maps_equal_the_library_for_the_same_settings(ex, lite0, cat):
    """The explorer calls the library (with a progress hook): identical maps, no own maths."""
    ex.controls["image"].value = "cat"
    ex.controls["method"].value = "SmoothGrad"
    ex.controls["n"].value = 6
    ex.controls["noise"].value = 0.2
    seen = ex.progress.value
    expected = helpers.reduce_channels(helpers.smoothgrad(lite0, cat, 285, n=6, noise=0.2))
    np.testing.assert_array_equal(ex.last_map, expected)
    assert seen == 100
    ex.controls["method"].value = "Integrated Gradients"
    ex.controls["tolerance"].value = 0.2
    explorer_setting = METHODS["integrated_gradients"].explorer
    ig = helpers.integrated_gradients(lite0, cat, 285, tolerance=0.2, **explorer_setting)
    np.testing.assert_array_equal(ex.last_map, helpers.reduce_channels(ig.attributions, "sum"))
    assert f"{ig.completeness.relative_gap:.1%}" in ex.status.value
    assert f"with {ig.completeness.steps} steps" in ex.status.value


def test_new_methods_have_their_controls(ex):
    """Issue 12's methods: VarGrad and SmoothGrad-squared share SmoothGrad's sliders,
    Guided Grad-CAM has Grad-CAM's layer menu, Guided Backprop none, IG a tolerance."""
    expected = {
        "VarGrad": {"noise", "n"},
        "SmoothGrad-squared": {"noise", "n"},
        "Guided Grad-CAM": {"layer"},
        "Guided Backprop": set(),
        "Integrated Gradients": {"tolerance"},
    }
    for title, settings in expected.items():
        assert set(ex.used_settings(title)) == settings, title
    ex.controls["method"].value = "Guided Backprop"
    assert ex.last_map.shape == (224, 224) and ex.last_map.max() > 0



def test_the_opacity_slider_redraws_every_method(ex):
    """Found in the browser (issue 20): the opacity slider did nothing for signed maps
    (Integrated Gradients, gradient x input). Every method's picture follows it. Each
    method's map comes from the cache (a synthetic one): nothing is computed."""
    ex.controls["image"].value = "cat"
    rng = np.random.default_rng(0)
    count = ex.compute_count
    for method in METHODS.values():
        ex._busy = True  # choose the method without drawing it
        ex.controls["method"].value = method.title
        ex._busy = False
        ex.cache.setdefault(ex.key(), (rng.normal(size=(224, 224)).astype(np.float32), ""))
        ex.controls["alpha"].value = 0.5
        ex.render()
        picture = ex.view.value
        ex.controls["alpha"].value = 0.8
        assert ex.view.value != picture, f"{method.title}: the opacity changed nothing"
        ex.controls["alpha"].value = 0.0  # the photo alone: no error
        assert ex.view.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert ex.compute_count == count
    ex.controls["alpha"].value = 0.5
    ex.controls["method"].value = "Grad-CAM"


def test_every_method_starts_at_its_explorer_setting(lite0, cat):
    """Methods share a slider when they share a setting's name: their explorer values must
    agree, or one of them would start off its own (a method added with a clashing value
    fails here). An update is also timed in the status line."""
    ex = explorer(lite0, {"cat": cat})
    for method in METHODS.values():
        wanted = method.settings(**method.explorer)
        for setting in ex.used_settings(method.title):
            value = ex.controls[setting].value
            if setting == "layer":
                assert wanted[setting] in (None, value), method.name
            else:
                assert value == wanted[setting], (method.name, setting, value, wanted[setting])
    ex.render()
    assert re.search(r"\((\d+\.\d) s\)", ex.status.value), ex.status.value
