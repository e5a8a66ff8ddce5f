"""python -m helpers.explain: clear one-line errors (before TensorFlow loads) and a real run."""

import subprocess
import sys

import numpy as np
import pytest

import helpers
from helpers.assignment.submission import model_input
from helpers.assignment.table import fill_answers
from helpers.check_submission import check_submission
from helpers.data.images import load_image
from helpers.methods.registry import METHODS
from helpers.paths import PROJECT_ROOT
from tests.submission_factory import answers_for


def explain(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "helpers.explain", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["no_such_photo.jpg", "--class", "espresso"], "image not found: no_such_photo.jpg"),
        (["README.md", "--class", "espresso"], "is not an image that Pillow can read"),
        (["data", "--class", "espresso"], "is a folder, not an image file"),
        (["espresso", "--class", "zebra crosing"], "did you mean: 340 zebra"),
        (["espresso", "--class", "qqqqqq"], "no ImageNet class matches 'qqqqqq'"),
        (["espresso", "--class", "dog"], "matches several ImageNet classes"),
        (["espresso", "--class", "1000"], "class index 1000 is outside 0..999"),
        (["espresso", "--class", "-1"], "class index -1 is outside 0..999"),
        (["espresso", "--class", "2.5"], "must be a whole number"),
        (
            ["espresso", "--class", "espresso", "--methods", "grad_cam,lrp"],
            "unknown method 'lrp'",
        ),
        (["espresso", "--class", "espresso", "--methods", "gradcamm"], "Did you mean grad_cam"),
        (["espresso", "--class", "espresso", "--model", "vgg19"], "unknown model 'vgg19'"),
    ],
)
def test_wrong_arguments_give_one_clear_line_and_status_2(args, message):
    result = explain(*args, "--out", "/tmp/never-written", timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "Error)" not in result.stderr  # no type name
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""  # nothing ran, TensorFlow was never loaded


def test_missing_class_option_is_a_usage_error():
    result = explain("espresso", timeout=30)
    assert result.returncode == 2 and "--class" in result.stderr


def test_model_choices_are_the_models_names():
    from helpers.assignment.cli import MODEL_CHOICES
    from helpers.models.loading import MODEL_NAMES

    assert MODEL_CHOICES == MODEL_NAMES


def test_a_real_run_writes_a_folder_the_checker_accepts_once_answered(tmp_path, lite0):
    out = tmp_path / "espresso"
    result = explain(
        str(PROJECT_ROOT / "data" / "espresso.png"),
        "--class",
        "espresso",
        "--methods",
        "grad_cam,sg,gxi",
        "--model",
        "efficientnet_lite0",
        "--fast",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "class: 967 espresso" in lines[0]
    assert any(line.startswith("OK: class 967 espresso is number 1") for line in lines)
    for i, method in enumerate(["grad_cam", "smoothgrad", "gradient_x_input"], start=1):
        assert any(line.startswith(f"[{i}/3] {method}") and " s " in line for line in lines)
    for name in (
        "grad_cam.png",
        "smoothgrad_attributions.npy",
        "gradient_x_input.npy",
        "comparison_grid.png",
        "comparison.csv",
        "comparison.md",
        "submission.json",
    ):
        assert (out / name).is_file(), name

    # The command line's map is the library's for the same (fast) settings and seed.
    image = model_input(load_image(PROJECT_ROOT / "data" / "espresso.png"))  # as input.png
    expected = helpers.smoothgrad(lite0, image, 967, **METHODS["smoothgrad"].settings(fast=True))
    saved = np.load(out / "smoothgrad.npy")
    np.testing.assert_array_equal(saved, helpers.reduce_channels(expected))

    # As written, only the student's answers are missing ...
    problems = check_submission(out)
    assert {p.kind for p in problems} == {"empty_answers"} and len(problems) == 3
    # ... and once they are filled in, the checker's command line says OK (status 0).
    methods = ["grad_cam", "smoothgrad", "gradient_x_input"]
    fill_answers(out, answers_for(methods, seed=5))  # real answers, not "an answer" x 12
    check = subprocess.run(
        [sys.executable, "-m", "helpers.check_submission", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    assert "OK: the submission is complete (3 methods" in check.stdout
