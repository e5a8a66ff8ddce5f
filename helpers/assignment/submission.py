"""The submission folder: maps, grid, table and manifest (``make_report`` does it all).

One folder per class holds everything a submission needs::

    results/<class_name>/
        input.png                      the 224 x 224 image the model saw
        <method>.png                   the map over the image (one per method; signed maps
                                       as their magnitude, or signed on a grey photo)
        <method>.npy                   the raw 2-D map (float32, H x W) that the PNG shows
        <method>_attributions.npy      raw (H, W, 3) attributions, for the gradient methods
        comparison_grid.png            all maps side by side
        comparison.csv, comparison.md  the comparison table (computed + your answers), the
                                       random map's scores in its last row (the line to beat)
        submission.json                class, image, model (and why), settings, versions
        run.json                       how each computed number was made: settings, scores,
                                       the maps' hashes (:mod:`helpers.assignment.provenance`)

Importing this module is light (no TensorFlow): the heavy parts are imported when a
function needs them.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..data.files import sha256_of_file
from ..data.labels import class_name as _class_name
from ..data.labels import resolve_class
from ..methods.registry import METHODS
from .choices import default_out_dir
from .folder import backup_table, plan_folder
from .grid import grid_figure
from .provenance import jsonable, read_run_record, run_record, sha256_file, write_run_record
from .rules import (
    COMPUTED_COLUMNS,
    CSV_FILE,
    FAST_METRIC_STEPS,
    FORMAT_VERSION,
    GRID_FILE,
    INPUT_FILE,
    MANIFEST_FILE,
    METRIC_STEPS,
    QUALITATIVE_COLUMNS,
)
from .run import MethodResult, Progress, chosen_methods, random_map_scores, run_methods
from .table import (
    check_answers,
    comparison_table,
    frame_from_table_file,
    merge_table,
    write_markdown,
)
from .table_file import parse_number, replace_file, table_bytes, write_replacing


def _sha256(path: Path) -> str:
    return sha256_of_file(path)  # in chunks: bounded memory whatever the file's size


@dataclass
class Report:
    """What :func:`make_report` wrote, and the numbers behind it."""

    out_dir: Path
    image: np.ndarray
    class_index: int
    class_name: str
    results: dict[str, MethodResult]
    table: Any  # pandas DataFrame
    manifest: dict
    files: list[Path] = field(default_factory=list)

    def figure(self, signed_maps: bool | None = None):
        """The comparison grid again, for display in a notebook (``signed_maps``: as the
        folder was made, unless given)."""
        if signed_maps is None:
            signed_maps = bool(self.manifest.get("signed_maps", False))
        return grid_figure(self.image, self.results, self.manifest.get("title", ""), signed_maps)


def write_submission(
    out_dir: str | Path,
    image: np.ndarray,
    class_index: int,
    results: Mapping[str, MethodResult],
    *,
    image_path: str | Path | None = None,
    image_source: str = "",
    model_name: str = "",
    model_why: str = "",
    top5: list | None = None,
    random_map: Mapping[str, float] | None = None,
    answers: Mapping | None = None,
    replace: bool = False,
    command: str | None = None,
    progress: Progress = None,
    signed_maps: bool = False,
) -> Report:
    """Save maps, grid, table and manifest for results already computed.

    The folder is the student's (:mod:`helpers.assignment.folder`): an existing
    comparison.csv is read as spreadsheets save it and merged (answers, added columns and
    rows, separator and encoding kept); methods not run again keep their maps and rows
    unless ``replace``; a table that cannot be read, a run for another class, image or
    model over earlier work, or an output file that is the input image is refused with
    :class:`ReportError` before anything is written. ``answers`` (non-empty texts) replace
    the table's. ``command``: the command line that made the folder (for the manifest).
    ``signed_maps``: draw signed maps (Integrated Gradients, gradient x input) signed on a
    grey photo instead of as their magnitude, in their PNGs and the grid (the saved .npy
    maps are the same either way).
    """
    import matplotlib.pyplot as plt

    from ..environment import package_versions
    from ..viz.attribution import save_attribution_png
    from ..viz.plots import save_map_png

    out = Path(out_dir)
    class_index = resolve_class(class_index)
    name = _class_name(class_index)
    answers = check_answers(answers or {}, list(results))
    image = np.asarray(image, np.float32)
    plan = plan_folder(
        out,
        results,
        class_index,
        image=image,
        image_path=image_path,
        model_name=model_name or None,
        replace=replace,
    )
    say = progress or (lambda line: None)
    out.mkdir(parents=True, exist_ok=True)
    plan.prepare(say)  # backups (table, edited comparison.md) and removals, each said
    old = plan.old_table
    if old is not None and plan.carry_answers:
        carried = [
            m
            for m in results
            if (row := old.row_of(m)) is not None
            and any(old.cell(row, c).strip() for c in QUALITATIVE_COLUMNS)
        ]
        if carried:
            say(f"kept your answers from the existing {CSV_FILE} for {', '.join(carried)}")
    keep_rows = not (replace or plan.differences)
    old_record = read_run_record(out) if plan.carry_answers else {}
    if random_map is None and keep_rows:  # the scores of the run that wrote the old row
        random_map = _old_random_map(old_record, plan.old_manifest)
    cells = merge_table(old, results, answers, keep_rows, plan.carry_answers, random_map)
    old_rows = {r["method"].strip(): r for r in old.records()} if old is not None else {}

    from PIL import Image

    pixels = Image.fromarray(np.clip(image, 0, 255).round().astype(np.uint8))
    files = [write_replacing(out / INPUT_FILE, pixels.save)]
    for method, r in results.items():
        display = r.display_map.astype(np.float32)
        if METHODS[method].signed:
            files.append(
                write_replacing(
                    out / f"{method}.png",
                    lambda p, d=display: save_attribution_png(d, p, image, signed_maps),
                )
            )
        else:
            files.append(
                write_replacing(
                    out / f"{method}.png", lambda p, d=display: save_map_png(d, p, image=image)
                )
            )
        files.append(write_replacing(out / f"{method}.npy", lambda p, d=display: np.save(p, d)))
        if r.attributions is not None:
            raw = np.asarray(r.attributions, np.float32)
            files.append(
                write_replacing(out / f"{method}_attributions.npy", lambda p, a=raw: np.save(p, a))
            )

    shown = _kept_results(out, plan, image.shape[:2], results, cells, say)
    image_path = Path(image_path) if image_path else None
    title = f"class {class_index} {name}" + (f", {model_name}" if model_name else "")
    previous = plan.old_manifest if plan.kept else {}
    methods = [m for m in cells.methods() if m in METHODS]
    manifest = {
        "format": FORMAT_VERSION,
        "assignment": "saliency maps: compare XAI methods on one ImageNet class (no cats)",
        "title": title,
        "class_index": class_index,
        "class_name": name,
        "image": {
            "file": image_path.name if image_path else None,
            "source": image_source or (str(image_path) if image_path else "an array"),
            "sha256": _sha256(image_path) if image_path and image_path.is_file() else None,
            "model_input": f"{image.shape[0]} x {image.shape[1]}",
        },
        "model": {"name": model_name, "why": model_why},
        "top5": [[int(i), str(n), round(float(p), 4)] for i, n, p in (top5 or [])],
        "class_in_top5": (
            any(int(i) == class_index for i, _, _ in top5) if top5 is not None else None
        ),
        "methods": methods,
        "settings": {
            m: jsonable(results[m].settings) if m in results else _old(previous, "settings", m)
            for m in methods
        },
        "display_maps": {m: METHODS[m].map_description for m in methods},
        "signed_maps": bool(signed_maps),
        "random_map": dict(random_map) if random_map else None,
        "metrics": "deletion (black) and insertion (blurred) curves, "
        "helpers.evaluation.deletion_insertion",
        "runtime_note": "seconds per method after one warm-up call (tracing excluded)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), **package_versions()},
        "command": command,
    }
    text = json.dumps(manifest, indent=2) + "\n"
    files.append(replace_file(out / MANIFEST_FILE, text.encode("utf-8")))
    context = {"model": model_name, "class_index": class_index,
               "input_sha256": sha256_file(out / INPUT_FILE)}  # fmt: skip
    answered_now = {m for m, row in answers.items() if any(row.values())}
    record = run_record(
        out, results, cells.records(), old_rows, old_record, context, random_map, answered_now
    )
    files.append(write_run_record(out, record))

    fig = grid_figure(image, shown, title, signed_maps)
    files.append(write_replacing(out / GRID_FILE, lambda p: fig.savefig(p, dpi=100)))
    plt.close(fig)
    data, style = table_bytes(cells)
    if style != cells.style and old is not None and not plan.backup:
        say(f"your previous table is kept as {backup_table(out).name}")
        say(
            f"{CSV_FILE} is now saved as {style.describe()} ({cells.style.encoding} cannot "
            "hold every character)"
        )
    replace_file(out / CSV_FILE, data, plan.table_stamp)  # not if it changed since read
    table = frame_from_table_file(cells)
    exact = comparison_table(results).set_index("method")[list(COMPUTED_COLUMNS)]
    for method in results:  # this run's numbers at full precision (the csv rounds them)
        table.loc[table["method"] == method, list(COMPUTED_COLUMNS)] = exact.loc[method].values
    files += [out / CSV_FILE, write_markdown(table, out, manifest, plan.markdown.stamp)]
    return Report(out, image, class_index, name, dict(results), table, manifest, files)


def model_input(image: np.ndarray) -> np.ndarray:
    """The image as whole 8-bit pixel values (float32): exactly what ``input.png`` holds, so
    that the maps and scores can be recomputed from the folder (``check_submission
    --verify``). A resized photo's pixels move by at most 0.5, which no map shows."""
    return np.clip(np.asarray(image, np.float32), 0, 255).round().astype(np.float32)


def _old_random_map(record: Mapping, manifest: Mapping) -> dict | None:
    for source in (record, manifest):
        value = source.get("random_map")
        if isinstance(value, dict) and all(
            isinstance(value.get(k), (int, float)) for k in ("deletion_auc", "insertion_auc")
        ):
            return dict(value)
    return None


def _old(manifest: Mapping, key: str, method: str):
    value = manifest.get(key)
    return value.get(method) if isinstance(value, dict) else None


def _kept_results(out, plan, shape, results, cells, say) -> dict[str, MethodResult]:
    """This run's results and, for the grid, the kept methods' saved maps (when readable)."""
    from .safe_files import UnsafeFileError, inside, read_npy

    shown: dict[str, MethodResult] = {}
    for method in cells.methods():
        if method in results:
            shown[method] = results[method]
        elif method in plan.kept:
            try:
                saved = read_npy(inside(out, f"{method}.npy"), ndim=(2,))
            except (FileNotFoundError, UnsafeFileError, OSError) as exc:
                say(f"note: {method}'s saved map is not drawn in the grid ({exc})")
                continue
            if saved.shape != tuple(shape):
                say(f"note: {method}'s saved map is {saved.shape}, not drawn in the grid")
                continue
            gap = parse_number(cells.cell(cells.row_of(method), "ig_completeness_gap"))
            done = SimpleNamespace(relative_gap=gap) if gap == gap else None
            shown[method] = MethodResult(method, saved.astype(np.float32), None, 0.0, {}, done)
    return shown


def make_report(
    model,
    image: np.ndarray,
    class_index: int | str,
    out_dir: str | Path | None = None,
    methods: Iterable[str] | str | None = None,
    *,
    image_path: str | Path | None = None,
    image_source: str = "",
    model_why: str = "",
    settings: Mapping[str, Mapping] | None = None,
    fast: bool = False,
    metric_steps: int | None = None,
    answers: Mapping | None = None,
    replace: bool = False,
    command: str | None = None,
    progress: Progress = print,
    signed_maps: bool = False,
) -> Report:
    """Run the methods on one image and save everything a submission needs.

    Args:
        model: a course model (``helpers.load_model``).
        image: (224, 224, 3) RGB pixels in [0, 255] (``helpers.load_image``), rounded to
            whole pixel values first (:func:`model_input`; ``report.image`` holds them).
        class_index: an index or an unambiguous ImageNet name.
        out_dir: the folder (default ``results/<class_name>``).
        methods: names or ``"grad_cam,ig,..."``, or ``"all"``; None: the default set
            (:func:`~helpers.assignment.run.default_methods`).
        image_path, image_source: the original file and where it came from (manifest).
        model_why: why this model was loaded (:func:`model_reason`).
        settings, fast, metric_steps: see :func:`run_methods`.
        answers: ``{method: {column: text}}`` for the qualitative columns.
        replace: drop the maps and rows of methods not run now (kept otherwise), and start
            over a folder made for another class, image or model (refused otherwise);
            the old table is kept as a timestamped backup.
        command: the command line that made the folder (recorded in the manifest).
        progress: receives progress lines (``print``; None for silence).
        signed_maps: draw Integrated Gradients and gradient x input signed on a grey photo
            (default: their magnitude, which a student can read).
    """
    from ..models.scores import top_k

    class_index = resolve_class(class_index)
    out = Path(out_dir) if out_dir is not None else default_out_dir(class_index)
    image = model_input(image)
    chosen = chosen_methods(methods)
    plan_folder(  # refuse before the work, not after it
        out, chosen, class_index, image=image, image_path=image_path,
        model_name=model.name, replace=replace,
    )  # fmt: skip
    top5 = top_k(model, image, k=5)
    steps = metric_steps or (FAST_METRIC_STEPS if fast else METRIC_STEPS)
    random_map = random_map_scores(model, image, class_index, steps)
    if progress:
        progress(
            f"the line to beat: a random map scores deletion AUC {random_map['deletion_auc']:.3f}"
            f" (lower is better), insertion AUC {random_map['insertion_auc']:.3f} (higher is "
            f"better), {steps} steps"
        )
    results = run_methods(
        model, image, class_index, chosen, settings, fast, steps, progress, random_map
    )
    report = write_submission(
        out,
        image,
        class_index,
        results,
        image_path=image_path,
        image_source=image_source,
        model_name=model.name,
        model_why=model_why,
        top5=top5,
        random_map=random_map,
        answers=answers,
        replace=replace,
        command=command,
        progress=progress,
        signed_maps=signed_maps,
    )
    if progress:
        progress(f"saved {len(report.files)} files in {out}/")
    return report
