"""The gradient-weighted CAM family: one weight function per method, all through
:func:`~helpers.methods.cam.cam_method`.

With A^k the feature maps (h x w, K channels) and g^k_ij = d y^c / d A^k_ij the gradients
of the class logit, every method below is ``ReLU(sum_k w^k_ij A^k_ij)``, upsampled and
divided by its maximum; they differ only in the weights w:

=============  ====================================================  =======================
method         weight of A^k_ij                                       paper
=============  ====================================================  =======================
Grad-CAM       mean_ab g^k_ab (one per channel)                       Selvaraju et al. 2017
HiResCAM       g^k_ij (element-wise: no averaging)                    Draelos & Carin 2020
LayerCAM       max(g^k_ij, 0)                                         Jiang et al. 2021
XGrad-CAM      sum_ab (A^k_ab / sum_a'b' A^k_a'b') g^k_ab             Fu et al. 2020
Grad-CAM++     sum_ab alpha^k_ab max(g^k_ab, 0), alpha from eq. 19     Chattopadhay et al. 2018
=============  ====================================================  =======================

HiResCAM's map sums over the grid to sum_ijk g A: when the logit is linear in the layer
(a GAP -> Dense head, or Flatten -> Dense) that is the logit minus the dense bias. On a
global-average-pooling head the gradient is the same in every cell, so HiResCAM equals
Grad-CAM before the ReLU and XGrad-CAM equals Grad-CAM; they differ where the head uses
position (Flatten -> Dense, VGG16's fully connected layers).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from .batching import Progress
from .cam import cam_method
from .checks import ParameterError


def hires_cam_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """HiResCAM's weights: the gradient itself, cell by cell, (N, h, w, K)."""
    return gradients


def layer_cam_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """LayerCAM's weights: the positive part of the gradient, cell by cell, (N, h, w, K)."""
    return np.maximum(gradients, 0.0)


def xgrad_cam_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """XGrad-CAM's channel weights: the gradient averaged with the activations as weights,
    sum_ij (A_ij / sum_ab A_ab) g_ij, (N, K); a channel that sums to 0 gets weight 0."""
    total = feature_maps.sum(axis=(1, 2), dtype=np.float64)
    weighted = (feature_maps.astype(np.float64) * gradients).sum(axis=(1, 2))
    return np.divide(weighted, total, out=np.zeros_like(weighted), where=total != 0)


def _alpha(gradients: np.ndarray, feature_total: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """Grad-CAM++'s alpha (eq. 19): g^2 / (2 g^2 + feature_total * g^3), 0 where the
    denominator is 0 (there g = 0 and the weight is 0 anyway)."""
    g = gradients.astype(np.float64)
    g2 = g * g
    denominator = 2.0 * g2 + feature_total * g2 * g + eps
    return np.divide(g2, denominator, out=np.zeros_like(g2), where=denominator != 0)


def grad_cam_plus_plus_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Grad-CAM++'s channel weights as the paper derives them, (N, K).

    For an exponential score Y^c = exp(S^c) of a piecewise-linear network the second and
    third derivatives are exp(S) g^2 and exp(S) g^3 (g = dS/dA), and eq. 19 becomes
    ``alpha_ij = g_ij^2 / (2 g_ij^2 + sum_ab A_ab g_ij^3)``; the weight is
    ``sum_ij alpha_ij ReLU(dY/dA_ij)``. dY/dA = exp(S) g: the factor exp(S) is the same for
    every channel, so it is left out (the map is divided by its maximum anyway).
    """
    total = feature_maps.sum(axis=(1, 2), keepdims=True, dtype=np.float64)
    alpha = _alpha(gradients, total)
    return (alpha * np.maximum(gradients, 0.0)).sum(axis=(1, 2))


def _pytorch_grad_cam_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """pytorch-grad-cam's GradCAMPlusPlus: eq. 19 with sum(A), plus 1e-6 in the denominator
    (comparable to 2 g^2 when gradients are ~1e-3, as on a GAP head)."""
    total = feature_maps.sum(axis=(1, 2), keepdims=True, dtype=np.float64)
    alpha = np.where(gradients != 0, _alpha(gradients, total, eps=1e-6), 0.0)
    return (alpha * np.maximum(gradients, 0.0)).sum(axis=(1, 2))


def _tf_keras_vis_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """tf-keras-vis' GradcamPlusPlus: eq. 19, then alpha divided by its sum over the grid."""
    total = feature_maps.sum(axis=(1, 2), keepdims=True, dtype=np.float64)
    alpha = _alpha(gradients, total)
    norm = alpha.sum(axis=(1, 2), keepdims=True)
    alpha = alpha / np.where(norm == 0, 1.0, norm)
    return (alpha * np.maximum(gradients, 0.0)).sum(axis=(1, 2))


def _xplique_weights(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """xplique's GradCAMPP: mean(A) instead of sum(A) in the denominator, the mean over the
    grid instead of the sum (a factor 1/hw on every weight: no effect on the scaled map)."""
    mean = feature_maps.mean(axis=(1, 2), keepdims=True, dtype=np.float64)
    alpha = _alpha(gradients, mean)
    return (alpha * np.maximum(gradients, 0.0)).mean(axis=(1, 2))


#: Grad-CAM++ as the paper defines it, and as three libraries compute it.
GRAD_CAM_PLUS_PLUS_VARIANTS = {
    "paper": grad_cam_plus_plus_weights,
    "pytorch-grad-cam": _pytorch_grad_cam_weights,
    "tf-keras-vis": _tf_keras_vis_weights,
    "xplique": _xplique_weights,
}


def hires_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """HiResCAM (Draelos & Carin, 2020): ReLU(sum_k g^k * A^k), the gradient times the
    activation cell by cell (no averaging over the grid), upsampled, (H, W) in [0, 1].

    Its raw map (:func:`helpers.cam_parts` with :func:`hires_cam_weights`) sums to the
    logit minus the dense bias when the logit is linear in the layer."""
    return cam_method(model, image, class_index, hires_cam_weights, layer, batch_size, progress)


def layer_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """LayerCAM (Jiang et al., 2021): ReLU(sum_k ReLU(g^k) * A^k) cell by cell, upsampled,
    (H, W) in [0, 1]. Unlike Grad-CAM it gives usable maps from early layers."""
    return cam_method(model, image, class_index, layer_cam_weights, layer, batch_size, progress)


def xgrad_cam(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """XGrad-CAM (Fu et al., 2020): Grad-CAM with the gradients averaged over the grid with
    the activations as weights (:func:`xgrad_cam_weights`), (H, W) in [0, 1]."""
    return cam_method(model, image, class_index, xgrad_cam_weights, layer, batch_size, progress)


def grad_cam_plus_plus(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | Sequence[int],
    layer: str | None = None,
    variant: str = "paper",
    batch_size: int | None = None,
    progress: Progress = None,
) -> np.ndarray:
    """Grad-CAM++ (Chattopadhay et al., 2018), (H, W) in [0, 1].

    ``variant="paper"``: eq. 19 as derived for an exponential score
    (:func:`grad_cam_plus_plus_weights`). The libraries differ: ``"pytorch-grad-cam"``
    adds 1e-6 to the denominator, ``"tf-keras-vis"`` divides alpha by its sum over the grid,
    ``"xplique"`` uses mean(A) instead of sum(A) (:data:`GRAD_CAM_PLUS_PLUS_VARIANTS`).
    """
    weights = GRAD_CAM_PLUS_PLUS_VARIANTS.get(variant) if isinstance(variant, str) else None
    if weights is None:
        raise ParameterError(
            f"variant must be one of {', '.join(map(repr, GRAD_CAM_PLUS_PLUS_VARIANTS))}, "
            f"got {variant!r}"
        )
    return cam_method(model, image, class_index, weights, layer, batch_size, progress)
