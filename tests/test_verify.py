"""`check_submission --verify`: the scores are recomputed from the saved maps and input.png
with the real model, so invented numbers are flagged even when run.json was edited to
match them. Three submissions from one real --fast run keep it small."""

import csv
import json
import shutil

import numpy as np
import pytest

from helpers.assignment.provenance import read_run_record
from helpers.assignment.rules import RUN_FILE
from helpers.assignment.submission import make_report
from helpers.assignment.table import fill_answers
from helpers.assignment.verify import TOLERANCES, Verifier
from helpers.check_submission import inspect_submission
from helpers.paths import PROJECT_ROOT
from tests.submission_factory import _rows, _write_rows, answers_for, run_checker

METHODS = ("grad_cam", "vanilla_gradients", "integrated_gradients")


@pytest.fixture(scope="module")
def genuine(lite0, espresso, tmp_path_factory):
    out = tmp_path_factory.mktemp("verify") / "subs" / "genuine"
    make_report(lite0, espresso, 967, out, METHODS, fast=True, progress=None,
                image_path=PROJECT_ROOT / "data" / "espresso.png")  # fmt: skip
    fill_answers(out, answers_for(METHODS, seed=3))
    return out


def invent(folder, record_too: bool) -> None:
    """grad_cam's scores typed as 0.001 / 0.999; with ``record_too`` run.json says so too."""
    rows = _rows(folder)
    row = next(r for r in rows if r["method"] == "grad_cam")
    row.update(deletion_auc="0.001", insertion_auc="0.999")
    _write_rows(folder, rows)
    fill_answers(folder)
    if record_too:
        record = json.loads((folder / RUN_FILE).read_text())
        record["methods"]["grad_cam"].update(deletion_auc=0.001, insertion_auc=0.999)
        (folder / RUN_FILE).write_text(json.dumps(record))


@pytest.fixture(scope="module")
def graded(genuine):
    subs = genuine.parent
    for name, record_too in (("typed", False), ("careful_cheat", True)):
        shutil.copytree(genuine, subs / name)
        invent(subs / name, record_too)
    plain = run_checker("--all", subs, "--csv", subs.parent / "plain.csv")
    verified = run_checker("--all", subs, "--csv", subs.parent / "verified.csv", "--verify")
    books = {}
    for name in ("plain", "verified"):
        with (subs.parent / f"{name}.csv").open(newline="", encoding="utf-8") as f:
            books[name] = {r["student"]: r for r in csv.DictReader(f)}
    return plain, verified, books


def test_without_verify_a_careful_cheat_passes_and_a_typed_number_does_not(graded):
    plain, _, books = graded
    rows = books["plain"]
    assert rows["genuine"]["complete"] == "yes" and rows["genuine"]["verified"] == ""
    assert rows["typed"]["problem_kinds"] == "edited_numbers"
    assert rows["careful_cheat"]["complete"] == "yes"  # only --verify can see it
    assert plain.returncode == 1


def test_verify_flags_invented_scores_and_passes_the_genuine_one(graded):
    _, verified, books = graded
    rows = books["verified"]
    assert verified.returncode == 1 and "Traceback" not in verified.stdout + verified.stderr
    assert rows["genuine"]["complete"] == "yes"
    assert rows["genuine"]["verified"] == (
        "recomputed 4 row(s) from the saved maps and input.png: all agree with the table"
    )
    for name, kinds in (("typed", "edited_numbers unverified_numbers"),
                        ("careful_cheat", "unverified_numbers")):  # fmt: skip
        assert rows[name]["problem_kinds"] == kinds, rows[name]["problems"]
        assert "table row grad_cam: recomputed from grad_cam.npy and input.png with " in (
            rows[name]["problems"]
        )
        assert "deletion_auc" in rows[name]["problems"] and "the table says 0.001" in (
            rows[name]["problems"]
        )


def test_recomputing_repeats_the_run_within_float_noise(genuine, lite0):
    """The tolerance's measurement: every score recomputed in this process from the files
    (the model sees exactly input.png's pixels) against the run's own numbers."""
    verifier = Verifier()
    verifier.models["efficientnet_lite0"] = lite0
    result = inspect_submission(genuine, verify=verifier)
    assert result.complete, result.report()
    from helpers.assignment.verify import _input_image
    from helpers.evaluation.deletion_insertion import deletion_insertion_auc, random_saliency

    record = read_run_record(genuine)
    image = _input_image(genuine, result, (224, 224))
    worst = 0.0
    for method, entry in record["methods"].items():
        again = deletion_insertion_auc(lite0, image, 967, np.load(genuine / f"{method}.npy"),
                                       steps=entry["metric_steps"])  # fmt: skip
        worst = max(worst, *(abs(again[k] - entry[k]) for k in again))
    noise = deletion_insertion_auc(lite0, image, 967, random_saliency((224, 224), 0), steps=12)
    worst = max(worst, *(abs(noise[k] - record["random_map"][k]) for k in noise))
    print(f"\nlargest difference between a recomputed and a recorded AUC: {worst:.2e}")
    assert worst <= 1e-5 < TOLERANCES["deletion_auc"] / 50


def test_what_verify_does_not_do(genuine, tmp_path, lite0):
    """A run.json that asks for absurd work, or a model the course does not load: a note
    saying so, never hours of work or a traceback."""
    verifier = Verifier()
    verifier.models["efficientnet_lite0"] = lite0
    copy = shutil.copytree(genuine, tmp_path / "s")
    record = json.loads((copy / RUN_FILE).read_text())
    record["methods"]["grad_cam"]["metric_steps"] = 10**9
    (copy / RUN_FILE).write_text(json.dumps(record))
    result = inspect_submission(copy, verify=verifier)
    assert result.verified == "not run: run.json gives 1000000000 metric steps (1..256)"
    record["model"] = "resnet50"
    (copy / RUN_FILE).write_text(json.dumps(record))
    result = inspect_submission(copy, verify=verifier)
    assert result.verified.startswith("not run: the model could not be loaded")
    assert result.complete and "--verify could not recompute" in result.report()
