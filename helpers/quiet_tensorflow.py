"""Import TensorFlow without its C++ start-up chatter, and keep every real error.

While ``import tensorflow`` runs, TensorFlow's C++ core writes a few INFO lines straight to
the process's file descriptor 2, before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL``
cannot stop them (TensorFlow 2.21; tensorflow/tensorflow#100442)::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796285700.683929   23338 cudart_stub.cc:31] Could not find cuda drivers ...

Jupyter's kernel forwards descriptor 2 into the notebook, so every notebook showed them
twice (Colab's TensorFlow 2.19 adds a few harmless ``E``/``W`` lines about plugins registered
twice). :func:`install` (run by ``import helpers``) puts a finder on ``sys.meta_path`` that
runs the **first** ``import tensorflow``, whoever asks for it (Keras, tf-explain, a notebook
cell), with descriptor 2 pointed at a temporary file. Afterwards the INFO lines, that banner
and those known-harmless lines are dropped, and everything else (warnings, errors, a
traceback's output) is written to ``sys.stderr``, so a real problem still reaches the
student. Nothing else is changed: Python-level warnings go through ``sys.stderr`` as before.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: The lines dropped: absl's banner, INFO-level lines (``I0000 00:00:1796285700.67 23338
#: f.cc:31] ...`` or ``2025-01-01 12:00:00.0: I ...``) and the CPU-features notice's 2nd line.
_CHATTER = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: I [\w/.]+:\d+\] .*"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate "
    r"compiler flags\.)$"
)
#: Warnings and errors TensorFlow logs at import although nothing is wrong: its CPU wheels
#: register the CUDA plugins and the XLA computation placer twice (TensorFlow 2.19, Colab's
#: version: tensorflow/tensorflow#62075). Dropped whatever their severity.
_HARMLESS = re.compile(
    r"^[WE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] (?:Unable to register cu(?:DNN|FFT|BLAS) factory: "
    r"Attempting to register factory for plugin \w+ when one has already been registered"
    r"|computation placer already registered\. Please check linkage and avoid linking the same "
    r"target more than once\.)$"
)


def without_chatter(text: str) -> str:
    """``text`` without TensorFlow's start-up INFO lines (see the module's docstring)."""
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not (_CHATTER.match(line.rstrip()) or _HARMLESS.match(line.rstrip()))
    ]
    return "".join(kept)


def run_with_quiet_stderr(load: Callable[[], T]) -> T:
    """``load()`` with descriptor 2 captured; what was written there, minus TensorFlow's
    start-up chatter, is then written to ``sys.stderr`` (also when ``load`` raises)."""
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (e.g. a windowed interpreter): nothing to hide
        return load()
    with tempfile.TemporaryFile() as sink:
        _flush(sys.stderr)
        os.dup2(sink.fileno(), 2)
        try:
            return load()
        finally:
            _flush(sys.stderr)
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            rest = without_chatter(sink.read().decode("utf-8", errors="replace"))
            if rest:
                sys.stderr.write(rest)
                _flush(sys.stderr)


def _flush(stream) -> None:
    with contextlib.suppress(AttributeError, OSError, ValueError):
        stream.flush()


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader's ``exec_module`` with a quiet descriptor 2, then steps aside."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        try:
            run_with_quiet_stderr(lambda: self._loader.exec_module(module))
        finally:  # the module keeps its own loader (resources, reloading)
            module.__loader__ = self._loader
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


class _FirstTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, through the other finders, and wraps its loader."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        uninstall()
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


#: The course's compiled kernels: closures made once per model (and layer), each with an
#: ``input_signature`` so that it is traced exactly once for any batch size.
_OWN_KERNELS = (
    "input_gradient_function.<locals>.input_gradients",
    "_Compiled.__init__.<locals>.weighted_path_gradients",
    "_masked_logits.<locals>.masked_logits",
    "_compile.<locals>.parts",
    "_compile_features.<locals>.parts",
    "_compiled.<locals>.run",
)
_RETRACING = re.compile(
    r"calls to <function (?:" + "|".join(re.escape(k) for k in _OWN_KERNELS) + r") at 0x"
    r"[0-9a-f]+> triggered tf\.function retracing"
)


class _OwnKernelRetracing(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function ...> triggered tf.function
    retracing" for the course's own kernels. TensorFlow counts traces per Python *code*
    object, so compiling one kernel per layer from the same code (looking at five layers in
    a row, notebook 07) reads as retracing although each kernel is traced once. The warning
    about any other function (a student's) is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _RETRACING.search(record.getMessage())


def quiet_own_retracing() -> None:
    """Install :class:`_OwnKernelRetracing` on TensorFlow's logger (idempotent)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _OwnKernelRetracing) for f in logger.filters):
        logger.addFilter(_OwnKernelRetracing())


def install() -> None:
    """Make the first ``import tensorflow`` quiet (no-op once TensorFlow is imported), and
    TensorFlow's retracing warning quiet about the course's own kernels."""
    quiet_own_retracing()
    if "tensorflow" in sys.modules or any(
        isinstance(f, _FirstTensorFlowImport) for f in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, _FirstTensorFlowImport())


def uninstall() -> None:
    """Remove the finder (TensorFlow then imports as usual)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _FirstTensorFlowImport)]
