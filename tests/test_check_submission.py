"""helpers.assignment.checker: complete submissions pass; each kind of gap is reported."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.assignment.rules import CSV_FILE, MARKDOWN_FILE
from helpers.assignment.table import fill_answers, read_table
from helpers.check_submission import check_submission, inspect_submission
from helpers.methods.registry import METHODS as REGISTRY
from helpers.paths import PROJECT_ROOT
from tests.submission_factory import SIZE, build

METHODS = tuple(REGISTRY)


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    return build(tmp_path_factory.mktemp("complete") / "espresso")


@pytest.fixture
def copy(complete, tmp_path):
    """A fresh copy of the complete submission, to damage."""
    return Path(shutil.copytree(complete, tmp_path / "submission"))


def kinds(folder):
    return [p.kind for p in check_submission(folder)]


def run_checker(folder):
    return subprocess.run(
        [sys.executable, "-m", "helpers.check_submission", str(folder)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )


def test_a_complete_submission_passes(complete):
    assert check_submission(complete) == []
    result = run_checker(complete)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: the submission is complete ({len(METHODS)} methods" in result.stdout
    assert "class: 967 espresso" in result.stdout


def test_missing_grad_cam_is_reported(tmp_path):
    folder = build(tmp_path / "s", methods=("vanilla_gradients", "smoothgrad", "occlusion"))
    assert kinds(folder) == ["missing_grad_cam"]
    assert "grad_cam.png" in str(check_submission(folder)[0])


def test_grad_cam_files_deleted_but_row_kept(copy):
    (copy / "grad_cam.png").unlink()
    (copy / "grad_cam.npy").unlink()
    problems = check_submission(copy)
    assert [p.kind for p in problems] == ["missing_map"]
    assert "grad_cam: grad_cam.png and grad_cam.npy missing" in problems[0].message


def test_fewer_than_three_methods(tmp_path):
    folder = build(tmp_path / "s", methods=("grad_cam", "occlusion"))
    problems = check_submission(folder)
    assert [p.kind for p in problems] == ["too_few_methods"]
    assert "only 2 method(s)" in problems[0].message


def test_empty_and_placeholder_answers_are_listed_per_row(copy):
    from helpers.assignment.table import read_table_cells
    from helpers.assignment.table_file import write_table_file

    cells = read_table_cells(copy)  # a student blanks one answer in the csv
    cells.row_of("smoothgrad")[cells.column("noise_level")] = ""
    write_table_file(copy / "comparison.csv", cells)
    fill_answers(copy, {"occlusion": {"on_the_object": "TODO"}})
    result = inspect_submission(copy)
    problems = result.problems
    assert [p.kind for p in problems] == ["empty_answers", "placeholder_answers"]
    assert "table row smoothgrad: no answer yet for noise_level" in problems[0].message
    assert (
        "table row occlusion: placeholders, not answers (not counted as filled): "
        "on_the_object 'TODO' (a placeholder word)" in problems[1].message
    )
    assert result.answers_filled == result.answers_total - 2


def test_an_unanswered_template_fails_only_for_its_answers(tmp_path):
    folder = build(tmp_path / "s", answers=False)
    assert kinds(folder) == ["empty_answers"] * len(METHODS)


@pytest.mark.parametrize("index", [281, 282, 283, 284, 285])
def test_domestic_cat_classes_are_refused(copy, index):
    manifest = json.loads((copy / "submission.json").read_text())
    manifest["class_index"], manifest["class_name"] = index, None
    (copy / "submission.json").write_text(json.dumps(manifest))
    problems = check_submission(copy)
    assert [p.kind for p in problems] == ["cat_class"]
    assert "domestic cat" in problems[0].message and "big cats 286-293" in problems[0].message


def test_a_cat_class_written_by_the_report_is_refused(tmp_path):
    folder = build(tmp_path / "s", class_index=281, image="cat")
    assert kinds(folder) == ["cat_class", "cat_image"]


def test_big_cats_are_accepted_with_a_note(tmp_path):
    folder = build(tmp_path / "s", class_index=291)  # lion
    result = inspect_submission(folder)
    assert result.complete
    assert any("big cat: accepted" in note for note in result.notes)


def test_the_workshop_cat_photo_is_refused_whatever_the_class(tmp_path):
    folder = build(tmp_path / "s", class_index=852, image="cat")  # "tennis ball"
    assert kinds(folder) == ["cat_image"]


@pytest.mark.parametrize(
    "damage, name, expected",
    [
        (lambda p: p.write_bytes(b"not a png at all"), "grad_cam.png", "grad_cam.png is not"),
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "smoothgrad.png", "smoothgrad.png is not"),
        (
            lambda p: Image.new("RGB", (SIZE, SIZE)).save(p, format="JPEG"),
            "occlusion.png",
            "a JPEG file, not a PNG",
        ),
        (lambda p: p.write_bytes(p.read_bytes()[:100]), "grad_cam.npy", "grad_cam.npy is not"),
        (lambda p: np.save(p, np.full((SIZE, SIZE), np.nan)), "occlusion.npy", "NaN"),
        (lambda p: np.save(p, np.zeros((SIZE, SIZE, 3))), "grad_cam.npy", "2-D array"),
        (lambda p: np.save(p, np.zeros((SIZE, 5))), "grad_cam.npy", "different runs"),
        (lambda p: p.write_text("x"), "smoothgrad_attributions.npy", "not readable"),
    ],
)
def test_corrupt_map_files_are_reported(copy, damage, name, expected):
    damage(copy / name)
    problems = check_submission(copy)
    assert [p.kind for p in problems] == ["corrupt_map"], problems
    assert expected in problems[0].message


def test_corrupt_maps_leave_too_few_methods(copy):
    corrupt = [m for m in METHODS if m not in ("grad_cam", "occlusion")]  # two readable left
    for m in corrupt:
        (copy / f"{m}.npy").write_bytes(b"garbage")
    assert kinds(copy) == ["corrupt_map"] * len(corrupt) + ["too_few_methods"]


def test_missing_tables_manifest_and_grid(copy):
    for name in (CSV_FILE, MARKDOWN_FILE, "submission.json", "comparison_grid.png"):
        (copy / name).unlink()
    found = kinds(copy)
    assert found == ["missing_manifest", "missing_table", "missing_table", "missing_grid"]
    # Without a table, the maps in the folder still count.
    assert inspect_submission(copy).methods == sorted(METHODS)


def test_hand_edited_csv_needs_the_markdown_rewritten(copy):
    text = (copy / CSV_FILE).read_text()
    answer = read_table(copy).set_index("method").loc["occlusion", "what_it_highlights"]
    (copy / CSV_FILE).write_text(text.replace(answer, "edited by hand", 1))
    problems = check_submission(copy)
    assert [p.kind for p in problems] == ["stale_markdown"]
    assert "occlusion: what_it_highlights" in problems[0].message
    subprocess.run(
        [sys.executable, "-m", "helpers.report", str(copy)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    assert check_submission(copy) == []


def test_computed_columns_must_hold_numbers(copy):
    with (copy / CSV_FILE).open(newline="") as f:
        rows = list(csv.DictReader(f))
    rows[3]["ig_completeness_gap"] = ""  # the integrated_gradients row
    with (copy / CSV_FILE).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    fill_answers(copy)  # keep the markdown in step
    problems = check_submission(copy)
    assert [p.kind for p in problems] == ["missing_computed"]
    assert "integrated_gradients: no number in ig_completeness_gap" in problems[0].message


def test_every_problem_is_printed_and_the_exit_status_is_1(tmp_path):
    folder = build(
        tmp_path / "s", methods=("smoothgrad", "occlusion"), class_index=283, answers=False
    )
    (folder / "occlusion.png").write_bytes(b"broken")
    result = run_checker(folder)
    assert result.returncode == 1
    out = result.stdout
    assert "NOT COMPLETE: 6 problem(s)" in out
    for text in (
        "domestic cat",
        "table row smoothgrad",
        "table row occlusion",
        "occlusion.png is not",
        "no Grad-CAM",
        "only 1 method(s)",
    ):
        assert text in out, text


def test_not_a_folder_exits_with_2(tmp_path):
    result = run_checker(tmp_path / "nope")
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_checker_does_not_import_tensorflow():
    code = "import sys, helpers.check_submission; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_every_problem_kind_is_explained_in_instructors_md():
    import re

    source = "".join(p.read_text() for p in (PROJECT_ROOT / "helpers" / "assignment").glob("*.py"))
    kinds = set(re.findall(r'\.add\(\s*"(\w+)"', source)) | set(
        re.findall(r'open_(?:inside|required)\([^)]*?"(\w+)"', source, re.S)
    )
    kinds |= {"missing_grid", "missing_input", "missing_manifest"}  # names made in code
    table = (PROJECT_ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    table = table[table.index("**In a submission**") :]
    assert len(kinds) > 20
    missing = sorted(k for k in kinds if f"`{k}`" not in table)
    assert not missing, f"INSTRUCTORS.md's table of problem kinds lacks {missing}"
