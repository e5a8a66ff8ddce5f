"""XRAI: the greedy ranking by hand, equal to PAIR saliency's given the same attribution and
regions (when saliency is installed), and every way of giving the base attribution."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from helpers.data.images import load_image, sample_image
from helpers.methods.checks import ParameterError
from helpers.methods.perturbation import felzenszwalb_masks
from helpers.methods.xrai import xrai, xrai_regions
from tests.black_box_toys import block_image, float64_cnn


def test_the_greedy_steps_by_hand():
    """Three overlapping regions on a 1 x 200 strip, the gains worked out by hand."""
    attr = np.zeros((1, 200))
    attr[0, :40], attr[0, 40:140], attr[0, 140:] = 10.0, 3.0, 1.0
    a = np.zeros((1, 200), bool)
    a[0, :100] = True
    b = np.zeros((1, 200), bool)
    b[0, 40:140] = True
    c = np.zeros((1, 200), bool)
    c[0, 100:] = True
    gains_map, ranks, regions, gains = xrai_regions(attr, np.stack([a, b, c]), min_pixel_diff=1)
    # A's mean is (40*10 + 60*3) / 100 = 5.8 > B's 3 -> A first; then B adds 40 pixels of 3,
    # C adds 60 pixels of 1 (B's 40 new pixels win); C's remaining 60 pixels last.
    assert gains.tolist() == pytest.approx([5.8, 3.0, 1.0])
    assert ranks[0, 0] == 1 and ranks[0, 120] == 2 and ranks[0, 199] == 3
    assert regions.sum(axis=(1, 2)).tolist() == [100, 40, 60]
    assert gains_map[0, 0] == pytest.approx(5.8)


def test_small_regions_are_dropped_and_area_stops_early():
    attr = np.arange(100, dtype=float).reshape(10, 10)
    tiny = np.zeros((10, 10), bool)
    tiny[9, 9] = True  # the highest attribution, but 1 pixel < min_pixel_diff
    half = np.zeros((10, 10), bool)
    half[5:] = True
    rest = ~half
    _, ranks, regions, gains = xrai_regions(attr, np.stack([tiny, half, rest]), min_pixel_diff=5)
    assert len(regions) == 2 and ranks[9, 9] == 1 and ranks[0, 0] == 2
    _, ranks, regions, _ = xrai_regions(attr, np.stack([half, rest]), area=0.3, min_pixel_diff=5)
    assert len(regions) == 2 and (ranks[5:] == 1).all()  # the rest: one last region


@pytest.fixture(scope="module")
def cat():
    return load_image(sample_image("cat"))


def test_ranking_equals_pair_saliency(cat):
    """PAIR saliency 0.2.1 XRAI ("full"), given the same attribution: its regions (built by
    its own Felzenszwalb code), its gain map and its ranks."""
    pair = pytest.importorskip("saliency.core.xrai", reason="PAIR saliency is not installed")
    rng = np.random.default_rng(0)
    attribution = gaussian_filter(rng.normal(size=(224, 224, 3)), (6, 6, 0))
    attribution += 0.1 * rng.normal(size=attribution.shape)
    masks = felzenszwalb_masks(cat)
    theirs_masks = pair._get_segments_felzenszwalb(cat)
    assert len(masks) == len(theirs_masks) > 100
    assert all((m == t).all() for m, t in zip(masks, theirs_masks, strict=True))
    params = pair.XRAIParameters(return_xrai_segments=True)
    theirs = pair.XRAI().GetMaskWithDetails(cat, None, base_attribution=attribution,
                                           extra_parameters=params)
    ours = xrai(float64_model_224(), cat, 0, attribution=attribution, progress=False)
    np.testing.assert_array_equal(ours.ranks, theirs.segments)
    np.testing.assert_allclose(ours.attributions, theirs.attribution_mask, rtol=1e-6)
    params.area_threshold = 0.25
    theirs = pair.XRAI().GetMaskWithDetails(cat, None, base_attribution=attribution,
                                           extra_parameters=params)
    _, ranks, _, _ = xrai_regions(attribution.max(-1), masks, area=0.25)
    np.testing.assert_array_equal(ranks, theirs.segments)


def float64_model_224():
    return float64_cnn(shape=(224, 224, 3))


def test_every_way_to_give_the_attribution(monkeypatch):
    model = float64_cnn()
    image = block_image(seed=2)
    base = gaussian_filter(np.random.default_rng(1).normal(size=(32, 40)), 3)
    from_array = xrai(model, image, 1, attribution=base, progress=False)
    from_function = xrai(model, image, 1, attribution=lambda m, x, c: base, progress=False)
    np.testing.assert_array_equal(from_array.ranks, from_function.ranks)
    assert from_array.ranks.min() == 1 and from_array.gains[0] == from_array.gains.max()
    by_name = xrai(model, image, 1, attribution="vanilla_gradients", progress=False)
    import helpers

    vanilla = helpers.reduce_channels(helpers.vanilla_gradients(model, image, 1))
    np.testing.assert_allclose(by_name.base_attribution, vanilla, rtol=1e-5)
    default = xrai(model, image, 1, steps=4, progress=False)
    black = helpers.integrated_gradients(model, image, 1, baseline=float(image.min()), steps=4)
    white = helpers.integrated_gradients(model, image, 1, baseline=float(image.max()), steps=4)
    expected = ((black.attributions + white.attributions) / 2).max(-1)
    np.testing.assert_allclose(default.base_attribution, expected, rtol=1e-5, atol=1e-9)
    pair = xrai(model, np.stack([block_image(seed=3), image]), [0, 1],
                attribution=np.stack([base[::-1], base]), progress=False)
    np.testing.assert_array_equal(pair.ranks[1], from_array.ranks)
    assert pair.attributions.shape == (2, 32, 40) and len(pair.gains) == 2
    with pytest.raises(ParameterError, match="got 1 attributions for 2 images"):
        xrai(model, np.stack([image, image]), 1, attribution=base[None], progress=False)
    with pytest.raises(ParameterError, match=r"attribution must be shaped \(32, 40\)"):
        xrai(model, image, 1, attribution=np.zeros((8, 8)), progress=False)
    with pytest.raises(ParameterError, match="steps .* >= 1"):
        xrai(model, image, 1, steps=0, progress=False)
