"""helpers.assignment: running the methods on one image, the saved folder, the comparison table."""

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from helpers.assignment.choices import default_out_dir, folder_name, prediction_check
from helpers.assignment.cli import report_main as main
from helpers.assignment.rules import (
    CSV_FILE,
    MARKDOWN_FILE,
    QUALITATIVE_COLUMNS,
    RANDOM_ROW,
    TABLE_COLUMNS,
    ReportError,
)
from helpers.assignment.run import MethodResult
from helpers.assignment.run import chosen_methods as parse_methods
from helpers.assignment.submission import make_report, write_submission
from helpers.assignment.table import (
    comparison_table,
    fill_answers,
    markdown_table,
    method_rows,
    parse_markdown_table,
    random_scores,
    read_table,
    unanswered,
)
from helpers.methods.registry import METHODS as REGISTRY
from helpers.paths import PROJECT_ROOT

METHODS = tuple(REGISTRY)
FAST_METHODS = ("grad_cam", "vanilla_gradients", "integrated_gradients", "occlusion")


def fake_results(methods=METHODS, size=8):
    rng = np.random.default_rng(0)
    results = {}
    for m in methods:
        raw = rng.normal(size=(size, size, 3)).astype(np.float32)
        settings = dict(REGISTRY[m].defaults, **({"layer": "top_conv"} if m == "grad_cam" else {}))
        completeness = SimpleNamespace(relative_gap=0.05) if m == "integrated_gradients" else None
        results[m] = MethodResult(
            m,
            raw.sum(-1),
            raw if m in ("smoothgrad",) else None,
            0.1,
            settings,
            completeness,
            0.2,
            0.6,
        )
    return results


def test_parse_methods_accepts_short_names_and_rejects_unknown_ones():
    assert parse_methods("all") == METHODS
    assert set(parse_methods(None)) == {m for m in METHODS if REGISTRY[m].by_default}
    assert {"smoothgrad_squared", "vargrad", "guided_grad_cam"}.isdisjoint(parse_methods(None))
    assert parse_methods("GradCAM, ig,occlusion,ig") == (
        "grad_cam",
        "integrated_gradients",
        "occlusion",
    )
    assert parse_methods(["smooth-grad", "vanilla"]) == ("smoothgrad", "vanilla_gradients")
    with pytest.raises(ReportError, match="Did you mean grad_cam.*Valid methods: grad_cam"):
        parse_methods("gradcamm")
    with pytest.raises(ReportError, match="no method"):
        parse_methods(" , ")


def test_folder_names_are_safe():
    assert folder_name(967) == "espresso"
    assert folder_name(607) == "jack-o_-lantern"  # "jack-o'-lantern" without the quote
    assert default_out_dir(652).as_posix() == "results/military_uniform"


def test_prediction_check_warns_when_the_class_is_not_in_the_top5():
    top5 = [(540, "drilling_platform", 0.5), (657, "missile", 0.07)]
    ok, message = prediction_check(top5, 657)
    assert ok and "number 2" in message
    ok, message = prediction_check(top5, 812)
    assert not ok and message.startswith("Careful:") and "NOT among" in message
    assert "540 drilling_platform" in message


def test_markdown_table_round_trips_answers_with_pipes_and_newlines():
    answers = {
        "grad_cam": {"what_it_highlights": "the cup | and\nthe saucer", "noise_level": "low"}
    }
    table = comparison_table(fake_results(), answers)
    assert list(table.columns) == list(TABLE_COLUMNS)
    text = markdown_table(table)
    assert "the cup \\| and<br>the saucer" in text
    rows = parse_markdown_table("# title\n\n" + text + "\n\nafter")
    assert [r["method"] for r in rows] == list(METHODS)
    assert rows[0]["what_it_highlights"] == "the cup | and\nthe saucer"
    assert rows[0]["noise_level"] == "low" and rows[1]["noise_level"] == ""
    assert rows[3]["ig_completeness_gap"] == "5.0%" and rows[0]["ig_completeness_gap"] == ""


@pytest.mark.parametrize(
    "answers, match",
    [
        ({"gradcam": {"noise_level": "low"}}, "not in the table"),
        ({"grad_cam": {"noise": "low"}}, "columns you fill in"),
        ({"grad_cam": {"noise_level": 3}}, "must be text"),
        ({"grad_cam": "low"}, "must be a dict"),
    ],
)
def test_wrong_answers_are_refused_clearly(answers, match):
    with pytest.raises(ReportError, match=match):
        comparison_table(fake_results(), answers)


def test_import_does_not_load_tensorflow():
    code = "import sys, helpers.report, helpers.explain; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def made(lite0, espresso, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "espresso"
    lines = []
    report = make_report(
        lite0,
        espresso,
        "espresso",
        out,
        FAST_METHODS,
        image_path=PROJECT_ROOT / "data" / "espresso.png",
        image_source="bundled sample 'espresso'",
        model_why="asked for by name",
        fast=True,
        progress=lines.append,
    )
    return report, lines


def test_report_writes_maps_table_grid_and_manifest(made, lite0, espresso):
    from helpers.methods.cam import grad_cam

    report, lines = made
    out = report.out_dir
    assert lines[0].startswith("the line to beat: a random map scores deletion AUC ")
    runs = lines[1 : len(FAST_METHODS) + 1]
    assert [line.split()[1] for line in runs] == list(FAST_METHODS)
    assert runs[0].startswith("[1/4] grad_cam") and "the random map" in runs[0]
    for method in FAST_METHODS:
        display = np.load(out / f"{method}.npy")
        assert display.shape == (224, 224) and display.dtype == np.float32
        assert (out / f"{method}.png").stat().st_size > 1000
    for method in ("vanilla_gradients", "integrated_gradients"):
        assert np.load(out / f"{method}_attributions.npy").shape == (224, 224, 3)
    assert not (out / "grad_cam_attributions.npy").exists()
    # The model saw the photo as whole pixel values, exactly what input.png holds.
    assert np.abs(report.image - espresso).max() <= 0.5
    saved_input = np.asarray(Image.open(out / "input.png"), np.float32)
    np.testing.assert_array_equal(saved_input, report.image)
    np.testing.assert_allclose(np.load(out / "grad_cam.npy"), grad_cam(lite0, report.image, 967))
    assert (out / "comparison_grid.png").is_file() and (out / "input.png").is_file()

    full = read_table(out)
    assert list(full["method"]) == [*FAST_METHODS, RANDOM_ROW]  # the line to beat, last
    assert random_scores(full) == pytest.approx(
        {k: report.manifest["random_map"][k] for k in ("deletion_auc", "insertion_auc")},
        abs=1e-5,
    )
    table = method_rows(full)
    assert list(table["method"]) == list(FAST_METHODS)
    gaps = table.set_index("method")["ig_completeness_gap"]
    assert gaps.isna().sum() == 3
    ig = report.results["integrated_gradients"]
    assert gaps["integrated_gradients"] == pytest.approx(ig.completeness.relative_gap, rel=1e-4)
    assert table[["deletion_auc", "insertion_auc"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table["runtime_s"] > 0).all()
    assert len(unanswered(table)) == len(FAST_METHODS) * len(QUALITATIVE_COLUMNS)

    manifest = json.loads((out / "submission.json").read_text())
    assert manifest["class_index"] == 967 and manifest["class_name"] == "espresso"
    assert manifest["methods"] == list(FAST_METHODS)
    assert manifest["model"]["name"] == lite0.name and manifest["class_in_top5"] is True
    assert manifest["image"]["file"] == "espresso.png" and len(manifest["image"]["sha256"]) == 64
    assert manifest["settings"]["integrated_gradients"]["steps"] == 16  # --fast
    assert manifest["versions"]["numpy"] == np.__version__
    md = (out / MARKDOWN_FILE).read_text()
    assert "967 `espresso`" in md and "![all maps side by side](comparison_grid.png)" in md


def test_answers_are_written_kept_on_rerun_and_stale_maps_removed(made, espresso):
    report, _ = made
    out = report.out_dir
    answers = {m: {c: f"{c} answer for {m}" for c in QUALITATIVE_COLUMNS} for m in FAST_METHODS}
    answers["grad_cam"]["noise_level"] = "None"  # text, not a missing value
    table = fill_answers(out, answers)
    assert unanswered(table) == []
    assert read_table(out).set_index("method").loc["grad_cam", "noise_level"] == "None"
    assert parse_markdown_table((out / MARKDOWN_FILE).read_text())[1]["on_the_object"] == (
        "on_the_object answer for vanilla_gradients"
    )
    with pytest.raises(ReportError, match="not in the table"):
        fill_answers(out, {"smoothgrad": {"noise_level": "low"}})

    # Saving again with fewer methods keeps every answer, row and map ...
    messages = []
    fewer = {m: report.results[m] for m in ("grad_cam", "vanilla_gradients")}
    write_submission(out, espresso, 967, fewer, progress=messages.append)
    assert any("kept your answers" in m for m in messages)
    again = read_table(out)
    assert list(again["method"]) == [*FAST_METHODS, RANDOM_ROW]  # the random row kept too
    assert unanswered(again) == []
    assert (out / "occlusion.png").exists() and (out / "occlusion.npy").exists()
    # ... unless asked to replace them: then the old maps go and the table is backed up.
    write_submission(out, espresso, 967, fewer, replace=True, progress=messages.append)
    again = read_table(out)
    assert list(again["method"]) == ["grad_cam", "vanilla_gradients"]
    assert unanswered(again) == []
    assert not (out / "occlusion.png").exists() and not (out / "occlusion.npy").exists()
    assert not (out / "integrated_gradients_attributions.npy").exists()
    backups = list(out.glob("comparison-backup-*.csv"))
    assert len(backups) == 1 and "answer for occlusion" in backups[0].read_text()


def test_report_command_rewrites_markdown_after_a_hand_edited_csv(tmp_path):
    from helpers.assignment.table import write_table

    write_table(comparison_table(fake_results()), tmp_path, manifest={})
    csv_text = (tmp_path / CSV_FILE).read_text()
    (tmp_path / CSV_FILE).write_text(csv_text.replace(",,,,\n", ",hand,written,text,here\n", 1))
    assert main([str(tmp_path)]) == 0
    rows = parse_markdown_table((tmp_path / MARKDOWN_FILE).read_text())
    assert [rows[0][c] for c in QUALITATIVE_COLUMNS] == ["hand", "written", "text", "here"]
    assert main([str(tmp_path / "nowhere")]) == 2


def test_choose_image_takes_a_bundled_name_a_path_or_upload_in_colab(tmp_path, monkeypatch):
    from helpers.assignment.choices import choose_image

    path, source = choose_image("grace_hopper")
    assert path.name == "grace_hopper.jpg" and source == "bundled sample 'grace_hopper'"
    photo = tmp_path / "banana.png"
    photo.write_bytes((PROJECT_ROOT / "data" / "espresso.png").read_bytes())
    assert choose_image(str(photo)) == (photo, "file banana.png")
    with pytest.raises(ReportError, match="image not found: .*bundled photo: cat, espresso"):
        choose_image(tmp_path / "missing.jpg")
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    with pytest.raises(ReportError, match="Colab only"):
        choose_image("upload")
    with pytest.raises(ReportError, match="is a folder"):
        choose_image(tmp_path)


@pytest.mark.parametrize("count", [6, 7, len(METHODS)])
def test_no_grid_title_is_wider_than_its_panel(count):
    """Six methods or more once clipped IG's title ("ated Gradients (gap 3%, 128 steps)...")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.assignment.grid import grid_figure

    results = fake_results(METHODS[:count], size=32)
    for signed in (False, True):
        if "integrated_gradients" in results:
            results["integrated_gradients"].completeness = SimpleNamespace(
                relative_gap=0.0312, steps=128, converged=True
            )
        fig = grid_figure(np.zeros((32, 32, 3), np.float32), results, "class 652 military_uniform, "
                          "efficientnet_lite0", signed_maps=signed)  # fmt: skip
        renderer = fig.canvas.get_renderer()
        titled = [ax for ax in fig.axes if ax.get_title()]
        assert len(titled) == count + 1  # the photo and every map
        for ax in titled:
            title, panel = ax.title.get_window_extent(renderer), ax.get_window_extent(renderer)
            assert title.width <= panel.width + 0.5, (ax.get_title(), title.width, panel.width)
            assert title.x0 >= 0 and title.x1 <= fig.bbox.width  # inside the figure
        plt.close(fig)


@pytest.mark.parametrize(
    "command, said",
    [
        ("python -m helpers.explain espresso --class 967", "by `python -m helpers.explain esp"),
        (None, "by `make_report` (notebook 11)"),
    ],
)
def test_the_markdown_says_what_made_the_folder(tmp_path, command, said):
    write_submission(tmp_path, np.zeros((8, 8, 3), np.float32), 967, fake_results(("grad_cam",)),
                     command=command)  # fmt: skip
    text = (tmp_path / MARKDOWN_FILE).read_text()
    assert said in text and "with `helpers.report`" not in text
    assert main([str(tmp_path)]) == 0  # rewritten by helpers.report: the origin stays
    assert said in (tmp_path / MARKDOWN_FILE).read_text()


def test_fit_titles_wraps_a_title_wider_than_its_panel():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.assignment.grid import fit_titles

    fig, axes = plt.subplots(1, 4, figsize=(8, 2))
    long = "Integrated Gradients (gap 3%, 128 steps) |magnitude| and a few more words"
    axes[1].set_title(long)
    renderer = fig.canvas.get_renderer()

    def widths():
        ax = axes[1]
        return ax.title.get_window_extent(renderer).width, ax.get_window_extent(renderer).width

    assert widths()[0] > widths()[1]
    fit_titles(fig)
    assert axes[1].get_title().replace("\n", " ") == long  # wrapped at spaces, nothing lost
    assert widths()[0] <= widths()[1]
    plt.close(fig)
