"""Benchmark the attribution methods against their floor and against tf-explain.

For each model (VGG16 with random weights, EfficientNet-Lite0 with its real weights), on
one 224x224 image, in one process, it measures:

* the floor: the best per-image time of one forward pass and of one forward+backward
  pass (batched, compiled), times the number of passes a method needs;
* each method's time (median of repeats, after a warm-up) and its ratio to the floor;
* tf-explain 0.3.1's time at equal settings, and the speed-up;
* the memory each call adds at its peak on top of what the process already held
  (resident set sampled every 5 ms from /proc), and the process's own peak.

Run:  python benchmarks/bench_methods.py            (full: a few minutes on 2 cores)
      python benchmarks/bench_methods.py --quick    (small settings, for a smoke test)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
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
from helpers.batching import auto_batch_size  # noqa: E402
from helpers.gradients import batch_logits, logit_gradients  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakMemory:
    """Peak resident memory while the block runs (sampled in a thread)."""

    def __enter__(self):
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def timed(fn, repeats: int) -> tuple[float, float, float]:
    """(median seconds over ``repeats`` after one warm-up call, the most memory a call added
    on top of what the process held before it, and the process's resident peak, in bytes)."""
    fn()
    times, extra, peak = [], 0, 0
    for _ in range(repeats):
        with PeakMemory() as memory:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        extra = max(extra, memory.peak - memory.start)
        peak = max(peak, memory.peak)
    return statistics.median(times), extra, peak


def per_image_costs(model, image, batch_sizes, repeats) -> tuple[float, float]:
    """Best per-image seconds of a forward pass and of a forward+backward pass."""
    forward, backward = [], []
    for size in batch_sizes:
        batch = np.repeat(image[None], size, axis=0)
        classes = np.full(size, 281, np.int32)
        t_fwd = timed(lambda b=batch: batch_logits(model, b), repeats)[0]
        t_bwd = timed(lambda b=batch, c=classes: logit_gradients(model, b, c), repeats)[0]
        forward.append(t_fwd / size)
        backward.append(t_bwd / size)
    return min(forward), min(backward)


@dataclass
class Row:
    model: str
    method: str
    settings: str
    seconds: float
    floor: float
    extra_gb: float
    peak_gb: float
    tf_explain_seconds: float | None
    tf_explain_extra_gb: float | None


def bench_model(name: str, settings: dict, repeats: int) -> list[Row]:
    model = helpers.load_model(name, pretrained=(name != "vgg16"), verbose=False)
    image = helpers.load_image(helpers.sample_image("cat"))
    batch = auto_batch_size(model)
    fwd, fwd_bwd = per_image_costs(model, image, sorted({1, batch, 2 * batch}), repeats)
    layer = helpers.last_conv_layer(model)
    data = (np.array([image]), None)
    n, steps, patch = settings["n"], settings["steps"], settings["patch"]
    sigma = 0.15 * float(image.max() - image.min())
    patches = helpers.occlusion_patch_count((224, 224), patch, patch)
    cases = [
        (
            "vanilla gradients",
            "1 pass",
            1 * fwd_bwd,
            lambda: helpers.vanilla_gradients(model, image, 281),
            lambda: VanillaGradients().explain(data, model, 281),
        ),
        (
            "gradient x input",
            "1 pass",
            1 * fwd_bwd,
            lambda: helpers.gradient_x_input(model, image, 281),
            lambda: GradientsInputs().explain(data, model, 281),
        ),
        (
            "Grad-CAM",
            f"layer {layer}",
            1 * fwd_bwd,
            lambda: helpers.grad_cam(model, image, 281),
            lambda: GradCAM().explain(data, model, 281, layer_name=layer, use_guided_grads=False),
        ),
        (
            "SmoothGrad",
            f"n={n}, sigma=15%",
            n * fwd_bwd,
            lambda: helpers.smoothgrad(model, image, 281, n=n, noise=0.15),
            lambda: SmoothGrad().explain(data, model, 281, num_samples=n, noise=sigma),
        ),
        (
            "Integrated Gradients",
            f"{steps + 1} points",
            (steps + 1) * fwd_bwd,
            lambda: helpers.integrated_gradients(model, image, 281, steps=steps),
            lambda: IntegratedGradients().explain(data, model, 281, n_steps=steps + 1),
        ),
        (
            "occlusion",
            f"patch=stride={patch}, {patches} patches",
            (patches + 1) * fwd,
            lambda: helpers.occlusion(model, image, 281, patch=patch, stride=patch),
            lambda: _quiet(
                lambda: OcclusionSensitivity().explain(data, model, 281, patch_size=patch)
            ),
        ),
    ]
    rows = []
    for method, setting, floor, ours, theirs in cases:
        seconds, extra, peak = timed(ours, repeats)
        their_seconds, their_extra, _ = timed(theirs, repeats)
        rows.append(
            Row(
                name,
                method,
                setting,
                seconds,
                floor,
                extra / 1e9,
                peak / 1e9,
                their_seconds,
                their_extra / 1e9,
            )
        )
        print(
            f"  {method:22s} {seconds:7.2f} s  floor {floor:6.2f} s  "
            f"tf-explain {their_seconds:7.2f} s",
            flush=True,
        )
    rows.append(Row(name, "(one forward pass)", "best per image", fwd, fwd, 0, 0, None, None))
    rows.append(
        Row(name, "(forward+backward)", "best per image", fwd_bwd, fwd_bwd, 0, 0, None, None)
    )
    return rows


def _quiet(fn):
    """Run ``fn`` with stdout silenced (tf-explain's occlusion prints a progress bar)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn()


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| model | method | settings | ours (s) | floor (s) | ours / floor | tf-explain (s) "
        "| speed-up vs tf-explain | extra memory ours / tf-explain (GB) "
        "| process peak, ours (GB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.method.startswith("("):
            lines.append(f"| {r.model} | {r.method} | {r.settings} | {r.seconds:.3f} | | | | | | |")
            continue
        theirs = f"{r.tf_explain_seconds:.2f}"
        speedup = f"{r.tf_explain_seconds / r.seconds:.1f}x"
        peak = f"{r.extra_gb:.2f} / {r.tf_explain_extra_gb:.2f}"
        lines.append(
            f"| {r.model} | {r.method} | {r.settings} | {r.seconds:.2f} | {r.floor:.2f} "
            f"| {r.seconds / r.floor:.2f} | {theirs} | {speedup} | {peak} | {r.peak_gb:.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small settings, one repeat")
    parser.add_argument("--models", default="efficientnet_lite0,vgg16")
    args = parser.parse_args()
    settings = (
        {"n": 10, "steps": 9, "patch": 56} if args.quick else {"n": 50, "steps": 63, "patch": 32}
    )
    repeats = 1 if args.quick else 3
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"TensorFlow {tf.__version__}, Python {platform.python_version()}",
        flush=True,
    )
    rows = []
    for name in args.models.split(","):
        print(f"{name}:", flush=True)
        rows += bench_model(name, settings, repeats)
    import resource

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print()
    print(markdown_table(rows))
    print(f"\nPeak resident memory of the whole run: {peak_gb:.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
