"""Hands-on cells: the solution switch and checks that say what is wrong, not only that it is.

A notebook's hands-on cell asks the student to write a few lines (a gradient, Grad-CAM's
weights, SmoothGrad's average, an Integrated Gradients sum); the check cell after it compares
the student's result with the library's through an :class:`Answer`: the expected value, the
other forms a correct answer may take (float64 arithmetic, another summation order), and a
catalogue of the **typical mistakes** for that cell, each computed with the library
(:class:`Mistake`: "no ReLU", "the probability instead of the logit", ...). When the student's
result equals a mistake, the message names it and says how to fix it; otherwise it says how
the result differs (shape, NaN, sign, zeros, correlation).

Tolerances come from float32, not from taste: an answer is accepted within a small multiple
of what float32 rounding and a different summation order do (``rtol``/``atol``), widened to
cover every listed correct form (e.g. the same computation with sigma rounded one ulp the
other way). The catalogues of the course's hands-on cells live in :mod:`helpers.hands_on`,
one module per notebook, and ``tests/`` runs each mistake as student code through them.

Instructors turn on every solution with one switch, the same as the assignment's:
``COURSE_SOLUTION=1`` (or ``SOLUTION = True`` in a notebook). The solutions live outside the
notebooks, in ``notebooks/solutions/<notebook>.py``; :func:`load_solutions` imports that file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .environment import SOLUTION_ENV_VAR, env_flag
from .paths import PROJECT_ROOT

SOLUTIONS_DIR = PROJECT_ROOT / "notebooks" / "solutions"

SOLUTION_VARIABLE = SOLUTION_ENV_VAR

#: The placeholder a hands-on cell starts with: ``my_answer = ...`` (not yet written). A
#: result of ``None`` is different: the student's code ran and produced nothing (e.g. a
#: ``tape.gradient`` of an input the tape did not watch).
NOT_DONE = Ellipsis


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


def answered(value: Any) -> bool:
    """False while a hands-on cell still holds its placeholder ``...``."""
    return value is not NOT_DONE


class ExerciseNotDoneError(AssertionError):
    """The hands-on cell still holds its placeholder (``...``)."""

    def _render_traceback_(self) -> list[str]:  # Jupyter: the message, not a traceback
        return [f"Not yet: {self}"]


class WrongAnswerError(AssertionError):
    """The student's result differs from the library's; the message says how."""

    def _render_traceback_(self) -> list[str]:
        return [f"Check failed: {self}"]


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: what the result equals when a student makes this mistake.

    ``value`` is computed with the library (``None`` stands for code that returned nothing);
    ``label`` names the mistake ("no ReLU"), ``fix`` says how to put it right.
    """

    label: str
    value: Any
    fix: str = ""


@dataclass(frozen=True)
class Answer:
    """What one answer of a hands-on cell is checked against.

    ``expected`` is the library's result; ``correct`` lists other forms a right answer may
    take (they widen the tolerance to cover them); ``mistakes`` is the cell's catalogue;
    ``rtol``/``atol`` are the float32 tolerance (``atol`` relative to the largest expected
    magnitude); ``scale_hint``, when given, names the plausible constant factors of this cell
    (a result equal to ``expected`` times a constant is then reported as such).
    """

    expected: Any
    mistakes: Sequence[Mistake] = ()
    correct: Sequence[Any] = ()
    rtol: float = 1e-4
    atol: float = 1e-4
    hint: str = ""
    scale_hint: str = ""
    _tolerance: dict = field(default_factory=dict, repr=False, compare=False)  # cached spread

    def _spread(self) -> float:
        """The largest difference between a listed correct form and ``expected``."""
        if "spread" not in self._tolerance:
            expected = np.asarray(self.expected, np.float64)
            spread = 0.0
            for form in self.correct:
                form = np.asarray(form, np.float64)
                if form.shape != expected.shape:
                    raise ValueError(f"a correct form has shape {form.shape}, not {expected.shape}")
                spread = max(spread, float(np.abs(form - expected).max(initial=0.0)))
            self._tolerance["spread"] = spread
        return self._tolerance["spread"]

    def allowed(self, target: Any = None) -> np.ndarray:
        """The largest difference accepted at each element around ``target`` (default: the
        expected value): float32 rounding relative to the larger of the two scales, plus three
        times the spread of the correct forms."""
        expected = np.asarray(self.expected, np.float64)
        target = expected if target is None else np.asarray(target, np.float64)
        scale = max(
            float(np.abs(expected).max(initial=0.0)), float(np.abs(target).max(initial=0.0))
        )
        return self.atol * (scale or 1.0) + self.rtol * np.abs(target) + 3.0 * self._spread()

    def matches(self, yours: np.ndarray) -> bool:
        """True when ``yours`` equals the expected value within :meth:`allowed`."""
        return _close(yours, np.asarray(self.expected, np.float64), self.allowed())

    def mistake(self, yours: Any) -> Mistake | None:
        """The first catalogued mistake ``yours`` equals, or None."""
        for mistake in self.mistakes:
            if mistake.value is None or yours is None:
                if mistake.value is None and yours is None:
                    return mistake
                continue
            value = np.asarray(mistake.value, np.float64)
            if np.shape(yours) == value.shape and _close(
                np.asarray(yours, np.float64), value, self.allowed(value)
            ):
                return mistake
        return None

    def check(self, name: str, yours: Any) -> None:
        """Print a confirmation, or raise naming the mistake (see :func:`check_answer`)."""
        if yours is NOT_DONE:
            raise ExerciseNotDoneError(
                f"{name}: write your code in the cell above, then run this cell"
            )
        found = self.mistake(yours)
        if found is not None:
            raise WrongAnswerError(f"{name}: {found.label}. {found.fix}".strip())
        if yours is None:
            raise WrongAnswerError(
                f"{name}: your code produced None instead of an array. {self.hint}".strip()
            )
        expected = np.asarray(self.expected)
        try:
            array = np.asarray(yours, dtype=np.float64)
        except (TypeError, ValueError) as err:
            got = type(yours).__name__
            raise WrongAnswerError(f"{name}: expected an array of numbers, got {got}") from err
        if array.shape != expected.shape:
            raise WrongAnswerError(
                f"{name}: {_shape_problem(array.shape, expected.shape)} {self.hint}".strip()
            )
        if self.matches(array):
            print(f"{name}: correct")
            return
        worst = float(np.abs(array - expected).max(initial=0.0))
        scale = float(np.abs(expected).max(initial=0.0))
        raise WrongAnswerError(
            f"{name}: {self._diagnose(array)}; largest difference {worst:.3g} "
            f"(the values reach {scale:.3g}). {self.hint}".strip()
        )

    def _diagnose(self, yours: np.ndarray) -> str:
        """How ``yours`` differs, when it is none of the catalogued mistakes."""
        flat_y = yours.ravel()
        flat_e = np.asarray(self.expected, np.float64).ravel()
        if not np.all(np.isfinite(flat_y)):
            return "it contains NaN or infinite values"
        if not np.any(flat_y) and np.any(flat_e):
            return "it is all zeros"
        if _close(-yours, np.asarray(self.expected, np.float64), self.allowed()):
            return "it is the expected result with the sign flipped"
        denom = float(flat_e @ flat_e)
        if self.scale_hint and denom > 0:
            factor = float(flat_y @ flat_e) / denom
            scaled = factor * np.asarray(self.expected, np.float64)
            if _close(yours, scaled, self.allowed(scaled)):
                return f"it is the expected result times {factor:.4g} ({self.scale_hint})"
        if flat_y.size > 1 and flat_y.std() > 0 and flat_e.std() > 0:
            corr = float(np.corrcoef(flat_y, flat_e)[0, 1])
            return f"none of the usual mistakes; it correlates {corr:.3f} with the expected result"
        return "none of the usual mistakes"


def _close(yours: np.ndarray, target: np.ndarray, allowed: np.ndarray) -> bool:
    if yours.shape != target.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(yours - target) <= allowed))


def _shape_problem(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """Shape mismatch in words, with the fix when it is a common one."""
    text = f"shape {got}, expected {want}"
    if len(got) == len(want) + 1 and got[0] == 1 and got[1:] == want:
        return f"{text}: it still has the batch axis; take the one image with [0]."
    if len(got) == len(want) + 1 and got[-1] == 1 and got[:-1] == want:
        return f"{text}: it has a trailing axis of size 1; drop it with [..., 0]."
    if np.prod(got, dtype=np.int64) == np.prod(want, dtype=np.int64) and sorted(got) == sorted(
        want
    ):
        return f"{text}: the same numbers of elements in another order: axes swapped?"
    if got == () and want != ():
        return f"{text}: a single number where an array was expected (a sum over every axis?)."
    if want == () and got != ():
        return f"{text}: an array where a single number was expected."
    return f"{text}."


def check_answer(
    name: str,
    yours: Any,
    expected: Any,
    *,
    mistakes: Sequence[Mistake] = (),
    correct: Sequence[Any] = (),
    rtol: float = 1e-4,
    atol: float = 1e-4,
    hint: str = "",
    scale_hint: str = "",
) -> None:
    """Compare a hands-on cell's result with the library's and explain any difference.

    Raises :class:`ExerciseNotDoneError` while ``yours`` is the placeholder ``...``, and
    :class:`WrongAnswerError` naming the mistake otherwise: a catalogued mistake (its label
    and fix), ``None`` produced by the code, a wrong shape (with the fix), NaN, zeros, a
    flipped sign, a constant factor (only with ``scale_hint``), or the correlation with the
    expected result. Prints a one-line confirmation when it agrees. See :class:`Answer` for
    the tolerance.
    """
    Answer(expected, mistakes, correct, rtol, atol, hint, scale_hint).check(name, yours)


def check_answers(catalogue: Mapping[str, Answer], **yours: Any) -> None:
    """Check several answers of one hands-on cell, in order; stops at the first wrong one."""
    for name, value in yours.items():
        catalogue[name].check(name, value)
