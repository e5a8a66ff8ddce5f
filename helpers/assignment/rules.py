"""The assignment's rules and its folder format, in one place.

Which classes are refused, how many methods a submission needs, the comparison table's
columns and the file names of a submission folder. Read by the report, the command line
and the checker (no TensorFlow import).
"""

from __future__ import annotations

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
FORMAT_VERSION = 1


class ReportError(ValueError):
    """A request the report cannot carry out (unknown method, bad answers table...)."""

