"""Answers from the store as a frame, and per-respondent scores on 0-100."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy import special

from survey.analysis.model import Estimate
from survey.errors import ReportError
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import Store, collect_running


def load_frame(scan: Scan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(responses, answers wide): one row per counted response (index: response id), with
    department, role and wave (categorical); the answers as columns ("num", field) of float32
    (the store's type; every answer is a whole number, so exact: take `to_numpy(dtype=float)`
    before computing, which `Scorer` does)
    and ("text", field) of code text (None = no text answer). Read as columns from the store's
    BLOBs: no Python object per answer, nor per response."""
    if not scan.store_path.exists():
        raise ReportError(f"no responses collected yet ({scan.store_path} is missing)",
                          fix=f"put returned forms in {scan.inbox} and run: survey collect {scan.folder}")
    if collect_running(scan.folder):
        raise ReportError(f"a collect is running on {scan.folder}; its figures would be incomplete",
                          fix="wait until the collect has finished, then run this again")
    with Store(scan.store_path) as store:
        c = store.answer_columns()
        people = store.response_groups()
    index = pd.Index(c.ids, name="id")
    responses = pd.DataFrame({name: pd.Categorical.from_codes(codes, names) for name, (codes, names) in people.items()},
                             index=index)
    numbers = pd.DataFrame(c.numbers, index=index, columns=c.number_fields, copy=False)
    # text answers as categoricals: the store's code numbers, and each distinct text once
    texts = pd.DataFrame({field: pd.Categorical.from_codes(c.codes[:, j], pd.Index(c.texts[j], dtype=object))
                          for j, field in enumerate(c.text_fields)}, index=index)
    return responses, pd.concat({"num": numbers, "text": texts}, axis=1)


def estimate(values: pd.Series | np.ndarray, bounds: tuple[float, float] | None = None) -> Estimate | None:
    """Mean with its 95 % t-interval (NaN = not answered). With `bounds` (the ends of the answer
    scale) the interval is clipped to them: the mean cannot lie outside the scale, so neither may
    its interval (the same rule as `survey.stats.inference.mean_interval`)."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = len(data)
    if n == 0:
        return None
    mean = float(data.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    half = float(_t975(n - 1) * data.std(ddof=1) / math.sqrt(n))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(mean, low, high, n)


@functools.lru_cache(maxsize=4096)
def _t975(df: int) -> float:
    """The t quantile per degrees of freedom, once (an analysis asks it for thousands of figures
    with a few thousand distinct n)."""
    return float(special.stdtrit(df, 0.975))  # what stats.t.ppf computes, without its checks


class Scorer:
    """Per-respondent scores from the wide answer frame."""

    def __init__(self, q: m.Questionnaire, wide: pd.DataFrame):
        self.q = q
        self.index = wide.index
        self.num = wide["num"] if "num" in wide else pd.DataFrame(index=wide.index)
        self.text = wide["text"] if "text" in wide else pd.DataFrame(index=wide.index)
        self._dimensions: dict[str, pd.Series] = {}
        self._derived: dict[str, pd.Series] | None = None

    def column(self, key: str, frame: str = "num") -> pd.Series:
        source = self.num if frame == "num" else self.text
        if key in source.columns:
            return source[key]
        return pd.Series(np.nan if frame == "num" else None, index=source.index, dtype=float if frame == "num"
                         else object)

    def codes(self, key: str, coded: tuple[list[str], np.ndarray] | None = None) -> pd.Series:
        """Choice answers as code text: nominal codes are stored as text, ordinal as numbers.
        Vectorised: a lookup per distinct answer, not a Python call per answer."""
        distinct, at = coded or self._coded(key)
        table = np.array([*distinct, None], dtype=object)
        return pd.Series(table[at], index=self.index, dtype=object)  # -1 picks the None

    def code_index(self, key: str, codes: list[str], coded: tuple[list[str], np.ndarray] | None = None
                   ) -> np.ndarray:
        """Per respondent the position of their answer in `codes` (-1: none, or another): the
        choice answers as integers, for counting without a string comparison per answer.
        `coded`: `_coded(key)` when the caller has it already."""
        distinct, at = coded or self._coded(key)
        where = {c: i for i, c in enumerate(codes)}
        # positions are small numbers: int16 takes a quarter of int64 per respondent
        table = np.array([where.get(d, -1) for d in distinct] + [-1],
                         dtype=np.int16 if len(codes) < 2**15 else np.int64)
        return table[at]

    def text_in(self, key: str, texts: tuple[str, ...]) -> np.ndarray:
        """Per respondent: is their text answer one of `texts`? On the store's categorical
        codes (an integer comparison), not a string comparison per answer."""
        if key not in self.text.columns:
            return np.zeros(len(self.index), dtype=bool)  # no text answer was ever given
        text = self.text[key]
        if isinstance(text.dtype, pd.CategoricalDtype):
            table = np.array([t in texts for t in text.cat.categories] + [False])  # code -1 (none) last
            return table[text.cat.codes.to_numpy()]
        return np.isin(text.to_numpy(dtype=object), texts)

    def _coded(self, key: str) -> tuple[list[str], np.ndarray]:
        """(distinct code texts, per respondent the position in them or -1): the text answer
        where there is one, else the number as code text."""
        number = self.column(key).to_numpy(dtype=float)
        at = np.full(len(number), -1, dtype=np.int64)
        answered = ~np.isnan(number)
        distinct: list[str] = []
        if answered.any():
            values, where = np.unique(number[answered], return_inverse=True)
            distinct = [str(int(v)) for v in values]
            at[answered] = where
        text = self.column(key, "text")
        if isinstance(text.dtype, pd.CategoricalDtype):  # from the store: codes already
            text_at, text_distinct = text.cat.codes.to_numpy(), text.cat.categories
        else:
            text_at, text_distinct = pd.factorize(text, use_na_sentinel=True)
        if len(text_distinct):
            given = text_at >= 0
            at[given] = text_at[given] + len(distinct)
            distinct += [str(t) for t in text_distinct]
        return distinct, at

    def item_score(self, item: m.StatementItem | m.ScoreItem, key: str | None = None) -> pd.Series:
        """0-100 with the partnership end high."""
        low, high = self.q.scales[item.scale].numeric_range  # type: ignore[misc]
        score = (self.column(key or item.id).to_numpy(dtype=float) - low) / (high - low) * 100
        if getattr(item, "pole", None) == m.Pole.traditional:
            score = 100 - score
        return pd.Series(score, index=self.index)

    def dimension(self, name: str) -> pd.Series:
        """Per person the mean of their scores on the dimension's statements (from half of
        them). Computed once per scorer: claims, drivers and the naive mode all ask for it."""
        if name not in self._dimensions:
            items = self.q.dimension_items(name)
            self._dimensions[name] = pd.Series(
                _row_mean([self.item_score(i).to_numpy() for i in items], max(1, math.ceil(len(items) / 2))),
                index=self.index)
        return self._dimensions[name]

    def derived(self) -> dict[str, pd.Series]:
        """Per person every derived score (computed once per scorer, like `dimension`)."""
        if self._derived is None:
            self._derived = self._compute_derived()
        return dict(self._derived)

    def _compute_derived(self) -> dict[str, pd.Series]:
        values: dict[str, pd.Series] = {}
        for score in self.q.derived:
            parts = []
            for ref in score.of:
                if ref in values:
                    parts.append(values[ref].to_numpy())
                elif ref in self.q.dimensions:
                    parts.append(self.dimension(ref).to_numpy())
                else:
                    parts.append(self.column(ref).to_numpy(dtype=float))  # a mean in float64, not float32
            values[score.id] = pd.Series(_row_mean(parts, max(1, math.ceil(len(parts) / 2))), index=self.index)
        return values


def _row_mean(columns: list[np.ndarray], least: int) -> np.ndarray:
    """Per row the mean of the columns' non-NaN values, NaN where fewer than `least` are there.
    The arithmetic of pandas' `concat(columns, axis=1).mean(axis=1)` (NaN as 0, the columns
    added in order, divided by the count), so the same numbers, without a frame of all of them:
    a million people's scores on a dimension are a few vectors, not a copy per step."""
    total = np.zeros(len(columns[0]) if columns else 0)
    count = np.zeros(len(total), dtype=np.int64)
    for column in columns:
        given = ~np.isnan(column)
        total += np.where(given, column, 0.0)
        count += given
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    mean[count < least] = np.nan
    return mean
