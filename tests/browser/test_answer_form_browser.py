"""The answer form of notebook 11 in a real browser: answers typed into the boxes reach
comparison.csv when Save is clicked; an emptied or untouched box never blanks a saved
answer (one written meanwhile "in a spreadsheet" included); after Restart Kernel and Run
All the form shows what the table holds.

The student's route: choose the methods in the "YOUR TURN" cell (three cheap ones keep the
run short), Run All from the menu, type, Save.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from helpers.assignment.rules import QUALITATIVE_COLUMNS
from helpers.assignment.table import fill_answers, read_table

from .pages import NotebookPage
from .widgets import TextBox, button, html_text

NOTEBOOK = "notebooks/11_assignment.ipynb"
METHODS_CELL, FORM_CELL = "11-019", "11-030"
CHOSEN = ("grad_cam", "vanilla_gradients", "gradient_x_input")
#: Typed by the "student": one sentence with the characters a CSV and Markdown must keep.
TYPED = {
    ("grad_cam", "what_it_highlights"): 'The cup\'s rim and the crema, "mostly"; not the saucer',
    ("grad_cam", "on_the_object"): "yes, | partly the spoon",
    ("vanilla_gradients", "what_it_highlights"): "edges of the cup, speckled\nand the handle",
}
SPREADSHEET = ("vanilla_gradients", "on_the_object", "partly: written in a spreadsheet")
EDITED = ("grad_cam", "what_it_highlights", "the crema only (second thoughts)")


class Form:
    """The answer form in the page: its boxes by (method, column), Save, its status."""

    def __init__(self, page: NotebookPage):
        self.root = page.output(FORM_CELL)
        rows = self.root.find_elements(By.CSS_SELECTOR, ".widget-hbox")
        self.boxes: dict[tuple[str, str], TextBox] = {}
        for row in rows[1:]:
            areas = row.find_elements(By.TAG_NAME, "textarea")
            if not areas:
                continue
            method = html_text(row, 0)
            assert len(areas) == len(QUALITATIVE_COLUMNS), (method, len(areas))
            for column, area in zip(QUALITATIVE_COLUMNS, areas, strict=True):
                self.boxes[(method, column)] = TextBox(area)
        self.save_button = button(self.root, "Save answers")

    @property
    def status(self) -> str:
        return html_text(self.root)

    def save(self, page: NotebookPage, expect: str) -> str:
        before = self.status
        self.save_button.click()
        page.wait(lambda: self.status != before and expect in self.status, 60, f"status {expect}")
        return self.status


def _table(out_dir) -> dict[tuple[str, str], str]:
    table = read_table(out_dir).set_index("method")
    return {
        (m, c): "" if table.loc[m, c] != table.loc[m, c] else str(table.loc[m, c])
        for m in table.index
        for c in QUALITATIVE_COLUMNS
    }


@pytest.fixture(scope="module")
def page(driver, server):
    page = NotebookPage(driver, server, NOTEBOOK).open()
    page.type_code(METHODS_CELL, f'METHODS = "{",".join(CHOSEN)}"')
    page.run_all()
    yield page
    page.close()


@pytest.fixture(scope="module")
def out_dir(page):
    found = sorted((page.server.root / "notebooks" / "results").glob("*/comparison.csv"))
    assert len(found) == 1, found
    return found[0].parent


def test_typed_answers_reach_the_table_and_survive_a_restart(page, out_dir, artifacts):
    form = Form(page)
    assert set(form.boxes) == {(m, c) for m in CHOSEN for c in QUALITATIVE_COLUMNS}
    assert all(box.value == "" for box in form.boxes.values()), "a fresh table has no answers"
    for key, text in TYPED.items():
        form.boxes[key].type(text)
    page.screenshot(artifacts, f"answer-form-{page.server.frontend}-typed", page.cell(FORM_CELL))
    status = form.save(page, "Saved")
    assert f"Saved {len(TYPED)} answer(s)" in status, status
    on_disk = _table(out_dir)
    for key, text in TYPED.items():
        assert on_disk[key] == text, (key, on_disk[key])

    # Meanwhile an answer is written in a spreadsheet (the form does not show it yet);
    # the student rewrites one answer and empties another box, then saves again.
    method, column, text = SPREADSHEET
    fill_answers(out_dir, {method: {column: text}}, progress=lambda *_: None)
    edited_method, edited_column, edited_text = EDITED
    form.boxes[(edited_method, edited_column)].type(edited_text, replace=True)
    emptied = ("grad_cam", "on_the_object")
    form.boxes[emptied].type("", replace=True)
    status = form.save(page, "Saved")
    assert "Saved 1 answer(s)" in status, status
    on_disk = _table(out_dir)
    assert on_disk[(edited_method, edited_column)] == edited_text
    assert on_disk[emptied] == TYPED[emptied], "an emptied box erased an answer"
    assert on_disk[(method, column)] == text, "an untouched box blanked the spreadsheet's answer"
    assert (
        on_disk[("vanilla_gradients", "what_it_highlights")]
        == TYPED[("vanilla_gradients", "what_it_highlights")]
    )
    expected = dict(on_disk)

    # Restart the kernel and run everything again: the form shows the table's answers, and
    # saving without typing changes nothing.
    page.run_all(restart=True)
    form = Form(page)
    assert "answers filled. Type in the boxes" in form.status, f"not a new form: {form.status}"
    shown = {key: box.value for key, box in form.boxes.items()}
    assert shown == {key: expected[key] for key in form.boxes}, "the form after a restart"
    page.screenshot(
        artifacts, f"answer-form-{page.server.frontend}-restarted", page.cell(FORM_CELL)
    )
    status = form.save(page, "Nothing new to save")
    assert _table(out_dir) == expected
