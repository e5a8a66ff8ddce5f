"""Quiet notebooks (issue 16): a notebook cell fails when it shows a student noise.

nbval (0.11) runs each cell and keeps what the kernel sent back in ``item.test_outputs``.
This pytest plugin wraps every nbval cell's ``runtest``: after the cell ran, its outputs are
scanned, so the check costs no second run of any notebook. Noise is

* TensorFlow's C++ log (``WARNING: All log messages before absl::InitializeLog()``,
  ``I0000 00:00:17... cudart_stub.cc:31] Could not find cuda drivers``), also any other
  line of a C++ log (``W0000``/``E0000 ...``): none should reach a student;
* a Keras progress bar (``1/1 ━━━━━━ 124ms/step``; tf.keras' ``[=====]``);
* a traceback printed to a stream, and ``WARNING:``/``ERROR:`` lines (pip, absl);
* a warning from a third-party package (its path in ``site-packages``), which a student
  cannot act on: the course either avoids it or silences it where it is raised;
* a stray displayed value: a bare ``[]``, ``()``, ``{}`` or ``None``, or the repr of a
  matplotlib object (``[<matplotlib.lines.Line2D ...>]``, ``Text(0.5, 1.0, '...')``).

The course's own progress bars (tqdm widgets) and warnings are not noise.

One more step makes nbval see what a student sees: ipykernel forwards what C++ code writes
to the process's descriptors 1 and 2 (TensorFlow's log) into the notebook, but not when
``PYTEST_CURRENT_TEST`` is in its environment (ipykernel 6-7 steps aside for pytest's own
capture), and nbval starts its kernel from inside a test. So the kernel is started without
that variable; it writes to the notebook exactly what Jupyter or Colab would show. The README's
``pytest`` loads this plugin through ``tests/conftest.py``; a run of notebooks alone loads it
with ``-p tests.notebook_noise`` (``.ci/run``). It imports nothing from the course, so the
Colab simulation can load it too.
"""

from __future__ import annotations

import os
import re

_STREAM_NOISE = [
    ("TensorFlow's C++ log", re.compile(r"absl::InitializeLog|Could not find cuda drivers")),
    ("TensorFlow's C++ log", re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ", re.M)),
    ("a Keras progress bar", re.compile(r"━|\d+/\d+ \[=*>?\.*\]")),
    ("a traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("a WARNING/ERROR line", re.compile(r"^(?:WARNING|ERROR):", re.M)),
    (
        "a third-party warning",
        re.compile(r"(?:site|dist)-packages/\S+:\d+: \w*(?:Warning|Deprecation)\w*: ", re.M),
    ),
]
_STRAY_VALUES = re.compile(
    r"^(?:\[\]|\(\)|\{\}|None|\[?<matplotlib\.[\w.]+ (?:object )?at 0x[0-9a-f]+>.*"
    r"|Text\(.*\)|<Figure size .*>)$",
    re.S,
)
_RICH = ("text/html", "image/png", "image/svg+xml", "application/vnd.jupyter.widget-view+json")


def noise_in(outputs) -> list[str]:
    """What in a cell's outputs (nbformat output dicts) a student should not see."""
    found = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
            for label, pattern in _STREAM_NOISE:
                match = pattern.search(text)
                if match:
                    line = text[text.rfind("\n", 0, match.start()) + 1 :].split("\n", 1)[0]
                    found.append(f"{label} on {output.get('name')}: {line.strip()[:160]}")
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            plain = str(data.get("text/plain", "")).strip()
            if plain and not any(mime in data for mime in _RICH) and _STRAY_VALUES.match(plain):
                found.append(f"a stray displayed value: {plain[:160]}")
        elif kind == "error":
            found.append(f"an error: {output.get('ename')}: {output.get('evalue')}")
    return found


def _scan_after(item) -> None:
    run = item.runtest

    def runtest():
        run()
        found = noise_in(getattr(item, "test_outputs", None) or [])
        if found:
            item.raise_cell_error(
                "Noisy output (issue 16: quiet notebooks):\n  " + "\n  ".join(found)
            )

    item.runtest = runtest


def _kernel_like_jupyters(notebook) -> None:
    """Start the notebook's kernel without ``PYTEST_CURRENT_TEST`` (see the docstring)."""
    start = notebook.setup

    def setup():
        saved = os.environ.pop("PYTEST_CURRENT_TEST", None)
        try:
            start()
        finally:
            if saved is not None:
                os.environ["PYTEST_CURRENT_TEST"] = saved

    notebook.setup = setup


def pytest_collection_modifyitems(session, config, items) -> None:
    """Scan every executed nbval cell; start each notebook's kernel as Jupyter would."""
    notebooks = []
    for item in items:
        if type(item).__name__ == "IPyNbCell" and hasattr(item, "raise_cell_error"):
            if getattr(item, "_noise_scanned", False):  # loaded twice (conftest and -p)
                return
            item._noise_scanned = True
            _scan_after(item)
            if item.parent not in notebooks:
                notebooks.append(item.parent)
    for notebook in notebooks:
        _kernel_like_jupyters(notebook)
