"""The course's models: real ImageNet weights offline, and how 'auto' chooses."""

import time

import keras
import numpy as np
import pytest

import helpers.models.loading as models
from helpers.data.images import load_image, sample_image
from helpers.models.layers import conv_layer_names, last_conv_layer
from helpers.models.scores import top_k


def test_lite0_is_a_named_functional_model_ending_in_logits_and_softmax(lite0):
    assert lite0.name == "efficientnet_lite0"
    assert tuple(lite0.inputs[0].shape) == (None, 224, 224, 3)
    assert [layer.name for layer in lite0.layers[-2:]] == ["logits", "predictions"]
    assert isinstance(lite0.layers[-1], keras.layers.Softmax)
    assert lite0.get_layer("logits").activation.__name__ == "linear"
    assert last_conv_layer(lite0) == "top_conv"
    assert tuple(lite0.get_layer("top_conv").output.shape) == (None, 7, 7, 1280)
    assert conv_layer_names(lite0)[0] == "stem_conv"
    assert lite0.count_params() == 4_694_024


def test_lite0_recognises_the_cat(lite0, cat):
    top5 = top_k(lite0, cat, k=5)
    cats = {281, 282, 285}  # tabby, tiger cat, Egyptian cat
    assert cats <= {i for i, _, _ in top5}
    assert sum(p for i, _, p in top5 if i in cats) > 0.8
    assert top5[0][0] in cats


def test_lite0_recognises_the_espresso(lite0, espresso):
    index, name, probability = top_k(lite0, espresso, k=1)[0]
    assert (index, name) == (967, "espresso")
    assert probability > 0.5


def test_lite0_recognises_the_uniform(lite0):
    top5 = top_k(lite0, load_image(sample_image("grace_hopper")), k=5)
    assert top5[0][:2] == (652, "military_uniform")


def test_probabilities_sum_to_one_and_logits_are_not_probabilities(lite0, cat):
    probs = keras.ops.convert_to_numpy(lite0(cat[None]))
    assert probs.shape == (1, 1000)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
    from helpers.models.scores import predict_logits

    logits = predict_logits(lite0, cat)
    assert logits.min() < 0 < logits.max()
    e = np.exp(logits - logits.max())
    np.testing.assert_allclose(e / e.sum(), probs, atol=1e-6)


def test_random_weights_differ_from_pretrained(lite0, cat):
    fresh = models.load_model("efficientnet_lite0", pretrained=False, verbose=False)
    assert top_k(fresh, cat, 1)[0][2] < 0.05  # an untrained net is unsure
    assert not np.allclose(
        fresh.get_layer("top_conv").get_weights()[0], lite0.get_layer("top_conv").get_weights()[0]
    )


def test_vgg16_architecture_with_logits_head():
    vgg = models.load_model("vgg16", pretrained=False, verbose=False)
    assert vgg.name == "vgg16"
    assert [layer.name for layer in vgg.layers[:2]] == ["pixels", "preprocess"]
    assert [layer.name for layer in vgg.layers[-3:]] == ["fc2", "logits", "predictions"]
    assert vgg.get_layer("logits").activation.__name__ == "linear"
    assert last_conv_layer(vgg) == "block5_conv3"
    assert len(conv_layer_names(vgg)) == 13
    assert vgg.count_params() == 138_357_544  # the same as keras.applications.VGG16()


def test_unknown_model_name_lists_valid_ones():
    with pytest.raises(ValueError, match="auto, vgg16, efficientnet_lite0"):
        models.load_model("resnet50")


def test_auto_offline_chooses_lite0_quickly_and_says_why(capsys, monkeypatch):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    if models.cached_vgg16_weights() or models.can_reach(models.VGG16_WEIGHTS_HOST)[0]:
        pytest.skip("VGG16's weights are available here: 'auto' would rightly pick VGG16")
    start = time.perf_counter()
    model = models.load_model("auto")
    elapsed = time.perf_counter() - start
    assert model.name == "efficientnet_lite0"
    assert elapsed < 30
    said = capsys.readouterr().out
    assert "Loaded efficientnet_lite0" in said
    assert "not cached" in said and "cannot be reached" in said


def test_auto_prefers_cached_vgg16(tmp_path, monkeypatch):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    with open(tmp_path / "models" / models.VGG16_WEIGHTS_FILE, "wb") as f:
        f.truncate(553_467_096)  # sparse file with VGG16's size: no disk used
    name, why = models.choose_model()
    assert name == "vgg16"
    assert "cached" in why


def test_auto_without_cache_or_network_chooses_lite0(tmp_path, monkeypatch):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(models, "cached_vgg16_weights", lambda: None)
    monkeypatch.setattr(models, "can_reach", lambda host, port=443: (False, "simulated: offline"))
    name, why = models.choose_model()
    assert name == "efficientnet_lite0"
    assert "simulated: offline" in why and "EfficientNet-Lite0" in why


def test_environment_variable_overrides_auto(monkeypatch):
    monkeypatch.setenv(models.MODEL_ENV_VAR, "efficientnet_lite0")
    assert models.choose_model()[0] == "efficientnet_lite0"
    monkeypatch.setenv(models.MODEL_ENV_VAR, "alexnet")
    with pytest.raises(ValueError, match="COURSE_MODEL"):
        models.choose_model()


def test_can_reach_does_not_hang():
    start = time.perf_counter()
    ok, why = models.can_reach("unreachable.invalid", timeout=1.0)
    assert not ok and why
    assert time.perf_counter() - start < 2.0


def test_vgg16_offline_fails_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if models.can_reach(models.VGG16_WEIGHTS_HOST)[0]:
        pytest.skip("online: this would download 528 MB")
    with pytest.raises(models.ModelUnavailableError, match="efficientnet_lite0"):
        models.load_model("vgg16", verbose=False)


def test_vgg16_layers_belong_to_its_own_graph(cat):
    """Grad-CAM and activations need get_layer(name).output inside the model's graph."""
    from helpers.methods.activations import activations
    from helpers.methods.cam import grad_cam

    vgg = models.load_model("vgg16", pretrained=False, verbose=False)
    assert grad_cam(vgg, cat, 281).shape == (224, 224)
    assert activations(vgg, cat, "block5_conv3").shape == (14, 14, 512)


def test_vgg16_with_weights_matches_keras_own_vgg16(tmp_path, cat):
    """The Colab path: weights loaded from Keras' (legacy HDF5) file give the same class
    probabilities as keras.applications.VGG16 + preprocess_input, and logits before them."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(0)
    reference = keras.applications.VGG16(weights=None)  # softmax inside its last Dense layer
    path = tmp_path / models.VGG16_WEIGHTS_FILE
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    ours = models.build_vgg16(weights_path=path)
    batch = np.stack([cat, cat[::-1]])
    expected = reference(keras.applications.vgg16.preprocess_input(batch.copy()))
    np.testing.assert_allclose(ours(batch), expected, rtol=1e-4, atol=1e-7)
    from helpers.models.scores import predict_logits, softmax

    np.testing.assert_allclose(softmax(predict_logits(ours, batch)), expected, rtol=1e-4, atol=1e-7)


# --------------------------------------------------------------- the default model, "auto"


def test_default_is_lite0_and_course_model_overrides(monkeypatch):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    assert models.default_model()[0] == "efficientnet_lite0"
    monkeypatch.setenv(models.MODEL_ENV_VAR, "vgg16")
    assert models.default_model()[0] == "vgg16"


def test_random_test_model_needs_its_flag(monkeypatch):
    monkeypatch.setenv(models.MODEL_ENV_VAR, models.RANDOM_TEST_MODEL)
    monkeypatch.delenv(models.RANDOM_TEST_FLAG, raising=False)
    with pytest.raises(ValueError, match=models.RANDOM_TEST_FLAG):
        models.load_model()
    monkeypatch.setenv(models.RANDOM_TEST_FLAG, "1")
    model = models.load_model(verbose=False)
    assert model.name == "vgg16" and model.course_weights == "random"
    assert not models.is_default_model(model)
    auto = models.load_model("auto", verbose=False)
    assert auto.name == "vgg16" and auto.course_weights == "random"


def test_default_model_only_skips_with_a_note(lite0, capsys):
    assert models.default_model_only(lite0, "the cat is an Egyptian cat")
    assert capsys.readouterr().out == ""
    fresh = models.load_model("efficientnet_lite0", pretrained=False, verbose=False)
    assert not models.default_model_only(fresh, "the cat is an Egyptian cat")
    note = capsys.readouterr().out
    assert note.count("\n") == 1 and "skipped" in note and "Egyptian cat" in note


@pytest.fixture
def silent_server():
    """A local TCP server that accepts connections and never answers."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/{models.VGG16_WEIGHTS_FILE}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_auto_gives_up_on_a_host_that_never_answers(silent_server, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(models, "keras_cache_dirs", lambda: [tmp_path / "models"])
    monkeypatch.setenv(models.VGG16_URL_ENV_VAR, silent_server)
    monkeypatch.setenv(models.VGG16_TIMEOUT_ENV_VAR, "2")
    assert models.choose_model()[0] == "vgg16"  # the host accepts connections
    start = time.perf_counter()
    model = models.load_model("auto")
    assert time.perf_counter() - start < 15
    assert model.name == "efficientnet_lite0"
    said = capsys.readouterr().out
    assert "within 2 s" in said or "timed out" in said, said
    assert silent_server in said and "Falling back to efficientnet_lite0" in said
    assert not list((tmp_path / "models").glob("*")), "no partial file is left in the cache"


def test_auto_falls_back_from_a_corrupt_cached_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    monkeypatch.setattr(models, "keras_cache_dirs", lambda: [tmp_path / "models"])
    (tmp_path / "models").mkdir()
    corrupt = tmp_path / "models" / models.VGG16_WEIGHTS_FILE
    corrupt.write_bytes(b"not an HDF5 file" * 100)
    model = models.load_model("auto")
    assert model.name == "efficientnet_lite0"
    said = capsys.readouterr().out
    assert str(corrupt) in said and "delete it" in said
    assert corrupt.exists(), "the student's cache is not deleted behind their back"
