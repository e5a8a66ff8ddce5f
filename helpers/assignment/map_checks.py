"""The submission checker's look at the map files: each method's PNG and ``.npy`` (and
raw attributions) readable, finite, the right shape, from the same run; and their hashes
(for run.json and the gradebook's copies). Sizes are bounded before reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .check_result import CheckResult, open_inside
from .safe_files import UnsafeFileError, read_npy

MAX_PNG_BYTES = 20_000_000
MAX_PNG_PIXELS = 4096 * 4096


def check_png(path: Path) -> tuple[tuple[int, int] | None, str | None]:
    """(height, width) of a readable PNG, or an error text. Size and pixels are bounded."""
    from PIL import Image

    try:
        size = path.stat().st_size
        if size > MAX_PNG_BYTES:
            limit = MAX_PNG_BYTES // 10**6
            return None, f"it is {size / 1e6:.0f} MB, more than the {limit} MB allowed"
        with Image.open(path) as img:
            kind = img.format
            if kind != "PNG":
                return None, f"it is a {kind} file, not a PNG"
            if img.width * img.height > MAX_PNG_PIXELS:
                return None, f"it is {img.width}x{img.height} pixels, more than allowed"
            img.load()
            return (img.height, img.width), None
    except Exception as exc:  # Pillow raises many types on corrupt files; report them all
        return None, f"{type(exc).__name__}: {str(exc).replace(str(path), path.name)}"


def _check_npy(
    path: Path, channels: bool, hashes: dict[str, str] | None = None
) -> tuple[tuple[int, int] | None, str | None]:
    """(height, width) of a readable, finite map, or an error text; its digest (by value,
    :func:`~helpers.assignment.provenance.array_sha256`) goes into ``hashes``."""
    from .provenance import array_sha256

    expected = 3 if channels else 2
    try:
        values = read_npy(path, ndim=(expected,))
    except (UnsafeFileError, OSError) as exc:
        return None, str(exc)
    if hashes is not None:
        hashes[path.name] = array_sha256(values)
    if channels and values.shape[-1] != 3:
        return None, f"expected (H, W, 3) attributions, got shape {values.shape}"
    if not np.all(np.isfinite(values)):
        return None, "it holds NaN or infinite values"
    return values.shape[:2], None


def check_maps(folder: Path, methods: list[str], result: CheckResult) -> None:
    for method in methods:  # only names from METHODS reach here: never a path from the file
        names = f"{method}.png", f"{method}.npy"
        png, npy = (open_inside(folder, n, result, "corrupt_map") for n in names)
        missing = [n for n, p in zip(names, (png, npy), strict=True) if p is None]
        if missing:
            if not any(
                p.kind == "corrupt_map" and p.message.startswith(missing[0])
                for p in result.problems
            ):
                result.add("missing_map", f"{method}: {' and '.join(missing)} missing")
            continue
        png_size, png_error = check_png(png)
        npy_size, npy_error = _check_npy(npy, channels=False, hashes=result.file_hashes)
        if png_error:
            result.add("corrupt_map", f"{names[0]} is not a readable PNG ({png_error})")
        if npy_error:
            result.add("corrupt_map", f"{names[1]} is not a readable map ({npy_error})")
        if png_error or npy_error:
            continue
        if png_size != npy_size:
            result.add(
                "corrupt_map",
                f"{names[0]} is {png_size[0]}x{png_size[1]} but {names[1]} is "
                f"{npy_size[0]}x{npy_size[1]}: they come from different runs",
            )
            continue
        raw_name = f"{method}_attributions.npy"
        if (raw := open_inside(folder, raw_name, result, "corrupt_map")) is not None:
            _, raw_error = _check_npy(raw, channels=True, hashes=result.file_hashes)
            if raw_error:
                result.add("corrupt_map", f"{raw_name} is not readable ({raw_error})")
                continue
        elif any(p.message.startswith(raw_name) for p in result.problems):
            continue
        result.methods.append(method)


def hash_files(folder: Path, names: list[str], result: CheckResult) -> None:
    """SHA-256 of each named file that exists (bounded reads) into ``result.file_hashes``."""
    from .provenance import sha256_file

    for name in names:
        if name in result.file_hashes:  # hashed while it was read
            continue
        path = open_inside(folder, name, result, "corrupt_map")
        if path is None:
            continue
        try:
            result.file_hashes[name] = sha256_file(path)
        except (UnsafeFileError, OSError):
            continue  # reported by the checks that read it
