"""Notebook 12's hands-on cell: tf-explain's display step (``transform_to_normalized_grayscale``
before its cast to 8 bits), written by the student as ``my_display_step(attributions)``.

The step: ``gray = |attributions|`` summed over the colour channels, then
``tf.image.per_image_standardization``: ``(gray - mean) / max(std, 1 / sqrt(N))`` for ``N``
pixels. Standardising is blind to a constant factor, so a mean over the channels (gray / 3)
only shows where the floor ``1 / sqrt(N)`` is used, and a missing floor only shows there too;
an always-applied floor only shows where it is not. So the check runs two maps: the tabby's
vanilla gradient (on EfficientNet-Lite0 its std, 2.4e-4, is far below the floor 4.5e-3) and
its gradient x input (std far above it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..exercises import Answer, Mistake, WrongAnswerError, check_answers


def expected_display_step(attributions: np.ndarray) -> np.ndarray:
    """What tf-explain computes: TensorFlow's per-image standardisation of sum |a|."""
    import tensorflow as tf

    gray = np.abs(np.asarray(attributions, np.float32)).sum(axis=-1)
    return tf.image.per_image_standardization(gray[..., None]).numpy()[..., 0]


def _standardise(gray: np.ndarray, floor: float) -> np.ndarray:
    return (gray - gray.mean()) / max(float(gray.std()), floor)


#: Returning tf-explain's picture instead of the floats (named from the values, or from an
#: integer dtype: a cast to uint8 moves values by up to 1, beyond any float tolerance).
PICTURE = Mistake(
    "already the 8-bit picture (x 255, clipped to 0..255)",
    None,
    "Return the standardised floats; x 255, the clipping and the cast to uint8 come after "
    "this step.",
)


def _picture(gray: np.ndarray, floor: float) -> np.ndarray:
    return np.clip(255 * _standardise(gray, floor), 0, 255)


def display_step_answer(attributions: np.ndarray) -> Answer:
    """The catalogue for one attribution array (H, W, 3): the expected standardised map, its
    other correct forms and the mistakes that change the result for this array."""
    a = np.asarray(attributions, np.float64)
    gray = np.abs(a).sum(axis=-1)
    floor = 1.0 / np.sqrt(gray.size)
    expected = expected_display_step(attributions)
    mistakes = [
        Mistake(
            "the standard deviation without its floor 1/sqrt(N) (or a floor too small to matter)",
            (gray - gray.mean()) / gray.std(),
            "Divide by max(gray.std(), 1 / np.sqrt(gray.size)): TensorFlow floors it.",
        ),
        Mistake(
            "the mean over the colour channels instead of the sum",
            _standardise(np.abs(a).mean(axis=-1), floor),
            "Sum |attributions| over the last axis: .sum(axis=-1) (the factor 3 shows where "
            "the floor is used).",
        ),
        Mistake(
            "divided by the floor 1/sqrt(N) where the standard deviation is larger",
            (gray - gray.mean()) / floor,
            "Divide by max(gray.std(), 1 / np.sqrt(gray.size)).",
        ),
        Mistake(
            "the floor computed from all H x W x 3 values, not from the H x W pixels",
            _standardise(gray, 1.0 / np.sqrt(a.size)),
            "N is the number of pixels of the grey map: gray.size, after the sum over channels.",
        ),
        Mistake(
            "the signed attributions summed, without the absolute value",
            _standardise(a.sum(axis=-1), floor),
            "Take np.abs(attributions) before the sum: tf-explain shows magnitudes.",
        ),
        Mistake(
            "the maximum over the colour channels instead of the sum",
            _standardise(np.abs(a).max(axis=-1), floor),
            "tf-explain sums |attributions| over the channels (the course's maps take the max).",
        ),
        Mistake(
            "the mean not subtracted",
            gray / max(gray.std(), floor),
            "Subtract gray.mean() before dividing.",
        ),
        Mistake(
            "min-max scaling instead of standardisation",
            (gray - gray.min()) / (gray.max() - gray.min()),
            "Standardise: subtract the mean, divide by max(std, 1/sqrt(N)).",
        ),
        Mistake(PICTURE.label, _picture(gray, floor), PICTURE.fix),
    ]
    reference = Answer(expected)
    distinct = [m for m in mistakes if not reference.matches(np.asarray(m.value, np.float64))]
    return Answer(
        expected,
        distinct,
        correct=[_standardise(gray, floor), _standardise(gray.astype(np.float32), floor)],
        hint="Sum |attributions| over the last axis, subtract the mean, divide by "
        "max(std, 1/sqrt(number of pixels)).",
    )


def check_my_display_step(
    my_display_step: Callable[[np.ndarray], np.ndarray], inputs: Mapping[str, np.ndarray]
) -> None:
    """Run the student's function on each named attribution array and check the result."""
    for name, attributions in inputs.items():
        gray = np.abs(np.asarray(attributions, np.float64)).sum(axis=-1)
        std, floor = gray.std(), 1.0 / np.sqrt(gray.size)
        used = "the floor is used" if std < floor else "the std is used"
        print(f"{name}: std {std:.2g}, floor 1/sqrt(N) = {floor:.2g}, so {used}")
        yours = my_display_step(attributions)
        try:
            if np.asarray(yours).dtype.kind in "ui":
                raise WrongAnswerError(f"standardised: {PICTURE.label}. {PICTURE.fix}")
            check_answers({"standardised": display_step_answer(attributions)}, standardised=yours)
        except WrongAnswerError as err:
            raise WrongAnswerError(f"for {name}, {err}") from None
