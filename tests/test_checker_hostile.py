"""The checker trusts nothing in the folder: hostile and oddly saved submissions.

Each case asserts the exact outcome: the problem kind and what its message says, or that
the submission passes. No case may raise; the command-line cases must print no traceback.
"""

import csv
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.assignment import checker
from helpers.assignment.rules import CSV_FILE, MANIFEST_FILE
from helpers.assignment.safe_files import json_depth
from helpers.assignment.safe_zip import extract_zip
from helpers.check_submission import inspect_submission
from tests.submission_factory import (
    DAMAGES,
    SIZE,
    _rows,
    _write_rows,
    build,
    run_checker,
    zip_folder,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build(tmp_path_factory.mktemp("hostile") / "espresso")


@pytest.fixture
def copy(template, tmp_path):
    return Path(shutil.copytree(template, tmp_path / "sub" / "espresso"))


def only(folder, kind, text=""):
    """Assert that ``kind`` is among the problems, with ``text`` in its message."""
    problems = inspect_submission(folder).problems
    hits = [p for p in problems if p.kind == kind and text in p.message]
    assert hits, f"no {kind} problem saying {text!r}: {problems}"
    assert not [p for p in problems if p.kind == "checker_error"], problems
    return problems


def kinds(folder):
    return [p.kind for p in inspect_submission(folder).problems]


# ------------------------------------------------------------------ the generator's damages


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_generated_damage_is_reported(template, tmp_path, damage):
    apply, expected = DAMAGES[damage]
    folder = Path(shutil.copytree(template, tmp_path / "sub" / damage))
    apply(folder)
    found = kinds(folder)
    if expected is None:
        assert found == []
    else:
        assert expected in found and "checker_error" not in found, found


# ------------------------------------------------------------------ paths


@pytest.mark.parametrize("name", ["../../secret", "/etc/passwd", "..", "grad_cam/../../x"])
def test_method_names_from_the_table_are_never_paths(copy, name):
    outside = copy.parent / "secret.npy"
    np.save(outside, np.zeros((SIZE, SIZE), np.float32))
    rows = _rows(copy)
    rows[1]["method"] = name
    _write_rows(copy, rows)
    problems = only(copy, "unknown_method", "the methods are grad_cam")
    assert name not in inspect_submission(copy).methods
    assert not [p for p in problems if p.kind == "missing_map"]  # no file was looked up


def test_a_misspelt_method_gets_its_spelling(copy):
    rows = _rows(copy)
    rows[0]["method"] = "Grad-CAM"
    _write_rows(copy, rows)
    only(copy, "unknown_method", "(write it as grad_cam)")


def test_method_names_from_the_manifest_are_never_paths(copy):
    (copy / CSV_FILE).unlink()
    data = json.loads((copy / MANIFEST_FILE).read_text())
    data["methods"] = ["grad_cam", "../../../etc/passwd", {"x": 1}]
    (copy / MANIFEST_FILE).write_text(json.dumps(data))
    only(copy, "unknown_method", "'../../../etc/passwd'")


def test_a_symlink_inside_the_folder_is_followed(copy):
    (copy / "maps").mkdir()
    (copy / "grad_cam.npy").rename(copy / "maps" / "grad_cam.npy")
    os.symlink("maps/grad_cam.npy", copy / "grad_cam.npy")
    assert kinds(copy) == []


def test_a_manifest_linked_to_a_file_outside_is_not_read(copy):
    (copy / MANIFEST_FILE).unlink()
    os.symlink("/etc/passwd", copy / MANIFEST_FILE)
    only(copy, "bad_manifest", "a link to a file outside the folder")


def test_a_dangling_symlink(copy):
    (copy / "grad_cam.png").unlink()
    os.symlink(copy / "nowhere.png", copy / "grad_cam.png")
    only(copy, "corrupt_map", "grad_cam.png cannot be opened")


def test_a_folder_where_the_table_should_be(copy):
    (copy / CSV_FILE).unlink()
    (copy / CSV_FILE).mkdir()
    only(copy, "bad_table", "comparison.csv is a folder")


def test_a_fifo_is_not_opened(copy):
    (copy / "grad_cam.png").unlink()
    os.mkfifo(copy / "grad_cam.png")  # opening it for reading would block forever
    only(copy, "corrupt_map", "grad_cam.png is a FIFO (named pipe), not a regular file")


# ------------------------------------------------------------------ .npy files


def header_only(path, descr="<f4", shape=(SIZE, SIZE), version=(1, 0)):
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    with open(path, "wb") as f:
        write = getattr(np.lib.format, f"write_array_header_{version[0]}_0")
        write(f, header)


def test_a_320_gb_header_is_a_problem_not_a_memory_error(copy):
    header_only(copy / "grad_cam.npy", shape=(283_000, 283_000))
    only(copy, "corrupt_map", "header declares 320 GB of data, more than the 64.0 MB")


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda p: np.save(p, np.array([{"a": 1}] * 4, dtype=object)), "Python objects"),
        (lambda p: np.save(p, np.zeros((SIZE, SIZE), "f4,f4")), "records"),
        (lambda p: np.save(p, np.full((SIZE, SIZE), "abc")), "not a number type"),
        (lambda p: np.save(p, np.zeros((SIZE, SIZE), complex)), "not a number type"),
        (lambda p: header_only(p), "truncated: the header declares 4096 bytes"),
        (lambda p: header_only(p, shape=(1, 5000)), "a side over 4096"),
        (lambda p: p.write_bytes(b"\x93NUMPY\x03\x00" + b"\x00" * 80), "not supported"),
        (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00\xff\xff" + b" " * 70000), "not a .npy"),
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 100), "not a .npy"),
        (lambda p: np.save(p, np.zeros(SIZE, np.float32)), "expected a 2-D array"),
    ],
)
def test_hostile_npy_files(copy, make, text):
    make(copy / "grad_cam.npy")
    only(copy, "corrupt_map", text)


def test_a_fortran_ordered_and_version_2_npy_is_fine(copy):
    values = np.load(copy / "grad_cam.npy")
    np.save(copy / "grad_cam.npy", np.asfortranarray(values))
    values = np.load(copy / "occlusion.npy")
    with open(copy / "occlusion.npy", "wb") as f:
        np.lib.format.write_array(f, values, version=(2, 0))
    assert kinds(copy) == []


# ------------------------------------------------------------------ JSON


@pytest.mark.parametrize(
    "text, kind, expected",
    [
        ("[" * 100_000 + "]" * 100_000, "bad_manifest", "nests 100000 levels deep"),
        ('{"a": ' * 50 + "1" + "}" * 50, "bad_manifest", "nests 50 levels"),
        ('{"pad": "' + "x" * 1_100_000 + '"}', "bad_manifest", "more than the 1.0 MB"),
        ("[1, 2, 3]", "bad_manifest", "holds a list, not an object"),
        ('{"class_index": ' + "1" * 5000 + "}", "bad_manifest", "not valid JSON"),
        ('{"class_index": 967.0}', "bad_class", "got 967.0"),
        ('{"class_index": true}', "bad_class", "got True"),
        ('{"class_index": 10000000000000}', "bad_class", "got 10000000000000"),
        ('{"class_index": NaN}', "bad_class", "got nan"),
    ],
)
def test_hostile_manifests(copy, text, kind, expected):
    (copy / MANIFEST_FILE).write_text(text)
    only(copy, kind, expected)


def test_a_manifest_that_is_not_utf8(copy):
    (copy / MANIFEST_FILE).write_bytes(b'{"class_index": 967, "x": "\xff\xfe"}')
    only(copy, "bad_manifest", "not UTF-8 text")


def test_brackets_inside_strings_do_not_count_as_depth():
    assert json_depth('{"a": "[[[[[[[[", "b": ["\\"[["]}') == 2


# ------------------------------------------------------------------ the table as saved


def test_a_bom_is_no_missing_column(copy):
    data = (copy / CSV_FILE).read_bytes()
    (copy / CSV_FILE).write_bytes(b"\xef\xbb\xbf" + data)
    assert kinds(copy) == []


def test_excel_semicolons_cp1252_and_decimal_commas(copy):
    rows = _rows(copy)
    rows[0]["what_it_highlights"] = "the café's cup – mostly"
    rows[0]["runtime_s"] = rows[0]["runtime_s"].replace(".", ",")
    _write_rows(copy, rows, delimiter=";", encoding="cp1252")
    result = inspect_submission(copy)
    # Only the markdown differs (the csv's answer was edited); the table itself is read.
    assert [p.kind for p in result.problems] == ["stale_markdown"]
    assert any("cp1252, ';'-separated" in note for note in result.notes)


def test_excel_quotes_every_field(copy):
    rows = _rows(copy)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), delimiter=";", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    (copy / CSV_FILE).write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode())
    assert kinds(copy) == []


def test_tab_separated_with_padded_headers(copy):
    rows = [{f" {k} ": v for k, v in row.items()} for row in _rows(copy)]
    _write_rows(copy, rows, delimiter="\t")
    assert kinds(copy) == []


@pytest.mark.parametrize(
    "data, expected",
    [
        ("method,settings\r\ngrad_cam,x\r\n".encode("utf-16"), "NUL bytes"),
        (b"method," + b"x" * 2_100_000, "more than the 2.0 MB"),
        (b'method,settings\n"' + b"x" * 200_000 + b'",1\n', "cannot be read as CSV"),
        (b"method\n" + b"grad_cam\n" * 500, "more than 200 rows"),
        (b"methode;reglages\ngrad_cam;x\n", "its header has: 'methode;reglages'"),
        (b"\x81\x8d\x8f\x90\x9d", "read as cp1252 or Mac Roman it is garbled"),
    ],
)
def test_unreadable_tables(copy, data, expected):
    (copy / CSV_FILE).write_bytes(data)
    only(copy, "bad_table", expected)


# ------------------------------------------------------------------ images


@pytest.mark.parametrize(
    "side, text",
    [(5000, "5000x5000 pixels, more than allowed"), (20_000, "DecompressionBombError")],
)
def test_a_decompression_bomb_png_is_not_decoded(copy, side, text):
    Image.new("1", (side, side)).save(copy / "grad_cam.png")  # up to 400 Mpixels in 50 kB
    only(copy, "corrupt_map", text)


def test_a_huge_png_file_is_not_read(copy):
    with open(copy / "input.png", "wb") as f:
        f.truncate(25_000_000)  # sparse: no disk used
    only(copy, "corrupt_map", "input.png is not a readable PNG (it is 25 MB")


# ------------------------------------------------------------------ zips


def zip_with(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return path


def test_a_folder_inside_the_student_folder_is_found(copy, tmp_path):
    outer = tmp_path / "carol"
    shutil.copytree(copy, outer / "my work" / "espresso")
    (outer / "notes.txt").write_text("see inside")
    result = inspect_submission(outer)
    assert result.complete and "checked the folder inside it: my work/espresso" in result.notes


def test_a_zipped_folder_passes_and_names_the_zip(copy, tmp_path):
    path = zip_folder(copy, tmp_path / "alice.zip")
    result = inspect_submission(path)
    assert result.complete and result.class_index == 967


def test_zip_slip_and_absolute_members_are_not_unpacked(copy, tmp_path):
    path = zip_folder(copy, tmp_path / "bob.zip", wrap=False)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("../../escaped.txt", "x")
        z.writestr("/tmp/absolute.txt", "x")
        z.writestr("C:/windows.txt", "x")
    problems = inspect_submission(path).problems
    assert [p.kind for p in problems] == ["unsafe_file"] * 3
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_a_symlink_member_is_not_created(tmp_path):
    info = zipfile.ZipInfo("link")
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "l.zip", "w") as z:
        z.writestr(info, "/etc/passwd")
    out = tmp_path / "out"
    out.mkdir()
    result = extract_zip(tmp_path / "l.zip", out)
    assert result.refused == ["'link': a symbolic link"] and not list(out.iterdir())


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("zeros", "w") as f:
        for _ in range(205):
            f.write(bytes(1_000_000))
    assert path.stat().st_size < 1_000_000
    result = inspect_submission(path)
    assert [p.kind for p in result.problems] == ["bad_zip"]
    assert "unpacks to 205 MB, more than the 200 MB allowed" in result.problems[0].message


def test_a_zip_that_understates_its_sizes(tmp_path, monkeypatch):
    zip_with(tmp_path / "z.zip", [("a", bytes(5000)), ("b", bytes(5000))])
    real = zipfile.ZipFile.infolist

    def lying(self):  # the directory claims 1 byte per member; 5 kB each come out
        infos = real(self)
        for info in infos:
            info.file_size = 1
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    out = tmp_path / "out"
    out.mkdir()
    result = extract_zip(tmp_path / "z.zip", out, max_total_bytes=6000)
    assert [r.split(":")[0] for r in result.refused] == ["'a'", "'b'"]
    assert "cannot be unpacked" in result.refused[0] and not list(out.iterdir())


def test_too_many_members(tmp_path):
    path = zip_with(tmp_path / "many.zip", [(f"f{i}.txt", "") for i in range(600)])
    only(path, "bad_zip", "600 members, more than 500")


@pytest.mark.parametrize(
    "data, text",
    [
        (b"", "not a readable zip file"),
        (b"not a zip at all", "not a readable zip file"),
        (b"PK\x05\x06" + b"\x00" * 18, "the zip holds no files"),  # a valid, empty zip
    ],
)
def test_garbage_zips(tmp_path, data, text):
    (tmp_path / "x.zip").write_bytes(data)
    only(tmp_path / "x.zip", "bad_zip", text)


def test_an_encrypted_member(copy, tmp_path):
    path = zip_folder(copy, tmp_path / "enc.zip")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("espresso/secret.txt", "x")
    data = bytearray(path.read_bytes())  # zipfile cannot encrypt: set the flag by hand
    local = data.rfind(b"PK\x03\x04")
    central = data.rfind(b"PK\x01\x02")
    data[local + 6] |= 1
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    problems = only(path, "unsafe_file", "'espresso/secret.txt': encrypted")
    assert len(problems) == 1  # the rest of the submission is checked and complete


def test_a_stray_file_beside_the_zipped_folder(copy, tmp_path):
    path = zip_folder(copy, tmp_path / "stray.zip")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("readme.txt", "my notes")
        z.writestr("__MACOSX/espresso/._grad_cam.png", "resource fork")
    assert inspect_submission(path).complete


# ------------------------------------------------------------------ never a traceback


def test_an_unexpected_failure_is_a_problem(copy, monkeypatch):
    def boom(*args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(checker, "check_maps", boom)
    problems = inspect_submission(copy).problems
    assert [p.kind for p in problems] == ["checker_error"]
    assert "RecursionError: 'maximum recursion depth exceeded'" in problems[0].message


run = run_checker


@pytest.mark.parametrize(
    "args, text",
    [
        ([], "give one submission folder"),
        (["a", "b"], "unrecognized arguments"),
        (["--all"], "expected one argument"),
        (["--all", "."], "--all takes a folder and --csv FILE"),
        (["--csv", "x.csv", "."], "give one submission folder"),
        (["/nonexistent/folder"], "/nonexistent/folder does not exist"),
        (["pyproject.toml"], "is not a folder or a .zip file"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, text):
    result = run(*args)
    assert result.returncode == 2, result
    assert text in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_hostile_folder_on_the_command_line(copy):
    header_only(copy / "grad_cam.npy", shape=(283_000, 283_000))
    (copy / MANIFEST_FILE).write_text("[" * 100_000)
    result = run(copy)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "NOT COMPLETE" in result.stdout and "declares 320 GB" in result.stdout
