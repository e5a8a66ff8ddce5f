"""Read files from a folder someone else made, trusting nothing in it.

Used by the submission checker and by every tool that reads a student's folder. Every
function either returns what it read or raises :class:`UnsafeFileError` with a sentence
that says what was wrong; nothing here lets a crafted file escape the folder, allocate
unbounded memory, take unbounded time, recurse without limit or unpickle objects.

* :func:`inside` resolves a plain file name within a folder (no ``..``, no absolute path,
  no separators, no symlink that leads out, only regular files: never a FIFO that blocks).
* :func:`read_bytes` reads at most a given number of bytes, from a regular file only
  (:mod:`helpers.data.files`).
* :func:`read_json` bounds the size and the nesting depth before parsing; the depth is
  found in one linear pass (an unterminated string of 120 kB of escaped quotes took a
  backtracking regular expression 40 s).
* :func:`read_npy` reads a ``.npy`` header with :mod:`numpy.lib.format`, refuses object
  dtypes, pickles, negative sides and sizes beyond a bound, checks the size its header
  declares against the bytes the file really holds, then reads exactly those bytes.
* :func:`read_text_table` decodes a CSV as spreadsheet programs write it (UTF-8 with or
  without BOM, cp1252, Mac Roman: :func:`decode_text`) and finds its separator (``,``,
  ``;`` as Excel writes in many locales, or a tab).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..data.files import (
    UnreadableFileError,
    file_kind,
    megabytes,
    open_regular,
    read_limited,
)

#: Bounds for what a submission's files may hold (a real one is far below each).
MAX_JSON_BYTES = 1_000_000
MAX_JSON_DEPTH = 32
MAX_TEXT_BYTES = 2_000_000
MAX_NPY_BYTES = 64_000_000  # a 224 x 224 x 3 float32 map is 0.6 MB
MAX_NPY_HEADER = 10_000
MAX_DIM = 4096
MAX_CSV_ROWS = 200


class UnsafeFileError(ValueError):
    """A file that cannot be read safely or is not what it should be (the text says why)."""


def inside(folder: Path, name: str) -> Path:
    """``folder / name`` if ``name`` is a plain file name whose file stays inside ``folder``.

    Raises :class:`UnsafeFileError` for a name with a separator, ``..``, an absolute path
    or a NUL byte, for a symlink that leads outside ``folder``, and for anything that is
    not a regular file (a folder, FIFO or device). ``FileNotFoundError`` when there is no
    such file.
    """
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise UnsafeFileError(f"{name!r} is not a file name")
    if "\x00" in name or "/" in name or "\\" in name or os.path.isabs(name) or ":" in name:
        raise UnsafeFileError(f"{name!r} is not a plain file name (no folders or drives)")
    root = Path(os.path.realpath(folder))
    path = Path(folder) / name
    if not os.path.lexists(path):
        raise FileNotFoundError(name)
    real = Path(os.path.realpath(path))
    if real.parent != root and root not in real.parents:
        raise UnsafeFileError(f"{name} is a link to a file outside the folder ({real})")
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:  # a dangling link, a permission problem
        raise UnsafeFileError(f"{name} cannot be opened ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise UnsafeFileError(f"{name} is {file_kind(mode)}, not a regular file")
    return real


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, or :class:`UnsafeFileError` when it holds more than ``limit`` or
    is not a regular file (checked before it is opened, and again on what was opened)."""
    try:
        return read_limited(path, limit, Path(path).name)
    except UnreadableFileError as exc:
        raise UnsafeFileError(str(exc)) from None


_mb = megabytes

#: A JSON string (possessive: never backtracks; an unterminated one runs to the end).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.S)


def json_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in a JSON text (strings are skipped); linear time."""
    outside = _JSON_STRING.sub("", text).encode("ascii", "replace")
    codes = np.frombuffer(outside, np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(max(np.cumsum(steps).max(initial=0), 0))


def read_json(path: Path, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """Parse a JSON file whose size and nesting depth are bounded first."""
    path = Path(path)
    data = read_bytes(path, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsafeFileError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    depth = json_depth(text)
    if depth > max_depth:
        raise UnsafeFileError(
            f"{path.name} nests {depth} levels deep (at most {max_depth} are allowed)"
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnsafeFileError(f"{path.name} is not valid JSON ({exc})") from None


def npy_header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from an open ``.npy`` file, read with numpy.lib.format."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            header = fmt.read_array_header_1_0(f, max_header_size=MAX_NPY_HEADER)
        elif version == (2, 0):
            header = fmt.read_array_header_2_0(f, max_header_size=MAX_NPY_HEADER)
        else:
            raise UnsafeFileError(f".npy format version {version} is not supported")
    except UnsafeFileError:
        raise
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise UnsafeFileError(f"not a .npy file ({exc})") from None
    return header


def read_npy(
    path: Path, ndim: Iterable[int] = (2, 3), max_bytes: int = MAX_NPY_BYTES
) -> np.ndarray:
    """A numeric array from a ``.npy`` file, its header checked before any data is read.

    Refused: a file that is not regular or holds more than ``max_bytes`` plus a header,
    object dtypes (pickles), structured or non-numeric dtypes, a negative or non-integer
    side (``(-1, 1)`` would read the whole file), a rank not in ``ndim``, a side longer
    than :data:`MAX_DIM`, more than ``max_bytes`` of data (a header may declare 320 GB),
    and a file whose data is not exactly as long as its header declares (all arithmetic
    in Python integers: nothing overflows).
    """
    try:
        f = open_regular(path, max_bytes + MAX_NPY_HEADER + 16, Path(path).name)
    except UnreadableFileError as exc:
        raise UnsafeFileError(str(exc)) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        shape, fortran, dtype = npy_header(f)
        if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None:
            raise UnsafeFileError(f"its dtype {dtype} holds Python objects or records")
        if dtype.kind not in "biuf":
            raise UnsafeFileError(f"its dtype {dtype} is not a number type")
        if not all(type(n) is int and n >= 0 for n in shape):
            raise UnsafeFileError(
                f"its header declares the shape {shape}: every side must be a whole number >= 0"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > max_bytes:
            raise UnsafeFileError(
                f"its header declares {_mb(nbytes)} of data, more than the {_mb(max_bytes)} allowed"
            )
        if len(shape) not in tuple(ndim):
            raise UnsafeFileError(f"expected a {'- or '.join(map(str, ndim))}-D array, got {shape}")
        if any(n > MAX_DIM for n in shape):
            raise UnsafeFileError(f"its shape {shape} has a side over {MAX_DIM}")
        held = size - f.tell()
        if held < nbytes:
            raise UnsafeFileError(
                f"it is truncated: the header declares {nbytes} bytes of data, the file has {held}"
            )
        if held > nbytes:
            raise UnsafeFileError(
                f"the header declares {nbytes} bytes of data but the file holds {held}: "
                "not a file numpy.save wrote"
            )
        data = f.read(nbytes)
    values = np.frombuffer(data, dtype=dtype)
    return values.reshape(shape, order="F" if fortran else "C")


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of a text file as spreadsheet programs save it.

    UTF-8 (a BOM is dropped) when the bytes are UTF-8. Otherwise the file was saved in a
    one-byte encoding: cp1252 (Excel on Windows) or Mac Roman (Excel for Mac's "CSV" and
    "CSV (Macintosh)"). Both decode almost any bytes, so the reading that looks like
    European text wins (:func:`text_plausibility`; a tie goes to cp1252); when neither
    does (another alphabet, e.g. Cyrillic or Japanese) the file is refused with the fix.
    """
    if b"\x00" in data:
        raise UnsafeFileError(f"{name} holds NUL bytes: it is not a text file (UTF-16?)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    readings = []
    for rank, encoding in enumerate(("mac_roman", "cp1252")):  # cp1252 wins a tie
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:  # cp1252 leaves five bytes undefined
            continue
        readings.append((text_plausibility(text), rank, text, encoding))
    score, _, text, encoding = max(readings)
    if score < 0:
        raise UnsafeFileError(
            f"{name} is not UTF-8, and read as cp1252 or Mac Roman it is garbled: save it "
            'again as "CSV UTF-8" (Excel: File > Save As > CSV UTF-8)'
        )
    return text, encoding


#: Letters and signs common in European text (what cp1252 and Mac Roman are used for).
_LETTERS = frozenset("àâäáãåçéèêëíìîïñóòôöõúùûüÿæœßøÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÆŒØ")
_SIGNS = frozenset("’‘“”„–—…«»€£°•·§©®™\xa0¿¡±×µ²³½¼¾")
_JOINERS = frozenset("’‘'-·")  # signs that may stand between two letters (don’t)
_ALONE = frozenset("àèéòùÀ")  # accented letters that are words on their own (à, è)


def text_plausibility(text: str) -> int:
    """How much the non-ASCII characters of ``text`` look like European text: +1 for each
    common accented letter or sign in a plausible place, -1 or -2 for each one that is
    not (a capital inside a word as in "cafŽ", "donÕt" or "ÈÈn", a sign between two letters as
    in "Stra§e" or between two other non-ASCII characters, a word of two or more letters
    none of them ASCII as in "ÏÓÈ", a lone accented letter as in "Û 5", any other
    character). Text in the wrong one-byte encoding scores below its right reading;
    tests/test_bad_answers.py measures it on real sentences."""
    foreign = {  # letters of words with no ASCII letter: another alphabet read as Latin
        i
        for word in _WORD.finditer(text)
        if len(word[0]) > 1 and not _ASCII_LETTER.search(word[0])
        for i in range(word.start(), word.end())
    }
    score, end = 0, len(text)
    for i, c in enumerate(text):
        if c < "\x80":
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < end else " "
        if c in _LETTERS:
            lone = not before.isalpha() and not after.isalpha() and c not in _ALONE
            if c.isupper() and before.isalpha() and before.islower():
                score -= 2
            elif (c.isupper() and before.isupper() and after.islower()) or lone or i in foreign:
                score -= 1
            else:
                score += 1
        elif c in _SIGNS:
            between = before.isalpha() and after.isalpha() and c not in _JOINERS
            crowded = before >= "\x80" and after >= "\x80"  # among other non-ASCII
            score += -1 if between or crowded else 1
        else:
            score -= 1
    return score


_WORD = re.compile(r"[^\W\d_]+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def read_text(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """A bounded text file, decoded with :func:`decode_text`."""
    return decode_text(read_bytes(path, max_bytes), path.name)[0]


def read_text_table(
    path: Path, expected: Iterable[str], max_bytes: int = MAX_TEXT_BYTES, strict: bool = False
) -> tuple[list[str], list[dict[str, str]], str]:
    """(header, rows, note) of a CSV file whose separator is ``,``, ``;`` or a tab.

    The separator chosen is the one whose header holds most of the ``expected`` column
    names; header names are stripped of spaces. ``note`` says what was not the default
    (e.g. "cp1252, ';'-separated") or is empty. ``strict``: see :func:`parse_text_table`.
    """
    text, encoding = decode_text(read_bytes(path, max_bytes), path.name)
    header, cell_rows, best = parse_text_table(text, path.name, expected, strict)
    rows = [dict(zip(header, cells, strict=False)) for cells in cell_rows]
    notes = [encoding] if encoding != "utf-8" else []
    notes += [f"{'tab' if best == chr(9) else repr(best)}-separated"] if best != "," else []
    return header, rows, ", ".join(notes)


def parse_text_table(
    text: str, name: str, expected: Iterable[str], strict: bool = False
) -> tuple[list[str], list[list[str]], str]:
    """(header, rows of cells, separator) of CSV text; blank rows are skipped.

    ``strict``: a row with more cells than the header (an answer with an unquoted
    separator in it, which would shift every cell after it) raises :class:`UnsafeFileError`
    naming its line, instead of being cut to the header's length.
    """
    expected = list(expected)
    first = text.lstrip().split("\n", 1)[0]
    best = max(
        (",", ";", "\t"),
        key=lambda d: sum(c.strip().strip('"') in expected for c in first.split(d)),
    )
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=best)
        header = [c.strip() for c in next(reader, [])]
        rows = []
        while True:
            start = reader.line_num + 1  # the line the row starts on (a cell may span lines)
            cells = next(reader, None)
            if cells is None:
                break
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_CSV_ROWS:
                raise UnsafeFileError(f"{name} has more than {MAX_CSV_ROWS} rows")
            if strict and len(cells) > len(header):
                sep = "tab" if best == "\t" else repr(best)
                raise UnsafeFileError(
                    f"{name} line {start} (row {cells[0].strip()[:40]!r}) has "
                    f"{len(cells)} cells for {len(header)} columns: an answer holds a {sep} "
                    'without quotes. Put that answer in double quotes ("low, some speckle") '
                    "or save the file from a spreadsheet program"
                )
            rows.append(cells)
    except csv.Error as exc:
        raise UnsafeFileError(f"{name} cannot be read as CSV ({exc})") from None
    return header, rows, best
