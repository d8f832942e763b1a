"""Questionnaires: the YAML format, its validation and the bundled library."""

from survey.questionnaire.loader import (
    LoadResult,
    ValidationReport,
    bundled_paths,
    bundled_questionnaires,
    find_questionnaire,
    json_schema,
    load_questionnaire,
    validate,
)
from survey.questionnaire.model import AnswerField, FieldKind, Questionnaire
from survey.questionnaire.versions import Change, ItemChange, compare_versions

__all__ = [
    "AnswerField", "Change", "FieldKind", "ItemChange", "LoadResult", "Questionnaire", "ValidationReport",
    "bundled_paths", "bundled_questionnaires", "compare_versions", "find_questionnaire", "json_schema",
    "load_questionnaire", "validate",
]
