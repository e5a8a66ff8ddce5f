"""A synthetic task whose evidence is known: which pixels *should* a saliency map light up?

Each image (64 x 64 RGB pixels in [0, 255], the course's pixel convention) shows one
**target** shape and a few **distractors** at random places on a noisy dark background.
The label is the kind of the target (``plus``, ``cross``, ``ring`` or ``frame``: thin
outlines); the distractors (a filled disc, a filled square, a bar) appear in every class,
in the same random colours, so only the target decides the class. The generator returns
the target's box as the **evidence mask**, the ground truth that localisation metrics
(pointing game, relevance mass) score a map against.

Seeded: the same ``seed`` gives the same images, labels and masks on every machine (numpy's
``default_rng``). Shapes sit in distinct cells of a 4 x 4 grid (16 x 16 pixels each), at a
random offset inside their cell, so they never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGE_SIZE = 64
SHAPE_SIZE = 10  # pixels: each shape fits a SHAPE_SIZE x SHAPE_SIZE box
CELL = 16  # the grid the shapes are placed on (no overlaps)
CLASS_NAMES = ("plus", "cross", "ring", "frame")
DISTRACTOR_NAMES = ("disc", "square", "bar")
DISTRACTORS = (2, 4)  # how many distractors an image has: 2, 3 or 4


def _stencils() -> dict[str, np.ndarray]:
    """Boolean SHAPE_SIZE x SHAPE_SIZE pictures of every shape."""
    s = SHAPE_SIZE
    rows, cols = np.mgrid[0:s, 0:s]
    centre = (s - 1) / 2
    radius = np.hypot(rows - centre, cols - centre)
    middle = (np.abs(rows - centre) < 1) | (np.abs(cols - centre) < 1)
    return {
        "plus": (np.abs(rows - centre) < 1) | (np.abs(cols - centre) < 1),
        "cross": (np.abs(rows - cols) <= 1) | (np.abs(rows + cols - (s - 1)) <= 1),
        "ring": (radius > centre - 2) & (radius <= centre + 0.5),
        "frame": (rows < 2) | (rows >= s - 2) | (cols < 2) | (cols >= s - 2),
        "disc": radius <= centre + 0.5,
        "square": (rows >= 1) & (rows < s - 1) & (cols >= 1) & (cols < s - 1),
        "bar": middle & (np.abs(rows - centre) < 1),  # horizontal; turned at random
    }


STENCILS = _stencils()


@dataclass(frozen=True)
class SyntheticSet:
    """Images with their labels and the evidence mask of each (the target's box)."""

    images: np.ndarray  # (N, 64, 64, 3) float32 RGB pixels in [0, 255]
    labels: np.ndarray  # (N,) int: index into CLASS_NAMES
    masks: np.ndarray  # (N, 64, 64) bool: the target's SHAPE_SIZE x SHAPE_SIZE box
    boxes: np.ndarray  # (N, 4) int: top, left, bottom, right (exclusive) of the target
    class_names: tuple[str, ...] = CLASS_NAMES

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index) -> SyntheticSet:
        """A subset (``data[:100]``, ``data[mask]``), still a SyntheticSet."""
        if np.ndim(index) == 0 and not isinstance(index, slice):
            index = slice(int(index), int(index) + 1)
        return SyntheticSet(
            self.images[index], self.labels[index], self.masks[index], self.boxes[index],
            self.class_names,
        )

    @property
    def area_share(self) -> np.ndarray:
        """Each mask's share of the image (N,): the chance level of the pointing game."""
        return self.masks.reshape(len(self), -1).mean(axis=1)


def make_synthetic(n: int, seed: int = 0, noise: float = 8.0) -> SyntheticSet:
    """``n`` images of the synthetic task (balanced classes in random order), seeded.

    ``noise``: the standard deviation of the background's Gaussian noise, in pixel units.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (how many images) must be a whole number >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    size, cells_per_side = IMAGE_SIZE, IMAGE_SIZE // CELL
    labels = rng.permutation(np.arange(n) % len(CLASS_NAMES))
    background = rng.uniform(15, 70, size=(n, 1, 1, 3))
    images = background + rng.normal(0.0, noise, size=(n, size, size, 3))
    masks = np.zeros((n, size, size), dtype=bool)
    boxes = np.zeros((n, 4), dtype=int)
    room = CELL - SHAPE_SIZE
    for i in range(n):
        count = 1 + rng.integers(DISTRACTORS[0], DISTRACTORS[1] + 1)
        cells = rng.choice(cells_per_side**2, size=count, replace=False)
        kinds = [CLASS_NAMES[labels[i]]] + list(rng.choice(DISTRACTOR_NAMES, size=count - 1))
        for k, (cell, kind) in enumerate(zip(cells, kinds, strict=True)):
            top = (cell // cells_per_side) * CELL + rng.integers(0, room + 1)
            left = (cell % cells_per_side) * CELL + rng.integers(0, room + 1)
            stencil = STENCILS[kind]
            if kind == "bar" and rng.random() < 0.5:
                stencil = stencil.T
            colour = rng.uniform(110, 255, size=3)
            window = images[i, top : top + SHAPE_SIZE, left : left + SHAPE_SIZE]
            window[stencil] = colour
            if k == 0:
                masks[i, top : top + SHAPE_SIZE, left : left + SHAPE_SIZE] = True
                boxes[i] = (top, left, top + SHAPE_SIZE, left + SHAPE_SIZE)
    images = np.clip(images, 0, 255).astype(np.float32)
    return SyntheticSet(images, labels.astype(np.int64), masks, boxes)
