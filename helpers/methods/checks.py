"""Checks of the methods' parameters: each error names the parameter and says what is allowed.

A method calls one of the ``*_settings`` functions on the first line of its body; they
return the values normalised (numpy integers become ``int``, numbers ``float``) or raise
:class:`ParameterError`, a ``ValueError``. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


class ParameterError(ValueError):
    """A method parameter of the wrong type or value (the message names it)."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return type(value).__name__


def positive_int(name: str, value: Any, what: str = "", low: int = 1) -> int:
    """``value`` as an int >= ``low`` (numpy integers accepted; bools, floats, text refused)."""
    about = f" ({what})" if what else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name}{about} must be a whole number >= {low}, got {_shown(value)} ({_kind(value)})"
        )
    if int(value) < low:
        raise ParameterError(f"{name}{about} must be a whole number >= {low}, got {int(value)}")
    return int(value)


def finite_number(name: str, value: Any, what: str = "", low: float | None = None) -> float:
    """``value`` as a finite float (>= ``low`` if given); NaN, inf, text and None refused."""
    about = f" ({what})" if what else ""
    bound = f" >= {low:g}" if low is not None else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(
            f"{name}{about} must be a finite number{bound}, got {_shown(value)} ({_kind(value)})"
        )
    number = float(value)
    if not np.isfinite(number):
        raise ParameterError(f"{name}{about} must be a finite number{bound}, got {number}")
    if low is not None and number < low:
        raise ParameterError(f"{name}{about} must be a finite number{bound}, got {number:g}")
    return number


def seed_value(seed: Any) -> int:
    """The seed of a random draw: a whole number >= 0 (results are reproducible)."""
    return positive_int("seed", seed, "seeds the random draws", low=0)


def finite_array(name: str, value: Any, what: str) -> np.ndarray:
    """A float32 array of finite numbers from ``value``; anything else names ``name``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise ParameterError(f"{name} must be {what}, got {_shown(value)} ({_kind(value)})")
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be {what}, got {_shown(value)} ({_kind(value)})"
        ) from None
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"{name} must be {what} with finite values; it holds NaN or inf")
    return array


def smoothgrad_settings(n: Any, noise: Any, seed: Any, method: Any) -> tuple[int, float, int]:
    """SmoothGrad's ``n``, ``noise`` and ``seed``, checked; ``method`` must be callable."""
    if not callable(method):
        raise ParameterError(
            f"method must be a saliency function such as helpers.vanilla_gradients or "
            f"helpers.grad_cam, got {_shown(method)} ({_kind(method)})"
        )
    return (
        positive_int("n", n, "number of noisy samples"),
        finite_number("noise", noise, "a fraction of the input range, e.g. 0.15", low=0.0),
        seed_value(seed),
    )


def integrated_gradients_settings(baseline: Any, steps: Any) -> tuple[Any, int | str]:
    """Integrated Gradients' ``baseline`` (None for black, a finite number, or an array of
    finite values shaped like the image) and ``steps`` (``"auto"`` or a whole number),
    checked."""
    if not (isinstance(steps, str) and steps == "auto"):
        steps = positive_int("steps", steps, "intervals of the path integral, or 'auto'")
    what = "None (black), a number (a flat grey) or an image-shaped array"
    if baseline is None:
        return None, steps
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        return finite_number("baseline", baseline), steps
    if isinstance(baseline, bool):
        raise ParameterError(f"baseline must be {what}, got {baseline!r}")
    array = finite_array("baseline", baseline, what)
    return (float(array) if array.ndim == 0 else array), steps


def occlusion_settings(patch: Any, stride: Any, fill: Any) -> tuple[int, int, Any]:
    """Occlusion's ``patch``, ``stride`` (whole numbers >= 1) and ``fill`` (None for
    ImageNet's mean colour, a finite number, or one finite value per channel)."""
    patch = positive_int("patch", patch, "side of the hidden square, in pixels")
    stride = positive_int("stride", stride, "pixels between patches")
    if fill is None:
        return patch, stride, None
    what = "None (ImageNet's mean colour), a number or one number per colour channel"
    if isinstance(fill, bool):
        raise ParameterError(f"fill must be {what}, got {fill!r}")
    if isinstance(fill, numbers.Real):
        return patch, stride, finite_number("fill", fill)
    return patch, stride, finite_array("fill", fill, what)
