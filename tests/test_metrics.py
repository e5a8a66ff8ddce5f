"""Deletion / insertion curves against values worked out by hand, and the completeness gap."""

import numpy as np
import pytest

from helpers.evaluation.deletion_insertion import (
    Curve,
    completeness_gap,
    deletion_curve,
    deletion_insertion_auc,
    deletion_insertion_curves,
    insertion_curve,
    mean_curve,
    pixel_order,
    random_saliency,
    region_order,
    substrate,
)
from helpers.methods.cam import grad_cam
from helpers.methods.gradients import gradient_x_input
from helpers.methods.integrated_gradients import integrated_gradients
from tests.toy_models import linear_model, quadrant_model, smooth_cnn

SHAPE = (32, 48, 3)
LEVEL = 4.0  # every pixel: the quadrant model's class-0 logit is 4 on the whole image


def _sigmoid_integral(scale):
    """Integral over u in [0, 1] of sigmoid(scale * u)."""
    return (np.log1p(np.exp(scale)) - np.log(2.0)) / scale


@pytest.fixture(scope="module")
def quadrant():
    # Two classes, logits (mean of the top-left quadrant, 0): p0 = sigmoid(that mean).
    return quadrant_model(SHAPE)


@pytest.fixture(scope="module")
def flat_image():
    return np.full(SHAPE, LEVEL, np.float32)


@pytest.fixture(scope="module")
def top_left_map():
    values = np.zeros(SHAPE[:2], np.float32)
    values[: SHAPE[0] // 2, : SHAPE[1] // 2] = 1.0
    return values


# A quarter of the pixels carry all the evidence. Deleting them first (to black) takes the
# logit from 4 to 0 over the first 25 % of the curve; after that p0 = sigmoid(0) = 0.5.
IDEAL_DELETION = 0.25 * _sigmoid_integral(4.0) + 0.75 * 0.5  # 0.583
# A random order removes the quadrant's pixels evenly over the whole curve.
RANDOM_DELETION = _sigmoid_integral(4.0)  # 0.831
IDEAL_INSERTION = 0.25 * _sigmoid_integral(4.0) + 0.75 / (1.0 + np.exp(-4.0))  # 0.944


def test_curve_auc_is_the_trapezoid_area():
    curve = Curve("deletion", np.array([0.0, 0.5, 1.0]), np.array([1.0, 0.5, 0.0]))
    assert curve.auc == pytest.approx(0.5)
    assert curve.order == "morf"


def test_a_map_of_the_evidence_beats_a_random_map_by_the_computed_margin(
    quadrant, flat_image, top_left_map
):
    ideal = deletion_curve(quadrant, flat_image, 0, top_left_map, steps=32)
    assert ideal.probabilities[0] == pytest.approx(1 / (1 + np.exp(-LEVEL)), abs=1e-5)
    assert ideal.probabilities[-1] == pytest.approx(0.5, abs=1e-6)
    assert ideal.auc == pytest.approx(IDEAL_DELETION, abs=0.005)
    randoms = [
        deletion_curve(quadrant, flat_image, 0, random_saliency(SHAPE[:2], seed), steps=32).auc
        for seed in range(3)
    ]
    assert np.mean(randoms) == pytest.approx(RANDOM_DELETION, abs=0.01)
    assert min(randoms) > ideal.auc + 0.2  # lower is better: every random map is far worse

    inserted = insertion_curve(quadrant, flat_image, 0, top_left_map, 32, substrate_kind="black")
    random_inserted = insertion_curve(
        quadrant, flat_image, 0, random_saliency(SHAPE[:2]), 32, substrate_kind="black"
    )
    assert inserted.auc == pytest.approx(IDEAL_INSERTION, abs=0.005)
    assert random_inserted.auc == pytest.approx(RANDOM_DELETION, abs=0.01)


def test_blocks_and_least_relevant_first(quadrant, flat_image, top_left_map):
    # The quadrant is exactly 2 x 3 blocks of 8 x 8: same curve as pixel by pixel.
    blocks = deletion_curve(quadrant, flat_image, 0, top_left_map, steps=32, block=8)
    assert blocks.auc == pytest.approx(IDEAL_DELETION, abs=0.01)
    lerf = deletion_curve(quadrant, flat_image, 0, top_left_map, steps=32, order="lerf")
    assert lerf.order == "lerf"
    # Least relevant first: the evidence goes last, so the curve is the mirror image.
    assert lerf.auc == pytest.approx(IDEAL_INSERTION, abs=0.005)
    both = deletion_insertion_curves(
        quadrant, flat_image, 0, {"random": random_saliency(SHAPE[:2], 1)},
        ("deletion", "deletion_lerf"), steps=32,
    )["random"]
    # For a random map the two orders are the same experiment: no difference.
    assert both["deletion_lerf"].auc - both["deletion"].auc == pytest.approx(0.0, abs=0.03)


def test_region_order_covers_every_pixel_once_and_ranks_regions():
    values = np.arange(6 * 10, dtype=np.float32).reshape(6, 10)
    pixels, ends = region_order(values, block=4)
    assert sorted(pixels) == list(range(60))
    assert ends[-1] == 60 and len(ends) == 2 * 3  # 2 rows x 3 columns of regions
    # The bottom-right region (largest values) comes first, the top-left one last.
    first = pixels[: ends[0]]
    assert set(first) == {r * 10 + c for r in range(4, 6) for c in range(8, 10)}
    lerf_pixels, _ = region_order(values, block=4, order="lerf")
    assert lerf_pixels[0] == 0
    np.testing.assert_array_equal(pixel_order(values), np.arange(59, -1, -1))


def test_curves_share_endpoints_and_agree_with_the_single_curve_functions(
    quadrant, flat_image, top_left_map
):
    maps = {"ideal": top_left_map, "random": random_saliency(SHAPE[:2], 0)}
    result = deletion_insertion_curves(quadrant, flat_image, 0, maps, steps=16)
    assert set(result["ideal"]) == {"deletion", "insertion"}
    single = deletion_curve(quadrant, flat_image, 0, top_left_map, steps=16)
    np.testing.assert_allclose(result["ideal"]["deletion"].probabilities, single.probabilities)
    starts = [result[name]["deletion"].probabilities[0] for name in maps]
    assert starts[0] == starts[1]  # the untouched image, scored once for both maps
    scores = deletion_insertion_auc(quadrant, flat_image, 0, top_left_map, steps=16)
    assert scores["deletion_auc"] == pytest.approx(single.auc)
    assert scores["insertion_auc"] == pytest.approx(result["ideal"]["insertion"].auc)


def test_mean_curve_and_substrates():
    a = Curve("deletion", np.linspace(0, 1, 3), np.array([1.0, 0.5, 0.0]))
    b = Curve("deletion", np.linspace(0, 1, 3), np.array([1.0, 0.7, 0.2]))
    np.testing.assert_allclose(mean_curve([a, b]).probabilities, [1.0, 0.6, 0.1])
    with pytest.raises(ValueError):
        mean_curve([a, Curve("insertion", a.fractions, a.probabilities)])
    image = np.random.default_rng(0).uniform(0, 255, (20, 20, 3)).astype(np.float32)
    assert not substrate(image, "black").any()
    assert substrate(image, "blur").std() < image.std() / 3
    np.testing.assert_allclose(substrate(image, "mean")[5, 5], image.mean(axis=(0, 1)), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [{"steps": 0}, {"block": 0}, {"order": "up"}, {"substrate_kind": "grey"}, {"steps": 2.5}],
)
def test_invalid_options_are_rejected(quadrant, flat_image, top_left_map, kwargs):
    with pytest.raises(ValueError):
        deletion_curve(quadrant, flat_image, 0, top_left_map, **kwargs)


def test_a_map_of_the_wrong_size_is_rejected(quadrant, flat_image):
    with pytest.raises(ValueError, match="shape"):
        deletion_curve(quadrant, flat_image, 0, np.zeros((10, 10)))


def test_completeness_gap_of_gradient_x_input_is_zero_for_a_linear_model():
    model, _, bias = linear_model()
    image = np.random.default_rng(1).uniform(0, 1, (6, 5, 3)).astype(np.float32)
    attributions = gradient_x_input(model, image, 2)
    exact = completeness_gap(model, image, 2, attributions)
    assert exact.score_baseline == pytest.approx(bias[2], abs=1e-5)
    assert exact.relative_gap < 1e-4
    nothing = completeness_gap(model, image, 2, np.zeros_like(image))
    assert nothing.relative_gap == pytest.approx(1.0)


def test_completeness_gap_matches_integrated_gradients_own_check():
    model = smooth_cnn()
    image = np.random.default_rng(2).uniform(0, 1, (10, 12, 3)).astype(np.float32)
    result = integrated_gradients(model, image, 1, baseline=0.5, steps=16)
    gap = completeness_gap(model, image, 1, result.attributions, baseline=0.5)
    assert gap.relative_gap == pytest.approx(result.completeness.relative_gap, rel=1e-3, abs=1e-6)
    with pytest.raises(ValueError, match="shaped like the image"):
        completeness_gap(model, image, 1, result.attributions[..., 0])


def test_on_the_cat_grad_cam_beats_a_random_map_on_insertion_and_lerf_minus_morf(lite0, cat):
    cls = 285  # the model's top class (Egyptian cat)
    maps = {"Grad-CAM": grad_cam(lite0, cat, cls), "random": random_saliency((224, 224), 0)}
    kinds = ("deletion", "deletion_lerf", "insertion")
    result = deletion_insertion_curves(lite0, cat, cls, maps, kinds, steps=8)
    gc, rnd = result["Grad-CAM"], result["random"]
    assert gc["insertion"].auc > rnd["insertion"].auc + 0.15
    gc_gap = gc["deletion_lerf"].auc - gc["deletion"].auc
    random_gap = rnd["deletion_lerf"].auc - rnd["deletion"].auc
    assert gc_gap > 0.15 and abs(random_gap) < 0.05


def test_curves_rejects_unknown_kinds_and_substrates(quadrant, flat_image, top_left_map):
    maps = {"ideal": top_left_map}
    with pytest.raises(ValueError, match="kind"):
        deletion_insertion_curves(quadrant, flat_image, 0, maps, ("deletion_morf",))
    with pytest.raises(ValueError, match="substrate"):
        deletion_insertion_curves(quadrant, flat_image, 0, maps, substrates={"deletion": "white"})
    with pytest.raises(ValueError, match="one image"):
        deletion_insertion_curves(quadrant, np.stack([flat_image, flat_image]), 0, maps)
