"""Rules every committed notebook follows (nbval executes them separately)."""

import ast
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


# --- the course's structure (issue 13): objectives, a hands-on cell with its check, exercises
# with solutions, the solution switch and its file, and the README's order ---------------------

SOLUTIONS_DIR = NOTEBOOKS_DIR / "solutions"
COURSE_ROW = re.compile(r"^\| \[`(\d\d_\w+\.ipynb)`\]", re.M)


def _solution_cell(nb):
    """The second code cell: the solution switch, right after the setup cell."""
    cells = _code_cells(nb)
    return _source(cells[1]) if len(cells) > 1 else ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solution_switch_loads_this_notebooks_solutions_file(path):
    switch = _solution_cell(_load(path))
    assert switch.startswith("SOLUTION = helpers.solution_mode()"), (
        f"{path.name}: the cell after the setup cell must be the solution switch"
    )
    assert f'solution = helpers.load_solutions("{path.stem}")' in switch
    assert (SOLUTIONS_DIR / f"{path.stem}.py").is_file(), f"no notebooks/solutions/{path.stem}.py"


#: A check cell calls the framework (helpers.check_answer / check_answers) or a notebook's
#: check function from helpers.hands_on (check_my_grad_cam, ...).
CHECK_CALL = re.compile(
    r"\b(?:helpers\.check_answers?|check_my_\w+)\(|from helpers\.hands_on\.\w+ import"
    r"|helpers\.hands_on\."
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_hands_on_cell_is_followed_by_its_check(path):
    """HANDS_ON.md: the placeholder is ``...`` (None is an answer, with its own catalogued
    mistake), the check cell's guard is ``helpers.answered``, and it says what to do else."""
    cells = _code_cells(_load(path))
    pairs = [
        (a, b)
        for a, b in zip(cells, cells[1:], strict=False)
        if _source(a).lstrip().startswith("# YOUR TURN") and CHECK_CALL.search(_source(b))
    ]
    assert pairs, f"{path.name}: no '# YOUR TURN' cell followed by a cell that checks it"
    for hands_on, check in pairs:
        cell, code = hands_on.get("id"), _source(hands_on)
        assert "if SOLUTION" in code, f"{path.name}, cell {cell}: fill in the solution"
        assert re.search(r"(?:=|\breturn)\s*\.\.\.", code), (  # a value, or a function's body
            f"{path.name}, cell {cell}: no `...` placeholder"
        )
        placeholders = re.findall(r"^\s*([\w, ]+?)\s*=\s*None\b", code, re.M)
        assert not placeholders, (
            f"{path.name}, cell {cell}: {placeholders} start as None; the placeholder is `...`"
        )
        # student mode under nbval: the untouched placeholder must not fail the check cell
        guard = _source(check)
        assert "if SOLUTION or helpers.answered(" in guard and "else:" in guard, (
            f"{path.name}, cell {check.get('id')}: guard the check with "
            "`if SOLUTION or helpers.answered(...)` and an else that says what to do"
        )


def _exercise_cells(nb):
    """The cells from the '## Exercises' heading to the next '## ' heading."""
    cells = nb["cells"]
    start = next(
        (
            i
            for i, c in enumerate(cells)
            if c["cell_type"] == "markdown" and re.search(r"^## Exercises", _source(c), re.M)
        ),
        None,
    )
    if start is None:
        return []
    section = [cells[start]]
    for cell in cells[start + 1 :]:
        if cell["cell_type"] == "markdown" and re.search(r"^## ", _source(cell), re.M):
            break
        section.append(cell)
    return section


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_solution_cell(path):
    section = _exercise_cells(_load(path))
    assert section, f"{path.name} has no '## Exercises' section"
    text = "\n".join(_source(c) for c in section if c["cell_type"] == "markdown")
    exercises = re.findall(r"^(?:\*\*)?\d+\.(?:\*\*)? ", text.split("## Exercises", 1)[1], re.M)
    solutions = [
        c
        for c in section
        if c["cell_type"] == "code"
        and _source(c).lstrip().startswith("if SOLUTION")
        and "solution." in _source(c)
    ]
    assert exercises, f"{path.name}: the Exercises section lists no numbered exercise"
    assert len(solutions) >= len(exercises), (
        f"{path.name}: {len(exercises)} exercises but {len(solutions)} solution cells"
    )


def _called_solutions(nb) -> set[str]:
    """Every name used as ``solution.<name>`` in the notebook's code cells."""
    names = set()
    for cell in _code_cells(nb):
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:  # IPython syntax (magics): fall back to the text
            names |= set(re.findall(r"\bsolution\.([A-Za-z_]\w*)", _source(cell)))
            continue
        names |= {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "solution"
        }
    return names


def _defined_names(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_a_notebook_calls_exists(path):
    file = SOLUTIONS_DIR / f"{path.stem}.py"
    assert file.is_file(), f"no notebooks/solutions/{path.stem}.py"
    missing = _called_solutions(_load(path)) - _defined_names(file)
    assert not missing, f"{path.name} calls solution.{sorted(missing)}, not defined in {file.name}"


def test_readme_lists_the_notebooks_in_file_order():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    listed = COURSE_ROW.findall(readme)
    assert listed == [p.name for p in NOTEBOOKS], (
        "the README's course table must list every notebook once, in file order: "
        f"{listed} vs {[p.name for p in NOTEBOOKS]}"
    )
    assert "INSTRUCTORS.md" in readme and (PROJECT_ROOT / "INSTRUCTORS.md").is_file()


# --- CI's second arithmetic setting (the Colab simulation, .ci/colab_sim.sh) runs the notebooks
# in solution mode,
# whose checks include student mode's, unless SOLUTION changes what a notebook computes -------

ARITHMETIC_SCRIPT = PROJECT_ROOT / ".ci" / "colab_sim.sh"


def _solution_changes_inputs(nb) -> list[str]:
    """Cells where ``if SOLUTION`` does more than fill in a hands-on answer, check it, load
    the solutions or run an exercise's solution: e.g. 11's worked example picks its own class
    and photo, so student mode computes other numbers there."""
    cells = _code_cells(nb)
    allowed = {id(cells[1])} if len(cells) > 1 else set()
    for a, b in zip(cells, cells[1:], strict=False):
        if _source(a).lstrip().startswith("# YOUR TURN") and CHECK_CALL.search(_source(b)):
            allowed |= {id(a), id(b)}
    allowed |= {id(c) for c in _exercise_cells(nb) if c["cell_type"] == "code"}
    return [
        c.get("id", "?")
        for c in cells
        if id(c) not in allowed and re.search(r"\bif SOLUTION\b", _source(c))
    ]


def test_ci_runs_in_student_mode_too_where_solution_changes_the_inputs():
    text = ARITHMETIC_SCRIPT.read_text(encoding="utf-8")
    listed = set(
        re.findall(r"(\w+\.ipynb)", re.search(r"STUDENT_TOO=\(([^)]*)\)", text)[1])
    )
    needed = {p.name: _solution_changes_inputs(_load(p)) for p in NOTEBOOKS}
    missing = {name: cells for name, cells in needed.items() if cells and name not in listed}
    assert not missing, (
        f"SOLUTION changes these notebooks' inputs (cells {missing}): add them to STUDENT_TOO "
        "in .ci/colab_sim.sh so the second arithmetic setting runs them in student mode too"
    )
    assert listed <= {p.name for p in NOTEBOOKS}, listed
