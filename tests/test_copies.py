"""Copies across a class (helpers.assignment.copies): the threshold for near-identical
answers is set between independent descriptions of the same maps and edited copies; the
gradebook names the other students and never changes a verdict."""
# ruff: noqa: E501  (the answers are kept one per line, as the students wrote them)

import itertools

import pytest

from helpers.assignment.check_result import CheckResult
from helpers.assignment.copies import (
    COPY_COLUMNS,
    SIMILAR,
    answer_shingles,
    find_copies,
    similarity,
)
from helpers.assignment.rules import INPUT_FILE
from tests.submission_factory import answers_for

#: One student's answers about the Grace Hopper photo (class military uniform) ...
ORIGINAL = {
    ("grad_cam", "what_it_highlights"): "A broad, smooth blob over the lower middle of the photo, strongest on the white collar, the tie and the jacket just below the chin, fading over the face; weak on the flag and the blue background.",
    ("grad_cam", "on_the_object"): "Mostly: its peak is on the collar and the front of the uniform, but the coarse blob also covers her chin and part of the face.",
    ("grad_cam", "noise_level"): "Low: smooth, no speckle (a 7 x 7 map upsampled).",
    ("grad_cam", "would_you_trust_it"): "Partly. It points at the right region but is too coarse to say which part of the uniform matters; it wins insertion by far but not deletion.",
    ("vanilla_gradients", "what_it_highlights"): "Scattered bright dots over the whole dark jacket, densest low on the jacket and around the ribbons; fewer on the face and the background.",
    ("vanilla_gradients", "on_the_object"): "Mostly on the uniform, but as dots rather than a region.",
    ("vanilla_gradients", "noise_level"): "High: salt-and-pepper speckle all over the jacket.",
    ("vanilla_gradients", "would_you_trust_it"): "No. It shows where the logit is most sensitive to tiny changes, not what the decision rests on; worse than random on deletion.",
    ("occlusion", "what_it_highlights"): "Hiding the chin, the collar and the tie lowers the score most, then the lower jacket and the ribbons; patches over the face, the cap and the background barely matter.",
    ("occlusion", "on_the_object"): "Yes: the largest drops are on the collar, tie and jacket (the chin shares a patch with the collar).",
    ("occlusion", "noise_level"): "Low: blocky (32-pixel patches, stride 16) but clean.",
    ("occlusion", "would_you_trust_it"): "The most of the table: it measures directly what hiding a region does to the score. But it is coarse, and grey patches are unusual inputs themselves.",
}
#: ... what two other students wrote, independently, about the same maps ...
PARAPHRASES = [
    {
        ("grad_cam", "what_it_highlights"): "One large warm region centred below her chin: the collar, the knot of the tie and the top of the jacket. The face is lighter and the flag behind her stays cold.",
        ("grad_cam", "on_the_object"): "Yes for the most part, the hottest spot is the collar and tie, although the region is big enough to reach her mouth.",
        ("grad_cam", "noise_level"): "Very clean, it is one smooth shape with no grain.",
        ("grad_cam", "would_you_trust_it"): "Somewhat. The location is plausible but the map is blurry, so I cannot tell if the medals or the collar decide the class. Insertion is much better than random, deletion is not.",
        ("vanilla_gradients", "what_it_highlights"): "Thousands of isolated pixels, mostly on the black jacket and near the medals, with a few on her glasses.",
        ("vanilla_gradients", "on_the_object"): "Partly, the pixels sit on the uniform but do not outline it.",
        ("vanilla_gradients", "noise_level"): "Very noisy, it looks like static on a television.",
        ("vanilla_gradients", "would_you_trust_it"): "Not really: a gradient measures local sensitivity, and its deletion score is no better than a random ordering of pixels.",
        ("occlusion", "what_it_highlights"): "Covering the neck area and the tie makes the uniform score drop the most; covering the hat or the wall behind does almost nothing.",
        ("occlusion", "on_the_object"): "Yes, the big drops are on the clothing, mainly collar and tie.",
        ("occlusion", "noise_level"): "Low, it is made of square blocks but has no speckle.",
        ("occlusion", "would_you_trust_it"): "Most of all the methods, because it directly tests what removing part of the picture does, even if grey squares are strange images for the network.",
    },
    {
        ("grad_cam", "what_it_highlights"): "The neck, collar and tie area glows, and the glow spreads over the upper chest; the background flag is dark.",
        ("grad_cam", "on_the_object"): "Mostly yes: the maximum is on the uniform's collar, but the blob is coarse and also touches the chin.",
        ("grad_cam", "noise_level"): "Low noise, a single soft heat spot.",
        ("grad_cam", "would_you_trust_it"): "I would trust where it points but not the details, since the layer it uses is only seven by seven cells.",
        ("vanilla_gradients", "what_it_highlights"): "Speckles everywhere on the dark coat, a bit more around the ribbons and buttons.",
        ("vanilla_gradients", "on_the_object"): "Somewhat, the speckles are on the coat, yet there is no clear shape.",
        ("vanilla_gradients", "noise_level"): "High, grainy all over.",
        ("vanilla_gradients", "would_you_trust_it"): "No, it looks random and it scored worse than the random map when pixels were deleted.",
        ("occlusion", "what_it_highlights"): "The patches that hurt the prediction most are the ones over the tie and collar; the cap and the background matter little.",
        ("occlusion", "on_the_object"): "Yes, on the collar, the tie and the upper jacket.",
        ("occlusion", "noise_level"): "Clean but blocky because of the 32 pixel patches.",
        ("occlusion", "would_you_trust_it"): "Yes, more than the gradient maps: it actually hides parts of the image and measures the score, though it is coarse.",
    },
]


def _edit(text, swaps):
    for a, b in swaps:
        text = text.replace(a, b)
    return text


#: Copies of ORIGINAL, edited as a student hiding a copy might.
COPIES = [
    # 1: case and punctuation changed, a few words swapped
    {k: _edit(v.lower().replace(";", ",").replace(":", " -"), [("strongest", "strongest of all"), ("scattered", "many"), ("barely", "hardly"), ("coarse", "rough")]) for k, v in ORIGINAL.items()},
    # 2: a sentence added to every answer, some synonyms
    {k: _edit(v, [("photo", "picture"), ("lowers", "reduces"), ("tiny", "small"), ("region", "area")]) + " I checked this in the grid." for k, v in ORIGINAL.items()},
    # 3: only the long answers copied, the short ones rewritten
    {k: (v if len(v.split()) > 12 else "my own words here") for k, v in ORIGINAL.items()},
    # 4: heavier edits: every fourth word changed
    {k: " ".join(w if i % 4 else "X" + w for i, w in enumerate(v.split())) for k, v in ORIGINAL.items()},
]


def test_the_threshold_separates_paraphrases_from_copies():
    original = answer_shingles(ORIGINAL)
    paraphrases = [answer_shingles(p) for p in PARAPHRASES]
    independent = [similarity(original, p) for p in paraphrases] + [
        similarity(a, b) for a, b in itertools.combinations(paraphrases, 2)
    ]
    copied = [similarity(original, answer_shingles(c)) for c in COPIES]
    print(f"paraphrases {[round(x, 3) for x in independent]}, copies {[round(x, 3) for x in copied]}")
    assert max(independent) <= 0.1 < SIMILAR < 0.25 <= min(copied)
    assert min(copied[:3]) >= 0.9  # light edits barely move it


def test_generated_students_share_no_phrases():
    sets = [
        answer_shingles({(m, c): t for m, row in answers_for(seed=s).items() for c, t in row.items()})
        for s in range(30)
    ]
    assert max(similarity(a, b) for a, b in itertools.combinations(sets, 2)) < SIMILAR / 4


def test_short_answers_never_make_students_similar():
    short = {(m, c): "yes" for m in ("a", "b", "c") for c in ("x", "y")}
    assert answer_shingles(short) == set()
    assert similarity(answer_shingles(short), answer_shingles(short)) == 0.0


def result(photo="p", maps=("m1",), answers=None, bundled="") -> CheckResult:
    r = CheckResult(folder=None)
    r.file_hashes = {INPUT_FILE: photo, **{f"map{i}.npy": h for i, h in enumerate(maps)}}
    r.answers = answers or {}
    r.photo = bundled
    return r


def test_identical_photos_maps_and_answers_name_the_other_students():
    found = find_copies(
        {
            "ann": result("P1", ("a", "b"), ORIGINAL),
            "bob": result("P1", ("a", "b"), COPIES[1]),
            "cid": result("P2", ("c",), PARAPHRASES[0]),
            "dan": result("P3", ("d",), PARAPHRASES[1], "bundled espresso"),
            "eve": result("P3", ("e",), {}, "bundled espresso"),
        }
    )
    assert found["ann"]["same_photo_as"] == "bob" and found["bob"]["same_photo_as"] == "ann"
    assert found["ann"]["same_maps_as"] == "bob (2 files)"
    assert found["ann"]["similar_answers_as"].startswith("bob 0.9")
    assert found["cid"] == dict.fromkeys(COPY_COLUMNS, "")
    assert found["dan"]["same_photo_as"] == "(bundled espresso photo) eve"
    assert found["dan"]["same_maps_as"] == "" and found["dan"]["similar_answers_as"] == ""


@pytest.mark.parametrize("n", [12])
def test_many_sharers_are_counted_not_all_listed(n):
    found = find_copies({f"s{i:02d}": result("same", ("m",)) for i in range(n)})
    assert found["s00"]["same_photo_as"].endswith(f"(+{n - 1 - 8} more)")
