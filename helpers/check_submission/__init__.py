"""``python -m helpers.check_submission DIR``: the command; the checker is
:mod:`helpers.assignment.checker` (no TensorFlow import)."""

from ..assignment.checker import (  # noqa: F401
    CheckResult,
    Problem,
    check_submission,
    inspect_submission,
    main,
    submission_problems,
)
