"""ImageNet class names: lookup by index and by name."""

import numpy as np
import pytest

from helpers.data.labels import ClassIndexError, class_name, class_names, find_class, resolve_class


def test_standard_index_order():
    names = class_names()
    assert len(names) == len(set(names)) + 2  # 'crane' and 'maillot' occur twice in ImageNet
    assert (names[0], names[281], names[285], names[954], names[967]) == (
        "tench",
        "tabby",
        "Egyptian_cat",
        "banana",
        "espresso",
    )


def test_class_name_accepts_numpy_integers():
    assert class_name(np.int64(281)) == "tabby"


@pytest.mark.parametrize("bad", [-1, 1000, 10**6])
def test_class_index_out_of_range(bad):
    with pytest.raises(ClassIndexError, match=r"outside 0\.\.999"):
        class_name(bad)


@pytest.mark.parametrize("bad", [2.5, "281", None, True])
def test_class_index_wrong_type(bad):
    with pytest.raises(ClassIndexError, match="whole number"):
        class_name(bad)


def test_find_class_exact():
    assert find_class("banana") == [(954, "banana")]


@pytest.mark.parametrize("query", ["Egyptian cat", "egyptian_CAT", " Egyptian-Cat "])
def test_find_class_ignores_case_spaces_underscores(query):
    assert find_class(query)[0] == (285, "Egyptian_cat")


def test_find_class_gives_only_whole_word_matches_when_there_are_some():
    found = find_class("cat", max_results=50)
    # whole word, in any of a class's names: tabby (its synonym 'tabby cat'), tiger, Persian,
    # Siamese, Egyptian, Madagascar cat, lesser panda ('cat bear'); word starts (catamaran,
    # 'oyster catcher'), names that merely contain 'cat' (polecat) and close misspellings
    # ('crate') are cut.
    assert found == [
        (281, "tabby"),
        (282, "tiger_cat"),
        (283, "Persian_cat"),
        (284, "Siamese_cat"),
        (285, "Egyptian_cat"),
        (383, "Madagascar_cat"),
        (387, "lesser_panda"),
    ]


@pytest.mark.parametrize(
    "query, expected, not_offered",
    [
        ("tie", [(451, "bolo_tie"), (457, "bow_tie"), (906, "Windsor_tie")],
         ["tiger", "Scotch_terrier", "tiger_cat"]),
        ("cup", [(968, "cup"), (647, "measuring_cup")], ["cupboard"]),
        ("crane", [(134, "crane"), (517, "crane")], ["crate", "cranes"]),
        ("fox", [(188, "wire-haired_fox_terrier"), (277, "red_fox"), (278, "kit_fox"),
                 (279, "Arctic_fox"), (280, "grey_fox"), (335, "fox_squirrel")], ["foxhound"]),
        ("uniform", [(652, "military_uniform")], []),
        ("sax", [(776, "sax")], ["saxophone"]),
    ],
)  # fmt: skip
def test_whole_word_matches_cut_partial_and_fuzzy_extras(query, expected, not_offered):
    found = find_class(query)
    assert found == expected
    assert not {name for _, name in found} & set(not_offered)


def test_without_a_whole_word_partial_matches_and_misspellings_are_offered():
    assert find_class("espress") == [(550, "espresso_maker"), (967, "espresso")]  # word starts
    assert (484, "catamaran") in find_class("catam")
    assert find_class("atamara")[0] == (484, "catamaran")  # inside a name
    assert (954, "banana") in find_class("bananna")  # a misspelling


@pytest.mark.parametrize("query", ["tabby cat", "Tabby-Cat", "tabby", "cat"])
def test_the_workshop_cat_is_found_first(query):
    assert find_class(query)[0] == (281, "tabby")


def test_an_exact_name_comes_before_longer_names_that_contain_it():
    assert find_class("tiger")[:3] == [(292, "tiger"), (3, "tiger_shark"), (282, "tiger_cat")]
    assert find_class("espresso") == [(967, "espresso"), (550, "espresso_maker")]


def test_synonyms_come_from_the_data_file_in_class_order():
    from helpers.data.labels import class_synonyms

    synonyms = class_synonyms()
    assert len(synonyms) == 1000
    assert all(s[0] == n for s, n in zip(synonyms, class_names(), strict=True))
    assert synonyms[281] == ("tabby", "tabby cat")
    assert synonyms[388][:3] == ("giant_panda", "panda", "panda bear")  # no duplicate


def test_resolve_class_by_a_synonym():
    assert resolve_class("tabby cat") == 281
    with pytest.raises(ClassIndexError, match="387 lesser_panda, 388 giant_panda"):
        resolve_class("panda")  # a synonym of both


def test_find_class_forgives_a_typo():
    assert (954, "banana") in find_class("bananna")


def test_find_class_nothing_close():
    assert find_class("xyzzyplugh") == []


def test_find_class_needs_text():
    with pytest.raises(ValueError, match="non-empty"):
        find_class("  ")


def test_resolve_class():
    assert resolve_class(281) == 281
    assert resolve_class("281") == 281
    assert resolve_class("tabby") == 281
    assert resolve_class("Granny Smith") == 948
    with pytest.raises(ClassIndexError, match="several"):
        resolve_class("crane")  # the bird (134) and the machine (517)
    with pytest.raises(ClassIndexError, match="no ImageNet class matches"):
        resolve_class("xyzzyplugh")
    with pytest.raises(ClassIndexError, match="Did you mean: 967 espresso"):
        resolve_class("espreso")  # never silently corrected
    with pytest.raises(ClassIndexError, match="outside"):
        resolve_class("1000")


def test_suggestions_for_a_name_that_matches_nothing():
    from helpers.data.labels import suggest_classes

    assert (340, "zebra") in suggest_classes("zebra crosing")  # by one of its words
    assert suggest_classes("espreso")[0] == (967, "espresso")  # a close misspelling first
