"""k-anonymity of answer-level data: every combination of quasi-identifiers holds k rows."""

from __future__ import annotations

import pandas as pd
import pytest

from survey.errors import SurveyError
from survey.microdata import NOT_ANSWERED, everything, k_anonymise, merge_small

TENURE = [{"lt1": "up to 5 years", "y1_5": "up to 5 years", "y5_10": "5 years or more",
           "gt10": "5 years or more"}, everything("any")]


def frame() -> pd.DataFrame:
    departments = ["Big"] * 12 + ["Mid"] * 7 + ["Tiny"] * 2
    tenure = (["lt1", "y1_5", "y5_10", "gt10"] * 6)[:21]
    tenure[3] = None  # one person did not say
    return pd.DataFrame({"department": departments, "tenure": tenure, "answer": range(21)})


def test_every_combination_holds_k_rows_and_nothing_is_blank():
    rows = frame()
    result = k_anonymise(rows, {"department": [merge_small("Other departments"), everything("All")],
                                "tenure": TENURE}, 5)
    combos = result.rows.groupby(["department", "tenure"]).size()
    assert combos.min() >= 5 and result.smallest == combos.min()
    assert result.rows["department"].notna().all() and result.rows["tenure"].notna().all()
    assert "Tiny" not in set(result.rows["department"])
    assert list(result.rows["answer"]) == list(rows["answer"])  # no row dropped, answers untouched
    assert sum(result.steps.values()) >= 1


def test_missing_value_is_a_category_not_a_blank():
    rows = frame()
    result = k_anonymise(rows, {"tenure": TENURE}, 1)
    assert result.rows["tenure"].tolist().count(NOT_ANSWERED) == 1
    coarse = k_anonymise(rows, {"tenure": TENURE}, 5)  # the lone 'not answered' is merged away
    assert coarse.rows["tenure"].value_counts().min() >= 5 and (coarse.rows["tenure"] != "").all()


def test_already_k_anonymous_data_is_left_alone():
    rows = pd.DataFrame({"department": ["A"] * 5 + ["B"] * 6, "x": range(11)})
    result = k_anonymise(rows, {"department": [everything("All")]}, 5)
    assert result.steps == {"department": 0}
    assert list(result.rows["department"]) == list(rows["department"])


def test_fewer_rows_than_the_threshold_is_refused():
    with pytest.raises(SurveyError, match="at least 5"):
        k_anonymise(pd.DataFrame({"department": ["A"] * 4}), {"department": [everything("All")]}, 5)
