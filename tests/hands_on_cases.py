"""Running student code through a hands-on catalogue, for the catalogue tests.

Each test writes a mistake the way a student would write it (not by reusing the catalogue's
own computation), runs it through the cell's :class:`~helpers.exercises.Answer` and asserts
the verdict: ``"correct"``, the label of the catalogued mistake it was named as, or
``"wrong: <message>"`` for a wrong answer the catalogue does not name.
"""

from __future__ import annotations

import re
from typing import Any

from helpers.exercises import Answer, WrongAnswerError
from helpers.paths import PROJECT_ROOT


def verdict(answer: Answer, yours: Any) -> str:
    """What the check cell would say about ``yours``, as a short verdict."""
    found = answer.mistake(yours)
    if found is not None:
        return found.label
    try:
        answer.check("answer", yours)
    except WrongAnswerError as err:
        return f"wrong: {err}"
    return "correct"


def instructors_text() -> str:
    return (PROJECT_ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")


def unlisted_mistakes(labels: list[str]) -> list[str]:
    """The labels INSTRUCTORS.md's list of mistakes the checks catch does not quote."""
    text = re.sub(r"\s+", " ", instructors_text())
    return [label for label in labels if re.sub(r"\s+", " ", label) not in text]
