"""comparison.csv as a file the student owns: read as spreadsheet programs save it, written
back the same way, with every column and row the student added.

Reading reuses the checker's reader (:mod:`helpers.assignment.safe_files`): UTF-8 with or
without a byte-order mark, cp1252 (Excel on Windows), Mac Roman (Excel for Mac), ``,``,
``;`` or tab separators, and bounded sizes. A row with more cells than the header (an
answer with an unquoted comma) is refused with its line named, never read shifted.
Writing keeps the separator, the encoding (UTF-8 where cp1252 or Mac Roman cannot hold a
character), the line endings (CRLF, LF, or classic Mac CR) and decimal commas; a cell
holding a line break of any kind is quoted whatever the file's line ending, so it reads
back as one cell.

Every write replaces the file in one step (a temporary file renamed over it), so an
interrupted run never leaves half a table and a symbolic link is replaced, not written
through; and it first checks that the file is still what was read (size, modification
time and SHA-256, :class:`FileStamp`): a table saved from a spreadsheet while a run was
working is never written over (:class:`FileChangedError`). Backups get names no other
backup has, even two within one second (:func:`keep_backup`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..data.files import open_regular
from .rules import COMPUTED_COLUMNS, QUALITATIVE_COLUMNS, TABLE_COLUMNS, ReportError
from .safe_files import MAX_TEXT_BYTES, UnsafeFileError, decode_text, parse_text_table, read_bytes

_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV file was written: separator, encoding, line ending, decimal mark."""

    separator: str = ","
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" (with a BOM), "cp1252" or "mac_roman"
    newline: str = "\n"  # "\n", "\r\n" or "\r" (classic Mac)
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
    source: FileStamp | None = None  # the file as it was read (None: not read from a file)

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
        data, stamp = read_stamped(path, MAX_TEXT_BYTES)
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
    table = TableFile(header, rows, source=stamp)
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
        newline=line_ending(text),
        decimal_comma=separator != ","
        and any(_DECIMAL_COMMA.match(row[i]) for row in rows for i in computed),
    )
    return table


def line_ending(text: str) -> str:
    """The line ending of a text's first line: "\r\n", "\r" (classic Mac) or "\n"."""
    match = re.search(r"\r\n|\r|\n", text)
    return match.group() if match else "\n"


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
    # csv quotes a cell only for the characters of its line terminator: with "\r\n" every
    # cell holding a CR or an LF is quoted, then each row gets the file's own line ending.
    writer = csv.writer(buffer, delimiter=table.style.separator, lineterminator="\r\n")
    lines = []
    for row in (table.header, *table.rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        lines.append(buffer.getvalue()[:-2] + table.style.newline)
    text = "".join(lines)
    try:
        return text.encode(table.style.encoding), table.style
    except UnicodeEncodeError:
        style = CsvStyle(
            table.style.separator, "utf-8-sig", table.style.newline, table.style.decimal_comma
        )
        return text.encode("utf-8-sig"), style


class FileChangedError(ReportError):
    """A file changed between the moment a run read it and the moment it would write it."""


@dataclass(frozen=True)
class FileStamp:
    """A file as it was read: size, modification time (ns) and SHA-256 of its bytes;
    :data:`ABSENT` when there was no file."""

    size: int
    mtime_ns: int
    sha256: str


#: The stamp of a file that did not exist when it was looked at.
ABSENT = FileStamp(-1, -1, "")


def read_stamped(path: str | Path, limit: int) -> tuple[bytes, FileStamp]:
    """A regular file's bytes (at most ``limit``) and its :class:`FileStamp`. A file that
    changes while it is read raises :class:`FileChangedError`."""
    before = os.stat(path)
    data = read_bytes(Path(path), limit)
    after = os.stat(path)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise FileChangedError(
            f"{Path(path).name} changed while it was read (saved just now?): run again"
        )
    return data, FileStamp(after.st_size, after.st_mtime_ns, hashlib.sha256(data).hexdigest())


def stamp_of(path: str | Path, limit: int = MAX_TEXT_BYTES) -> FileStamp:
    """The :class:`FileStamp` of ``path`` now (:data:`ABSENT` when there is no file)."""
    if not os.path.lexists(path):
        return ABSENT
    try:
        return read_stamped(path, limit)[1]
    except (OSError, UnsafeFileError):
        return FileStamp(-2, -2, "unreadable")  # never equal to a stamp that was read


def check_unchanged(path: str | Path, expected: FileStamp) -> None:
    """Raise :class:`FileChangedError` unless ``path`` is still as ``expected`` (size and
    modification time first, then the bytes' SHA-256: a coarse clock cannot hide a save)."""
    path = Path(path)
    if expected == ABSENT:
        if os.path.lexists(path):
            raise FileChangedError(
                f"{path.name} appeared while this run was working (made by another program?): "
                "it was not written over; move it away or run again"
            )
        return
    try:
        st = os.stat(path)
        same = (st.st_size, st.st_mtime_ns) == (expected.size, expected.mtime_ns)
        same = same and stamp_of(path, max(expected.size, 0)) == expected
    except OSError:
        same = False
    if not same:
        raise FileChangedError(
            f"{path.name} changed while this run was working (saved from a spreadsheet or "
            "an editor, or by another run?): it was not written over, so your version is "
            "kept; run the command again to use it"
        )


def write_replacing(
    path: Path, write: Callable[[Path], object], expected: FileStamp | None = None
) -> Path:
    """Call ``write(temporary path)`` next to ``path`` (same suffix), then rename it over
    ``path``: never half a file, and a link at ``path`` is replaced, not written through.
    ``expected``: the file as it was read; if it changed since, nothing is replaced
    (:class:`FileChangedError`)."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        if expected is not None:
            check_unchanged(path, expected)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def replace_file(path: str | Path, data: bytes, expected: FileStamp | None = None) -> Path:
    """Write ``data`` over ``path`` through :func:`write_replacing`."""
    return write_replacing(Path(path), lambda tmp: tmp.write_bytes(data), expected)


def write_table_file(path: str | Path, table: TableFile) -> CsvStyle:
    """Write the table in its style (see :func:`table_bytes`); returns the style used.
    A table read from a file is written only if that file did not change since."""
    data, style = table_bytes(table)
    replace_file(path, data, table.source)
    return style


def keep_backup(source: str | Path, prefix: str, suffix: str) -> Path:
    """Copy ``source`` (bytes as they are) to ``<prefix><date>-<time><suffix>`` beside it,
    adding ``-2``, ``-3``... before the suffix if that name is taken: the new file is
    created exclusively, so two backups, even within one second or from two processes,
    never share a name and none is written over."""
    source = Path(source)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with open_regular(source) as src:
        for count in range(1, 10_000):
            name = f"{prefix}{stamp}{'' if count == 1 else f'-{count}'}{suffix}"
            target = source.with_name(name)
            try:
                with open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            except FileExistsError:
                continue
            return target
    raise ReportError(f"cannot find a free backup name for {source.name} in {source.parent}")
