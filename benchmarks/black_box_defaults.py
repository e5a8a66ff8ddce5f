"""How many samples the methods without gradients need, and what the explorer's settings cost.

On EfficientNet-Lite0 and the course's photos (cat: class 281 tabby and 285 Egyptian cat;
espresso: 967), for a range of budgets:

* RISE (masks): the Pearson correlation of two seeds' maps;
* LIME and sampled KernelSHAP (samples, ~40 SLIC superpixels): the correlation of two
  seeds' superpixel weights, and how many of the 5 strongest superpixels both seeds agree
  on (LIME's instability, its most reported problem);

then the seconds one explorer update takes with each method's explorer settings (best of
3, after a warm-up). Prints markdown tables; run it on a quiet machine, and write down the
load average it prints.

With ``--floor-only``: each batched method's time against the same number of plain forward
passes run interleaved with it (its floor under the same load).

Run:  python benchmarks/black_box_defaults.py               (about 10 minutes on 2 cores)
      python benchmarks/black_box_defaults.py --quick       (smaller budgets, cat only)
      python benchmarks/black_box_defaults.py --floor-only  (about 4 minutes)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_methods' pass costs

import numpy as np  # noqa: E402

import helpers  # noqa: E402
from helpers.methods.registry import METHODS  # noqa: E402

PHOTOS = {"cat": (281, 285), "espresso": (967,)}


def top_overlap(a: np.ndarray, b: np.ndarray, k: int = 5) -> int:
    """How many of the k largest values' positions two weight vectors share."""
    return len(set(np.argsort(a)[-k:]) & set(np.argsort(b)[-k:]))


def stability_rows(model, quick: bool) -> list[str]:
    rows = []
    rise_budgets = (250, 500) if quick else (500, 1000, 2000, 4000)
    budgets = (100, 250) if quick else (250, 500, 1000, 2000)
    for photo, classes in PHOTOS.items():
        if quick and photo != "cat":
            continue
        image = helpers.load_image(helpers.sample_image(photo))
        for cls in classes:
            for masks in rise_budgets:
                a, b = (helpers.rise(model, image, cls, masks=masks, seed=s, progress=False)
                        for s in (0, 1))
                r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
                rows.append(f"| {photo} | {cls} | RISE | {masks} masks | {r:.3f} | |")
                print(rows[-1], flush=True)
            for name, method in (("LIME", helpers.lime), ("KernelSHAP", helpers.kernel_shap)):
                extra = {"exact": False} if name == "KernelSHAP" else {}
                for samples in budgets:
                    a, b = (method(model, image, cls, samples=samples, seed=s, progress=False,
                                   **extra) for s in (0, 1))
                    w_a = getattr(a, "weights", getattr(a, "values", None))
                    w_b = getattr(b, "weights", getattr(b, "values", None))
                    r = np.corrcoef(w_a, w_b)[0, 1]
                    rows.append(f"| {photo} | {cls} | {name} | {samples} samples, "
                                f"{len(w_a)} superpixels | {r:.3f} | {top_overlap(w_a, w_b)} / 5 |")
                    print(rows[-1], flush=True)
    return rows


def explorer_rows(model) -> list[str]:
    """Seconds per explorer update, and the floor (passes x best per-image pass cost, both
    measured in this run): on a loaded machine the floor grows with the time."""
    from bench_methods import floor_seconds, pass_costs

    image = helpers.load_image(helpers.sample_image("cat"))
    costs = pass_costs(model, image, repeats=3)
    rows = []
    for name in ("rise", "lime", "kernel_shap", "xrai"):
        method = METHODS[name]
        settings = method.settings(**method.explorer)
        method.run(model, image, 285, progress=False, **settings)  # warm-up
        times = []
        for _ in range(3):
            start = time.perf_counter()
            method.run(model, image, 285, progress=False, **settings)
            times.append(time.perf_counter() - start)
        floor = floor_seconds(method.passes(settings, (224, 224)), costs)
        rows.append(f"| {method.title} | {method.describe(settings)} | {min(times):.2f} | "
                    f"{floor:.2f} |")
        print(rows[-1], flush=True)
    rows.append(f"| (forward / forward+backward, best per image) | | {costs['forward']:.4f} / "
                f"{costs['forward+backward']:.4f} | |")
    return rows


def floor_rows(model, quick: bool) -> list[str]:
    """Each batched method against two floors measured *interleaved* with it (best of 3, so
    that a busy machine slows all three alike): the same number of forward passes, in the
    same chunks, on copies of the photo itself and on copies perturbed the way the method
    perturbs (their content changes a pass's time measurably on a CPU: grey regions cost
    more than the photo), so that ours / the second floor is the method's own overhead."""
    from bench_methods import best_times

    from helpers.methods.batching import auto_batch_size, chunks
    from helpers.methods.perturbation import coalition_images, removed_image, superpixels
    from helpers.methods.rise import rise_masks
    from helpers.models.scores import batch_logits

    image = helpers.load_image(helpers.sample_image("cat"))
    size = auto_batch_size(model)
    grey = removed_image(image, "mean")
    masks = rise_masks(size, (224, 224), seed=9)[0:size]
    labels = superpixels(image, 50)
    coalitions = np.random.default_rng(9).integers(0, 2, (size, labels.max() + 1)).astype(bool)
    perturbed = {
        "rise": grey + masks[..., None] * (image - grey),
        "lime": coalition_images(image, grey, labels, coalitions),
        "kernel_shap": coalition_images(image, grey, labels, coalitions),
    }
    photo = np.repeat(image[None], size, axis=0)
    rows = []
    for name in ("rise", "lime", "kernel_shap"):
        method = METHODS[name]
        settings = method.settings(quick)
        passes = int(method.passes(settings, (224, 224)).forward)

        def floor(batch, passes=passes):
            for part in chunks(passes, size):
                batch_logits(model, batch[: part.stop - part.start])

        def ours(method=method, settings=settings):
            method.run(model, image, 285, progress=False, **settings)

        mine, on_photo, on_perturbed = best_times(
            [ours, lambda: floor(photo), lambda name=name: floor(perturbed[name])], repeats=3
        )
        rows.append(f"| {method.title} | {method.describe(settings)} | {passes} | {mine:.2f} | "
                    f"{on_photo:.2f} | {on_perturbed:.2f} | {mine / on_photo:.2f} | "
                    f"{mine / on_perturbed:.2f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--explorer-only", action="store_true")
    parser.add_argument("--floor-only", action="store_true",
                        help="only the interleaved floor ratios (registry defaults; --quick: fast)")
    args = parser.parse_args()
    model = helpers.load_model("efficientnet_lite0", verbose=False)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    table = []
    if args.floor_only:
        table += ["| method | settings | forward passes | ours (s) | floor on the photo (s) "
                  "| floor on perturbed copies (s) | ours / floor (photo) "
                  "| ours / floor (perturbed) |",
                  "|---|---|---|---|---|---|---|---|", *floor_rows(model, args.quick)]
        print(f"load average at end: {os.getloadavg()}\n")
        print("\n".join(table))
        return 0
    if not args.explorer_only:
        table += ["| photo | class | method | budget | r(seed 0, seed 1) | top-5 shared |",
                  "|---|---|---|---|---|---|", *stability_rows(model, args.quick), ""]
    table += ["| method (explorer settings) | settings | seconds per update | floor (s) |",
              "|---|---|---|---|",
              *explorer_rows(model)]
    print(f"load average at end: {os.getloadavg()}\n")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
