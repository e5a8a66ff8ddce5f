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
zip per student and writes a gradebook (:mod:`helpers.assignment.gradebook`).

**Nothing in the folder is trusted** (:mod:`helpers.assignment.safe_files`): only the known
file names are opened (a method named in the table or manifest that is not one of the
assignment's methods is a problem, never a path), and each is resolved inside the folder (a
symlink out of it is refused); sizes, ``.npy`` headers, image dimensions and JSON depth are
bounded before anything is read; a ``.npy`` holding Python objects is refused. The table is
read as spreadsheet programs save it (UTF-8 with or without BOM, cp1252, ``;``-separated).
Every problem is reported as a problem line, never as a traceback.

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
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from ..data.images import SAMPLE_IMAGES
from ..data.labels import NUM_CLASSES, class_names
from ..methods.registry import METHODS
from .check_result import CheckResult, Problem, open_inside, open_required, short
from .map_checks import check_maps, check_png, hash_files
from .provenance import check_run_record
from .rules import (
    BIG_CATS,
    CAT_RULE,
    CSV_FILE,
    DOMESTIC_CATS,
    GRID_FILE,
    INPUT_FILE,
    MANIFEST_FILE,
    MIN_METHODS,
    REQUIRED_METHOD,
)
from .run import default_methods
from .safe_files import UnsafeFileError, read_json
from .safe_zip import ZipRefusedError, extract_zip, submission_root
from .table_checks import PLACEHOLDERS, check_markdown, check_table, known_method, read_csv

__all__ = [
    "BIG_CATS",
    "DOMESTIC_CATS",
    "MIN_METHODS",
    "PLACEHOLDERS",
    "CheckResult",
    "Problem",
    "check_submission",
    "inspect_submission",
    "main",
    "submission_problems",
]

MAX_ENTRIES = 2000  # files looked at in one folder


@lru_cache(maxsize=1)
def _sample_photos() -> dict[str, str]:
    """SHA-256 of each bundled photo -> its name."""
    return {hashlib.sha256(p.read_bytes()).hexdigest(): n for n, p in SAMPLE_IMAGES.items()}


def _cat_photo_sha256() -> str:
    return next(sha for sha, name in _sample_photos().items() if name == "cat")


def _check_manifest(folder: Path, result: CheckResult) -> dict:
    path = open_required(
        folder, MANIFEST_FILE, result, "bad_manifest", "missing_manifest",
        f"{MANIFEST_FILE} is missing: it names the class and the image. Write the "
        "folder with the assignment notebook or `python -m helpers.explain`.",
    )
    if path is None:
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
            f"{MANIFEST_FILE} has no valid class_index (got {short(index)}; an ImageNet index "
            f"0..{NUM_CLASSES - 1} is needed)",
        )
        return manifest
    name = class_names()[index]
    result.class_index, result.class_name = index, name
    claimed = manifest.get("class_name")
    if claimed is not None and claimed != name:
        result.add(
            "bad_class",
            f"{MANIFEST_FILE} says class {index} is {short(claimed)}, but ImageNet class {index} "
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
    if isinstance(image.get("sha256"), str) and image["sha256"] in _sample_photos():
        result.photo = f"bundled {_sample_photos()[image['sha256']]}"
    if manifest.get("class_in_top5") is False:
        result.notes.append(
            "the class is not among the model's top-5 for this image (allowed, but say so "
            "in your answers)"
        )
    return manifest


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
    rows = read_csv(folder, result)
    names = _folder_names(folder, result)
    if rows is not None:
        methods = check_table(rows, result)
    else:
        listed = manifest.get("methods")
        if isinstance(listed, list):
            methods = [m for m in listed if isinstance(m, str) and known_method(m, result)]
        else:  # the maps in the folder
            methods = sorted(m for m in METHODS if f"{m}.npy" in names)
    methods = list(dict.fromkeys(methods))
    check_markdown(folder, rows, result)
    check_maps(folder, methods, result)

    if REQUIRED_METHOD not in methods:
        result.add(
            "missing_grad_cam",
            "no Grad-CAM: the assignment starts with Grad-CAM, so grad_cam.png, grad_cam.npy "
            "and a grad_cam row in the table are required",
        )
    if len(result.methods) < MIN_METHODS:
        shown = ", ".join(result.methods) or "none"
        others = [m for m in default_methods() if m not in result.methods][:3]
        result.add(
            "too_few_methods",
            f"only {len(result.methods)} method(s) with readable maps ({shown}); at least "
            f"{MIN_METHODS} are needed, Grad-CAM among them (add e.g. {', '.join(others)})",
        )
    for name, what in ((GRID_FILE, "the comparison grid"), (INPUT_FILE, "the input image")):
        path = open_inside(folder, name, result, "corrupt_map")
        if path is None:
            if not any(p.message.startswith(name) for p in result.problems):
                kind = "missing_grid" if name == GRID_FILE else "missing_input"
                result.add(kind, f"{name} ({what}) is missing")
        elif (error := check_png(path)[1]) is not None:
            result.add("corrupt_map", f"{name} is not a readable PNG ({error})")
    known = {f"{m}.png" for m in methods} | {GRID_FILE, INPUT_FILE}
    extra = [n for n in names if n.endswith(".png") and n not in known]
    if extra:
        result.notes.append(f"not in the table (ignored): {', '.join(map(short, extra[:10]))}")
    maps = [f"{m}{end}" for m in methods for end in (".png", ".npy", "_attributions.npy")]
    hash_files(folder, [INPUT_FILE, *(n for n in maps if n in names)], result)
    if rows is not None:
        result.rows = rows
        check_run_record(folder, rows, result)


def inspect_submission(folder: str | Path, verify=None) -> CheckResult:
    """Check a submission folder (or a .zip of one); the result lists every problem.

    Nothing in the folder is trusted: see the module docstring. An unexpected failure
    while checking becomes a ``checker_error`` problem, never an exception. ``verify``:
    a :class:`helpers.assignment.verify.Verifier` that also recomputes the scores (it
    loads the model; ``--verify``).
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
            _guarded(unpacked.root, result, verify=verify)
            result.problems = [  # name the zip, not the temporary folder
                Problem(p.kind, p.message.replace(str(unpacked.root), str(folder)))
                for p in result.problems
            ]
        return result
    if not folder.is_dir():
        result.add("no_folder", f"{folder} is not a folder or a .zip file")
        return result
    _guarded(folder, result, find_root=True, verify=verify)
    return result


def _guarded(folder: Path, result: CheckResult, find_root: bool = False, verify=None) -> None:
    try:
        root = folder
        if find_root and not any(os.path.lexists(folder / m) for m in (MANIFEST_FILE, CSV_FILE)):
            root = submission_root(folder, (MANIFEST_FILE, CSV_FILE))
            if root != folder:
                result.notes.append(f"checked the folder inside it: {root.relative_to(folder)}")
        _inspect_folder(root, result)
        if verify is not None:
            verify(root, result)
    except (Exception, RecursionError, MemoryError) as exc:  # never a traceback for a student
        result.add(
            "checker_error",
            f"the checker could not finish ({type(exc).__name__}: {short(str(exc), 200)}); "
            "this is a bug in the checker or a very unusual folder: tell your instructor",
        )


def check_submission(folder: str | Path) -> list[Problem]:
    """Every problem of a submission folder (an empty list means complete).

    Each :class:`Problem` has a ``kind`` (e.g. ``"empty_answers"``) and a ``message``.
    """
    return inspect_submission(folder).problems


#: The same function under a name that is not also a module name (for ``helpers.<name>``).
submission_problems = check_submission


USAGE = (
    "usage: python -m helpers.check_submission DIR_OR_ZIP [--verify] | --all SUBMISSIONS_DIR "
    "--csv FILE [--verify]"
)


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
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also recompute the deletion/insertion AUCs, the random map's and the IG gap "
        "from the saved maps and input.png with the model (loads TensorFlow: slower)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or an error already printed as one line
        return int(exc.code or 0)
    if args.all is not None:
        if args.folder is not None or not args.csv:
            parser.error("--all takes a folder and --csv FILE, and no other folder")
        from .gradebook import main_all  # the gradebook uses this module: imported on demand

        return main_all(Path(args.all), Path(args.csv), verify=_verifier(args.verify))
    if args.folder is None or args.csv:
        parser.error("give one submission folder or .zip (or --all DIR --csv FILE)")
    folder = Path(args.folder)
    if not folder.is_dir() and not (folder.is_file() and folder.suffix.lower() == ".zip"):
        what = "does not exist" if not folder.exists() else "is not a folder or a .zip file"
        print(f"error: {folder} {what}", file=sys.stderr)
        return 2
    result = inspect_submission(folder, verify=_verifier(args.verify))
    print(result.report())
    return 0 if result.complete else 1


def _verifier(wanted: bool):
    """A :class:`~helpers.assignment.verify.Verifier` for ``--verify`` (None otherwise)."""
    if not wanted:
        return None
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .verify import Verifier

    return Verifier()


if __name__ == "__main__":
    sys.exit(main())
