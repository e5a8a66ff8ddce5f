"""SmoothGrad-squared (Hooker et al., 2019) and VarGrad (Adebayo et al., 2018): SmoothGrad's
noise loop with another statistic of the noisy maps (:mod:`helpers.methods.aggregates`).

Both take exactly :func:`helpers.smoothgrad`'s settings and defaults (its signature, less
``aggregate``), so the three stay one argument apart: same noise, same seed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from .smoothgrad import smoothgrad


def _noise_statistic(aggregate: str, name: str, doc: str) -> Callable[..., np.ndarray]:
    def method(model, image, class_index, *args, **settings) -> np.ndarray:
        return smoothgrad(model, image, class_index, *args, aggregate=aggregate, **settings)

    signature = inspect.signature(smoothgrad)
    method.__signature__ = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name != "aggregate"]
    )
    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


smoothgrad_squared = _noise_statistic(
    "square",
    "smoothgrad_squared",
    """SmoothGrad-squared (Hooker et al., 2019): the mean of the *squared* maps of ``n`` noisy
    copies, (H, W, 3), never negative. Settings as :func:`helpers.smoothgrad`
    (``aggregate="square"``).""",
)

vargrad = _noise_statistic(
    "variance",
    "vargrad",
    """VarGrad (Adebayo et al., 2018): the variance of the maps of ``n`` noisy copies,
    (H, W, 3), never negative (population variance, divided by n). Settings as
    :func:`helpers.smoothgrad` (``aggregate="variance"``).""",
)
