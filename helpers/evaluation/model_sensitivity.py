"""Does the map depend on the class and on the learned weights? Two one-number tests.

* :func:`random_logit` (Sixt et al., 2020; Quantus's ``RandomLogit``): the similarity of
  the map for the explained class and the map for another class drawn at random. A map
  that explains *this* class should change: lower is better.
* :func:`efficient_mprt` (Hedström et al., 2023, "Sanity checks revisited"; Quantus's
  ``EfficientMPRT``): instead of comparing maps block by block through the cascade of
  notebook 09, compare only the trained and the *fully* randomized model, by how much the
  map's complexity (:func:`~helpers.evaluation.complexity.map_entropy`) rises:
  entropy(map of the random model) / entropy(map of the trained model). A map that
  explains the trained model turns into noise: higher is better; about 1 means the
  method barely noticed the randomization.

Both take a map function ``f(model, image, class_index) -> (H, W) map``, as the cascade
of :mod:`helpers.evaluation.randomization` does.
"""

from __future__ import annotations

import keras
import numpy as np

from ..models.scores import num_classes
from .complexity import ENTROPY_BINS, map_entropy
from .randomization import MapFunction, layer_groups, map_similarity, randomized_model


def other_class(model: keras.Model, class_index: int, seed: int = 0) -> int:
    """A class other than ``class_index``, drawn uniformly at random (seeded)."""
    n = num_classes(model)
    if n < 2:
        raise ValueError(f"model '{model.name}' scores only {n} class: no other class to draw")
    choices = [c for c in range(n) if c != int(class_index)]
    return int(np.random.default_rng(seed).choice(choices))


def random_logit(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    method: MapFunction,
    seed: int = 0,
    metric: str = "ssim",
    other: int | None = None,
) -> float:
    """Similarity of the maps for ``class_index`` and for a random other class (``other``,
    or drawn with ``seed``): ``metric`` is ``"ssim"`` (Quantus's default),
    ``"spearman_abs"`` or ``"spearman"`` (:func:`map_similarity`). Lower is better."""
    if other is None:
        other = other_class(model, class_index, seed)
    if int(other) == int(class_index):
        raise ValueError(f"the other class must differ from class {class_index}")
    first = np.asarray(method(model, image, class_index), np.float64)
    second = np.asarray(method(model, image, int(other)), np.float64)
    return map_similarity(first, second)[metric]


def fully_randomized_model(model: keras.Model, seed: int = 0) -> keras.Model:
    """A copy of ``model`` with every layer's weights re-initialized (the end of the cascade)."""
    return randomized_model(model, [name for name, _ in layer_groups(model)], seed)


def efficient_mprt(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    method: MapFunction,
    seed: int = 0,
    bins: int = ENTROPY_BINS,
    random_model: keras.Model | None = None,
) -> float:
    """entropy(map on the fully randomized model) / entropy(map on ``model``); higher is
    better. Pass ``random_model`` (:func:`fully_randomized_model`) to reuse one copy for
    many maps; otherwise one is made with ``seed``. A trained map of entropy 0 (all zeros
    or a single value) has no complexity to compare with: NaN."""
    if random_model is None:
        random_model = fully_randomized_model(model, seed)
    return entropy_rise(
        method(model, image, class_index), method(random_model, image, class_index), bins
    )


def entropy_rise(trained_map: np.ndarray, randomized_map: np.ndarray, bins: int = ENTROPY_BINS):
    """eMPRT's score from the two maps: entropy(randomized) / entropy(trained); NaN when the
    trained map has entropy 0 (all zeros or a single value)."""
    trained = map_entropy(trained_map, bins)
    randomized = map_entropy(randomized_map, bins)
    return randomized / trained if trained > 0 else float("nan")
