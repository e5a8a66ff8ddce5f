"""Hands-on cells: the solution switch and checks that say what is wrong, not only that it is.

A notebook's hands-on cell asks the student to write a few lines (a gradient, Grad-CAM's
weights, SmoothGrad's average, an Integrated Gradients sum); the check cell after it calls
:func:`check_answer` to compare the student's array with the library's and, when they
differ, names the likely mistake (not written yet, wrong shape, sign flipped, off by a
constant factor, right pattern but not equal...). Instructors turn on every solution with one
switch, the same as the assignment's: ``COURSE_SOLUTION=1`` (or ``SOLUTION = True`` in a
notebook). The solutions live outside the notebooks, in ``notebooks/solutions/<notebook>.py``
(one function per hands-on cell and exercise), so a student's copy does not show them next to
the question; :func:`load_solutions` imports that file.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import numpy as np

from .environment import SOLUTION_ENV_VAR, env_flag
from .paths import PROJECT_ROOT

SOLUTIONS_DIR = PROJECT_ROOT / "notebooks" / "solutions"

SOLUTION_VARIABLE = SOLUTION_ENV_VAR


def solution_mode() -> bool:
    """True when the instructor's solutions should run (``COURSE_SOLUTION=1`` or ``true``;
    a value that is not a flag is refused, :func:`helpers.environment.env_flag`)."""
    return env_flag(SOLUTION_VARIABLE)


def load_solutions(notebook: str) -> ModuleType:
    """The instructor's solutions for one notebook: ``notebooks/solutions/<notebook>.py``
    (``notebook`` is the file's stem, e.g. ``"02_vanilla_gradients"``)."""
    path = SOLUTIONS_DIR / f"{notebook}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no solutions file {path}; the course ships one per notebook")
    spec = importlib.util.spec_from_file_location(f"course_solutions_{notebook}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ExerciseNotDoneError(AssertionError):
    """The hands-on cell still holds its placeholder (``None`` or ``...``)."""

    def _render_traceback_(self) -> list[str]:  # Jupyter: the message, not a traceback
        return [f"Not yet: {self}"]


class WrongAnswerError(AssertionError):
    """The student's result differs from the library's; the message says how."""

    def _render_traceback_(self) -> list[str]:
        return [f"Check failed: {self}"]


def _diagnose(yours: np.ndarray, expected: np.ndarray) -> str:
    """A short guess at what went wrong, from how ``yours`` relates to ``expected``."""
    flat_y, flat_e = yours.ravel().astype(np.float64), expected.ravel().astype(np.float64)
    if not np.all(np.isfinite(flat_y)):
        return "it contains NaN or infinite values"
    if np.allclose(flat_y, 0) and not np.allclose(flat_e, 0):
        return "it is all zeros (is the score connected to the input on the tape?)"
    if np.allclose(flat_y, -flat_e, rtol=1e-3, atol=1e-6 * np.abs(flat_e).max()):
        return "it is the expected result with the sign flipped"
    denom = float(flat_e @ flat_e)
    if denom > 0:
        scale = float(flat_y @ flat_e) / denom
        if scale > 0 and np.allclose(flat_y, scale * flat_e, rtol=1e-3, atol=1e-6):
            return (
                f"it is the expected result times {scale:.4g}: a missing or extra factor "
                "(a mean instead of a sum, 1/n, x - x', 255?)"
            )
    if flat_y.std() > 0 and flat_e.std() > 0:
        corr = float(np.corrcoef(flat_y, flat_e)[0, 1])
        if corr > 0.9:
            return (
                f"it correlates {corr:.3f} with the expected result but is not equal: "
                "a different class, the probability instead of the logit, or a missing step?"
            )
        return f"it correlates only {corr:.3f} with the expected result"
    return "it differs from the expected result"


def check_answer(
    name: str,
    yours,
    expected,
    *,
    rtol: float = 1e-3,
    atol: float = 1e-6,
    hint: str = "",
) -> None:
    """Compare a hands-on cell's result with the library's and explain any difference.

    Raises :class:`ExerciseNotDoneError` if ``yours`` is still ``None`` or ``...``, and
    :class:`WrongAnswerError` naming the mistake (shape, sign, scale, pattern) otherwise; prints
    a one-line confirmation when they agree. ``atol`` is relative to the largest expected
    magnitude, so it works for gradients of any size.
    """
    if yours is None or yours is Ellipsis:
        raise ExerciseNotDoneError(f"{name}: write your code in the cell above, then run this cell")
    expected = np.asarray(expected)
    try:
        yours = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError) as err:
        got = type(yours).__name__
        raise WrongAnswerError(f"{name}: expected an array of numbers, got {got}") from err
    if yours.shape != expected.shape:
        squeezed = np.squeeze(yours)
        fix = (
            " (it has an extra axis of size 1: index it away, e.g. [0])"
            if squeezed.shape == expected.shape
            else ""
        )
        raise WrongAnswerError(
            f"{name}: shape {yours.shape}, expected {expected.shape}{fix}. {hint}".strip()
        )
    scale = float(np.abs(expected).max()) or 1.0
    if np.allclose(yours, expected, rtol=rtol, atol=atol * scale):
        print(f"{name}: correct (matches the library to rtol={rtol:g})")
        return
    worst = float(np.abs(yours - expected).max())
    raise WrongAnswerError(
        f"{name}: {_diagnose(yours, expected)}; largest difference {worst:.3g} "
        f"(the values reach {scale:.3g}). {hint}".strip()
    )
