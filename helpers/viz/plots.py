"""Turn raw attribution maps into figures: robust scaling, overlays, signed maps, grids, PNGs.

Raw maps have outliers (a few pixels with huge gradients), so colour scales are clipped at
a percentile of the values, never at the maximum. A flat map is drawn as zeros, not NaN.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from ..methods.maps import reduce_channels

HEAT_CMAP = "inferno"
SIGNED_CMAP = "RdBu_r"  # red = evidence for the class, blue = against


def _as_map(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(
            f"expected a 2-D map (H, W), got shape {values.shape}; reduce colour channels "
            "first, e.g. helpers.reduce_channels(attributions)"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("map contains NaN or infinite values")
    return values


def is_signed(values: np.ndarray) -> bool:
    """True if the map has clearly negative values (then draw it with a diverging colormap)."""
    values = np.asarray(values)
    peak = float(np.abs(values).max(initial=0.0))
    return peak > 0 and float(values.min()) < -1e-3 * peak


def color_norm(
    values: np.ndarray, percentile: float = 99.0, signed: bool | None = None
) -> Normalize:
    """A matplotlib norm clipped at ``percentile``: [min, p] or symmetric [-p, p] if signed."""
    values = _as_map(values)
    if not 50.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be in 50..100, got {percentile}")
    if signed is None:
        signed = is_signed(values)
    if signed:
        top = float(np.percentile(np.abs(values), percentile))
        top = top if top > 0 else 1.0
        return Normalize(-top, top, clip=True)
    low = float(values.min())
    high = float(np.percentile(values, percentile))
    if high <= low:
        high = low + 1.0  # flat map: everything maps to 0
    return Normalize(low, high, clip=True)


def normalize(
    values: np.ndarray, percentile: float = 99.0, signed: bool | None = None
) -> np.ndarray:
    """Scale a map to [0, 1] (or [-1, 1] if signed), clipping at ``percentile``.

    Unsigned: (m - min) / (p-th percentile - min). Signed: m / p-th percentile of |m|.
    A flat map gives all zeros.
    """
    values = _as_map(values)
    norm = color_norm(values, percentile, signed)
    if norm.vmin < 0:
        return np.clip(values / norm.vmax, -1.0, 1.0).astype(np.float32)
    if float(values.max()) == float(values.min()):
        return np.zeros_like(values)
    return np.asarray(norm(values), dtype=np.float32)


def colorize(
    values: np.ndarray,
    cmap: str | None = None,
    percentile: float = 99.0,
    signed: bool | None = None,
) -> np.ndarray:
    """RGB float image (H, W, 3) in [0, 1] of a map through a colormap."""
    values = _as_map(values)
    signed = is_signed(values) if signed is None else signed
    norm = color_norm(values, percentile, signed)
    cmap = cmap or (SIGNED_CMAP if signed else HEAT_CMAP)
    return mpl.colormaps[cmap](norm(values))[..., :3].astype(np.float32)


def overlay(
    image: np.ndarray,
    values: np.ndarray,
    alpha: float = 0.5,
    cmap: str | None = None,
    percentile: float = 99.0,
    signed: bool | None = None,
) -> np.ndarray:
    """The map's colours blended over the image: (1 - alpha) image + alpha colours, in [0, 1]."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    image = np.asarray(image, dtype=np.float32)
    if image.shape[:2] != np.shape(values)[:2]:
        raise ValueError(f"image {image.shape[:2]} and map {np.shape(values)[:2]} differ in size")
    rgb = np.clip(image / 255.0, 0.0, 1.0)
    colours = colorize(values, cmap, percentile, signed)
    return ((1.0 - alpha) * rgb + alpha * colours).astype(np.float32)


def show_map(
    ax,
    values: np.ndarray,
    image: np.ndarray | None = None,
    title: str = "",
    alpha: float = 0.5,
    cmap: str | None = None,
    percentile: float = 99.0,
    signed: bool | None = None,
    colorbar: bool = True,
):
    """Draw a map on ``ax`` (over ``image`` if given) with a colour bar in the map's units."""
    values = _as_map(values)
    signed = is_signed(values) if signed is None else signed
    cmap = cmap or (SIGNED_CMAP if signed else HEAT_CMAP)
    norm = color_norm(values, percentile, signed)
    if image is None:
        ax.imshow(values, cmap=cmap, norm=norm)
    else:
        ax.imshow(overlay(image, values, alpha, cmap, percentile, signed))
    if colorbar:
        mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        ax.figure.colorbar(mappable, ax=ax, fraction=0.046, pad=0.03)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return ax


def plot_maps(
    image: np.ndarray,
    maps: Mapping[str, np.ndarray],
    overlay_on_image: bool = True,
    ncols: int | None = None,
    colorbar: bool = True,
    suptitle: str = "",
    percentile: float = 99.0,
    alpha: float = 0.5,
    panel_size: float = 3.2,
    attributions: Collection[str] = (),
    signed: bool = False,
):
    """A grid: the image first, then one titled panel per map. Returns the figure.

    3-channel attributions are reduced with max |a| over channels for display. Panels
    named in ``attributions`` hold signed attributions (Integrated Gradients, gradient x
    input): drawn readably with :func:`helpers.show_attribution`, their magnitude by
    default, the signed map on a grey photo if ``signed``.
    """
    panels = [("input", None), *maps.items()]
    ncols = ncols or min(len(panels), 4)
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols * 1.1, panel_size * nrows), squeeze=False
    )
    for ax, (title, values) in zip(axes.flat, panels, strict=False):
        if values is None:
            ax.imshow(np.clip(np.asarray(image) / 255.0, 0, 1))
            ax.set_title(title, fontsize=10)
            ax.axis("off")
            continue
        values = np.asarray(values)
        if title in attributions and overlay_on_image:
            from .attribution import show_attribution

            show_attribution(ax, values, image, signed, title, percentile, colorbar)
            continue
        if values.ndim == 3:
            values = reduce_channels(values)
        show_map(
            ax,
            values,
            image if overlay_on_image else None,
            title,
            alpha=alpha,
            percentile=percentile,
            colorbar=colorbar,
        )
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def save_map_png(
    values: np.ndarray,
    path: str | Path,
    image: np.ndarray | None = None,
    cmap: str | None = None,
    percentile: float = 99.0,
    alpha: float = 0.5,
    signed: bool | None = None,
) -> Path:
    """Save a map as a PNG at the map's own resolution (colourised, over ``image`` if given)."""
    values = _as_map(values)
    rgb = (
        colorize(values, cmap, percentile, signed)
        if image is None
        else overlay(image, values, alpha, cmap, percentile, signed)
    )
    return save_rgb_png(rgb, path)


def save_rgb_png(rgb: np.ndarray, path: str | Path) -> Path:
    """Save an RGB image (H, W, 3) in [0, 1] as a PNG (folders made as needed)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)).save(path)
    return path
