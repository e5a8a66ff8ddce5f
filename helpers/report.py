"""``python -m helpers.report DIR``: rewrite comparison.md from comparison.csv (see
:mod:`helpers.assignment.cli`)."""

import sys

from .assignment.cli import report_main as main

if __name__ == "__main__":
    sys.exit(main())
