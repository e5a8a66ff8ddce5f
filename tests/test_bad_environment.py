"""Every COURSE_* environment variable is read and checked in one place.

Flags take 1/true (on) and 0/false/empty/unset (off), any case, spaces around ignored;
anything else is refused in one line naming the variable, the value and what is
allowed. So are odd model names, timeouts that are not finite seconds in [1, 86400], URLs
without an allowed scheme and paths with control characters. The readers (fast_or,
solution_mode, load_model's choice, the VGG16 download) all go through the same checks.
"""

import os
import subprocess
import sys
import warnings

import pytest

from helpers import environment as env
from helpers.environment import CourseSettingError, check_environment
from helpers.exercises import solution_mode
from helpers.paths import PROJECT_ROOT

FLAGS = ["COURSE_FAST", "COURSE_SOLUTION", "COURSE_ALLOW_RANDOM_WEIGHTS"]


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in list(os.environ):
        if name.startswith("COURSE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize(
    "value, on",
    [("1", True), ("true", True), (" TRUE ", True), ("True\n", True), (" 1 ", True),
     ("0", False), ("false", False), ("FALSE", False), ("", False), ("  ", False)],
)  # fmt: skip
def test_flags_accept_one_spelling_of_on_and_off(monkeypatch, name, value, on):
    monkeypatch.setenv(name, value)
    assert env.env_flag(name) is on
    assert check_environment()[name] is on


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize("value", ["yes", "no", "2", "on", "off", "-1", "1.0", "t", "y", "１"])
def test_flags_refuse_everything_else_in_one_line(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(CourseSettingError) as info:
        env.env_flag(name)
    message = str(info.value)
    assert message == (
        f"environment variable {name}={value!r} is not allowed: use 1 or true to switch it on; "
        "0, false, empty or unset to switch it off"
    )
    with pytest.raises(CourseSettingError):
        check_environment()


def test_unset_flags_are_off():
    assert not env.env_flag("COURSE_FAST") and not solution_mode() and not env.fast_mode()


def test_the_readers_use_the_checks(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", " true ")
    assert env.fast_or(50, 4) == 4 and "fast setting 4" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_FAST", "yes")
    with pytest.raises(CourseSettingError, match="COURSE_FAST='yes'"):
        env.fast_or(50, 4)
    monkeypatch.setenv("COURSE_SOLUTION", "TRUE")
    assert solution_mode()
    monkeypatch.setenv("COURSE_SOLUTION", "2")
    with pytest.raises(CourseSettingError, match="COURSE_SOLUTION='2'"):
        solution_mode()


@pytest.mark.parametrize(
    "value, expected",
    [("vgg16", "vgg16"), (" VGG16 ", "vgg16"), ("EfficientNet_Lite0", "efficientnet_lite0"),
     ("", None), (" ", None)],
)  # fmt: skip
def test_model_names(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_MODEL", value)
    assert env.env_model() == expected


@pytest.mark.parametrize(
    "value, flag, says",
    [
        ("alexnet", None, "use one of vgg16, efficientnet_lite0, or leave it unset"),
        ("auto", None, "use one of vgg16, efficientnet_lite0"),
        ("vgg16-random", None, "vgg16-random is for tests and needs COURSE_ALLOW_RANDOM_WEIGHTS=1"),
        ("vgg16-random", "0", "needs COURSE_ALLOW_RANDOM_WEIGHTS=1"),
        ("vgg16-random", "yes", "COURSE_ALLOW_RANDOM_WEIGHTS='yes' is not allowed"),
        ("x" * 500, None, "COURSE_MODEL='" + "x" * 57 + "...' is not allowed"),
    ],
)
def test_model_names_refused(monkeypatch, value, flag, says):
    monkeypatch.setenv("COURSE_MODEL", value)
    if flag is not None:
        monkeypatch.setenv("COURSE_ALLOW_RANDOM_WEIGHTS", flag)
    with pytest.raises(CourseSettingError, match=says.replace("(", r"\(")):
        env.env_model()


def test_the_random_test_model_with_its_flag(monkeypatch):
    monkeypatch.setenv("COURSE_MODEL", "VGG16-Random")
    monkeypatch.setenv("COURSE_ALLOW_RANDOM_WEIGHTS", "true")
    assert env.env_model() == "vgg16-random"


@pytest.mark.parametrize("value, seconds", [("2", 2.0), (" 30.5 ", 30.5), ("86400", 86400.0),
                                            ("", 900.0), ("1e3", 1000.0)])  # fmt: skip
def test_timeouts(monkeypatch, value, seconds):
    monkeypatch.setenv("COURSE_VGG16_TIMEOUT", value)
    assert env.env_seconds("COURSE_VGG16_TIMEOUT", 900.0) == seconds


@pytest.mark.parametrize(
    "value", ["nan", "NaN", "inf", "-inf", "infinity", "0", "-5", "0.5", "86401", "1e400",
              "ten", "10s", "1_000x"],
)  # fmt: skip
def test_timeouts_refused(monkeypatch, value):
    monkeypatch.setenv("COURSE_VGG16_TIMEOUT", value)
    with pytest.raises(CourseSettingError, match="give a number of seconds from 1 to 86400"):
        env.env_seconds("COURSE_VGG16_TIMEOUT", 900.0)


def test_the_download_reads_the_checked_timeout(monkeypatch, tmp_path):
    from helpers.models import loading

    monkeypatch.setattr(loading, "cached_vgg16_weights", lambda: None)
    monkeypatch.setenv("COURSE_VGG16_TIMEOUT", "nan")
    with pytest.raises(CourseSettingError, match="COURSE_VGG16_TIMEOUT='nan'"):
        loading.download_vgg16_weights()


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("COURSE_VGG16_WEIGHTS_URL", "ftp://host/w.h5", "give a URL starting with https://"),
        ("COURSE_VGG16_WEIGHTS_URL", "storage.googleapis.com/w.h5", "give a URL starting"),
        ("COURSE_VGG16_WEIGHTS_URL", " https://x/w.h5", "without spaces around it"),
        ("COURSE_REPO_URL", "javascript://x", "give an https://, ssh://"),
        ("COURSE_REPO_URL", "https://github.com/a/b\n", "without spaces around it"),
        ("COURSE_REPO_URL", "", "give a git URL or path without"),
        ("COURSE_DIR", "/content/x\ty", "control characters"),
        ("COURSE_DIR", "", "give a folder path"),
    ],
)
def test_urls_and_paths_refused(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(CourseSettingError, match=says) as info:
        check_environment()
    assert "\n" not in str(info.value).replace(repr(value), "")


def test_a_file_as_course_dir_is_refused(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("COURSE_DIR", str(tmp_path / "file"))
    with pytest.raises(CourseSettingError, match="give a folder"):
        check_environment()


def test_what_ci_and_the_colab_simulation_set_is_accepted(monkeypatch, tmp_path):
    for name, value in {
        "COURSE_MODEL": "vgg16-random", "COURSE_ALLOW_RANDOM_WEIGHTS": "1", "COURSE_FAST": "1",
        "COURSE_SOLUTION": "1", "COURSE_REPO_URL": f"file://{tmp_path}/origin.git",
        "COURSE_DIR": str(tmp_path / "content" / "saliency-maps"),
        "COURSE_VGG16_WEIGHTS_URL": "http://127.0.0.1:9/w.h5", "COURSE_VGG16_TIMEOUT": "2",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    values = check_environment()
    assert values["COURSE_MODEL"] == "vgg16-random" and values["COURSE_FAST"] is True


def test_a_misspelt_variable_is_named_with_its_fix(monkeypatch):
    monkeypatch.setenv("COURSE_SOLUTIONS", "1")
    monkeypatch.setenv("COURSE_TITLE", "XAI 2026")  # not close to any: another tool's, ignored
    with pytest.warns(UserWarning, match="COURSE_SOLUTIONS is not read by the course; did "
                      "you mean COURSE_SOLUTION"):  # fmt: skip
        check_environment()
    monkeypatch.delenv("COURSE_SOLUTIONS")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_environment()


def test_every_course_variable_in_the_code_is_checked_here():
    import re

    used = set()
    for path in [*(PROJECT_ROOT / "helpers").rglob("*.py"), *(PROJECT_ROOT / "notebooks")
                 .glob("*.ipynb"), PROJECT_ROOT / ".ci" / "run", PROJECT_ROOT / ".ci" /
                 "colab_sim.sh"]:  # fmt: skip
        used |= set(re.findall(r"COURSE_[A-Z0-9_]+", path.read_text(encoding="utf-8")))
    # Python names in the setup cell and publish, and the docstring's example of a misspelling
    not_environment = {"COURSE_REPO", "COURSE_BRANCH", "COURSE_ROOT", "COURSE_SOLUTIONS"}
    assert used - not_environment - set(env.SETTINGS) == set()


def _explain(**environment):
    full = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    full.update(environment, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "helpers.explain", "espresso", "--class", "967"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=full,
    )  # fmt: skip


@pytest.mark.parametrize(
    "environment, says",
    [
        ({"COURSE_FAST": "yes"}, "COURSE_FAST='yes' is not allowed"),
        ({"COURSE_MODEL": "resnet"}, "COURSE_MODEL='resnet' is not allowed"),
        ({"COURSE_VGG16_TIMEOUT": "inf"}, "COURSE_VGG16_TIMEOUT='inf' is not allowed"),
    ],
)
def test_explain_refuses_a_bad_setting_in_one_line_before_loading_anything(environment, says):
    result = _explain(**environment)
    assert result.returncode == 2 and result.stdout == "", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.stderr


def test_the_setup_step_stops_on_a_bad_setting(monkeypatch):
    from helpers.install import install_missing_requirements

    monkeypatch.setenv("COURSE_SOLUTION", "yes")
    with pytest.raises(CourseSettingError) as info:
        install_missing_requirements(install=False)
    assert info.value._render_traceback_() == [f"Setting refused: {info.value}"]
