"""``python -m helpers.publish`` writes every file or none.

Every notebook is validated before any file is written; a broken one (not JSON, no cells,
a cell without a source, not UTF-8, a FIFO, 60 MB) is one line on stderr, exit status 2,
and every file of the course keeps its bytes (compared before and after). A failure in the
middle of writing puts back what was already replaced; a file changed while publish ran is
not written over. When nothing changes, publish says so instead of "Commit and push".
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers.publish as publish_module
from helpers.paths import PROJECT_ROOT
from helpers.publish import PublishError, problems, publish, read_location

NEW_URL = "https://github.com/acme-school/xai-course"


@pytest.fixture
def course(tmp_path):
    """A copy of the course's published files (helpers/ too, for the command line)."""
    root = tmp_path / "course"
    shutil.copytree(PROJECT_ROOT / "helpers", root / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copytree(PROJECT_ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("solutions", ".ipynb_checkpoints"))  # fmt: skip
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / "data").mkdir()
    assert problems(root) == []
    return root


def fingerprint(root: Path) -> dict[str, str]:
    """Every file's bytes (hashed), but the helpers package itself."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("helpers") or not (path.is_file() or path.is_fifo()):
            continue
        out[rel] = "fifo" if path.is_fifo() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def cli(root: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.publish", *args],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def one_line(result, says):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert result.stdout == ""


def _extra(root: Path, data: bytes) -> None:
    (root / "notebooks" / "13_extra.ipynb").write_bytes(data)


def _first(root: Path, change) -> None:
    path = sorted((root / "notebooks").glob("*.ipynb"))[-1]  # sorted last: written last
    nb = json.loads(path.read_text(encoding="utf-8"))
    change(nb)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _big(root: Path) -> None:
    path = root / "notebooks" / "13_extra.ipynb"
    path.write_text('{"cells": [')
    os.truncate(path, 60_000_000)  # sparse


BROKEN = {
    "not_json": (lambda r: _extra(r, b'{"cells": [ oops'), "13_extra.ipynb is not valid JSON"),
    "empty_file": (lambda r: _extra(r, b""), "13_extra.ipynb is not valid JSON"),
    "zero_cells": (lambda r: _extra(r, b'{"cells": [], "nbformat": 4}'), "13_extra.ipynb has no"),
    "a_list": (lambda r: _extra(r, b"[1, 2]"), "13_extra.ipynb has no cells"),
    "cell_without_source": (
        lambda r: _first(r, lambda nb: nb["cells"][3].pop("source")),
        "cell 3 is not a notebook cell",
    ),
    "cell_source_a_number": (
        lambda r: _first(r, lambda nb: nb["cells"][2].update(source=[1, 2])),
        "cell 2 is not a notebook cell",
    ),
    "unknown_cell_type": (
        lambda r: _first(r, lambda nb: nb["cells"][1].update(cell_type="widget")),
        "cell 1 is not a notebook cell",
    ),
    "not_utf8": (lambda r: _extra(r, b'{"cells": ["\xff"]}'), "13_extra.ipynb is not UTF-8 text"),
    "fifo": (lambda r: os.mkfifo(r / "notebooks" / "13_extra.ipynb"), "is not a regular file"),
    "sixty_megabytes": (_big, "is not a regular file of at most 50 MB"),
    "no_course_table": (
        lambda r: (r / "pyproject.toml").write_text("[tool.other]\nx = 1\n"),
        "pyproject.toml has no readable [tool.course] table",
    ),
    "pyproject_not_toml": (
        lambda r: (r / "pyproject.toml").write_text("[tool.course\nrepo = \n"),
        "pyproject.toml has no readable [tool.course] table",
    ),
}


@pytest.mark.parametrize("damage, says", BROKEN.values(), ids=BROKEN)
def test_a_broken_file_stops_publish_before_anything_is_written(course, damage, says):
    damage(course)
    before = fingerprint(course)
    with pytest.raises(PublishError, match=re.escape(says)):
        publish(NEW_URL, "spring", course)
    assert fingerprint(course) == before
    result = cli(course, NEW_URL, "--branch", "spring")
    one_line(result, says)
    assert fingerprint(course) == before  # all or nothing: nothing


def test_a_failure_while_renaming_puts_everything_back(course, monkeypatch):
    before = fingerprint(course)
    real, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(publish_module.os, "replace", failing_replace)
    with pytest.raises(PublishError, match="No space left on device.*nothing was changed"):
        publish(NEW_URL, "spring", course)
    assert len(calls) == 5
    assert fingerprint(course) == before
    assert not list(course.rglob("*.publish"))  # no temporary file left


def test_a_file_changed_while_publish_runs_is_not_written_over(course, monkeypatch):
    real = publish_module._rewrite_text
    readme = course / "README.md"

    def rewrite_while_someone_edits(text, old, new):
        if "my local edit" not in readme.read_text(encoding="utf-8"):
            readme.write_text(readme.read_text(encoding="utf-8") + "\nmy local edit\n")
        return real(text, old, new)

    monkeypatch.setattr(publish_module, "_rewrite_text", rewrite_while_someone_edits)
    before = fingerprint(course)
    with pytest.raises(PublishError, match="README.md changed while publish ran"):
        publish(NEW_URL, "spring", course)
    after = fingerprint(course)
    assert {k: v for k, v in after.items() if k != "README.md"} == {
        k: v for k, v in before.items() if k != "README.md"
    }
    assert "my local edit" in readme.read_text(encoding="utf-8")


def test_publishing_twice_says_nothing_changed(course):
    first = cli(course, NEW_URL, "--branch", "spring")
    assert first.returncode == 0 and "Commit and push" in first.stdout, first.stderr
    assert read_location(course) == (NEW_URL, "spring")
    before = fingerprint(course)
    again = cli(course, NEW_URL + ".git", "--branch", "spring")
    assert again.returncode == 0, again.stderr
    assert "nothing changed: the course already points at " + NEW_URL in again.stdout
    assert "Commit and push" not in again.stdout and "file(s) changed" not in again.stdout
    assert fingerprint(course) == before


def test_check_lists_a_broken_notebook_as_a_problem(course):
    _extra(course, b'{"cells": []}')
    result = cli(course, "--check")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "13_extra.ipynb has no cells" in result.stdout
