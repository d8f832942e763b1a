"""Result types shared by the statistics modules.

Every function in `survey.stats` returns either a typed result or a `CannotCompute` that says,
in plain words, why the figure cannot be given. No NaN leaves these modules: where a number
cannot be computed, the caller gets a `CannotCompute` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVEL = 0.95  # confidence level used throughout unless a caller passes another


@dataclass(frozen=True)
class CannotCompute:
    """A figure that cannot be given, and why (plain language, for the report)."""

    reason: str
    n: int = 0  # the number of cases that were available


@dataclass(frozen=True)
class Interval:
    """A confidence interval.

    `method` names how it was computed (e.g. "Feldt", "bootstrap percentile", "Welch t",
    "Wilson score"). `clipped` is True when the computed interval reached past the ends of
    the scale and was cut back to them; the report should then say so."""

    low: float
    high: float
    level: float = LEVEL
    method: str = ""
    clipped: bool = False

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def width(self) -> float:
        return self.high - self.low
