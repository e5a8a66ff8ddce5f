"""``check_submission --verify``: recompute the table's scores from the saved maps and photo.

The plain checker compares the table with ``run.json`` (:mod:`.provenance`), which a
determined student could edit too. ``--verify`` loads the model named in ``run.json`` and
recomputes, from ``input.png`` and each ``<method>.npy``, the deletion and insertion AUCs
(with the metric steps the run used), the random map's (same seed), and the Integrated
Gradients completeness gap (from ``integrated_gradients_attributions.npy`` and two
forward passes, black baseline). A table cell further than :data:`TOLERANCES` from the
recomputed value is an ``unverified_numbers`` problem naming the row.

Why those tolerances. The model sees exactly the pixels ``input.png`` holds
(:func:`~helpers.assignment.submission.model_input` rounds the photo to whole 8-bit values
before any method runs), and the maps are saved as float32 ``.npy``, so recomputing from
the folder repeats the run: measured on EfficientNet-Lite0 (the espresso, every default
method, ``--fast``), the AUCs came out identical in a fresh process and the IG gap within
3e-8 (``tests/test_verify.py`` asserts it stays below 1e-5). Before that rounding, the
0.5-pixel difference alone moved an AUC by up to 0.018. A table cell may also be rounded
to what comparison.md shows (off by up to 5e-4, :data:`~.provenance.TOLERANCES`). So a
recomputed value may differ from the table by 1e-3 (twice that rounding, a hundred times
the float32 noise another machine's thread order could add) before it is flagged; a typed
score (0.001 / 0.999) is off by 0.05 to 0.9.

This module imports TensorFlow (through the model); the checker imports it only for
``--verify``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .check_result import CheckResult, open_inside
from .provenance import read_run_record
from .rules import INPUT_FILE, METRIC_STEPS, RANDOM_ROW, RANDOM_SEED, RUN_FILE
from .safe_files import UnsafeFileError, read_npy
from .table_file import parse_number

TOLERANCES = {"deletion_auc": 1e-3, "insertion_auc": 1e-3, "ig_completeness_gap": 1e-3}
MAX_METRIC_STEPS = 256  # the course uses 12 or 32; a larger number in run.json is refused


class Verifier:
    """Recomputes the scores of submissions; loads each model once (call it on a folder)."""

    def __init__(self) -> None:
        self.models: dict[str, object] = {}

    def model(self, name: object):
        from ..models.loading import MODEL_NAMES, load_model

        if not isinstance(name, str) or name not in MODEL_NAMES or name == "auto":
            raise ValueError(f"{RUN_FILE} names the model {name!r}, not one the course loads")
        if name not in self.models:
            self.models[name] = load_model(name, verbose=False)
        return self.models[name]

    def __call__(self, folder: Path, result: CheckResult) -> None:
        try:
            checked, wrong = self._verify(folder, result)
        except _NotVerifiedError as exc:
            result.verified = f"not run: {exc}"
            result.notes.append(f"--verify could not recompute the scores: {exc}")
            return
        result.verified = (
            f"recomputed {checked} row(s) from the saved maps and {INPUT_FILE}: "
            + (f"{wrong} differ from the table" if wrong else "all agree with the table")
        )

    def _verify(self, folder: Path, result: CheckResult) -> tuple[int, int]:
        from ..evaluation.deletion_insertion import deletion_insertion_auc, random_saliency

        record = read_run_record(folder)
        if not record or result.class_index is None or not result.rows:
            raise _NotVerifiedError(f"no usable {RUN_FILE}, class or table")
        try:
            model = self.model(record.get("model"))
        except Exception as exc:  # noqa: BLE001 - no weights offline, a bad name...
            raise _NotVerifiedError(f"the model could not be loaded ({exc})") from None
        image = _input_image(folder, result, tuple(model.input_shape[1:3]))
        methods = record["methods"]
        checked = wrong = 0
        for row in result.rows:
            method = (row.get("method") or "").strip()
            if method == RANDOM_ROW and isinstance(record.get("random_map"), dict):
                entry = record["random_map"]
                saliency = random_saliency(image.shape[:2], _seed(entry.get("seed")))
                source = f"a random map (seed {_seed(entry.get('seed'))})"
            elif method in result.methods and isinstance(methods.get(method), dict):
                entry = methods[method]
                saliency = _read_map(folder, f"{method}.npy", image.shape[:2])
                source = f"{method}.npy"
            else:
                continue
            steps = _steps(entry.get("metric_steps"))
            scores = deletion_insertion_auc(model, image, result.class_index, saliency, steps=steps)
            if method == "integrated_gradients" and isinstance(entry.get("settings"), dict):
                gap = _ig_gap(folder, model, image, result.class_index, entry["settings"])
                if gap is not None:
                    scores["ig_completeness_gap"] = gap
            differ = [
                f"{column} {value:.4g} (the table says {row.get(column) or 'nothing'})"
                for column, value in scores.items()
                if not abs(parse_number(row.get(column, "")) - value) <= TOLERANCES[column]
            ]
            checked += 1
            if differ:
                wrong += 1
                result.add(
                    "unverified_numbers",
                    f"table row {method}: recomputed from {source} and {INPUT_FILE} with "
                    f"{record.get('model')}: " + "; ".join(differ),
                )
        return checked, wrong


class _NotVerifiedError(Exception):
    """The scores could not be recomputed (the message says why); a note, not a problem."""


def _seed(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else RANDOM_SEED


def _steps(value) -> int:
    if value is None:
        return METRIC_STEPS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_METRIC_STEPS:
        raise _NotVerifiedError(f"{RUN_FILE} gives {value!r} metric steps (1..{MAX_METRIC_STEPS})")
    return value


def _input_image(folder: Path, result: CheckResult, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    from .map_checks import check_png

    path = open_inside(folder, INPUT_FILE, result, "corrupt_map")
    if path is None or check_png(path)[1] is not None:
        raise _NotVerifiedError(f"{INPUT_FILE} is missing or unreadable")
    with Image.open(path) as img:
        pixels = np.asarray(img.convert("RGB"), np.float32)
    if pixels.shape[:2] != shape:
        raise _NotVerifiedError(f"{INPUT_FILE} is {pixels.shape[0]}x{pixels.shape[1]}, not the "
                           f"model's {shape[0]}x{shape[1]}")  # fmt: skip
    return pixels


def _read_map(folder: Path, name: str, shape: tuple[int, ...], ndim: int = 2) -> np.ndarray:
    try:
        path = open_inside(folder, name, CheckResult(folder))
        values = read_npy(path, ndim=(ndim,)) if path is not None else None
    except (UnsafeFileError, OSError) as exc:
        raise _NotVerifiedError(f"{name} cannot be read ({exc})") from None
    if values is None or values.shape[:2] != shape:
        raise _NotVerifiedError(f"{name} is missing or not {shape[0]}x{shape[1]}")
    return np.asarray(values, np.float32)


def _ig_gap(folder: Path, model, image: np.ndarray, class_index: int, settings) -> float | None:
    """The completeness gap of the saved IG attributions (black baseline only)."""
    from ..models.scores import predict_logits

    if settings.get("baseline") is not None:
        return None
    attributions = _read_map(folder, "integrated_gradients_attributions.npy", image.shape[:2], 3)
    logits = predict_logits(model, np.stack([image, np.zeros_like(image)]))[:, class_index]
    difference = float(logits[0]) - float(logits[1])
    if difference == 0:
        return None
    return abs(float(attributions.sum(dtype=np.float64)) - difference) / abs(difference)

