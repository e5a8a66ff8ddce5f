# ruff: noqa: N806  (the original's variable names, kept for comparison)
"""Reference for ROAD's noisy linear imputation: pytorch-grad-cam's ``metrics/road.py``
(taken there from the authors' code, Rong et al. 2022, MIT licence), ported to numpy for the
tests: torch tensors became numpy arrays, everything else (the neighbour weights, the
lil_matrix system, ``spsolve``) is as in the original. Noise is left out (``noise=0``).

Layout as in the original: ``img`` is (C, H, W); ``mask`` is (H, W) with 1 = keep, 0 = impute.
"""

import numpy as np
from scipy.sparse import csc_matrix, lil_matrix
from scipy.sparse.linalg import spsolve

neighbors_weights = [
    ((1, 1), 1 / 12),
    ((0, 1), 1 / 6),
    ((-1, 1), 1 / 12),
    ((1, -1), 1 / 12),
    ((0, -1), 1 / 6),
    ((-1, -1), 1 / 12),
    ((1, 0), 1 / 6),
    ((-1, 0), 1 / 6),
]


def add_offset_to_indices(indices, offset, mask_shape):
    cord1 = indices % mask_shape[1]
    cord0 = indices // mask_shape[1]
    cord0 += offset[0]
    cord1 += offset[1]
    valid = (cord0 < 0) | (cord1 < 0) | (cord0 >= mask_shape[0]) | (cord1 >= mask_shape[1])
    return ~valid, indices + offset[0] * mask_shape[1] + offset[1]


def setup_sparse_system(mask, img, weights):
    maskflt = mask.flatten()
    imgflat = img.reshape((img.shape[0], -1))
    indices = np.argwhere(maskflt == 0).flatten()
    coords_to_vidx = np.zeros(len(maskflt), dtype=int)
    coords_to_vidx[indices] = np.arange(len(indices))
    num_equations = len(indices)
    A = lil_matrix((num_equations, num_equations))
    b = np.zeros((num_equations, img.shape[0]))
    sum_neighbors = np.ones(num_equations)
    for offset, weight in weights:
        valid, new_coords = add_offset_to_indices(indices, offset, mask.shape)
        valid_coords = new_coords[valid]
        valid_ids = np.argwhere(valid == 1).flatten()
        has_values_coords = valid_coords[maskflt[valid_coords] > 0.5]
        has_values_ids = valid_ids[maskflt[valid_coords] > 0.5]
        b[has_values_ids, :] -= weight * imgflat[:, has_values_coords].T
        has_no_values = valid_coords[maskflt[valid_coords] < 0.5]
        variable_ids = coords_to_vidx[has_no_values]
        has_no_values_ids = valid_ids[maskflt[valid_coords] < 0.5]
        A[has_no_values_ids, variable_ids] = weight
        sum_neighbors[np.argwhere(valid == 0).flatten()] = (
            sum_neighbors[np.argwhere(valid == 0).flatten()] - weight
        )
    A[np.arange(num_equations), np.arange(num_equations)] = -sum_neighbors
    return A, b


def impute(img, mask):
    """The original's ``NoisyLinearImputer(noise=0)(img, mask)``: (C, H, W) in and out."""
    imgflt = img.reshape(img.shape[0], -1).astype(np.float64)
    maskflt = mask.reshape(-1)
    indices_linear = np.argwhere(maskflt == 0).flatten()
    A, b = setup_sparse_system(mask, img, neighbors_weights)
    res = np.asarray(spsolve(csc_matrix(A), b), dtype=np.float32)
    img_infill = imgflt.copy()
    img_infill[:, indices_linear] = res.T
    return img_infill.reshape(img.shape)
