"""run.json: how every computed number of comparison.csv was made, so a grader can trust it.

The tools write ``run.json`` beside the table on every run (:func:`run_record`); the
checker compares the table and the files with it (:func:`check_run_record`). Per method
it records the settings, the model, the class, the hash of ``input.png``, the metric steps,
the computed scores (runtime, deletion and insertion AUC, the IG completeness gap and the
steps it used) and the SHA-256 of each map file; and the random map's scores.

What the checker reports from it, naming the row:

* ``edited_numbers``: a computed cell of the table (or its settings) differs from the
  record by more than half the last digit comparison.md shows (:data:`TOLERANCES`): a
  spreadsheet that rounds to what comparison.md shows still passes, a number typed in does
  not;
* ``changed_file``: a map file or ``input.png`` whose hash is not the recorded one (the
  numbers were computed from other pixels);
* ``unrecorded_numbers``: a method row that no run recorded (a row typed in by hand);
* ``stale_answers``: see :func:`answers_record`.

**Stale answers, exactly.** A row's answers are *stale* when the method was run again with
other settings (another settings text, e.g. ``--fast``, or other deletion/insertion
steps) after they were written, and none of them has changed since. The record keeps, per
method, which run the answers were written under (``answers.run``) and a digest of them;
any edit of the row's answers (in the form, the notebook or the csv) makes them count as
written for the current run. A re-run with the same settings never makes answers stale.

Nothing here imports TensorFlow; the checker's reads are bounded (:mod:`.safe_files`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..methods.registry import METHODS
from .check_result import CheckResult, open_inside, short
from .rules import (
    COMPUTED_COLUMNS,
    CSV_FILE,
    INPUT_FILE,
    QUALITATIVE_COLUMNS,
    RANDOM_ROW,
    RUN_FILE,
)
from .safe_files import MAX_NPY_BYTES, UnsafeFileError, read_bytes, read_json

RUN_FORMAT = 1
#: How far a computed cell may be from its record: half the last digit comparison.md
#: shows (AUCs and the IG gap to 3 decimals / 0.1 %, runtimes to 0.01 s), so a spreadsheet
#: that rounds to the Markdown's precision still matches. Numbers are written with 6
#: significant digits, far finer than this.
TOLERANCES: dict[str, float] = {
    "runtime_s": 5e-3,
    "ig_completeness_gap": 5e-4,
    "deletion_auc": 5e-4,
    "insertion_auc": 5e-4,
}
MAX_HASHED_BYTES = max(MAX_NPY_BYTES, 20_000_000)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, limit: int = MAX_HASHED_BYTES) -> str:
    """The SHA-256 of a file, read with a size bound. A ``.npy`` map is hashed by its
    values (dtype, shape and the numbers in C order), so saving the same map again in
    another ``.npy`` version or memory order does not change it; anything else by bytes."""
    if path.suffix == ".npy":
        from .safe_files import read_npy

        try:
            return array_sha256(read_npy(path, ndim=(1, 2, 3, 4)))
        except (UnsafeFileError, ValueError):
            pass  # not a readable map: its bytes, below
    return sha256_bytes(read_bytes(path, limit))


def array_sha256(values) -> str:
    """The SHA-256 of an array's dtype, shape and numbers in C order."""
    import numpy as np

    values = np.ascontiguousarray(values)
    return sha256_bytes(f"{values.dtype.str} {values.shape} ".encode() + values.tobytes())


def answers_digest(row: Mapping[str, Any]) -> str:
    """A digest of one row's answers (spaces folded; "" when they are all empty)."""
    texts = [" ".join(str(row.get(c) or "").split()) for c in QUALITATIVE_COLUMNS]
    if not any(texts):
        return ""
    return sha256_bytes(json.dumps(texts, ensure_ascii=False).encode("utf-8"))[:16]


def run_fingerprint(method: str, settings_text: str, metric_steps, context: Mapping) -> str:
    """Which run made a method's numbers: its settings, metric steps, model, class, image."""
    key = {
        "method": method,
        "settings": " ".join(str(settings_text).split()),
        "metric_steps": metric_steps,
        **{k: context.get(k) for k in ("model", "class_index", "input_sha256")},
    }
    return sha256_bytes(json.dumps(key, sort_keys=True).encode("utf-8"))[:16]


def answers_record(
    method: str,
    new_run: str,
    row: Mapping[str, Any],
    old_row: Mapping[str, Any] | None,
    old_method: Mapping[str, Any] | None,
    answered_now: bool,
    settings_text: str,
    metric_steps,
) -> dict | None:
    """Which run a row's answers were written under (None: no answers).

    Answers given in this call are written under this run. Answers carried over from the
    table were written under the previous run of the method, unless the record already
    holds them unchanged (then under the run it names).
    """
    digest = answers_digest(row)
    if not digest:
        return None
    if answered_now:
        return {"run": new_run, "settings": settings_text, "metric_steps": metric_steps,
                "sha256": digest}  # fmt: skip
    old_answers = (old_method or {}).get("answers")
    if isinstance(old_answers, dict) and old_answers.get("sha256") == digest:
        return dict(old_answers)
    old_settings = str((old_row or {}).get("settings", ""))
    if isinstance(old_method, dict) and isinstance(old_method.get("run"), str):
        run, steps = old_method["run"], old_method.get("metric_steps")
        old_settings = str(old_method.get("settings_text", old_settings))
    elif " ".join(old_settings.split()) == " ".join(settings_text.split()):
        run, steps = new_run, metric_steps  # no record: the same settings, the same run
    else:
        run, steps = f"settings {old_settings}", None
    return {"run": run, "settings": old_settings, "metric_steps": steps, "sha256": digest}


def jsonable(value):
    """Settings as JSON can hold them (arrays named by their shape, numpy scalars as numbers)."""
    import numpy as np

    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return f"array {value.shape}"
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def method_record(result, files: Mapping[str, str], context: Mapping) -> dict:
    """The record of one method's run (``result``: a :class:`~.run.MethodResult`)."""
    return {
        "run": run_fingerprint(result.method, result.settings_text, result.metric_steps, context),
        "settings": jsonable(result.settings),
        "settings_text": result.settings_text,
        "metric_steps": result.metric_steps,
        "runtime_s": float(result.runtime_s),
        "ig_completeness_gap": result.ig_completeness_gap,
        "ig_steps": result.ig_steps,
        "deletion_auc": result.deletion_auc,
        "insertion_auc": result.insertion_auc,
        "files": dict(files),
    }


def run_record(
    out: Path,
    results: Mapping,
    rows: list[dict[str, str]],
    old_rows: Mapping[str, dict[str, str]],
    old_record: Mapping,
    context: Mapping,
    random_map: Mapping | None,
    answered_now: set[str],
) -> dict:
    """The new run.json: a fresh record for each method in ``results`` (hashing the files
    just written in ``out``), the old record of methods kept from earlier runs, and the
    random map's scores. ``rows``: the table as written; ``old_rows``: as it was read."""
    old_methods = old_record.get("methods") if isinstance(old_record.get("methods"), dict) else {}
    methods: dict[str, Any] = {}
    for row in rows:
        method = row["method"].strip()
        if method in results:
            r = results[method]
            files = {
                name: sha256_file(out / name)
                for name in (f"{method}.png", f"{method}.npy", f"{method}_attributions.npy")
                if (out / name).is_file()
            }
            record = method_record(r, files, context)
            answers = answers_record(
                method, record["run"], row, old_rows.get(method), old_methods.get(method),
                method in answered_now, r.settings_text, r.metric_steps,
            )  # fmt: skip
            methods[method] = {**record, **({"answers": answers} if answers else {})}
        elif method in METHODS and isinstance(old_methods.get(method), dict):
            methods[method] = old_methods[method]  # kept from an earlier run
    old_random = old_record.get("random_map")
    return {
        "format": RUN_FORMAT,
        "what": f"how the computed cells of {CSV_FILE} were made (written by the tools, "
        "compared by the checker: never edit it)",
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        **{k: context.get(k) for k in ("model", "class_index", "input_sha256")},
        "random_map": dict(random_map) if random_map else old_random,
        "methods": methods,
    }


def write_run_record(out: Path, record: Mapping) -> Path:
    from .table_file import replace_file

    text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
    return replace_file(out / RUN_FILE, text.encode("utf-8"))


def read_run_record(out: Path) -> dict:
    """The folder's run.json as written by the tools ({} when missing or unreadable)."""
    from .safe_files import inside

    try:
        record = read_json(inside(out, RUN_FILE))
    except (FileNotFoundError, UnsafeFileError, OSError):
        return {}
    return record if isinstance(record, dict) else {}


# ----------------------------------------------------------------------------- checking


def _number(text) -> float | None:
    from .table_file import parse_number

    value = parse_number(str(text or ""))
    return None if value != value else value


def _differs(column: str, cell, recorded) -> bool:
    value = _number(cell)
    if recorded is None or not isinstance(recorded, (int, float)):
        return value is not None
    return value is None or abs(value - recorded) > TOLERANCES[column] + 1e-9 * abs(recorded)


def _shown(value) -> str:
    return "empty" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _compare_row(row: Mapping, record: Mapping, columns) -> list[str]:
    """What in a table row differs from its record, in words."""
    found = []
    for column in columns:
        if _differs(column, row.get(column), record.get(column)):
            found.append(
                f"{column} is {short(row.get(column) or '', 20)} in {CSV_FILE} but the run "
                f"computed {_shown(record.get(column))}"
            )
    return found


def load_run_record(folder: Path, result: CheckResult) -> dict | None:
    """run.json, or None with a problem saying why it cannot be used."""
    path = open_inside(folder, RUN_FILE, result, "bad_run_record")
    if path is None:
        if not any(p.kind == "bad_run_record" for p in result.problems):
            result.add(
                "missing_run_record",
                f"{RUN_FILE} is missing: it records how the table's numbers were computed. "
                "Re-run the notebook's methods or `python -m helpers.explain` for this folder",
            )
        return None
    try:
        record = read_json(path)
        if not isinstance(record, dict) or not isinstance(record.get("methods"), dict):
            raise UnsafeFileError(f"{RUN_FILE} does not hold a run record")
    except (UnsafeFileError, OSError) as exc:
        result.add("bad_run_record", f"{RUN_FILE} cannot be used: {exc}")
        return None
    return record


def check_run_record(folder: Path, rows: list[dict[str, str]], result: CheckResult) -> None:
    """Compare the table's computed cells, the map files and the answers with run.json."""
    record = load_run_record(folder, result)
    if record is None:
        return
    input_sha = result.file_hashes.get(INPUT_FILE)
    if input_sha and isinstance(record.get("input_sha256"), str) and (
        input_sha != record["input_sha256"]
    ):
        result.add(
            "changed_file",
            f"{INPUT_FILE} is not the photo the run explained (its SHA-256 differs from "
            f"{RUN_FILE}): the maps and numbers belong to another image",
        )
    recorded = record["methods"]
    for row in rows:
        method = (row.get("method") or "").strip()
        if method == RANDOM_ROW:
            random_map = record.get("random_map")
            if isinstance(random_map, dict):
                wrong = _compare_row(row, random_map, ("deletion_auc", "insertion_auc"))
                if wrong:
                    result.add("edited_numbers", f"table row {RANDOM_ROW}: " + "; ".join(wrong))
            continue
        if method not in result.table_methods:
            continue
        entry = recorded.get(method)
        if not isinstance(entry, dict):
            result.add(
                "unrecorded_numbers",
                f"table row {method}: no run recorded its numbers in {RUN_FILE} (a row is "
                f"written by the tools, not typed): run the method again (--methods {method})",
            )
            continue
        _check_method(method, row, entry, result)


def _check_method(method: str, row: Mapping, entry: Mapping, result: CheckResult) -> None:
    needed = [c for c in COMPUTED_COLUMNS if c != "ig_completeness_gap"]
    needed += ["ig_completeness_gap"] if method == "integrated_gradients" else []
    wrong = [c for c in needed if c in TOLERANCES and _number(row.get(c)) is not None]
    problems = _compare_row(row, entry, wrong)
    said, ran = " ".join(str(row.get("settings", "")).split()), entry.get("settings_text")
    if isinstance(ran, str) and said != " ".join(ran.split()):
        problems.insert(0, f"settings say {short(said, 50)} but the run used {short(ran, 50)}")
    if problems:
        result.add(
            "edited_numbers",
            f"table row {method}: " + "; ".join(problems) + " (computed columns are written "
            "by the tools; re-run the method rather than typing them)",
        )
    files = entry.get("files") if isinstance(entry.get("files"), dict) else {}
    if method not in result.methods:
        files = {}  # unreadable maps are reported as such; their hashes add nothing
    for name in (f"{method}.png", f"{method}.npy", f"{method}_attributions.npy"):
        have, want = result.file_hashes.get(name), files.get(name)
        if have and isinstance(want, str) and have != want:
            result.add(
                "changed_file",
                f"{name} is not the file the run saved (its SHA-256 differs from {RUN_FILE}): "
                f"table row {method}'s numbers were computed from another map",
            )
    answers = entry.get("answers")
    if (
        isinstance(answers, dict)
        and answers.get("run") != entry.get("run")
        and answers.get("sha256") == answers_digest(row)
    ):
        then = f"{answers.get('settings') or 'other settings'}"
        now = f"{entry.get('settings_text')}"
        steps = (answers.get("metric_steps"), entry.get("metric_steps"))
        if steps[0] != steps[1] and None not in steps:
            then, now = f"{then} ({steps[0]} metric steps)", f"{now} ({steps[1]} metric steps)"
        result.add(
            "stale_answers",
            f"table row {method}: the answers were written for the run with {_clip(then)}; "
            f"its map and numbers are now from {_clip(now)}: look at the new map and "
            "numbers and update the answers",
        )


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
