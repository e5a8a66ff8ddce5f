"""Notebook 10's hands-on check (the pointing game by hand): each typical slip, written as
student code, is named; several correct forms pass."""

import numpy as np
import pytest

from helpers.data.synthetic import make_synthetic
from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.ground_truth import pointing_game_answer
from tests.hands_on_cases import unlisted_mistakes, verdict


@pytest.fixture(scope="module")
def case():
    """Signed maps like gradient x input: noise, a positive bump on the target for most
    images, a strong negative dip elsewhere for some."""
    data = make_synthetic(40, seed=3)
    rng = np.random.default_rng(0)
    maps = rng.normal(0, 1, (40, 64, 64))
    for i, (top, left, _, _) in enumerate(data.boxes):
        if i % 4:
            maps[i, top + 3, left + 6] += 8.0  # the peak, inside the box (not on its diagonal)
        if i % 3 == 0:
            maps[i, (top + 30) % 64, (left + 20) % 64] -= 12.0  # strong evidence against
    return maps, data.masks, data.images


def student_hits(kind, maps, masks, images):
    out = []
    for m, k, image in zip(maps, masks, images, strict=True):
        if kind == "right_ravel":
            out.append(k.ravel()[m.argmax()])
        elif kind == "right_unravel":
            out.append(float(k[np.unravel_index(np.argmax(m), m.shape)]))
        elif kind == "right_max_inside":
            out.append(m[k].max() == m.max())
        elif kind == "right_where":
            r, c = np.where(m == m.max())
            out.append(int(k[r[0], c[0]]))
        elif kind == "argmin":
            out.append(k.ravel()[m.argmin()])
        elif kind == "abs":
            out.append(k.ravel()[np.abs(m).argmax()])
        elif kind == "swapped":
            r, c = np.unravel_index(m.argmax(), m.shape)
            out.append(k[c, r])
        elif kind == "image":
            out.append(k.ravel()[image.sum(axis=-1).argmax()])
        elif kind == "mass":
            out.append(np.maximum(m, 0)[k].sum() / np.maximum(m, 0).sum())
    if kind == "rate":
        rate = np.mean([k.ravel()[m.argmax()] for m, k in zip(maps, masks, strict=True)])
        return np.full(len(maps), rate)
    return np.asarray(out)


MISTAKES = {
    "argmin": "the lowest value of each map (argmin), not the highest",
    "abs": "the largest |value|: a strong *negative* value (evidence against the class) won",
    "swapped": "row and column swapped when looking the peak up in the mask",
    "image": "the brightest pixel of the image, not of the map",
    "mass": "the relevance mass (share of positive map inside the mask), not a hit",
    "rate": "the same hit for every image (the hit rate, not one hit per image)",
}


def test_every_mistake_changes_the_result_on_this_case(case):
    answer = pointing_game_answer(*case)
    assert [m.label for m in answer.mistakes] == list(MISTAKES.values())


CORRECT = ["right_ravel", "right_unravel", "right_max_inside", "right_where"]


@pytest.mark.parametrize("kind", CORRECT)
def test_correct_forms_pass(kind, case):
    answer = pointing_game_answer(*case)
    assert verdict(answer, student_hits(kind, *case)) == "correct"
    assert verdict(answer, student_hits(kind, *case).astype(bool)) == "correct"


@pytest.mark.parametrize("kind", list(MISTAKES))
def test_each_mistake_is_named(kind, case):
    answer = pointing_game_answer(*case)
    assert verdict(answer, student_hits(kind, *case)) == MISTAKES[kind]


def test_placeholder_and_shapes(case):
    answer = pointing_game_answer(*case)
    with pytest.raises(ExerciseNotDoneError):
        answer.check("my_hits", ...)
    with pytest.raises(WrongAnswerError, match="single number"):
        answer.check("my_hits", 0.5)
    with pytest.raises(WrongAnswerError, match="shape"):
        answer.check("my_hits", np.zeros(39))


def test_instructors_md_lists_the_mistakes():
    assert unlisted_mistakes(list(MISTAKES.values())) == []
