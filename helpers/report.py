"""The assignment's report: run several saliency methods on one image, save and compare them.

One folder per class holds everything a submission needs::

    results/<class_name>/
        input.png                      the 224 x 224 image the model saw
        <method>.png                   the map over the image (one per method)
        <method>.npy                   the raw 2-D map (float32, H x W) that the PNG shows
        <method>_attributions.npy      raw (H, W, 3) attributions, for the gradient methods
        comparison_grid.png            all maps side by side
        comparison.csv, comparison.md  the comparison table (computed + your answers)
        submission.json                class, image, model (and why), settings, versions

Shared by the assignment notebook, ``python -m helpers.explain`` (the command line) and
``python -m helpers.check_submission`` (which reads the folder back).
``python -m helpers.report DIR`` rewrites comparison.md from comparison.csv after you have
edited the csv by hand.

Importing this module is light (no TensorFlow): the heavy parts are imported when a
function needs them, so the command-line tools can check their arguments first.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import platform
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .labels import class_name as _class_name
from .labels import resolve_class

#: Every method the report can run, in the order the assignment introduces them.
METHODS: tuple[str, ...] = (
    "grad_cam",
    "vanilla_gradients",
    "smoothgrad",
    "integrated_gradients",
    "gradient_x_input",
    "occlusion",
)
METHOD_TITLES: dict[str, str] = {
    "grad_cam": "Grad-CAM",
    "vanilla_gradients": "Vanilla gradients",
    "smoothgrad": "SmoothGrad",
    "integrated_gradients": "Integrated Gradients",
    "gradient_x_input": "Gradient x input",
    "occlusion": "Occlusion",
}
#: Short names accepted on the command line (``--methods gradcam,ig``).
METHOD_ALIASES: dict[str, str] = {
    "gradcam": "grad_cam",
    "vanilla": "vanilla_gradients",
    "gradients": "vanilla_gradients",
    "saliency": "vanilla_gradients",
    "sg": "smoothgrad",
    "smooth_grad": "smoothgrad",
    "ig": "integrated_gradients",
    "gxi": "gradient_x_input",
    "gradient_input": "gradient_x_input",
    "occlusion_sensitivity": "occlusion",
}

#: Settings used unless you pass others. About 10 s for all six methods with
#: EfficientNet-Lite0 on 2 CPU cores (VGG16 on a CPU: several minutes).
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "grad_cam": {"layer": None},  # None: helpers.grad_cam_layer (last conv block, rectified)
    "vanilla_gradients": {},
    "smoothgrad": {"n": 25, "noise": 0.15, "seed": 0},
    "integrated_gradients": {"steps": 64, "baseline": None},  # None: a black image
    "gradient_x_input": {},
    "occlusion": {"patch": 32, "stride": 16},
}
#: Lighter settings for quick runs and tests (``--fast``): coarser, noisier maps.
FAST_SETTINGS: dict[str, dict[str, Any]] = {
    "smoothgrad": {"n": 8},
    "integrated_gradients": {"steps": 16},
    "occlusion": {"patch": 56, "stride": 28},
}
#: Steps of the deletion and insertion curves (each step is one forward pass per curve).
METRIC_STEPS = 32
FAST_METRIC_STEPS = 12

#: How each method's output becomes the 2-D map that is drawn, saved and scored.
REDUCTIONS: dict[str, str] = {
    "grad_cam": "already 2-D: ReLU of the weighted feature maps, upsampled, scaled to [0, 1]",
    "vanilla_gradients": "max |gradient| over the RGB channels",
    "smoothgrad": "max |averaged gradient| over the RGB channels",
    "integrated_gradients": "signed sum over the RGB channels",
    "gradient_x_input": "signed sum over the RGB channels",
    "occlusion": "already 2-D: drop in the class logit when a patch is greyed out",
}
_CHANNEL_REDUCTION = {
    "vanilla_gradients": "max_abs",
    "smoothgrad": "max_abs",
    "integrated_gradients": "sum",
    "gradient_x_input": "sum",
}

COMPUTED_COLUMNS: tuple[str, ...] = (
    "runtime_s",
    "ig_completeness_gap",
    "deletion_auc",
    "insertion_auc",
)
QUALITATIVE_COLUMNS: tuple[str, ...] = (
    "what_it_highlights",
    "on_the_object",
    "noise_level",
    "would_you_trust_it",
)
#: The question behind each qualitative column (shown in the notebook and in comparison.md).
QUESTIONS: dict[str, str] = {
    "what_it_highlights": "Which parts of the image does the map light up?",
    "on_the_object": "Is the highlight on the object of your class? (yes / partly / no, and where)",
    "noise_level": "How noisy is it? (low / medium / high: scattered speckles or clean blobs?)",
    "would_you_trust_it": "Would you trust it to explain the prediction? (yes / partly / no, why)",
}
TABLE_COLUMNS: tuple[str, ...] = ("method", "settings", *COMPUTED_COLUMNS, *QUALITATIVE_COLUMNS)
MARKDOWN_HEADERS: dict[str, str] = {
    "method": "method",
    "settings": "settings",
    "runtime_s": "runtime (s)",
    "ig_completeness_gap": "IG completeness gap",
    "deletion_auc": "deletion AUC (lower is better)",
    "insertion_auc": "insertion AUC (higher is better)",
    "what_it_highlights": "what it highlights",
    "on_the_object": "on the object?",
    "noise_level": "how noisy?",
    "would_you_trust_it": "would you trust it?",
}

INPUT_FILE = "input.png"
GRID_FILE = "comparison_grid.png"
CSV_FILE = "comparison.csv"
MARKDOWN_FILE = "comparison.md"
MANIFEST_FILE = "submission.json"
FORMAT_VERSION = 1

Progress = Callable[[str], None] | None


class ReportError(ValueError):
    """A request the report cannot carry out (unknown method, bad answers table...)."""


# --------------------------------------------------------------------------- choices


def _norm(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def parse_methods(methods: str | Iterable[str] | None) -> tuple[str, ...]:
    """Method names from ``"grad_cam,ig"`` or a list; None or ``"all"`` gives every method.

    Case, hyphens and the short names in :data:`METHOD_ALIASES` are accepted; duplicates
    are dropped; an unknown name raises :class:`ReportError` listing the valid ones.
    """
    if methods is None:
        return METHODS
    parts = methods.split(",") if isinstance(methods, str) else list(methods)
    chosen: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ReportError(f"method names are strings, got {part!r}")
        key = _norm(part)
        if not key:
            continue
        if key == "all":
            chosen.extend(METHODS)
            continue
        key = METHOD_ALIASES.get(key, key)
        if key not in METHODS:
            close = difflib.get_close_matches(key, [*METHODS, *METHOD_ALIASES], n=1, cutoff=0.6)
            hint = f" Did you mean {METHOD_ALIASES.get(close[0], close[0])}?" if close else ""
            raise ReportError(
                f"unknown method {part.strip()!r}.{hint} Valid methods: {', '.join(METHODS)} "
                "(or 'all')."
            )
        chosen.append(key)
    unique = tuple(dict.fromkeys(chosen))
    if not unique:
        raise ReportError(f"no method given; choose from {', '.join(METHODS)}")
    return unique


def method_settings(
    methods: Iterable[str], fast: bool = False, overrides: Mapping[str, Mapping] | None = None
) -> dict[str, dict[str, Any]]:
    """Settings for each method: the defaults, then ``--fast`` values, then ``overrides``."""
    settings = {}
    for method in methods:
        values = dict(DEFAULT_SETTINGS[method])
        if fast:
            values.update(FAST_SETTINGS.get(method, {}))
        values.update((overrides or {}).get(method, {}))
        settings[method] = values
    unknown = set(overrides or {}) - set(settings)
    if unknown:
        raise ReportError(f"settings given for methods that are not run: {sorted(unknown)}")
    return settings


def folder_name(class_index: int) -> str:
    """A safe folder name for a class: 967 -> 'espresso', 620 -> 'laptop'."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", _class_name(class_index)).strip("_")
    return name or f"class_{class_index}"


def default_out_dir(class_index: int, root: str | Path = "results") -> Path:
    """``results/<class_name>``: where the notebook and the command line save a class."""
    return Path(root) / folder_name(class_index)


def choose_image(choice: str | Path, upload_dir: str | Path = "uploads") -> tuple[Path, str]:
    """Where the image comes from: ``(path, description)``.

    ``choice``: a bundled photo's name (``"espresso"``, see ``helpers.SAMPLE_IMAGES``), a
    file path, or ``"upload"`` to pick a file in Colab (saved under ``upload_dir``).
    """
    from .environment import in_colab
    from .images import SAMPLE_IMAGES

    text = str(choice).strip()
    if text == "upload":
        if not in_colab():
            raise ReportError(
                '"upload" opens a file picker in Colab only; here, give the path of your '
                'image file instead, e.g. IMAGE = "my_photos/banana.jpg"'
            )
        from google.colab import files  # type: ignore[import-not-found]

        uploaded = files.upload()  # a file picker under the cell
        if not uploaded:
            raise ReportError("no file was uploaded: run the cell again and pick an image")
        name, data = next(iter(uploaded.items()))
        path = Path(upload_dir) / Path(name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path, f"uploaded file {Path(name).name}"
    if text in SAMPLE_IMAGES:
        return SAMPLE_IMAGES[text], f"bundled sample '{text}'"
    path = Path(text).expanduser()
    if not path.is_file():
        raise ReportError(
            f"no image file at {path} (working folder {Path.cwd()}); give a path, 'upload' "
            f"(Colab), or a bundled photo: {', '.join(sorted(SAMPLE_IMAGES))}"
        )
    return path, f"file {path.name}"


def model_reason(name: str | None = None) -> str:
    """Why ``helpers.load_model(name)`` loads the model it loads (for the manifest)."""
    if name is None:
        from .models import default_model

        return default_model()[1]
    if name != "auto":
        return "asked for by name"
    from .models import choose_model

    return choose_model()[1]


# --------------------------------------------------------------------------- running


@dataclass
class MethodResult:
    """One method's output on one image, with its cost and scores."""

    method: str
    display_map: np.ndarray  # (H, W) float32: what the PNG shows and the metrics rank
    attributions: np.ndarray | None  # (H, W, 3) raw attributions, gradient methods only
    runtime_s: float
    settings: dict[str, Any]
    completeness: Any = None  # helpers.Completeness for Integrated Gradients
    deletion_auc: float | None = None
    insertion_auc: float | None = None

    @property
    def ig_completeness_gap(self) -> float | None:
        """|sum(attributions) - (f(x) - f(x'))| / |f(x) - f(x')| (IG only)."""
        return None if self.completeness is None else float(self.completeness.relative_gap)

    @property
    def settings_text(self) -> str:
        return describe_settings(self.method, self.settings)


def describe_settings(method: str, settings: Mapping[str, Any]) -> str:
    """The settings in words, e.g. 'n=25, noise 15% of the range, seed 0'."""
    s = {**DEFAULT_SETTINGS[method], **settings}
    if method == "grad_cam":
        return f"layer {s['layer']}" if s.get("layer") else "the last conv block's output"
    if method == "smoothgrad":
        return f"n={s['n']}, noise {s['noise']:.0%} of the range, seed {s['seed']}"
    if method == "integrated_gradients":
        base = s.get("baseline")
        base = "black" if base is None else (f"{base}" if np.ndim(base) == 0 else "custom")
        return f"{s['steps']} steps, {base} baseline"
    if method == "occlusion":
        fill = "mean-colour" if s.get("fill") is None else f"{s['fill']}"
        return f"patch {s['patch']}, stride {s['stride']}, {fill} fill"
    return "-"


def _warm_up(model, image: np.ndarray, class_index: int, methods: Iterable[str]) -> None:
    """Trace the compiled functions once, so that runtimes compare the methods, not tracing."""
    from .attribution import vanilla_gradients
    from .gradcam import grad_cam
    from .gradients import batch_logits

    batch_logits(model, image[None])
    vanilla_gradients(model, image, class_index)
    if "grad_cam" in methods:
        grad_cam(model, image, class_index)


def _run_one(model, image: np.ndarray, class_index: int, method: str, settings: dict):
    """(display map, raw attributions or None, completeness or None, resolved settings)."""
    from . import attribution
    from .gradcam import grad_cam
    from .layers import grad_cam_layer
    from .maps import reduce_channels
    from .occlusion_sensitivity import occlusion

    settings = dict(settings)
    completeness = None
    raw = None
    if method == "grad_cam":
        settings["layer"] = settings.get("layer") or grad_cam_layer(model)
        display = grad_cam(model, image, class_index, **settings)
    elif method == "occlusion":
        display = occlusion(model, image, class_index, **settings)
    elif method == "vanilla_gradients":
        raw = attribution.vanilla_gradients(model, image, class_index, **settings)
    elif method == "gradient_x_input":
        raw = attribution.gradient_x_input(model, image, class_index, **settings)
    elif method == "smoothgrad":
        raw = attribution.smoothgrad(model, image, class_index, **settings)
    elif method == "integrated_gradients":
        raw, completeness = attribution.integrated_gradients(model, image, class_index, **settings)
    else:  # parse_methods keeps this out
        raise ReportError(f"unknown method {method!r}")
    if raw is not None:
        display = reduce_channels(raw, _CHANNEL_REDUCTION[method])
    return np.asarray(display, np.float32), raw, completeness, settings


def random_map_scores(
    model, image: np.ndarray, class_index: int, steps: int = METRIC_STEPS, seed: int = 0
) -> dict[str, float]:
    """Deletion/insertion AUC of a map of uniform noise: the score to beat."""
    from .metrics import deletion_insertion_auc, random_saliency

    noise = random_saliency(image.shape[:2], seed)
    return deletion_insertion_auc(model, image, class_index, noise, steps=steps)


def run_methods(
    model,
    image: np.ndarray,
    class_index: int,
    methods: Iterable[str] | str | None = None,
    settings: Mapping[str, Mapping] | None = None,
    fast: bool = False,
    metric_steps: int | None = None,
    progress: Progress = print,
) -> dict[str, MethodResult]:
    """Run each method on one image, timed (after a warm-up), and score its map.

    ``settings`` override :data:`DEFAULT_SETTINGS` per method; ``fast`` uses
    :data:`FAST_SETTINGS`. ``metric_steps`` (default 32, or 12 when fast) is the number of
    steps of the deletion and insertion curves. ``progress`` receives one line per method.
    """
    from .metrics import deletion_insertion_auc

    methods = parse_methods(methods)
    chosen = method_settings(methods, fast, settings)
    steps = metric_steps or (FAST_METRIC_STEPS if fast else METRIC_STEPS)
    image = np.asarray(image, np.float32)
    _warm_up(model, image, class_index, methods)
    results: dict[str, MethodResult] = {}
    width = max(len(m) for m in methods)
    for i, method in enumerate(methods, start=1):
        start = time.perf_counter()
        display, raw, completeness, used = _run_one(
            model, image, class_index, method, chosen[method]
        )
        runtime = time.perf_counter() - start
        scores = deletion_insertion_auc(model, image, class_index, display, steps=steps)
        result = MethodResult(
            method,
            display,
            raw,
            runtime,
            used,
            completeness,
            float(scores["deletion_auc"]),
            float(scores["insertion_auc"]),
        )
        results[method] = result
        if progress:
            gap = result.ig_completeness_gap
            extra = f", completeness gap {gap:.1%}" if gap is not None else ""
            progress(
                f"[{i}/{len(methods)}] {method:<{width}} {runtime:6.2f} s   deletion AUC "
                f"{result.deletion_auc:.3f}, insertion AUC {result.insertion_auc:.3f}{extra}"
            )
    return results


# --------------------------------------------------------------------------- the table


def _blank_answers() -> dict[str, str]:
    return dict.fromkeys(QUALITATIVE_COLUMNS, "")


def comparison_table(results: Mapping[str, MethodResult], answers: Mapping | None = None):
    """The comparison table (a pandas DataFrame, one row per method, in :data:`TABLE_COLUMNS`).

    Computed columns come from ``results``; the qualitative ones from ``answers``
    (``{method: {column: text}}``), empty where not given.
    """
    import pandas as pd

    answers = check_answers(answers or {}, list(results))
    rows = []
    for method, r in results.items():
        row = {
            "method": method,
            "settings": r.settings_text,
            "runtime_s": round(r.runtime_s, 4),
            "ig_completeness_gap": r.ig_completeness_gap,
            "deletion_auc": r.deletion_auc,
            "insertion_auc": r.insertion_auc,
        }
        row.update(_blank_answers())
        row.update(answers.get(method, {}))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def check_answers(answers: Mapping, methods: Iterable[str]) -> dict[str, dict[str, str]]:
    """Validate ``{method: {column: text}}``: known methods and columns, text values."""
    methods = list(methods)
    if not isinstance(answers, Mapping):
        raise ReportError(f"answers must be a dict {{method: {{column: text}}}}, got {answers!r}")
    clean: dict[str, dict[str, str]] = {}
    for method, row in answers.items():
        if method not in methods:
            raise ReportError(
                f"answers name the method {method!r}, which is not in the table; "
                f"the table's methods are {', '.join(methods)}"
            )
        if not isinstance(row, Mapping):
            raise ReportError(f"answers[{method!r}] must be a dict {{column: text}}, got {row!r}")
        for column, text in row.items():
            if column not in QUALITATIVE_COLUMNS:
                raise ReportError(
                    f"answers[{method!r}] has the column {column!r}; the columns you fill in "
                    f"are {', '.join(QUALITATIVE_COLUMNS)}"
                )
            if not isinstance(text, str):
                raise ReportError(f"answers[{method!r}][{column!r}] must be text, got {text!r}")
        clean[method] = {column: text.strip() for column, text in row.items()}
    return clean


def _format_cell(column: str, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if column == "ig_completeness_gap":
        return f"{float(value):.1%}"
    if column == "runtime_s":
        return f"{float(value):.2f}"
    if column in ("deletion_auc", "insertion_auc"):
        return f"{float(value):.3f}"
    return str(value).strip().replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def markdown_table(table) -> str:
    """A GitHub-flavoured Markdown table of the comparison (no ``tabulate`` needed)."""
    columns = list(TABLE_COLUMNS)
    lines = [
        "| " + " | ".join(MARKDOWN_HEADERS[c] for c in columns) + " |",
        "|" + "|".join("---:" if c in COMPUTED_COLUMNS else "---" for c in columns) + "|",
    ]
    for record in table[columns].to_dict("records"):
        lines.append("| " + " | ".join(_format_cell(c, record[c]) for c in columns) + " |")
    return "\n".join(lines)


def parse_markdown_table(text: str) -> list[dict[str, str]]:
    """Read back the rows of the comparison table in a comparison.md (for the checker)."""
    headers = {v: k for k, v in MARKDOWN_HEADERS.items()}
    lines = text.splitlines()
    header_at = next(
        (
            i
            for i, line in enumerate(lines)
            if (cells := _split_row(line))
            and cells[0] == "method"
            and all(c in headers for c in cells)
        ),
        None,
    )
    if header_at is None:
        return []
    columns = [headers[c] for c in _split_row(lines[header_at])]
    rows = []
    for line in lines[header_at + 2 :]:
        if not line.strip().startswith("|"):
            break
        cells = _split_row(line)
        cells += [""] * (len(columns) - len(cells))
        rows.append(dict(zip(columns, cells, strict=False)))
    return rows


def _split_row(line: str) -> list[str]:
    line = line.strip()
    if not line.startswith("|"):
        return []
    parts = re.split(r"(?<!\\)\|", line.strip("|") if line.endswith("|") else line[1:])
    return [p.strip().replace("\\|", "|").replace("<br>", "\n") for p in parts]


def _markdown_document(table, manifest: Mapping | None) -> str:
    m = manifest or {}
    title = "# Saliency maps"
    lines: list[str] = []
    if "class_index" in m:
        title += f" for ImageNet class {m['class_index']} `{m.get('class_name', '')}`"
    lines += [title, ""]
    image = m.get("image", {})
    if image:
        lines.append(
            f"- **image**: `{image.get('file', '?')}` ({image.get('source', '')}), "
            f"shown to the model at {image.get('model_input', '224 x 224')}"
        )
    model = m.get("model", {})
    if model:
        lines.append(f"- **model**: {model.get('name', '?')} ({model.get('why', '')})")
    if m.get("top5"):
        top = ", ".join(f"{i} {n} {p:.3f}" for i, n, p in m["top5"])
        lines.append(f"- **the model's top-5**: {top}")
        if not m.get("class_in_top5", True):
            lines.append("- **warning**: the chosen class is not among the model's top-5")
    if m.get("random_map"):
        r = m["random_map"]
        lines.append(
            f"- **a random map scores** deletion AUC {r['deletion_auc']:.3f}, insertion AUC "
            f"{r['insertion_auc']:.3f} (the scores to beat)"
        )
    if m.get("created"):
        lines.append(f"- made {m['created']} with `helpers.report`")
    lines += ["", f"![all maps side by side]({GRID_FILE})", "", markdown_table(table), ""]
    lines += [
        "**Computed columns.** *runtime*: seconds for the method alone (after a warm-up). "
        "*IG completeness gap*: |sum of attributions - (f(x) - f(black))| / |f(x) - f(black)| "
        "for Integrated Gradients, where f is the class logit: how far the numerical integral "
        "is from the promise of the method. *Deletion AUC*: area under the class probability "
        "as the most salient pixels are blacked out first (lower: the map found what matters). "
        "*Insertion AUC*: the same while the pixels are put back into a blurred image "
        "(higher is better).",
        "",
        "**Qualitative columns.** "
        + " ".join(f"*{MARKDOWN_HEADERS[c]}* {QUESTIONS[c]}" for c in QUALITATIVE_COLUMNS),
        "",
    ]
    return "\n".join(lines)


def read_manifest(out_dir: str | Path) -> dict:
    """The folder's submission.json ({} if there is none)."""
    path = Path(out_dir) / MANIFEST_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_table(table, out_dir: str | Path, manifest: Mapping | None = None) -> tuple[Path, Path]:
    """Write comparison.csv and comparison.md (the md with the class, image and model)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(out) if manifest is None else manifest
    csv_path, md_path = out / CSV_FILE, out / MARKDOWN_FILE
    table[list(TABLE_COLUMNS)].to_csv(csv_path, index=False, float_format="%.6g")
    md_path.write_text(_markdown_document(table, manifest), encoding="utf-8")
    return csv_path, md_path


def read_table(out_dir: str | Path):
    """comparison.csv as a DataFrame; qualitative answers are kept as text ("" if empty)."""
    import pandas as pd

    path = Path(out_dir) / CSV_FILE
    if not path.is_file():
        raise ReportError(f"{path} does not exist: run the methods first (make_report)")
    text_columns = ["method", "settings", *QUALITATIVE_COLUMNS]
    table = pd.read_csv(
        path,
        dtype=dict.fromkeys(text_columns, str),
        keep_default_na=False,  # an answer like "None" or "NA" stays text
        na_values=dict.fromkeys(COMPUTED_COLUMNS, [""]),
    )
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ReportError(f"{path} lacks the columns {missing}")
    return table[list(TABLE_COLUMNS)]


def fill_answers(out_dir: str | Path, answers: Mapping | None = None):
    """Write your answers into the folder's table (csv and md) and return the table.

    ``answers``: ``{method: {column: text}}`` with the columns in
    :data:`QUALITATIVE_COLUMNS`; every value you give replaces what the table held.
    With no answers, comparison.md is just rewritten from comparison.csv (do that after
    editing the csv by hand).
    """
    table = read_table(out_dir)
    for method, row in check_answers(answers or {}, table["method"]).items():
        for column, text in row.items():
            table.loc[table["method"] == method, column] = text
    write_table(table, out_dir)
    return table


def unanswered(table) -> list[tuple[str, str]]:
    """(method, column) of every qualitative cell that is still empty."""
    return [
        (row["method"], column)
        for row in table.to_dict("records")
        for column in QUALITATIVE_COLUMNS
        if not str(row[column]).strip()
    ]


# --------------------------------------------------------------------------- the folder


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grid_figure(image: np.ndarray, results: Mapping[str, MethodResult], title: str = ""):
    """All maps over the image, side by side (a matplotlib figure)."""
    from .viz import plot_maps

    maps = {}
    for method, r in results.items():
        label = METHOD_TITLES[method]
        if r.method == "integrated_gradients" and r.ig_completeness_gap is not None:
            label += f" (gap {r.ig_completeness_gap:.0%})"
        maps[label] = r.display_map
    return plot_maps(image, maps, ncols=min(len(maps) + 1, 4), suptitle=title)


def _remove_old_outputs(out: Path) -> None:
    """Delete the files an earlier run wrote (and only those), so no stale map survives."""
    names = [INPUT_FILE, GRID_FILE, MARKDOWN_FILE, MANIFEST_FILE]
    for method in METHODS:
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

    def figure(self):
        """The comparison grid again, for display in a notebook."""
        return grid_figure(self.image, self.results, self.manifest.get("title", ""))


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
) -> Report:
    """Save maps, grid, table and manifest for results already computed.

    With ``keep_answers`` (default), answers already written in an existing
    comparison.csv of the folder are kept for the methods that are run again;
    ``answers`` given here take precedence over them. ``command``: the command line that
    made the folder, if any (recorded in the manifest).
    """
    import matplotlib.pyplot as plt

    from .environment import package_versions
    from .viz import save_map_png

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
        files.append(save_map_png(r.display_map, out / f"{method}.png", image=image))
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
        "display_maps": {m: REDUCTIONS[m] for m in results},
        "random_map": dict(random_map) if random_map else None,
        "metrics": "deletion (black) and insertion (blurred) curves, helpers.metrics",
        "runtime_note": "seconds per method after one warm-up call (tracing excluded)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), **package_versions()},
        "command": command,
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files.append(out / MANIFEST_FILE)

    fig = grid_figure(image, results, title)
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
) -> Report:
    """Run the methods on one image and save everything a submission needs.

    Args:
        model: a course model (``helpers.load_model``).
        image: (224, 224, 3) RGB pixels in [0, 255] (``helpers.load_image``).
        class_index: an index or an unambiguous ImageNet name.
        out_dir: the folder (default ``results/<class_name>``).
        methods: names or ``"grad_cam,ig,..."``; default all of :data:`METHODS`.
        image_path, image_source: the original file and where it came from (manifest).
        model_why: why this model was loaded (:func:`model_reason`).
        settings, fast, metric_steps: see :func:`run_methods`.
        answers: ``{method: {column: text}}`` for the qualitative columns.
        command: the command line that made the folder (recorded in the manifest).
        progress: receives progress lines (``print``; None for silence).
    """
    from .scores import top_k

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
    )
    if progress:
        progress(f"saved {len(report.files)} files in {out}/")
    return report


def prediction_check(top5: list, class_index: int) -> tuple[bool, str]:
    """Is the class among the model's top-5? And a message saying so (a warning if not)."""
    rank = next((r for r, (i, _, _) in enumerate(top5, start=1) if int(i) == class_index), None)
    name = _class_name(class_index)
    if rank is not None:
        return True, f"OK: class {class_index} {name} is number {rank} of the model's top-5."
    best = f"{top5[0][0]} {top5[0][1]}" if top5 else "?"
    return False, (
        f"WARNING: class {class_index} {name} is NOT among the model's top-5 (its top-1 is "
        f"{best}). The maps will explain a class the model does not see here: fine for a "
        "discussion, but check the class and the image first."
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.report DIR``: rewrite comparison.md from comparison.csv."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(
            "usage: python -m helpers.report DIR\n\nRewrite DIR/comparison.md from "
            "DIR/comparison.csv (after you filled in the answers in the csv by hand)."
        )
        return 0 if args and args[0] in ("-h", "--help") else 2
    try:
        table = fill_answers(args[0])
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing = unanswered(table)
    print(
        f"rewrote {Path(args[0]) / MARKDOWN_FILE} ({len(table)} methods, "
        f"{len(missing)} answers still empty)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
