"""ImageNet-1k class names: index -> name, and search by name.

Keras' ``decode_predictions`` downloads its label file at run time; this module reads
``data/imagenet_class_names.json`` (the same 1000 names, same order) from the project, and
``data/imagenet_synonyms.json``, each class's WordNet synonyms (281: "tabby", "tabby cat"),
so that :func:`find_class` finds a class by any of its names.
"""

from __future__ import annotations

import difflib
import json
import numbers
import re
from functools import lru_cache

from ..paths import DATA_DIR
from .files import UnreadableFileError, read_limited

NUM_CLASSES = 1000
CLASS_NAMES_FILE = DATA_DIR / "imagenet_class_names.json"
SYNONYMS_FILE = DATA_DIR / "imagenet_synonyms.json"
#: The data files are read only if they are regular files of at most this size (25 kB and
#: 80 kB today): a FIFO or a gigabyte in their place is refused, not waited for.
MAX_DATA_FILE_BYTES = 2_000_000
#: Longest class name a lookup accepts (the longest ImageNet name has 30 characters):
#: a paragraph pasted by mistake is refused at once instead of fuzzy-matched word by word.
MAX_QUERY_CHARS = 100
#: Words of a query that matched nothing that :func:`suggest_classes` looks up one by one.
MAX_SUGGESTION_WORDS = 8


class ClassIndexError(ValueError):
    """A class index outside 0..999, or a class name that matches no ImageNet class."""


@lru_cache(maxsize=1)
def class_names() -> tuple[str, ...]:
    """All 1000 ImageNet-1k class names, position = class index (0 tench ... 999 toilet_tissue)."""
    if not CLASS_NAMES_FILE.exists():
        raise FileNotFoundError(
            f"ImageNet class names not found at {CLASS_NAMES_FILE}. "
            "Run the course from a full copy of the project (the data/ folder is needed)."
        )
    try:
        names = json.loads(read_limited(CLASS_NAMES_FILE, MAX_DATA_FILE_BYTES).decode("utf-8"))
    except (UnreadableFileError, ValueError) as exc:
        raise ValueError(f"{CLASS_NAMES_FILE} cannot be read: {exc}") from None
    if not isinstance(names, list) or len(names) != NUM_CLASSES:
        held = f"{len(names)} names" if isinstance(names, list) else type(names).__name__
        raise ValueError(f"{CLASS_NAMES_FILE} holds {held}, expected {NUM_CLASSES} names")
    return tuple(names)


@lru_cache(maxsize=1)
def class_synonyms() -> tuple[tuple[str, ...], ...]:
    """Every class's names: its own name first, then its WordNet synonyms (no duplicates).

    ``class_synonyms()[281] == ('tabby', 'tabby cat')``. Without the synonyms file, each
    class has its own name only.
    """
    names = class_names()
    try:
        lemmas = json.loads(read_limited(SYNONYMS_FILE, MAX_DATA_FILE_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        lemmas = None
    if not isinstance(lemmas, list) or len(lemmas) != NUM_CLASSES:
        return tuple((n,) for n in names)
    out = []
    for name, words in zip(names, lemmas, strict=True):
        seen = {_normalize(name): name}
        for word in words if isinstance(words, list) else []:
            if isinstance(word, str) and word.strip():
                seen.setdefault(_normalize(word), word)
        out.append(tuple(seen.values()))
    return tuple(out)


@lru_cache(maxsize=1)
def _normalized_synonyms() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_normalize(n) for n in names) for names in class_synonyms())


def check_class_index(index: object, num_classes: int = NUM_CLASSES) -> int:
    """Return ``index`` as an int, or raise a clear error if it is not in 0..num_classes-1."""
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise ClassIndexError(
            f"class index must be a whole number in 0..{num_classes - 1}, got {index!r} "
            f"({type(index).__name__}). "
            "To look a class up by name use helpers.find_class('banana')."
        )
    index = int(index)
    if not 0 <= index < num_classes:
        raise ClassIndexError(
            f"class index {index} is outside 0..{num_classes - 1} "
            f"(the model has {num_classes} classes). "
            "To look a class up by name use helpers.find_class('banana')."
        )
    return index


def class_name(index: int) -> str:
    """The ImageNet name of class ``index`` (e.g. 281 -> 'tabby')."""
    return class_names()[check_class_index(index)]


def _normalize(text: str) -> str:
    """Lower case, with spaces, underscores and hyphens folded to one space."""
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


#: The ranks of :func:`_match_rank` that name the query itself (exact or a whole word).
WHOLE_WORD = 1


def _match_rank(query: str, name: str) -> int | None:
    """0 exact, 1 whole word, 2 start of a word, 3 anywhere; None: no match."""
    if name == query:
        return 0
    at = name.find(query)
    if at < 0:
        return None
    starts = [i for i in range(len(name)) if name.startswith(query, i)]
    word_start = [i for i in starts if i == 0 or not name[i - 1].isalnum()]
    if any(i + len(query) == len(name) or not name[i + len(query)].isalnum() for i in word_start):
        return 1
    return 2 if word_start else 3


def find_class(
    query: str, max_results: int = 10, close_matches: bool = True
) -> list[tuple[int, str]]:
    """Find ImageNet classes by name: ``find_class("banana") -> [(954, 'banana')]``.

    Case, spaces, hyphens and underscores are ignored. Every name of a class counts: its
    own and its WordNet synonyms (:func:`class_synonyms`), so "tabby cat" finds 281 tabby.
    Ranking: an exact name first, then the query as a whole word ('tie' in 'bow tie');
    when there is any such match, that is all (no 'tiger' or 'Scottie' for "tie").
    Otherwise the query as the start of a word, then anywhere inside a name, then close
    misspellings (unless ``close_matches=False``); within a rank, by class index. Returns
    at most ``max_results`` matches (an empty list when nothing is even close).
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"find_class needs a non-empty class name, got {query!r}")
    _check_query_length(query)
    q = _normalize(query)
    ranked: list[tuple[int, int, str]] = []
    for index, (name, names) in enumerate(zip(class_names(), _normalized_synonyms(), strict=True)):
        ranks = [r for n in names if (r := _match_rank(q, n)) is not None]
        if ranks:
            ranked.append((min(ranks), index, name))
    ranked.sort()
    whole_words = bool(ranked) and ranked[0][0] <= WHOLE_WORD
    found = [(index, name) for rank, index, name in ranked if rank <= WHOLE_WORD or not whole_words]
    if close_matches and not whole_words and len(found) < max_results:
        normalized = {_normalize(n): i for i, n in enumerate(class_names())}
        for close in difflib.get_close_matches(q, normalized, n=max_results, cutoff=0.75):
            hit = (normalized[close], class_names()[normalized[close]])
            if hit not in found:
                found.append(hit)
    return found[:max_results]


def _check_query_length(query: str) -> None:
    if len(query) > MAX_QUERY_CHARS:
        raise ClassIndexError(
            f"a class name has at most {MAX_QUERY_CHARS} characters, got {len(query):,} "
            f"({query[:30]!r}...: pasted text?); give an index (967) or a name ('espresso')"
        )


def suggest_classes(query: str, limit: int = 6) -> list[tuple[int, str]]:
    """Classes to suggest for a name that matched nothing: close misspellings of the whole
    name first, then classes that match one of its words ('zebra crosing' -> zebra)."""
    _check_query_length(query)
    names = {_normalize(n): i for i, n in enumerate(class_names())}
    hits = [names[n] for n in difflib.get_close_matches(_normalize(query), names, n=5, cutoff=0.6)]
    words = list(dict.fromkeys(_normalize(query).split()))[:MAX_SUGGESTION_WORDS]
    for word in words:
        if len(word) >= 3:
            hits += [i for i, _ in find_class(word, max_results=3)]
    return [(i, class_names()[i]) for i in list(dict.fromkeys(hits))[:limit]]


def resolve_class(name_or_index: int | str) -> int:
    """Turn a class index (281, '281') or an unambiguous name ('tabby') into an index.

    A name must match exactly one class exactly (ignoring case, spaces, underscores), or
    be the only partial match; otherwise the error lists the candidates. A misspelling is
    never silently corrected: the error suggests the close names instead.
    """
    if isinstance(name_or_index, str):
        _check_query_length(name_or_index)
    if isinstance(name_or_index, str) and name_or_index.strip().lstrip("-").isdigit():
        name_or_index = int(name_or_index)
    if not isinstance(name_or_index, str):
        return check_class_index(name_or_index)
    matches = find_class(name_or_index, close_matches=False)
    q = _normalize(name_or_index)
    exact = [m for m in matches if _normalize(m[1]) == q]
    if len(exact) == 1:
        return exact[0][0]
    synonym = [m for m in matches if q in _normalized_synonyms()[m[0]]]
    if not exact and len(synonym) == 1:  # 'tabby cat' -> 281 tabby
        return synonym[0][0]
    if len(matches) == 1:
        return matches[0][0]
    if not matches:
        close = suggest_classes(name_or_index)
        hint = (
            "Did you mean: " + ", ".join(f"{i} {n}" for i, n in close) + "?"
            if close
            else "Browse data/imagenet_class_names.json or try a shorter word."
        )
        raise ClassIndexError(f"no ImageNet class matches {name_or_index!r}. {hint}")
    listing = ", ".join(f"{i} {n}" for i, n in matches)
    raise ClassIndexError(
        f"{name_or_index!r} matches several ImageNet classes: {listing}. "
        "Give the index or the full name."
    )
