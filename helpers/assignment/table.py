"""The comparison table: computed columns and the student's answers, as csv and Markdown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .rules import (
    COMPUTED_COLUMNS,
    CSV_FILE,
    GRID_FILE,
    MANIFEST_FILE,
    MARKDOWN_FILE,
    MARKDOWN_HEADERS,
    QUALITATIVE_COLUMNS,
    QUESTIONS,
    TABLE_COLUMNS,
    ReportError,
)
from .run import MethodResult


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
    for method, row in answers.items():
        problem = next(_answer_problems(method, row, methods), None)
        if problem:
            raise ReportError(problem)
    return {method: {c: text.strip() for c, text in row.items()} for method, row in answers.items()}


def _answer_problems(method, row, methods: list[str]):
    """What is wrong with one method's answers (nothing when they are fine)."""
    if method not in methods:
        listed = ", ".join(methods)
        yield f"answers name the method {method!r}, which is not in the table ({listed})"
    elif not isinstance(row, Mapping):
        yield f"answers[{method!r}] must be a dict {{column: text}}, got {row!r}"
    else:
        for column, text in row.items():
            if column not in QUALITATIVE_COLUMNS:
                yield (
                    f"answers[{method!r}] has the column {column!r}; the columns you fill in "
                    f"are {', '.join(QUALITATIVE_COLUMNS)}"
                )
            elif not isinstance(text, str):
                yield f"answers[{method!r}][{column!r}] must be text, got {text!r}"


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
