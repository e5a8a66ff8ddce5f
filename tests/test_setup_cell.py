"""The notebooks' setup cell and `python -m helpers.publish`, run as a student or an
instructor would: a clone that fails, a notebook outside the course, publishing a copy."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from helpers.publish import problems, read_location


def _setup_source() -> str:
    nb = json.loads((NOTEBOOKS_DIR / "00_setup.ipynb").read_text(encoding="utf-8"))
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


def test_failed_clone_names_the_url_and_the_fix(tmp_path):
    """In Colab, a repository that is missing or private gives one actionable message."""
    script = tmp_path / "setup.py"
    script.write_text(
        "import sys, types\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
        "try:\n" + "".join(f"    {line}\n" for line in _setup_source().splitlines()) + ""
        "except Exception as exc:\n"
        "    print(type(exc).__name__, '|', exc.__class__._render_traceback_(exc)[0])\n"
    )
    missing = f"file://{tmp_path}/no-such-repo.git"
    env = {**os.environ, "COURSE_REPO_URL": missing, "COURSE_DIR": str(tmp_path / "course")}
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    said = out.stdout + out.stderr
    assert said.startswith("CourseSetupError | Setup stopped: could not download"), said
    assert missing in said and "python -m helpers.publish" in said and "private" in said


def test_notebook_06_outside_the_course_gives_a_message_not_a_traceback(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    copy = tmp_path / "my-repo" / "11_assignment.ipynb"
    copy.parent.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "11_assignment.ipynb", copy)
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": copy.parent}})
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    setup = next(c for c in nb.cells if c.cell_type == "code")
    errors = [o for o in setup.outputs if o.output_type == "error"]
    assert len(errors) == 1, setup.outputs
    shown = "\n".join(errors[0].traceback)
    assert shown.startswith("Setup stopped: this notebook is not inside the course folder")
    assert str(copy.parent) in shown and "git clone" in shown
    assert "Traceback" not in shown and "File " not in shown and "StopIteration" not in shown


def _copy_course(target):
    shutil.copytree(
        PROJECT_ROOT,
        target,
        ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".ruff_cache"),
    )
    return target


def _publish(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "helpers.publish", *args], cwd=root, capture_output=True, text=True
    )


def test_publish_rewrites_every_badge_and_setup_cell(tmp_path):
    root = _copy_course(tmp_path / "course")
    old_repo, _ = read_location()
    out = _publish(root, "https://github.com/acme-school/xai-course.git", "--branch", "spring")
    assert out.returncode == 0, out.stdout + out.stderr
    assert read_location(root) == ("https://github.com/acme-school/xai-course", "spring")
    assert problems(root) == []
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    for path in [root / "README.md", *notebooks]:
        text = path.read_text(encoding="utf-8")
        assert old_repo not in text, f"{path.name} still names {old_repo}"
        assert "github/acme-school/xai-course/blob/spring/" in text
    for path in notebooks:
        assert path.name in out.stdout
        nb = json.loads(path.read_text(encoding="utf-8"))
        setup = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
        assert 'COURSE_REPO = "https://github.com/acme-school/xai-course"' in setup
        assert 'COURSE_BRANCH = "spring"' in setup
    check = _publish(root, "--check")
    assert check.returncode == 0 and "0 problem(s)" in check.stdout


def test_publish_check_finds_a_stale_badge(tmp_path):
    root = _copy_course(tmp_path / "course")
    path = root / "notebooks" / "03_grad_cam.ipynb"
    slug = read_location()[0].split("github.com/")[1]
    path.write_text(path.read_text(encoding="utf-8").replace(slug, "someone/else"), "utf-8")
    out = _publish(root, "--check")
    assert out.returncode == 1 and "03_grad_cam.ipynb" in out.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (["https://gitlab.com/a/b"], "not a GitHub repository URL"),
        (["github.com/a/b"], "not a GitHub repository URL"),
        (["https://github.com/a/b", "--branch", "../x"], "not a branch name"),
    ],
)
def test_publish_refuses_bad_input_in_one_line(tmp_path, args, says):
    root = _copy_course(tmp_path / "course")
    out = _publish(root, *args)
    assert out.returncode == 2 and says in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert problems(root) == [] and read_location(root) == read_location()
