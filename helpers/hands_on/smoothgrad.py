"""Notebook 04's hands-on cell: SmoothGrad by hand, the mean of the signed gradients of ``n``
noisy copies of the image, drawn as :func:`helpers.smoothgrad` draws them.

The result is ReLU-sensitive: a noisy copy that moves by one float32 rounding step can flip
a ReLU6 somewhere in the network and change that copy's gradient at some pixels. So the
correct forms listed here are not taste: the same average with sigma one float32 step
(ulp) up and down (``sigma = NOISE * (cat.max() - cat.min())`` in float32, as the cell's
comment reads, can land on either), the noisy copies computed in float64, and the copies
sent through the network one at a time (another batch, other arithmetic). Their spread
sets the tolerance; every catalogued mistake changes the map by more than that on the
notebook's example (the tabby, 10 copies, 15 % noise), which the tests check.
"""

from __future__ import annotations

import numpy as np

from ..exercises import Answer, Mistake
from ..methods.gradients import vanilla_gradients
from .catalogue import check_lazily, with_mistakes

NAME = "my_smoothgrad"

HINT = (
    "Draw rng.standard_normal((n, *image.shape), dtype=np.float32) from "
    "np.random.default_rng(0), multiply by sigma = NOISE * (max - min) of the image, add the "
    "image, and average the signed gradients over the copies (axis 0)."
)


def _mean_gradient(model, noisy: np.ndarray, class_index: int, **options) -> np.ndarray:
    """The mean over the copies of their signed logit gradients, (H, W, 3)."""
    grads = vanilla_gradients(
        model, np.asarray(noisy, np.float32), class_index, progress=False, **options
    )
    return grads.astype(np.float64).mean(axis=0)


def library_noise(image: np.ndarray, n: int, noise: float, seed: int) -> tuple[np.ndarray, float]:
    """The standard normal draws :func:`helpers.smoothgrad` makes for one image (float32,
    (n, H, W, C)), and its sigma (noise x the image's value range)."""
    draws = np.random.default_rng(seed).standard_normal((n, *image.shape), dtype=np.float32)
    return draws, noise * float(image.max() - image.min())


def smoothgrad_catalogue(
    model, image: np.ndarray, class_index: int, n: int, noise: float, seed: int
) -> Answer:
    """The answer of the cell: the expected average, its correct forms and the mistakes."""
    draws, sigma = library_noise(image, n, noise, seed)
    sigma32 = np.float32(sigma)
    grads = vanilla_gradients(model, draws * sigma32 + image, class_index, progress=False)
    grads = grads.astype(np.float64)
    expected = grads.mean(axis=0)
    shape = (n, *image.shape)

    def noisy_mean(values: np.ndarray, **options) -> np.ndarray:
        return _mean_gradient(model, values, class_index, **options)

    image64 = image.astype(np.float64)
    correct = [
        noisy_mean(draws * np.nextafter(sigma32, np.float32(np.inf)) + image),
        noisy_mean(draws * np.nextafter(sigma32, np.float32(0)) + image),
        noisy_mean(image64 + sigma * draws.astype(np.float64)),
        noisy_mean(draws * sigma32 + image, batch_size=1),
    ]
    answer = Answer(expected, correct=correct, hint=HINT)
    float64_draws = np.random.default_rng(seed).standard_normal(shape)
    legacy_draws = np.random.RandomState(seed).standard_normal(shape)
    other_seed = np.random.default_rng(seed + 1).standard_normal(shape, dtype=np.float32)
    range_fraction = noise * 255.0
    per_pixel = np.random.default_rng(seed).standard_normal((*shape[:-1], 1), dtype=np.float32)
    vanilla = vanilla_gradients(model, image, class_index, progress=False).astype(np.float64)
    mistakes = [
        Mistake(
            "float64 draws (rng.normal, or rng.standard_normal without dtype=np.float32)",
            noisy_mean(image + sigma * float64_draws),
            "A valid SmoothGrad, but other random numbers than the library's: draw with "
            "rng.standard_normal(shape, dtype=np.float32), then the check can compare exactly.",
        ),
        Mistake(
            "the legacy global generator (np.random.seed / np.random.randn)",
            noisy_mean(image + sigma * legacy_draws),
            "Use the seeded generator rng = np.random.default_rng(0) and its standard_normal.",
        ),
        Mistake(
            f"the generator seeded with {seed + 1}, not {seed}",
            noisy_mean(image + sigma32 * other_seed),
            f"Seed the generator with {seed}: np.random.default_rng({seed}).",
        ),
        Mistake(
            "sigma not scaled by the image's range (the noise level used as sigma)",
            noisy_mean(image + np.float32(noise) * draws),
            "sigma = NOISE * (image.max() - image.min()): the noise level is a fraction of "
            "the value range, not a number of pixel values.",
        ),
        Mistake(
            "sigma a fraction of 255, not of the image's range (max - min)",
            noisy_mean(image + np.float32(range_fraction) * draws),
            "This photo's values span less than 0..255: sigma = NOISE * (cat.max() - cat.min()).",
        ),
        Mistake(
            "the variance sigma**2 used as the standard deviation",
            noisy_mean(image + np.float32(sigma**2) * draws),
            "N(0, sigma^2) has standard deviation sigma: multiply the standard normal draws "
            "by sigma, not by sigma**2.",
        ),
        Mistake(
            "the noisy copies clipped to [0, 255]",
            noisy_mean(np.clip(draws * sigma32 + image, 0, 255)),
            "Keep the noisy values as they are (the paper does not clip; the model accepts "
            "them): exercise 4 measures what clipping changes.",
        ),
        Mistake(
            "one noise value per pixel, shared by the three colour channels",
            noisy_mean(image + sigma32 * per_pixel),
            "Draw noise of the full shape (n, H, W, 3): every channel of every pixel its own.",
        ),
        Mistake(
            "the same noise added to every copy",
            grads[0],
            "Draw all n copies' noise at once, shape (n, H, W, 3): each copy needs its own.",
        ),
        Mistake(
            "the average of |gradient|, not of the signed gradients",
            np.abs(grads).mean(axis=0),
            "Average the signed gradients; take |.| only afterwards, for the picture.",
        ),
        Mistake(
            "the sum over the copies, not the mean",
            grads.sum(axis=0),
            "Average over the copies: .mean(axis=0).",
        ),
        Mistake(
            "the clean image's gradient averaged in with the noisy ones",
            (grads.sum(axis=0) + vanilla) / (n + 1),
            "Average the noisy copies only: every copy gets noise.",
        ),
    ]
    return with_mistakes(answer, mistakes)


def check_my_smoothgrad(
    yours,
    model,
    image: np.ndarray,
    class_index: int,
    n: int,
    noise: float,
    seed: int,
    expected: np.ndarray,
) -> None:
    """Check the cell's ``my_smoothgrad`` against ``expected`` (``helpers.smoothgrad`` with
    the same ``n``, ``noise`` and ``seed``); name the mistake when it is wrong."""
    check_lazily(
        {NAME: expected},
        lambda: {NAME: smoothgrad_catalogue(model, image, class_index, n, noise, seed)},
        note=f"{NAME} is not exactly the library's map: comparing it with the map's other "
        f"correct forms and the usual mistakes (about {13 * n} more gradients)...",
        my_smoothgrad=yours,
    )
