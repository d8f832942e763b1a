"""Versions and waves: which questions can be compared between two questionnaire versions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from survey.questionnaire.model import Questionnaire


class Change(StrEnum):
    same = "same"
    reworded = "reworded"  # wording or scale changed: the trend is broken for this question
    added = "added"
    removed = "removed"


@dataclass(frozen=True)
class ItemChange:
    key: str  # item id, or grid id.situation id
    change: Change

    @property
    def trend_broken(self) -> bool:
        return self.change is not Change.same


def compare_versions(old: Questionnaire, new: Questionnaire) -> list[ItemChange]:
    """Per question: can a trend from `old` to `new` be shown, or is it broken?"""
    before, after = old.item_fingerprints(), new.item_fingerprints()
    changes: list[ItemChange] = []
    for key, digest in after.items():
        if key not in before:
            changes.append(ItemChange(key, Change.added))
        else:
            changes.append(ItemChange(key, Change.same if before[key] == digest else Change.reworded))
    changes.extend(ItemChange(key, Change.removed) for key in before if key not in after)
    return changes
