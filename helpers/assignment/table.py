"""The comparison table: computed columns and the student's answers, as csv and Markdown."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .markdown_answers import BR_TAG, markdown_edits, markdown_lines, markdown_text, sign
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
from .table_file import (
    CsvStyle,
    FileStamp,
    TableFile,
    format_number,
    keep_backup,
    new_table_file,
    parse_number,
    read_table_file,
    replace_file,
    write_table_file,
)


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


def table_file_from_frame(table, style: CsvStyle | None = None) -> TableFile:
    """The cells of a comparison DataFrame (its columns in order), numbers formatted."""
    out = TableFile([str(c) for c in table.columns], [], style or CsvStyle())
    for record in table.to_dict("records"):
        out.rows.append([_cell_text(c, record[c], out.style) for c in out.header])
    return out


def _cell_text(column: str, value, style: CsvStyle) -> str:
    if column in COMPUTED_COLUMNS:
        if isinstance(value, str):
            return value
        if column == "runtime_s" and value is not None and value == value:
            value = round(float(value), 4)
        return format_number(value, style)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def frame_from_table_file(table: TableFile):
    """A DataFrame of the table: every column, computed ones as floats (NaN when empty)."""
    import pandas as pd

    records = table.records()
    columns = list(dict.fromkeys(table.header))
    frame = pd.DataFrame(records, columns=columns).astype(object)
    for column in COMPUTED_COLUMNS:
        frame[column] = [parse_number(r[column]) for r in records]
        frame[column] = frame[column].astype(float)
    for column in ("method", "settings", *QUALITATIVE_COLUMNS):
        frame[column] = [r[column] for r in records]
    return frame


def write_table(table, out_dir: str | Path, manifest: Mapping | None = None) -> tuple[Path, Path]:
    """Write a new comparison.csv and comparison.md from a DataFrame (the md with the class,
    image and model). :func:`helpers.assignment.submission.write_submission` merges with
    an existing table instead."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_table_file(out / CSV_FILE, table_file_from_frame(table))
    return out / CSV_FILE, write_markdown(table, out, manifest)


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


def read_table_cells(out_dir: str | Path) -> TableFile:
    """comparison.csv's cells; :class:`ReportError` when it is missing or malformed."""
    path = Path(out_dir) / CSV_FILE
    if not os.path.lexists(path):
        raise ReportError(f"{path} does not exist: run the methods first (make_report)")
    from .safe_files import UnsafeFileError, inside

    try:
        return read_table_file(inside(Path(out_dir), CSV_FILE))
    except UnsafeFileError as exc:
        raise ReportError(f"{path}: {exc}") from None


def read_table(out_dir: str | Path):
    """comparison.csv as a DataFrame, read as spreadsheet programs save it (UTF-8 with or
    without BOM, cp1252, ``,``/``;``/tab); answers are text ("" if empty), computed columns
    floats, columns the student added kept."""
    return frame_from_table_file(read_table_cells(out_dir))


def fill_answers(out_dir: str | Path, answers: Mapping | None = None, progress=print):
    """Write your answers into the folder's table (csv and md) and return the table.

    ``answers``: ``{method: {column: text}}`` with the columns in
    :data:`QUALITATIVE_COLUMNS`. Each non-empty text replaces what the table held; an
    empty text leaves the cell as it is (a notebook's blank template never erases answers
    typed into the csv). The csv keeps its separator, encoding and extra columns. With no
    answers only comparison.md is rewritten from comparison.csv (after editing the csv).
    Answers typed into comparison.md are merged into empty csv cells (the csv backed up
    first) and an edited comparison.md is kept as a backup
    (:mod:`~helpers.assignment.markdown_answers`); ``progress`` hears about it. A file
    that changed while this ran is not written over.
    """
    say = progress or (lambda line: None)
    cells = read_table_cells(out_dir)
    manifest = read_manifest(out_dir)
    edits = markdown_edits(out_dir, cells)
    merged = edits.merge_into(cells)
    changed = bool(merged)
    if merged:
        backup = keep_backup(Path(out_dir) / CSV_FILE, "comparison-backup-", ".csv")
        say(
            f"copied the answers typed into {MARKDOWN_FILE} into {CSV_FILE} "
            f"({', '.join(merged)}); the csv as it was is kept as {backup.name}"
        )
    for method, row in check_answers(answers or {}, cells.methods()).items():
        target = cells.row_of(method)
        for column, text in row.items():
            if text and cells.cell(target, column) != text:
                target[cells.column(column)] = text
                changed = True
    if changed:
        write_table_file(Path(out_dir) / CSV_FILE, cells)
    edits.keep(Path(out_dir), say)
    table = frame_from_table_file(cells)
    write_markdown(table, out_dir, manifest, edits.stamp)
    return table


def merge_table(
    old: TableFile | None,
    results: Mapping[str, MethodResult],
    answers: Mapping[str, Mapping[str, str]],
    keep_rows: bool,
    carry_answers: bool,
) -> TableFile:
    """The new comparison table: the old one (its style, columns and, with ``keep_rows``,
    the rows of methods not run again) with a fresh computed row for each result.

    A result's row keeps its old answers and extra cells when ``carry_answers``;
    ``answers`` (non-empty texts) replace them.
    """
    table = TableFile(list(old.header), [], old.style) if old is not None else new_table_file()
    fresh = comparison_table(results)
    new_rows = table_file_from_frame(fresh, table.style)
    by_method = {r[0]: dict(zip(new_rows.header, r, strict=True)) for r in new_rows.rows}
    placed = set()
    for row in old.rows if old is not None else []:
        method = row[old.column("method")].strip()
        if method in by_method:
            base = row if carry_answers else [""] * len(table.header)
            table.rows.append(_updated_row(table, base, by_method[method], answers.get(method)))
            placed.add(method)
        elif keep_rows:
            table.rows.append(list(row))
    for method, computed in by_method.items():
        if method not in placed:
            base = [""] * len(table.header)
            table.rows.append(_updated_row(table, base, computed, answers.get(method)))
    return table


def _updated_row(table: TableFile, base: list[str], computed: Mapping, answers) -> list[str]:
    row = list(base)
    for column in ("method", "settings", *COMPUTED_COLUMNS):
        row[table.column(column)] = computed[column]
    for column, text in (answers or {}).items():
        if text:
            row[table.column(column)] = text
    return row


def unanswered(table) -> list[tuple[str, str]]:
    """(method, column) of every qualitative cell that is still empty."""
    return [
        (row["method"], column)
        for row in table.to_dict("records")
        for column in QUALITATIVE_COLUMNS
        if not str(row[column]).strip()
    ]
