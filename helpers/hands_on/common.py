"""What the notebooks' catalogues share: keeping only the mistakes that show on the example."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..exercises import Answer, Mistake


def distinct(expected, mistakes: Iterable[Mistake], correct=()) -> list[Mistake]:
    """The mistakes whose result differs from the right answer here, beyond the tolerance.

    A mistake that coincides with the right answer on this model and example (e.g. the
    top-1 class when it *is* the asked class, or HiResCAM on a global-average-pooling
    head) cannot be told apart from it, so the catalogue drops it rather than reject a
    right answer. ``None`` (code that returned nothing) always differs.
    """
    reference = Answer(expected, correct=correct)
    return [
        m
        for m in mistakes
        if m.value is None
        or np.shape(m.value) != np.shape(expected)
        or not reference.matches(np.asarray(m.value, np.float64))
    ]
