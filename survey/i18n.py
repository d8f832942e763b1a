"""Fixed wording per language (forms and report), from reports/wording/<lang>.yaml."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from ruamel.yaml import YAML

from survey.resources import reports_dir


@lru_cache(maxsize=8)
def wording(lang: str) -> dict[str, str]:
    path = reports_dir() / "wording" / f"{lang}.yaml"
    if not path.is_file():
        path = reports_dir() / "wording" / "en.yaml"
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def long_date(day: date, lang: str) -> str:
    """'15 december 2026' / '15 December 2026': the way a reader writes a date."""
    months = wording(lang)["months"].split()
    return f"{day.day} {months[day.month - 1]} {day.year}"
