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
complete, 1 when something is missing, 2 when DIR is not a folder. Needs no TensorFlow.

**Which cats are refused.** The assignment says "any image (no cats please)": the workshop
explained a tabby cat, and the point is to explain something else. ImageNet's *domestic*
cats, classes 281-285 (tabby, tiger cat, Persian, Siamese, Egyptian cat), are refused, and
so is the workshop's own cat photo whatever class is claimed for it. The big cats, 286-293
(cougar, lynx, leopard, snow leopard, jaguar, lion, tiger, cheetah), are different classes
seen in different photos, and are accepted.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.images import SAMPLE_IMAGES
from ..data.labels import NUM_CLASSES, class_names
from ..methods.registry import METHODS
from .rules import (
    BIG_CATS,
    CAT_RULE,
    COMPUTED_COLUMNS,
    CSV_FILE,
    DOMESTIC_CATS,
    GRID_FILE,
    INPUT_FILE,
    MANIFEST_FILE,
    MARKDOWN_FILE,
    MIN_METHODS,
    QUALITATIVE_COLUMNS,
    REQUIRED_METHOD,
    TABLE_COLUMNS,
)
from .table import parse_markdown_table

#: Answers that are only placeholders count as empty.
PLACEHOLDERS = frozenset(
    {"", "?", "??", "...", "…", "-", "--", "todo", "tbd", "xxx", "fill in", "your answer"}
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


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _check_manifest(folder: Path, result: CheckResult) -> dict:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        result.add(
            "missing_manifest",
            f"{MANIFEST_FILE} is missing: it names the class and the image. Write the folder "
            "with the assignment notebook or `python -m helpers.explain`.",
        )
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        result.add("bad_manifest", f"{MANIFEST_FILE} is not valid JSON ({exc})")
        return {}
    index = manifest.get("class_index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < NUM_CLASSES:
        result.add(
            "bad_class",
            f"{MANIFEST_FILE} has no valid class_index (got {index!r}; an ImageNet index "
            f"0..{NUM_CLASSES - 1} is needed)",
        )
        return manifest
    name = class_names()[index]
    result.class_index, result.class_name = index, name
    claimed = manifest.get("class_name")
    if claimed is not None and claimed != name:
        result.add(
            "bad_class",
            f"{MANIFEST_FILE} says class {index} is {claimed!r}, but ImageNet class {index} is "
            f"{name!r}: fix the index or the name",
        )
    if index in DOMESTIC_CATS:
        result.add(
            "cat_class",
            f"class {index} {name} is a domestic cat: {CAT_RULE}. Pick another class.",
        )
    elif index in BIG_CATS:
        result.notes.append(f"class {index} {name} is a big cat: accepted ({CAT_RULE})")
    image = manifest.get("image") if isinstance(manifest.get("image"), dict) else {}
    cat_photo = SAMPLE_IMAGES["cat"]
    if image.get("sha256") and image["sha256"] == _file_sha256(cat_photo):
        result.add(
            "cat_image",
            f"the image is the workshop's cat photo ({cat_photo.name}): the assignment asks "
            "for a photo of your own class, not of a cat",
        )
    if manifest.get("class_in_top5") is False:
        result.notes.append(
            "the class is not among the model's top-5 for this image (allowed, but say so "
            "in your answers)"
        )
    return manifest


def _read_csv(folder: Path, result: CheckResult) -> list[dict[str, str]] | None:
    path = folder / CSV_FILE
    if not path.is_file():
        result.add(
            "missing_table",
            f"{CSV_FILE} (the comparison table) is missing: build it with the notebook's table "
            "cells or `python -m helpers.explain`",
        )
        return None
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        result.add("bad_table", f"{CSV_FILE} cannot be read as CSV ({exc})")
        return None
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        result.add("bad_table", f"{CSV_FILE} lacks the columns: {', '.join(missing)}")
        return None
    if not rows:
        result.add("bad_table", f"{CSV_FILE} has no rows (one per method is needed)")
        return None
    return rows


def _is_answered(text: str | None) -> bool:
    return (text or "").strip().lower() not in PLACEHOLDERS


def _number(text: str | None) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _check_table(rows: list[dict[str, str]], result: CheckResult) -> None:
    seen = set()
    for row in rows:
        method = (row.get("method") or "").strip()
        if not method:
            result.add("bad_table", f"{CSV_FILE} has a row without a method name")
            continue
        if method in seen:
            result.add("bad_table", f"{CSV_FILE} has two rows for {method}")
        seen.add(method)
        empty = [c for c in QUALITATIVE_COLUMNS if not _is_answered(row.get(c))]
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


def _check_markdown(folder: Path, rows: list[dict[str, str]] | None, result: CheckResult):
    path = folder / MARKDOWN_FILE
    if not path.is_file():
        result.add(
            "missing_table",
            f"{MARKDOWN_FILE} (the table as GitHub shows it) is missing: re-run the notebook's "
            f"answers cell or `python -m helpers.report {folder}`",
        )
        return
    try:
        md_rows = parse_markdown_table(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        result.add("bad_table", f"{MARKDOWN_FILE} is not UTF-8 text ({exc})")
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
            differ.append(f"{row.get('method')} (no row)")
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
    """(height, width) of a readable PNG, or an error text."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            kind = img.format
            img.load()
            size = (img.height, img.width)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if kind != "PNG":
        return None, f"it is a {kind} file, not a PNG"
    return size, None


def _check_npy(path: Path, channels: bool) -> tuple[tuple[int, int] | None, str | None]:
    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    expected = 3 if channels else 2
    if not isinstance(values, np.ndarray) or values.ndim != expected:
        return None, f"expected a {expected}-D array, got shape {getattr(values, 'shape', '?')}"
    if channels and values.shape[-1] != 3:
        return None, f"expected (H, W, 3) attributions, got shape {values.shape}"
    if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)):
        return None, "it holds non-numeric, NaN or infinite values"
    return values.shape[:2], None


def _check_maps(folder: Path, methods: list[str], result: CheckResult) -> None:
    for method in methods:
        png, npy = folder / f"{method}.png", folder / f"{method}.npy"
        missing = [p.name for p in (png, npy) if not p.is_file()]
        if missing:
            result.add("missing_map", f"{method}: {' and '.join(missing)} missing")
            continue
        png_size, png_error = _check_png(png)
        npy_size, npy_error = _check_npy(npy, channels=False)
        if png_error:
            result.add("corrupt_map", f"{png.name} is not a readable PNG ({png_error})")
        if npy_error:
            result.add("corrupt_map", f"{npy.name} is not a readable map ({npy_error})")
        if png_error or npy_error:
            continue
        if png_size != npy_size:
            result.add(
                "corrupt_map",
                f"{png.name} is {png_size[0]}x{png_size[1]} but {npy.name} is "
                f"{npy_size[0]}x{npy_size[1]}: they come from different runs",
            )
            continue
        raw = folder / f"{method}_attributions.npy"
        if raw.is_file():
            _, raw_error = _check_npy(raw, channels=True)
            if raw_error:
                result.add("corrupt_map", f"{raw.name} is not readable ({raw_error})")
                continue
        result.methods.append(method)


def _methods_in_folder(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.npy") if not p.stem.endswith("_attributions"))


def inspect_submission(folder: str | Path) -> CheckResult:
    """Check a submission folder; the result lists every problem, notes and a summary."""
    folder = Path(folder)
    result = CheckResult(folder)
    if not folder.is_dir():
        result.add("no_folder", f"{folder} is not a folder")
        return result
    manifest = _check_manifest(folder, result)
    rows = _read_csv(folder, result)
    if rows is not None:
        _check_table(rows, result)
        methods = [r["method"].strip() for r in rows if (r.get("method") or "").strip()]
    else:
        listed = manifest.get("methods")
        methods = list(listed) if isinstance(listed, list) else _methods_in_folder(folder)
    methods = list(dict.fromkeys(m for m in methods if isinstance(m, str)))
    _check_markdown(folder, rows, result)
    _check_maps(folder, methods, result)

    if REQUIRED_METHOD not in methods:
        result.add(
            "missing_grad_cam",
            "no Grad-CAM: the assignment starts with Grad-CAM, so grad_cam.png, grad_cam.npy "
            "and a grad_cam row in the table are required",
        )
    if len(result.methods) < MIN_METHODS:
        names = ", ".join(result.methods) or "none"
        others = [m for m in METHODS if m not in result.methods][:3]
        result.add(
            "too_few_methods",
            f"only {len(result.methods)} method(s) with readable maps ({names}); at least "
            f"{MIN_METHODS} are needed, Grad-CAM among them (add e.g. {', '.join(others)})",
        )
    for name, what in ((GRID_FILE, "the comparison grid"), (INPUT_FILE, "the input image")):
        path = folder / name
        if not path.is_file():
            kind = "missing_grid" if name == GRID_FILE else "missing_input"
            result.add(kind, f"{name} ({what}) is missing")
        elif (error := _check_png(path)[1]) is not None:
            result.add("corrupt_map", f"{name} is not a readable PNG ({error})")
    known = {f"{m}.png" for m in methods} | {GRID_FILE, INPUT_FILE}
    extra = sorted(p.name for p in folder.glob("*.png") if p.name not in known)
    if extra:
        result.notes.append(f"not in the table (ignored): {', '.join(extra)}")
    return result


def check_submission(folder: str | Path) -> list[Problem]:
    """Every problem of a submission folder (an empty list means complete).

    Each :class:`Problem` has a ``kind`` (e.g. ``"empty_answers"``) and a ``message``.
    """
    return inspect_submission(folder).problems


#: The same function under a name that is not also a module name (for ``helpers.<name>``).
submission_problems = check_submission


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.check_submission",
        description="Check an assignment folder (maps, table, class) before you upload it. "
        "Exit status 0 only when it is complete.",
    )
    parser.add_argument("folder", help="the submission folder, e.g. results/espresso")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        print(f"error: {folder} {what}", file=sys.stderr)
        return 2
    result = inspect_submission(folder)
    print(result.report())
    return 0 if result.complete else 1


if __name__ == "__main__":
    sys.exit(main())
