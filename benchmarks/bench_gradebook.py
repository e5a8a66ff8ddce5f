"""Time batch grading: ``python benchmarks/bench_gradebook.py [N] [REPEATS]``.

Generates N submissions (default 100; every kind of damage of tests/submission_factory,
zips and a stray file among them) in a temporary folder, then runs
``python -m helpers.check_submission --all DIR --csv gradebook.csv`` in a fresh process
REPEATS times (default 3) and prints each wall time and the median.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.submission_factory import make_class  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        expected = make_class(subs, n)
        broken = sum(kind is not None for kind in expected.values())
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "helpers.check_submission", "--all", str(subs),
                 "--csv", str(Path(tmp) / "gradebook.csv")],
                cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
            if result.returncode not in (0, 1):
                sys.exit(f"the command failed: {result.stderr}")
        print(f"{n} submissions ({broken} broken): " + ", ".join(f"{t:.2f} s" for t in times))
        print(f"median {statistics.median(times):.2f} s per class, in a fresh process")


if __name__ == "__main__":
    main()
