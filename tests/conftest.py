"""Shared fixtures: the real offline model and the bundled photos, loaded once per run."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

# Quiet notebooks: every executed notebook cell fails on noise in its outputs (issue 16).
from tests.notebook_noise import pytest_collection_modifyitems  # noqa: E402, F401


@pytest.fixture(scope="session")
def lite0():
    """EfficientNet-Lite0 with its real ImageNet weights (shared: do not modify it)."""
    from helpers.models.loading import load_model

    return load_model("efficientnet_lite0", verbose=False)


@pytest.fixture(scope="session")
def cat():
    from helpers.data.images import load_image, sample_image

    return load_image(sample_image("cat"))


@pytest.fixture(scope="session")
def espresso():
    from helpers.data.images import load_image, sample_image

    return load_image(sample_image("espresso"))
