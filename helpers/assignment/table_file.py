"""comparison.csv as a file the student owns: read as spreadsheet programs save it, written
back the same way, with every column and row the student added.

Reading reuses the checker's reader (:mod:`helpers.assignment.safe_files`): UTF-8 with or
without a byte-order mark, cp1252 (Excel on Windows), ``,``, ``;`` or tab separators, and
bounded sizes. A row with more cells than the header (an answer with an unquoted comma)
is refused with its line named, never read shifted. Writing keeps the separator, the
encoding (UTF-8 where cp1252 cannot hold a character), the line endings and decimal
commas, and replaces the file in one step (a temporary file renamed over it), so an
interrupted run never leaves half a table and a symbolic link is replaced, not written
through.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .rules import COMPUTED_COLUMNS, QUALITATIVE_COLUMNS, TABLE_COLUMNS, ReportError
from .safe_files import MAX_TEXT_BYTES, UnsafeFileError, decode_text, parse_text_table, read_bytes

_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV file was written: separator, encoding, line ending, decimal mark."""

    separator: str = ","
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" (with a byte-order mark) or "cp1252"
    newline: str = "\n"
    decimal_comma: bool = False

    def describe(self) -> str:
        sep = {",": "comma", ";": "semicolon", "\t": "tab"}[self.separator]
        mark = ", decimal commas" if self.decimal_comma else ""
        return f"{self.encoding}, {sep}-separated{mark}"


@dataclass
class TableFile:
    """The cells of comparison.csv: ``header`` and one list of cells per row (as long as
    the header), all text exactly as read."""

    header: list[str]
    rows: list[list[str]]
    style: CsvStyle = field(default_factory=CsvStyle)

    def column(self, name: str) -> int:
        return self.header.index(name)

    def methods(self) -> list[str]:
        """The method name of each row (stripped)."""
        i = self.column("method")
        return [row[i].strip() for row in self.rows]

    def row_of(self, method: str) -> list[str] | None:
        for row, name in zip(self.rows, self.methods(), strict=True):
            if name == method:
                return row
        return None

    def cell(self, row: list[str], name: str) -> str:
        return row[self.column(name)]

    def has_student_work(self) -> bool:
        """Any answer, any cell in a column the student added, or a row of their own."""
        own = [i for i, h in enumerate(self.header) if h not in TABLE_COLUMNS]
        answers = [self.column(c) for c in QUALITATIVE_COLUMNS]
        return any(row[i].strip() for row in self.rows for i in own + answers)

    def records(self) -> list[dict[str, str]]:
        """One ``{column: text}`` per row (a repeated or empty header keeps its first cell)."""
        out = []
        for row in self.rows:
            record: dict[str, str] = {}
            for name, cell in zip(self.header, row, strict=True):
                record.setdefault(name, cell)
            out.append(record)
        return out


def new_table_file(style: CsvStyle | None = None) -> TableFile:
    return TableFile(list(TABLE_COLUMNS), [], style or CsvStyle())


def read_table_file(path: str | Path) -> TableFile:
    """Read comparison.csv; :class:`ReportError` says in one sentence what is wrong."""
    path = Path(path)
    try:
        data = read_bytes(path, MAX_TEXT_BYTES)
        text, encoding = decode_text(data, path.name)
        header, rows, separator = parse_text_table(text, path.name, TABLE_COLUMNS, strict=True)
    except UnsafeFileError as exc:
        raise ReportError(str(exc)) from None
    except OSError as exc:
        raise ReportError(f"{path} cannot be read ({exc.strerror or exc})") from None
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise ReportError(f"{path} has the column {twice[0]} twice; rename or remove one")
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        shown = ", ".join(h for h in header[:12] if h) or "nothing"
        raise ReportError(
            f"{path} lacks the columns {', '.join(missing)} (its header row has: {shown}); "
            f"restore the header row ({','.join(TABLE_COLUMNS)})"
        )
    rows = [cells + [""] * (len(header) - len(cells)) for cells in rows]
    table = TableFile(header, rows)
    names = [m for m in table.methods() if m]
    repeated = sorted({m for m in names if names.count(m) > 1})
    if repeated:
        raise ReportError(
            f"{path} has two rows for the method {repeated[0]}; keep one (merge the answers)"
        )
    computed = [table.column(c) for c in COMPUTED_COLUMNS]
    table.style = CsvStyle(
        separator=separator,
        encoding="utf-8-sig" if data.startswith(codecs.BOM_UTF8) else encoding,
        newline="\r\n" if "\r\n" in text else "\n",
        decimal_comma=separator != ","
        and any(_DECIMAL_COMMA.match(row[i]) for row in rows for i in computed),
    )
    return table


def format_number(value: float | None, style: CsvStyle, digits: int = 6) -> str:
    """A computed value as the file writes it ("" for none)."""
    if value is None or value != value:  # None or NaN
        return ""
    text = f"{float(value):.{digits}g}"
    return text.replace(".", ",") if style.decimal_comma else text


def parse_number(text: str) -> float:
    """A computed cell as a float (a decimal comma accepted); NaN when it holds no number."""
    text = (text or "").strip()
    if _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return float("nan")


def table_bytes(table: TableFile) -> tuple[bytes, CsvStyle]:
    """The file's bytes in its style, and the style used (UTF-8 with a byte-order mark,
    which spreadsheets read correctly, when cp1252 cannot hold a character)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=table.style.separator, lineterminator=table.style.newline)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    text = buffer.getvalue()
    try:
        return text.encode(table.style.encoding), table.style
    except UnicodeEncodeError:
        style = CsvStyle(
            table.style.separator, "utf-8-sig", table.style.newline, table.style.decimal_comma
        )
        return text.encode("utf-8-sig"), style


def write_replacing(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary path)`` next to ``path`` (same suffix), then rename it over
    ``path``: never half a file, and a link at ``path`` is replaced, not written through."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def replace_file(path: str | Path, data: bytes) -> Path:
    """Write ``data`` over ``path`` through :func:`write_replacing`."""
    return write_replacing(Path(path), lambda tmp: tmp.write_bytes(data))


def write_table_file(path: str | Path, table: TableFile) -> CsvStyle:
    """Write the table in its style (see :func:`table_bytes`); returns the style used."""
    data, style = table_bytes(table)
    replace_file(path, data)
    return style
