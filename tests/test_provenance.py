"""run.json: the checker compares the table, the map files and the answers with the record
of the run that made them (helpers.assignment.provenance). No model: the folders are
written by the real writer from synthetic results (tests/submission_factory.py)."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.assignment.provenance import TOLERANCES, answers_digest, read_run_record
from helpers.assignment.rules import CSV_FILE, QUALITATIVE_COLUMNS, RANDOM_ROW, RUN_FILE
from helpers.assignment.table import fill_answers, read_table
from helpers.check_submission import inspect_submission
from tests.submission_factory import (
    SIZE,
    _rows,
    _write_rows,
    build,
    rerun,
    run_checker,
)

FEW = ("grad_cam", "vanilla_gradients", "smoothgrad", "integrated_gradients", "occlusion")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build(tmp_path_factory.mktemp("provenance") / "espresso", methods=FEW)


@pytest.fixture
def copy(template, tmp_path):
    return Path(shutil.copytree(template, tmp_path / "s"))


def problems(folder, kind=None):
    found = inspect_submission(folder).problems
    return [p for p in found if kind is None or p.kind == kind]


def edit_cell(folder, method, column, text, **style):
    rows = _rows(folder)
    next(r for r in rows if r["method"] == method)[column] = text
    _write_rows(folder, rows, **style)
    fill_answers(folder)  # comparison.md in step, as `python -m helpers.report` does


def test_the_record_holds_every_computed_number_and_map_hash(template):
    record = read_run_record(template)
    assert set(record["methods"]) == set(FEW)
    entry = record["methods"]["integrated_gradients"]
    assert entry["settings_text"].startswith("steps=auto") and entry["metric_steps"] == 32
    assert (entry["deletion_auc"], entry["insertion_auc"], entry["ig_completeness_gap"]) == (
        0.1, 0.5, 0.12,
    )  # fmt: skip
    assert set(entry["files"]) == {
        "integrated_gradients.png", "integrated_gradients.npy",
        "integrated_gradients_attributions.npy",
    }  # fmt: skip
    assert record["random_map"]["deletion_auc"] == 0.2 and len(record["input_sha256"]) == 64
    assert problems(template) == []


@pytest.mark.parametrize(
    "method, column, typed, shown",
    [
        ("grad_cam", "deletion_auc", "0.001", "deletion_auc is '0.001' in comparison.csv but the "
         "run computed 0.1"),
        ("grad_cam", "insertion_auc", "0.999", "insertion_auc is '0.999'"),
        ("integrated_gradients", "ig_completeness_gap", "0.01", "ig_completeness_gap is '0.01'"),
        ("occlusion", "runtime_s", "0.5", "runtime_s is '0.5'"),
        ("smoothgrad", "settings", "n=100, noise=15%, seed=0", "settings say 'n=100, noise=15%"),
        (RANDOM_ROW, "deletion_auc", "0.9", "table row random_map: deletion_auc is '0.9'"),
        (RANDOM_ROW, "insertion_auc", "0.01", "table row random_map: insertion_auc"),
    ],
)  # fmt: skip
def test_a_hand_typed_number_is_listed_naming_the_row(copy, method, column, typed, shown):
    edit_cell(copy, method, column, typed)
    (found,) = problems(copy, "edited_numbers")
    assert found.message.startswith(f"table row {method}: ") and shown in found.message


def test_numbers_as_spreadsheets_save_them_still_match(copy):
    """Decimal commas, ';' and cp1252, and numbers rounded to what comparison.md shows."""
    rows = _rows(copy)
    for row in rows:
        for column in TOLERANCES:
            if row[column]:
                digits = 2 if column == "runtime_s" else 3
                row[column] = f"{float(row[column]):.{digits}f}".replace(".", ",")
    _write_rows(copy, rows, delimiter=";", encoding="cp1252")
    assert problems(copy) == []
    rows[0]["deletion_auc"] = "0,101"  # off by more than half the last digit shown
    _write_rows(copy, rows, delimiter=";", encoding="cp1252")
    assert [p.kind for p in problems(copy)] == ["edited_numbers"]


def test_a_changed_map_file_is_listed(copy):
    values = np.load(copy / "grad_cam.npy")
    np.save(copy / "grad_cam.npy", values * 2)  # readable, right shape, other numbers
    Image.open(copy / "occlusion.png").rotate(90).save(copy / "occlusion.png")
    found = problems(copy)
    assert [p.kind for p in found] == ["changed_file", "changed_file"]
    assert found[0].message.startswith("grad_cam.npy is not the file the run saved")
    assert "table row grad_cam's numbers were computed from another map" in found[0].message
    assert found[1].message.startswith("occlusion.png is not the file the run saved")


def test_the_same_map_saved_again_in_another_npy_form_is_not_a_change(copy):
    values = np.load(copy / "grad_cam.npy")
    np.save(copy / "grad_cam.npy", np.asfortranarray(values))
    np.save(copy / "occlusion.npy", np.load(copy / "occlusion.npy").astype(">f4"))
    assert [p.kind for p in problems(copy)] == ["changed_file"]  # big-endian is other bytes
    np.save(copy / "occlusion.npy", np.load(copy / "occlusion.npy").astype("<f4"))
    assert problems(copy) == []


def test_another_photo_is_listed(copy):
    pixels = np.asarray(Image.open(copy / "input.png"))
    Image.fromarray(255 - pixels).save(copy / "input.png")
    (found,) = problems(copy)
    assert found.kind == "changed_file" and found.message.startswith("input.png is not the photo")


def test_a_row_no_run_recorded_is_listed(copy):
    record = json.loads((copy / RUN_FILE).read_text())
    del record["methods"]["occlusion"]
    (copy / RUN_FILE).write_text(json.dumps(record))
    (found,) = problems(copy)
    assert found.kind == "unrecorded_numbers" and "table row occlusion: no run recorded" in (
        found.message
    )


@pytest.mark.parametrize(
    "content, kind, text",
    [
        (None, "missing_run_record", "run.json is missing"),
        ("{not json", "bad_run_record", "run.json cannot be used"),
        ("[1, 2]", "bad_run_record", "does not hold a run record"),
        ('{"methods": 3}', "bad_run_record", "does not hold a run record"),
        ("[" * 100 + "]" * 100, "bad_run_record", "nests"),
        (" " * 2_000_000, "bad_run_record", "more than"),
    ],
)
def test_a_missing_or_malformed_record_is_one_problem(copy, content, kind, text):
    if content is None:
        (copy / RUN_FILE).unlink()
    else:
        (copy / RUN_FILE).write_text(content)
    found = problems(copy)
    assert [p.kind for p in found] == [kind] and text in found[0].message, found


def test_file_names_in_the_record_are_never_opened(copy):
    outside = copy.parent / "secret.npy"
    np.save(outside, np.zeros((SIZE, SIZE), np.float32))
    record = json.loads((copy / RUN_FILE).read_text())
    record["methods"]["grad_cam"]["files"] = {"../secret.npy": "0" * 64, "/etc/passwd": "0"}
    record["methods"]["../../x"] = {"run": "x", "files": {"../secret.npy": "1"}}
    (copy / RUN_FILE).write_text(json.dumps(record))
    assert problems(copy) == []  # only the names the assignment defines are compared


# ------------------------------------------------------------------------- stale answers


def answered(copy, methods=FEW):
    return {m: read_table(copy).set_index("method").loc[m, "noise_level"] for m in methods}


def test_a_rerun_with_other_settings_makes_the_answers_stale(copy):
    before = answered(copy)
    rerun(copy, FEW, fast=True)  # like `explain --fast` over a finished folder
    assert answered(copy) == before  # the answers are kept ...
    found = problems(copy)
    assert {p.kind for p in found} == {"stale_answers"} and len(found) == len(FEW)
    ig = next(p.message for p in found if p.message.startswith("table row integrated_gradients"))
    assert "the answers were written for the run with steps=auto, tolerance=5%" in ig
    assert "(32 metric steps)" in ig and "now from steps=16" in ig and "(12 metric steps)" in ig


def test_answers_changed_after_the_rerun_are_written_for_it(copy):
    rerun(copy, FEW, fast=True)
    fill_answers(copy, {"grad_cam": {"noise_level": "low: smooth at the fast settings too"}})
    edit_cell(copy, "occlusion", "what_it_highlights", "rewritten in the csv after the re-run")
    stale = [p.message.split(":")[0] for p in problems(copy, "stale_answers")]
    assert "table row grad_cam" not in stale and "table row occlusion" not in stale
    assert "table row smoothgrad" in stale


def test_a_rerun_with_the_same_settings_keeps_the_answers_current(copy):
    rerun(copy, FEW, fast=False)
    assert problems(copy) == []


def test_back_to_the_settings_the_answers_were_written_for(copy):
    rerun(copy, FEW, fast=True)
    rerun(copy, FEW, fast=False)
    assert problems(copy) == []


def test_methods_not_run_again_keep_their_record(copy):
    rerun(copy, ("grad_cam",), fast=False)
    assert set(read_run_record(copy)["methods"]) == set(FEW) and problems(copy) == []
    rerun(copy, ("smoothgrad",), fast=True)
    assert [p.message.split(":")[0] for p in problems(copy)] == ["table row smoothgrad"]


def test_stale_answers_through_a_spreadsheet_saved_table(copy):
    """Answers typed in Excel (cp1252, ';'), then a fast re-run: still stale, by content."""
    rows = _rows(copy)
    for i, row in enumerate(rows):
        if row["method"] != RANDOM_ROW:
            row["noise_level"] = f"niedrig, Zeile {i} (é)"
    _write_rows(copy, rows, delimiter=";", encoding="cp1252")
    fill_answers(copy)
    rerun(copy, FEW, fast=True)
    assert len(problems(copy, "stale_answers")) == len(FEW)


def test_the_answers_digest_ignores_line_endings_and_spaces():
    row = dict.fromkeys(QUALITATIVE_COLUMNS, "a\r\nb  c")
    assert answers_digest(row) == answers_digest(dict.fromkeys(QUALITATIVE_COLUMNS, "a b c"))
    assert answers_digest(dict.fromkeys(QUALITATIVE_COLUMNS, " ")) == ""


def test_the_command_prints_the_rows_and_exits_1(copy):
    edit_cell(copy, "grad_cam", "deletion_auc", "0.001")
    result = run_checker(copy)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "table row grad_cam: deletion_auc is '0.001' in comparison.csv" in result.stdout
    assert "the line to beat: the random map scores deletion AUC 0.200" in result.stdout


def test_a_row_dropped_from_the_table_is_no_provenance_problem(copy):
    with (copy / CSV_FILE).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows = [r for r in rows if r["method"] != "occlusion"]
    _write_rows(copy, rows)
    fill_answers(copy)
    assert problems(copy) == []  # dropping a row is fine: its files and record are ignored
