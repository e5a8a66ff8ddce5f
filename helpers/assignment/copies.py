"""Copies across a class, for the gradebook: identical photos and maps, near-identical answers.

Each is reported by naming the other students; none changes a verdict (the instructor
decides: two students who both explained a bundled photo with the default settings get
byte-identical maps honestly, and the gradebook says when the photo is a bundled one).

* **Same photo / same maps**: the SHA-256 of ``input.png`` (the pixels the model saw) and
  of every map file (``.npy``, ``.png``) across submissions.
* **Similar answers**: every answer cell of two or more words becomes its word 3-grams
  ("shingles", after lower-casing and dropping punctuation); two submissions are similar
  when the shared shingles make up at least :data:`SIMILAR` of the smaller set
  (containment, so a copy with a sentence added still counts). Short answers ("yes",
  "low") carry no shingles and never make two students similar. ``tests/test_copies.py``
  sets the threshold between what it measures on independent descriptions of the same
  maps (at most 0.09) and on edited copies (0.93 to 0.99 for case, punctuation, a few
  words swapped or a sentence added; 0.27 even with every fourth word changed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from .check_result import CheckResult
from .rules import INPUT_FILE, normalize_answer

SHINGLE_WORDS = 3
#: Containment from which two submissions' answers count as near-identical.
SIMILAR = 0.2
#: Fewer shingles than this (a few short answers) is too little text to compare.
MIN_SHINGLES = 12
MAX_NAMES = 8  # others named in one cell; the rest counted

COPY_COLUMNS = ("same_photo_as", "same_maps_as", "similar_answers_as")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[tuple[str, ...]]:
    """The word ``size``-grams of one text (normalised as the placeholder rules do)."""
    words = normalize_answer(text).split()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def answer_shingles(answers: Mapping[object, str]) -> set[tuple[str, ...]]:
    """The shingles of every answer cell (cell by cell: none spans two cells)."""
    out: set[tuple[str, ...]] = set()
    for text in answers.values():
        out |= shingles(text)
    return out


def similarity(a: set, b: set) -> float:
    """Containment of the smaller shingle set in the other (0 when either is too small)."""
    if min(len(a), len(b)) < MIN_SHINGLES:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _names(others: Sequence[str]) -> str:
    shown = ", ".join(others[:MAX_NAMES])
    return shown + (f" (+{len(others) - MAX_NAMES} more)" if len(others) > MAX_NAMES else "")


def find_copies(results: Mapping[str, CheckResult]) -> dict[str, dict[str, str]]:
    """``{student: {column: text}}`` for :data:`COPY_COLUMNS` (empty text: nothing shared)."""
    photos: dict[str, list[str]] = defaultdict(list)
    maps: dict[str, list[str]] = defaultdict(list)
    for student, r in results.items():
        for name, sha in r.file_hashes.items():
            (photos if name == INPUT_FILE else maps)[sha].append(student)
    out = {s: dict.fromkeys(COPY_COLUMNS, "") for s in results}
    for student, r in results.items():
        sha = r.file_hashes.get(INPUT_FILE)
        others = [s for s in photos.get(sha, []) if s != student] if sha else []
        if others:
            bundled = f"({r.photo} photo) " if r.photo.startswith("bundled") else ""
            out[student]["same_photo_as"] = bundled + _names(others)
        shared: dict[str, int] = defaultdict(int)
        for name, sha in r.file_hashes.items():
            if name != INPUT_FILE:
                for other in set(maps[sha]) - {student}:
                    shared[other] += 1
        if shared:
            out[student]["same_maps_as"] = _names(
                [f"{o} ({n} file{'s' * (n > 1)})" for o, n in sorted(shared.items())]
            )
    sets = {s: answer_shingles(r.answers) for s, r in results.items()}
    students = sorted(sets)
    similar: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for i, a in enumerate(students):
        for b in students[i + 1 :]:
            score = similarity(sets[a], sets[b])
            if score >= SIMILAR:
                similar[a].append((score, b))
                similar[b].append((score, a))
    for student, pairs in similar.items():
        pairs.sort(reverse=True)
        out[student]["similar_answers_as"] = _names([f"{o} {score:.2f}" for score, o in pairs])
    return out
