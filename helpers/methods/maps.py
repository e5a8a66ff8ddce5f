"""Numpy-only operations on attribution maps (no TensorFlow import)."""

from __future__ import annotations

import numpy as np


def reduce_channels(attributions: np.ndarray, how: str = "max_abs") -> np.ndarray:
    """Collapse the colour axis of (..., H, W, 3) attributions to (..., H, W).

    ``"max_abs"``: max |a| over channels (Simonyan et al., CS231n); ``"sum_abs"``: sum of
    |a|; ``"sum"``: signed sum (keeps positive/negative evidence, as for IG).
    """
    attributions = np.asarray(attributions, dtype=np.float32)
    if how == "max_abs":
        return np.abs(attributions).max(axis=-1)
    if how == "sum_abs":
        return np.abs(attributions).sum(axis=-1)
    if how == "sum":
        return attributions.sum(axis=-1)
    raise ValueError(f"unknown reduction {how!r}; choose 'max_abs', 'sum_abs' or 'sum'")


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between two maps (any shape, flattened): 1 = the same pattern up
    to a positive scale factor, 0 = unrelated; 0 when either map is all zeros."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norms) if norms > 0 else 0.0
