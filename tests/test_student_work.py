"""The assignment folder is the student's: answers survive every re-run of explain and
report, whatever their spreadsheet did to comparison.csv; malformed input is one clear
line and a non-zero exit status, never a traceback; nothing is written over an input.

Most round trips call the real writer (write_submission) with precomputed results, so
they need no model; one test runs the real command lines end to end with --fast.
"""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.assignment.cli import report_main
from helpers.assignment.rules import (
    CSV_FILE,
    MARKDOWN_FILE,
    QUALITATIVE_COLUMNS,
    ReportError,
)
from helpers.assignment.submission import write_submission
from helpers.assignment.table import fill_answers, parse_markdown_table, read_table
from helpers.paths import PROJECT_ROOT
from tests.test_report import fake_results

ALL = ("grad_cam", "vanilla_gradients", "smoothgrad", "integrated_gradients")
IMAGE = np.random.default_rng(0).uniform(0, 255, (8, 8, 3)).astype(np.float32)
ANSWER = {  # what a student typed, with accents, a comma, quotes and a line break
    "what_it_highlights": "the cup's rim, the saucer; café crème",
    "on_the_object": 'partly: "mostly" the cup',
    "noise_level": "low",
    "would_you_trust_it": "yes,\nmostly",
}


def make_folder(out: Path, methods=ALL, image=IMAGE, class_index=967, **kwargs):
    return write_submission(out, image, class_index, fake_results(methods, 8), **kwargs)


def save_as_spreadsheet(out: Path, encoding="utf-8", sep=",", bom=False, decimal_comma=False,
                        extra=None, answers=ANSWER, newline="\r\n", vary=False):  # fmt: skip
    """Rewrite comparison.csv the way a spreadsheet program saves it, answers filled in
    (``vary``: each row's answers end with its method, as different answers would)."""
    with open(out / CSV_FILE, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    for row in body:
        for column, text in answers.items():
            row[header.index(column)] = text + (f" ({row[0]})" if vary else "")
        if decimal_comma:
            row[2:6] = [c.replace(".", ",") for c in row[2:6]]
    if extra:
        header.append(extra)
        for i, row in enumerate(body):
            row.append(f"my note {i} é")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=newline).writerows([header, *body])
    data = buffer.getvalue().encode(encoding)
    (out / CSV_FILE).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return data


def answers_of(out: Path) -> dict:
    table = read_table(out).set_index("method")
    return {m: {c: table.loc[m, c] for c in QUALITATIVE_COLUMNS} for m in table.index}


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


SPREADSHEETS = {
    "excel_cp1252_semicolon": dict(encoding="cp1252", sep=";", decimal_comma=True),
    "excel_cp1252_comma": dict(encoding="cp1252"),
    "utf8_bom": dict(bom=True),
    "utf8_bom_semicolon": dict(bom=True, sep=";", decimal_comma=True),
    "tab_separated": dict(sep="\t", newline="\n"),
    "extra_column": dict(extra="my notes"),
    "cp1252_semicolon_extra_column": dict(encoding="cp1252", sep=";", extra="Notizen"),
}


@pytest.mark.parametrize("style", SPREADSHEETS.values(), ids=SPREADSHEETS.keys())
def test_answers_survive_explain_rerun_with_fewer_methods_then_report(tmp_path, style):
    out = tmp_path / "espresso"
    make_folder(out)
    save_as_spreadsheet(out, **style)
    expected = dict.fromkeys(ALL, ANSWER)
    assert answers_of(out) == expected  # read as the spreadsheet saved it

    messages = []
    make_folder(out, ("grad_cam", "smoothgrad"), progress=messages.append)  # fewer methods
    assert answers_of(out) == expected
    assert any("kept the maps, rows and answers of vanilla_gradients" in m for m in messages)
    for method in ALL:
        assert (out / f"{method}.npy").is_file() and (out / f"{method}.png").is_file()
    data = (out / CSV_FILE).read_bytes()
    sep = style.get("sep", ",")
    assert data.startswith(b"\xef\xbb\xbf") == style.get("bom", False)
    text = data.decode("cp1252" if style.get("encoding") == "cp1252" else "utf-8-sig")
    assert text.splitlines()[0].split(sep)[:2] == ["method", "settings"]  # separator kept
    if style.get("decimal_comma"):
        assert f"{sep}0,2{sep}0,6{sep}" in text  # decimal commas kept
    if style.get("extra"):
        assert read_table(out)[style["extra"]].tolist() == [f"my note {i} é" for i in range(4)]

    before = (out / CSV_FILE).read_bytes()
    assert report_main([str(out)]) == 0
    assert (out / CSV_FILE).read_bytes() == before  # report never rewrites the csv
    rows = parse_markdown_table((out / MARKDOWN_FILE).read_text(encoding="utf-8"))
    assert [r["method"] for r in rows] == list(ALL)
    assert rows[0]["on_the_object"] == ANSWER["on_the_object"]
    assert rows[0]["would_you_trust_it"] == ANSWER["would_you_trust_it"]


def test_own_rows_and_columns_survive_and_new_methods_are_added(tmp_path):
    out = tmp_path / "x"
    make_folder(out, ("grad_cam", "smoothgrad"))
    save_as_spreadsheet(out, extra="grade")
    with open(out / CSV_FILE, "a", newline="", encoding="utf-8") as f:
        f.write("my own row,,,,,,what I saw,,,,kept\r\n")
    make_folder(out, ("grad_cam", "occlusion"))
    table = read_table(out)
    assert table["method"].tolist() == ["grad_cam", "smoothgrad", "my own row", "occlusion"]
    assert table["what_it_highlights"].tolist()[:3] == [ANSWER["what_it_highlights"]] * 2 + [
        "what I saw"
    ]
    assert table["grade"].tolist() == ["my note 0 é", "my note 1 é", "kept", ""]
    assert table.loc[3, "noise_level"] == ""  # the new method's answers are blank


def test_replace_drops_other_methods_and_keeps_a_backup(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    original = save_as_spreadsheet(out, encoding="cp1252", sep=";")
    make_folder(out, ("grad_cam",), replace=True)
    assert read_table(out)["method"].tolist() == ["grad_cam"]
    assert answers_of(out)["grad_cam"] == ANSWER  # the method run again keeps its answers
    assert (
        not (out / "smoothgrad.npy").exists() and not (out / "smoothgrad_attributions.npy").exists()
    )
    (backup,) = out.glob("comparison-backup-*.csv")
    assert backup.read_bytes() == original  # byte for byte


@pytest.mark.parametrize(
    "change, message",
    [
        ({"class_index": 968}, "class 967 there, 968 now"),
        ({"image": IMAGE[::-1].copy()}, "another image"),
    ],
)
def test_another_experiment_never_mixes_with_answers(tmp_path, change, message):
    out = tmp_path / "x"
    make_folder(out)
    save_as_spreadsheet(out)
    before = snapshot(out)
    with pytest.raises(
        ReportError, match=f"holds maps of .*and answers from another run .*{message}"
    ):
        make_folder(out, ("grad_cam",), **change)
    assert snapshot(out) == before  # nothing written
    make_folder(out, ("grad_cam",), replace=True, **change)  # asked for: start over
    assert answers_of(out) == {"grad_cam": dict.fromkeys(QUALITATIVE_COLUMNS, "")}
    (backup,) = out.glob("comparison-backup-*.csv")
    assert backup.read_bytes() == before[CSV_FILE]


def test_fill_answers_blank_template_never_erases_and_keeps_the_file_style(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    save_as_spreadsheet(out, encoding="cp1252", sep=";", extra="mine")
    blank = {m: dict.fromkeys(QUALITATIVE_COLUMNS, "") for m in ALL}  # the notebook's template
    before = (out / CSV_FILE).read_bytes()
    fill_answers(out, blank)
    assert (out / CSV_FILE).read_bytes() == before
    fill_answers(out, {"grad_cam": {"noise_level": "medium"}})
    text = (out / CSV_FILE).read_bytes().decode("cp1252")
    assert text.startswith("method;settings;") and text.endswith("\r\n")
    assert answers_of(out)["grad_cam"] == {**ANSWER, "noise_level": "medium"}
    assert read_table(out)["mine"].tolist()[0] == "my note 0 é"


def test_text_cp1252_cannot_hold_is_saved_as_utf8_with_bom_and_a_backup(tmp_path):
    out = tmp_path / "x"
    make_folder(out)
    original = save_as_spreadsheet(out, encoding="cp1252", sep=";")
    messages = []
    answers = {"grad_cam": {"noise_level": "low σ"}}
    make_folder(out, ("grad_cam",), answers=answers, progress=messages.append)
    data = (out / CSV_FILE).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig").startswith("method;")
    assert answers_of(out)["grad_cam"] == {**ANSWER, "noise_level": "low σ"}
    assert answers_of(out)["smoothgrad"] == ANSWER
    (backup,) = out.glob("comparison-backup-*.csv")
    assert backup.read_bytes() == original
    assert any("now saved as utf-8-sig, semicolon-separated" in m for m in messages)
    fill_answers(out, {"smoothgrad": {"noise_level": "ünïcode ✓"}})  # stays UTF-8 with BOM
    assert answers_of(out)["smoothgrad"]["noise_level"] == "ünïcode ✓"


BROKEN_TABLES = {
    "unquoted_comma": (
        lambda text: text.replace(",low,", ",low, some speckle,", 1),
        r"comparison.csv line 2 \(row 'grad_cam'\) has 11 cells for 10 columns: an answer "
        "holds a ',' without quotes",
    ),
    "unquoted_semicolon": (
        lambda text: text.replace(",", ";").replace(";low;", ";low; some;", 1),
        r"line 2 \(row 'grad_cam'\) has 11 cells for 10 columns: an answer holds a ';'",
    ),
    "missing_columns": (
        lambda text: text.replace("noise_level", "noise", 1),
        r"lacks the columns noise_level \(its header row has: method, settings",
    ),
    "column_twice": (
        lambda text: text.replace("would_you_trust_it", "noise_level", 1),
        "has the column noise_level twice",
    ),
    "two_rows_for_a_method": (
        lambda text: text.replace("vanilla_gradients,", "grad_cam,", 1),
        "has two rows for the method grad_cam",
    ),
    "utf16": (lambda text: text.encode("utf-16"), "holds NUL bytes: it is not a text file"),
}


def _break(out: Path, how) -> bytes:
    data = how(out.joinpath(CSV_FILE).read_text(encoding="utf-8"))
    data = data if isinstance(data, bytes) else data.encode("utf-8")
    (out / CSV_FILE).write_bytes(data)
    return data


def _broken_folder(tmp_path, how):
    """A two-method folder saved as a spreadsheet, then broken ``how``; and its snapshot."""
    out = tmp_path / "x"
    make_folder(out, ("grad_cam", "vanilla_gradients"))
    save_as_spreadsheet(out, newline="\n")
    _break(out, how)
    return out, snapshot(out)


@pytest.mark.parametrize("how, message", BROKEN_TABLES.values(), ids=BROKEN_TABLES.keys())
def test_a_table_it_cannot_read_is_never_rewritten(tmp_path, how, message):
    out, before = _broken_folder(tmp_path, how)
    with pytest.raises(ReportError, match=message):
        make_folder(out, ("grad_cam",))
    with pytest.raises(ReportError, match=message):
        fill_answers(out, {"grad_cam": {"noise_level": "x"}})
    assert snapshot(out) == before


def _run(module, *args, cwd=PROJECT_ROOT, timeout=60):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


def assert_one_clear_line(result, message, status=2):
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]


@pytest.mark.parametrize("how, message", BROKEN_TABLES.values(), ids=BROKEN_TABLES.keys())
def test_report_command_on_a_malformed_table(tmp_path, how, message):
    out, before = _broken_folder(tmp_path, how)
    result = _run("helpers.report", out)
    assert_one_clear_line(result, "python -m helpers.report: error: ")
    import re

    assert re.search(message, result.stderr), result.stderr
    assert snapshot(out) == before


REPORT_MISUSE = {
    "no_folder": (lambda tmp: [tmp / "nowhere"], "nowhere does not exist"),
    "a_file": (lambda tmp: [tmp / "x" / CSV_FILE], "comparison.csv is not a folder"),
    "no_table": (lambda tmp: [tmp], "comparison.csv does not exist"),
    "no_argument": (lambda tmp: [], "give one folder, got 0 arguments (usage: python -m"),
    "two_arguments": (lambda tmp: [tmp, tmp], "give one folder, got 2 arguments"),
    "bad_manifest": (lambda tmp: [tmp / "bad"], "submission.json cannot be read: "),
    "deep_manifest": (lambda tmp: [tmp / "deep"], "nests 100 levels deep"),
}


@pytest.mark.parametrize("args, message", REPORT_MISUSE.values(), ids=REPORT_MISUSE.keys())
def test_report_command_misuse(tmp_path, args, message):
    make_folder(tmp_path / "x", ("grad_cam",))
    for name, text in (("bad", "{not json"), ("deep", "[" * 100 + "]" * 100)):
        make_folder(tmp_path / name, ("grad_cam",))
        (tmp_path / name / "submission.json").write_text(text)
    result = _run("helpers.report", *args(tmp_path))
    assert_one_clear_line(result, message)


def test_explain_never_overwrites_the_input_image(tmp_path):
    photo = tmp_path / "input.png"
    photo.write_bytes((PROJECT_ROOT / "data" / "espresso.png").read_bytes())
    before = snapshot(tmp_path)
    result = _run("helpers.explain", "input.png", "--class", "espresso", "--out", ".", cwd=tmp_path)
    assert_one_clear_line(result, "the image input.png is the folder's input.png")
    assert result.stdout == "" and snapshot(tmp_path) == before  # refused before TensorFlow

    map_photo = tmp_path / "out" / "grad_cam.png"  # a photo named like a map it writes
    map_photo.parent.mkdir()
    map_photo.write_bytes(photo.read_bytes())
    result = _run("helpers.explain", map_photo, "--class", "967", "--out", map_photo.parent)
    assert_one_clear_line(result, "is the folder's grad_cam.png, which this run writes")

    link_dir = tmp_path / "linked"  # the folder's input.png is a link to the photo
    link_dir.mkdir()
    (link_dir / "input.png").symlink_to(photo)
    result = _run("helpers.explain", photo, "--class", "967", "--out", link_dir)
    assert_one_clear_line(result, "is the folder's input.png")
    assert photo.read_bytes() == before["input.png"]


def test_explain_refuses_before_loading_tensorflow(tmp_path):
    out = tmp_path / "x"
    make_folder(out, ("grad_cam", "vanilla_gradients"))
    save_as_spreadsheet(out)
    espresso = PROJECT_ROOT / "data" / "espresso.png"
    cases = [
        (["--out", out / CSV_FILE], "comparison.csv is a file, not a folder"),
        (["--out", out, "--class", "968"], "holds answers from another run (class 967 there"),
    ]
    good = (out / CSV_FILE).read_bytes()
    _break(out, BROKEN_TABLES["unquoted_comma"][0])
    before = snapshot(out)
    result = _run("helpers.explain", espresso, "--class", "967", "--out", out)
    assert_one_clear_line(result, "has 11 cells for 10 columns")
    assert "it is never rewritten unread" in result.stderr and result.stdout == ""
    assert snapshot(out) == before
    (out / CSV_FILE).write_bytes(good)
    before = snapshot(out)
    for args, message in cases:
        if "--class" not in args:
            args = [*args, "--class", "967"]
        result = _run("helpers.explain", espresso, *args)
        assert_one_clear_line(result, message)
        assert result.stdout == ""
    assert snapshot(out) == before


CHECKER_MISUSE = {
    "no_folder": (lambda tmp: [tmp / "nowhere"], "does not exist", 2),
    "not_a_zip": (lambda tmp: [tmp / "notes.txt"], "is not a folder or a .zip file", 2),
    "no_argument": (lambda tmp: [], "give one submission folder or .zip", 2),
    "unknown_option": (lambda tmp: [tmp, "--fast"], "unrecognized arguments: --fast", 2),
    "all_without_csv": (lambda tmp: ["--all", tmp], "--all takes a folder and --csv FILE", 2),
}


@pytest.mark.parametrize("args, message, status", CHECKER_MISUSE.values(), ids=CHECKER_MISUSE)
def test_check_submission_misuse_is_one_line(tmp_path, args, message, status):
    (tmp_path / "notes.txt").write_text("not a submission")
    result = _run("helpers.check_submission", *args(tmp_path))
    assert_one_clear_line(result, message, status)


CHECKER_TABLES = {
    "unquoted_comma": "comparison.csv cannot be used: comparison.csv line 2 (row 'grad_cam') "
    "has 11 cells for 10 columns",
    "utf16": "comparison.csv cannot be used: comparison.csv holds NUL bytes",
    "two_rows_for_a_method": "comparison.csv has two rows for grad_cam",
}


@pytest.mark.parametrize("how, message", CHECKER_TABLES.items(), ids=CHECKER_TABLES)
def test_check_submission_reports_a_malformed_table_as_a_problem(tmp_path, how, message):
    out = tmp_path / "x"
    make_folder(out, ("grad_cam", "vanilla_gradients", "smoothgrad"))
    save_as_spreadsheet(out, newline="\n")
    _break(out, BROKEN_TABLES[how][0])
    result = _run("helpers.check_submission", out)
    assert result.returncode == 1 and result.stderr == "" and "Traceback" not in result.stdout
    assert message in result.stdout, result.stdout


def test_explain_and_report_end_to_end_keep_a_spreadsheet_edited_table(tmp_path, lite0):
    """The real commands: explain, answers typed in Excel (cp1252, ';', an added column),
    explain again with fewer methods, report, check: every answer survives."""
    out = tmp_path / "espresso"
    espresso = PROJECT_ROOT / "data" / "espresso.png"
    common = ["--class", "espresso", "--model", "efficientnet_lite0", "--fast", "--out", out]
    first = _run("helpers.explain", espresso, *common, "--methods", "grad_cam,gxi,vanilla",
                 timeout=600)  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    save_as_spreadsheet(out, encoding="cp1252", sep=";", decimal_comma=True, extra="notes",
                        vary=True)  # fmt: skip
    expected = answers_of(out)
    again = _run("helpers.explain", espresso, *common, "--methods", "grad_cam", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "kept the maps, rows and answers of gradient_x_input, vanilla_gradients" in again.stdout
    assert answers_of(out) == expected and len(expected) == 4  # 3 methods, the random row
    assert (out / CSV_FILE).read_bytes().decode("cp1252").startswith("method;settings;")
    manifest = json.loads((out / "submission.json").read_text())
    assert manifest["methods"] == ["grad_cam", "gradient_x_input", "vanilla_gradients"]
    assert _run("helpers.report", out).returncode == 0
    check = _run("helpers.check_submission", out)
    assert check.returncode == 0, check.stdout
    assert "OK: the submission is complete (3 methods" in check.stdout
