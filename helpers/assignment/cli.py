"""The assignment's command lines: ``helpers.explain`` and ``helpers.report``.

``python -m helpers.explain``: explain one image with several saliency methods.

    python -m helpers.explain IMAGE --class NAME_OR_INDEX [--methods grad_cam,ig,...]
                              [--model auto|vgg16|efficientnet_lite0] [--out DIR] [--fast]

Writes the same folder as the assignment notebook (maps as PNG and .npy, the comparison
grid, comparison.csv/.md with empty qualitative columns, submission.json). IMAGE is a file,
or the name of a bundled photo (cat, espresso, grace_hopper, rocket). Arguments are
checked before TensorFlow is imported, so mistakes are reported at once.

Exit status: 0 done; 2 a wrong argument or a folder it must not write over (one-line
message, no traceback); 1 the model could not be loaded or the run failed (one line).

The output folder is the student's (:mod:`helpers.assignment.folder`): answers and the
maps of methods not run again are kept (``--replace`` drops them, keeping a backup of the
table), a table it cannot read is never rewritten, the input image is never overwritten.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import sys
import time
from pathlib import Path

from ..data.images import SAMPLE_IMAGES, ImageLoadError, load_image
from ..data.labels import ClassIndexError, class_name, resolve_class, suggest_classes
from ..environment import CourseSettingError, check_environment
from ..methods.registry import METHODS, methods_help
from .choices import choose_image, default_out_dir, prediction_check
from .rules import (
    CSV_FILE,
    DOMESTIC_CATS,
    FAST_METRIC_STEPS,
    MARKDOWN_FILE,
    METRIC_STEPS,
    MIN_METHODS,
    REQUIRED_METHOD,
    ReportError,
)
from .run import chosen_methods, default_methods

#: Same as helpers.MODEL_NAMES (a test keeps them equal); repeated here so that a
#: wrong --model is reported without importing TensorFlow.
MODEL_CHOICES = ("auto", "vgg16", "efficientnet_lite0")
PROG = "python -m helpers.explain"


class UsageError(ReportError):
    """A wrong argument: reported in one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run several saliency methods on one image and save the maps, a grid and "
        "a comparison table (the assignment's folder).",
        epilog="Example: python -m helpers.explain espresso --class espresso --out "
        "results/espresso.  Then fill in the qualitative columns of comparison.csv, run "
        "`python -m helpers.report DIR` and check with `python -m helpers.check_submission DIR`.",
    )
    parser.add_argument(
        "image",
        help="an image file, or a bundled photo: " + ", ".join(sorted(SAMPLE_IMAGES)),
    )
    parser.add_argument(
        "--class",
        dest="class_",
        required=True,
        metavar="NAME_OR_INDEX",
        help="the ImageNet class to explain: an index (967) or a name ('espresso')",
    )
    parser.add_argument(
        "--methods",
        default=None,
        help="comma-separated method names, or all (every registered method). Default: "
        "the methods already in the --out folder's table (a re-run adds no rows), and for "
        f"a new folder the default set: {', '.join(default_methods())}. "
        f"Methods (short names): {methods_help()}",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="efficientnet_lite0 (the default, or $COURSE_MODEL), vgg16, or auto (VGG16 if "
        "its weights can be had, else the default)",
    )
    parser.add_argument("--out", help="output folder (default: results/<class_name>)")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="drop the maps and rows of methods not run now (kept otherwise) and allow "
        "starting over a folder made for another class, image or model; the old "
        "comparison.csv is kept as comparison-backup-<time>.csv",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="lighter settings for a quick look: "
        + "; ".join(f"{m.name} {m.describe(m.fast)}" for m in METHODS.values() if m.fast)
        .replace("%", "%%")  # argparse formats help with %
        + f"; {FAST_METRIC_STEPS} metric steps instead of {METRIC_STEPS}",
    )
    parser.add_argument(
        "--signed",
        action="store_true",
        help="draw Integrated Gradients and gradient x input signed (red for, blue against) "
        "on a grey photo; default: their magnitude",
    )
    return parser


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def resolve_class_argument(text: str) -> int:
    """The class index for ``--class``; a UsageError explains a wrong or ambiguous one."""
    try:
        return resolve_class(text)
    except ClassIndexError as exc:
        message = str(exc).replace(
            " To look a class up by name use helpers.find_class('banana').", ""
        )
        if "no ImageNet class matches" in message and _is_number(text):
            message = f"class index must be a whole number in 0..999, got {text!r}"
        elif "no ImageNet class matches" in message:
            close = [f"{i} {n}" for i, n in suggest_classes(text)]
            message = f"no ImageNet class matches {text!r}" + (
                f"; did you mean: {', '.join(close)}?" if close else "; try a shorter word"
            )
        raise UsageError(message) from None
    except ValueError as exc:  # e.g. an empty name
        raise UsageError(f"--class: {exc}") from None


def folder_methods(out: Path) -> tuple[str, ...]:
    """The registered methods in the rows of ``out``'s comparison.csv, in order (none when
    there is no table, or one that cannot be read: the folder's plan then says why)."""
    from .safe_files import UnsafeFileError, inside
    from .table_file import read_table_file

    try:
        table = read_table_file(inside(out, CSV_FILE))
    except (FileNotFoundError, UnsafeFileError, ReportError, OSError):
        return ()
    return tuple(dict.fromkeys(m for m in table.methods() if m in METHODS))


def _check_arguments(args) -> tuple[Path, str, int, tuple[str, ...]]:
    try:
        check_environment()  # every COURSE_* setting, before anything is loaded
    except CourseSettingError as exc:
        raise UsageError(str(exc)) from None
    if args.model is not None and args.model not in MODEL_CHOICES:
        close = difflib.get_close_matches(args.model, MODEL_CHOICES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(
            f"unknown model {args.model!r}{hint}; choose one of {', '.join(MODEL_CHOICES)}"
        )
    methods = chosen_methods(args.methods) if args.methods is not None else ()
    class_index = resolve_class_argument(args.class_)
    path, source = choose_image(args.image)
    return path, source, class_index, methods


def run(argv: list[str] | None = None) -> int:
    """The command; returns its exit status. No traceback reaches the user."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # argparse: --help or a usage error already printed
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1


def one_line(exc: BaseException) -> str:
    """An exception as one line: its message; the type is added only for an unexpected
    one (a bug, where the type helps), never for the errors the tools raise on purpose."""
    from ..data.labels import ClassIndexError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (ReportError, OSError, ImageLoadError, ClassIndexError)):
        return text
    return f"{text} ({type(exc).__name__})"


def _methods_for(
    asked: str | None, out: Path, chosen: tuple[str, ...]
) -> tuple[tuple[str, ...], str]:
    """The methods to run and why: as asked; else the folder's own (a re-run adds no
    rows); else the default set."""
    if asked is not None:
        return chosen, "as asked"
    held = folder_methods(out) if out.is_dir() else ()
    if held:
        return held, f"the methods already in {out}; --methods to choose others"
    return default_methods(), "the default set; --methods all for every method"


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        path, source, class_index, methods = _check_arguments(args)
        try:
            image = load_image(path)
        except ImageLoadError as exc:
            raise UsageError(str(exc)) from None
        out = Path(args.out) if args.out else default_out_dir(class_index)
        methods, which = _methods_for(args.methods, out, methods)
        from .folder import plan_folder

        plan_folder(out, methods, class_index, image=image, image_path=path, replace=args.replace)
    except (UsageError, ReportError) as exc:
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 2

    name = class_name(class_index)
    print(f"image: {path} ({source}), class: {class_index} {name}")
    print(f"methods: {', '.join(methods)} ({which}){' (fast settings)' if args.fast else ''}")
    if class_index in DOMESTIC_CATS:
        print("note: this is a domestic cat; the assignment's checker refuses cat classes")
    if REQUIRED_METHOD not in methods or len(methods) < MIN_METHODS:
        print(
            f"note: a complete submission needs at least {MIN_METHODS} methods, "
            f"{REQUIRED_METHOD} among them"
        )
    print("loading TensorFlow and the model ...", flush=True)
    start = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import matplotlib

    matplotlib.use("Agg")
    from ..models.loading import ModelUnavailableError, load_model
    from ..models.scores import top_k
    from .choices import model_reason
    from .submission import make_report, model_input

    image = model_input(image)  # the pixels input.png will hold, as make_report uses them
    try:
        why = model_reason(args.model)
        model = load_model(args.model, verbose=False)
    except (ModelUnavailableError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    print(f"model: {model.name} ({why}), ready in {time.perf_counter() - start:.1f} s")
    top5 = top_k(model, image, k=5)
    print("top-5: " + ", ".join(f"{i} {n} {p:.3f}" for i, n, p in top5))
    print(prediction_check(top5, class_index)[1], flush=True)
    command = "python -m helpers.explain " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    try:
        report = make_report(
            model,
            image,
            class_index,
            out,
            methods,
            image_path=path,
            image_source=source,
            model_why=why,
            fast=args.fast,
            signed_maps=args.signed,
            replace=args.replace,
            command=command,
            progress=lambda line: print(line, flush=True),
        )
    except ReportError as exc:  # e.g. the folder holds another model's maps
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    then = " && ".join(course_commands(report.out_dir))
    print(
        f"done in {time.perf_counter() - start:.1f} s. Next: answer the qualitative columns in "
        f"{report.out_dir / 'comparison.csv'}, then run: {then}"
    )
    return 0


def main() -> None:
    sys.exit(run())


def course_commands(out_dir: str | Path, cwd: str | Path | None = None) -> list[str]:
    """The terminal commands for a folder, as lines that work when typed in ``cwd``.

    ``python -m helpers.<command>`` finds ``helpers`` only from the course folder (the one
    that holds ``helpers/``): from anywhere else, ``notebooks/`` included, Python stops with
    "No module named 'helpers'" before any course code runs. So the lines start with a
    ``cd`` to the course folder when ``cwd`` (default: the working folder) is elsewhere, and
    name ``out_dir`` relative to it.
    """
    from ..paths import PROJECT_ROOT

    here = Path(cwd or Path.cwd()).resolve()
    folder = Path(out_dir).resolve()
    try:
        shown = folder.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        shown = folder.as_posix()
    lines = [] if here == PROJECT_ROOT else [f"cd {shlex.quote(PROJECT_ROOT.as_posix())}"]
    lines += [
        f"python -m helpers.report {shlex.quote(shown)}",
        f"python -m helpers.check_submission {shlex.quote(shown)}",
    ]
    return lines


def export_course_path() -> str:
    """Put the course folder on ``PYTHONPATH`` for commands this process starts, so that a
    notebook cell's ``!python -m helpers.check_submission results/...`` works from
    ``notebooks/`` (the kernel itself finds ``helpers`` through the setup cell). Returns
    the new value."""
    from ..paths import PROJECT_ROOT

    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(PROJECT_ROOT) not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *parts])
    return os.environ["PYTHONPATH"]


REPORT_USAGE = "python -m helpers.report DIR"


def report_main(argv: list[str] | None = None) -> int:
    """``python -m helpers.report DIR``: rewrite comparison.md from comparison.csv.

    comparison.csv itself is never rewritten (it is the student's file, in whatever form
    their spreadsheet saved it); anything malformed is one line on stderr, exit status 2.
    """
    prog = "python -m helpers.report"
    try:
        return _report(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (ReportError, OSError) as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 1


def _report(args: list[str]) -> int:
    from .table import fill_answers, method_rows, unanswered

    if args and args[0] in ("-h", "--help"):
        print(
            "usage: python -m helpers.report DIR\n\nRewrite DIR/comparison.md from "
            "DIR/comparison.csv (after you filled in the answers in the csv by hand)."
        )
        return 0
    if len(args) != 1:
        raise ReportError(f"give one folder, got {len(args)} arguments (usage: {REPORT_USAGE})")
    folder = Path(args[0])
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise ReportError(f"{folder} {what}: give the folder that holds {CSV_FILE}")
    table = fill_answers(folder)
    missing = unanswered(table)
    print(
        f"rewrote {folder / MARKDOWN_FILE} ({len(method_rows(table))} rows, "
        f"{len(missing)} answers still empty or placeholders)"
    )
    return 0
