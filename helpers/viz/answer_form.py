"""A small form for the assignment's answers: one text box per method and question, and Save.

``form = answer_form(table, columns, save)`` shows the comparison table's answer cells as
text boxes (one row of boxes per method, one box per question), pre-filled with what the
table holds. **Save** hands the boxes that changed to ``save`` as
``{method: {column: text}}`` (in the notebook: ``lambda a: fill_answers(OUT_DIR, a)``,
which writes comparison.csv and comparison.md) and shows what it did.

A student's answers are never lost through the form: an empty box is never saved (it
leaves the table's answer as it is; to delete an answer, edit comparison.csv), a box the
student did not touch is not saved either (so an answer written meanwhile in a
spreadsheet is not overwritten by the form's older copy), and an error from ``save`` is
shown in the form, with every box keeping its text.

The boxes send their text to the kernel when they lose focus (``continuous_update=False``),
which clicking Save does first. With an update per keystroke, ipywidgets holds back a
box's later keystrokes until the kernel has answered the earlier ones, while a click is
sent at once: typing and clicking Save quickly (or on a slow connection, as in Colab) saved
the text without its last keystrokes (seen in the browser test, tests/browser/).

Only widgets that exist in both ipywidgets 7.7 (Colab) and 8 (JupyterLab 4) are used:
Textarea, Button, HTML, HBox, VBox, Layout. Headless use (tests): set
``form.boxes[(method, column)].value``, call ``form.save()`` (what the button does), read
``form.status.value``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Answers = dict[str, dict[str, str]]


class AnswerForm:
    """The form's widgets and its Save logic (see the module docstring)."""

    def __init__(
        self,
        table: Any,
        columns: Sequence[str],
        save: Callable[[Answers], Any],
        questions: Mapping[str, str] | None = None,
        box_height: str = "70px",
    ) -> None:
        import ipywidgets as w

        if "method" not in getattr(table, "columns", ()):
            raise ValueError(
                "answer_form needs the comparison table (a DataFrame with a 'method' column)"
            )
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"the table has no column(s) {missing}; it has {list(table.columns)}")
        self.columns = list(columns)
        self._save = save
        self.methods = [str(m) for m in table["method"]]
        self.saved: dict[tuple[str, str], str] = {}  # what the table holds, per box
        self.boxes: dict[tuple[str, str], Any] = {}
        questions = dict(questions or {})
        width = f"{max(18, 96 // max(1, len(self.columns)))}%"
        header = w.HBox(
            [w.HTML("<b>method</b>", layout=w.Layout(width="12%"))]
            + [
                w.HTML(
                    f"<b>{html.escape(c)}</b><br>"
                    f"<small>{html.escape(questions.get(c, ''))}</small>",
                    layout=w.Layout(width=width),
                )
                for c in self.columns
            ]
        )
        rows = [header]
        for record in table.to_dict("records"):
            method = str(record["method"])
            boxes = []
            for column in self.columns:
                text = _text(record.get(column))
                box = w.Textarea(
                    value=text,
                    placeholder=questions.get(column, column),
                    layout=w.Layout(width=width, height=box_height),
                    continuous_update=False,  # see the module docstring: no lost keystrokes
                )
                self.saved[(method, column)] = text
                self.boxes[(method, column)] = box
                boxes.append(box)
            rows.append(
                w.HBox(
                    [w.HTML(f"<b>{_breakable(method)}</b>", layout=w.Layout(width="12%"))]
                    + boxes
                )
            )
        self.button = w.Button(description="Save answers", button_style="primary", icon="save")
        self.button.on_click(lambda _: self.save())
        self.status = w.HTML(
            f"{self.filled()} of {len(self.boxes)} answers filled. Type in the boxes, then "
            "click <b>Save answers</b> (empty boxes never erase an answer)."
        )
        self.widget = w.VBox([*rows, w.HBox([self.button, self.status])])

    def changed(self) -> Answers:
        """The non-empty boxes whose text differs from what the table holds."""
        answers: Answers = {}
        for (method, column), box in self.boxes.items():
            text = box.value.strip()
            if text and text != self.saved[(method, column)].strip():
                answers.setdefault(method, {})[column] = text
        return answers

    def filled(self) -> int:
        """How many answers the table holds (as far as the form knows)."""
        return sum(1 for text in self.saved.values() if text.strip())

    def save(self) -> Answers:
        """Save the changed boxes through ``save``; returns what was saved ({} if nothing)."""
        answers = self.changed()
        if not answers:
            self.status.value = (
                f"Nothing new to save: {self.filled()} of {len(self.boxes)} answers filled."
            )
            return {}
        try:
            table = self._save(answers)
        except Exception as error:  # shown in the form; the boxes keep their text
            self.status.value = (
                f"<span style='color:#b00'>Not saved: {html.escape(str(error))}</span> "
                "(your text is still in the boxes)"
            )
            return {}
        if table is not None and "method" in getattr(table, "columns", ()):
            self._refresh(table)
        else:
            for method, row in answers.items():
                for column, text in row.items():
                    self.saved[(method, column)] = text
        count = sum(len(row) for row in answers.values())
        self.status.value = (
            f"Saved {count} answer(s). {self.filled()} of {len(self.boxes)} answers filled."
        )
        return answers

    def _refresh(self, table: Any) -> None:
        """Take the table's answers as saved; fill boxes the student has not touched."""
        for record in table.to_dict("records"):
            method = str(record["method"])
            for column in self.columns:
                key = (method, column)
                if key not in self.boxes:
                    continue
                text = _text(record.get(column))
                box = self.boxes[key]
                untouched = box.value.strip() in ("", self.saved[key].strip())
                self.saved[key] = text
                if untouched or box.value.strip() == text.strip():
                    box.value = text

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _breakable(name: str) -> str:
    """``name`` as HTML that may wrap after its underscores ("integrated_gradients" is wider
    than its column)."""
    return "_<wbr>".join(html.escape(part) for part in name.split("_"))


def _text(value: Any) -> str:
    """A table cell as text ("" for empty or NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def answer_form(
    table: Any,
    columns: Sequence[str],
    save: Callable[[Answers], Any],
    questions: Mapping[str, str] | None = None,
) -> AnswerForm:
    """A form with one text box per method (a row of ``table``) and column, and a Save button
    that passes the changed answers to ``save`` (see the module docstring)."""
    return AnswerForm(table, columns, save, questions)
