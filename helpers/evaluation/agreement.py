"""Do two metrics rank the methods alike? Kendall's tau between metrics (Tomsett et al., 2020).

A table with one row per method and one column per metric ranks the methods once per
metric. Kendall's tau of two columns (both turned so that higher is better) is +1 when
the metrics order the methods identically, -1 when one reverses the other, about 0 when
their orders are unrelated. With m methods there are m(m-1)/2 pairs, so a tau from six
methods moves in steps of 1/15: read it as a tendency, not a precise number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.stats import kendalltau


def oriented(table, higher_is_better: Mapping[str, bool]):
    """The table's metric columns, each negated where lower is better (so higher = better
    everywhere). ``table``: a pandas DataFrame, methods x metrics."""
    missing = [c for c in table.columns if c not in higher_is_better]
    if missing:
        raise ValueError(f"say for every metric whether higher is better; missing: {missing}")
    return table.apply(lambda column: column if higher_is_better[column.name] else -column)


def rankings(table, higher_is_better: Mapping[str, bool]):
    """Each method's rank under each metric (1 = best; ties share their average rank)."""
    return oriented(table, higher_is_better).rank(ascending=False)


def kendall_matrix(table, higher_is_better: Mapping[str, bool]):
    """Kendall's tau (tau-b, ties allowed) between every pair of metric columns: a
    metrics x metrics DataFrame with 1 on the diagonal. NaN where a column is constant."""
    import pandas as pd

    scores = oriented(table, higher_is_better)
    names = list(scores.columns)
    tau = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            value = kendalltau(scores[a], scores[b], nan_policy="omit").statistic
            tau[i, j] = tau[j, i] = value
    return pd.DataFrame(tau, index=names, columns=names)
