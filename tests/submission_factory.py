"""Generate assignment submissions, complete and broken, for the checker and the gradebook.

Reusable outside the tests (the timing in INSTRUCTORS.md comes from it)::

    python -m tests.submission_factory OUT_DIR [N]   # N student folders/zips (default 100)

A complete folder is written once by the real ``helpers.report.write_submission`` from
small synthetic maps (no model, no TensorFlow), then copied and damaged: each entry of
:data:`DAMAGES` turns a copy into one kind of broken (or oddly saved) submission and
names the problem kind the checker must report (None: it must pass).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from helpers.assignment.rules import (
    CSV_FILE,
    FAST_METRIC_STEPS,
    MANIFEST_FILE,
    METRIC_STEPS,
    QUALITATIVE_COLUMNS,
)
from helpers.assignment.run import MethodResult
from helpers.assignment.submission import write_submission
from helpers.data.images import load_image, sample_image
from helpers.methods.registry import METHODS as REGISTRY
from helpers.paths import PROJECT_ROOT

METHODS = tuple(REGISTRY)

SIZE = 32  # small synthetic maps
RANDOM_MAP = {"deletion_auc": 0.2, "insertion_auc": 0.3, "seed": 0, "metric_steps": 32}


def results_for(
    methods=METHODS, seed: int = 1, fast: bool = False, scores=(0.1, 0.5)
) -> dict[str, MethodResult]:
    """Synthetic MethodResults (random maps), one per method, with the registry's settings
    (its fast ones when ``fast``, scored with the fast metric steps too)."""
    rng = np.random.default_rng(seed)
    steps = FAST_METRIC_STEPS if fast else METRIC_STEPS
    results = {}
    for m in methods:
        raw = rng.normal(size=(SIZE, SIZE, 3)).astype(np.float32)
        settings = REGISTRY[m].settings(fast, **({"layer": "top_conv"} if m == "grad_cam" else {}))
        gap = SimpleNamespace(relative_gap=0.12) if m == "integrated_gradients" else None
        attributions = None if m in ("grad_cam", "occlusion") else raw
        results[m] = MethodResult(m, raw.sum(-1), attributions, 0.05, settings, gap, *scores, steps)
    return results


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").lower()
    return tuple(sorted(set(re.findall(r"[a-z]{3,}", text))))


def answers_for(methods=METHODS, seed: int = 1) -> dict[str, dict[str, str]]:
    """Answers a student might write: options for the short questions, and for the free-text
    ones words drawn at random (seeded) from the README, so that two students' answers share
    no phrase (real students' answers differ; copies are made on purpose)."""
    rng = random.Random(seed)
    words = _vocabulary()

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(words, k=rng.randint(low, high)))

    return {
        m: {
            "what_it_highlights": f"my answer: {text(8, 14)}.",  # "my answer": see test_bad_files
            "on_the_object": rng.choice(("yes", "partly", "no", "mostly", "hardly")),
            "noise_level": rng.choice(("low", "medium", "high")),
            "would_you_trust_it": rng.choice(("Yes", "Partly", "No")) + ": " + text(6, 12) + ".",
        }
        for m in methods
    }


def own_photo(folder: Path, seed: int, base: str = "espresso") -> Path:
    """A student's own photo: a bundled one shifted and noised (seeded), saved as PNG."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = load_image(sample_image(base), size=SIZE)
    pixels = np.roll(pixels, int(rng.integers(1, SIZE - 1)), axis=int(rng.integers(0, 2)))
    pixels = np.clip(pixels + rng.normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"photo_{seed}.png"
    Image.fromarray(pixels).save(path)
    return path


def build(
    folder,
    methods=METHODS,
    class_index=967,
    image="espresso",
    answers=True,
    seed: int = 1,
    photo: Path | None = None,
) -> Path:
    """A submission folder written by the report itself (synthetic maps), answered unless
    ``answers=False`` (``answers`` may also be the answers). ``photo``: the student's own
    photo file (default: the bundled ``image``); ``seed``: their maps and answers."""
    path = Path(photo) if photo is not None else sample_image(image)
    if answers is True:
        answers = answers_for(methods, seed)
    write_submission(
        folder,
        load_image(path, size=SIZE),
        class_index,
        results_for(methods, seed),
        image_path=path,
        image_source=f"file {path.name}" if photo is not None else f"bundled sample '{image}'",
        model_name="efficientnet_lite0",
        model_why="test",
        top5=[(class_index, "x", 0.9)],
        random_map=RANDOM_MAP,
        answers=answers or None,
    )
    return Path(folder)


def rerun(folder: Path, methods=METHODS, fast: bool = True, seed: int = 7, photo=None, **kw):
    """Run the methods again over a folder (``fast``: the fast settings and metric steps),
    as a re-run of ``explain`` does: maps and numbers replaced, answers kept."""
    path = Path(photo) if photo is not None else sample_image("espresso")
    write_submission(
        folder, load_image(path, size=SIZE), 967, results_for(methods, seed, fast, (0.15, 0.45)),
        image_path=path, model_name="efficientnet_lite0", model_why="test",
        random_map={**RANDOM_MAP, "metric_steps": FAST_METRIC_STEPS if fast else METRIC_STEPS},
        **kw,
    )  # fmt: skip
    return folder


# --------------------------------------------------------------------------- damages


def _rows(folder: Path) -> list[dict[str, str]]:
    with (folder / CSV_FILE).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write_rows(folder: Path, rows, delimiter=",", encoding="utf-8") -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    (folder / CSV_FILE).write_bytes(out.getvalue().encode(encoding))


def _manifest(folder: Path, **changes) -> None:
    path = folder / MANIFEST_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def _npy_header_only(path: Path, shape) -> None:
    header = {"descr": "<f4", "fortran_order": False, "shape": tuple(shape)}
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, header)


def _blank_answers(folder: Path) -> None:
    rows = _rows(folder)
    for row in rows:
        row.update(dict.fromkeys(QUALITATIVE_COLUMNS, ""))
    _write_rows(folder, rows)


def _method_as_path(folder: Path) -> None:
    rows = _rows(folder)
    rows[1]["method"] = "../../outside/secret"
    _write_rows(folder, rows)


def _symlink_out(folder: Path) -> None:
    outside_dir = folder.parent.with_name(folder.parent.name + "_outside")
    outside_dir.mkdir(exist_ok=True)
    outside = outside_dir / f"{folder.name}.npy"
    np.save(outside, np.zeros((SIZE, SIZE), np.float32))
    (folder / "grad_cam.npy").unlink()
    os.symlink(outside, folder / "grad_cam.npy")


def _bom_csv(folder: Path) -> None:
    (folder / CSV_FILE).write_bytes(b"\xef\xbb\xbf" + (folder / CSV_FILE).read_bytes())


def _excel_csv(folder: Path) -> None:
    """cp1252, ';'-separated, decimal commas: how Excel saves in a German or French locale."""
    rows = _rows(folder)
    for row in rows:
        for key in ("runtime_s", "deletion_auc", "insertion_auc", "ig_completeness_gap"):
            row[key] = row[key].replace(".", ",")
    _write_rows(folder, rows, delimiter=";", encoding="cp1252")


def _cat(folder: Path) -> None:
    _manifest(folder, class_index=281, class_name="tabby")


DAMAGES: dict[str, tuple[Callable[[Path], None], str | None]] = {
    "complete": (lambda f: None, None),
    "bom_csv": (_bom_csv, None),
    "excel_csv": (_excel_csv, None),
    "no_grad_cam_files": (
        lambda f: [(f / n).unlink() for n in ("grad_cam.png", "grad_cam.npy")],
        "missing_map",
    ),
    "corrupt_png": (lambda f: (f / "smoothgrad.png").write_bytes(b"\x89PNG broken"), "corrupt_map"),
    "corrupt_npy": (
        lambda f: (f / "occlusion.npy").write_bytes((f / "occlusion.npy").read_bytes()[:90]),
        "corrupt_map",
    ),
    "npy_320gb": (
        lambda f: _npy_header_only(f / "grad_cam.npy", (283_000, 283_000)),
        "corrupt_map",
    ),
    "cat_class": (_cat, "cat_class"),
    "empty_answers": (_blank_answers, "empty_answers"),
    "method_as_path": (_method_as_path, "unknown_method"),
    "symlink_out": (_symlink_out, "corrupt_map"),
    "deep_json": (
        lambda f: (f / MANIFEST_FILE).write_text("[" * 100_000 + "]" * 100_000),
        "bad_manifest",
    ),
    "no_manifest": (lambda f: (f / MANIFEST_FILE).unlink(), "missing_manifest"),
    "empty_folder": (lambda f: [p.unlink() for p in list(f.iterdir())], "missing_manifest"),
}


def make_submission(folder: Path, damage: str, template: Path) -> str | None:
    """Copy ``template`` to ``folder``, apply ``DAMAGES[damage]``; the expected problem kind."""
    shutil.copytree(template, folder)
    apply, expected = DAMAGES[damage]
    apply(folder)
    return expected


def zip_folder(folder: Path, zip_path: Path, wrap: bool = True) -> Path:
    """Zip a folder as a student would (inside one folder of its name when ``wrap``)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.iterdir()):
            z.write(p, f"{folder.name}/{p.name}" if wrap else p.name)
    return zip_path


def make_class(out: Path, n: int = 100, template: Path | None = None) -> dict[str, str | None]:
    """``n`` student entries in ``out``: folders of every damage kind, zips (good, garbage,
    zip-slip) and one plain file. Returns {student: expected problem kind or None}."""
    out.mkdir(parents=True, exist_ok=True)
    if template is None:
        template = build(out.parent / f"{out.name}_template" / "espresso")
    expected: dict[str, str | None] = {}
    extras = ["zip_good", "zip_garbage", "zip_slip", "plain_file"]
    kinds = list(DAMAGES) + extras
    for i in range(n):
        kind = kinds[i % len(kinds)]
        student = f"student_{i:03d}_{kind}"
        if kind == "plain_file":
            (out / f"{student}.txt").write_text("my answers are in the email\n")
            expected[f"{student}.txt"] = "not_a_submission"
        elif kind == "zip_garbage":
            (out / f"{student}.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
            expected[f"{student}.zip"] = "bad_zip"
        elif kind.startswith("zip_"):
            staging = out.parent / f"{out.name}_staging" / student
            make_submission(staging, "complete", template)
            zip_path = zip_folder(staging, out / f"{student}.zip")
            if kind == "zip_slip":
                with zipfile.ZipFile(zip_path, "a") as z:
                    z.writestr("../../escaped.txt", "outside")
            expected[f"{student}.zip"] = "unsafe_file" if kind == "zip_slip" else None
        else:
            expected[student] = make_submission(out / student, kind, template)
    return expected


# ------------------------------------------------------- a class an instructor must trust

#: Methods of the acceptance class (four keep it fast; the rules do not depend on them).
CLASS_METHODS = ("grad_cam", "vanilla_gradients", "integrated_gradients", "occlusion")


def _answers_edited(answers: dict) -> dict:
    """A copy of someone's answers, lightly disguised (case, a word added)."""
    return {
        m: {c: (t.lower() + " indeed" if len(t.split()) > 3 else t) for c, t in row.items()}
        for m, row in answers.items()
    }


def _edit_rows(folder: Path, change: Callable[[list[dict]], None], **style) -> None:
    from helpers.assignment.table import fill_answers

    rows = _rows(folder)
    change(rows)
    _write_rows(folder, rows, **style)
    fill_answers(folder)  # comparison.md in step, as `python -m helpers.report` does


def _row(rows: list[dict], method: str) -> dict:
    return next(r for r in rows if r["method"] == method)


def make_trust_class(out: Path, genuine: int = 22) -> dict[str, dict]:
    """A class of ``genuine`` + 20 entries: genuine students (each their own photo, maps and
    answers), and every way a submission can mislead a grader, once or more. Returns
    ``{entry: {"kinds": problem kinds expected (empty: complete), "copies": {column:
    names}}}``; entries whose copies are not given must have none."""
    from helpers.assignment.table import fill_answers

    out.mkdir(parents=True, exist_ok=True)
    photos = out.parent / f"{out.name}_photos"
    m = CLASS_METHODS
    expected: dict[str, dict] = {}

    def student(name, seed, kinds=(), copies=None, **kw):
        kw.setdefault("photo", own_photo(photos, seed))
        build(out / name, m, seed=seed, **kw)
        expected[name] = {"kinds": set(kinds), "copies": copies or {}}
        return out / name

    for i in range(genuine):
        student(f"genuine_{i:02d}", 100 + i)
    # numbers typed by hand
    f = student("typed_scores", 200, {"edited_numbers"})
    _edit_rows(f, lambda rows: _row(rows, "grad_cam").update(deletion_auc="0.001",
                                                               insertion_auc="0.999"))
    f = student("typed_line_to_beat", 201, {"edited_numbers"})
    _edit_rows(f, lambda rows: _row(rows, "random_map").update(insertion_auc="0,01",
                                                                deletion_auc="0,2"),
               delimiter=";", encoding="cp1252")  # fmt: skip
    f = student("typed_settings", 202, {"edited_numbers"})
    _edit_rows(f, lambda rows: _row(rows, "occlusion").update(settings="patch=8, stride=4"))
    # answers that are not answers
    f = student("placeholder_x", 210, {"placeholder_answers"})
    fill_answers(f, {k: dict.fromkeys(QUALITATIVE_COLUMNS, "x") for k in m})
    f = student("placeholder_mixed", 211, {"placeholder_answers"})
    fill_answers(f, {"grad_cam": {"noise_level": "TODO"}, "occlusion": {"on_the_object": "..."},
                     "vanilla_gradients": {"what_it_highlights": "Which parts of the image "
                                           "does the map light up?"}})  # fmt: skip
    f = student("placeholder_same", 212, {"placeholder_answers"})
    fill_answers(f, {k: dict.fromkeys(QUALITATIVE_COLUMNS, "see the grid") for k in m})
    # re-runs over answers
    f = student("stale_fast_rerun", 220, {"stale_answers"})
    rerun(f, m, fast=True, seed=1220, photo=own_photo(photos, 220))
    f = student("stale_then_updated", 221)
    rerun(f, m, fast=True, seed=1221, photo=own_photo(photos, 221))
    fill_answers(f, answers_for(m, seed=9221))
    f = student("rerun_same_settings", 222)
    rerun(f, m, fast=False, seed=222, photo=own_photo(photos, 222))
    # copies
    trio = ("copy_1", "copy_2", "copy_3")
    base = build(photos / "copied", m, seed=230, photo=own_photo(photos, 230))
    for name in trio:
        shutil.copytree(base, out / name)
        others = {o for o in trio if o != name}
        expected[name] = {"kinds": set(), "copies": {
            "same_photo_as": others, "same_maps_as": others, "similar_answers_as": others}}
    source = student("answers_source", 240, copies={"similar_answers_as": {"answers_copier"}})
    copied = _answers_edited(answers_for(m, seed=240))
    student("answers_copier", 241, answers=copied,
            copies={"similar_answers_as": {"answers_source"}})  # fmt: skip
    assert source.is_dir()
    for name, other in (("bundled_a", "bundled_b"), ("bundled_b", "bundled_a")):
        f = student(name, 250, photo=None, copies={"same_photo_as": {other},
                                                   "same_maps_as": {other}})  # fmt: skip
        fill_answers(f, answers_for(m, seed=251 if name == "bundled_b" else 250))
    # files changed after the run, and what is not a submission
    f = student("map_replaced", 260, {"changed_file"})
    np.save(f / "grad_cam.npy", np.load(f / "grad_cam.npy")[::-1].copy())
    f = student("no_run_record", 261, {"missing_run_record"})
    (f / "run.json").unlink()
    staging = student("zipped", 262)
    zip_folder(staging, out / "zipped.zip")
    shutil.rmtree(staging)
    (out / "zipped_essay.pdf").write_bytes(b"%PDF-1.4 my answers are in this essay\n")
    expected["zipped_essay.pdf"] = {"kinds": {"not_a_submission"}, "copies": {}}
    expected["zipped.zip"] = expected.pop("zipped")
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("generated_submissions")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    made = make_class(target, count)
    print(f"wrote {len(made)} submissions in {target}/")


def run_checker(*args) -> subprocess.CompletedProcess:
    """``python -m helpers.check_submission ARGS`` in a subprocess (output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "helpers.check_submission", *map(str, args)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
