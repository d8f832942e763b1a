"""Statistical building blocks for the report (issue 10): reliability, inference, drivers.

Pure functions on numbers: they know nothing of groups, anonymity or the questionnaire. The
caller decides which respondents go in (after the anonymity gate) and passes the arrays.
Every function returns a typed result or a `CannotCompute` with a plain-language reason.
"""

from survey.stats._types import LEVEL, CannotCompute, Interval
from survey.stats.drivers import (
    MIN_N_DEPARTMENT,
    MIN_N_ORGANISATION,
    DriverWeight,
    RelativeWeights,
    relative_weights,
)
from survey.stats.inference import (
    Claim,
    MeanDifference,
    MeanEstimate,
    ShareDifference,
    ShareEstimate,
    claims,
    group_vs_rest,
    holm,
    mean_interval,
    paired_difference,
    share_difference,
    welch_difference,
    wilson_interval,
)
from survey.stats.reliability import (
    Category,
    Coefficient,
    DimensionReliability,
    Flag,
    FlagLevel,
    ItemReliability,
    OneFactor,
    cronbach_alpha,
    dimension_reliability,
    mcdonald_omega,
    one_factor_minres,
)

__all__ = [
    "LEVEL", "CannotCompute", "Interval",
    "MIN_N_DEPARTMENT", "MIN_N_ORGANISATION", "DriverWeight", "RelativeWeights", "relative_weights",
    "Claim", "MeanDifference", "MeanEstimate", "ShareDifference", "ShareEstimate", "claims",
    "group_vs_rest", "holm", "mean_interval", "paired_difference", "share_difference",
    "welch_difference", "wilson_interval",
    "Category", "Coefficient", "DimensionReliability", "Flag", "FlagLevel", "ItemReliability",
    "OneFactor", "cronbach_alpha", "dimension_reliability", "mcdonald_omega", "one_factor_minres",
]
