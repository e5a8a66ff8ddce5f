"""The comparison grid: the photo and every method's map side by side, titles that fit."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..methods.registry import METHODS
from .run import MethodResult


def grid_figure(
    image: np.ndarray,
    results: Mapping[str, MethodResult],
    title: str = "",
    signed_maps: bool = False,
):
    """All maps over the image, side by side (a matplotlib figure). Signed maps (Integrated
    Gradients, gradient x input) show their magnitude, or with ``signed_maps`` the signed
    map on a grey copy of the photo (:mod:`helpers.viz.attribution`)."""
    from ..viz.plots import plot_maps

    maps, signed = {}, []
    for method, r in results.items():
        is_signed = method in METHODS and METHODS[method].signed
        label = METHODS[method].title if method in METHODS else method
        if is_signed:
            label += " (signed)" if signed_maps else " |magnitude|"
        if r.method == "integrated_gradients" and r.ig_completeness_gap is not None:
            steps = f", {r.ig_steps} steps" if r.ig_steps else ""
            label += f"\ngap {r.ig_completeness_gap:.0%}{steps}"
        if is_signed:
            signed.append(label)
        maps[label] = r.display_map
    fig = plot_maps(
        image, maps, ncols=min(len(maps) + 1, 4), suptitle=title, attributions=signed,
        signed=signed_maps,
    )
    fit_titles(fig)
    return fig


def fit_titles(fig, smallest: int = 12) -> None:
    """Wrap each panel's title (at spaces) until it is no wider than its panel, so no title
    runs into its neighbour or off the figure (a title that cannot fit keeps its
    narrowest wrap)."""
    import textwrap

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        title = ax.title
        lines = title.get_text().split("\n")
        width = ax.get_window_extent(renderer).width
        chars = max(len(line) for line in lines)
        while title.get_window_extent(renderer).width > width and chars > smallest:
            chars -= 2
            title.set_text("\n".join(textwrap.fill(line, chars) for line in lines))
    fig.tight_layout()
