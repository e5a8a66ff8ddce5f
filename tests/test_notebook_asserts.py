"""No notebook or solution asserts a tolerance finer than float32 can hold (issue 16).

The course's numbers are float32: a logit computed in a batch of two and in IG's batch of 33
differs by an ulp or more (9.5e-7 on a logit of 10.5; up to 3.3e-6 across the 1000 logits,
measured with and without oneDNN), and another machine, thread count or batch size moves
every result by a few ulp. A tolerance below float32's machine epsilon (1.19e-7, one ulp
relative) therefore holds on the author's machine and fails in a classroom: notebook 09 once
stopped at ``relative_gap < 1e-9`` on a machine where the gap was 1.86e-7.

The scan reads every code cell and every ``notebooks/solutions/*.py`` (Python's ``ast``) and
flags, naming the notebook, cell and line:

* in an ``assert``, a bound ``x < c`` / ``x <= c`` (or ``c > x``) with ``c`` a number, or a
  number times a scale (``c * abs(y)``), below float32's epsilon;
* ``allclose`` / ``isclose`` / ``assert_allclose`` calls whose tolerance, with the
  defaults filled in (NumPy: rtol 1e-5, atol 1e-8; ``assert_allclose``: rtol 1e-7, atol 0),
  is below it: both rtol and atol, or atol alone when comparing with a literal 0 (where
  rtol multiplies zero).

Exact comparisons (``==``, ``array_equal``) are not judged: they are right where a result is
exact by construction (weights restored, an integer count) and no tolerance is claimed.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass

import numpy as np
import pytest

from helpers.paths import NOTEBOOKS_DIR

EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7
CLOSE_DEFAULTS = {  # function name: (rtol, atol) defaults
    "allclose": (1e-5, 1e-8),
    "isclose": (1e-5, 1e-8),
    "assert_allclose": (1e-7, 0.0),
}


@dataclass(frozen=True)
class Source:
    name: str  # "09_evaluating_saliency.ipynb, cell 09-023" or a solutions file
    code: str


def _sources() -> list[Source]:
    sources = []
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "code":
                label = f"{path.name}, cell {cell.get('id', index)}"
                sources.append(Source(label, "".join(cell["source"])))
    for path in sorted((NOTEBOOKS_DIR / "solutions").glob("*.py")):
        sources.append(Source(f"solutions/{path.name}", path.read_text(encoding="utf-8")))
    return sources


def _number(node: ast.AST) -> float | None:
    """The value of a numeric literal (``1e-9``, ``-1e-9``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _number(node.operand)
        return None if value is None else -value
    constant = isinstance(node, ast.Constant) and isinstance(node.value, int | float)
    if constant and not isinstance(node.value, bool):
        return float(node.value)
    return None


def _tolerance(node: ast.AST) -> float | None:
    """A literal tolerance: ``c`` or ``c * scale`` / ``scale * c``; None if not literal."""
    value = _number(node)
    if value is not None:
        return value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for side in (node.left, node.right):
            value = _number(side)
            if value is not None:
                return value
    return None


def _too_fine(value: float | None) -> bool:
    return value is not None and 0 < abs(value) < EPS32


def _assert_bounds(test: ast.AST) -> list[float]:
    """Upper bounds in an assert's comparisons: ``x < c``, ``x <= c``, ``c > x``, ``c >= x``."""
    bounds = []
    for node in ast.walk(test):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
            if isinstance(op, ast.Lt | ast.LtE):
                bounds.append(_tolerance(right))
            elif isinstance(op, ast.Gt | ast.GtE):
                bounds.append(_tolerance(left))
    return [b for b in bounds if b is not None]


def _close_call_problem(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in CLOSE_DEFAULTS:
        return None
    rtol, atol = CLOSE_DEFAULTS[name]
    keywords = {k.arg: k.value for k in call.keywords}
    positional = call.args[2:4]  # allclose(a, b, rtol, atol)
    for key, node in zip(("rtol", "atol"), positional, strict=False):
        keywords.setdefault(key, node)
    literal = {key: _tolerance(node) for key, node in keywords.items() if key in ("rtol", "atol")}
    if any(key in keywords and value is None for key, value in literal.items()):
        return None  # a computed tolerance: judged by whoever wrote it
    rtol = abs(literal.get("rtol", rtol))
    atol = abs(literal.get("atol", atol))
    against_zero = len(call.args) > 1 and _number(call.args[1]) == 0
    if atol < EPS32 and (against_zero or rtol < EPS32):
        return f"{name} with rtol {rtol:g}, atol {atol:g}" + (" against 0" if against_zero else "")
    return None


def too_fine_tolerances(source: Source) -> list[str]:
    """Each assert or closeness test in ``source`` whose tolerance float32 cannot hold."""
    try:
        tree = ast.parse(source.code)
    except SyntaxError:  # IPython magics: such cells hold no assertions in this course
        return []
    lines = source.code.splitlines()
    found = []
    for node in ast.walk(tree):
        problem = None
        if isinstance(node, ast.Assert):
            fine = [b for b in _assert_bounds(node.test) if _too_fine(b)]
            problem = f"bound {fine[0]:g}" if fine else None
        elif isinstance(node, ast.Call):
            problem = _close_call_problem(node)
        if problem:
            text = lines[node.lineno - 1].strip()
            found.append(f"{source.name}, line {node.lineno}: {problem}: {text}")
    return found


def test_no_tolerance_is_finer_than_float32():
    problems = [p for source in _sources() for p in too_fine_tolerances(source)]
    assert problems == [], (
        "tolerances below float32's epsilon (1.19e-7) fail on another machine, thread count "
        "or batch size; derive them from float32 (k * eps * magnitude):\n" + "\n".join(problems)
    )


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ('assert gaps["Uniform"].relative_gap < 1e-9', True),
        ("assert abs(a - b) <= 1e-8 * abs(b), (a, b)", True),
        ("assert 1e-10 > gap", True),
        ("assert np.allclose(x, y, rtol=0, atol=1e-9)", True),
        ("np.testing.assert_allclose(x, y)", True),
        ("assert np.allclose(x, 0)", True),
        ("assert np.isclose(x, y, 1e-9, 1e-12)", True),
        ("assert gap < 64 * eps * scale", False),
        ("assert gap < 1e-4 * np.abs(g).max()", False),
        ("assert np.allclose(x, y)", False),
        ("assert np.allclose(alpha, w, rtol=1e-4, atol=1e-8)", False),
        ("np.testing.assert_allclose(x, y, atol=1e-6)", False),
        ("assert total <= 0.05 + 1e-9", False),
        ("assert np.array_equal(before, after)", False),
        ("assert p < 0.5 and q > 1e-12", False),
    ],
)
def test_the_scan_flags_what_float32_cannot_hold(code, flagged):
    assert bool(too_fine_tolerances(Source("example", code))) == flagged
