"""Integrated Gradients to a tolerance vs the plain trapezoid rule (EfficientNet-Lite0).

For each photo and class: run ``integrated_gradients(steps="auto")`` with its defaults
(tolerance 5 %), then the trapezoid rule on 16, 32, ... 512 equal intervals until its
completeness gap is at most the gap the automatic run reached. Prints the gradient
evaluations and the wall time of both, and their ratio ("auto / fixed"); a fixed run that
never gets there within 512 intervals is reported as such (the ratio is then an upper bound).

Run:  python benchmarks/bench_ig_tolerance.py     (about 3 minutes on 2 cores)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from helpers.data.images import load_image, sample_image  # noqa: E402
from helpers.methods.integrated_gradients import integrated_gradients  # noqa: E402
from helpers.models.loading import load_model  # noqa: E402
from helpers.models.scores import predict_logits  # noqa: E402

CASES = [("cat", None), ("cat", 281), ("espresso", None), ("grace_hopper", None)]


def main() -> None:
    model = load_model("efficientnet_lite0", verbose=False)
    integrated_gradients(model, np.zeros((224, 224, 3), np.float32), 0, steps=4)  # warm-up
    print("photo         class  auto: steps gap    s   | trapezoid: steps gap    s   | cost")
    for name, cls in CASES:
        image = load_image(sample_image(name))
        cls = int(np.argmax(predict_logits(model, image)[0])) if cls is None else cls
        start = time.perf_counter()
        auto = integrated_gradients(model, image, cls).completeness
        auto_time = time.perf_counter() - start
        steps, fixed, fixed_time = 16, None, 0.0
        while steps <= 512:
            start = time.perf_counter()
            fixed = integrated_gradients(model, image, cls, steps=steps).completeness
            fixed_time = time.perf_counter() - start
            if fixed.relative_gap <= auto.relative_gap:
                break
            steps *= 2
        reached = fixed.relative_gap <= auto.relative_gap
        ratio = (auto.steps + 1) / (fixed.steps + 1)
        print(
            f"{name:13s} {cls:5d}  {auto.steps:10d} {auto.relative_gap:5.1%} {auto_time:5.1f} |"
            f" {fixed.steps:15d} {fixed.relative_gap:5.1%} {fixed_time:5.1f} |"
            f" {'' if reached else '< '}{ratio:.2f} evaluations, "
            f"{'' if reached else '< '}{auto_time / fixed_time:.2f} time"
            + ("" if reached else " (trapezoid did not reach it within 512)")
        )


if __name__ == "__main__":
    main()
