"""Every file the tools read has a size and time bound before it is parsed.

* JSON manifests: 120 kB of escaped quotes hung explain, the checker and --all (a
  backtracking regular expression: 40 s); the depth is now found in linear time.
* Class names: 5,000 pasted words were fuzzy-matched word by word; now refused at once.
* ``.npy`` headers are checked against the file's real size: a header claiming (-1, 1)
  on a sparse 1.2 GB file read 2.3 GB; peak memory is measured in a fresh process.
* FIFOs and devices are refused before they are opened: as the API's image path, as any
  file of a submission, as the class-names file, as the table.
* One hostile submission of each kind never stops ``--all``: a full gradebook, one row each.
* The per-submission time budget interrupts even a runaway regular expression.

Times asserted are generous (a loaded shared machine meets them); each test prints the
time it measured.
"""

import csv
import json
import os
import re
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers.assignment import gradebook
from helpers.assignment.cli import UsageError, resolve_class_argument
from helpers.assignment.folder import plan_folder
from helpers.assignment.rules import CSV_FILE, MANIFEST_FILE, MARKDOWN_FILE, ReportError
from helpers.assignment.safe_files import UnsafeFileError, json_depth, read_json, read_npy
from helpers.assignment.table import fill_answers
from helpers.assignment.time_budget import TimeBudgetExceeded, can_limit_time, time_limit
from helpers.check_submission import inspect_submission
from helpers.data import labels
from helpers.data.images import ImageLoadError, load_image
from helpers.paths import PROJECT_ROOT
from tests import test_checker_hostile as hostile
from tests.peak_memory import peak_mib
from tests.submission_factory import run_checker, zip_folder
from tests.test_bad_answers import spreadsheet_csv
from tests.test_student_work import make_folder

GIGA = 1_200_000_000  # the reported sparse file: 1.2 GB that takes 4 kB on disk
SLOW = 10.0  # seconds: generous for one bounded operation on a loaded machine

#: 120 kB of escaped quotes (the reported manifest) and other strings that made the old
#: depth scan backtrack; plus brackets, which must still be counted.
HOSTILE_JSON = {
    "escaped_quotes_unterminated": '{"note": "' + '\\"' * 60_000,
    "escaped_quotes_bare": '\\"' * 60_000,
    "escaped_quotes_valid": '{"note": "' + '\\"' * 60_000 + '"}',
    "quotes": '"' * 120_000,
    "backslash_quote_bracket": '["\\' * 40_000,
    "megabyte_of_escapes": '{"note": "' + '\\"' * 499_000,
}


template, copy = hostile.template, hostile.copy  # the same fixtures: a folder to damage


def timed(call, *args, **kwargs):
    start = time.perf_counter()
    try:
        return call(*args, **kwargs), time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        return exc, time.perf_counter() - start


def kinds_and_messages(folder):
    problems = inspect_submission(folder).problems
    assert not [p for p in problems if p.kind == "checker_error"], problems
    return [(p.kind, p.message) for p in problems]


# ------------------------------------------------------------------ JSON


@pytest.mark.parametrize("text", HOSTILE_JSON.values(), ids=HOSTILE_JSON)
def test_the_depth_scan_is_linear(text):
    _, seconds = timed(json_depth, text)
    _, double = timed(json_depth, text * 2)
    print(f"\n{len(text) / 1e3:.0f} kB in {seconds * 1e3:.0f} ms, twice as much in "
          f"{double * 1e3:.0f} ms")  # fmt: skip
    assert seconds < 2 and double < 4


def test_the_depth_scan_still_counts_brackets_and_skips_strings():
    assert json_depth('{"a": "[[[[", "b": ["\\"[[", {"c": []}]}') == 4
    assert json_depth("[" * 1000 + "]" * 1000) == 1000
    assert json_depth('"[[[') == 0  # an unterminated string hides what follows
    assert json_depth("]]][[") == 0  # closing first never nests (json.loads refuses it)


@pytest.mark.parametrize("name", HOSTILE_JSON, ids=HOSTILE_JSON)
def test_a_hostile_manifest_is_one_problem_in_bounded_time(copy, name):
    (copy / MANIFEST_FILE).write_text(HOSTILE_JSON[name])
    found, seconds = timed(kinds_and_messages, copy)
    print(f"\nchecked in {seconds:.2f} s")
    assert seconds < SLOW
    kinds = [k for k, _ in found]
    assert ("bad_manifest" in kinds) or ("bad_class" in kinds), found


@pytest.mark.parametrize("name", HOSTILE_JSON, ids=HOSTILE_JSON)
def test_explain_and_report_read_a_hostile_manifest_in_bounded_time(tmp_path, name):
    out = tmp_path / "x"
    make_folder(out, ("grad_cam",))
    (out / MANIFEST_FILE).write_text(HOSTILE_JSON[name])
    plan, seconds = timed(plan_folder, out, ("grad_cam",), 967)
    assert not isinstance(plan, Exception), plan  # an unreadable manifest is the tools': rewritten
    assert seconds < SLOW
    result = _run("helpers.report", out)
    assert result.returncode in (0, 2) and "Traceback" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1
        assert "submission.json cannot be read" in result.stderr


def _run(module, *args, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


# ------------------------------------------------------------------ class names

PASTED = " ".join(f"word{i % 97} the espresso cup on a saucer" for i in range(5000 // 7))


@pytest.mark.parametrize(
    "query",
    [PASTED, "1" * 5000, "tabby " * 1000, "x" * 101],
    ids=["5000_words", "5000_digits", "a_name_repeated", "101_letters"],
)
def test_a_pasted_paragraph_is_refused_at_once(query):
    for call in (labels.resolve_class, labels.find_class, labels.suggest_classes):
        error, seconds = timed(call, query)
        assert isinstance(error, labels.ClassIndexError), error
        assert seconds < 1
        assert f"at most 100 characters, got {len(query):,}" in str(error)
        assert len(str(error)) < 250  # the message does not echo the paragraph
    error, seconds = timed(resolve_class_argument, query)
    assert isinstance(error, UsageError) and "give an index (967)" in str(error)


def test_the_longest_allowed_query_is_still_fast():
    query = " ".join(f"zzq{i}" for i in range(30))[:100]  # 100 characters, 20 words, no match
    error, seconds = timed(resolve_class_argument, query)
    print(f"\n{seconds:.2f} s")
    assert isinstance(error, UsageError) and "no ImageNet class matches" in str(error)
    assert seconds < 5
    assert labels.resolve_class("  American_Staffordshire_terrier ") == 180  # 30 characters


def test_explain_with_a_pasted_class_is_one_line_before_tensorflow():
    result, seconds = timed(_run, "helpers.explain", "espresso", "--class", PASTED)
    print(f"\n{seconds:.1f} s (a fresh Python process)")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "a class name has at most 100 characters" in result.stderr


# ------------------------------------------------------------------ .npy headers


def npy_with_header(path: Path, shape, descr="|u1", size=None, data=b"") -> Path:
    with open(path, "wb") as f:
        header = {"descr": descr, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(f, header)
        f.write(data)
        if size is not None:
            f.truncate(size)  # sparse: no disk used
    return path


NPY_BOMBS = {
    "negative_side_on_sparse_1_2_gb": (dict(shape=(-1, 1), size=GIGA), "1 GB, more than"),
    "negative_side_4_kb": (dict(shape=(-1, 1), size=4096), "every side must be a whole"),
    "minus_one_everywhere": (dict(shape=(-1, -1), size=4096), "every side must be a whole"),
    "huge_shape_on_sparse_1_2_gb": (dict(shape=(300_000, 4_000), size=GIGA), "1 GB, more than"),
    "huge_shape_4_kb": (dict(shape=(300_000, 4_000), size=4096), "declares 1 GB of data"),
    "overflowing_shape": (dict(shape=(2**33, 2**33), descr="<f4"), "declares 295147905179 GB"),
    "boolean_sides": (dict(shape=(True, True), descr="<f4"), "every side must be a whole"),
    "data_longer_than_declared": (dict(shape=(8, 8), size=60_000_000), "the file holds"),
    "data_shorter_than_declared": (dict(shape=(64, 64), descr="<f4"), "truncated"),
}


@pytest.mark.parametrize("case", NPY_BOMBS.values(), ids=NPY_BOMBS)
def test_npy_headers_are_checked_against_the_file(tmp_path, case):
    kwargs, message = case
    path = npy_with_header(tmp_path / "grad_cam.npy", **kwargs)
    with pytest.raises(UnsafeFileError, match=re.escape(message)):
        read_npy(path)


@pytest.mark.parametrize(
    "name", ["negative_side_on_sparse_1_2_gb", "huge_shape_on_sparse_1_2_gb", "overflowing_shape"]
)
def test_npy_bombs_are_refused_in_bounded_memory(tmp_path, name):
    path = npy_with_header(tmp_path / "bomb.npy", **NPY_BOMBS[name][0])
    outcome, mib = peak_mib("helpers.assignment.safe_files", "read_npy", "UnsafeFileError", path)
    print(f"\n{name}: {outcome}, peak {mib:.1f} MiB above the start")
    assert outcome == "UnsafeFileError" and mib < 50


def test_the_reported_checker_case_stays_under_300_mb(copy):
    """The checker on a folder whose grad_cam.npy claims (-1, 1) on 1.2 GB (2.3 GB before)."""
    npy_with_header(copy / "grad_cam.npy", (-1, 1), size=GIGA)
    npy_with_header(copy / "smoothgrad.npy", (300_000, 4_000), size=GIGA)
    outcome, mib = peak_mib(
        "helpers.assignment.checker", "inspect_submission", "UnsafeFileError", copy
    )
    print(f"\nchecker: peak {mib:.1f} MiB above the start (imports included)")
    assert outcome == "loaded" and mib < 300
    found = kinds_and_messages(copy)
    assert ("corrupt_map", "grad_cam.npy is not a readable map (grad_cam.npy is 1 GB, more "
            "than the 64.0 MB allowed)") in found  # fmt: skip


# ------------------------------------------------------------------ FIFOs and devices


@pytest.fixture
def no_hang():
    """Turn a hang into a failure (a FIFO opened for reading blocks forever)."""
    if not can_limit_time():
        pytest.skip("needs SIGALRM on the main thread")
    with time_limit(SLOW):
        yield


def make_fifo(path: Path) -> Path:
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)
    return path


def test_load_image_refuses_a_fifo_before_opening_it(tmp_path, no_hang):
    error, seconds = timed(load_image, make_fifo(tmp_path / "photo.png"))
    assert isinstance(error, ImageLoadError) and "is a FIFO (named pipe)" in str(error)
    assert seconds < 1


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_load_image_refuses_a_device(device, no_hang):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(ImageLoadError, match="is a character device, not a regular file"):
        load_image(device)


def test_load_image_refuses_a_gigabyte_file_before_reading_it(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes((PROJECT_ROOT / "data" / "espresso.png").read_bytes())
    with open(path, "r+b") as f:
        f.truncate(GIGA)
    with pytest.raises(ImageLoadError, match="1 GB, more than the 256.0 MB allowed"):
        load_image(path)


def test_explain_with_a_fifo_image_is_one_line(tmp_path):
    result = _run("helpers.explain", make_fifo(tmp_path / "photo.png"), "--class", "967",
                  timeout=60)  # fmt: skip
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


SUBMISSION_FILES = [
    MANIFEST_FILE, CSV_FILE, MARKDOWN_FILE, "input.png", "comparison_grid.png",
    "grad_cam.png", "grad_cam.npy", "smoothgrad_attributions.npy",
]  # fmt: skip


@pytest.mark.parametrize("name", SUBMISSION_FILES)
def test_a_fifo_anywhere_in_a_submission_is_named_not_opened(copy, name, no_hang):
    make_fifo(copy / name)
    found, seconds = timed(kinds_and_messages, copy)
    assert seconds < SLOW
    assert any(f"{name} is a FIFO (named pipe), not a regular file" in m for _, m in found), found


@pytest.mark.parametrize("name", [MANIFEST_FILE, CSV_FILE, "grad_cam.npy"])
def test_a_device_in_a_submission_is_named_not_opened(copy, name, no_hang):
    (copy / name).unlink()
    try:
        os.mknod(copy / name, stat.S_IFCHR | 0o644, os.makedev(1, 5))  # like /dev/zero
    except PermissionError:
        pytest.skip("creating a device needs root")
    found = kinds_and_messages(copy)
    assert any(f"{name} is a character device" in m for _, m in found), found


def test_a_link_to_a_device_is_a_link_out_of_the_folder(copy, no_hang):
    (copy / MANIFEST_FILE).unlink()
    os.symlink("/dev/zero", copy / MANIFEST_FILE)
    assert any("a link to a file outside the folder" in m for _, m in kinds_and_messages(copy))


@pytest.mark.parametrize("name", [CSV_FILE, MANIFEST_FILE])
def test_explain_and_fill_answers_refuse_a_fifo_table_or_manifest(tmp_path, name, no_hang):
    out = tmp_path / "x"
    make_folder(out, ("grad_cam",))
    make_fifo(out / name)
    if name == CSV_FILE:
        with pytest.raises(ReportError, match="comparison.csv is a FIFO .*never rewritten"):
            plan_folder(out, ("grad_cam",), 967)
        with pytest.raises(ReportError, match="comparison.csv is a FIFO"):
            fill_answers(out)
    else:
        assert plan_folder(out, ("grad_cam",), 967).old_manifest == {}
        with pytest.raises(ReportError, match="submission.json cannot be read: .*FIFO"):
            fill_answers(out)
    assert stat.S_ISFIFO(os.lstat(out / name).st_mode)  # left as it was


@pytest.mark.parametrize("which", ["CLASS_NAMES_FILE", "SYNONYMS_FILE"])
def test_a_fifo_as_the_class_names_file(tmp_path, monkeypatch, which, no_hang):
    monkeypatch.setattr(labels, which, make_fifo(tmp_path / "names.json"))
    for cached in (labels.class_names, labels.class_synonyms, labels._normalized_synonyms):
        cached.cache_clear()
    try:
        if which == "CLASS_NAMES_FILE":
            with pytest.raises(ValueError, match="is a FIFO"):
                labels.class_names()
        else:  # the synonyms are optional: each class keeps its own name
            assert labels.class_synonyms()[281] == ("tabby",)
    finally:
        monkeypatch.undo()
        for cached in (labels.class_names, labels.class_synonyms, labels._normalized_synonyms):
            cached.cache_clear()


def test_a_huge_class_names_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "names.json"
    with open(path, "wb") as f:
        f.truncate(GIGA)
    monkeypatch.setattr(labels, "CLASS_NAMES_FILE", path)
    labels.class_names.cache_clear()
    try:
        with pytest.raises(ValueError, match="1 GB, more than the 2.0 MB allowed"):
            labels.class_names()
    finally:
        monkeypatch.undo()
        labels.class_names.cache_clear()


def test_a_fifo_gradebook_is_one_line(tmp_path, no_hang):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    book = make_fifo(tmp_path / "gradebook.csv")
    result = run_checker("--all", tmp_path / "subs", "--csv", book)
    assert result.returncode == 2 and "is a FIFO" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ --all over a hostile class


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def _resave_csv(folder: Path, **style) -> None:
    from helpers.assignment.table_file import read_table_file

    table = read_table_file(folder / CSV_FILE)
    for row in table.rows:
        row[table.column("noise_level")] = "low\rsome speckle, à peine"
    (folder / CSV_FILE).write_bytes(spreadsheet_csv(table.header, table.rows, **style))
    fill_answers(folder, progress=None)  # the student ran the report afterwards


def _spaces_in_methods(folder: Path) -> None:
    text = (folder / CSV_FILE).read_text(encoding="utf-8")
    (folder / CSV_FILE).write_text(text.replace("\ngrad_cam,", "\n grad_cam ,"))
    fill_answers(folder, progress=None)


HOSTILE_CLASS = {
    # entry name: (how to damage a copy of the template, the problem kind expected)
    "complete": (lambda f: None, None),
    "manifest_escaped_quotes": (
        lambda f: _write(f, MANIFEST_FILE, HOSTILE_JSON["escaped_quotes_unterminated"]),
        "bad_manifest",
    ),
    "manifest_megabyte_of_escapes": (
        lambda f: _write(f, MANIFEST_FILE, HOSTILE_JSON["megabyte_of_escapes"]),
        "bad_manifest",
    ),
    "manifest_deep": (lambda f: _write(f, MANIFEST_FILE, "[" * 100_000), "bad_manifest"),
    "npy_minus_one_sparse": (
        lambda f: npy_with_header(f / "grad_cam.npy", (-1, 1), size=GIGA),
        "corrupt_map",
    ),
    "npy_huge_sparse": (
        lambda f: npy_with_header(f / "occlusion.npy", (300_000, 4_000), size=GIGA),
        "corrupt_map",
    ),
    "png_sparse": (lambda f: os.truncate(f / "input.png", GIGA), "corrupt_map"),
    "fifo_manifest": (lambda f: make_fifo(f / MANIFEST_FILE), "bad_manifest"),
    "fifo_table": (lambda f: make_fifo(f / CSV_FILE), "bad_table"),
    "fifo_markdown": (lambda f: make_fifo(f / MARKDOWN_FILE), "bad_table"),
    "fifo_map": (lambda f: make_fifo(f / "grad_cam.png"), "corrupt_map"),
    "link_to_dev_zero": (
        lambda f: ((f / "grad_cam.npy").unlink(), os.symlink("/dev/zero", f / "grad_cam.npy")),
        "corrupt_map",
    ),
    "table_other_alphabet": (
        lambda f: (f / CSV_FILE).write_bytes(
            (f / CSV_FILE).read_text(encoding="utf-8").replace("my answer", "мой ответ")
            .encode("cp1251")
        ),
        "bad_table",
    ),
    "table_mac_cr_line_breaks": (
        lambda f: _resave_csv(f, newline="\r", encoding="mac_roman", sep=";"),
        None,
    ),
    "table_method_with_spaces": (_spaces_in_methods, None),
}


@pytest.fixture(scope="module")
def hostile_class(template, tmp_path_factory):
    import shutil

    root = tmp_path_factory.mktemp("hostile_class")
    subs = root / "submissions"
    subs.mkdir()
    expected = {}
    with time_limit(120):
        for name, (damage, kind) in HOSTILE_CLASS.items():
            folder = Path(shutil.copytree(template, subs / name))
            damage(folder)
            expected[name] = kind
        staging = root / "staging" / "zip_escaped_quotes"
        shutil.copytree(template, staging)
        _write(staging, MANIFEST_FILE, HOSTILE_JSON["escaped_quotes_unterminated"])
        zip_folder(staging, subs / "zip_escaped_quotes.zip")
        expected["zip_escaped_quotes"] = "bad_manifest"
        bomb = zipfile.ZipFile(subs / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED)
        with bomb, bomb.open("zeros", "w") as f:
            for _ in range(205):
                f.write(bytes(1_000_000))
        expected["zip_bomb"] = "bad_zip"
        shutil.copytree(template, subs / os.fsdecode(b"name_not_utf8_\xff"))
        expected["name_not_utf8_\ufffd"] = None
        make_fifo(subs / "fifo_entry")
        make_fifo(subs / "fifo_entry.zip")
        expected["fifo_entry"] = expected["fifo_entry.zip"] = "not_a_submission"
        os.symlink("loop", subs / "loop")
        expected["loop"] = "not_a_submission"
    book = root / "gradebook.csv"
    result, seconds = timed(run_checker, "--all", subs, "--csv", book)
    with book.open(newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return dict(subs=subs, expected=expected, result=result, seconds=seconds, rows=rows)


def test_a_class_with_one_hostile_submission_of_each_kind_gets_a_full_gradebook(hostile_class):
    result, rows = hostile_class["result"], hostile_class["rows"]
    expected = hostile_class["expected"]
    print(f"\n--all over {len(expected)} entries: {hostile_class['seconds']:.1f} s")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(rows) == sorted(expected)
    for student, kind in expected.items():
        row = rows[student]
        if kind is None:
            assert row["complete"] == "yes", (student, row["problems"])
        else:
            assert row["complete"] == "no", student
            assert kind in row["problem_kinds"].split(), (student, kind, row["problems"])
        assert "checker_error" not in row["problem_kinds"], (student, row["problems"])
    assert hostile_class["seconds"] < 120


def test_each_hostile_row_names_its_problem(hostile_class):
    rows = hostile_class["rows"]
    assert "submission.json is not valid JSON" in rows["manifest_escaped_quotes"]["problems"]
    assert "nests 100000 levels deep" in rows["manifest_deep"]["problems"]
    assert "grad_cam.npy is 1 GB, more than" in rows["npy_minus_one_sparse"]["problems"]
    assert "submission.json is a FIFO (named pipe)" in rows["fifo_manifest"]["problems"]
    assert "comparison.md is a FIFO" in rows["fifo_markdown"]["problems"]
    assert "garbled" in rows["table_other_alphabet"]["problems"]
    assert "a zip bomb?" in rows["zip_bomb"]["problems"]


def test_a_hostile_class_is_graded_in_bounded_memory(hostile_class):
    outcome, mib = peak_mib(
        "helpers.assignment.gradebook", "grade_all", "GradebookError", hostile_class["subs"]
    )
    print(f"\ngrade_all over the hostile class: peak {mib:.1f} MiB above the start")
    assert outcome == "loaded" and mib < 300


# ------------------------------------------------------------------ memory, each case


def _memory_targets(tmp: Path) -> dict[str, tuple[str, str, str, str]]:
    """{case: (module, call, error, target)} for peak_mib: each hostile input once."""
    png = tmp / "huge.png"
    png.write_bytes((PROJECT_ROOT / "data" / "espresso.png").read_bytes())
    os.truncate(png, GIGA)
    manifest = tmp / "submission.json"
    manifest.write_text(HOSTILE_JSON["megabyte_of_escapes"])
    return {
        "load_image_sparse_1_2_gb": ("helpers.data.images", "load_image", "ImageLoadError", png),
        "load_image_fifo": (
            "helpers.data.images", "load_image", "ImageLoadError", make_fifo(tmp / "fifo.png")
        ),
        "manifest_megabyte_of_escapes": (
            "helpers.assignment.safe_files", "read_json", "UnsafeFileError", manifest
        ),
        "class_name_5000_words": (
            "helpers.data.labels", "resolve_class", "ClassIndexError", PASTED[:30_000]
        ),
        "npy_minus_one_sparse": (
            "helpers.assignment.safe_files", "read_npy", "UnsafeFileError",
            npy_with_header(tmp / "bomb.npy", (-1, 1), size=GIGA),
        ),
    }  # fmt: skip


MEMORY_CASES = [
    "load_image_sparse_1_2_gb", "load_image_fifo", "manifest_megabyte_of_escapes",
    "class_name_5000_words", "npy_minus_one_sparse",
]  # fmt: skip


@pytest.mark.parametrize("case", MEMORY_CASES)
def test_each_case_is_refused_fast_in_bounded_memory(tmp_path, case):
    module, call, error, target = _memory_targets(tmp_path)[case]
    (outcome, mib), seconds = timed(peak_mib, module, call, error, str(target))
    print(f"\n{case}: {outcome}, {mib:.1f} MiB above the start, {seconds:.1f} s in a fresh "
          "process (Python and the imports included)")  # fmt: skip
    assert outcome == error and mib < 300
    assert seconds < 60


# ------------------------------------------------------------------ the time budget

#: The depth scan as it was: catastrophic backtracking on an unterminated string.
OLD_DEPTH_SCAN = re.compile(r'"(?:[^"\\]|\\.)*"')


def runaway(*args):
    OLD_DEPTH_SCAN.sub('""', HOSTILE_JSON["escaped_quotes_unterminated"])  # 40 s
    return None


def test_the_budget_interrupts_a_runaway_regular_expression(no_hang):
    start = time.perf_counter()
    with pytest.raises(TimeBudgetExceeded, match="took more than 0.5 s"), time_limit(0.5):
        timed(runaway)  # timed() catches every Exception: the budget is not one
    print(f"\ninterrupted after {time.perf_counter() - start:.2f} s")
    assert time.perf_counter() - start < 5


def test_a_submission_over_its_budget_gets_a_row_and_the_class_goes_on(tmp_path, monkeypatch):
    if not can_limit_time():
        pytest.skip("needs SIGALRM on the main thread")
    for name in ("alice", "bob", "carol"):
        (tmp_path / name).mkdir()
    real = gradebook.inspect_submission
    monkeypatch.setattr(
        gradebook, "inspect_submission", lambda p: runaway() if p.name == "bob" else real(p)
    )
    start = time.perf_counter()
    entries = gradebook.grade_all(tmp_path, seconds=0.5)
    assert time.perf_counter() - start < 10
    assert [e.student for e in entries] == ["alice", "bob", "carol"]
    bob = entries[1].row()
    assert bob["problem_kinds"] == "checker_timeout"
    assert "took more than 0.5 s" in bob["problems"] and "look at it by hand" in bob["problems"]
    assert entries[2].result.problems and entries[2].row()["problem_kinds"] != "checker_timeout"


def test_any_failure_of_the_checker_is_a_row(tmp_path, monkeypatch):
    (tmp_path / "alice").mkdir()

    def broken(path):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(gradebook, "inspect_submission", broken)
    (entry,) = gradebook.grade_all(tmp_path)
    assert entry.row()["problem_kinds"] == "checker_error"
    assert "Input/output error" in entry.row()["problems"]


def test_the_budget_restores_the_previous_alarm_handler(no_hang):
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with time_limit(5):
        pass
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # no_hang's own timer still runs


def test_outside_the_main_thread_there_is_no_limit_and_no_error():
    import threading

    seen = []

    def work():
        seen.append(can_limit_time())
        with time_limit(0.01):
            time.sleep(0.05)
        seen.append("done")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [False, "done"]


def test_read_json_refuses_a_fifo(tmp_path, no_hang):
    with pytest.raises(UnsafeFileError, match="FIFO"):
        read_json(make_fifo(tmp_path / "submission.json"))


def test_json_bounds_still_hold():
    assert json.loads(HOSTILE_JSON["escaped_quotes_valid"])["note"] == '"' * 60_000
