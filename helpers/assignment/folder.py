"""The assignment folder is the student's: what a new run may write there, and what it keeps.

:func:`plan_folder` looks at the folder before anything is computed or written and either
returns a :class:`FolderPlan` or raises :class:`ReportError` with one sentence saying why
and what to do. The rules:

* a comparison.csv it cannot read (or one with an answer holding an unquoted comma) is
  never rewritten: the run is refused, naming the problem;
* methods not run again keep their maps, rows and answers, unless ``replace`` is asked
  for; then their files are removed and the old table is kept as a timestamped backup;
* a run for another class, image or model never mixes with maps and answers already
  there: refused, unless ``replace``;
* no file the run writes (or removes) may be the input image itself (e.g.
  ``explain input.png --out .``);
* answers typed into comparison.md are merged into the table (which is then backed up
  first), and an edited comparison.md is kept as a backup
  (:mod:`helpers.assignment.markdown_answers`);
* the table and comparison.md are written only if they did not change since they were
  read (:class:`~helpers.assignment.table_file.FileStamp`).

:meth:`FolderPlan.prepare` makes the backups and removals the plan decided on, when the
run starts writing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.files import UnreadableFileError, sha256_of_file
from ..methods.registry import METHODS
from .markdown_answers import MarkdownEdits, markdown_edits
from .rules import (
    CSV_FILE,
    GRID_FILE,
    INPUT_FILE,
    MANIFEST_FILE,
    MARKDOWN_FILE,
    ReportError,
)
from .safe_files import UnsafeFileError, inside, read_json
from .table_file import ABSENT, FileStamp, TableFile, keep_backup, read_table_file


def method_files(method: str) -> list[str]:
    """The files a method's map is saved in."""
    return [f"{method}.png", f"{method}.npy", f"{method}_attributions.npy"]


@dataclass
class FolderPlan:
    """What a run will do in its folder (see the module docstring)."""

    out: Path
    methods: tuple[str, ...]  # run now
    old_table: TableFile | None = None
    old_manifest: dict = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)  # class / image / model changed
    kept: list[str] = field(default_factory=list)  # methods from earlier runs, kept
    dropped: list[str] = field(default_factory=list)  # removed (replace=True)
    backup: bool = False  # copy the old table aside before writing
    markdown: MarkdownEdits = field(default_factory=MarkdownEdits)  # comparison.md as read
    from_markdown: list[str] = field(default_factory=list)  # cells merged from comparison.md

    @property
    def carry_answers(self) -> bool:
        """Answers of the methods run again stay (same class, image and model)."""
        return not self.differences

    @property
    def table_stamp(self) -> FileStamp:
        """comparison.csv as read (:data:`ABSENT`: there was none): checked before writing."""
        return self.old_table.source if self.old_table is not None else ABSENT

    def prepare(self, say: Callable[[str], object] | None = None) -> None:
        """Make the backups and removals planned, saying each (the run starts writing)."""
        say = say or (lambda line: None)
        if self.backup:
            say(f"your previous table is kept as {backup_table(self.out).name}")
        if self.from_markdown:
            say(
                f"copied the answers typed into {MARKDOWN_FILE} into {CSV_FILE} "
                f"({', '.join(self.from_markdown)})"
            )
        self.markdown.keep(self.out, say)
        if self.dropped:
            remove_method_files(self.out, self.dropped)
            say(f"removed the maps of {', '.join(self.dropped)} (--replace)")
        if self.kept:
            say(f"kept the maps, rows and answers of {', '.join(self.kept)} from the earlier run")


def _same_pixels(out: Path, image: np.ndarray | None) -> bool | None:
    """Whether the folder's input.png shows ``image`` (None: cannot tell)."""
    if image is None:
        return None
    try:
        path = inside(out, INPUT_FILE)
        from PIL import Image

        with Image.open(path) as img:
            if img.size[0] * img.size[1] > 4096 * 4096:
                return None
            old = np.asarray(img.convert("RGB"))
    except (FileNotFoundError, UnsafeFileError, OSError, ValueError):
        return None
    new = np.clip(np.asarray(image, np.float32), 0, 255).round().astype(np.uint8)
    return old.shape == new.shape and bool(np.array_equal(old, new))


def _differences(
    manifest: dict, out: Path, class_index: int, image, image_path, model_name: str | None
) -> list[str]:
    found = []
    old_class = manifest.get("class_index")
    if isinstance(old_class, int) and old_class != class_index:
        found.append(f"class {old_class} there, {class_index} now")
    same = _same_pixels(out, image)
    if same is None and image_path and isinstance(manifest.get("image"), dict):
        old_sha = manifest["image"].get("sha256")
        if isinstance(old_sha, str) and Path(image_path).is_file():
            try:
                same = sha256_of_file(image_path) == old_sha
            except (OSError, UnreadableFileError):
                same = None
    if same is False:
        found.append("another image")
    model = manifest.get("model") if isinstance(manifest.get("model"), dict) else {}
    old_model = model.get("name")
    if model_name and isinstance(old_model, str) and old_model and old_model != model_name:
        found.append(f"model {old_model} there, {model_name} now")
    return found


def _check_not_input(out: Path, names: Iterable[str], image_path) -> None:
    if not image_path or not Path(image_path).exists():
        return
    for name in names:
        target = out / name
        if os.path.exists(target) and os.path.samefile(target, image_path):
            raise ReportError(
                f"the image {image_path} is the folder's {name}, which this run writes: "
                "it would be overwritten. Copy your photo elsewhere, or choose another --out"
            )


def plan_folder(
    out: str | Path,
    methods: Iterable[str],
    class_index: int,
    *,
    image: np.ndarray | None = None,
    image_path: str | Path | None = None,
    model_name: str | None = None,
    replace: bool = False,
) -> FolderPlan:
    """Check the folder before a run; see the module docstring. Nothing is written."""
    out = Path(out)
    plan = FolderPlan(out, tuple(methods))
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file, not a folder: give the output folder (--out)")
    if not out.exists():
        return plan
    if os.path.lexists(out / CSV_FILE):
        try:
            plan.old_table = read_table_file(inside(out, CSV_FILE))
        except (ReportError, UnsafeFileError) as exc:
            raise ReportError(
                f"{exc}. Nothing was changed: the table holds your answers, so it is never "
                "rewritten unread; fix it (or move it away) and run again"
            ) from None
    plan.markdown = markdown_edits(out, plan.old_table)
    if plan.old_table is not None:
        plan.from_markdown = plan.markdown.merge_into(plan.old_table)
    if os.path.lexists(out / MANIFEST_FILE):
        try:
            manifest = read_json(inside(out, MANIFEST_FILE))
            plan.old_manifest = manifest if isinstance(manifest, dict) else {}
        except (UnsafeFileError, OSError):
            plan.old_manifest = {}  # written by the tools, not by the student: rewritten
    old = [m for m in plan.old_table.methods() if m in METHODS] if plan.old_table else []
    old += [m for m in METHODS if (out / f"{m}.npy").is_file() or (out / f"{m}.png").is_file()]
    listed = plan.old_manifest.get("methods")
    old += [m for m in listed if m in METHODS] if isinstance(listed, list) else []
    earlier = [m for m in dict.fromkeys(old) if m not in plan.methods]
    plan.differences = _differences(
        plan.old_manifest, out, class_index, image, image_path, model_name
    )
    work = plan.old_table is not None and plan.old_table.has_student_work()
    if plan.differences and not replace and (earlier or work):
        held = (f"maps of {', '.join(earlier)}" if earlier else "") + (
            " and answers" if earlier and work else "answers" if work else ""
        )
        raise ReportError(
            f"{out} holds {held} from another run ({'; '.join(plan.differences)}); they are "
            "kept. Choose another --out, or add --replace (replace=True) to start the folder "
            "over (the old table is then kept as a timestamped backup)"
        )
    if replace or plan.differences:
        plan.dropped = earlier
        plan.backup = work
        plan.markdown.keep_copy |= bool(plan.from_markdown)  # its answers are not carried
    else:
        plan.kept = earlier
        plan.backup = bool(plan.from_markdown)  # the table is rewritten with them
    writes = [INPUT_FILE, GRID_FILE, CSV_FILE, MARKDOWN_FILE, MANIFEST_FILE]
    for method in (*plan.methods, *plan.dropped):
        writes += method_files(method)
    _check_not_input(out, writes, image_path)
    return plan


def backup_table(out: Path) -> Path:
    """Copy comparison.csv to comparison-backup-<date>-<time>.csv (bytes as they are; a
    name no other backup has, see :func:`~helpers.assignment.table_file.keep_backup`)."""
    return keep_backup(out / CSV_FILE, "comparison-backup-", ".csv")


def remove_method_files(out: Path, methods: Iterable[str]) -> list[str]:
    """Delete the map files of ``methods`` (only those names); returns what was removed."""
    removed = []
    for method in methods:
        for name in method_files(method):
            path = out / name
            if os.path.lexists(path):
                path.unlink()
                removed.append(name)
    return removed
