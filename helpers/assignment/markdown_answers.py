"""comparison.md is written from comparison.csv; what a student typed into it is kept.

comparison.md looks like the table, so some students type their answers into it. The
tools write it with a last line that says to edit the csv instead and records a hash of
its table and one of the rest of its text (:func:`sign`). Before any tool writes it
again, :func:`markdown_edits` reads it (bounded, regular file only) and compares:

* its table as the tools wrote it: written over freely (the csv is the source, so any
  difference is an edit of the csv made since);
* its table edited by hand (or no hash line: written by an older version of the tools):
  every answer typed into it where comparison.csv's cell is empty is **merged into the
  csv** (the csv is backed up first, byte for byte); where both hold different answers
  the csv's is used and comparison.md is **kept as comparison-backup-<date>-<time>.md**
  before it is rewritten, as it is whenever it holds anything the csv does not (rows the
  csv lacks, or any edit outside the table). Each of these is said in one line; nothing
  typed into either file is lost.

Line breaks: an answer may hold any kind (CR, LF, CRLF, vertical tab, form feed, NEL,
U+2028, U+2029, or ``<br>`` typed into a spreadsheet cell); the Markdown writes each as
``<br>`` (:func:`markdown_text`), the reader splits lines on CR and LF only
(:func:`markdown_lines`), and answers are compared by :func:`answer_key`, so the
report and the checker agree on every one of them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .rules import CSV_FILE, MARKDOWN_FILE, QUALITATIVE_COLUMNS, ReportError
from .safe_files import MAX_TEXT_BYTES, UnsafeFileError, decode_text, inside
from .table_file import ABSENT, FileStamp, TableFile, keep_backup, read_stamped

#: Every character that ends a line for some reader: str.splitlines() splits at all of
#: them (a Markdown row holding one would be cut in two), csv at CR and LF.
LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
#: ``<br>`` as people type it: <br>, <BR>, <br/>, <br />.
BR_TAG = re.compile(r"<br\s*/?>", re.I)
SIGNATURE = (
    "<!-- comparison.md is written from comparison.csv by the course's tools: type your "
    "answers into the csv, not here. table {} text {} -->"
)
_SIGNED = re.compile(r"<!-- [^\n]* table ([0-9a-f]{32}) text ([0-9a-f]{32}) -->\s*\Z")


def markdown_text(text: str) -> str:
    """Free text as one Markdown table cell: stripped, ``|`` escaped, every line break
    (of any kind) written as ``<br>``."""
    return LINE_BREAK.sub("<br>", text.strip().replace("|", "\\|"))


def markdown_lines(text: str) -> list[str]:
    """The lines of a Markdown file: split at CR and LF only (a U+2028 or a form feed
    inside an answer stays inside its row)."""
    return re.split(r"\r\n|\r|\n", text)


def answer_key(text: str | None) -> str:
    """An answer as the report and the checker compare it: ``<br>`` counts as a line
    break and any run of whitespace (line breaks of every kind included) as one space."""
    return " ".join(BR_TAG.sub(" ", text or "").split())


def _digests(body: str) -> tuple[str, str]:
    """Hashes of a Markdown text's table lines and of its other lines."""
    table, prose = [], []
    for line in markdown_lines(body.rstrip("\n")):
        (table if line.lstrip().startswith("|") else prose).append(line)
    digest = [hashlib.sha256("\n".join(x).encode("utf-8")).hexdigest()[:32] for x in (table, prose)]
    return digest[0], digest[1]


def sign(document: str) -> str:
    """``document`` with the last line that marks it as the tools' (two hashes)."""
    body = document if document.endswith("\n") else document + "\n"
    return body + SIGNATURE.format(*_digests(body)) + "\n"


def unchanged_parts(text: str) -> tuple[bool, bool] | None:
    """(table as the tools wrote it?, the rest as they wrote it?); None: no hash line."""
    match = _SIGNED.search(text)
    if match is None:
        return None
    table, prose = _digests(text[: match.start()])
    return table == match[1], prose == match[2]


@dataclass
class MarkdownEdits:
    """What :func:`markdown_edits` found in comparison.md (see the module docstring)."""

    stamp: FileStamp = ABSENT  # comparison.md as read (ABSENT: there was none)
    merge: dict[str, dict[str, str]] = field(default_factory=dict)  # into the csv
    differing: list[str] = field(default_factory=list)  # "grad_cam: noise_level" (csv wins)
    without_row: list[str] = field(default_factory=list)  # md rows with answers, no csv row
    keep_copy: bool = False  # back comparison.md up before it is rewritten

    def merge_into(self, table: TableFile) -> list[str]:
        """Write the answers to merge into ``table``'s empty cells; "method: column" of each."""
        merged = []
        for method, cells in self.merge.items():
            row = table.row_of(method)
            for column, text in cells.items():
                if row is not None and not answer_key(table.cell(row, column)):
                    row[table.column(column)] = text
                    merged.append(f"{method}: {column}")
        return merged

    def keep(self, out: Path, say) -> None:
        """Back comparison.md up if it must be kept, and say what happened to it."""
        if self.keep_copy:
            backup = keep_backup(out / MARKDOWN_FILE, "comparison-backup-", ".md")
            why = "it had been edited by hand"
            if self.differing:
                why += f", with other answers than {CSV_FILE} ({_listed(self.differing)})"
            if self.without_row:
                why += f", with answers for {_listed(self.without_row)}, not in {CSV_FILE}"
            say(f"{MARKDOWN_FILE} is kept as {backup.name}: {why}")


def _listed(items: list[str], limit: int = 4) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def markdown_edits(out: str | Path, table: TableFile | None) -> MarkdownEdits:
    """Read ``out/comparison.md`` and find what was typed into it (module docstring).

    ``table``: comparison.csv as read (None: there is none). Nothing is written. A
    comparison.md that is not a regular file raises :class:`ReportError`.
    """
    from .table import parse_markdown_table  # table.py writes with this module's helpers

    out = Path(out)
    edits = MarkdownEdits()
    if not (out / MARKDOWN_FILE).exists() and not (out / MARKDOWN_FILE).is_symlink():
        return edits
    try:
        data, edits.stamp = read_stamped(inside(out, MARKDOWN_FILE), MAX_TEXT_BYTES)
        text = decode_text(data, MARKDOWN_FILE)[0]
    except FileNotFoundError:
        return edits
    except UnsafeFileError as exc:
        if "not a regular file" in str(exc) or "outside the folder" in str(exc):
            raise ReportError(f"{out / MARKDOWN_FILE}: {exc}; move it away and run again") from None
        edits.keep_copy = True  # too large or not text: not what the tools wrote
        return edits
    unchanged = unchanged_parts(text)
    if unchanged is not None and not unchanged[1]:
        edits.keep_copy = True  # edited outside the table: keep it all
    if unchanged is not None and unchanged[0]:
        return edits  # its table is the tools': the csv changed since, nothing typed in
    for row in parse_markdown_table(text):
        method = row.get("method", "").strip()
        answered = {c: row[c] for c in QUALITATIVE_COLUMNS if answer_key(row.get(c))}
        target = table.row_of(method) if table is not None else None
        if target is None:
            if answered:
                edits.without_row.append(method or "a row without a method")
            continue
        for column, typed in answered.items():
            held = table.cell(target, column)
            if answer_key(held) == answer_key(typed):
                continue
            if answer_key(held):
                edits.differing.append(f"{method}: {column}")
            else:
                edits.merge.setdefault(method, {})[column] = typed
    edits.keep_copy |= bool(edits.differing or edits.without_row)
    return edits
