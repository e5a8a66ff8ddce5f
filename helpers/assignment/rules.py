"""The assignment's rules and its folder format, in one place.

Which classes are refused, how many methods a submission needs, the comparison table's
columns and the file names of a submission folder. Read by the report, the command line
and the checker (no TensorFlow import).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import cache

#: ImageNet's domestic cats: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat.
DOMESTIC_CATS = range(281, 286)
#: ImageNet's big cats (accepted): cougar, lynx, leopard, snow leopard, jaguar, lion, tiger,
#: cheetah.
BIG_CATS = range(286, 294)
MIN_METHODS = 3
REQUIRED_METHOD = "grad_cam"
CAT_RULE = (
    "the assignment asks for any class except cats: ImageNet's domestic cats 281-285 "
    "(tabby, tiger cat, Persian, Siamese, Egyptian cat) are refused; big cats 286-293 "
    "(cougar ... cheetah) are accepted"
)

#: Steps of the deletion and insertion curves (each step is one forward pass per curve).
METRIC_STEPS = 32
FAST_METRIC_STEPS = 12

COMPUTED_COLUMNS: tuple[str, ...] = (
    "runtime_s",
    "ig_completeness_gap",
    "deletion_auc",
    "insertion_auc",
)
QUALITATIVE_COLUMNS: tuple[str, ...] = (
    "what_it_highlights",
    "on_the_object",
    "noise_level",
    "would_you_trust_it",
)
#: The question behind each qualitative column (shown in the notebook and in comparison.md).
QUESTIONS: dict[str, str] = {
    "what_it_highlights": "Which parts of the image does the map light up?",
    "on_the_object": "Is the highlight on the object of your class? (yes / partly / no, and where)",
    "noise_level": "How noisy is it? (low / medium / high: scattered speckles or clean blobs?)",
    "would_you_trust_it": "Would you trust it to explain the prediction? (yes / partly / no, why)",
}
TABLE_COLUMNS: tuple[str, ...] = ("method", "settings", *COMPUTED_COLUMNS, *QUALITATIVE_COLUMNS)
MARKDOWN_HEADERS: dict[str, str] = {
    "method": "method",
    "settings": "settings",
    "runtime_s": "runtime (s)",
    "ig_completeness_gap": "IG completeness gap",
    "deletion_auc": "deletion AUC (lower is better)",
    "insertion_auc": "insertion AUC (higher is better)",
    "what_it_highlights": "what it highlights",
    "on_the_object": "on the object?",
    "noise_level": "how noisy?",
    "would_you_trust_it": "would you trust it?",
}

INPUT_FILE = "input.png"
GRID_FILE = "comparison_grid.png"
CSV_FILE = "comparison.csv"
MARKDOWN_FILE = "comparison.md"
MANIFEST_FILE = "submission.json"
#: How every computed number of the table was made (:mod:`helpers.assignment.provenance`).
RUN_FILE = "run.json"
FORMAT_VERSION = 1

#: The table's row for the random map: its deletion and insertion AUC are the line to beat.
RANDOM_ROW = "random_map"
RANDOM_SEED = 0


class ReportError(ValueError):
    """A request the report cannot carry out (unknown method, bad answers table...)."""



# --------------------------------------------------------------------- placeholder answers

#: Words and phrases that hold a cell's place instead of answering it (compared after
#: lower-casing and dropping punctuation: "To-do!" is "to do").
PLACEHOLDER_WORDS: tuple[str, ...] = (
    "todo", "to do", "tbd", "tba", "xxx", "fill in", "fill me", "your answer", "answer",
    "n/a", "na", "placeholder", "lorem ipsum", "asdf", "test", "idk", "later",
)  # fmt: skip

#: Why an answer does not count as one: the checker lists such cells (problem kind
#: ``placeholder_answers``) and does not count them as filled. INSTRUCTORS.md shows these
#: texts (a test keeps them equal).
PLACEHOLDER_RULES: dict[str, str] = {
    "no_letters": 'no letter or digit ("-", "...", "?", "—")',
    "one_character": 'a single character ("x", "y", "1")',
    "placeholder_word": "a placeholder word: " + ", ".join(f'"{w}"' for w in PLACEHOLDER_WORDS),
    "question": "the question, its hint or its column name copied back",
    "same_in_row": "the same text in all four answers of a row",
    "same_in_column": "the same text of two words or more in every row of a free-text column "
    "(what it highlights, would you trust it?), when the table has three rows or more",
}
#: Columns whose answers are free text (the others offer options: yes / partly / no ...).
FREE_TEXT_COLUMNS = ("what_it_highlights", "would_you_trust_it")
#: difflib ratio above which an answer counts as the question copied back.
QUESTION_COPY_RATIO = 0.85


def normalize_answer(text: str | None) -> str:
    """Lower case, punctuation dropped, spaces folded: the form the rules compare."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", (text or "").lower()).split())


@cache
def _placeholder_forms() -> frozenset[str]:
    return frozenset(normalize_answer(w) for w in PLACEHOLDER_WORDS)


@cache
def _question_forms(column: str) -> frozenset[str]:
    question = QUESTIONS.get(column, "")
    hint = question[question.find("(") + 1 : question.rfind(")")] if "(" in question else ""
    forms = {question, question.split("(")[0], hint, column, MARKDOWN_HEADERS.get(column, "")}
    return frozenset({normalize_answer(f) for f in forms} - {""})


def placeholder_reason(text: str | None, column: str) -> str | None:
    """Why one answer cell is a placeholder (a key of :data:`PLACEHOLDER_RULES`), or None
    when it is an answer or empty (an empty cell is "empty", not a placeholder)."""
    raw = (text or "").strip()
    if not raw:
        return None
    words = normalize_answer(raw)
    if not words:
        return "no_letters"
    if len(raw) == 1:
        return "one_character"
    if words in _placeholder_forms():
        return "placeholder_word"
    forms = _question_forms(column)
    if words in forms or any(_close(words, f) for f in forms if len(f) > 12):
        return "question"
    return None


def _close(text: str, form: str) -> bool:
    """difflib's ratio >= QUESTION_COPY_RATIO, its cheap upper bounds tried first."""
    if 2 * min(len(text), len(form)) < QUESTION_COPY_RATIO * (len(text) + len(form)):
        return False  # the lengths alone rule it out
    matcher = difflib.SequenceMatcher(None, text, form)
    return matcher.quick_ratio() >= QUESTION_COPY_RATIO and matcher.ratio() >= QUESTION_COPY_RATIO


def placeholder_cells(rows: Iterable[Mapping[str, str]]) -> dict[tuple[str, str], str]:
    """``{(method, column): rule}`` for every placeholder answer of a table's method rows
    (``rows``: ``{"method": ..., column: text}``). Cell rules first, then the rules that
    look at the whole table (the same text in a whole row or a whole column)."""
    rows = [r for r in rows if (r.get("method") or "").strip() != RANDOM_ROW]
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        method = (row.get("method") or "").strip()
        for column in QUALITATIVE_COLUMNS:
            reason = placeholder_reason(row.get(column), column)
            if reason:
                found[(method, column)] = reason
    for row in rows:
        method = (row.get("method") or "").strip()
        texts = {normalize_answer(row.get(c)) for c in QUALITATIVE_COLUMNS}
        if len(texts) == 1 and texts != {""}:
            for column in QUALITATIVE_COLUMNS:
                found.setdefault((method, column), "same_in_row")
    if len(rows) >= 3:
        for column in FREE_TEXT_COLUMNS:
            texts = {normalize_answer(r.get(column)) for r in rows}
            (only,) = texts if len(texts) == 1 else ("",)
            if len(only.split()) >= 2:
                for row in rows:
                    found.setdefault(((row.get("method") or "").strip(), column), "same_in_column")
    return found
