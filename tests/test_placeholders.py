"""Answers that are not answers: one set of rules (helpers.assignment.rules), used by the
checker, the notebook's count and `helpers.report`, and shown in INSTRUCTORS.md."""

import shutil
from pathlib import Path

import pytest

from helpers.assignment.rules import (
    PLACEHOLDER_RULES,
    PLACEHOLDER_WORDS,
    QUALITATIVE_COLUMNS,
    QUESTIONS,
    placeholder_cells,
    placeholder_reason,
)
from helpers.assignment.table import fill_answers, read_table, unanswered
from helpers.check_submission import inspect_submission
from helpers.paths import PROJECT_ROOT
from tests.submission_factory import build

FEW = ("grad_cam", "vanilla_gradients", "smoothgrad", "occlusion")


@pytest.mark.parametrize(
    "text, column, rule",
    [
        ("x", "noise_level", "one_character"),
        ("X", "what_it_highlights", "one_character"),
        ("1", "on_the_object", "one_character"),
        ("-", "noise_level", "no_letters"),
        ("...", "what_it_highlights", "no_letters"),
        ("…", "what_it_highlights", "no_letters"),
        ("?!", "would_you_trust_it", "no_letters"),
        ("— —", "noise_level", "no_letters"),
        ("TODO", "noise_level", "placeholder_word"),
        ("todo!", "noise_level", "placeholder_word"),
        ("To do", "noise_level", "placeholder_word"),
        ("TBD.", "on_the_object", "placeholder_word"),
        ("n/a", "noise_level", "placeholder_word"),
        ("your answer", "what_it_highlights", "placeholder_word"),
        ("Lorem ipsum", "what_it_highlights", "placeholder_word"),
        ("xxx", "what_it_highlights", "placeholder_word"),
        (QUESTIONS["what_it_highlights"], "what_it_highlights", "question"),
        (QUESTIONS["would_you_trust_it"].lower(), "would_you_trust_it", "question"),
        ("Which parts of the image does the map light up", "what_it_highlights", "question"),
        ("yes / partly / no, and where", "on_the_object", "question"),
        ("low / medium / high: scattered speckles or clean blobs?", "noise_level", "question"),
        ("what_it_highlights", "what_it_highlights", "question"),
        ("How noisy?", "noise_level", "question"),
    ],
)
def test_a_placeholder_is_named_by_its_rule(text, column, rule):
    assert placeholder_reason(text, column) == rule
    assert rule in PLACEHOLDER_RULES


@pytest.mark.parametrize(
    "text, column",
    [
        ("yes", "on_the_object"),
        ("no", "on_the_object"),
        ("Partly: the rim", "on_the_object"),
        ("low", "noise_level"),
        ("None", "noise_level"),  # "none" is an answer to "how noisy?"
        ("ok", "would_you_trust_it"),
        ("The rim of the cup and the crema", "what_it_highlights"),
        ("Which parts light up? The rim.", "what_it_highlights"),  # a question, then an answer
        ("No: it beats the random map on neither score", "would_you_trust_it"),
        ("", "noise_level"),  # empty is "empty", not a placeholder
    ],
)
def test_real_answers_are_not_placeholders(text, column):
    assert placeholder_reason(text, column) is None


def rows(texts: dict) -> list[dict]:
    return [{"method": m, **row} for m, row in texts.items()]


def test_the_same_text_in_every_cell_of_a_row():
    table = {m: dict.fromkeys(QUALITATIVE_COLUMNS, f"looks fine {m}") for m in FEW}
    found = placeholder_cells(rows(table))
    assert set(found.values()) == {"same_in_row"} and len(found) == len(FEW) * 4


def test_the_same_free_text_in_every_row_of_a_column():
    table = {
        m: {"what_it_highlights": "the object", "on_the_object": "yes", "noise_level": "low",
            "would_you_trust_it": f"reason {i} differs"}
        for i, m in enumerate(FEW)
    }  # fmt: skip
    found = placeholder_cells(rows(table))
    assert found == {(m, "what_it_highlights"): "same_in_column" for m in FEW}  # not yes / low
    two = dict(list(table.items())[:2])  # two rows may agree
    assert placeholder_cells(rows(two)) == {}


def test_the_random_row_and_own_rows_need_no_answers():
    table = rows({m: dict.fromkeys(QUALITATIVE_COLUMNS, "") for m in FEW})
    table.append({"method": "random_map", **dict.fromkeys(QUALITATIVE_COLUMNS, "x")})
    assert placeholder_cells(table) == {}


@pytest.fixture
def folder(tmp_path):
    return build(tmp_path / "s", methods=FEW)


def test_the_checker_lists_placeholders_and_does_not_count_them(folder):
    fill_answers(folder, {m: dict.fromkeys(QUALITATIVE_COLUMNS, "x") for m in FEW})
    result = inspect_submission(folder)
    assert [p.kind for p in result.problems] == ["placeholder_answers"] * len(FEW)
    assert "table row grad_cam: placeholders, not answers (not counted as filled): " in (
        result.problems[0].message
    )
    assert "what_it_highlights 'x' (a single character)" in result.problems[0].message
    assert (result.answers_filled, result.answers_total) == (0, len(FEW) * 4)


def test_the_notebook_and_report_count_placeholders_as_unanswered(folder):
    fill_answers(folder, {"occlusion": {"noise_level": "TODO", "on_the_object": "..."}})
    missing = unanswered(read_table(folder))
    assert missing == [("occlusion", "on_the_object"), ("occlusion", "noise_level")]
    from helpers.assignment.cli import report_main

    assert report_main([str(folder)]) == 0


def test_instructors_md_shows_every_rule_and_word():
    text = " ".join((PROJECT_ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8").split())
    for rule in PLACEHOLDER_RULES.values():
        assert f"- {rule}" in text, rule
    for word in PLACEHOLDER_WORDS:
        assert f'"{word}"' in text, word


def test_a_copy_of_the_template_with_every_rule_is_listed(tmp_path, folder):
    """One row per rule, every other answer genuine: each row is named, nothing else."""
    answers = {
        "grad_cam": {"noise_level": "-"},
        "vanilla_gradients": {"on_the_object": QUESTIONS["on_the_object"]},
        "smoothgrad": {"what_it_highlights": "TBD"},
        "occlusion": {"would_you_trust_it": "y"},
    }
    fill_answers(folder, answers)
    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    found = inspect_submission(copy).problems
    assert [p.message.split(":")[0] for p in found] == [f"table row {m}" for m in FEW]
