"""The questionnaire as typed objects.

These pydantic models are both the validator of a questionnaire file (unknown keys are
errors, every field is typed) and the objects every later pipeline step uses. `survey schema`
writes their JSON Schema for editor support.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_serializer, model_validator

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Stable id: lower-case letters, digits and _ (used by the store and across waves).",
    ),
]
QuestionnaireId = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_-]*$", description="Questionnaire id: lower-case letters, digits, - and _."),
]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code, e.g. nl, en")]
Text = Annotated[
    dict[LanguageCode, str],
    Field(description="Text per language, e.g. {nl: '...', en: '...'}", min_length=1),
]

# Fixed vocabularies the analysis understands (labels are free, codes are not).
INITIATIVE_CODES = ("self", "together", "manager", "organisation")
PACE_EFFECT_CODES = ("speeds_up", "no_effect", "brakes")
# What the store keeps (as text) for the answers that are not a position on the scale: they
# are counted (answer_counts) and analysed as missing.
NOT_APPLICABLE = "n/a"  # the scale's 'don't know' / 'does not happen'
DECLINED = "declined"  # the scale's 'I'd rather not say'



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


VERBATIM_DESCRIPTION = (
    "The texts of this element are quoted word for word from a source: the plain-language check "
    "of 'survey validate' skips them (its 'help' is still checked).")


class Quotable(Strict):
    verbatim: bool = Field(default=False, description=VERBATIM_DESCRIPTION)


class Pole(StrEnum):
    partnership = "partnership"
    traditional = "traditional"


class ScaleKind(StrEnum):
    ordinal = "ordinal"  # ordered labelled points with numeric values (agreement, frequency)
    score = "score"  # whole numbers from min to max (1-10), labels at the anchors
    nominal = "nominal"  # unordered choices (yes/no, initiative, pace effect, lists)


class ScaleOption(Quotable):
    code: int | Identifier = Field(description="Stored value: a number on ordinal scales, an id otherwise.")
    label: Text
    manager_label: Text | None = Field(
        default=None, description="The label as managers see it, e.g. 'My staff member' for 'I myself'.")
    exclusive: bool = Field(
        default=False, description="'None of these' on a multiple-choice question: ticked together with another "
        "option, the question's answer is left out (and the cell named in the answers to check).")

    def text(self, lang: str, manager: bool = False) -> str:
        chosen = self.manager_label if manager and self.manager_label else self.label
        return chosen[lang]


class Scale(Strict):
    kind: ScaleKind
    options: list[ScaleOption] = Field(default_factory=list, description="Ordinal and nominal scales.")
    min: int | None = Field(default=None, description="Score scales: lowest value.")
    max: int | None = Field(default=None, description="Score scales: highest value.")
    anchors: dict[int, Text] = Field(default_factory=dict, description="Score scales: labels of some values.")
    not_applicable: Text | None = Field(
        default=None, description="Label of a 'does not apply' / 'don't know' answer; stored as 'n/a', "
        "counted, and not scored."
    )
    decline: Text | None = Field(
        default=None, description="Label of a 'prefer not to say' answer, e.g. {nl: Zeg ik liever niet, "
        "en: I'd rather not say}; stored as 'declined', counted, and analysed as missing. Not part of a "
        "question's trend fingerprint."
    )

    def answer_labels(self, lang: str, manager: bool = False) -> list[str | int]:
        """Every answer a form offers, in form order: the points or options, then 'don't know'
        and 'I'd rather not say'. Forms, paper forms and the entry workbook all show these."""
        labels: list[str | int] = (list(self.values) if self.kind is ScaleKind.score
                                   else [o.text(lang, manager) for o in self.options])
        if self.not_applicable:
            labels.append(self.not_applicable[lang])
        if self.decline:
            labels.append(self.decline[lang])
        return labels

    def substance(self, lang: str) -> dict:
        """What the scale means, for trend fingerprints: kind, range, codes and their
        source-language labels. Not 'don't know' or 'I'd rather not say', not translations."""
        return {"kind": self.kind.value, "min": self.min, "max": self.max,
                "anchors": {str(k): v.get(lang) for k, v in sorted(self.anchors.items())},
                "options": [[o.code, o.label.get(lang), (o.manager_label or {}).get(lang), o.exclusive]
                            for o in self.options]}

    def label(self, value: int | str, lang: str, manager: bool = False) -> str:
        for option in self.options:
            if option.code == value:
                return option.text(lang, manager)
        if value in self.anchors:
            return f"{value} ({self.anchors[value][lang]})"  # type: ignore[index]
        return str(value)

    @property
    def values(self) -> list[int | str]:
        if self.kind is ScaleKind.score and self.min is not None and self.max is not None:
            return list(range(self.min, self.max + 1))
        return [o.code for o in self.options]

    @property
    def numeric_range(self) -> tuple[float, float] | None:
        """Lowest and highest scored value, for rescaling to 0-100."""
        if self.kind is ScaleKind.score and self.min is not None and self.max is not None:
            return float(self.min), float(self.max)
        if self.kind is ScaleKind.ordinal and self.options:
            codes = [float(o.code) for o in self.options]  # type: ignore[arg-type]
            return min(codes), max(codes)
        return None


class Dimension(Quotable):
    name: Text
    description: Text | None = None


class ItemBase(Quotable):
    id: Identifier
    text: Text
    required: bool = True
    manager_text: Text | None = Field(
        default=None, description="The same question as a manager answers it about the department."
    )
    help: Text | None = Field(
        default=None, description="A short plain explanation printed under the question on the form, e.g. "
        "of an idiom or of a question quoted verbatim. Not part of the question's trend fingerprint.")


class StatementItem(ItemBase):
    """An agreement statement on an ordinal scale, scored towards a dimension."""

    type: Literal["statement"]
    scale: Identifier
    dimension: Identifier | None = None
    pole: Pole | None = Field(
        default=None,
        description="Which model agreeing points to; traditional-keyed items are reverse-scored.",
    )
    desired: bool = Field(default=False, description="Also ask how it should be (current versus desired).")


class ScoreItem(ItemBase):
    """A score on a score scale, e.g. 1-10."""

    type: Literal["score"]
    scale: Identifier
    dimension: Identifier | None = None
    desired: bool = False


class ChoiceItem(ItemBase):
    type: Literal["single_choice", "multiple_choice"]
    scale: Identifier


class OpenItem(ItemBase):
    type: Literal["open"]
    required: bool = False


class Situation(Quotable):
    id: Identifier
    text: Text
    manager_text: Text | None = None
    help: Text | None = Field(default=None, description="A short plain explanation printed under the situation.")


class SituationGrid(ItemBase):
    """Concrete situations, each asked who takes the initiative and whether the
    organisation speeds the respondent up or brakes them: the pace map."""

    type: Literal["situation_grid"]
    initiative_scale: Identifier
    effect_scale: Identifier
    situations: list[Situation] = Field(min_length=1)


Item = Annotated[
    StatementItem | ScoreItem | ChoiceItem | OpenItem | SituationGrid,
    Field(discriminator="type"),
]


class Section(Quotable):
    id: Identifier
    title: Text
    intro: Text | None = None
    manager_intro: Text | None = Field(default=None, description="The intro as managers read it.")
    items: list[Item]


class Reporting(StrEnum):
    compare = "compare"  # results shown per group, each group subject to the anonymity threshold
    count = "count"  # only how many respondents per group (each group at least the threshold)
    none = "none"  # collected, never reported


class BackgroundQuestion(Quotable):
    id: Identifier
    text: Text
    scale: Identifier
    source: Literal["respondent", "form"] = Field(
        default="respondent",
        description="'form': filled in by the form itself (e.g. role on personal forms), not asked.",
    )
    reporting: Reporting = Reporting.count
    required: bool = False


class DerivedScore(Quotable):
    id: Identifier
    name: Text
    method: Literal["mean"] = "mean"
    of: list[Identifier] = Field(min_length=1, description="Item, dimension or earlier derived score ids.")
    description: Text | None = None
    outcome: bool = Field(
        default=False,
        description="An outcome of the driver analysis: the report shows how much each partnership dimension "
                    "and each pace situation goes together with it (relative importance). Higher must be better.")

    @model_serializer(mode="wrap")
    def _omit_default_outcome(self, handler):  # type: ignore[no-untyped-def]
        # Left out when false, so the content hash of every questionnaire (and of every scan
        # frozen before this field existed) stays what it was.
        data = handler(self)
        if isinstance(data, dict) and not self.outcome:
            data.pop("outcome", None)
        return data


class PlainLanguage(Strict):
    """Settings of the plain-language check in `survey validate`."""

    jargon: dict[LanguageCode, dict[str, str | None]] = Field(
        default_factory=dict,
        description="Extra jargon and idioms per language, each with a plainer wording (or empty), added to "
        "the built-in list; 'word*' matches every word that starts with 'word'.")


class QuestionnaireFile(Strict):
    """One questionnaire file as written by a consultant."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="survey questionnaire",
        json_schema_extra={"$comment": "Documentation: docs/questionnaire-format.md"},
    )

    id: QuestionnaireId
    version: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, (int, float)) else v)] = Field(
        description="Version of the content, e.g. '1.0'; change it when wording changes.")
    languages: list[LanguageCode] = Field(min_length=1)
    title: Text
    introduction: Text | None = None
    include: list[str] = Field(
        default_factory=list, description="Other questionnaires whose content is taken in, by id or path."
    )
    scales: dict[Identifier, Scale] = Field(default_factory=dict)
    dimensions: dict[Identifier, Dimension] = Field(default_factory=dict)
    sections: list[Section] = Field(default_factory=list)
    background: list[BackgroundQuestion] = Field(default_factory=list)
    derived: list[DerivedScore] = Field(default_factory=list)
    plain_language: PlainLanguage | None = Field(
        default=None, description="Settings of the plain-language check (not part of the content hash).")

    @model_validator(mode="after")
    def _languages_unique(self) -> QuestionnaireFile:
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("a language is listed twice under 'languages'")
        return self


class FieldKind(StrEnum):
    ordinal = "ordinal"
    score = "score"
    choice = "choice"
    check = "check"  # one option of a multiple-choice item: ticked or not
    open = "open"


class AnswerField(Strict):
    """One answer cell on a form and one answer column in the store."""

    key: str  # e.g. kar_01, kar_01.desired, pace.planning_talk.initiative, reasons.pay
    item_id: str
    kind: FieldKind
    scale: str | None = None
    situation: str | None = None
    aspect: Literal["current", "desired", "initiative", "effect", "option", "answer"] = "answer"
    required: bool = False


class Questionnaire(QuestionnaireFile):
    """A questionnaire with its includes resolved: what forms, analysis and report use."""

    sources: list[str] = Field(default_factory=list, description="Files this was assembled from.")

    @property
    def items(self) -> list[StatementItem | ScoreItem | ChoiceItem | OpenItem | SituationGrid]:
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str):
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def dimension_items(self, dimension: str) -> list[StatementItem | ScoreItem]:
        return [
            i for i in self.items if isinstance(i, (StatementItem, ScoreItem)) and i.dimension == dimension
        ]

    @property
    def grids(self) -> list[SituationGrid]:
        return [i for i in self.items if isinstance(i, SituationGrid)]

    def answer_fields(self) -> list[AnswerField]:
        """Every answer a form asks for, in form order."""
        fields: list[AnswerField] = []
        for item in self.items:
            if isinstance(item, (StatementItem, ScoreItem)):
                kind = FieldKind.ordinal if isinstance(item, StatementItem) else FieldKind.score
                aspect = "current" if item.desired else "answer"
                fields.append(AnswerField(key=item.id, item_id=item.id, kind=kind, scale=item.scale,
                                          aspect=aspect, required=item.required))
                if item.desired:
                    fields.append(AnswerField(key=f"{item.id}.desired", item_id=item.id, kind=kind,
                                              scale=item.scale, aspect="desired", required=item.required))
            elif isinstance(item, ChoiceItem) and item.type == "single_choice":
                fields.append(AnswerField(key=item.id, item_id=item.id, kind=FieldKind.choice,
                                          scale=item.scale, required=item.required))
            elif isinstance(item, ChoiceItem):
                for option in self.scales[item.scale].options:
                    fields.append(AnswerField(key=f"{item.id}.{option.code}", item_id=item.id,
                                              kind=FieldKind.check, scale=item.scale, aspect="option"))
            elif isinstance(item, OpenItem):
                fields.append(AnswerField(key=item.id, item_id=item.id, kind=FieldKind.open,
                                          required=item.required))
            elif isinstance(item, SituationGrid):
                for situation in item.situations:
                    for aspect, scale in (("initiative", item.initiative_scale), ("effect", item.effect_scale)):
                        fields.append(AnswerField(
                            key=f"{item.id}.{situation.id}.{aspect}", item_id=item.id,
                            kind=FieldKind.choice, scale=scale, situation=situation.id,
                            aspect=aspect, required=item.required))  # type: ignore[arg-type]
        for question in self.background:
            fields.append(AnswerField(key=question.id, item_id=question.id, kind=FieldKind.choice,
                                      scale=question.scale, required=question.required))
        return fields

    @property
    def source_language(self) -> str:
        """The language the questionnaire was written in (the first listed): trends follow its wording."""
        return self.languages[0]

    def content(self) -> dict:
        """The content that defines the questionnaire, without where it came from.

        Keys added later are left out at their defaults, so a questionnaire frozen before they
        existed keeps its hash."""
        return _without_defaults(self.model_dump(mode="json", exclude={"sources", "include", "plain_language"}))

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def item_fingerprints(self, language: str | None = None) -> dict[str, str]:
        """Hash of what each question means in one language (default: the source language),
        for trend breaks across waves: its wording in that language, its type, its substantive
        options (`Scale.substance`), pole and dimension. A 'don't know' or an 'I'd rather not
        say' answer leaves it unchanged. A question keeps its trend only when its fingerprint
        is the same in every language both versions carry (`versions.compare_versions`)."""
        prints: dict[str, str] = {}
        lang = language or self.source_language

        def digest(*parts: object) -> str:
            blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
            return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

        def said(text: Text | None) -> str | None:
            return text.get(lang) if text else None

        for item in self.items:
            if isinstance(item, SituationGrid):
                scales = [self.scales[item.initiative_scale].substance(lang),
                          self.scales[item.effect_scale].substance(lang)]
                for situation in item.situations:
                    prints[f"{item.id}.{situation.id}"] = digest(
                        said(item.text), said(situation.text), said(situation.manager_text), scales)
                continue
            scale_def = None
            if isinstance(item, (StatementItem, ScoreItem, ChoiceItem)):
                scale_def = self.scales[item.scale].substance(lang)
            prints[item.id] = digest(item.type, said(item.text), said(item.manager_text), scale_def,
                                     getattr(item, "pole", None), getattr(item, "dimension", None))
        return prints


# Fields added after questionnaires were first frozen: left out of `content()` at their
# default, so the hash of a questionnaire frozen before they existed does not change.
LATER_DEFAULTS = {"verbatim": False, "help": None, "decline": None, "exclusive": False}


def _without_defaults(node):
    if isinstance(node, dict):
        return {k: _without_defaults(v) for k, v in node.items()
                if not (k in LATER_DEFAULTS and v == LATER_DEFAULTS[k] and type(v) is type(LATER_DEFAULTS[k]))}
    if isinstance(node, list):
        return [_without_defaults(v) for v in node]
    return node
