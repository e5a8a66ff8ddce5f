"""Sanity checks for saliency maps: cascading model-parameter randomization (Adebayo et al., 2018).

A saliency map claims to explain *the model*. So if the model's learned weights are
replaced by random ones, the map should change. Adebayo et al. re-initialize the layers
one block at a time, from the output (logits) down to the input, recompute each map after
every step, and measure how similar it still is to the map of the trained model with

* the Spearman rank correlation of the absolute maps (do the same pixels rank high?),
  and of the signed maps;
* the structural similarity index (SSIM) of the absolute maps scaled to [0, 1].

A method whose maps stay similar while the model is destroyed is not explaining the
model: an edge detector (:func:`edge_map`) passes every stage unchanged.

The randomization works on a copy of the model (``keras.models.clone_model`` plus the
trained weights); the model you pass in is never modified. Each randomized weight is drawn
afresh, seeded, from the initializer its layer was built with (Keras' defaults: Glorot
uniform kernels, zero biases; BatchNorm back to gamma 1, beta 0, mean 0, variance 1).
Layers are grouped into blocks (``stem``, ``block1`` ... ``block7``, ``top``, ``logits``
for EfficientNet-Lite0; ``block1`` ... ``block5``, ``fc1``, ``fc2``, ``logits`` for VGG16)
so a cascade takes a handful of steps instead of one per layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from scipy.stats import spearmanr
from skimage.filters import sobel
from skimage.metrics import structural_similarity

from ..methods.batching import Progress, progress_bar
from ..viz.plots import normalize

#: A saliency method for the sanity check: (model, image, class_index) -> (H, W) map.
MapFunction = Callable[[keras.Model, np.ndarray, int], np.ndarray]
SIMILARITY_METRICS = ("spearman_abs", "spearman", "ssim")

_GROUP_PATTERN = re.compile(r"^(block\d+)[a-z]?_|^([^_]+)_")
_INITIALIZERS = {
    "kernel": ("depthwise_initializer", "kernel_initializer"),
    "depthwise_kernel": ("depthwise_initializer",),
    "pointwise_kernel": ("pointwise_initializer",),
    "bias": ("bias_initializer",),
    "gamma": ("gamma_initializer",),
    "beta": ("beta_initializer",),
    "moving_mean": ("moving_mean_initializer",),
    "moving_variance": ("moving_variance_initializer",),
}


def _group_name(layer_name: str) -> str:
    match = _GROUP_PATTERN.match(layer_name)
    if match is None:
        return layer_name
    return match.group(1) or match.group(2)


def layer_groups(model: keras.Model) -> list[tuple[str, list[str]]]:
    """The model's layers that have weights, grouped into blocks, from the output back.

    A layer belongs to the block its name starts with (``block6a_expand_conv`` and
    ``block6b_dwconv`` -> ``block6``; ``top_conv`` -> ``top``; ``fc1`` -> ``fc1``).
    Returns ``[(block, [layer names]), ...]`` with the block nearest the output first.
    """
    groups: dict[str, list[str]] = {}
    last_position: dict[str, int] = {}
    for position, layer in enumerate(model.layers):
        if not layer.weights:
            continue
        name = _group_name(layer.name)
        groups.setdefault(name, []).append(layer.name)
        last_position[name] = position
    if not groups:
        raise ValueError(f"model '{model.name}' has no layers with weights to randomize")
    return [(name, groups[name]) for name in sorted(groups, key=lambda n: -last_position[n])]


def _fresh_weights(layer: keras.layers.Layer, seed: tuple[int, ...]) -> list[np.ndarray]:
    """New values for every weight of ``layer``, from the layer's own initializers.

    ``seed``: integers that, with the weight's position, seed each initializer.
    """
    values = []
    for index, variable in enumerate(layer.weights):
        base_name = variable.name.split("/")[-1]
        initializer = None
        for attribute in _INITIALIZERS.get(base_name, ()):
            initializer = getattr(layer, attribute, None)
            if initializer is not None:
                break
        if initializer is None:
            raise ValueError(
                f"cannot re-initialize weight '{variable.path}' of layer '{layer.name}' "
                f"({type(layer).__name__}): no initializer found for '{base_name}'"
            )
        config = initializer.get_config()
        if "seed" in config:
            state = np.random.SeedSequence([*seed, index]).generate_state(1)[0]
            config["seed"] = int(state % (2**31 - 1))
        fresh = type(initializer).from_config(config)
        values.append(keras.ops.convert_to_numpy(fresh(tuple(variable.shape), variable.dtype)))
    return values


def model_copy(model: keras.Model) -> keras.Model:
    """An independent copy of ``model`` with the same weights (safe to randomize)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def randomize_layers(model: keras.Model, layer_names: Sequence[str], seed: int = 0) -> None:
    """Re-initialize the named layers of ``model`` IN PLACE (use it on a copy)."""
    positions = {layer.name: i for i, layer in enumerate(model.layers)}
    for name in layer_names:
        layer = model.get_layer(name)
        layer.set_weights(_fresh_weights(layer, (int(seed), positions[name])))


def randomized_model(model: keras.Model, groups: Sequence[str], seed: int = 0) -> keras.Model:
    """A copy of ``model`` with every layer in the named blocks re-initialized."""
    members = dict(layer_groups(model))
    unknown = [g for g in groups if g not in members]
    if unknown:
        raise ValueError(f"unknown block(s) {unknown}; the model has {list(members)}")
    copy = model_copy(model)
    randomize_layers(copy, [name for g in groups for name in members[g]], seed)
    return copy


def edge_map(image: np.ndarray) -> np.ndarray:
    """Sobel edge strength of the grey image: a "saliency method" that ignores the model."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"edge_map takes one (H, W, 3) image, got shape {image.shape}")
    return sobel(image.mean(axis=-1) / 255.0).astype(np.float32)


def _scaled_abs(values: np.ndarray) -> np.ndarray:
    return normalize(np.abs(values), signed=False)


def _ssim_window(shape: tuple[int, ...]) -> int:
    """SSIM's usual 7 x 7 window, or the largest odd window that fits a smaller map."""
    side = min(7, min(shape))
    side -= 1 - side % 2
    if side < 3:
        raise ValueError(f"maps of shape {shape} are too small for SSIM (need at least 3 x 3)")
    return side


def map_similarity(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """How alike two (H, W) maps are, as in Adebayo et al. (2018).

    ``spearman_abs``: Spearman rank correlation of |a| and |b|; ``spearman``: of the
    signed maps; ``ssim``: structural similarity of |a| and |b|, each scaled to [0, 1]
    (clipped at its 99th percentile, see :func:`helpers.normalize`), with a 7 x 7 window
    (smaller for maps under 7 pixels). A constant map has
    no ranking: its rank correlations are NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"need two (H, W) maps of the same shape, got {a.shape} and {b.shape}")

    def rank_correlation(x, y):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            return float("nan")
        return float(spearmanr(x.ravel(), y.ravel())[0])

    absolute = rank_correlation(np.abs(a), np.abs(b))
    both_unsigned = a.min() >= 0 and b.min() >= 0  # then the signed ranking is the same
    return {
        "spearman_abs": absolute,
        "spearman": absolute if both_unsigned else rank_correlation(a, b),
        "ssim": float(
            structural_similarity(
                _scaled_abs(a), _scaled_abs(b), data_range=1.0, win_size=_ssim_window(a.shape)
            )
        ),
    }


@dataclass(frozen=True)
class RandomizationResult:
    """Maps of each method after each step of the cascade (stage 0 = the trained model)."""

    stages: tuple[str, ...]  # "trained", then the block randomized last at each step
    randomized: tuple[tuple[str, ...], ...]  # blocks randomized so far, per stage
    maps: dict[str, list[np.ndarray]]  # method -> one (H, W) map per stage
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def similarity(self, method: str, metric: str = "spearman_abs") -> np.ndarray:
        """Similarity of each stage's map to the trained model's map (1.0 at stage 0)."""
        if metric not in SIMILARITY_METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of {SIMILARITY_METRICS}")
        if method not in self._cache:
            reference = self.maps[method][0]
            self._cache[method] = [map_similarity(reference, m) for m in self.maps[method]]
        return np.array([scores[metric] for scores in self._cache[method]])

    def table(self, metric: str = "spearman_abs"):
        """A pandas DataFrame: one row per method, one column per stage."""
        import pandas as pd

        return pd.DataFrame(
            {name: self.similarity(name, metric) for name in self.maps}, index=list(self.stages)
        ).T


def cascading_randomization(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    methods: Mapping[str, MapFunction],
    stages: Sequence[str] | None = None,
    seed: int = 0,
    in_place: bool = False,
    progress: Progress = None,
) -> RandomizationResult:
    """Adebayo et al.'s cascading randomization test on one image.

    Re-initializes the model's blocks one after the other, from the logits down to the
    input (see :func:`layer_groups`), and recomputes every method's map for
    ``class_index`` at each step named in ``stages`` (default: after every block; the
    cascade stops after the last one named). ``methods``:
    ``{name: f(model, image, class_index) -> (H, W) map}``. Returns a
    :class:`RandomizationResult`; read ``result.similarity(method)`` or ``result.table()``.
    The same ``seed`` gives the same random weights in both modes below.

    ``in_place=False`` (default) randomizes a copy (:func:`model_copy`). ``in_place=True``
    randomizes the model's own weights and restores them afterwards, even after an error
    or an interrupt, and checks that they are back: faster (the copy and the tracing of
    new compiled functions for it cost a few seconds), but do not use the model elsewhere
    (another thread) while it runs. ``progress``: None shows a ``tqdm.auto`` bar over the
    blocks, False nothing, a function receives the fraction done.
    """
    groups = layer_groups(model)
    order = [name for name, _ in groups]
    stops = list(order if stages is None else stages)
    unknown = [s for s in stops if s not in order]
    if unknown:
        raise ValueError(f"unknown block(s) {unknown}; from the top the model has {order}")
    if [order.index(s) for s in stops] != sorted(order.index(s) for s in stops):
        raise ValueError(f"stages must follow the cascade's order (top first): {order}")
    if not methods:
        raise ValueError("methods is empty: give at least one {name: function}")

    def run(net):
        out = {}
        for name, method in methods.items():
            values = np.asarray(method(net, image, class_index), dtype=np.float32)
            if values.ndim != 2:
                raise ValueError(
                    f"method {name!r} returned shape {values.shape}; return an (H, W) map "
                    "(e.g. helpers.reduce_channels(attributions))"
                )
            out[name] = values
        return out

    maps = {name: [values] for name, values in run(model).items()}
    randomized: list[tuple[str, ...]] = [()]
    target = model if in_place else model_copy(model)
    saved = model.get_weights() if in_place else None
    try:
        done: list[str] = []
        cascade = groups[: order.index(stops[-1]) + 1] if stops else []
        with progress_bar(len(cascade), progress, "randomization cascade") as advance:
            for name, layer_names in cascade:
                randomize_layers(target, layer_names, seed)
                done.append(name)
                if name in stops:
                    for method, values in run(target).items():
                        maps[method].append(values)
                    randomized.append(tuple(done))
                advance(1)
    finally:
        if saved is not None:
            model.set_weights(saved)
            restored = model.get_weights()
            if not all(np.array_equal(a, b) for a, b in zip(saved, restored, strict=True)):
                raise RuntimeError("could not restore the model's weights after randomizing")
    return RandomizationResult(("trained", *stops), tuple(randomized), maps)
