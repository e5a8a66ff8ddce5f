"""``python -m helpers.explain IMAGE --class NAME``: the command (see
:mod:`helpers.assignment.cli`)."""

from .assignment.cli import main, run  # noqa: F401

if __name__ == "__main__":
    main()
