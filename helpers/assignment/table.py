"""The comparison table: computed columns and the student's answers, as csv and Markdown."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .markdown import (  # noqa: F401 - re-exported: the table's one import point
    markdown_table,
    parse_markdown_table,
    read_manifest,
    write_markdown,
)
from .markdown_answers import markdown_edits
from .rules import (
    COMPUTED_COLUMNS,
    CSV_FILE,
    MARKDOWN_FILE,
    QUALITATIVE_COLUMNS,
    RANDOM_ROW,
    RANDOM_SEED,
    TABLE_COLUMNS,
    ReportError,
    placeholder_cells,
)
from .run import MethodResult
from .table_file import (
    CsvStyle,
    TableFile,
    format_number,
    keep_backup,
    new_table_file,
    parse_number,
    read_table_file,
    write_table_file,
)


def _blank_answers() -> dict[str, str]:
    return dict.fromkeys(QUALITATIVE_COLUMNS, "")


def random_row_settings(random_map: Mapping) -> str:
    """The random row's settings cell, e.g. 'uniform noise, seed=0: the line to beat'."""
    return f"uniform noise, seed={random_map.get('seed', RANDOM_SEED)}: the line to beat"


def comparison_table(
    results: Mapping[str, MethodResult],
    answers: Mapping | None = None,
    random_map: Mapping | None = None,
):
    """The comparison table (a pandas DataFrame, one row per method, in :data:`TABLE_COLUMNS`).

    Computed columns come from ``results``; the qualitative ones from ``answers``
    (``{method: {column: text}}``), empty where not given. With ``random_map`` (its
    ``deletion_auc`` and ``insertion_auc``) a last row, :data:`RANDOM_ROW`, holds the
    random map's scores: the line every method must beat.
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
    if random_map:
        rows.append(
            {
                "method": RANDOM_ROW,
                "settings": random_row_settings(random_map),
                "runtime_s": None,
                "ig_completeness_gap": None,
                "deletion_auc": float(random_map["deletion_auc"]),
                "insertion_auc": float(random_map["insertion_auc"]),
                **_blank_answers(),
            }
        )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def method_rows(table):
    """The rows of a comparison DataFrame that are not the random map's."""
    return table[table["method"] != RANDOM_ROW]


def random_scores(table) -> dict[str, float] | None:
    """The random map's ``{"deletion_auc", "insertion_auc"}`` from its row (None without)."""
    rows = table[table["method"] == RANDOM_ROW]
    if rows.empty:
        return None
    return {c: float(rows.iloc[0][c]) for c in ("deletion_auc", "insertion_auc")}


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
    methods = [m for m in cells.methods() if m != RANDOM_ROW]
    for method, row in check_answers(answers or {}, methods).items():
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
    random_map: Mapping | None = None,
) -> TableFile:
    """The new comparison table: the old one (its style, columns and, with ``keep_rows``,
    the rows of methods not run again) with a fresh computed row for each result, and
    the random map's row (fresh when ``random_map`` is given) last.

    A result's row keeps its old answers and extra cells when ``carry_answers``;
    ``answers`` (non-empty texts) replace them.
    """
    table = TableFile(list(old.header), [], old.style) if old is not None else new_table_file()
    fresh = comparison_table(results, random_map=random_map)
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
    column = table.column("method")
    table.rows.sort(key=lambda row: row[column].strip() == RANDOM_ROW)  # stable: last
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
    """(method, column) of every qualitative cell still empty or holding a placeholder
    (:data:`helpers.assignment.rules.PLACEHOLDER_RULES`); the random map's row needs none."""
    records = [
        {"method": str(r["method"]), **{c: str(r[c]) for c in QUALITATIVE_COLUMNS}}
        for r in table.to_dict("records")
        if str(r["method"]).strip() != RANDOM_ROW
    ]
    placeholders = placeholder_cells(records)
    return [
        (row["method"], column)
        for row in records
        for column in QUALITATIVE_COLUMNS
        if not row[column].strip() or (row["method"].strip(), column) in placeholders
    ]
