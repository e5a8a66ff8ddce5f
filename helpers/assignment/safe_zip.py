"""Unpack a student's .zip into a temporary folder, refusing what could harm the grader.

:func:`extract_zip` writes only below the folder it is given (never where a member's name
points: absolute names, ``..`` and drive letters are refused, the "zip slip"), creates no
symlinks, and bounds the number of members and the total uncompressed size, counted both
from the archive's directory and while the bytes are actually written (a zip bomb that
lies about its sizes is stopped too). Members it refuses are reported, not extracted; an
archive that cannot be read at all raises :class:`ZipRefusedError`.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 500
MAX_TOTAL_BYTES = 200_000_000  # a real submission is a few MB
MAX_NAME_LENGTH = 255
CHUNK = 1 << 20
#: Clutter that archivers add; skipped without a word.
IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


class ZipRefusedError(ValueError):
    """A zip that cannot be unpacked safely (or at all); the text says why."""


@dataclass
class Extracted:
    """What :func:`extract_zip` did: the folder to check and the members it refused."""

    root: Path
    files: int = 0
    refused: list[str] = field(default_factory=list)


def _safe_name(name: str) -> PurePosixPath | None:
    """The member's relative path, or None if it would land outside the target folder."""
    text = name.replace("\\", "/")
    if not text or "\x00" in text or len(text) > 4 * MAX_NAME_LENGTH:
        return None
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if not parts or any(p == ".." or len(p) > MAX_NAME_LENGTH for p in parts):
        return None
    return PurePosixPath(*parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def extract_zip(
    zip_path: str | Path,
    target: str | Path,
    max_members: int = MAX_MEMBERS,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    markers: tuple[str, ...] = (),
) -> Extracted:
    """Unpack ``zip_path`` into the existing folder ``target``; see the module docstring.

    Returns an :class:`Extracted` whose ``root`` is the folder holding the submission: the
    shallowest folder that holds one of the ``markers`` files, else the target itself or
    the single folder inside it when the zip wraps everything in one folder (as zipping a
    folder does), however deep such single folders nest.
    """
    target = Path(target)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ZipRefusedError(f"not a readable zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_members:
            raise ZipRefusedError(f"the zip holds {len(infos)} members, more than {max_members}")
        declared = sum(max(i.file_size, 0) for i in infos)
        if declared > max_total_bytes:
            raise ZipRefusedError(
                f"the zip unpacks to {declared / 1e6:.0f} MB, more than the "
                f"{max_total_bytes / 1e6:.0f} MB allowed (a zip bomb?)"
            )
        result = Extracted(target)
        written = 0
        for info in infos:
            name = info.filename
            if name.startswith(IGNORED[0]) or PurePosixPath(name).name in IGNORED[1:]:
                continue
            rel = _safe_name(name)
            if rel is None:
                result.refused.append(f"{name!r}: a path outside the zip's folder")
                continue
            if _is_symlink(info):
                result.refused.append(f"{name!r}: a symbolic link")
                continue
            if info.flag_bits & 0x1:
                result.refused.append(f"{name!r}: encrypted")
                continue
            dest = target.joinpath(*rel.parts)
            if dest.exists() and not info.is_dir():
                result.refused.append(f"{name!r}: a second member with the same name")
                continue
            try:
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(dest, "xb") as out:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > max_total_bytes:
                            raise ZipRefusedError(
                                f"the zip unpacks to more than {max_total_bytes / 1e6:.0f} MB "
                                "(its directory understated the sizes: a zip bomb?)"
                            )
                        out.write(chunk)
            except ZipRefusedError:
                raise
            except (
                zipfile.BadZipFile,
                OSError,
                ValueError,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as e:
                if dest.is_file():
                    dest.unlink()
                result.refused.append(f"{name!r}: cannot be unpacked ({e})")
                continue
            result.files += 1
    if not result.files and not result.refused:
        raise ZipRefusedError("the zip holds no files")
    result.root = submission_root(target, markers)
    return result


def submission_root(folder: Path, markers: tuple[str, ...]) -> Path:
    """The shallowest folder holding one of the ``markers`` files (breadth first, a few
    levels deep, links not followed); else descend through folders that hold nothing but
    one sub-folder."""
    level = [folder]
    for _ in range(4):
        for candidate in level:
            if any((candidate / m).is_file() for m in markers):
                return candidate
        below = (p for c in level for p in islice(c.iterdir(), MAX_MEMBERS))
        level = sorted(p for p in islice(below, MAX_MEMBERS) if p.is_dir() and not p.is_symlink())
    for _ in range(8):
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
            folder = entries[0]
        else:
            break
    return folder
