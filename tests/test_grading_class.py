"""Issue 17's acceptance: a generated class of 42 with hand-typed scores, placeholder
answers, stale answers after a re-run with other settings, three identical copies,
copied answers, a replaced map and a PDF gives a gradebook that flags each by name and
passes the genuine ones (`python -m helpers.check_submission --all`, a fresh process)."""

import csv
import re

import pytest

from helpers.assignment.copies import COPY_COLUMNS
from tests.submission_factory import CLASS_METHODS, make_trust_class, run_checker


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust")
    expected = make_trust_class(root / "submissions")
    book = root / "gradebook.csv"
    result = run_checker("--all", root / "submissions", "--csv", book)
    with book.open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return expected, rows, result


def student(entry: str) -> str:
    return entry[:-4] if entry.endswith(".zip") else entry


def test_the_class_is_large_and_every_entry_has_a_row(graded):
    expected, rows, result = graded
    assert len(expected) >= 40 and len(rows) == len(expected)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr


def test_each_misleading_submission_is_flagged_with_its_kind(graded):
    expected, rows, _ = graded
    for entry, want in expected.items():
        row = rows[student(entry)]
        kinds = set(row["problem_kinds"].split())
        assert kinds == want["kinds"], (entry, row["problems"])
        assert (row["complete"] == "yes") == (not want["kinds"]), entry


def test_the_genuine_ones_pass_with_nothing_shared(graded):
    expected, rows, _ = graded
    genuine = [e for e in expected if e.startswith("genuine_")]
    assert len(genuine) >= 20
    for entry in genuine:
        row = rows[entry]
        assert row["complete"] == "yes" and row["problems"] == "", row
        assert all(row[c] == "" for c in COPY_COLUMNS), row
        assert row["photo"] == "own" and row["answers_filled"] == row["answers_total"] == "16"


def test_copies_name_the_other_students_and_change_no_verdict(graded):
    expected, rows, _ = graded
    for entry, want in expected.items():
        row = rows[student(entry)]
        for column in COPY_COLUMNS:
            text = re.sub(r"^\(.*?\) ", "", row[column])  # "(bundled espresso photo) ..."
            named = {part.split(" ")[0] for part in text.split(", ") if part}
            assert named == want["copies"].get(column, set()), (entry, column, row[column])
    assert rows["bundled_a"]["same_photo_as"].startswith("(bundled espresso photo) bundled_b")
    assert rows["copy_1"]["complete"] == "yes"  # the instructor decides, not the checker


def test_the_messages_name_the_rows(graded):
    _, rows, result = graded
    typed = rows["typed_scores"]["problems"]
    assert "table row grad_cam: deletion_auc is '0.001' in comparison.csv but the run" in typed
    assert "table row random_map: " in rows["typed_line_to_beat"]["problems"]
    assert "table row occlusion: settings say 'patch=8, stride=4'" in (
        rows["typed_settings"]["problems"]
    )
    assert "table row vanilla_gradients: placeholders" in rows["placeholder_mixed"]["problems"]
    stale = rows["stale_fast_rerun"]["problems"]
    assert stale.count("the answers were written for the run with") == 4
    assert "grad_cam.npy is not the file the run saved" in rows["map_replaced"]["problems"]
    assert rows["zipped_essay.pdf"]["source"] == "pdf file" and rows["zipped"]["source"] == "zip"
    for name in ("typed_scores", "placeholder_x", "stale_fast_rerun", "map_replaced"):
        assert f"  {name}: " in result.stdout  # the terminal summary names each
    assert "  copy_1 shares same_photo_as: copy_2, copy_3" in result.stdout


def test_the_line_to_beat_is_read_from_each_table(graded):
    """Synthetic scores: every method 0.1 / 0.5 against the random row's 0.2 / 0.3."""
    _, rows, _ = graded
    assert rows["genuine_00"]["beats_random"].split() == list(CLASS_METHODS)
    # the student who made the line to beat easier (0.01 insertion) "beats" it in the table:
    # the gradebook shows what the table says, and the problem says the row was typed.
    assert rows["typed_line_to_beat"]["beats_random"].split() == list(CLASS_METHODS)
