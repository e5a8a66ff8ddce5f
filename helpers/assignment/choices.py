"""What the assignment runs on: the image, the class's folder, the model (and why)."""

from __future__ import annotations

import re
from pathlib import Path

from ..data.images import SAMPLE_IMAGES
from ..data.labels import class_name as _class_name
from .rules import ReportError


def folder_name(class_index: int) -> str:
    """A safe folder name for a class: 967 -> 'espresso', 620 -> 'laptop'."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", _class_name(class_index)).strip("_")
    return name or f"class_{class_index}"


def default_out_dir(class_index: int, root: str | Path = "results") -> Path:
    """``results/<class_name>``: where the notebook and the command line save a class."""
    return Path(root) / folder_name(class_index)


def choose_image(choice: str | Path, upload_dir: str | Path = "uploads") -> tuple[Path, str]:
    """Where the image comes from: ``(path, description)``. The notebook and the command
    line both use this one function.

    ``choice``: an image file's path (checked first), a bundled photo's name
    (``"espresso"``, see ``helpers.SAMPLE_IMAGES``), or ``"upload"`` to pick a file in
    Colab (saved under ``upload_dir``). Anything else raises :class:`ReportError` saying
    what is allowed.
    """
    text = str(choice).strip()
    path = Path(text).expanduser()
    if text == "upload" and not path.is_file():
        return _upload(upload_dir)
    if path.is_dir():
        raise ReportError(f"{text} is a folder, not an image file")
    if path.is_file():
        return path, f"file {path.name}"
    if text in SAMPLE_IMAGES:
        return SAMPLE_IMAGES[text], f"bundled sample '{text}'"
    raise ReportError(
        f"image not found: {text} (working folder {Path.cwd()}); give a file, 'upload' "
        f"(Colab), or a bundled photo: {', '.join(sorted(SAMPLE_IMAGES))}"
    )


def _upload(upload_dir: str | Path) -> tuple[Path, str]:
    from ..environment import in_colab

    if not in_colab():
        raise ReportError(
            '"upload" opens a file picker in Colab only; here, give the path of your '
            'image file instead, e.g. IMAGE = "my_photos/banana.jpg"'
        )
    from google.colab import files  # type: ignore[import-not-found]

    uploaded = files.upload()  # a file picker under the cell
    if not uploaded:
        raise ReportError("no file was uploaded: run the cell again and pick an image")
    name, data = next(iter(uploaded.items()))
    path = Path(upload_dir) / Path(name).name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, f"uploaded file {Path(name).name}"


def model_reason(name: str | None = None) -> str:
    """Why ``helpers.load_model(name)`` loads the model it loads (for the manifest)."""
    if name is None:
        from ..models.loading import default_model

        return default_model()[1]
    if name != "auto":
        return "asked for by name"
    from ..models.loading import choose_model

    return choose_model()[1]


def prediction_check(top5: list, class_index: int) -> tuple[bool, str]:
    """Is the class among the model's top-5? And a message saying so (a warning if not)."""
    rank = next((r for r, (i, _, _) in enumerate(top5, start=1) if int(i) == class_index), None)
    name = _class_name(class_index)
    if rank is not None:
        return True, f"OK: class {class_index} {name} is number {rank} of the model's top-5."
    best = f"{top5[0][0]} {top5[0][1]}" if top5 else "?"
    return False, (
        f"Careful: class {class_index} {name} is NOT among the model's top-5 (its top-1 is "
        f"{best}). The maps will explain a class the model does not see here: fine for a "
        "discussion, but check the class and the image first."
    )
