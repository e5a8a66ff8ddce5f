"""The method registry is the one extension point; the packages import only downwards."""

import ast
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import helpers
from helpers.methods.registry import METHODS, Control, Method, Passes, register, unregister
from helpers.paths import PROJECT_ROOT
from tests.toy_models import smooth_cnn

#: Layers, lowest first: a module may import from its own layer or a lower one.
LAYERS = ["paths", "environment", "exercises", "install", "publish", "data", "models", "compat",
          "methods", "viz", "evaluation", "hands_on", "assignment", "explain", "report",
          "check_submission", "__init__"]
#: The one upward import, made lazily inside a function: load_model switches on the
#: tf-explain fix (a hook into the library it repairs, not something loading needs).
ALLOWED_UPWARD = {("helpers.models.loading", "helpers.compat.tf_explain")}


def _imports() -> dict[str, list[tuple[str, bool]]]:
    """{module: [(imported helpers module, at module level?)]} for every file of helpers/."""
    found = {}
    for path in sorted((PROJECT_ROOT / "helpers").rglob("*.py")):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if path.stem == "__init__" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                if not node.module:  # from . import x
                    target = f"{base}.{node.names[0].name}"
                edges.append((target, id(node) in top))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                edges.append((node.module, id(node) in top))
        found[name] = edges
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1] if len(parts) > 1 else "__init__")


def test_imports_only_go_downwards():
    wrong = [
        (module, target)
        for module, edges in _imports().items()
        for target, _ in edges
        if target.startswith("helpers.")
        and _layer(target) > _layer(module)
        and (module, target) not in ALLOWED_UPWARD
    ]
    assert not wrong


def test_no_import_cycle():
    imports = _imports()
    graph = {m: {t for t, top in e if top and t in imports} for m, e in imports.items()}
    assert "helpers.methods.batching" in graph["helpers.methods.smoothgrad"]  # edges are seen
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*path, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_the_commands_work_and_the_checker_imports_no_tensorflow(tmp_path):
    for command in ("helpers.explain", "helpers.report", "helpers.check_submission"):
        result = subprocess.run(
            [sys.executable, "-m", command, "--help"], cwd=PROJECT_ROOT, capture_output=True,
            text=True, timeout=60,
        )
        assert result.returncode == 0 and "usage" in result.stdout.lower(), command
    code = (
        "import sys; from helpers.check_submission import main; "
        f"status = main([{str(tmp_path)!r}]); print(status, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[-2:] == ["1", "False"]


def test_the_functions_defaults_are_the_registrys():
    """A function called directly (helpers.smoothgrad(...)) uses the registry's defaults:
    the signatures may not drift from the one place the defaults are kept."""
    import inspect

    for method in METHODS.values():
        parameters = inspect.signature(method.resolve()).parameters
        for setting, value in method.defaults.items():
            assert parameters[setting].default == value, (method.name, setting)


def test_smoothgrad_map_does_not_depend_on_its_batch_or_chunks():
    model = smooth_cnn()
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (3, 10, 12, 3)).astype(np.float32)
    together = helpers.smoothgrad(model, images, 1, n=7, batch_size=3)
    alone = helpers.smoothgrad(model, images[2], 1, n=7, batch_size=4)
    np.testing.assert_allclose(together[2], alone, rtol=1e-5, atol=1e-7)
    assert not np.allclose(together[0], together[1])


def brightness(model, image, class_index, scale=1.0, batch_size=None, progress=None):
    """A toy 'method' defined in this test only: scaled mean colour, (H, W)."""
    from helpers.methods.batching import prepare, unbatch

    batch, _, single, _ = prepare(model, image, class_index, batch_size)
    if callable(progress):
        progress(1.0)
    return unbatch(scale * batch.mean(axis=-1), single)


@pytest.fixture
def toy_method():
    method = register(
        Method(
            name="brightness",
            title="Brightness (test)",
            function=brightness,
            paper="none: a test of the extension point",
            defaults={"scale": 2.0},
            fast={"scale": 3.0},
            passes=lambda s, hw: Passes(forward=0),
            controls=(Control("scale", "Scale", 1.0, 4.0, 0.5, kind="float"),),
            aliases=("bright",),
        )
    )
    yield method
    unregister(method.name)


def test_a_registered_method_appears_everywhere(toy_method, lite0, cat):
    from helpers.assignment.cli import build_parser
    from helpers.assignment.run import chosen_methods, run_methods

    assert "brightness (bright)" in " ".join(build_parser().format_help().split())
    assert chosen_methods("grad_cam,bright") == ("grad_cam", "brightness")
    assert "brightness" in chosen_methods("all")

    results = run_methods(lite0, cat, 281, "bright", metric_steps=4, progress=None)
    np.testing.assert_allclose(results["brightness"].display_map, 3.0 * cat.mean(-1) * 2 / 3)
    assert results["brightness"].settings_text == "scale=2.0"

    ex = helpers.explorer(lite0, {"cat": cat})
    assert "Brightness (test)" in ex.controls["method"].options
    ex.controls["method"].value = "Brightness (test)"
    ex.controls["scale"].value = 1.5
    np.testing.assert_allclose(ex.last_map, 1.5 * cat.mean(-1))
    assert ex.controls["scale"].layout.display == ""

    spec = importlib.util.spec_from_file_location(
        "bench_methods", PROJECT_ROOT / "benchmarks" / "bench_methods.py"
    )
    bench = sys.modules["bench_methods"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    case = next(c for c in bench.make_cases(lite0, cat, quick=True) if c.method == "brightness")
    assert case.settings == {"scale": 3.0} and case.theirs is None
    np.testing.assert_allclose(case.ours()[0], 3.0 * cat.mean(-1))
