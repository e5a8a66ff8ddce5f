"""Check an assignment folder before you upload it: ``python -m helpers.check_submission DIR``.

A complete submission (as written by the assignment notebook or ``python -m helpers.explain``)
has

* ``submission.json`` naming an ImageNet class that is not a domestic cat;
* maps for at least three methods, Grad-CAM among them: ``<method>.png`` and
  ``<method>.npy`` for each, both readable;
* the comparison table, ``comparison.csv`` and ``comparison.md``, with a row per method,
  its computed columns, and every qualitative cell answered (the two files agreeing);
* ``comparison_grid.png``.

Every problem is listed (not only the first). Exit status: 0 when the submission is
complete, 1 when something is missing, 2 for a usage error (DIR is not a folder or .zip).
Needs no TensorFlow. ``--all SUBMISSIONS_DIR --csv gradebook.csv`` checks one folder or
zip per student and writes a gradebook (:mod:`helpers.gradebook`).

**Nothing in the folder is trusted** (:mod:`helpers.safe_files`): only the known file names
are opened (a method named in the table or manifest that is not one of the assignment's
methods is a problem, never a path), and each is resolved inside the folder (a symlink out
of it is refused); sizes, ``.npy`` headers, image dimensions and JSON depth are bounded
before anything is read; a ``.npy`` holding Python objects is refused. The table is read as
spreadsheet programs save it (UTF-8 with or without BOM, cp1252, ``;``-separated). Every
problem is reported as a problem line, never as a traceback.

**Which cats are refused.** The assignment says "any image (no cats please)": the workshop
explained a tabby cat, and the point is to explain something else. ImageNet's *domestic*
cats, classes 281-285 (tabby, tiger cat, Persian, Siamese, Egyptian cat), are refused, and
so is the workshop's own cat photo whatever class is claimed for it. The big cats, 286-293
(cougar, lynx, leopard, snow leopard, jaguar, lion, tiger, cheetah), are different classes
seen in different photos, and are accepted.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .images import SAMPLE_IMAGES
from .labels import NUM_CLASSES, class_names
from .report import (
    COMPUTED_COLUMNS,
    CSV_FILE,
    GRID_FILE,
    INPUT_FILE,
    MANIFEST_FILE,
    MARKDOWN_FILE,
    METHOD_ALIASES,
    METHODS,
    QUALITATIVE_COLUMNS,
    TABLE_COLUMNS,
    parse_markdown_table,
)
from .safe_files import (
    UnsafeFileError,
    inside,
    read_json,
    read_npy,
    read_text,
    read_text_table,
)
from .safe_zip import ZipRefusedError, extract_zip

#: ImageNet's domestic cats: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat.
DOMESTIC_CATS = range(281, 286)
#: ImageNet's big cats (accepted): cougar, lynx, leopard, snow leopard, jaguar, lion, tiger,
#: cheetah.
BIG_CATS = range(286, 294)
MIN_METHODS = 3
MAX_PNG_BYTES = 20_000_000
MAX_PNG_PIXELS = 4096 * 4096
MAX_ENTRIES = 2000  # files looked at in one folder
REQUIRED_METHOD = "grad_cam"
#: Answers that are only placeholders count as empty.
PLACEHOLDERS = frozenset(
    {"", "?", "??", "...", "…", "-", "--", "todo", "tbd", "xxx", "fill in", "your answer"}
)
CAT_RULE = (
    "the assignment asks for any class except cats: ImageNet's domestic cats 281-285 "
    "(tabby, tiger cat, Persian, Siamese, Egyptian cat) are refused; big cats 286-293 "
    "(cougar ... cheetah) are accepted"
)


@dataclass(frozen=True)
class Problem:
    """One thing that keeps a submission from being complete."""

    kind: str  # e.g. "empty_answers", "cat_class", "missing_grad_cam", "corrupt_map"
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class CheckResult:
    """What the checker found: problems (empty = complete), notes, and a summary."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    class_index: int | None = None
    class_name: str | None = None
    methods: list[str] = field(default_factory=list)  # methods whose maps are readable
    answers_filled: int = 0  # qualitative cells answered, over the table's known methods
    answers_total: int = 0

    @property
    def complete(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: str) -> None:
        self.problems.append(Problem(kind, message))

    def report(self) -> str:
        """The text the command line prints."""
        lines = [f"Checking {self.folder}/"]
        if self.class_index is not None:
            lines.append(f"  class: {self.class_index} {self.class_name}")
        if self.methods:
            lines.append(f"  methods with readable maps: {', '.join(self.methods)}")
        lines += [f"  note: {note}" for note in self.notes]
        if self.complete:
            lines.append(
                f"OK: the submission is complete ({len(self.methods)} methods, the table "
                f"answered, class {self.class_index} {self.class_name} is not a cat). "
                "Upload the whole folder together with your notebook or script."
            )
        else:
            lines.append(f"NOT COMPLETE: {len(self.problems)} problem(s):")
            lines += [f"  - {p.message}" for p in self.problems]
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _cat_photo_sha256() -> str:
    return hashlib.sha256(SAMPLE_IMAGES["cat"].read_bytes()).hexdigest()


def _open(folder: Path, name: str, result: CheckResult, kind: str = "unsafe_file") -> Path | None:
    """The file ``name`` inside the folder, or None (a problem is added if it is unsafe)."""
    try:
        return inside(folder, name)
    except FileNotFoundError:
        return None
    except UnsafeFileError as exc:
        result.add(kind, f"{exc}: it is not read")
        return None


def _check_manifest(folder: Path, result: CheckResult) -> dict:
    path = _open(folder, MANIFEST_FILE, result, "bad_manifest")
    if path is None:
        if not any(p.kind == "bad_manifest" for p in result.problems):
            result.add(
                "missing_manifest",
                f"{MANIFEST_FILE} is missing: it names the class and the image. Write the "
                "folder with the assignment notebook or `python -m helpers.explain`.",
            )
        return {}
    try:
        manifest = read_json(path)
        if not isinstance(manifest, dict):
            kind = type(manifest).__name__
            raise UnsafeFileError(f"{MANIFEST_FILE} holds a {kind}, not an object")
    except (UnsafeFileError, OSError) as exc:
        result.add("bad_manifest", f"{MANIFEST_FILE} cannot be used: {exc}")
        return {}
    index = manifest.get("class_index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < NUM_CLASSES:
        result.add(
            "bad_class",
            f"{MANIFEST_FILE} has no valid class_index (got {_short(index)}; an ImageNet index "
            f"0..{NUM_CLASSES - 1} is needed)",
        )
        return manifest
    name = class_names()[index]
    result.class_index, result.class_name = index, name
    claimed = manifest.get("class_name")
    if claimed is not None and claimed != name:
        result.add(
            "bad_class",
            f"{MANIFEST_FILE} says class {index} is {_short(claimed)}, but ImageNet class {index} "
            f"is {name!r}: fix the index or the name",
        )
    if index in DOMESTIC_CATS:
        result.add(
            "cat_class",
            f"class {index} {name} is a domestic cat: {CAT_RULE}. Pick another class.",
        )
    elif index in BIG_CATS:
        result.notes.append(f"class {index} {name} is a big cat: accepted ({CAT_RULE})")
    image = manifest.get("image") if isinstance(manifest.get("image"), dict) else {}
    if isinstance(image.get("sha256"), str) and image["sha256"] == _cat_photo_sha256():
        result.add(
            "cat_image",
            f"the image is the workshop's cat photo ({SAMPLE_IMAGES['cat'].name}): the "
            "assignment asks for a photo of your own class, not of a cat",
        )
    if manifest.get("class_in_top5") is False:
        result.notes.append(
            "the class is not among the model's top-5 for this image (allowed, but say so "
            "in your answers)"
        )
    return manifest


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_csv(folder: Path, result: CheckResult) -> list[dict[str, str]] | None:
    path = _open(folder, CSV_FILE, result, "bad_table")
    if path is None:
        if not any(p.kind == "bad_table" for p in result.problems):
            result.add(
                "missing_table",
                f"{CSV_FILE} (the comparison table) is missing: build it with the notebook's "
                "table cells or `python -m helpers.explain`",
            )
        return None
    try:
        header, rows, how = read_text_table(path, TABLE_COLUMNS)
    except (UnsafeFileError, OSError) as exc:
        result.add("bad_table", f"{CSV_FILE} cannot be used: {exc}")
        return None
    if how:
        result.notes.append(f"{CSV_FILE} was read as {how} (as a spreadsheet program saved it)")
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        found = ", ".join(_short(c, 30) for c in header[:8]) or "none"
        result.add(
            "bad_table",
            f"{CSV_FILE} lacks the columns: {', '.join(missing)} (its header has: {found})",
        )
        return None
    if not rows:
        result.add("bad_table", f"{CSV_FILE} has no rows (one per method is needed)")
        return None
    return rows


def _is_answered(text: str | None) -> bool:
    return (text or "").strip().lower() not in PLACEHOLDERS


def _number(text: str | None) -> float | None:
    text = (text or "").strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as spreadsheets write in many locales
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _known_method(name: str, result: CheckResult) -> bool:
    """Is ``name`` one of the assignment's methods? Otherwise a problem says which are."""
    if name in METHODS:
        return True
    spelled = _norm(name)
    fix = METHOD_ALIASES.get(spelled, spelled)
    hint = f" (write it as {fix})" if fix in METHODS else ""
    result.add(
        "unknown_method",
        f"{CSV_FILE} names an unknown method {_short(name, 40)}{hint}; the methods are "
        f"{', '.join(METHODS)}",
    )
    return False


def _check_table(rows: list[dict[str, str]], result: CheckResult) -> list[str]:
    """Check each row; return the known method names of the table, in order."""
    methods: list[str] = []
    for row in rows:
        method = (row.get("method") or "").strip()
        if not method:
            result.add("bad_table", f"{CSV_FILE} has a row without a method name")
            continue
        if not _known_method(method, result):
            continue
        if method in methods:
            result.add("bad_table", f"{CSV_FILE} has two rows for {method}")
            continue
        methods.append(method)
        empty = [c for c in QUALITATIVE_COLUMNS if not _is_answered(row.get(c))]
        result.answers_total += len(QUALITATIVE_COLUMNS)
        result.answers_filled += len(QUALITATIVE_COLUMNS) - len(empty)
        if empty:
            result.add(
                "empty_answers",
                f"table row {method}: no answer yet for {', '.join(empty)} "
                f"({len(empty)} of {len(QUALITATIVE_COLUMNS)} qualitative cells empty)",
            )
        needed = [
            c
            for c in COMPUTED_COLUMNS
            if c != "ig_completeness_gap" or method == "integrated_gradients"
        ]
        bad = [c for c in needed if _number(row.get(c)) is None]
        if bad:
            result.add(
                "missing_computed",
                f"table row {method}: no number in {', '.join(bad)} (computed columns are "
                "filled by the report; re-run it rather than typing them)",
            )
    return methods


def _check_markdown(folder: Path, rows: list[dict[str, str]] | None, result: CheckResult):
    path = _open(folder, MARKDOWN_FILE, result, "bad_table")
    if path is None:
        if not any(MARKDOWN_FILE in p.message for p in result.problems):
            result.add(
                "missing_table",
                f"{MARKDOWN_FILE} (the table as GitHub shows it) is missing: re-run the "
                f"notebook's answers cell or `python -m helpers.report {folder}`",
            )
        return
    try:
        md_rows = parse_markdown_table(read_text(path))
    except (UnsafeFileError, OSError) as exc:
        result.add("bad_table", f"{MARKDOWN_FILE} cannot be used: {exc}")
        return
    if not md_rows:
        result.add("bad_table", f"{MARKDOWN_FILE} holds no comparison table")
        return
    if rows is None:
        return
    by_method = {r.get("method", ""): r for r in md_rows}
    differ = []
    for row in rows:
        md = by_method.get(row.get("method", ""))
        if md is None:
            differ.append(f"{_short(row.get('method'), 40)} (no row)")
            continue
        for c in QUALITATIVE_COLUMNS:
            if " ".join((row.get(c) or "").split()) != " ".join((md.get(c) or "").split()):
                differ.append(f"{row.get('method')}: {c}")
    if differ or len(md_rows) != len(rows):
        shown = ", ".join(differ[:4]) + (" ..." if len(differ) > 4 else "")
        result.add(
            "stale_markdown",
            f"{MARKDOWN_FILE} does not match {CSV_FILE} ({shown or 'different rows'}): write "
            "both from the same table (re-run the answers cell, or "
            f"`python -m helpers.report {folder}` after editing the csv)",
        )


def _check_png(path: Path) -> tuple[tuple[int, int] | None, str | None]:
    """(height, width) of a readable PNG, or an error text. Size and pixels are bounded."""
    from PIL import Image

    try:
        size = path.stat().st_size
        if size > MAX_PNG_BYTES:
            limit = MAX_PNG_BYTES // 10**6
            return None, f"it is {size / 1e6:.0f} MB, more than the {limit} MB allowed"
        with Image.open(path) as img:
            kind = img.format
            if kind != "PNG":
                return None, f"it is a {kind} file, not a PNG"
            if img.width * img.height > MAX_PNG_PIXELS:
                return None, f"it is {img.width}x{img.height} pixels, more than allowed"
            img.load()
            return (img.height, img.width), None
    except Exception as exc:  # Pillow raises many types on corrupt files; report them all
        return None, f"{type(exc).__name__}: {str(exc).replace(str(path), path.name)}"


def _check_npy(path: Path, channels: bool) -> tuple[tuple[int, int] | None, str | None]:
    expected = 3 if channels else 2
    try:
        values = read_npy(path, ndim=(expected,))
    except (UnsafeFileError, OSError) as exc:
        return None, str(exc)
    if channels and values.shape[-1] != 3:
        return None, f"expected (H, W, 3) attributions, got shape {values.shape}"
    if not np.all(np.isfinite(values)):
        return None, "it holds NaN or infinite values"
    return values.shape[:2], None


def _check_maps(folder: Path, methods: list[str], result: CheckResult) -> None:
    for method in methods:  # only names from METHODS reach here: never a path from the file
        names = f"{method}.png", f"{method}.npy"
        png, npy = (_open(folder, n, result, "corrupt_map") for n in names)
        missing = [n for n, p in zip(names, (png, npy), strict=True) if p is None]
        if missing:
            if not any(
                p.kind == "corrupt_map" and p.message.startswith(missing[0])
                for p in result.problems
            ):
                result.add("missing_map", f"{method}: {' and '.join(missing)} missing")
            continue
        png_size, png_error = _check_png(png)
        npy_size, npy_error = _check_npy(npy, channels=False)
        if png_error:
            result.add("corrupt_map", f"{names[0]} is not a readable PNG ({png_error})")
        if npy_error:
            result.add("corrupt_map", f"{names[1]} is not a readable map ({npy_error})")
        if png_error or npy_error:
            continue
        if png_size != npy_size:
            result.add(
                "corrupt_map",
                f"{names[0]} is {png_size[0]}x{png_size[1]} but {names[1]} is "
                f"{npy_size[0]}x{npy_size[1]}: they come from different runs",
            )
            continue
        raw_name = f"{method}_attributions.npy"
        if (raw := _open(folder, raw_name, result, "corrupt_map")) is not None:
            _, raw_error = _check_npy(raw, channels=True)
            if raw_error:
                result.add("corrupt_map", f"{raw_name} is not readable ({raw_error})")
                continue
        elif any(p.message.startswith(raw_name) for p in result.problems):
            continue
        result.methods.append(method)


def _folder_names(folder: Path, result: CheckResult) -> list[str]:
    """Names in the folder (at most MAX_ENTRIES are looked at)."""
    names = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if len(names) >= MAX_ENTRIES:
                result.notes.append(f"over {MAX_ENTRIES} entries in the folder; the rest ignored")
                break
            names.append(entry.name)
    return sorted(names)


def _inspect_folder(folder: Path, result: CheckResult) -> None:
    manifest = _check_manifest(folder, result)
    rows = _read_csv(folder, result)
    names = _folder_names(folder, result)
    if rows is not None:
        methods = _check_table(rows, result)
    else:
        listed = manifest.get("methods")
        if isinstance(listed, list):
            methods = [m for m in listed if isinstance(m, str) and _known_method(m, result)]
        else:  # the maps in the folder
            methods = sorted(m for m in METHODS if f"{m}.npy" in names)
    methods = list(dict.fromkeys(methods))
    _check_markdown(folder, rows, result)
    _check_maps(folder, methods, result)

    if REQUIRED_METHOD not in methods:
        result.add(
            "missing_grad_cam",
            "no Grad-CAM: the assignment starts with Grad-CAM, so grad_cam.png, grad_cam.npy "
            "and a grad_cam row in the table are required",
        )
    if len(result.methods) < MIN_METHODS:
        shown = ", ".join(result.methods) or "none"
        others = [m for m in METHODS if m not in result.methods][:3]
        result.add(
            "too_few_methods",
            f"only {len(result.methods)} method(s) with readable maps ({shown}); at least "
            f"{MIN_METHODS} are needed, Grad-CAM among them (add e.g. {', '.join(others)})",
        )
    for name, what in ((GRID_FILE, "the comparison grid"), (INPUT_FILE, "the input image")):
        path = _open(folder, name, result, "corrupt_map")
        if path is None:
            if not any(p.message.startswith(name) for p in result.problems):
                kind = "missing_grid" if name == GRID_FILE else "missing_input"
                result.add(kind, f"{name} ({what}) is missing")
        elif (error := _check_png(path)[1]) is not None:
            result.add("corrupt_map", f"{name} is not a readable PNG ({error})")
    known = {f"{m}.png" for m in methods} | {GRID_FILE, INPUT_FILE}
    extra = [n for n in names if n.endswith(".png") and n not in known]
    if extra:
        result.notes.append(f"not in the table (ignored): {', '.join(map(_short, extra[:10]))}")


def inspect_submission(folder: str | Path) -> CheckResult:
    """Check a submission folder (or a .zip of one); the result lists every problem.

    Nothing in the folder is trusted: see the module docstring. An unexpected failure
    while checking becomes a ``checker_error`` problem, never an exception.
    """
    folder = Path(folder)
    result = CheckResult(folder)
    if folder.is_file() and folder.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="check_submission_") as tmp:
            try:
                unpacked = extract_zip(folder, tmp, markers=(MANIFEST_FILE, CSV_FILE))
            except ZipRefusedError as exc:
                result.add("bad_zip", f"{folder.name}: {exc}")
                return result
            for refused in unpacked.refused:
                result.add("unsafe_file", f"{folder.name}: member {refused} was not unpacked")
            _guarded(unpacked.root, result)
            result.problems = [  # name the zip, not the temporary folder
                Problem(p.kind, p.message.replace(str(unpacked.root), str(folder)))
                for p in result.problems
            ]
        return result
    if not folder.is_dir():
        result.add("no_folder", f"{folder} is not a folder or a .zip file")
        return result
    _guarded(folder, result)
    return result


def _guarded(folder: Path, result: CheckResult) -> None:
    try:
        _inspect_folder(folder, result)
    except (Exception, RecursionError, MemoryError) as exc:  # never a traceback for a student
        result.add(
            "checker_error",
            f"the checker could not finish ({type(exc).__name__}: {_short(str(exc), 200)}); "
            "this is a bug in the checker or a very unusual folder: tell your instructor",
        )


def check_submission(folder: str | Path) -> list[Problem]:
    """Every problem of a submission folder (an empty list means complete).

    Each :class:`Problem` has a ``kind`` (e.g. ``"empty_answers"``) and a ``message``.
    """
    return inspect_submission(folder).problems


#: The same function under a name that is not also a module name (for ``helpers.<name>``).
submission_problems = check_submission


USAGE = "usage: python -m helpers.check_submission DIR_OR_ZIP | --all SUBMISSIONS_DIR --csv FILE"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, exit status 2
        print(f"error: {message} ({USAGE})", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="python -m helpers.check_submission",
        description="Check an assignment folder (maps, table, class) before you upload it. "
        "Exit status 0 only when it is complete. With --all, check every student's folder "
        "or zip in SUBMISSIONS_DIR and write a gradebook.",
    )
    parser.add_argument("folder", nargs="?", help="the submission folder (or .zip)")
    parser.add_argument("--all", metavar="SUBMISSIONS_DIR", help="one folder or zip per student")
    parser.add_argument("--csv", metavar="FILE", help="with --all: the gradebook to write")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or an error already printed as one line
        return int(exc.code or 0)
    if args.all is not None:
        if args.folder is not None or not args.csv:
            parser.error("--all takes a folder and --csv FILE, and no other folder")
        from .gradebook import main_all  # the gradebook uses this module: imported on demand

        return main_all(Path(args.all), Path(args.csv))
    if args.folder is None or args.csv:
        parser.error("give one submission folder or .zip (or --all DIR --csv FILE)")
    folder = Path(args.folder)
    if not folder.is_dir() and not (folder.is_file() and folder.suffix.lower() == ".zip"):
        what = "does not exist" if not folder.exists() else "is not a folder or a .zip file"
        print(f"error: {folder} {what}", file=sys.stderr)
        return 2
    result = inspect_submission(folder)
    print(result.report())
    return 0 if result.complete else 1


if __name__ == "__main__":
    sys.exit(main())
