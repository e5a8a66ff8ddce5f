"""Eigen-CAM (Muhammad & Yeasin, 2020): the first principal component of the feature maps.

The (h, w, K) feature maps of one image form a matrix X with one row per grid cell and one
column per channel. Its first principal direction v_1 (the top right singular vector of
the centred X) is the channel mixture that varies most over the image; the map is the
projection ``(X - mean) v_1``, reshaped to the grid, then ReLU, upsampling and division by
the maximum like every CAM. No gradient and no class: **the map is the same for every
class** (``class_index`` is checked, then ignored).

**Sign.** A singular vector is defined only up to its sign, so an SVD may return -v_1 and
the map would flip (pytorch-grad-cam's code centres the activations and keeps whatever sign
the SVD returns). Here the sign is fixed: the map correlates positively with the mean
activation over the channels (the "how much is going on here" map). For the centred
matrix that is the same as ``sum_k v_1k >= 0``, the rule used when the correlation is 0.

``center=False`` projects the uncentred X on its top right singular vector instead.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import keras
import numpy as np

from .batching import Progress
from .cam import cam_method
from .checks import ParameterError

_TIE = 1e-12


def _centred(feature_maps: np.ndarray, center: bool) -> np.ndarray:
    maps = feature_maps.astype(np.float64)
    return maps - maps.mean(axis=(1, 2), keepdims=True) if center else maps


def first_principal_direction(x: np.ndarray) -> np.ndarray:
    """The top right singular vector of a (cells, K) matrix, from the eigenvectors of the
    smaller of its two Gram matrices (much faster than a full SVD here), sign as it comes."""
    if x.shape[1] <= x.shape[0]:
        return np.linalg.eigh(x.T @ x)[1][:, -1]
    left = np.linalg.eigh(x @ x.T)[1][:, -1]
    direction = x.T @ left
    norm = np.linalg.norm(direction)
    return direction / norm if norm > 0 else direction


def eigen_cam_weights(
    feature_maps: np.ndarray, gradients: np.ndarray | None = None, center: bool = True
) -> np.ndarray:
    """v_1 per image, (N, K): the first principal direction of the (h*w, K) activation
    matrix (centred unless ``center=False``), signed so that the projection correlates
    positively with the mean activation over the channels (``gradients`` are unused)."""
    n, h, w, k = feature_maps.shape
    x = _centred(feature_maps, center).reshape(n, h * w, k)
    mean_map = feature_maps.astype(np.float64).mean(axis=-1).reshape(n, h * w)
    mean_map -= mean_map.mean(axis=1, keepdims=True)
    directions = np.zeros((n, k))
    for i in range(n):
        v = first_principal_direction(x[i])
        projection = x[i] @ v
        agreement = float((projection - projection.mean()) @ mean_map[i])
        scale = np.abs(projection).max() * np.abs(mean_map[i]).max() * h * w
        if agreement < -_TIE * scale or (abs(agreement) <= _TIE * scale and v.sum() < 0):
            v = -v
        directions[i] = v
    return directions


def eigen_cam_map(feature_maps: np.ndarray, weights: np.ndarray, center: bool = True):
    """The projection of each image's (centred) feature maps on ``weights`` (N, K): (N, h, w)."""
    return np.einsum("bhwk,bk->bhw", _centred(feature_maps, center), weights, optimize=True)


def eigen_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    center: bool = True,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Eigen-CAM (Muhammad & Yeasin, 2020): the feature maps projected on their first
    principal component, ReLU, upsampled, (H, W) in [0, 1]. The same map for every class;
    one forward pass to the layer. ``center=False``: no centring before the SVD."""
    if not isinstance(center, (bool, np.bool_)):
        raise ParameterError(f"center must be True or False, got {center!r}")
    return cam_method(
        model, image, class_index,
        functools.partial(eigen_cam_weights, center=bool(center)), layer, batch_size, progress,
        gradients=False, combine=functools.partial(eigen_cam_map, center=bool(center)),
    )
