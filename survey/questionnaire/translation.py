"""Translations: a form in the respondent's language, from a file beside the questionnaire.

A translation file `<questionnaire>.<lang>.yaml` (e.g. `partnership-scan.pl.yaml`) gives, per
key, the text of everything a form shows: the questionnaire's title, introduction, section
titles and intros, questions, situations, background questions and answer labels (`texts`),
and the tool's own form wording from reports/wording/ (`wording`). The questionnaire itself
is not touched: its content hash and the trend fingerprints stay as they are. The report
stays in the scan's language, so dimension names and report wording are not translated.

Keys (flat, one line per text):

    title, introduction
    sections.<section>.title | .intro | .manager_intro
    items.<item>.text | .manager_text | .help
    items.<grid>.situations.<situation>.text | .manager_text | .help
    background.<question>.text
    scales.<scale>.options.<code>.label | .manager_label
    scales.<scale>.not_applicable | .decline | .anchors.<value>

A questionnaire's translation is the union of the translation files beside each file it is
made of (organisatiescan takes partnership-scan.pl.yaml, werkgeluk.pl.yaml, ...), the file
of the questionnaire itself last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from survey.errors import Location, Problem, QuestionnaireError
from survey.questionnaire import model as m

# The fixed wording forms use (Excel forms, paper forms, the dropdown's error message, the
# handout lines): a translation file gives these under `wording:`.
FORM_WORDING_KEYS = (
    "form_sheet", "department", "role_employee", "role_manager", "form_instruction", "form_thanks", "form_handout",
    "form_return", "form_contact", "form_privacy", "months", "about_you", "about_you_intro", "statement",
    "question", "your_answer", "answer_now", "answer_desired", "situation", "grid_initiative", "grid_effect",
    "grid_effect_manager", "tick_all", "tick_yes", "invalid_title", "invalid_answer", "paper_form_id",
    "paper_instruction", "paper_tick_all", "paper_page", "paper_of", "paper_office", "paper_now", "paper_desired",
    "paper_thanks")
# Languages written right to left: their spreadsheet forms run from right to left.
RIGHT_TO_LEFT = frozenset({"ar", "arc", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})
# Invisible characters a translation should not hold: other controls, direction marks,
# embeddings, overrides and isolates (answers are read back with the latter removed).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAME = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})\.ya?ml$")


class TranslationFile(m.Strict):
    """A translation file as a consultant writes it (for `survey schema --translation`)."""

    model_config = m.ConfigDict(extra="forbid", frozen=True, title="survey questionnaire translation",
                                json_schema_extra={"$comment": "Documentation: docs/questionnaire-format.md, "
                                                               "'Forms in other languages'"})

    language: m.LanguageCode
    questionnaire: str | None = m.Field(default=None, description="Id of the questionnaire it translates.")
    texts: dict[str, str] = m.Field(default_factory=dict, description="Key (title, items.<id>.text, "
                                    "scales.<scale>.options.<code>.label, ...) -> text in this language.")
    wording: dict[str, str] = m.Field(default_factory=dict, description="The tool's form wording: key of "
                                      "reports/wording/<lang>.yaml (form_sheet, tick_yes, ...) -> text.")


def json_schema() -> dict:
    schema = TranslationFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["properties"]["wording"]["propertyNames"] = {"enum": list(FORM_WORDING_KEYS)}
    return schema


@dataclass(frozen=True)
class Translation:
    """One language's texts for a questionnaire (possibly merged from several files)."""

    language: str
    texts: dict[str, str]
    wording: dict[str, str]
    files: tuple[Path, ...] = ()
    lines: dict[tuple[Path, str], int] = field(default_factory=dict, compare=False)  # (file, key) -> line

    @property
    def right_to_left(self) -> bool:
        return self.language in RIGHT_TO_LEFT

    @property
    def path(self) -> Path | None:
        """The file a missing text belongs in: the questionnaire's own translation file."""
        return self.files[-1] if self.files else None


def translation_path(questionnaire_path: Path, lang: str) -> Path:
    return questionnaire_path.with_name(f"{questionnaire_path.stem}.{lang}.yaml")


def is_translation_file(path: Path) -> bool:
    return bool(_NAME.match(path.name))


def languages_beside(questionnaire_path: Path) -> list[str]:
    """Languages with a translation file beside this questionnaire file."""
    found = []
    for candidate in sorted(questionnaire_path.parent.glob(f"{questionnaire_path.stem}.*.y*ml")):
        match = _NAME.match(candidate.name)
        if match and match["stem"] == questionnaire_path.stem:
            found.append(match["lang"])
    return sorted(set(found))


def read_translation(path: Path) -> Translation:
    """One translation file; a file that is not one raises `QuestionnaireError` with its line."""
    from survey.questionnaire.loader import read_yaml

    source = read_yaml(path)
    data = source.data
    match = _NAME.match(path.name)
    problems = []
    unknown = [k for k in data if k not in ("language", "questionnaire", "texts", "wording")]
    for key in unknown:
        problems.append(Problem(f"unknown key '{key}' in a translation file", source.where((key,)),
                                "a translation file holds 'language', 'questionnaire', 'texts' and 'wording'"))
    language = data.get("language", match["lang"] if match else None)
    if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2}", language):
        problems.append(Problem(f"'language' must be a two-letter code (found {language!r})",
                                source.where(("language",)), "for example: language: pl"))
    elif match and match["lang"] != language:
        problems.append(Problem(f"the file name says '{match['lang']}' but 'language' says '{language}'",
                                source.where(("language",)), "make them the same"))
    parts: dict[str, dict[str, str]] = {}
    lines: dict[tuple[Path, str], int] = {}
    for section in ("texts", "wording"):
        block = data.get(section) or {}
        if not isinstance(block, dict):
            problems.append(Problem(f"'{section}' must be a list of key: text lines", source.where((section,)),
                                    "write one 'key: text' per line under it"))
            continue
        parts[section] = {}
        for key, text in block.items():
            if not isinstance(text, (str, int, float)) or isinstance(text, bool):
                problems.append(Problem(f"the text of '{key}' is not a text", source.where((section, key)),
                                        "write it after the colon, in quotes if it holds a colon"))
                continue
            parts[section][str(key)] = str(text)
            lines[(path, f"{section}:{key}")] = source.where((section, key)).line or 0
    if problems:
        raise QuestionnaireError(problems, path)
    return Translation(str(language), parts.get("texts", {}), parts.get("wording", {}), (path,), lines)


def merged(translations: list[Translation]) -> Translation:
    """Later files win; all files are remembered (for messages)."""
    texts: dict[str, str] = {}
    words: dict[str, str] = {}
    files: tuple[Path, ...] = ()
    lines: dict[tuple[Path, str], int] = {}
    for t in translations:
        texts.update(t.texts)
        words.update(t.wording)
        files += t.files
        lines.update(t.lines)
    return Translation(translations[-1].language, texts, words, files, lines)


def find_translations(q: m.Questionnaire) -> dict[str, Translation]:
    """Every language with a translation beside the files `q` was made of (besides its own)."""
    by_language: dict[str, list[Translation]] = {}
    for source in q.sources:
        path = Path(source)
        for lang in languages_beside(path):
            if lang in q.languages:
                continue
            by_language.setdefault(lang, []).append(read_translation(translation_path(path, lang)))
    return {lang: merged(found) for lang, found in sorted(by_language.items())}


# --------------------------------------------------------------------------- keys

def text_keys(q: m.Questionnaire) -> dict[str, m.Text]:
    """Every text a form shows, by translation key, with its text in the questionnaire's languages."""
    keys: dict[str, m.Text] = {"title": q.title}
    if q.introduction:
        keys["introduction"] = q.introduction
    used_scales: list[str] = []
    for section in q.sections:
        base = f"sections.{section.id}"
        keys[f"{base}.title"] = section.title
        for name in ("intro", "manager_intro"):
            if getattr(section, name):
                keys[f"{base}.{name}"] = getattr(section, name)
        for item in section.items:
            keys[f"items.{item.id}.text"] = item.text
            if getattr(item, "help", None):
                keys[f"items.{item.id}.help"] = item.help
            if item.manager_text:
                keys[f"items.{item.id}.manager_text"] = item.manager_text
            if isinstance(item, m.SituationGrid):
                used_scales += [item.initiative_scale, item.effect_scale]
                for situation in item.situations:
                    keys[f"items.{item.id}.situations.{situation.id}.text"] = situation.text
                    if situation.help:
                        keys[f"items.{item.id}.situations.{situation.id}.help"] = situation.help
                    if situation.manager_text:
                        keys[f"items.{item.id}.situations.{situation.id}.manager_text"] = situation.manager_text
            elif hasattr(item, "scale"):
                used_scales.append(item.scale)
    for question in q.background:
        if question.source == "respondent":
            keys[f"background.{question.id}.text"] = question.text
            used_scales.append(question.scale)
    for name in dict.fromkeys(used_scales):
        scale, base = q.scales[name], f"scales.{name}"
        for option in scale.options:
            keys[f"{base}.options.{option.code}.label"] = option.label
            if option.manager_label:
                keys[f"{base}.options.{option.code}.manager_label"] = option.manager_label
        for value, text in sorted(scale.anchors.items()):
            keys[f"{base}.anchors.{value}"] = text
        if scale.not_applicable:
            keys[f"{base}.not_applicable"] = scale.not_applicable
        if scale.decline:
            keys[f"{base}.decline"] = scale.decline
    return keys


def check_translation(q: m.Questionnaire, t: Translation) -> list[Problem]:
    """Warnings: a text missing (naming the file and the key), a key nothing uses; errors: a
    translated label that stands for two answers (returned forms are read by label)."""
    problems: list[Problem] = []
    top = Path(q.sources[-1]) if q.sources else None
    target = translation_path(top, t.language) if top else t.path
    keys = text_keys(q)
    owners = _owners(q)
    for key in keys:
        if not t.texts.get(key, "").strip():
            owner = translation_path(owners[key], t.language) if key in owners else target
            problems.append(Problem(f"no {t.language} text for '{key}' (in {q.source_language}: "
                                    f"{_short(keys[key].get(q.source_language, ''))})", Location(file=owner),
                                    f"add under 'texts:' the line  {key}: ...", severity="warning"))
    for key in FORM_WORDING_KEYS:
        if not t.wording.get(key, "").strip():
            problems.append(Problem(f"no {t.language} form wording for '{key}'", Location(file=target),
                                    f"add under 'wording:' the line  {key}: ...", severity="warning"))
    for section, known, table in (("texts", keys, t.texts), ("wording", FORM_WORDING_KEYS, t.wording)):
        for key in table:
            if key not in known:
                where = _where(t, section, key)
                from survey.questionnaire.loader import did_you_mean
                problems.append(Problem(f"'{key}' is not a text of '{q.id}' that a form shows", where,
                                        did_you_mean(key, list(known)) or "remove it, or check the key",
                                        severity="warning"))
    for section, table in (("texts", t.texts), ("wording", t.wording)):
        for key, text in table.items():
            if _CONTROLS.search(text):
                problems.append(Problem(f"the text of '{key}' holds invisible control characters (direction marks "
                                        "or the like)", _where(t, section, key),
                                        "remove them: a spreadsheet shows the text's direction by itself, and an "
                                        "answer is read back without them", severity="warning"))
    localised = localise(q, t, strict=False)
    for name, scale in localised.scales.items():
        meaning: dict[str, object] = {}
        for option in scale.options:
            for text in {s.strip().casefold() for s in [str(option.code), *option.label.values(),
                                                        *(option.manager_label or {}).values()]}:
                if meaning.setdefault(text, option.code) != option.code:
                    # name the translated label that collides (the other may be a source-language one)
                    mine = option.label.get(t.language, "").strip().casefold() == text
                    key = f"scales.{name}.options.{option.code if mine else meaning[text]}.label"
                    problems.append(Problem(f"{key}: '{text}' stands for two answers ('{meaning[text]}' and "
                                            f"'{option.code}') once the {t.language} labels are added",
                                            _where(t, "texts", key), "give every answer its own label"))
        for kind, extra in (("not_applicable", scale.not_applicable), ("decline", scale.decline)):
            label = (extra or {}).get(t.language, "").strip().casefold()
            if label and label in meaning:
                key = f"scales.{name}.{kind}"
                problems.append(Problem(f"{key}: the {t.language} label '{label}' is also an answer",
                                        _where(t, "texts", key), "give it a label of its own"))
    return problems


def _owners(q: m.Questionnaire) -> dict[str, Path]:
    """Key -> the included questionnaire file that defines it (keys of `q`'s own file are left out)."""
    from survey.questionnaire.loader import load_questionnaire

    owners: dict[str, Path] = {}
    for source in q.sources[:-1]:
        try:
            part = load_questionnaire(Path(source)).questionnaire
        except QuestionnaireError:
            continue
        for key in text_keys(part):
            if key not in ("title", "introduction"):
                owners.setdefault(key, Path(source))
    return owners


def missing(q: m.Questionnaire, t: Translation) -> list[str]:
    """Keys without a text: a form cannot be issued in this language until they are filled in."""
    return [key for key in text_keys(q) if not t.texts.get(key, "").strip()] + [
        f"wording.{key}" for key in FORM_WORDING_KEYS if not t.wording.get(key, "").strip()]


def _where(t: Translation, section: str, key: str) -> Location:
    for path in reversed(t.files):
        line = t.lines.get((path, f"{section}:{key}"))
        if line:
            return Location(file=path, line=line)
    return Location(file=t.path)


def _short(text: str, size: int = 50) -> str:
    text = " ".join(text.split())
    return f"'{text[:size]}...'" if len(text) > size else f"'{text}'"


# --------------------------------------------------------------------------- applying

def localise(q: m.Questionnaire, t: Translation, strict: bool = True) -> m.Questionnaire:
    """`q` with the translation's texts added under its language: forms then render it like any
    other language. Its hash differs from `q`'s: forms carry `q`'s (the frozen questionnaire's)."""
    if strict and missing(q, t):
        raise ValueError(f"translation to {t.language} is incomplete")
    data = q.model_dump(mode="python")
    lang = t.language

    def put(text: dict | None, key: str) -> None:
        if text is not None and t.texts.get(key, "").strip():
            text[lang] = t.texts[key]

    put(data["title"], "title")
    put(data["introduction"], "introduction")
    for section in data["sections"]:
        base = f"sections.{section['id']}"
        for name in ("title", "intro", "manager_intro"):
            put(section[name], f"{base}.{name}")
        for item in section["items"]:
            put(item["text"], f"items.{item['id']}.text")
            put(item["manager_text"], f"items.{item['id']}.manager_text")
            put(item.get("help"), f"items.{item['id']}.help")
            for situation in item.get("situations") or []:
                put(situation["text"], f"items.{item['id']}.situations.{situation['id']}.text")
                put(situation["manager_text"], f"items.{item['id']}.situations.{situation['id']}.manager_text")
                put(situation.get("help"), f"items.{item['id']}.situations.{situation['id']}.help")
    for question in data["background"]:
        put(question["text"], f"background.{question['id']}.text")
    for name, scale in data["scales"].items():
        base = f"scales.{name}"
        for option in scale["options"]:
            put(option["label"], f"{base}.options.{option['code']}.label")
            put(option["manager_label"], f"{base}.options.{option['code']}.manager_label")
        for value, text in scale["anchors"].items():
            put(text, f"{base}.anchors.{value}")
        put(scale["not_applicable"], f"{base}.not_applicable")
        put(scale["decline"], f"{base}.decline")
    if lang not in data["languages"]:
        data["languages"] = [*data["languages"], lang]
    return m.Questionnaire.model_validate(data)


def form_wording(base: dict[str, str], t: Translation) -> dict[str, str]:
    """The tool's wording for a form in the translation's language (the rest from `base`)."""
    return {**base, **{k: v for k, v in t.wording.items() if k in FORM_WORDING_KEYS}}


def all_labels(q: m.Questionnaire, translations: dict[str, Translation]) -> m.Questionnaire:
    """`q` with every translation's labels added: what collect reads a returned form with."""
    for t in translations.values():
        q = localise(q, t, strict=False)
    return q


def yaml_template(q: m.Questionnaire, lang: str) -> str:
    """A translation file to fill in: every key with the source-language text as a comment."""
    from survey.i18n import wording

    words = wording(q.source_language)
    lines = [f"# Translation of questionnaire '{q.id}' {q.version} into '{lang}'. Fill in every text;",
             "# the questionnaire itself is not changed (its hash and trends stay as they are).",
             f"language: {lang}", f"questionnaire: {q.id}", "texts:"]
    for key, text in text_keys(q).items():
        lines += [f"  # {_one_line(text.get(q.source_language, ''))}", f"  {key}: \"\""]
    lines.append("wording:")
    for key in FORM_WORDING_KEYS:
        lines += [f"  # {_one_line(words.get(key, ''))}", f"  {key}: \"\""]
    return "\n".join(lines) + "\n"


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())
