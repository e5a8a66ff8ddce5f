"""Signed attributions drawn so a student can read them (Integrated Gradients, gradient x input).

By default the *magnitude* |sum over colour channels| with a sequential colormap; with
``signed=True`` the signed sum with a diverging colormap (red = for the class, blue =
against). Either way over a grey copy of the photo (a red object cannot hide red pixels),
each pixel's opacity growing with |map|, so weak attributions let the photo through.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize

from ..methods.maps import reduce_channels
from .plots import _as_map, save_rgb_png

#: Diverging colormap for signed attributions on a grey photo: red = for, blue = against.
ATTRIBUTION_SIGNED_CMAP = "bwr"  # saturated ends: strong values stay vivid on grey
#: Sequential colormap for attribution magnitude.
ATTRIBUTION_MAGNITUDE_CMAP = "inferno"


def grayscale(image: np.ndarray, low: float = 0.15, high: float = 0.85) -> np.ndarray:
    """A grey copy (H, W, 3) in [low, high] of an RGB photo in [0, 255] (luminance, Rec. 601):
    no colour of its own to hide the map's, no pure black or white to hide its extremes."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    luminance = np.clip(image @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0, 0, 1)
    return np.repeat((low + (high - low) * luminance)[..., None], 3, axis=-1)


def attribution_map(attributions: np.ndarray, signed: bool = False) -> np.ndarray:
    """The (H, W) map to draw: the signed sum over colour channels, or its absolute value.

    A 2-D map is taken as it is (its absolute value if not ``signed``)."""
    values = np.asarray(attributions, dtype=np.float32)
    if values.ndim == 3:
        values = reduce_channels(values, "sum")
    values = _as_map(values)
    return values if signed else np.abs(values)


def attribution_norm(values: np.ndarray, signed: bool, percentile: float = 99.0) -> Normalize:
    """Colour limits for :func:`attribution_overlay`: [-p, p] if signed, else [0, p], p the
    ``percentile`` of |map| (1 for a flat map)."""
    values = _as_map(values)
    if not 50.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be in 50..100, got {percentile}")
    top = float(np.percentile(np.abs(values), percentile))
    top = top if top > 0 else 1.0  # flat map: drawn as zeros
    return Normalize(-top if signed else 0.0, top, clip=True)


def attribution_overlay(
    image: np.ndarray,
    attributions: np.ndarray,
    signed: bool = False,
    percentile: float = 99.0,
    max_alpha: float = 0.9,
    cmap: str | None = None,
) -> np.ndarray:
    """An attribution drawn so it can be read: RGB (H, W, 3) in [0, 1].

    Default: the magnitude |sum over channels| with a sequential colormap. ``signed=True``:
    the signed sum with a diverging colormap and symmetric limits [-p, p]. Either way
    p is the ``percentile`` of |map| (outliers clipped), the photo underneath is a grey
    copy (:func:`grayscale`, so a red object cannot hide red pixels), and each pixel's
    opacity grows with |map| / p up to ``max_alpha``: weak attributions let the photo
    through, strong ones cover it.
    """
    if not 0.0 < max_alpha <= 1.0:
        raise ValueError(f"max_alpha must be in (0, 1], got {max_alpha}")
    values = attribution_map(attributions, signed)
    base = grayscale(image)
    if base.shape[:2] != values.shape:
        raise ValueError(f"image {base.shape[:2]} and map {values.shape} differ in size")
    norm = attribution_norm(values, signed, percentile)
    cmap = cmap or (ATTRIBUTION_SIGNED_CMAP if signed else ATTRIBUTION_MAGNITUDE_CMAP)
    colours = mpl.colormaps[cmap](norm(values))[..., :3]
    alpha = max_alpha * np.clip(np.abs(values) / norm.vmax, 0.0, 1.0)[..., None]
    return ((1.0 - alpha) * base + alpha * colours).astype(np.float32)


def show_attribution(
    ax,
    attributions: np.ndarray,
    image: np.ndarray,
    signed: bool = False,
    title: str = "",
    percentile: float = 99.0,
    colorbar: bool = True,
):
    """Draw :func:`attribution_overlay` on ``ax`` with a colour bar in the map's units."""
    values = attribution_map(attributions, signed)
    ax.imshow(attribution_overlay(image, values, signed, percentile))
    if colorbar:
        norm = attribution_norm(values, signed, percentile)
        cmap = ATTRIBUTION_SIGNED_CMAP if signed else ATTRIBUTION_MAGNITUDE_CMAP
        ax.figure.colorbar(
            mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.046, pad=0.03
        )
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return ax


def save_attribution_png(values: np.ndarray, path, image: np.ndarray, signed: bool = False):
    """Save :func:`attribution_overlay` of a 2-D map over ``image`` as a PNG; returns the path."""
    return save_rgb_png(attribution_overlay(image, values, signed), path)
