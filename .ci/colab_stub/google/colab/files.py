"""Stand-in for ``google.colab.files`` (see the package docstring)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def upload() -> dict[str, bytes]:
    """The files in ``$COLAB_SIM_UPLOADS``, written to the working folder like Colab's upload."""
    source = Path(os.environ.get("COLAB_SIM_UPLOADS", "/nonexistent"))
    uploaded = {}
    for path in sorted(source.glob("*")) if source.is_dir() else []:
        data = path.read_bytes()
        Path(path.name).write_bytes(data)
        uploaded[path.name] = data
    print(f"(Colab simulation) uploaded {len(uploaded)} file(s): {', '.join(uploaded)}")
    return uploaded


def download(filename: str | os.PathLike) -> None:
    """Copy ``filename`` to ``$COLAB_SIM_DOWNLOADS`` (Colab sends it to the browser)."""
    path = Path(filename)
    if not path.is_file():
        raise FileNotFoundError(f"Cannot find file: {filename}")  # Colab's own message
    target = Path(os.environ.get("COLAB_SIM_DOWNLOADS", "downloads"))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target / path.name)
    print(f"(Colab simulation) downloaded {path.name}")
