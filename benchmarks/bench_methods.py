"""Benchmark the attribution methods against their floor and against tf-explain.

For each model (VGG16 with random weights: timing does not depend on the weights;
EfficientNet-Lite0 with its real weights), on one 224x224 image:

* in one process: the floor, i.e. the best per-image time of one forward pass and of one
  forward+backward pass (compiled, over batch sizes 1, the auto chunk size and twice
  that), times the passes a method needs (``passes`` in the method registry); every
  registered method runs at its registry settings (``--quick``: its fast settings); each
  method's time; tf-explain 0.3.1's time at equal settings. Times are the best of several
  runs after a warm-up (as ``timeit`` does: the minimum is the least disturbed by other
  work on the machine), ours and tf-explain's runs interleaved;
* in a fresh process per (model, method, implementation): the peak resident memory of
  loading the model and running the method once (``VmHWM``), so that one
  measurement's allocations cannot inflate another's.

Run:  python benchmarks/bench_methods.py             (full: about 15 minutes on 2 cores)
      python benchmarks/bench_methods.py --quick     (small settings, no memory runs)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tf_explain.core import (  # noqa: E402
    GradCAM,
    GradientsInputs,
    IntegratedGradients,
    OcclusionSensitivity,
    SmoothGrad,
    VanillaGradients,
)

import helpers  # noqa: E402
from helpers.methods.batching import auto_batch_size  # noqa: E402
from helpers.methods.kernels import logit_gradients  # noqa: E402
from helpers.methods.registry import METHODS, Passes  # noqa: E402
from helpers.models.scores import batch_logits  # noqa: E402

CLASS_INDEX = 281
#: Equal settings to tf-explain, whose occlusion only knows stride = patch.
EQUAL_TO_TF_EXPLAIN = {"occlusion": lambda s: {"stride": s["patch"]}}


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs, after one warm-up run (tracing, allocation)."""
    return best_times([fn], repeats)[0]


def best_times(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """The fastest of ``repeats`` runs of each function, the runs interleaved (a, b, a, b...)
    so that a slow spell of the machine hits both sides of a comparison alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


@dataclass
class Case:
    method: str
    settings: dict
    passes: Passes  # forward+backward and forward passes one image needs
    ours: Callable[[], object]
    theirs: Callable[[], object] | None  # tf-explain at equal settings, if it has the method


def _quiet(fn):
    """Run ``fn`` with stdout silenced (tf-explain's occlusion prints a progress bar)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def _tf_explain(name: str, model, image: np.ndarray, s: dict) -> Callable[[], object] | None:
    """tf-explain 0.3.1's version of a registered method at the same settings, if any."""
    data, c = (np.array([image]), None), CLASS_INDEX
    if name == "vanilla_gradients":
        return lambda: VanillaGradients().explain(data, model, c)
    if name == "gradient_x_input":
        return lambda: GradientsInputs().explain(data, model, c)
    if name == "grad_cam":
        layer = s["layer"] or helpers.grad_cam_layer(model)
        return lambda: GradCAM().explain(data, model, c, layer_name=layer, use_guided_grads=False)
    if name == "smoothgrad":
        sigma = s["noise"] * float(image.max() - image.min())  # tf-explain's noise is absolute
        return lambda: SmoothGrad().explain(data, model, c, num_samples=s["n"], noise=sigma)
    if name == "integrated_gradients":  # steps: the intervals ours used (also for "auto")
        points = s.get("steps_used", s["steps"]) + 1
        return lambda: IntegratedGradients().explain(data, model, c, n_steps=points)
    if name == "occlusion":
        return lambda: _quiet(lambda: OcclusionSensitivity().explain(data, model, c, s["patch"]))
    return None


def make_cases(model, image: np.ndarray, quick: bool, names=None) -> list[Case]:
    """Every registered method (or those in ``names``) at its registry settings (``quick``:
    its fast ones), with tf-explain's version at equal settings where there is one (none
    for Guided Backprop, Guided Grad-CAM, SmoothGrad-squared, VarGrad)."""
    cases = []
    for name, method in METHODS.items():
        if names and name not in names:
            continue
        s = method.settings(quick)
        s.update(EQUAL_TO_TF_EXPLAIN.get(name, lambda s: {})(s))
        passes = method.count_passes(s, image.shape[:2], model)
        if s.get("steps") == "auto":  # IG to a tolerance: the floor is the points it used
            _, _, check = method.run(model, image, CLASS_INDEX, progress=False, **s)
            s["steps_used"] = check.steps
            passes = Passes(backward=check.steps + 1)
        run_settings = {k: v for k, v in s.items() if k != "steps_used"}
        cases.append(
            Case(
                name,
                s,
                passes,
                lambda m=method, s=run_settings: m.run(
                    model, image, CLASS_INDEX, progress=False, **s
                ),
                _tf_explain(name, model, image, s),
            )
        )
    return cases


def load(name: str):
    model = helpers.load_model(name, pretrained=(name != "vgg16"), verbose=False)
    return model, helpers.load_image(helpers.sample_image("cat"))


def pass_costs(model, image, repeats: int) -> dict[str, float]:
    """Per-image seconds: forward and forward+backward, batch 1 and best over batch sizes."""
    costs = {}
    size = auto_batch_size(model)
    for batch_size in sorted({1, size, 2 * size}):
        batch = np.repeat(image[None], batch_size, axis=0)
        classes = np.full(batch_size, CLASS_INDEX, np.int32)
        fwd = best_time(lambda b=batch: batch_logits(model, b), repeats) / batch_size
        bwd = best_time(lambda b=batch, k=classes: logit_gradients(model, b, k), repeats)
        costs[f"forward, batch {batch_size}"] = fwd
        costs[f"forward+backward, batch {batch_size}"] = bwd / batch_size
    costs["forward"] = min(v for k, v in costs.items() if k.startswith("forward,"))
    costs["forward+backward"] = min(v for k, v in costs.items() if k.startswith("forward+b"))
    return costs


def peak_memory_gb(model_name: str, method: str, implementation: str, quick: bool) -> float:
    """Peak RSS of a fresh process that loads the model and runs one method once."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", model_name, method, implementation,
         json.dumps(quick)],
        capture_output=True, text=True, check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def child(model_name: str, method: str, implementation: str, settings: str) -> None:
    model, image = load(model_name)
    case = make_cases(model, image, json.loads(settings), [method])[0]
    if case.theirs is None and implementation != "ours":
        raise SystemExit(f"tf-explain has no {method}")
    (case.ours if implementation == "ours" else case.theirs)()
    print(peak_rss_kib() / 1e6)  # KiB -> GB


def peak_rss_kib() -> int:
    """This process's resident-memory high-water mark (VmHWM), in KiB.

    Not ``ru_maxrss``: a child started with fork + exec inherits its parent's maximum.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def floor_seconds(passes: Passes, costs: dict[str, float]) -> float:
    """The passes a method needs times the best per-image cost of each kind of pass."""
    return passes.backward * costs["forward+backward"] + passes.forward * costs["forward"]


def bench_model(
    name: str, quick: bool, repeats: int, memory: bool, methods=None
) -> list[str]:
    model, image = load(name)
    costs = pass_costs(model, image, repeats)
    rows = []
    for case in make_cases(model, image, quick, methods):
        floor = floor_seconds(case.passes, costs)
        heavy = case.passes.backward + case.passes.forward > 10 or name == "vgg16"
        fns = [case.ours] + ([case.theirs] if case.theirs else [])
        ours, *theirs = best_times(fns, repeats if heavy else 3 * repeats)
        memory_cell = "not measured"
        if memory:
            mine = peak_memory_gb(name, case.method, "ours", quick)
            other = peak_memory_gb(name, case.method, "tf-explain", quick) if theirs else None
            memory_cell = f"{mine:.2f} / " + (f"{other:.2f}" if other else "n/a")
        other_cells = f"{theirs[0]:.3f} | {theirs[0] / ours:.1f}x" if theirs else "n/a | n/a"
        print(f"  {case.method:21s} ours {ours:7.3f} s  floor {floor:7.3f} s  "
              f"tf-explain {other_cells}  memory {memory_cell}", flush=True)
        shown = {k: v for k, v in case.settings.items() if k != "steps_used"}
        described = METHODS[case.method].describe(shown)
        if "steps_used" in case.settings:
            described += f" ({case.settings['steps_used']} used)"
        rows.append(
            f"| {name} | {METHODS[case.method].title} | {described} | {ours:.3f} | {floor:.3f} "
            f"| {ours / floor:.2f} | {other_cells} | {memory_cell} |"
        )
    for key in ("forward, batch 1", "forward", "forward+backward, batch 1", "forward+backward"):
        label = key if "batch" in key else f"{key}, best per image"
        rows.append(f"| {name} | ({label}) | | {costs[key]:.4f} | | | | | |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small settings, no memory runs")
    parser.add_argument("--models", default="efficientnet_lite0,vgg16")
    parser.add_argument("--repeats", type=int, help="best of (default 3; 1 with --quick)")
    parser.add_argument("--methods", default=None, help="comma-separated (default: all)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    print(f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
          f"TensorFlow {tf.__version__}", flush=True)
    table = [
        "| model | method | settings | ours (s) | floor (s) | ours / floor | tf-explain (s) "
        "| tf-explain / ours | peak memory, ours / tf-explain (GB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.models.split(","):
        print(f"{name}:", flush=True)
        methods = args.methods.split(",") if args.methods else None
        repeats = args.repeats or (1 if args.quick else 3)
        table += bench_model(name, args.quick, repeats, not args.quick, methods)
    print("\n" + "\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
