"""One default set of methods everywhere, read from the registry (`by_default`): the
command's default and --help, notebook 11, make_report, the checker, README and
INSTRUCTORS.md name the same methods. The expected names come from the registry (other
methods may be registered, most of them opt-in), never from a list written here. And the
commands from notebooks/: what the course prints there works."""

import json
import os
import re
import subprocess
import sys

import pytest

from helpers.assignment.cli import (
    _methods_for,
    build_parser,
    course_commands,
    export_course_path,
    folder_methods,
)
from helpers.assignment.run import chosen_methods, default_methods, opt_in_methods
from helpers.methods.registry import METHODS, canonical_name
from helpers.paths import PROJECT_ROOT
from tests.submission_factory import build


def method_names(listing: str) -> tuple[str, ...]:
    """Registry names from a list in prose: "Grad-CAM, vanilla gradients, ... and Guided
    Backprop" or "grad_cam, vanilla_gradients" (titles, names or aliases; × for x)."""
    titles = {m.title.lower(): m.name for m in METHODS.values()}
    found = []
    for item in re.split(r",\s*|\s+and\s+", " ".join(listing.split())):
        word = item.strip(" .`*").replace("×", "x").lower()
        name = titles.get(word) or canonical_name(word)
        assert name in METHODS, f"{item!r} names no registered method"
        found.append(name)
    return tuple(found)


def listed(text: str, pattern: str) -> tuple[str, ...]:
    match = re.search(pattern, " ".join(text.split()))
    assert match, pattern
    return method_names(match.group(1))


def notebook_text(cell_id: str) -> str:
    cells = json.loads((PROJECT_ROOT / "notebooks" / "11_assignment.ipynb").read_text())["cells"]
    return "".join(next(c for c in cells if c["id"] == cell_id)["source"])


def test_the_default_set_is_the_registrys():
    assert default_methods() == tuple(m for m, method in METHODS.items() if method.by_default)
    assert chosen_methods(None) == default_methods()  # make_report(methods=None), notebook 11
    assert set(default_methods()) | set(opt_in_methods()) == set(METHODS)
    assert chosen_methods("all") == tuple(METHODS)  # explicit


@pytest.mark.parametrize(
    "source, pattern",
    [
        ("README.md", r"a new folder gets the default set: (.+?) \("),
        ("INSTRUCTORS.md", r"default set of methods unless they chose others: (.+?) \("),
        ("notebook", r"default set of methods: (.+?), on one image"),
        ("--help", r"for a new folder the default set: (.+?)\. Methods"),
    ],
)
def test_every_text_names_the_registrys_default_set(source, pattern):
    if source == "notebook":
        text = notebook_text("11-002")
    elif source == "--help":
        text = build_parser().format_help()
    else:
        text = (PROJECT_ROOT / source).read_text(encoding="utf-8")
    assert listed(text, pattern) == default_methods()


def test_the_notebook_prints_the_registrys_set_and_runs_it():
    assert "parse_methods(None)" in notebook_text("11-017")
    assert "METHODS = None" in notebook_text("11-019")
    text = notebook_text("11-018")  # "all" is described, its methods not listed, so a
    assert '`"all"`' in text  # method registered later cannot make the text false
    assert not [m for m in opt_in_methods() if METHODS[m].title in text]


def test_explain_without_methods(tmp_path):
    """A new folder: the default set; a folder with a table: its own methods again."""
    assert build_parser().parse_args(["espresso", "--class", "967"]).methods is None
    assert _methods_for(None, tmp_path / "new", ())[0] == default_methods()
    folder = build(tmp_path / "old", methods=("grad_cam", "smoothgrad", "occlusion"))
    assert folder_methods(folder) == ("grad_cam", "smoothgrad", "occlusion")
    methods, why = _methods_for(None, folder, ())
    assert methods == ("grad_cam", "smoothgrad", "occlusion") and "already in" in why
    assert _methods_for("all", folder, tuple(METHODS))[0] == tuple(METHODS)


def test_the_checker_suggests_default_methods(tmp_path):
    from helpers.check_submission import inspect_submission

    folder = build(tmp_path / "s", methods=("grad_cam", "occlusion"))
    (message,) = [p.message for p in inspect_submission(folder).problems]
    suggested = re.search(r"add e\.g\. (.+)\)", message).group(1).split(", ")
    assert set(suggested) <= set(default_methods())


# ---------------------------------------------------------------- commands from notebooks/


def run_in_notebooks(command: str, env=None):
    return subprocess.run(
        ["bash", "-c", command], cwd=PROJECT_ROOT / "notebooks", capture_output=True,
        text=True, timeout=120, env=env,
    )  # fmt: skip


def test_from_notebooks_python_cannot_find_the_course_and_says_so():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = run_in_notebooks(f"{sys.executable} -m helpers.explain --help", env)
    assert result.returncode != 0 and "No module named 'helpers'" in result.stderr
    # ... which is why the course prints the commands with a cd to the course folder:


def test_the_commands_the_notebook_prints_work_from_notebooks(tmp_path):
    folder = build(tmp_path / "espresso")
    lines = course_commands(folder, cwd=PROJECT_ROOT / "notebooks")
    assert lines[0] == f"cd {PROJECT_ROOT}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = " && ".join(line.replace("python ", f"{sys.executable} ", 1) for line in lines)
    result = run_in_notebooks(script, env)
    assert result.returncode == 0, result.stderr
    assert "rewrote" in result.stdout and "OK: the submission is complete" in result.stdout
    assert course_commands(folder, cwd=PROJECT_ROOT)[0].startswith("python -m helpers.report")


def test_a_notebook_cell_can_run_them_from_notebooks(monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    env = {**os.environ, "PYTHONPATH": export_course_path()}
    for command in ("helpers.explain", "helpers.report", "helpers.check_submission"):
        result = run_in_notebooks(f"{sys.executable} -m {command} --help", env)
        assert result.returncode == 0 and "usage" in result.stdout.lower(), result.stderr
