"""The noise scan of executed notebooks (tests/notebook_noise.py) flags what a student should
not see and nothing else; a planted noisy notebook fails under nbval, a clean cell passes."""

import json
import os
import subprocess
import sys

from helpers.paths import PROJECT_ROOT
from tests.notebook_noise import noise_in

ABSL = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
CUDA = (
    "I0000 00:00:1796285700.683929   23338 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n"
)
BAR = "\x1b[1m1/1\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m 275ms/step\n"  # noqa: E501
KERAS_WARNING = (
    "/venv/lib/python3.11/site-packages/keras/src/models/functional.py:241: UserWarning: "
    "The structure of `inputs` doesn't match the expected structure.\n"
)


def _stream(text, name="stderr"):
    return {"output_type": "stream", "name": name, "text": text}


def _result(plain, **more):
    return {"output_type": "execute_result", "data": {"text/plain": plain, **more}}


def test_noise_is_named():
    noisy = {
        "TensorFlow's C++ log": [_stream(ABSL + CUDA)],
        "a Keras progress bar": [_stream(BAR, "stdout")],
        "a traceback": [_stream("Traceback (most recent call last):\n  File ...\n")],
        "a third-party warning": [_stream(KERAS_WARNING)],
        "a stray displayed value": [_result("[]")],
    }
    for label, outputs in noisy.items():
        found = noise_in(outputs)
        assert found and found[0].startswith(label), (label, found)
    assert noise_in([_result("[<matplotlib.lines.Line2D at 0x7f3a2c1b5e50>]")])
    assert noise_in([_result("Text(0.5, 1.0, 'Grad-CAM')")])


def test_what_the_course_shows_is_not_noise():
    ours = [
        _stream("Loaded efficientnet_lite0 (ImageNet weights) in 3.4 s\n", "stdout"),
        _stream("SmoothGrad:  40%|####      | 40/100 [00:02<00:03, 19.8it/s]\r"),  # tqdm, text
        _stream("/tmp/ipykernel_12/3.py:4: UserWarning: Integrated Gradients did not reach\n"),
        {
            "output_type": "display_data",
            "data": {
                "text/plain": "SmoothGrad:   0%|          | 0/50",
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
            },
        },
        _result("[]", **{"text/html": "<table></table>"}),  # rendered, not a bare repr
        _result("<pandas.io.formats.style.Styler at 0x7f3a>", **{"text/html": "<table>"}),
        _result("0.93"),
    ]
    assert noise_in(ours) == []


def _notebook(cells):
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_a_planted_noisy_cell_fails_and_a_clean_one_passes(tmp_path):
    """Under nbval, as in Jupyter: C++ output on descriptor 2 reaches the cell (and fails it);
    TensorFlow imported after ``import helpers`` shows nothing (the cell passes)."""
    planted = _notebook(
        [
            "print('a clean cell')",
            f"import os, time\nos.write(2, {ABSL.encode()!r})\ntime.sleep(0.5)",
            "[]",
            "import warnings\nwarnings.warn_explicit('old API', UserWarning, "
            "'/venv/lib/python3.11/site-packages/keras/api.py', 3)",
            f"import sys\nsys.path.insert(0, {str(PROJECT_ROOT)!r})\nimport helpers, keras",
        ]
    )
    path = tmp_path / "planted.ipynb"
    path.write_text(json.dumps(planted), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "tests.notebook_noise", "-p", "no:cacheprovider",
            "--nbval-lax", "--nbval-current-env", "-c", str(tmp_path / "pytest.ini"),
            "--rootdir", str(tmp_path), "-q", "-rf", str(path),
        ],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 1 and "2 passed" in out and "3 failed" in out, out[-3000:]
    for cell in (1, 2, 3):
        assert f"planted.ipynb::Cell {cell} " in out, (cell, out[-3000:])
    for label in ("TensorFlow's C++ log", "a stray displayed value: []", "a third-party warning"):
        assert label in out, (label, out[-3000:])
