"""Batch grading: check every student's submission and write one gradebook row each.

``python -m helpers.check_submission --all SUBMISSIONS_DIR --csv gradebook.csv``

SUBMISSIONS_DIR holds one entry per student: a folder, or a ``.zip`` of one (unpacked
safely into a temporary folder, see :mod:`helpers.assignment.safe_zip`). The student's name is the
folder's or zip's name. Any other file becomes a row saying it is not a submission; hidden
files (``.DS_Store``) are skipped. A broken submission never stops the run: each one is
checked within a time budget (:data:`SECONDS_PER_SUBMISSION`, :mod:`.time_budget`), and
one that fails in any way gets its own row naming the problem. Nothing is written inside
SUBMISSIONS_DIR, and TensorFlow is never imported.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .check_result import short
from .checker import CheckResult, inspect_submission
from .copies import COPY_COLUMNS, find_copies
from .rules import INPUT_FILE
from .table_file import keep_backup, replace_file
from .time_budget import TimeBudgetExceeded, time_limit

#: Longest a submission may take to check (a real one takes well under a second).
SECONDS_PER_SUBMISSION = 20.0
#: ... and with ``--verify``, which loads the model once (first submission) and runs the
#: deletion and insertion curves of every map (a few seconds each on 2 CPU cores).
SECONDS_TO_VERIFY = 600.0

GRADEBOOK_COLUMNS: tuple[str, ...] = (
    "student",
    "complete",
    "problem_count",
    "problems",
    "problem_kinds",
    "class_index",
    "class_name",
    "methods",
    "answers_filled",
    "answers_total",
    "beats_random",
    "photo",
    *COPY_COLUMNS,
    "verified",
    "notes",
    "source",
)


class GradebookError(ValueError):
    """The command cannot run (bad SUBMISSIONS_DIR or gradebook path); the text says why."""


@dataclass
class Entry:
    """One student's submission: its name, its path, and what the checker found."""

    student: str
    path: Path
    result: CheckResult
    copies: dict[str, str] = field(default_factory=dict)  # COPY_COLUMNS, by find_copies

    @property
    def source(self) -> str:
        """What the student handed in: "folder", "zip", or e.g. "pdf file"."""
        if self.path.is_dir():
            return "folder"
        if self.path.suffix.lower() == ".zip":
            return "zip"
        kind = self.path.suffix.lower().lstrip(".")
        return f"{kind} file" if kind else "file"

    def row(self) -> dict[str, object]:
        """The gradebook row (text cells that a spreadsheet would run as a formula get a ')."""
        r = self.result
        row = {
            "student": self.student,
            "complete": "yes" if r.complete else "no",
            "problem_count": len(r.problems),
            "problems": " | ".join(p.message for p in r.problems),
            "problem_kinds": " ".join(dict.fromkeys(p.kind for p in r.problems)),
            "class_index": "" if r.class_index is None else r.class_index,
            "class_name": r.class_name or "",
            "methods": " ".join(r.methods),
            "answers_filled": r.answers_filled,
            "answers_total": r.answers_total,
            "beats_random": " ".join(r.beats_random),
            "photo": r.photo or ("own" if INPUT_FILE in r.file_hashes else ""),
            **{c: self.copies.get(c, "") for c in COPY_COLUMNS},
            "verified": r.verified,
            "notes": " | ".join(r.notes),
            "source": self.source,
        }
        return {k: _no_formula(v) for k, v in row.items()}


def _no_formula(value: object) -> object:
    if isinstance(value, str):
        value = printable(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def printable(text: str) -> str:
    """A file name as text that can be printed and saved: bytes that are not UTF-8 in a
    name (Python keeps them as surrogates) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def submissions(folder: Path) -> list[Path]:
    """The entries to grade in ``folder``, sorted by name (hidden files skipped)."""
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if not e.name.startswith("."))


def check_one(path: Path, seconds: float | None = SECONDS_PER_SUBMISSION, verify=None) -> Entry:
    """Check one entry (folder, zip or stray file) within ``seconds``; never raises for a
    broken submission: a failure of any kind is a problem in its row. ``verify``: see
    :func:`~helpers.assignment.checker.inspect_submission`."""
    is_zip = path.suffix.lower() == ".zip" and path.is_file()
    student = printable(path.stem if is_zip else path.name)
    if path.is_dir() or is_zip:
        try:
            with time_limit(seconds):
                result = (
                    inspect_submission(path, verify=verify) if verify else inspect_submission(path)
                )
        except TimeBudgetExceeded as exc:
            result = CheckResult(path)
            result.add(
                "checker_timeout",
                f"checking it {exc} (a hostile or very unusual submission?), so it was "
                "stopped; look at it by hand",
            )
        except Exception as exc:  # noqa: BLE001 - one row, never a stopped class
            result = CheckResult(path)
            result.add(
                "checker_error",
                f"the checker could not finish ({type(exc).__name__}: "
                f"{short(printable(str(exc)), 200)}); look at it by hand",
            )
    else:
        result = CheckResult(path)
        result.add(
            "not_a_submission",
            f"{path.name} is neither a folder nor a .zip: a submission is the folder the "
            "notebook wrote (or a zip of it)",
        )
    return Entry(student, path, result)


def grade_all(
    folder: str | Path,
    progress: Callable[[str], None] | None = None,
    seconds: float | None = SECONDS_PER_SUBMISSION,
    verify=None,
) -> list[Entry]:
    """Check every entry of ``folder`` (see :func:`submissions`), in order, each within
    ``seconds`` (:data:`SECONDS_TO_VERIFY` with ``verify``), and note the copies between
    them (:func:`~helpers.assignment.copies.find_copies`)."""
    from tqdm.auto import tqdm

    folder = Path(folder)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise GradebookError(f"{folder} {what}: give the folder that holds one entry per student")
    try:
        paths = submissions(folder)
    except OSError as exc:
        raise GradebookError(f"cannot list {folder} ({exc.strerror or exc})") from None
    if verify is not None and seconds is not None:
        seconds = max(seconds, SECONDS_TO_VERIFY)
    entries = [
        check_one(p, seconds, verify)
        for p in tqdm(paths, desc="checking submissions", unit="student", disable=None)
    ]
    copies = find_copies({e.student: e.result for e in entries})
    for e in entries:
        e.copies = copies[e.student]
    return entries


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def write_gradebook(entries: list[Entry], csv_path: str | Path) -> Path | None:
    """Write one row per entry; an existing gradebook is kept as a timestamped backup.

    Returns the backup's path, if one was made.
    """
    csv_path = Path(csv_path)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(GRADEBOOK_COLUMNS))
    writer.writeheader()
    writer.writerows(e.row() for e in entries)
    backup = None
    if csv_path.exists():  # a name no other backup has, even within one second
        backup = keep_backup(csv_path, f"{csv_path.stem}.", f".bak{csv_path.suffix}")
    replace_file(csv_path, text.getvalue().encode("utf-8"))
    return backup


def summary(entries: list[Entry], seconds: float) -> str:
    """Counts, then one line per incomplete submission with its problems."""
    broken = [e for e in entries if not e.result.complete]
    lines = [
        f"checked {len(entries)} submissions in {seconds:.1f} s: "
        f"{len(entries) - len(broken)} complete, {len(broken)} not complete"
    ]
    for e in broken:
        problems = "; ".join(p.message for p in e.result.problems[:3])
        more = len(e.result.problems) - 3
        lines.append(f"  {e.student}: {problems}" + (f" (+{more} more)" if more > 0 else ""))
    shared = [e for e in entries if any(e.copies.get(c) for c in COPY_COLUMNS)]
    if shared:
        lines.append(
            f"{len(shared)} submission(s) share a photo, maps or near-identical answers with "
            "another (the gradebook's same_photo_as, same_maps_as and similar_answers_as "
            "columns name them; no verdict was changed):"
        )
        for e in shared:
            said = "; ".join(f"{c}: {e.copies[c]}" for c in COPY_COLUMNS if e.copies.get(c))
            lines.append(f"  {e.student} shares {said}")
    return printable("\n".join(lines))


def main_all(folder: Path, csv_path: Path, verify=None) -> int:
    """The ``--all`` command: 0 when every submission is complete, 1 otherwise, 2 on errors."""
    if folder.is_dir() and _inside(csv_path, folder):
        print(
            f"error: the gradebook {csv_path} would be written inside {folder}, which holds "
            "the students' submissions: write it elsewhere",
            file=sys.stderr,
        )
        return 2
    if csv_path.is_dir() or not csv_path.parent.is_dir():
        print(f"error: cannot write a gradebook at {csv_path}: no such folder", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        entries = grade_all(folder, verify=verify)
    except GradebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        backup = write_gradebook(entries, csv_path)
    except (OSError, ValueError) as exc:  # ValueError: the old gradebook is a FIFO...
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"error: cannot write {csv_path} ({reason})", file=sys.stderr)
        return 2
    print(summary(entries, time.perf_counter() - start))
    print(f"gradebook: {csv_path} ({len(entries)} rows)")
    if backup:
        print(f"the previous gradebook was kept as {backup}")
    return 0 if all(e.result.complete for e in entries) else 1
