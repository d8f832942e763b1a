"""Versions and waves: which questions can be compared between two questionnaire versions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Mapping

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
    language: str = ""  # reworded: the (first) language whose wording changed

    @property
    def trend_broken(self) -> bool:
        return self.change is not Change.same


def fingerprints(q: Questionnaire, extra: Mapping[str, Questionnaire] | None = None) -> dict[str, dict[str, str]]:
    """language -> item key -> fingerprint, for every language the questionnaire carries inline
    and (`extra`: language -> the questionnaire localised by a scan's translation file) every
    translated one."""
    found = {lang: q.item_fingerprints(lang) for lang in q.languages}
    for lang, localised in (extra or {}).items():
        found.setdefault(lang, localised.item_fingerprints(lang))
    return found


def compare_versions(old: Questionnaire, new: Questionnaire, old_extra: Mapping[str, Questionnaire] | None = None,
                     new_extra: Mapping[str, Questionnaire] | None = None) -> list[ItemChange]:
    """Per question: can a trend from `old` to `new` be shown, or is it broken? Comparable only
    when its wording is the same in every language both carry (a reworded translation changes
    what those respondents read); a language only one of them carries breaks nothing."""
    before, after = fingerprints(old, old_extra), fingerprints(new, new_extra)
    both = [lang for lang in after if lang in before]
    keys_after, keys_before = new.item_fingerprints(), old.item_fingerprints()
    changes: list[ItemChange] = []
    for key in keys_after:
        if key not in keys_before:
            changes.append(ItemChange(key, Change.added))
            continue
        differs = next((lang for lang in both if before[lang].get(key) != after[lang].get(key)), None)
        if not both:
            differs = new.source_language if keys_before[key] != keys_after[key] else None
        changes.append(ItemChange(key, Change.same) if differs is None else ItemChange(key, Change.reworded, differs))
    changes.extend(ItemChange(key, Change.removed) for key in keys_before if key not in keys_after)
    return changes
