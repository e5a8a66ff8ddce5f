"""The comparison table's checks: comparison.csv read as spreadsheets save it, every row
answered and computed, method names known (never used as paths), comparison.md in step.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..methods.registry import METHODS, canonical_name
from .check_result import CheckResult, open_inside, open_required, short
from .markdown_answers import answer_key
from .rules import (
    COMPUTED_COLUMNS,
    CSV_FILE,
    MARKDOWN_FILE,
    PLACEHOLDER_RULES,
    PLACEHOLDER_WORDS,
    QUALITATIVE_COLUMNS,
    RANDOM_ROW,
    TABLE_COLUMNS,
    placeholder_cells,
)
from .safe_files import UnsafeFileError, read_text, read_text_table
from .table import parse_markdown_table

#: The placeholder words (the rules are :data:`helpers.assignment.rules.PLACEHOLDER_RULES`).
PLACEHOLDERS = frozenset(PLACEHOLDER_WORDS)


def read_csv(folder: Path, result: CheckResult) -> list[dict[str, str]] | None:
    path = open_required(
        folder, CSV_FILE, result, "bad_table", "missing_table",
        f"{CSV_FILE} (the comparison table) is missing: build it with the notebook's "
        "table cells or `python -m helpers.explain`",
    )
    if path is None:
        return None
    try:
        header, rows, how = read_text_table(path, TABLE_COLUMNS, strict=True)
    except (UnsafeFileError, OSError) as exc:
        result.add("bad_table", f"{CSV_FILE} cannot be used: {exc}")
        return None
    if how:
        result.notes.append(f"{CSV_FILE} was read as {how} (as a spreadsheet program saved it)")
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        found = ", ".join(short(c, 30) for c in header[:8]) or "none"
        result.add(
            "bad_table",
            f"{CSV_FILE} lacks the columns: {', '.join(missing)} (its header has: {found})",
        )
        return None
    if not rows:
        result.add("bad_table", f"{CSV_FILE} has no rows (one per method is needed)")
        return None
    return rows


def _number(text: str | None) -> float | None:
    text = (text or "").strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as spreadsheets write in many locales
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def known_method(name: str, result: CheckResult) -> bool:
    """Is ``name`` one of the assignment's methods? Otherwise a problem says which are."""
    if name in METHODS:
        return True
    fix = canonical_name(name)
    hint = f" (write it as {fix})" if fix in METHODS else ""
    result.add(
        "unknown_method",
        f"{CSV_FILE} names an unknown method {short(name, 40)}{hint}; the methods are "
        f"{', '.join(METHODS)}",
    )
    return False


def rule_label(rule: str) -> str:
    """A placeholder rule in a few words (its text up to the examples)."""
    return PLACEHOLDER_RULES[rule].split(" (")[0].split(":")[0]


def check_table(rows: list[dict[str, str]], result: CheckResult) -> list[str]:
    """Check each row; return the known method names of the table, in order."""
    methods: list[str] = []
    placeholders = placeholder_cells(
        [r for r in rows if (r.get("method") or "").strip() in METHODS]
    )
    random_rows = 0
    for row in rows:
        method = (row.get("method") or "").strip()
        if method == RANDOM_ROW:
            random_rows += 1
            _check_random_row(row, result)
            continue
        if not method:
            result.add("bad_table", f"{CSV_FILE} has a row without a method name")
            continue
        if not known_method(method, result):
            continue
        if method in methods:
            result.add("bad_table", f"{CSV_FILE} has two rows for {method}")
            continue
        methods.append(method)
        _check_answers(method, row, placeholders, result)
        needed = [
            c
            for c in COMPUTED_COLUMNS
            if c != "ig_completeness_gap" or method == "integrated_gradients"
        ]
        bad = [c for c in needed if _number(row.get(c)) is None]
        if bad:
            result.add(
                "missing_computed",
                f"table row {method}: no number in {', '.join(bad)} (computed columns are "
                "filled by the report; re-run it rather than typing them)",
            )
    if not random_rows:
        result.add(
            "missing_computed",
            f"{CSV_FILE} has no {RANDOM_ROW} row (the random map's scores, the line every "
            "method must beat): run the methods again to write it",
        )
    result.table_methods = methods
    return methods


def _check_random_row(row: dict[str, str], result: CheckResult) -> None:
    scores = {c: _number(row.get(c)) for c in ("deletion_auc", "insertion_auc")}
    if None in scores.values():
        result.add(
            "missing_computed",
            f"table row {RANDOM_ROW}: no number in "
            f"{', '.join(c for c, v in scores.items() if v is None)} (the line to beat)",
        )
    elif result.random_map is None:
        result.random_map = scores


def _check_answers(method: str, row: dict[str, str], placeholders, result: CheckResult):
    empty = [c for c in QUALITATIVE_COLUMNS if not (row.get(c) or "").strip()]
    fake = [c for c in QUALITATIVE_COLUMNS if (method, c) in placeholders]
    result.answers_total += len(QUALITATIVE_COLUMNS)
    result.answers_filled += len(QUALITATIVE_COLUMNS) - len(empty) - len(fake)
    for column in QUALITATIVE_COLUMNS:
        if column not in empty and column not in fake:
            result.answers[(method, column)] = row[column]
    if empty:
        result.add(
            "empty_answers",
            f"table row {method}: no answer yet for {', '.join(empty)} "
            f"({len(empty)} of {len(QUALITATIVE_COLUMNS)} qualitative cells empty)",
        )
    if fake:
        listed = ", ".join(
            f"{c} {short(row[c].strip(), 30)} ({rule_label(placeholders[(method, c)])})"
            for c in fake
        )
        result.add(
            "placeholder_answers",
            f"table row {method}: placeholders, not answers (not counted as filled): {listed}",
        )


def check_markdown(folder: Path, rows: list[dict[str, str]] | None, result: CheckResult):
    path = open_inside(folder, MARKDOWN_FILE, result, "bad_table")
    if path is None:
        if not any(MARKDOWN_FILE in p.message for p in result.problems):
            result.add(
                "missing_table",
                f"{MARKDOWN_FILE} (the table as GitHub shows it) is missing: re-run the "
                f"notebook's answers cell or `python -m helpers.report {folder}`",
            )
        return
    try:
        md_rows = parse_markdown_table(read_text(path))
    except (UnsafeFileError, OSError) as exc:
        result.add("bad_table", f"{MARKDOWN_FILE} cannot be used: {exc}")
        return
    if not md_rows:
        result.add("bad_table", f"{MARKDOWN_FILE} holds no comparison table")
        return
    if rows is None:
        return
    by_method = {r.get("method", ""): r for r in md_rows}
    differ = []
    for row in rows:
        method = (row.get("method") or "").strip()  # as the report writes it
        md = by_method.get(method)
        if md is None:
            differ.append(f"{short(method, 40)} (no row)")
            continue
        for c in QUALITATIVE_COLUMNS:
            if answer_key(row.get(c)) != answer_key(md.get(c)):  # as the report writes them
                differ.append(f"{method}: {c}")
    if differ or len(md_rows) != len(rows):
        shown = ", ".join(differ[:4]) + (" ..." if len(differ) > 4 else "")
        result.add(
            "stale_markdown",
            f"{MARKDOWN_FILE} does not match {CSV_FILE} ({shown or 'different rows'}): write "
            "both from the same table (re-run the answers cell, or "
            f"`python -m helpers.report {folder}` after editing the csv)",
        )
