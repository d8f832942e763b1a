"""Answer-level data (one row per respondent) made k-anonymous before it leaves the tool.

This is the rule for the anonymous export (`survey export`, survey/export.py). The standard for microdata is k-anonymity over the
quasi-identifiers, the answers a colleague could know about someone (department, role,
tenure band, hours band, form language): every combination of them that occurs must hold at
least k rows. Where it does not, the values are coarsened step by step (Datafly: the column
with the most distinct values first), each step along a hierarchy the caller gives, ending
in one value for everyone; no row is dropped and no value is blanked. A missing value is an
explicit category ("not answered") like any other, so a blank never marks a hidden group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from survey.errors import ReportError

# One coarsening step: a mapping from value to coarser value, or a function that makes one
# from the current column and k (for data-dependent merges such as "small departments").
Step = dict[str, str] | Callable[[pd.Series, int], dict[str, str]]
NOT_ANSWERED = "not answered"


def merge_small(label: str) -> Step:
    """A step that merges every value held by fewer than k rows into `label` (and, when that
    merged value alone would still be below k, the next smallest value into it too)."""
    def step(column: pd.Series, k: int) -> dict[str, str]:
        counts = column.value_counts()
        small = [v for v, n in counts.items() if n < k]
        total = int(counts[small].sum()) if small else 0
        for value, n in sorted(counts.items(), key=lambda kv: (kv[1], str(kv[0]))):
            if not small or total >= k:
                break
            if value not in small:
                small.append(value)
                total += int(n)
        return {str(v): label for v in small}
    return step


def everything(label: str) -> Step:
    """The last step of a hierarchy: one value for everyone."""
    return lambda column, k: {str(v): label for v in column.unique()}


@dataclass
class KAnonymous:
    rows: pd.DataFrame
    steps: dict[str, int]  # quasi-identifier -> coarsening steps applied
    smallest: int  # rows in the smallest combination


def k_anonymise(rows: pd.DataFrame, hierarchies: dict[str, list[Step]], k: int,
                order: list[str] | None = None) -> KAnonymous:
    """Coarsen the quasi-identifier columns (the keys of `hierarchies`) until every
    combination holds at least k rows; other columns are left as they are. `order`: the
    columns to coarsen first (the export keeps the department longest, as it is what HR
    analyses by); without it Datafly's choice, the column with the most distinct values."""
    if len(rows) < k:
        raise ReportError(f"only {len(rows)} rows: answer-level data needs at least {k} (the anonymity threshold)",
                          fix="collect more forms, or leave answer-level data out")
    data = rows.copy()
    quasi = list(hierarchies)
    for column in quasi:
        data[column] = data[column].map(lambda v: NOT_ANSWERED if v is None or pd.isna(v) or str(v) == ""
                                        else str(v))
    steps = {column: 0 for column in quasi}
    while True:
        sizes = data.groupby(quasi, dropna=False).size() if quasi else pd.Series([len(data)])
        if int(sizes.min()) >= k:
            return KAnonymous(data, steps, int(sizes.min()))
        open_columns = [c for c in quasi if steps[c] < len(hierarchies[c])]
        if not open_columns:  # cannot happen when the last steps are `everything`
            raise ReportError("the quasi-identifiers cannot be coarsened further",
                              fix="end every hierarchy with everything(...)")
        if order:
            column = next((c for c in order if c in open_columns), open_columns[0])
        else:
            column = max(open_columns, key=lambda c: (data[c].nunique(), -quasi.index(c)))
        step = hierarchies[column][steps[column]]
        mapping = step(data[column], k) if callable(step) else step
        data[column] = data[column].map(lambda v: mapping.get(v, v))
        steps[column] += 1
