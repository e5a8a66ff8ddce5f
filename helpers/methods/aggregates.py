"""How SmoothGrad's noise loop combines the maps of its noisy copies (numpy only).

* ``"mean"``: SmoothGrad (Smilkov et al., 2017), the average map.
* ``"square"``: SmoothGrad-squared (Hooker et al., 2019), the average of the squared maps.
* ``"variance"``: VarGrad (Adebayo et al., 2018), the variance of the maps over the noise.

Maps arrive in chunks; :class:`MapAggregate` keeps float64 running statistics (the
variance by Chan et al.'s pairwise update, exact for identical maps), so memory does not
grow with the number of samples.
"""

from __future__ import annotations

import numpy as np

AGGREGATES = ("mean", "square", "variance")


def check_aggregate(aggregate: str) -> str:
    """``aggregate`` if it is one of :data:`AGGREGATES`, else a clear ValueError."""
    if aggregate not in AGGREGATES:
        raise ValueError(
            f"unknown aggregate {aggregate!r}; choose 'mean' (SmoothGrad), 'square' "
            "(SmoothGrad-squared) or 'variance' (VarGrad)"
        )
    return aggregate


class MapAggregate:
    """Running mean, mean of squares or variance of maps added chunk by chunk."""

    def __init__(self, aggregate: str = "mean"):
        self.aggregate = check_aggregate(aggregate)
        self.count = 0
        self.total: np.ndarray | None = None  # sum of the maps (of their squares: "square")
        self.spread: np.ndarray | None = None  # sum of squared deviations ("variance")

    def add(self, maps: np.ndarray) -> None:
        """Add a chunk of maps stacked on axis 0."""
        maps = np.asarray(maps)
        count = len(maps)
        if self.aggregate == "square":
            maps = np.square(maps, dtype=np.float64)
        total = maps.sum(axis=0, dtype=np.float64)
        if self.aggregate == "variance":
            mean = total / count
            spread = ((maps - mean) ** 2).sum(axis=0)
            if self.count:  # merge with the earlier chunks (Chan et al., 1979)
                shift = mean - self.total / self.count
                spread += self.spread + shift**2 * (self.count * count / (self.count + count))
            self.spread = spread
        self.total = total if self.total is None else self.total + total
        self.count += count

    def result(self) -> np.ndarray:
        """The aggregate as float32 (VarGrad: the population variance, divided by n)."""
        if self.count == 0:
            raise ValueError("no maps were added")
        value = self.spread if self.aggregate == "variance" else self.total
        return (value / self.count).astype(np.float32)
