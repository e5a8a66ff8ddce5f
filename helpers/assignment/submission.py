"""The submission folder: maps, grid, table and manifest (``make_report`` does it all).

One folder per class holds everything a submission needs::

    results/<class_name>/
        input.png                      the 224 x 224 image the model saw
        <method>.png                   the map over the image (one per method; signed maps
                                       as their magnitude, or signed on a grey photo)
        <method>.npy                   the raw 2-D map (float32, H x W) that the PNG shows
        <method>_attributions.npy      raw (H, W, 3) attributions, for the gradient methods
        comparison_grid.png            all maps side by side
        comparison.csv, comparison.md  the comparison table (computed + your answers)
        submission.json                class, image, model (and why), settings, versions

Importing this module is light (no TensorFlow): the heavy parts are imported when a
function needs them.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..data.labels import class_name as _class_name
from ..data.labels import resolve_class
from ..methods.registry import METHODS
from .choices import default_out_dir
from .rules import (
    CSV_FILE,
    FAST_METRIC_STEPS,
    FORMAT_VERSION,
    GRID_FILE,
    INPUT_FILE,
    MANIFEST_FILE,
    MARKDOWN_FILE,
    METRIC_STEPS,
    QUALITATIVE_COLUMNS,
    ReportError,
)
from .run import MethodResult, Progress, random_map_scores, run_methods
from .table import comparison_table, read_table, write_table


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grid_figure(
    image: np.ndarray,
    results: Mapping[str, MethodResult],
    title: str = "",
    signed_maps: bool = False,
):
    """All maps over the image, side by side (a matplotlib figure). Signed maps (Integrated
    Gradients, gradient x input) show their magnitude, or with ``signed_maps`` the signed
    map on a grey copy of the photo (:mod:`helpers.viz.attribution`)."""
    from ..viz.plots import plot_maps

    maps, signed = {}, []
    for method, r in results.items():
        label = METHODS[method].title if method in METHODS else method
        if r.method == "integrated_gradients" and r.ig_completeness_gap is not None:
            steps = f", {r.ig_steps} steps" if r.ig_steps else ""
            label += f" (gap {r.ig_completeness_gap:.0%}{steps})"
        if method in METHODS and METHODS[method].signed:
            label += " signed" if signed_maps else " |magnitude|"
            signed.append(label)
        maps[label] = r.display_map
    return plot_maps(
        image, maps, ncols=min(len(maps) + 1, 4), suptitle=title, attributions=signed,
        signed=signed_maps,
    )


def _remove_old_outputs(out: Path) -> None:
    """Delete the files an earlier run wrote (and only those), so no stale map survives."""
    names = [INPUT_FILE, GRID_FILE, MARKDOWN_FILE, MANIFEST_FILE]
    for method in METHODS:  # every registered method's files
        names += [f"{method}.png", f"{method}.npy", f"{method}_attributions.npy"]
    for name in names:
        (out / name).unlink(missing_ok=True)


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
    keep_answers: bool = True,
    command: str | None = None,
    progress: Progress = None,
    signed_maps: bool = False,
) -> Report:
    """Save maps, grid, table and manifest for results already computed.

    With ``keep_answers`` (default), answers already written in an existing
    comparison.csv of the folder are kept for the methods that are run again;
    ``answers`` given here take precedence over them. ``command``: the command line that
    made the folder, if any (recorded in the manifest). ``signed_maps``: draw signed maps
    (Integrated Gradients, gradient x input) signed on a grey photo instead of as their
    magnitude, in their PNGs and the grid (the saved .npy maps are the same either way).
    """
    import matplotlib.pyplot as plt

    from ..environment import package_versions
    from ..viz.attribution import save_attribution_png
    from ..viz.plots import save_map_png

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    class_index = resolve_class(class_index)
    name = _class_name(class_index)
    kept: dict[str, dict[str, str]] = {}
    if keep_answers and (out / CSV_FILE).is_file():
        try:
            old = read_table(out)
        except (ReportError, ValueError):
            old = None
        if old is not None:
            for row in old.to_dict("records"):
                filled = {c: row[c] for c in QUALITATIVE_COLUMNS if str(row[c]).strip()}
                if row["method"] in results and filled:
                    kept[row["method"]] = filled
            if kept and progress:
                progress(f"kept your answers from the existing {CSV_FILE} for {', '.join(kept)}")
    merged = {m: {**kept.get(m, {}), **dict((answers or {}).get(m, {}))} for m in results}
    table = comparison_table(results, {m: a for m, a in merged.items() if a})
    _remove_old_outputs(out)
    (out / CSV_FILE).unlink(missing_ok=True)

    from PIL import Image

    image = np.asarray(image, np.float32)
    files = [out / INPUT_FILE]
    Image.fromarray(np.clip(image, 0, 255).round().astype(np.uint8)).save(files[0])
    for method, r in results.items():
        png = out / f"{method}.png"
        if METHODS[method].signed:
            files.append(save_attribution_png(r.display_map, png, image, signed_maps))
        else:
            files.append(save_map_png(r.display_map, png, image=image))
        np.save(out / f"{method}.npy", r.display_map.astype(np.float32))
        files.append(out / f"{method}.npy")
        if r.attributions is not None:
            np.save(out / f"{method}_attributions.npy", np.asarray(r.attributions, np.float32))
            files.append(out / f"{method}_attributions.npy")

    image_path = Path(image_path) if image_path else None
    title = f"class {class_index} {name}" + (f", {model_name}" if model_name else "")
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
        "methods": list(results),
        "settings": {m: _jsonable(r.settings) for m, r in results.items()},
        "display_maps": {m: METHODS[m].map_description for m in results},
        "signed_maps": bool(signed_maps),
        "random_map": dict(random_map) if random_map else None,
        "metrics": "deletion (black) and insertion (blurred) curves, "
        "helpers.evaluation.deletion_insertion",
        "runtime_note": "seconds per method after one warm-up call (tracing excluded)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), **package_versions()},
        "command": command,
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files.append(out / MANIFEST_FILE)

    fig = grid_figure(image, results, title, signed_maps)
    fig.savefig(out / GRID_FILE, dpi=100)
    plt.close(fig)
    files.append(out / GRID_FILE)
    files.extend(write_table(table, out, manifest))
    return Report(out, image, class_index, name, dict(results), table, manifest, files)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return f"array {value.shape}"
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


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
    command: str | None = None,
    progress: Progress = print,
    signed_maps: bool = False,
) -> Report:
    """Run the methods on one image and save everything a submission needs.

    Args:
        model: a course model (``helpers.load_model``).
        image: (224, 224, 3) RGB pixels in [0, 255] (``helpers.load_image``).
        class_index: an index or an unambiguous ImageNet name.
        out_dir: the folder (default ``results/<class_name>``).
        methods: names or ``"grad_cam,ig,..."``; default every registered method.
        image_path, image_source: the original file and where it came from (manifest).
        model_why: why this model was loaded (:func:`model_reason`).
        settings, fast, metric_steps: see :func:`run_methods`.
        answers: ``{method: {column: text}}`` for the qualitative columns.
        command: the command line that made the folder (recorded in the manifest).
        progress: receives progress lines (``print``; None for silence).
        signed_maps: draw Integrated Gradients and gradient x input signed on a grey photo
            (default: their magnitude, which a student can read).
    """
    from ..models.scores import top_k

    class_index = resolve_class(class_index)
    out = Path(out_dir) if out_dir is not None else default_out_dir(class_index)
    image = np.asarray(image, np.float32)
    top5 = top_k(model, image, k=5)
    results = run_methods(
        model, image, class_index, methods, settings, fast, metric_steps, progress
    )
    steps = metric_steps or (FAST_METRIC_STEPS if fast else METRIC_STEPS)
    random_map = random_map_scores(model, image, class_index, steps)
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
        command=command,
        progress=progress,
        signed_maps=signed_maps,
    )
    if progress:
        progress(f"saved {len(report.files)} files in {out}/")
    return report
