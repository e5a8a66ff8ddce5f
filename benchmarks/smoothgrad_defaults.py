"""The measurements behind SmoothGrad's defaults (noise 0.20, n 100) on EfficientNet-Lite0.

For the cat (281), the espresso (967) and Grace Hopper (652), for noise 10-50 % of the
input range and n = 25, 50, 100: notebook 04's speckle (share of variance a 2-pixel blur
removes, relative to the vanilla gradient's), the correlation of two seeds' maps (0 and
100, pixel by pixel and after the blur), and the model's mean probability of the class on
the noisy copies. The rule: the largest noise at which every photo keeps at least half its
clean class probability, then the smallest n from which on (every n up to 100 is tried,
as prefixes of the same draws) two seeds' maps correlate >= 0.95 at the 2-pixel scale, on
every photo. The script prints both and the n each photo needs; the library's n = 100 is
a round number at or above that (the rule gives the smallest such n, not 100 itself).

Run:  python benchmarks/smoothgrad_defaults.py     (about 7 minutes on 2 cores)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from helpers.data.images import load_image, sample_image  # noqa: E402
from helpers.evaluation.smoothness import BLUR, seed_stability, speckle  # noqa: E402
from helpers.methods.kernels import logit_gradients  # noqa: E402
from helpers.methods.maps import reduce_channels  # noqa: E402
from helpers.models.loading import load_model  # noqa: E402
from helpers.models.scores import predict_logits, softmax  # noqa: E402

LEVELS = (0.10, 0.15, 0.20, 0.30, 0.40, 0.50)
COUNTS = (25, 50, 100)
CASES = (("cat", 281), ("espresso", 967), ("grace_hopper", 652))
CHUNK = 20
AGREEMENT = 0.95


def noisy_gradient_sums(model, image, cls, level, seed, n):
    """Cumulative sums of n noisy gradients (prefix k / k = SmoothGrad with k samples)."""
    rng = np.random.default_rng(seed)
    sigma = level * float(image.max() - image.min())
    grads, noisy = np.empty((n, *image.shape), np.float32), None
    for i in range(0, n, CHUNK):
        noisy = image + sigma * rng.standard_normal((CHUNK, *image.shape), dtype=np.float32)
        grads[i : i + CHUNK], _ = logit_gradients(model, noisy, np.full(CHUNK, cls, np.int32))
    probability = float(softmax(predict_logits(model, noisy))[:, cls].mean())
    return np.cumsum(grads, axis=0, dtype=np.float64), probability


def main() -> None:
    model = load_model("efficientnet_lite0", verbose=False)
    rows, needed = [], []
    for name, cls in CASES:
        image = load_image(sample_image(name))
        grads, _ = logit_gradients(model, image[None], np.array([cls], np.int32))
        vanilla = speckle(grads[0])
        clean = float(softmax(predict_logits(model, image))[0, cls])
        for level in LEVELS:
            first, probability = noisy_gradient_sums(model, image, cls, level, 0, max(COUNTS))
            second, _ = noisy_gradient_sums(model, image, cls, level, 100, max(COUNTS))
            needed.append(
                {"photo": name, "noise": level, "n needed": _samples_needed(first, second)}
            )
            for n in COUNTS:
                a = reduce_channels((first[n - 1] / n).astype(np.float32))
                b = reduce_channels((second[n - 1] / n).astype(np.float32))
                rows.append(
                    {
                        "photo": name,
                        "noise": level,
                        "n": n,
                        "speckle / vanilla": speckle(a) / vanilla,
                        "seeds r (pixel)": seed_stability(a, b),
                        f"seeds r ({BLUR:.0f}-px blur)": seed_stability(a, b, BLUR),
                        "p(class) noisy / clean": probability / clean,
                    }
                )
        print(f"{name}: vanilla speckle {vanilla:.3f}, clean p(class) {clean:.3f}", flush=True)
    table = pd.DataFrame(rows).set_index(["photo", "noise", "n"])
    print(table.round(3).to_string())
    kept = table["p(class) noisy / clean"].groupby("noise").min()
    noise = max(level for level, share in kept.items() if share >= 0.5)
    counts = pd.DataFrame(needed).set_index(["noise", "photo"])["n needed"].unstack()
    print(f"\nsmallest n from which two seeds stay >= {AGREEMENT} ({BLUR:.0f}-px blur), n <= "
          f"{max(COUNTS)} tried (NaN: not reached):\n{counts.to_string()}")
    at_noise = counts.loc[noise]
    n = f"more than {max(COUNTS)}" if at_noise.isna().any() else int(at_noise.max())
    print(f"\nthe rule: noise {noise:.0%} (every photo keeps >= half its class probability), "
          f"n {n} (every photo's seeds agree from there on)")


def _samples_needed(first: np.ndarray, second: np.ndarray) -> float:
    """The smallest n from which on the two seeds' n-sample maps correlate >= AGREEMENT
    after the blur (for every n up to the draws available), or NaN."""
    total = len(first)
    agree = [
        seed_stability(
            reduce_channels((first[n - 1] / n).astype(np.float32)),
            reduce_channels((second[n - 1] / n).astype(np.float32)),
            BLUR,
        )
        >= AGREEMENT
        for n in range(1, total + 1)
    ]
    below = [n for n, ok in enumerate(agree, start=1) if not ok]
    first_ok = (below[-1] + 1) if below else 1
    return float(first_ok) if first_ok <= total else float("nan")


if __name__ == "__main__":
    main()
