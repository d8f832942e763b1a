"""Fixed wording per language (forms and report), from reports/wording/<lang>.yaml, and the
way numbers, percentages, dates and counted nouns are written in that language (Babel)."""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from ruamel.yaml import YAML

from survey.resources import reports_dir

LOCALES = {"nl": "nl_NL", "en": "en_GB"}
DASH = "–"  # a figure that is not there


@lru_cache(maxsize=8)
def wording(lang: str) -> dict[str, str]:
    path = reports_dir() / "wording" / f"{lang}.yaml"
    if not path.is_file():
        path = reports_dir() / "wording" / "en.yaml"
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def locale(lang: str) -> str:
    return LOCALES.get(lang, lang)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, digits: int = 0, lang: str = "en", *, signed: bool = False) -> str:
    """7.0 -> '7,0' in Dutch, '7.0' in English; `signed` writes '+5' and '-5'."""
    if _missing(value):
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    value = round(float(value), digits) + 0.0  # as Python's format rounds; + 0.0: no '-0'
    if signed and value != 0:  # a balance of 0 is '0', not '+0'
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, format=pattern, locale=locale(lang))


def percent(value: float | None, lang: str = "en") -> str:
    """A share 0..1 as a whole percentage in the language's own way ('86%')."""
    return DASH if _missing(value) else format_percent(value, format="#,##0%", locale=locale(lang))


def long_date(day: date, lang: str) -> str:
    """'15 december 2026' / '15 December 2026': the way a reader writes a date."""
    return format_date(day, format="long", locale=locale(lang))


def counted(count: int, key: str, lang: str) -> str:
    """'1 afdeling', '2 afdelingen': the wording file holds both forms as `key.one` and
    `key.other`; Babel's plural rule of the language picks one."""
    from babel import Locale

    w = wording(lang)
    form = Locale.parse(locale(lang)).plural_form(count)
    text = w.get(f"{key}.{form}") or w[f"{key}.other"]
    return text.format(count=count)
