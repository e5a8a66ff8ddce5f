"""Notebook 00's hands-on cell: the workshop's class found by name, and its probability.

The student writes ``tabby_index`` (the class index of "tabby cat", from
:func:`helpers.find_class`) and ``tabby_probability`` (its softmax probability for the cat,
from :func:`helpers.top_k` with ``k=1000``). On EfficientNet-Lite0 the tabby is the third
class, behind 285 *Egyptian cat* and 282 *tiger cat*, so taking the top row of the table is
the mistake to catch first. Besides numbers, students hand in what ``find_class`` and
``top_k`` return (an ``(index, name)`` pair, the list of matches, a table row, the name):
:func:`check_tabby` names those too.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..data.labels import class_name, find_class
from ..exercises import NOT_DONE, Answer, Mistake, WrongAnswerError
from ..models.scores import predict_logits, softmax
from .common import distinct

QUERY = "tabby cat"
#: The classes summed in the notebook's "the model sees a cat" check (tabby, tiger cat,
#: Egyptian cat): their total is a number students have at hand.
CAT_CLASSES = (281, 282, 285)


def tabby_catalogue(model, image: np.ndarray) -> dict[str, Answer]:
    """The two answers of the cell for this model and image, with their typical mistakes."""
    index = find_class(QUERY)[0][0]
    tiger = find_class("tiger cat")[0][0]
    logits = predict_logits(model, image)[0]
    probabilities = softmax(logits.astype(np.float64))  # what top_k reports
    softmax_layer = float(np.asarray(model(image[None]))[0, index])  # the model's own output
    ranking = [int(i) for i in np.argsort(-probabilities)]
    top1 = ranking[0]
    rank = ranking.index(index)
    p = float(probabilities[index])
    lookup = "Look the class up by name: helpers.find_class('tabby cat')."
    index_mistakes = [
        Mistake(
            "the top-1 class instead of tabby",
            top1,
            f"{top1} is {class_name(top1)}, the model's favourite; the workshop explains "
            f"tabby, which is not the top class here. {lookup}",
        ),
        Mistake("tiger cat, not tabby", tiger, f"{tiger} is {class_name(tiger)}. {lookup}"),
        *(
            Mistake(
                "a position in a list (a row of the table), not the class index",
                position,
                "The class index is the number in the 'class index' column, or the first "
                "element of a find_class pair: find_class('tabby cat')[0][0].",
            )
            for position in sorted({0, 1, rank, rank + 1})
        ),
        Mistake(
            "the probability where the index belongs (the two answers swapped?)",
            p,
            "tabby_index is a class number (an int), tabby_probability a number in [0, 1].",
        ),
    ]
    probability_mistakes = [
        Mistake(
            "the probability of the top-1 class, not of tabby",
            float(probabilities[top1]),
            f"That is {class_name(top1)}'s probability. Find tabby's row in "
            "helpers.top_k(model, cat, k=1000) by its class index.",
        ),
        Mistake(
            "tiger cat's probability, not tabby's",
            float(probabilities[tiger]),
            "Take the row of the tabby's class index, not the one next to it.",
        ),
        Mistake(
            "the logit (pre-softmax score) instead of the probability",
            float(logits[index]),
            "helpers.top_k gives probabilities (the softmax); predict_logits gives logits.",
        ),
        Mistake(
            "a percentage instead of a probability in [0, 1]",
            100.0 * p,
            "Give the probability itself, without multiplying by 100.",
        ),
        *(
            Mistake(
                "rounded: typed in from the table?",
                round(p, digits),
                "Take the number from helpers.top_k in code; the table shows it rounded.",
            )
            for digits in (2, 3)
        ),
        Mistake(
            "the total probability of the cat classes, not tabby's alone",
            float(probabilities[list(CAT_CLASSES)].sum()),
            "Take the probability of the one class, tabby.",
        ),
        Mistake(
            "the index where the probability belongs (the two answers swapped?)",
            index,
            "tabby_probability is a number in [0, 1], tabby_index the class number.",
        ),
    ]
    correct_p = [p, softmax_layer, float(softmax(logits.astype(np.float32))[index])]
    return {
        "tabby_index": Answer(
            index,
            distinct(index, index_mistakes),
            hint="find_class('tabby cat') returns [(index, name), ...], best match first.",
        ),
        "tabby_probability": Answer(
            softmax_layer,
            distinct(softmax_layer, probability_mistakes, correct_p),
            correct=correct_p,
            hint="The probability of the tabby's class index, from top_k(model, cat, k=1000).",
        ),
    }


def _pair(value: Any) -> bool:
    return (
        isinstance(value, tuple | list)
        and len(value) == 2
        and isinstance(value[0], numbers.Integral)
        and isinstance(value[1], str)
    )


def returned_object_mistake(value: Any) -> str | None:
    """The typical non-number answers: what ``find_class`` or ``top_k`` returned, as is."""
    if isinstance(value, str):
        return (
            "the class name instead of a number. find_class returns (index, name) pairs: "
            "take the index with [0][0]."
        )
    if _pair(value):
        return (
            "find_class's (index, name) pair instead of the index. Take its first "
            "element: find_class('tabby cat')[0][0]."
        )
    if isinstance(value, list) and value and all(_pair(v) for v in value):
        return (
            "find_class's whole list of matches instead of one number. Its first match "
            "is a pair (index, name): take [0][0]."
        )
    if isinstance(value, tuple | list) and len(value) == 3 and isinstance(value[1], str):
        return (
            "a whole row of top_k (index, name, probability) instead of one number. "
            "Unpack it: index, name, p = row."
        )
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return (
            "top_k's whole list of rows instead of one number. Find the tabby's row and "
            "take the number you need from it."
        )
    return None


def check_tabby(model, image: np.ndarray, tabby_index: Any, tabby_probability: Any) -> None:
    """Check both answers of notebook 00's hands-on cell; raise naming the first mistake."""
    catalogue = tabby_catalogue(model, image)
    for name, value in (("tabby_index", tabby_index), ("tabby_probability", tabby_probability)):
        problem = None if value is NOT_DONE else returned_object_mistake(value)
        if problem:
            raise WrongAnswerError(f"{name}: {problem}")
        catalogue[name].check(name, value)
