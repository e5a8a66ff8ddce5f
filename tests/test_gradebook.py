"""Batch grading: ``python -m helpers.check_submission --all DIR --csv gradebook.csv``."""

import csv
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.assignment.gradebook import GRADEBOOK_COLUMNS, check_one, grade_all, write_gradebook
from helpers.assignment.rules import QUALITATIVE_COLUMNS
from helpers.paths import PROJECT_ROOT
from tests.submission_factory import METHODS, make_class, run_checker

N = 100  # the acceptance criterion's class size; the generator cycles through every damage


def snapshot(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` with a hash of its content (links as their target)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            out[key] = "-> " + str(p.readlink())
        elif p.is_file():
            out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[key] = "dir"
    return out


run = run_checker


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    expected = make_class(subs, N)
    before = snapshot(root)
    gradebook = root / "out" / "gradebook.csv"
    gradebook.parent.mkdir()
    start = time.perf_counter()
    result = run("--all", subs, "--csv", gradebook)
    seconds = time.perf_counter() - start
    with gradebook.open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return dict(
        root=root, subs=subs, expected=expected, before=before, result=result,
        rows=rows, seconds=seconds, gradebook=gradebook,
    )  # fmt: skip


def test_one_row_per_student_with_the_right_verdict(graded):
    expected, rows = graded["expected"], graded["rows"]
    assert len(expected) == N and len(rows) == N
    for entry, kind in expected.items():
        student = entry[:-4] if entry.endswith(".zip") else entry
        row = rows[student]
        if kind is None:
            assert row["complete"] == "yes" and row["problem_count"] == "0", row
        else:
            assert row["complete"] == "no" and kind in row["problem_kinds"].split(), row
            assert row["problems"]
    broken = sum(k is not None for k in expected.values())
    assert 60 <= broken < N  # broken ones of every kind, and good ones, in the class


def test_rows_carry_class_methods_and_answers(graded):
    rows = graded["rows"]
    assert list(next(iter(rows.values()))) == list(GRADEBOOK_COLUMNS)
    good = rows["student_000_complete"]
    assert (good["class_index"], good["class_name"]) == ("967", "espresso")
    assert good["methods"].split() == list(METHODS)  # every registered method
    total = str(len(METHODS) * len(QUALITATIVE_COLUMNS))
    assert (good["answers_filled"], good["answers_total"]) == (total, total)
    empty = rows["student_008_empty_answers"]
    assert (empty["answers_filled"], empty["answers_total"]) == ("0", total)
    cat = rows["student_007_cat_class"]
    assert (cat["class_index"], cat["class_name"]) == ("281", "tabby")
    assert rows["student_014_zip_good"]["source"] == "zip"
    assert good["source"] == "folder"
    assert rows["student_017_plain_file.txt"]["source"] == "txt file"
    assert rows["student_017_plain_file.txt"]["problem_kinds"] == "not_a_submission"
    assert "a path outside the zip's folder" in rows["student_016_zip_slip"]["problems"]


def test_every_broken_one_is_listed_and_the_exit_status_is_1(graded):
    result = graded["result"]
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    for entry, kind in graded["expected"].items():
        student = entry[:-4] if entry.endswith(".zip") else entry
        assert (f"  {student}: " in result.stdout) == (kind is not None), student
    assert f"checked {N} submissions" in result.stdout


def test_nothing_is_written_inside_the_submissions(graded):
    after = snapshot(graded["root"])
    assert {k: v for k, v in after.items() if not k.startswith("out")} == graded["before"]


def test_a_class_of_100_is_graded_in_seconds(graded):
    print(f"\n{N} submissions graded in {graded['seconds']:.1f} s (command, fresh process)")
    assert graded["seconds"] < 30


def test_no_tensorflow(graded, tmp_path):
    code = (
        "import sys; from helpers.check_submission import main; "
        f"main(['--all', {str(graded['subs'])!r}, '--csv', {str(tmp_path / 'g.csv')!r}]); "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert out.stdout.strip().endswith("False"), out.stderr


def test_the_gradebook_may_not_go_inside_the_submissions(graded):
    target = graded["subs"] / "gradebook.csv"
    result = run("--all", graded["subs"], "--csv", target)
    assert result.returncode == 2 and not target.exists()
    assert "which holds the students' submissions" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args, text",
    [
        (["--all", "/nonexistent", "--csv", "g.csv"], "/nonexistent does not exist"),
        (["--all", "pyproject.toml", "--csv", "/tmp/g.csv"], "is not a folder"),
        (["--all", ".", "--csv", "/nonexistent/g.csv"], "no such folder"),
    ],
)
def test_usage_errors(args, text):
    result = run(*args)
    assert result.returncode == 2 and text in result.stderr, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_an_existing_gradebook_is_kept_as_a_backup(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    book = tmp_path / "gradebook.csv"
    book.write_text("student,grade\nalice,A (my notes)\n")
    write_gradebook(grade_all(tmp_path / "subs"), book)
    backups = list(tmp_path.glob("gradebook.*.bak.csv"))
    assert len(backups) == 1 and "my notes" in backups[0].read_text()
    assert "alice" in book.read_text()


def test_a_name_that_a_spreadsheet_would_run_is_quoted(tmp_path):
    folder = tmp_path / "=HYPERLINK(1)"
    folder.mkdir()
    assert check_one(folder).row()["student"] == "'=HYPERLINK(1)"


def test_hidden_files_are_skipped(tmp_path):
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / "bob").mkdir()
    assert [e.student for e in grade_all(tmp_path)] == ["bob"]
