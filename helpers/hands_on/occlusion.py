"""Notebook 05's hands-on cell: hide one patch by hand and measure the drop of the class logit.

The student writes ``hidden_one`` (a copy of the image with rows ``top..top+size-1`` and
columns ``left..left+size-1`` filled with ImageNet's mean colour) and ``drop`` (the class
logit of the image minus that of ``hidden_one``). The check compares the image exactly and
the drop with the value :func:`helpers.occlusion` wrote on that patch, within what float32
and another batch composition do to the two logits. The notebook's patch is not square on
the diagonal (``top != left``), so swapped rows and columns change the result too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..exercises import Answer, Mistake, WrongAnswerError, check_answers
from ..methods.occlusion import IMAGENET_MEAN_RGB
from ..models.scores import predict_logits, softmax
from .catalogue import with_mistakes

HIDDEN_HINT = (
    "hidden_one = cat.copy(), then hidden_one[TOP:TOP + P, LEFT:LEFT + P] = IMAGENET_MEAN_RGB "
    "(rows first, then columns; a slice's end is excluded)."
)
DROP_HINT = (
    "drop = f(cat) - f(hidden_one), f the class logit: "
    "logits = helpers.predict_logits(model, np.stack([cat, hidden_one])); "
    "logits[0, CLASS] - logits[1, CLASS]."
)


class Patch(NamedTuple):
    """The square the cell hides: rows ``top..top+size-1``, columns ``left..left+size-1``."""

    top: int
    left: int
    size: int


def _hidden(image: np.ndarray, rows: slice, columns: slice, fill) -> np.ndarray:
    copy = np.array(image, dtype=np.float32, copy=True)
    copy[rows, columns] = np.asarray(fill, dtype=np.float32)
    return copy


def patch_catalogue(
    model, image: np.ndarray, class_index: int, patch: Patch, expected_drop: float, other_class: int
) -> dict[str, Answer]:
    """The answers of the cell, ``hidden_one`` and ``drop``, with their correct forms and
    mistakes; ``other_class`` is the class a student may take by mistake (the top-1)."""
    top, left, size = patch
    rows, columns = slice(top, top + size), slice(left, left + size)
    hidden = _hidden(image, rows, columns, IMAGENET_MEAN_RGB)
    wrong_images = {
        "the patch one row and one column short (a slice end of TOP + P - 1)": _hidden(
            image, slice(top, top + size - 1), slice(left, left + size - 1), IMAGENET_MEAN_RGB
        ),
        "the patch one row and one column too long (a slice end of TOP + P + 1)": _hidden(
            image, slice(top, top + size + 1), slice(left, left + size + 1), IMAGENET_MEAN_RGB
        ),
        "rows and columns swapped (the patch at LEFT, TOP)": _hidden(
            image, columns, rows, IMAGENET_MEAN_RGB
        ),
        "filled with 0 (black), not ImageNet's mean colour": _hidden(image, rows, columns, 0.0),
        "filled with 127.5 (tf-explain's grey), not ImageNet's mean colour": _hidden(
            image, rows, columns, 127.5
        ),
        "filled with the photo's own mean colour, not ImageNet's": _hidden(
            image, rows, columns, image.mean(axis=(0, 1))
        ),
        "the mean colour in reversed channel order (BGR)": _hidden(
            image, rows, columns, IMAGENET_MEAN_RGB[::-1]
        ),
    }
    fixes = {
        "the patch one row and one column short (a slice end of TOP + P - 1)": (
            "A slice excludes its end: rows TOP..TOP+P-1 are TOP:TOP + P."
        ),
        "the patch one row and one column too long (a slice end of TOP + P + 1)": (
            "A slice excludes its end: rows TOP..TOP+P-1 are TOP:TOP + P."
        ),
        "rows and columns swapped (the patch at LEFT, TOP)": (
            "The first index is the row (TOP), the second the column (LEFT)."
        ),
    }
    fill_fix = "Fill with IMAGENET_MEAN_RGB, the colour helpers.occlusion uses."
    images = np.stack([image, hidden, *wrong_images.values()])
    logits = predict_logits(model, images).astype(np.float64)
    probabilities = softmax(logits)
    f = logits[:, class_index]
    alone = np.concatenate([predict_logits(model, im[None]) for im in images[:2]])
    hidden_mistakes = [
        Mistake(label, value, fixes.get(label, fill_fix)) for label, value in wrong_images.items()
    ]
    drop_mistakes = [
        Mistake(
            "the probability instead of the logit",
            probabilities[0, class_index] - probabilities[1, class_index],
            "Occlusion here measures the logit: use helpers.predict_logits, not a softmax.",
        ),
        Mistake(
            "the log-probability instead of the logit",
            np.log(probabilities[0, class_index]) - np.log(probabilities[1, class_index]),
            "Use the logits themselves (helpers.predict_logits), not a log-softmax.",
        ),
        Mistake(
            "the drop with the wrong sign (hidden minus original)",
            f[1] - f[0],
            "drop = f(cat) - f(hidden_one): positive when hiding the patch lowers the score.",
        ),
        Mistake(
            f"the drop of another class ({other_class}, the top-1)",
            logits[0, other_class] - logits[1, other_class],
            f"Take the logit of class {class_index} (the tabby), not the top-1 class.",
        ),
        Mistake(
            "the hidden image's logit, not the drop",
            f[1],
            "Subtract it from the original's: drop = f(cat) - f(hidden_one).",
        ),
        Mistake(
            "zero: the cat itself was hidden too (hidden_one = cat makes no copy)",
            0.0,
            "Start from hidden_one = cat.copy(); reload the cat (re-run section 0) if you "
            "changed it.",
        ),
    ] + [
        Mistake(label, f[0] - f[k], fixes.get(label, fill_fix))
        for k, label in enumerate(wrong_images, start=2)
    ]
    return {
        "hidden_one": with_mistakes(
            Answer(hidden, rtol=0.0, atol=1e-6, hint=HIDDEN_HINT), hidden_mistakes
        ),
        "drop": with_mistakes(
            Answer(
                float(expected_drop),
                correct=[f[0] - f[1], float(alone[0, class_index] - alone[1, class_index])],
                hint=DROP_HINT,
            ),
            drop_mistakes,
        ),
    }


def check_my_patch(
    hidden_one,
    drop,
    model,
    image: np.ndarray,
    class_index: int,
    patch: Patch,
    expected_drop: float,
    other_class: int,
    original: np.ndarray | None = None,
) -> None:
    """Check the cell's ``hidden_one`` and ``drop``; ``original`` (a fresh copy of the photo)
    lets the check tell a student who changed ``image`` itself (no ``.copy()``)."""
    if original is not None and hidden_one is not ... and not np.array_equal(image, original):
        raise WrongAnswerError(
            "the cat itself has changed: hidden_one = cat makes no copy, so filling the patch "
            "hid it in the cat too. Reload the cat (re-run section 0), and start from "
            "hidden_one = cat.copy()."
        )
    reference = image if original is None else original
    catalogue = patch_catalogue(model, reference, class_index, patch, expected_drop, other_class)
    check_answers(catalogue, hidden_one=hidden_one, drop=drop)
