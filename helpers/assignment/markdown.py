"""comparison.md: the comparison table as GitHub shows it, with the class, image, model
and the random map's scores above it; and reading its rows back (for the checker)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .markdown_answers import BR_TAG, markdown_lines, markdown_text, sign
from .rules import (
    COMPUTED_COLUMNS,
    GRID_FILE,
    MANIFEST_FILE,
    MARKDOWN_FILE,
    MARKDOWN_HEADERS,
    QUALITATIVE_COLUMNS,
    QUESTIONS,
    RUN_FILE,
    TABLE_COLUMNS,
    ReportError,
)
from .table_file import FileStamp, replace_file


def _format_cell(column: str, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if column == "ig_completeness_gap":
        return f"{float(value):.1%}"
    if column == "runtime_s":
        return f"{float(value):.2f}"
    if column in ("deletion_auc", "insertion_auc"):
        return f"{float(value):.3f}"
    return markdown_text(str(value))


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
    lines = markdown_lines(text)
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
    return [BR_TAG.sub("\n", p.strip().replace("\\|", "|")) for p in parts]


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
        made_by = f"`{m['command']}`" if m.get("command") else "`make_report` (notebook 11)"
        lines.append(f"- made {m['created']} by {made_by}")
    lines.append(
        f"- **computed columns**: written by the tools and recorded in `{RUN_FILE}` (with the "
        "maps' hashes); the checker compares them, so they are never typed by hand"
    )
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
    """The folder's submission.json ({} if there is none); bounded, never a raw error."""
    from .safe_files import UnsafeFileError, inside, read_json

    out = Path(out_dir)
    if not (out / MANIFEST_FILE).exists():
        return {}
    try:
        manifest = read_json(inside(out, MANIFEST_FILE))
    except (UnsafeFileError, OSError) as exc:
        raise ReportError(f"{out / MANIFEST_FILE} cannot be read: {exc}") from None
    if not isinstance(manifest, dict):
        raise ReportError(f"{out / MANIFEST_FILE} holds a {type(manifest).__name__}, not an object")
    return manifest


def write_markdown(
    table, out_dir: str | Path, manifest: Mapping | None = None, expected: FileStamp | None = None
) -> Path:
    """Write comparison.md (only the assignment's columns) from a comparison DataFrame,
    signed as the tools' (:func:`~helpers.assignment.markdown_answers.sign`). ``expected``:
    comparison.md as read; if it changed since, it is not written over."""
    out = Path(out_dir)
    manifest = read_manifest(out) if manifest is None else manifest
    text = sign(_markdown_document(table, manifest))
    return replace_file(out / MARKDOWN_FILE, text.encode("utf-8"), expected)
