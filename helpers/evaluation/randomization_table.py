"""Adebayo et al.'s (2018) cascading randomization for gradients, Guided Backprop and Grad-CAM.

The paper's Figure 2 compares how similar each method's map stays to its trained-model
map as the layers are re-initialized from the logits down. :func:`randomization_table`
runs that comparison for several seeds and returns the per-stage mean and spread.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from ..methods.cam import grad_cam
from ..methods.gradients import vanilla_gradients
from ..methods.guided import guided_backprop, guided_grad_cam
from ..methods.maps import reduce_channels
from .randomization import MapFunction, cascading_randomization


def guided_comparison_methods(layer: str | None = None) -> dict[str, MapFunction]:
    """The four maps of the paper's comparison as (H, W) map functions for
    :func:`helpers.cascading_randomization` (pixel maps reduced with max |.|)."""
    return {
        "gradient": lambda m, x, c: reduce_channels(vanilla_gradients(m, x, c)),
        "guided backprop": lambda m, x, c: reduce_channels(guided_backprop(m, x, c)),
        "Grad-CAM": lambda m, x, c: grad_cam(m, x, c, layer=layer),
        "guided Grad-CAM": lambda m, x, c: reduce_channels(guided_grad_cam(m, x, c, layer=layer)),
    }


def randomization_table(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    seeds: Sequence[int] = (0, 1, 2),
    methods: Mapping[str, MapFunction] | None = None,
    metrics: Sequence[str] = ("spearman_abs", "ssim"),
    in_place: bool = True,
):
    """Similarity to the trained model's map after each cascade stage, over ``seeds``.

    Returns a pandas DataFrame indexed by (metric, method, statistic) with statistic
    ``mean``, ``min`` and ``max`` over the seeds whose map was not flat, and ``flat maps``:
    how many seeds gave a constant map (no ranking, NaN rank correlation; e.g. a Grad-CAM
    with no positive evidence left), one column per stage ("trained", then the block
    randomized last). ``in_place=True`` randomizes the model's own weights and restores
    them (see :func:`helpers.cascading_randomization`).
    """
    import pandas as pd

    methods = dict(methods or guided_comparison_methods())
    results = [
        cascading_randomization(
            model, image, class_index, methods, seed=int(s), in_place=in_place, progress=False
        )
        for s in seeds
    ]
    rows, columns = {}, list(results[0].stages)
    for metric in metrics:
        for name in methods:
            values = np.stack([result.similarity(name, metric) for result in results])
            with warnings.catch_warnings():  # every seed flat: NaN, counted below
                warnings.simplefilter("ignore", RuntimeWarning)
                for statistic, reduce in (
                    ("mean", np.nanmean),
                    ("min", np.nanmin),
                    ("max", np.nanmax),
                ):
                    rows[(metric, name, statistic)] = reduce(values, axis=0)
            rows[(metric, name, "flat maps")] = np.isnan(values).sum(axis=0).astype(float)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["metric", "method", "statistic"])
    return table
