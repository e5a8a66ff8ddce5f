"""What a layer computes: its feature maps for an image (activation visualisation)."""

from __future__ import annotations

import weakref

import keras
import numpy as np

from ..models.layers import find_layer, symbolic_input
from .batching import checked_images, chunks, resolve_batch_size, unbatch

_SUBMODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def activations(
    model: keras.Model, image: np.ndarray, layer: str, batch_size: int | None = None
) -> np.ndarray:
    """The output of ``layer`` for the image(s): (h, w, channels) for a conv layer."""
    name = find_layer(model, layer).name
    per_model = _SUBMODELS.setdefault(model, {})
    if name not in per_model:
        per_model[name] = keras.Model(symbolic_input(model), model.get_layer(name).output)
    submodel = per_model[name]
    batch, single = checked_images(model, image)
    outputs = [
        keras.ops.convert_to_numpy(submodel(batch[part], training=False))
        for part in chunks(len(batch), resolve_batch_size(model, batch_size))
    ]
    return unbatch(np.concatenate(outputs).astype(np.float32), single)


def strongest_channels(feature_maps: np.ndarray, count: int = 16) -> np.ndarray:
    """Indices of the ``count`` channels of (h, w, K) maps with the largest mean activation."""
    if feature_maps.ndim != 3:
        raise ValueError(f"expected feature maps (h, w, channels), got shape {feature_maps.shape}")
    means = feature_maps.mean(axis=(0, 1))
    return np.argsort(-means, kind="stable")[:count]
