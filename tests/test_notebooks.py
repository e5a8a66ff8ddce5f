"""Rules every committed notebook follows (nbval executes them separately)."""

import json
import re

import pytest

from helpers.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from helpers.publish import problems, read_location

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
COURSE_REPO, COURSE_BRANCH = read_location()


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert any(p.name == "00_setup.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [
        i
        for i, cell in enumerate(_load(path)["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_badge_and_objectives(path):
    nb = _load(path)
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith("# "), "the first cell is the title"
    slug = COURSE_REPO.split("github.com/")[1]
    assert f"colab.research.google.com/github/{slug}/blob/{COURSE_BRANCH}/" in first
    assert f"notebooks/{path.name})" in first, "the Colab badge opens this very notebook"
    text = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Learning objectives" in text
    assert "Exercises" in text or "Your turn" in text


def test_all_notebooks_share_one_setup_cell():
    setups = {_source(_code_cells(_load(p))[0]) for p in NOTEBOOKS}
    assert len(setups) == 1, "the first code cell (setup) must be identical in every notebook"
    setup = setups.pop()
    assert f'COURSE_REPO = "{COURSE_REPO}"' in setup
    assert f'COURSE_BRANCH = "{COURSE_BRANCH}"' in setup
    assert "helpers.install_missing_requirements()" in setup


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_check_cells_with_assertions(path):
    checks = [c for c in _code_cells(_load(path)) if re.search(r"^\s*assert ", _source(c), re.M)]
    assert checks, f"{path.name} has no check cell with an assertion"


def test_readme_lists_every_notebook_and_the_repo():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert path.name in readme, f"README does not mention {path.name}"
    assert COURSE_REPO in readme


def test_badges_and_setup_cells_follow_course_toml():
    assert problems() == []


def test_no_notebook_depends_on_auto():
    """Every notebook loads the course's default model (the one its prose is written for)."""
    for path in NOTEBOOKS:
        for cell in _code_cells(_load(path)):
            asks = re.search(r"""load_model\(\s*(name\s*=\s*)?["']auto["']""", _source(cell))
            assert not asks, f"{path.name} asks for load_model('auto')"
