"""The first `import tensorflow` shows no C++ start-up chatter, and real errors still show."""

import os
import subprocess
import sys

import pytest

from helpers.paths import PROJECT_ROOT
from helpers.quiet_tensorflow import run_with_quiet_stderr, without_chatter

CHATTER = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796285700.674914   23338 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796285700.683929   23338 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n"
    "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could "
    "not find cuda drivers on your machine, GPU will not be used.\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.\n"
    # TensorFlow 2.19 (Colab's): plugins registered twice, harmless
    "E0000 00:00:1796289024.933447   21794 cuda_dnn.cc:8579] Unable to register cuDNN factory: "
    "Attempting to register factory for plugin cuDNN when one has already been registered\n"
    "W0000 00:00:1796289025.029866   21794 computation_placer.cc:177] computation placer already "
    "registered. Please check linkage and avoid linking the same target more than once.\n"
)
REAL = (
    "E0000 00:00:1758131045.203198 3722035 op_kernel.cc:1840] OP_REQUIRES failed: NOT_FOUND\n"
    "Traceback (most recent call last):\n"
    "ImportError: libcudart.so.12: cannot open shared object file\n"
)


def test_chatter_is_dropped_and_errors_are_kept():
    assert without_chatter(CHATTER) == ""
    assert without_chatter(CHATTER + REAL) == REAL


def test_descriptor_2_is_captured_and_what_matters_written_back(capfd):
    def noisy():
        os.write(2, (CHATTER + REAL).encode())
        return 42

    assert run_with_quiet_stderr(noisy) == 42
    err = capfd.readouterr().err
    assert err == REAL


def test_output_survives_a_failing_import(capfd):
    def failing():
        os.write(2, (CHATTER + REAL).encode())
        raise ImportError("libcudart.so.12")

    with pytest.raises(ImportError, match="libcudart"):
        run_with_quiet_stderr(failing)
    assert capfd.readouterr().err == REAL


def _stderr_of(code: str) -> str:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return result.stderr


def test_import_helpers_then_keras_is_quiet():
    """Keras imports TensorFlow (as tf-explain and notebook cells do): after `import helpers`
    that import writes nothing; without it, TensorFlow 2.21 writes its chatter (the control:
    when a TensorFlow release stops, this module can go)."""
    loud = _stderr_of("import keras")
    quiet = _stderr_of("import helpers, keras, tensorflow; assert tensorflow.__spec__.loader")
    assert "absl::InitializeLog" in loud and "cuda drivers" in loud, loud
    assert quiet == "", quiet
