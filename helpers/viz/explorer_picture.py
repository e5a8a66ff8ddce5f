"""The explorer's picture: the photo, the map over it, and the raw map with its colour bar,
as PNG bytes for an ``ipywidgets.Image`` (:mod:`helpers.viz.explorer`)."""

from __future__ import annotations

import io

import numpy as np

from .attribution import attribution_overlay, grayscale
from .plots import show_map


def explorer_png(
    image: np.ndarray,
    values: np.ndarray,
    title: str,
    signed: bool,
    alpha: float = 0.5,
    image_name: str = "",
) -> bytes:
    """Input, overlay, raw map, as PNG bytes.

    A signed map (IG, gradient x input) is overlaid as its magnitude on a grey photo,
    readable; the raw panel keeps its signs. ``alpha`` (the opacity slider) sets the
    overlay's opacity for both kinds (0: the photo alone). A fixed layout:
    ``tight_layout`` took most of the drawing time.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 3)
    axes[0].imshow(np.clip(image / 255.0, 0, 1))
    axes[0].set_title(f"input: {image_name}", fontsize=10)
    if signed:
        drawn = attribution_overlay(image, values, max_alpha=alpha) if alpha > 0 else None
        axes[1].imshow(grayscale(image) if drawn is None else drawn)
        axes[1].set_title("|magnitude| overlay", fontsize=10)
    else:
        show_map(axes[1], values, image, "overlay", alpha=alpha, colorbar=False)
    for ax in axes[:2]:
        ax.axis("off")
    show_map(axes[2], values, None, "raw map")
    fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.95, bottom=0.02, top=0.84, wspace=0.08)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()
