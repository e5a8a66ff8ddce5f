"""Metrics of notebook 10, each against a hand-computed case or an independent formula."""

import numpy as np
import pandas as pd
import pytest

from helpers.data.synthetic import make_synthetic
from helpers.evaluation.agreement import kendall_matrix, rankings
from helpers.evaluation.complexity import map_entropy, sparseness
from helpers.evaluation.localisation import (
    grown_mask,
    localisation_scores,
    pointing_game,
    pointing_game_chance,
    relevance_mass_accuracy,
    relevance_rank_accuracy,
)
from helpers.evaluation.model_sensitivity import (
    efficient_mprt,
    fully_randomized_model,
    other_class,
    random_logit,
)
from helpers.evaluation.randomization import edge_map, map_similarity
from tests.toy_models import linear_model


def _box(shape=(8, 8), top=2, left=3, size=2):
    mask = np.zeros(shape, bool)
    mask[top : top + size, left : left + size] = True
    return mask


# --- pointing game -------------------------------------------------------------------------


def test_pointing_game_hand_cases():
    mask = _box()  # rows 2-3, columns 3-4
    saliency = np.zeros((8, 8))
    saliency[3, 4] = 1.0
    assert pointing_game(saliency, mask) == 1.0
    saliency[3, 4], saliency[6, 7] = 0.0, 1.0
    assert pointing_game(saliency, mask) == 0.0
    saliency[2, 3] = 1.0  # two tied maxima, one inside
    assert pointing_game(saliency, mask) == 0.5
    assert pointing_game(np.zeros((8, 8)), mask) == pytest.approx(4 / 64)  # all tied: chance


def test_pointing_game_tolerance_ring():
    mask = _box()
    saliency = np.zeros((8, 8))
    saliency[3, 7] = 1.0  # 3 columns right of the box's last column (4)
    assert pointing_game(saliency, mask, tolerance=2) == 0.0
    assert pointing_game(saliency, mask, tolerance=3) == 1.0
    saliency[3, 7], saliency[6, 7] = 0.0, 1.0  # 3 rows and 3 columns away: distance 4.24
    assert pointing_game(saliency, mask, tolerance=4) == 0.0
    assert pointing_game(saliency, mask, tolerance=5) == 1.0
    assert pointing_game_chance(mask, 0) == pytest.approx(4 / 64)
    assert grown_mask(mask, 1).sum() == 4 + 2 * 4  # a plus-shaped ring: 2 on each side


def test_a_random_maps_pointing_game_hits_at_the_grown_masks_area_share():
    """The true chance relation: for uniform noise the maximum is uniform over the pixels,
    so the expected hit rate is the mean share the (grown) mask covers. Over 2000 images the
    hit rate must lie within 3.5 binomial standard errors of it, with and without a ring."""
    data = make_synthetic(2000, seed=11)
    rng = np.random.default_rng(0)
    for tolerance in (0, 4):
        hits, chances = [], []
        for mask in data.masks:
            hits.append(pointing_game(rng.random(mask.shape), mask, tolerance))
            chances.append(pointing_game_chance(mask, tolerance))
        chance = float(np.mean(chances))
        error = np.sqrt(chance * (1 - chance) / len(hits))
        assert abs(np.mean(hits) - chance) < 3.5 * error, (tolerance, np.mean(hits), chance)
    assert pointing_game_chance(data.masks[0], 0) == pytest.approx(data.area_share[0])
    assert pointing_game_chance(data.masks[0], 4) > 2 * data.area_share[0]


# --- relevance mass and rank ---------------------------------------------------------------


def test_relevance_mass_and_rank_hand_cases():
    mask = np.array([[1, 1, 0], [0, 0, 0]], bool)
    saliency = np.array([[3.0, 1.0, 2.0], [-5.0, 0.0, 4.0]])
    # positive relevance: 3 + 1 inside, 3 + 1 + 2 + 4 = 10 in all
    assert relevance_mass_accuracy(saliency, mask) == pytest.approx(0.4)
    # the two highest pixels are 4 (outside) and 3 (inside)
    assert relevance_rank_accuracy(saliency, mask) == pytest.approx(0.5)
    assert relevance_mass_accuracy(-np.abs(saliency), mask) == 0.0
    rgb = np.stack([saliency, -2 * saliency, saliency], axis=-1)  # reduced by max |a|
    assert relevance_mass_accuracy(rgb, mask) == pytest.approx(8 / 30)
    scores = localisation_scores(np.stack([saliency] * 2), np.stack([mask] * 2))
    np.testing.assert_allclose(scores["relevance_mass"], [0.4, 0.4])
    np.testing.assert_allclose(scores["pointing_game"], [0.0, 0.0])


def test_localisation_bad_inputs():
    with pytest.raises(ValueError, match="empty"):
        pointing_game(np.ones((4, 4)), np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match="must match"):
        relevance_mass_accuracy(np.ones((4, 4)), np.ones((4, 5), bool))
    with pytest.raises(ValueError, match="NaN"):
        pointing_game(np.full((4, 4), np.nan), np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="tolerance"):
        pointing_game(np.ones((4, 4)), np.ones((4, 4), bool), tolerance=-1)


# --- sparseness and entropy ------------------------------------------------------------------


def _gini_pairwise(values):
    """Gini's mean absolute difference over twice the mean: an independent definition."""
    a = np.abs(np.ravel(values)).astype(np.float64)
    return np.abs(a[:, None] - a[None, :]).sum() / (2 * a.size**2 * a.mean())


def test_sparseness_is_the_gini_index():
    assert sparseness(np.ones((4, 4))) == pytest.approx(0.0)
    one_hot = np.zeros((4, 4))
    one_hot[1, 2] = 7.0
    assert sparseness(one_hot) == pytest.approx(15 / 16)  # (n - 1) / n
    assert sparseness(np.array([[0.0, 0.0], [1.0, -1.0]])) == pytest.approx(0.5)  # |a| used
    assert sparseness(np.zeros((3, 3))) == 0.0
    rng = np.random.default_rng(1)
    for _ in range(3):
        values = rng.exponential(size=(6, 7)) ** 3
        assert sparseness(values) == pytest.approx(_gini_pairwise(values))


def test_map_entropy_hand_cases():
    assert map_entropy(np.zeros((4, 4))) == 0.0
    assert map_entropy(np.full((4, 4), 2.0)) == 0.0  # one bin
    values = np.repeat([0.05, 0.35, 0.65, 1.0], 4).reshape(4, 4)  # four bins, equally full
    assert map_entropy(values, bins=10) == pytest.approx(np.log(4))
    with pytest.raises(ValueError, match="bins"):
        map_entropy(values, bins=1)


# --- rank agreement --------------------------------------------------------------------------


def test_kendall_matrix_orients_each_metric():
    table = pd.DataFrame(
        {"hit": [0.9, 0.5, 0.1], "deletion": [0.1, 0.5, 0.9], "noise": [0.2, 0.9, 0.5]},
        index=["a", "b", "c"],
    )
    better = {"hit": True, "deletion": False, "noise": True}
    tau = kendall_matrix(table, better)
    assert tau.loc["hit", "deletion"] == pytest.approx(1.0)  # lower deletion = better
    assert tau.loc["hit", "noise"] == pytest.approx(-1 / 3)  # one of three pairs agrees
    np.testing.assert_allclose(np.diag(tau), 1.0)
    assert rankings(table, better).loc["a"].tolist() == [1.0, 1.0, 3.0]
    with pytest.raises(ValueError, match="missing"):
        kendall_matrix(table, {"hit": True})


# --- random logit and efficient MPRT -----------------------------------------------------------


def _gradient_map(net, image, cls):
    import helpers

    return helpers.reduce_channels(helpers.vanilla_gradients(net, image, cls))


def test_random_logit_on_a_linear_model_compares_the_two_weight_maps():
    model, weights, _ = linear_model(shape=(12, 10, 3), classes=5)
    image = np.random.default_rng(0).uniform(0, 1, (12, 10, 3)).astype(np.float32)
    other = other_class(model, 2, seed=4)
    assert other != 2 and 0 <= other < 5
    maps = [np.abs(weights[:, c]).reshape(12, 10, 3).max(-1) for c in (2, other)]
    expected = map_similarity(*maps)
    score = random_logit(model, image, 2, _gradient_map, seed=4, metric="spearman_abs")
    assert score == pytest.approx(expected["spearman_abs"], abs=1e-6)
    assert random_logit(model, image, 2, _gradient_map, seed=4) == pytest.approx(
        expected["ssim"], abs=1e-5
    )
    assert random_logit(model, image, 2, lambda n, x, c: edge_map(x * 255)) == pytest.approx(1.0)


def test_efficient_mprt_is_the_entropy_ratio():
    model, _, _ = linear_model(shape=(12, 10, 3), classes=3)
    image = np.random.default_rng(0).uniform(0, 1, (12, 10, 3)).astype(np.float32)
    random_model = fully_randomized_model(model, seed=1)
    random_weights = random_model.get_layer("logits").get_weights()[0]
    trained_weights = model.get_layer("logits").get_weights()[0]
    expected = map_entropy(np.abs(random_weights[:, 1]).reshape(12, 10, 3).max(-1)) / map_entropy(
        np.abs(trained_weights[:, 1]).reshape(12, 10, 3).max(-1)
    )
    score = efficient_mprt(model, image, 1, _gradient_map, random_model=random_model)
    assert score == pytest.approx(expected, rel=1e-6)
    # a map that ignores the model: no rise in complexity at all
    edges = efficient_mprt(model, image, 1, lambda n, x, c: edge_map(x * 255), seed=1)
    assert edges == pytest.approx(1.0)
