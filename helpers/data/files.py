"""Open and read files without trusting them: regular files only, sizes bounded first.

Every file the course's tools read goes through here (images, class names, a
submission's files, notebooks to publish). A FIFO, a device or a socket is refused
*before* it is opened for reading (opening a FIFO blocks until someone writes to it,
``/dev/zero`` never ends), a file larger than the caller's limit is refused before a
byte is read (a sparse file can claim a gigabyte on 4 kB of disk), and the file is
opened non-blocking and checked again on its descriptor, so swapping the path for a
FIFO between the two checks does not block either.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO


class UnreadableFileError(ValueError):
    """A path that is not a regular file, or a file larger than allowed (the text says why)."""


def file_kind(mode: int) -> str:
    """'a regular file', 'a folder', 'a FIFO (named pipe)', 'a character device', ..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _check_mode(st: os.stat_result, name: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableFileError(f"{name} is {file_kind(st.st_mode)}, not a regular file")


def megabytes(n: int) -> str:
    """A byte count for messages: '4096 bytes', '1.2 MB', '320 GB'."""
    if n >= 10**9:
        return f"{n / 1e9:.0f} GB"
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} bytes"


def check_size(size: int, limit: int, name: str) -> None:
    """Refuse a file of ``size`` bytes when it is more than ``limit``."""
    if size > limit:
        raise UnreadableFileError(
            f"{name} is {megabytes(size)}, more than the {megabytes(limit)} allowed"
        )


def open_regular(path: str | Path, limit: int | None = None, name: str | None = None) -> BinaryIO:
    """``path`` opened for reading in binary, if it is a regular file of at most ``limit``
    bytes; else :class:`UnreadableFileError` (``FileNotFoundError`` if it does not exist).

    Symbolic links are followed. ``name`` is how messages call the file (its name).
    """
    name = name or Path(path).name
    st = os.stat(path)  # FileNotFoundError as usual
    _check_mode(st, name)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)  # the file actually opened (the path may have been swapped)
        _check_mode(st, name)
        if limit is not None:
            check_size(st.st_size, limit, name)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | Path, limit: int, name: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`);
    a file that grows past ``limit`` while it is read is refused too."""
    name = name or Path(path).name
    with open_regular(path, limit, name) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFileError(f"{name} is larger than the {megabytes(limit)} allowed")
    return data


def sha256_of_file(path: str | Path, limit: int | None = None) -> str:
    """The SHA-256 of a regular file, read in 1 MB chunks (bounded memory)."""
    digest = hashlib.sha256()
    with open_regular(path, limit) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
