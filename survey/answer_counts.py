"""How each question was answered: a position on the scale, 'don't know', 'I'd rather not
say', or left blank. For the quality figures (missing rate per question).

These are counts of people over the whole organisation's counted responses (employees and
managers together), never per group: an output that shows them registers them in the
disclosure register like any other count (see survey/disclosure.py). Declines and 'don't
know' are analysed as missing everywhere else (they are not a position on the scale), so a
question's figures rest on `answered` people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.questionnaire import model as m
from survey.scan import Scan


@dataclass(frozen=True)
class AnswerCounts:
    """One answer field (`kar_01`, `kar_01.desired`, `pace_map.planning_talk.effect`, `tenure`;
    a multiple-choice question as a whole under its item id)."""

    key: str
    item_id: str
    responses: int  # counted responses the field was asked of
    answered: int  # a position on the scale, an option, a text, or (multiple choice) any tick
    dont_know: int  # the scale's 'don't know' / 'does not happen' (stored as 'n/a')
    declined: int  # 'I'd rather not say' (stored as 'declined')

    @property
    def blank(self) -> int:
        return self.responses - self.answered - self.dont_know - self.declined

    @property
    def missing(self) -> int:
        """Not a usable answer: don't know, declined or blank."""
        return self.responses - self.answered


def count_answers(q: m.Questionnaire, wide: pd.DataFrame) -> list[AnswerCounts]:
    """Per answer field, from the wide answer frame of `survey.analysis.load_frame`."""
    num = wide["num"] if "num" in wide else pd.DataFrame(index=wide.index)
    text = wide["text"] if "text" in wide else pd.DataFrame(index=wide.index)
    total = len(wide.index)

    def column(frame: pd.DataFrame, key: str) -> np.ndarray:
        if key in frame.columns:
            return frame[key].to_numpy(dtype=object)
        return np.full(total, None, dtype=object)

    counts: list[AnswerCounts] = []
    seen_multi: set[str] = set()
    for f in q.answer_fields():
        if f.key == "role" and any(b.id == "role" and b.source == "form" for b in q.background):
            continue  # filled in by the form, not asked
        if f.kind is m.FieldKind.check:
            if f.item_id in seen_multi:
                continue
            seen_multi.add(f.item_id)
            keys = [g.key for g in q.answer_fields() if g.item_id == f.item_id and g.kind is m.FieldKind.check]
            ticked = np.zeros(total, dtype=bool)
            for key in keys:
                values = pd.to_numeric(pd.Series(column(num, key)), errors="coerce").fillna(0).to_numpy()
                ticked |= values > 0
            counts.append(AnswerCounts(f.item_id, f.item_id, total, int(ticked.sum()), 0, 0))
            continue
        numbers, texts = column(num, f.key), column(text, f.key)
        has_number = np.array([v is not None and not pd.isna(v) for v in numbers], dtype=bool)
        code = np.array([v if isinstance(v, str) else None for v in texts], dtype=object)
        dont_know = code == m.NOT_APPLICABLE
        declined = code == m.DECLINED
        answered = has_number | (np.array([c is not None and c.strip() != "" for c in code]) & ~dont_know & ~declined)
        counts.append(AnswerCounts(f.key, f.item_id, total, int(answered.sum()), int(dont_know.sum()),
                                   int(declined.sum())))
    return counts


def answer_counts(scan: Scan) -> list[AnswerCounts]:
    """Per answer field over the scan's counted responses."""
    from survey.analysis import load_frame

    _, wide = load_frame(scan)
    return count_answers(scan.questionnaire, wide)
