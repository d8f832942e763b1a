"""Answers from the store as a frame, and per-respondent scores on 0-100."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from survey.analysis.model import Estimate
from survey.errors import ReportError
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import Store, collect_running


def load_frame(scan: Scan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(responses, answers wide): one row per response; numeric and text answers in columns."""
    if not scan.store_path.exists():
        raise ReportError(f"no responses collected yet ({scan.store_path} is missing)",
                          fix=f"put returned forms in {scan.inbox} and run: survey collect {scan.folder}")
    if collect_running(scan.folder):
        raise ReportError(f"a collect is running on {scan.folder}; its figures would be incomplete",
                          fix="wait until the collect has finished, then run this again")
    with Store(scan.store_path) as store:
        responses = pd.DataFrame([r.__dict__ for r in store.responses()],
                                 columns=["id", "form_id", "department", "role", "wave"])
        answers = pd.DataFrame([a.__dict__ for a in store.answers()],
                               columns=["response_id", "field", "value_num", "value_text"])
    responses = responses.set_index("id")
    numeric = answers.pivot(index="response_id", columns="field", values="value_num")
    text = answers.pivot(index="response_id", columns="field", values="value_text")
    numeric = numeric.reindex(responses.index)
    text = text.reindex(responses.index)
    return responses, pd.concat({"num": numeric, "text": text}, axis=1)


def estimate(values: pd.Series, bounds: tuple[float, float] | None = None) -> Estimate | None:
    """Mean with its 95 % t-interval. With `bounds` (the ends of the answer scale) the interval
    is clipped to them: the mean cannot lie outside the scale, so neither may its interval (the
    same rule as `survey.stats.inference.mean_interval`)."""
    data = values.dropna().to_numpy(dtype=float)
    n = len(data)
    if n == 0:
        return None
    mean = float(data.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.975, n - 1) * data.std(ddof=1) / math.sqrt(n))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(mean, low, high, n)


class Scorer:
    """Per-respondent scores from the wide answer frame."""

    def __init__(self, q: m.Questionnaire, wide: pd.DataFrame):
        self.q = q
        self.num = wide["num"] if "num" in wide else pd.DataFrame(index=wide.index)
        self.text = wide["text"] if "text" in wide else pd.DataFrame(index=wide.index)

    def column(self, key: str, frame: str = "num") -> pd.Series:
        source = self.num if frame == "num" else self.text
        if key in source.columns:
            return source[key]
        return pd.Series(np.nan if frame == "num" else None, index=source.index, dtype=float if frame == "num"
                         else object)

    def codes(self, key: str) -> pd.Series:
        """Choice answers as code text: nominal codes are stored as text, ordinal as numbers."""
        numeric = self.column(key).map(lambda v: None if pd.isna(v) else str(int(v)))
        text = self.column(key, "text")
        return text.where(text.notna(), numeric)

    def item_score(self, item: m.StatementItem | m.ScoreItem, key: str | None = None) -> pd.Series:
        """0-100 with the partnership end high."""
        low, high = self.q.scales[item.scale].numeric_range  # type: ignore[misc]
        score = (self.column(key or item.id) - low) / (high - low) * 100
        if getattr(item, "pole", None) == m.Pole.traditional:
            score = 100 - score
        return score

    def dimension(self, name: str) -> pd.Series:
        items = self.q.dimension_items(name)
        scores = pd.concat([self.item_score(i) for i in items], axis=1)
        enough = scores.notna().sum(axis=1) >= max(1, math.ceil(len(items) / 2))
        return scores.mean(axis=1).where(enough)

    def derived(self) -> dict[str, pd.Series]:
        values: dict[str, pd.Series] = {}
        for score in self.q.derived:
            parts = []
            for ref in score.of:
                if ref in values:
                    parts.append(values[ref])
                elif ref in self.q.dimensions:
                    parts.append(self.dimension(ref))
                else:
                    parts.append(self.column(ref))
            frame = pd.concat(parts, axis=1)
            enough = frame.notna().sum(axis=1) >= max(1, math.ceil(len(parts) / 2))
            values[score.id] = frame.mean(axis=1).where(enough)
        return values
