"""The assignment's answer form, driven headlessly: type in boxes, click Save, read the table."""

import pandas as pd
import pytest

from helpers.assignment.rules import QUALITATIVE_COLUMNS, QUESTIONS, TABLE_COLUMNS
from helpers.assignment.table import fill_answers, read_table, write_table
from helpers.viz.answer_form import answer_form

METHODS = ["grad_cam", "vanilla_gradients", "occlusion"]


@pytest.fixture
def folder(tmp_path):
    rows = []
    for i, method in enumerate(METHODS):
        row = dict.fromkeys(TABLE_COLUMNS, "")
        row.update(
            method=method,
            settings="defaults",
            runtime_s=0.1 * (i + 1),
            ig_completeness_gap=float("nan"),
            deletion_auc=0.2,
            insertion_auc=0.5,
        )
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table.loc[0, "noise_level"] = "low"  # one answer already written
    write_table(table, tmp_path)
    return tmp_path


def _form(folder):
    return answer_form(
        read_table(folder), QUALITATIVE_COLUMNS, lambda a: fill_answers(folder, a), QUESTIONS
    )


def test_one_box_per_method_and_question_prefilled_from_the_table(folder):
    form = _form(folder)
    assert set(form.boxes) == {(m, c) for m in METHODS for c in QUALITATIVE_COLUMNS}
    assert form.boxes[("grad_cam", "noise_level")].value == "low"
    assert form.boxes[("occlusion", "on_the_object")].value == ""
    assert form.boxes[("occlusion", "on_the_object")].placeholder == QUESTIONS["on_the_object"]
    assert "1 of 12 answers filled" in form.status.value


def test_save_writes_the_typed_answers_to_the_csv(folder):
    form = _form(folder)
    form.boxes[("occlusion", "what_it_highlights")].value = "the cup's rim, 80% of it"
    form.button.click()  # what the mouse does
    table = read_table(folder).set_index("method")
    assert table.loc["occlusion", "what_it_highlights"] == "the cup's rim, 80% of it"
    assert table.loc["grad_cam", "noise_level"] == "low"
    assert "Saved 1 answer" in form.status.value and "2 of 12" in form.status.value
    assert "occlusion" in (folder / "comparison.md").read_text(encoding="utf-8")


def test_an_emptied_box_never_erases_an_answer(folder):
    form = _form(folder)
    form.boxes[("grad_cam", "noise_level")].value = "   "
    assert form.save() == {}
    assert read_table(folder).set_index("method").loc["grad_cam", "noise_level"] == "low"
    assert "Nothing new to save" in form.status.value


def test_an_answer_written_in_a_spreadsheet_meanwhile_is_kept(folder):
    form = _form(folder)
    fill_answers(folder, {"vanilla_gradients": {"noise_level": "high (from the csv)"}})
    form.boxes[("occlusion", "noise_level")].value = "blocky"
    form.save()
    table = read_table(folder).set_index("method")
    assert table.loc["vanilla_gradients", "noise_level"] == "high (from the csv)"
    assert table.loc["occlusion", "noise_level"] == "blocky"
    # the untouched box now shows the spreadsheet's answer
    assert form.boxes[("vanilla_gradients", "noise_level")].value == "high (from the csv)"


def test_a_failed_save_says_why_and_keeps_the_text(folder):
    def broken(answers):
        raise OSError("comparison.csv is open in another program")

    form = answer_form(read_table(folder), QUALITATIVE_COLUMNS, broken)
    form.boxes[("grad_cam", "on_the_object")].value = "yes, the cup"
    assert form.save() == {}
    assert "Not saved" in form.status.value and "another program" in form.status.value
    assert form.boxes[("grad_cam", "on_the_object")].value == "yes, the cup"
    assert form.changed() == {"grad_cam": {"on_the_object": "yes, the cup"}}


def test_a_table_without_the_columns_is_refused_with_the_reason(folder):
    with pytest.raises(ValueError, match="'method' column"):
        answer_form(pd.DataFrame({"x": [1]}), QUALITATIVE_COLUMNS, print)
    with pytest.raises(ValueError, match="no column"):
        answer_form(read_table(folder), ["not_a_question"], print)


def test_boxes_send_their_text_when_left_and_long_names_wrap(folder):
    """Found in the browser (issue 20): with an update per keystroke, ipywidgets held back
    a box's last keystrokes while the kernel answered the first ones, and a quick click on
    Save overtook them (it saved "h" of "hello"). The boxes now send their text once, when
    they lose focus, which clicking Save does first. Method names wrap at underscores."""
    form = _form(folder)
    assert all(box.continuous_update is False for box in form.boxes.values())
    labels = [row.children[0].value for row in form.widget.children[1:-1]]
    assert labels[1] == "<b>vanilla_<wbr>gradients</b>"
