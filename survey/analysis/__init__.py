"""Analysis: from the store to a typed result model, one module per subject.

- `frame`: answers from the store as columns; per-respondent scores (`Scorer`).
- `core`: the groups, the register of every candidate figure, the one disclosure decision,
  and the figures it allows (`Analysis`); subject modules plug in through `Subject`.
- `model`: the result model every output renders (`AnalysisResult`, `GroupResult`, ...).
- `drivers`: what goes together with each outcome (relative weights per group).
- `workbook`: the results workbook.
- `change`: the change since the previous wave, and every wave's value from three waves on.
- `quality`: reliability per dimension, item quality, answer distributions, share favourable and
  the n and interval of dimension scores.

`survey/disclosure.py` stays the one gate: a subject registers its candidate figures before
the decision and reads only allowed ones after it.
"""

from survey.analysis.core import analyse_frame, analyse_scan, publish
from survey.analysis import drivers  # noqa: F401  (a Subject: registers itself in core.SUBJECTS)
from survey.analysis.frame import Scorer, estimate, load_frame
from survey.analysis.model import (GROUP_KINDS, MANAGER_UNIT, AnalysisResult, BreakdownRow, ChoiceShares,
                                   DesiredGap, Estimate, GroupResult, PaceCell, group_label, shown_interval,
                                   DriverResult, DriverSetup, DriverWeight)
from survey.analysis import quality  # noqa: F401  (registers its Subject)
from survey.analysis.workbook import write_results_workbook
from survey.analysis import claims as _claims  # noqa: F401  (registers the claims subject)
from survey.analysis import change as _change  # noqa: F401  (registers the change subject; after claims)
from survey.disclosure import MANAGERS, ORGANISATION, OTHERS

__all__ = ["analyse_frame", "analyse_scan", "publish", "Scorer", "estimate", "load_frame", "GROUP_KINDS",
           "MANAGER_UNIT", "AnalysisResult", "BreakdownRow", "ChoiceShares", "DesiredGap", "Estimate",
           "GroupResult", "PaceCell", "group_label", "shown_interval", "write_results_workbook", "MANAGERS",
           "ORGANISATION", "OTHERS", "DriverResult", "DriverSetup", "DriverWeight"]
