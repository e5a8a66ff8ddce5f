"""Notebook 05's hands-on check: hiding one patch by hand. Each mistake a student makes,
written as student code, is named; several correct forms pass (on the real model, the
notebook's patch: rows 56-111, columns 112-167 of the cat)."""

import numpy as np
import pytest
import tensorflow as tf

import helpers
from helpers.exercises import ExerciseNotDoneError, WrongAnswerError
from helpers.hands_on.occlusion import Patch, check_my_patch, patch_catalogue
from helpers.methods.occlusion import IMAGENET_MEAN_RGB
from tests.hands_on_cases import unlisted_mistakes, verdict

TABBY, TOP, LEFT, P, TOP_1 = 281, 56, 112, 56, 285
PATCH = Patch(TOP, LEFT, P)


@pytest.fixture(scope="module")
def expected_drop(lite0, cat):
    return float(
        helpers.occlusion(lite0, cat, TABBY, patch=56, stride=56, progress=False)[TOP, LEFT]
    )


@pytest.fixture(scope="module")
def answers(lite0, cat, expected_drop):
    return patch_catalogue(lite0, cat, TABBY, PATCH, expected_drop, TOP_1)


def hide(cat, rows=slice(TOP, TOP + P), columns=slice(LEFT, LEFT + P), fill=IMAGENET_MEAN_RGB):
    hidden = cat.copy()
    hidden[rows, columns] = fill
    return hidden


def logit_drop(model, cat, hidden, c=TABBY):
    logits = helpers.predict_logits(model, np.stack([cat, hidden]))
    return logits[0, c] - logits[1, c]


# Student code for hidden_one: (cat) -> image, each the way a student writes it.
def right_slices(cat):
    return hide(cat)


def right_loop(cat):
    hidden = np.array(cat)
    for row in range(TOP, TOP + P):
        for column in range(LEFT, LEFT + P):
            hidden[row, column, :] = IMAGENET_MEAN_RGB
    return hidden


def right_mask(cat):
    mask = np.zeros(cat.shape[:2], bool)
    mask[TOP : TOP + P, LEFT : LEFT + P] = True
    return np.where(mask[..., None], np.array(IMAGENET_MEAN_RGB, np.float32), cat)


def right_tensorflow(cat):
    indices = [[r, c] for r in range(TOP, TOP + P) for c in range(LEFT, LEFT + P)]
    fill = tf.tile(tf.constant([IMAGENET_MEAN_RGB], tf.float32), [len(indices), 1])
    return tf.tensor_scatter_nd_update(tf.constant(cat), indices, fill).numpy()


@pytest.mark.parametrize("student", [right_slices, right_loop, right_mask, right_tensorflow])
def test_correct_images_pass(student, answers, cat):
    assert verdict(answers["hidden_one"], student(cat)) == "correct", student.__name__


# Student code for drop: (model, cat, hidden) -> number.
def drop_stacked(model, cat, hidden):
    return logit_drop(model, cat, hidden)


def drop_one_at_a_time(model, cat, hidden):
    return float(helpers.predict_logits(model, cat)[0, TABBY]) - float(
        helpers.predict_logits(model, hidden)[0, TABBY]
    )


def drop_float64(model, cat, hidden):
    logits = helpers.predict_logits(model, np.stack([cat, hidden])).astype(np.float64)
    return np.subtract(*logits[:, TABBY])


def drop_keras_logits(model, cat, hidden):
    scores = helpers.logits_model(model).predict(np.stack([cat, hidden]), verbose=0)
    return scores[0][TABBY] - scores[1][TABBY]


@pytest.mark.parametrize(
    "student", [drop_stacked, drop_one_at_a_time, drop_float64, drop_keras_logits]
)
def test_correct_drops_pass(student, answers, lite0, cat):
    assert verdict(answers["drop"], student(lite0, cat, hide(cat))) == "correct", student.__name__


IMAGE_MISTAKES = [  # (student code, the mistake it must be named as)
    (
        lambda cat: hide(cat, slice(TOP, TOP + P - 1), slice(LEFT, LEFT + P - 1)),
        "the patch one row and one column short (a slice end of TOP + P - 1)",
    ),
    (
        lambda cat: hide(cat, slice(TOP, TOP + P + 1), slice(LEFT, LEFT + P + 1)),
        "the patch one row and one column too long (a slice end of TOP + P + 1)",
    ),
    (
        lambda cat: hide(cat, slice(LEFT, LEFT + P), slice(TOP, TOP + P)),
        "rows and columns swapped (the patch at LEFT, TOP)",
    ),
    (lambda cat: hide(cat, fill=0), "filled with 0 (black), not ImageNet's mean colour"),
    (
        lambda cat: hide(cat, fill=127.5),
        "filled with 127.5 (tf-explain's grey), not ImageNet's mean colour",
    ),
    (
        lambda cat: hide(cat, fill=cat.mean(axis=(0, 1))),
        "filled with the photo's own mean colour, not ImageNet's",
    ),
    (
        lambda cat: hide(cat, fill=(103.939, 116.779, 123.68)),
        "the mean colour in reversed channel order (BGR)",
    ),
]


@pytest.mark.parametrize(
    ("student", "label"), IMAGE_MISTAKES, ids=[m[1][:40] for m in IMAGE_MISTAKES]
)
def test_each_image_mistake_is_named(student, label, answers, cat):
    assert verdict(answers["hidden_one"], student(cat)) == label


def _probability(model, images):
    return tf.nn.softmax(helpers.predict_logits(model, images)).numpy()


DROP_MISTAKES = [  # (student code (model, cat) -> drop, the mistake it must be named as)
    (
        lambda m, cat: np.subtract(*_probability(m, np.stack([cat, hide(cat)]))[:, TABBY]),
        "the probability instead of the logit",
    ),
    (
        lambda m, cat: np.subtract(
            *tf.nn.log_softmax(helpers.predict_logits(m, np.stack([cat, hide(cat)]))).numpy()[
                :, TABBY
            ]
        ),
        "the log-probability instead of the logit",
    ),
    (
        lambda m, cat: -logit_drop(m, cat, hide(cat)),
        "the drop with the wrong sign (hidden minus original)",
    ),
    (
        lambda m, cat: logit_drop(m, cat, hide(cat), c=TOP_1),
        f"the drop of another class ({TOP_1}, the top-1)",
    ),
    (
        lambda m, cat: helpers.predict_logits(m, hide(cat))[0, TABBY],
        "the hidden image's logit, not the drop",
    ),
    (
        lambda m, cat: logit_drop(m, hide(cat), hide(cat)),
        "zero: the cat itself was hidden too (hidden_one = cat makes no copy)",
    ),
    (
        lambda m, cat: logit_drop(
            m, cat, hide(cat, slice(TOP, TOP + P - 1), slice(LEFT, LEFT + P - 1))
        ),
        "the patch one row and one column short (a slice end of TOP + P - 1)",
    ),
    (
        lambda m, cat: logit_drop(m, cat, hide(cat, fill=127.5)),
        "filled with 127.5 (tf-explain's grey), not ImageNet's mean colour",
    ),
]


@pytest.mark.parametrize(
    ("student", "label"), DROP_MISTAKES, ids=[m[1][:40] for m in DROP_MISTAKES]
)
def test_each_drop_mistake_is_named(student, label, answers, lite0, cat):
    assert verdict(answers["drop"], student(lite0, cat)) == label


def test_a_cat_changed_in_place_is_told(lite0, cat, expected_drop):
    changed = cat.copy()
    hidden_one = changed  # no copy: filling the patch changes the "cat" too
    hidden_one[TOP : TOP + P, LEFT : LEFT + P] = IMAGENET_MEAN_RGB
    drop = logit_drop(lite0, changed, hidden_one)
    with pytest.raises(WrongAnswerError, match="the cat itself has changed"):
        check_my_patch(
            hidden_one,
            drop,
            lite0,
            changed,
            TABBY,
            PATCH,
            expected_drop,
            TOP_1,
            original=cat,
        )


def test_check_prints_correct_and_waits_for_both(lite0, cat, expected_drop, capsys):
    hidden = hide(cat)
    check_my_patch(
        hidden,
        logit_drop(lite0, cat, hidden),
        lite0,
        cat,
        TABBY,
        PATCH,
        expected_drop,
        TOP_1,
        original=cat.copy(),
    )
    assert capsys.readouterr().out.split() == ["hidden_one:", "correct", "drop:", "correct"]
    with pytest.raises(ExerciseNotDoneError, match="drop"):
        check_my_patch(hidden, ..., lite0, cat, TABBY, PATCH, expected_drop, TOP_1)


def test_every_mistake_is_listed_in_instructors_md():
    labels = {label for _, label in IMAGE_MISTAKES + DROP_MISTAKES}
    assert unlisted_mistakes(sorted(labels)) == []
