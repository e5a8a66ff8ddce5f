"""What the submission checker found: problems, notes, and a summary; opening a file safely.

Shared by :mod:`helpers.assignment.checker`, :mod:`helpers.assignment.table_checks` and
:mod:`helpers.assignment.gradebook`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .safe_files import UnsafeFileError, inside

AUC_COLUMNS = ("deletion_auc", "insertion_auc")


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
    # What the gradebook and --verify read (never printed whole):
    table_methods: list[str] = field(default_factory=list)  # known methods of the table
    rows: list[dict[str, str]] = field(default_factory=list)  # comparison.csv as read
    random_map: dict[str, float] | None = None  # the random row's scores, as in the table
    file_hashes: dict[str, str] = field(default_factory=dict)  # SHA-256 of input and maps
    answers: dict[tuple[str, str], str] = field(default_factory=dict)  # real answers
    photo: str = ""  # "bundled <name>" when the photo is one of the course's samples
    verified: str = ""  # what --verify did (empty when it did not run)

    @property
    def beats_random(self) -> list[str]:
        """Methods whose table scores beat the random map's on both (lower deletion AUC,
        higher insertion AUC)."""
        from .table_file import parse_number

        if not self.random_map:
            return []
        beaten = []
        for row in self.rows:
            method = (row.get("method") or "").strip()
            deletion, insertion = (parse_number(row.get(c, "")) for c in AUC_COLUMNS)
            if (
                method in self.table_methods
                and deletion < self.random_map["deletion_auc"]
                and insertion > self.random_map["insertion_auc"]
            ):
                beaten.append(method)
        return beaten

    @property
    def complete(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: str) -> None:
        self.problems.append(Problem(kind, message))

    def report(self) -> str:
        """The text the command line prints."""
        slash = "" if self.folder.suffix.lower() == ".zip" else "/"
        lines = [f"Checking {self.folder}{slash}"]
        if self.class_index is not None:
            lines.append(f"  class: {self.class_index} {self.class_name}")
        if self.methods:
            lines.append(f"  methods with readable maps: {', '.join(self.methods)}")
        if self.random_map:
            r = self.random_map
            lines.append(
                f"  the line to beat: the random map scores deletion AUC {r['deletion_auc']:.3f}"
                f", insertion AUC {r['insertion_auc']:.3f}; beaten on both by: "
                f"{', '.join(self.beats_random) or 'none'}"
            )
        if self.verified:
            lines.append(f"  --verify: {self.verified}")
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


def open_inside(
    folder: Path, name: str, result: CheckResult, kind: str = "unsafe_file"
) -> Path | None:
    """The file ``name`` inside the folder, or None (a problem is added if it is unsafe)."""
    try:
        return inside(folder, name)
    except FileNotFoundError:
        return None
    except UnsafeFileError as exc:
        result.add(kind, f"{exc}: it is not read")
        return None


def open_required(
    folder: Path, name: str, result: CheckResult, bad_kind: str, missing_kind: str, why: str
) -> Path | None:
    """Like :func:`open_inside`, and a missing file is a ``missing_kind`` problem saying
    ``why`` (unless it was already reported as unsafe)."""
    path = open_inside(folder, name, result, bad_kind)
    if path is None and not any(p.kind == bad_kind for p in result.problems):
        result.add(missing_kind, why)
    return path


def short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
