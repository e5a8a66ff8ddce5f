"""Shared steps of the hands-on catalogues: drop the mistakes that coincide with the right
answer, and check an answer cheaply first, building the full catalogue only when needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..exercises import NOT_DONE, Answer, Mistake, check_answers


def distinct_mistakes(answer: Answer, mistakes: Iterable[Mistake]) -> list[Mistake]:
    """The mistakes whose value differs from ``answer``'s expected value beyond its tolerance
    (a mistake that coincides with the right answer on this example cannot be named)."""
    return [
        m
        for m in mistakes
        if m.value is None
        or np.shape(m.value) != np.shape(answer.expected)
        or not answer.matches(np.asarray(m.value, np.float64))
    ]


def with_mistakes(answer: Answer, mistakes: Iterable[Mistake]) -> Answer:
    """``answer`` with its catalogue: the given mistakes that change the result here."""
    return Answer(
        answer.expected,
        distinct_mistakes(answer, mistakes),
        correct=answer.correct,
        rtol=answer.rtol,
        atol=answer.atol,
        hint=answer.hint,
        scale_hint=answer.scale_hint,
    )


def _close_enough(yours: Any, expected: Any) -> bool:
    """Whether ``yours`` equals ``expected`` within float32 rounding (the default tolerance)."""
    if yours is NOT_DONE or yours is None:
        return False
    try:
        array = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return array.shape == np.shape(expected) and Answer(expected).matches(array)


def check_lazily(
    expected: Mapping[str, Any],
    catalogue: Callable[[], Mapping[str, Answer]],
    note: str = "",
    **yours: Any,
) -> None:
    """Check a cell's answers: accept them at once when each equals its ``expected`` value
    within float32 rounding; otherwise build the full catalogue (correct forms that widen
    the tolerance, and the mistakes, each computed with the library: costly) and let it judge
    and explain, answer by answer (:func:`helpers.exercises.check_answers`). ``note`` is
    printed before a costly catalogue is built (e.g. how long it takes).

    The verdict is the same as checking against the full catalogue directly: an answer
    within the tight tolerance is also within the widened one, and a catalogued mistake
    that close to the right answer is dropped (:func:`distinct_mistakes`)."""
    if all(_close_enough(value, expected[name]) for name, value in yours.items()):
        for name in yours:
            print(f"{name}: correct")
        return
    if note and not all(value is NOT_DONE for value in yours.values()):
        print(note, flush=True)
    check_answers(catalogue(), **yours)
