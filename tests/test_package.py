"""The helpers package: every advertised name resolves, and none is shadowed by a module."""

import importlib
import subprocess
import sys

import helpers
from helpers.paths import PROJECT_ROOT


def test_every_export_resolves_to_what_its_module_defines():
    for name, module in helpers._EXPORTS.items():
        value = getattr(helpers, name)
        assert value is getattr(importlib.import_module(f"helpers.{module}"), name), name


def test_no_export_is_named_like_a_module():
    """Importing helpers.<module> sets that attribute on the package and would hide a function."""
    root = PROJECT_ROOT / "helpers"
    modules = {p.stem for p in root.glob("*.py")} | {p.parent.name for p in root.glob("*/*.py")}
    assert not modules & set(helpers._EXPORTS)


def test_import_is_light():
    """`import helpers` must not import TensorFlow (command-line tools start fast)."""
    code = "import sys, helpers; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
