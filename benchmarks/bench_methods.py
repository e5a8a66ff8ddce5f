"""Benchmark the attribution methods against their floor and against tf-explain.

For each model (VGG16 with random weights: timing does not depend on the weights;
EfficientNet-Lite0 with its real weights), on one 224x224 image:

* in one process: the floor, i.e. the best per-image time of one forward pass and of one
  forward+backward pass (compiled, over batch sizes 1, the auto chunk size and twice
  that), times the passes a method needs; each method's time; tf-explain 0.3.1's time at
  equal settings. Times are the best of several runs after a warm-up (as ``timeit`` does:
  the minimum is the least disturbed by other work on the machine), ours and tf-explain's
  runs interleaved;
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
from helpers.models.scores import batch_logits  # noqa: E402

CLASS_INDEX = 281
FULL = {"n": 50, "steps": 63, "patch": 32}
QUICK = {"n": 10, "steps": 9, "patch": 56}


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
    settings: str
    passes: int  # forward+backward passes (or forward passes, for occlusion)
    backward: bool
    ours: Callable[[], object]
    theirs: Callable[[], object]


def _quiet(fn):
    """Run ``fn`` with stdout silenced (tf-explain's occlusion prints a progress bar)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def make_cases(model, image: np.ndarray, settings: dict) -> list[Case]:
    """Each method, ours and tf-explain's, at equal settings on the same layer/image."""
    data = (np.array([image]), None)
    n, steps, patch = settings["n"], settings["steps"], settings["patch"]
    layer = helpers.grad_cam_layer(model)
    sigma = 0.15 * float(image.max() - image.min())  # tf-explain's noise is absolute
    patches = helpers.occlusion_patch_count(image.shape[:2], patch, patch)
    c = CLASS_INDEX
    return [
        Case("vanilla gradients", "1 image", 1, True,
             lambda: helpers.vanilla_gradients(model, image, c),
             lambda: VanillaGradients().explain(data, model, c)),
        Case("gradient x input", "1 image", 1, True,
             lambda: helpers.gradient_x_input(model, image, c),
             lambda: GradientsInputs().explain(data, model, c)),
        Case("Grad-CAM", f"layer {layer}, plain gradients", 1, True,
             lambda: helpers.grad_cam(model, image, c, layer=layer),
             lambda: GradCAM().explain(data, model, c, layer_name=layer, use_guided_grads=False)),
        Case("SmoothGrad", f"n={n}, sigma=15% of range", n, True,
             lambda: helpers.smoothgrad(model, image, c, n=n, noise=0.15),
             lambda: SmoothGrad().explain(data, model, c, num_samples=n, noise=sigma)),
        Case("Integrated Gradients", f"{steps + 1} path points", steps + 1, True,
             lambda: helpers.integrated_gradients(model, image, c, steps=steps),
             lambda: IntegratedGradients().explain(data, model, c, n_steps=steps + 1)),
        Case("occlusion", f"patch = stride = {patch} ({patches} patches)", patches + 1, False,
             lambda: helpers.occlusion(model, image, c, patch=patch, stride=patch),
             lambda: _quiet(lambda: OcclusionSensitivity().explain(data, model, c, patch)))
    ]


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


def peak_memory_gb(model_name: str, method: str, implementation: str, settings: dict) -> float:
    """Peak RSS of a fresh process that loads the model and runs one method once."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", model_name, method, implementation,
         json.dumps(settings)],
        capture_output=True, text=True, check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def child(model_name: str, method: str, implementation: str, settings: str) -> None:
    model, image = load(model_name)
    case = next(c for c in make_cases(model, image, json.loads(settings)) if c.method == method)
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


def bench_model(name: str, settings: dict, repeats: int, memory: bool) -> list[str]:
    model, image = load(name)
    costs = pass_costs(model, image, repeats)
    rows = []
    for case in make_cases(model, image, settings):
        per_pass = costs["forward+backward" if case.backward else "forward"]
        floor = case.passes * per_pass
        heavy = case.passes > 10 or name == "vgg16"
        ours, theirs = best_times([case.ours, case.theirs], repeats if heavy else 3 * repeats)
        memory_cell = "not measured"
        if memory:
            mine = peak_memory_gb(name, case.method, "ours", settings)
            other = peak_memory_gb(name, case.method, "tf-explain", settings)
            memory_cell = f"{mine:.2f} / {other:.2f}"
        print(f"  {case.method:21s} ours {ours:7.3f} s  floor {floor:7.3f} s  "
              f"tf-explain {theirs:7.3f} s  memory {memory_cell}", flush=True)
        rows.append(
            f"| {name} | {case.method} | {case.settings} | {ours:.3f} | {floor:.3f} "
            f"| {ours / floor:.2f} | {theirs:.3f} | {theirs / ours:.1f}x | {memory_cell} |"
        )
    for key in ("forward, batch 1", "forward", "forward+backward, batch 1", "forward+backward"):
        label = key if "batch" in key else f"{key}, best per image"
        rows.append(f"| {name} | ({label}) | | {costs[key]:.4f} | | | | | |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small settings, no memory runs")
    parser.add_argument("--models", default="efficientnet_lite0,vgg16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    settings = QUICK if args.quick else FULL
    print(f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
          f"TensorFlow {tf.__version__}", flush=True)
    table = [
        "| model | method | settings | ours (s) | floor (s) | ours / floor | tf-explain (s) "
        "| tf-explain / ours | peak memory, ours / tf-explain (GB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.models.split(","):
        print(f"{name}:", flush=True)
        table += bench_model(name, settings, 1 if args.quick else args.repeats, not args.quick)
    print("\n" + "\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
