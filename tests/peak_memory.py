"""Peak memory of one call, measured in a fresh process (VmHWM after resetting it).

``peak_mib(call, error, target)`` runs ``call(target)`` in a new interpreter and returns
(``"loaded"`` or the name of the ``error`` it raised, MiB the high-water mark rose by). The
target ``"control"`` allocates and touches 200 MiB instead, so a test can show that the
measurement sees an allocation (a measurement that cannot fail proves nothing).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from helpers.paths import PROJECT_ROOT

_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    {imports}

    def kib(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])

    open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark
    before = kib("VmRSS:")
    outcome = "loaded"
    if sys.argv[1] == "control":
        keep = np.ones(200 * 2**20 // 8)  # 200 MiB, touched: the measurement must see it
    else:
        try:
            keep = {call}(sys.argv[1])
        except {error} as exc:
            outcome = type(exc).__name__
    print(outcome, (kib("VmHWM:") - before) / 1024)
    """
)


def peak_mib(module: str, call: str, error: str, target: str) -> tuple[str, float]:
    """Run ``module.call(target)`` in a fresh process; (outcome, peak MiB above the start)."""
    script = _SCRIPT.format(imports=f"from {module} import {call}, {error}", call=call, error=error)
    result = subprocess.run(
        [sys.executable, "-c", script, target],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    outcome, mib = result.stdout.split()
    return outcome, float(mib)
