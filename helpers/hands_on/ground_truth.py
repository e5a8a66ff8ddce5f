"""Notebook 10's hands-on cell: the pointing game by hand.

The student turns a stack of signed maps (N, H, W) and the evidence masks (N, H, W) into one
hit per image (1 if the map's highest value lies inside the mask, else 0). The catalogue
lists what a hit array looks like after each typical slip, computed for the very maps of
the cell; only the mistakes that change the result on those maps are kept.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.localisation import pointing_game, relevance_mass_accuracy
from ..exercises import Answer, Mistake


def _hits_at(flat_indices: np.ndarray, masks: np.ndarray) -> np.ndarray:
    flat_masks = masks.reshape(len(masks), -1)
    return flat_masks[np.arange(len(masks)), flat_indices].astype(np.float64)


def pointing_game_answer(maps: np.ndarray, masks: np.ndarray, images: np.ndarray) -> Answer:
    """The expected hits (N,) of ``maps`` on ``masks`` and the catalogue of mistakes."""
    maps = np.asarray(maps, np.float64)
    masks = np.asarray(masks, bool)
    n = len(maps)
    flat = maps.reshape(n, -1)
    expected = np.array([pointing_game(m, k) for m, k in zip(maps, masks, strict=True)])
    transposed = masks.transpose(0, 2, 1)
    brightness = np.asarray(images, np.float64).sum(axis=-1).reshape(n, -1)
    candidates = [
        Mistake(
            "the lowest value of each map (argmin), not the highest",
            _hits_at(flat.argmin(axis=1), masks),
            "The game points at the map's maximum: m.argmax().",
        ),
        Mistake(
            "the largest |value|: a strong *negative* value (evidence against the class) won",
            _hits_at(np.abs(flat).argmax(axis=1), masks),
            "Use the signed map: its maximum is the strongest evidence *for* the class.",
        ),
        Mistake(
            "row and column swapped when looking the peak up in the mask",
            _hits_at(flat.argmax(axis=1), transposed),
            "np.unravel_index(m.argmax(), m.shape) gives (row, column): mask[row, column].",
        ),
        Mistake(
            "the brightest pixel of the image, not of the map",
            _hits_at(brightness.argmax(axis=1), masks),
            "Take the argmax of the saliency map, not of the photo.",
        ),
        Mistake(
            "the relevance mass (share of positive map inside the mask), not a hit",
            np.array([relevance_mass_accuracy(m, k) for m, k in zip(maps, masks, strict=True)]),
            "One hit per image: 1.0 if the map's maximum lies inside the mask, else 0.0.",
        ),
        Mistake(
            "the same hit for every image (the hit rate, not one hit per image)",
            np.full(n, expected.mean()),
            "Return one 0/1 value per image; the hit rate is their mean.",
        ),
    ]
    reference = Answer(expected)
    mistakes = [
        m for m in candidates if not reference.matches(np.asarray(m.value, np.float64))
    ]
    correct = [_hits_at(flat.argmax(axis=1), masks)]
    return Answer(
        expected,
        mistakes,
        correct=correct,
        rtol=0.0,
        atol=1e-9,
        hint="For each image: i = m.argmax(); hit = mask.ravel()[i] (1.0 inside, 0.0 outside).",
    )
