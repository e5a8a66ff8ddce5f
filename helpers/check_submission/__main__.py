"""``python -m helpers.check_submission DIR``."""

import sys

from ..assignment.checker import main

sys.exit(main())
