"""The result model of the analysis: typed figures per group, as the disclosure model allowed them.
Every output (report, workbook, status, quotes) renders this and computes nothing itself."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from survey.disclosure import MANAGERS, ORGANISATION, OTHERS, Decision, HiddenGroup, Register, Suppression
from survey.questionnaire import model as m
from survey.scan import Scan

if TYPE_CHECKING:
    from survey.analysis.claims import Claims

MANAGER_UNIT = "\x00managers"


@dataclass(frozen=True)
class Estimate:
    """A group figure. `n` is the number of people behind it; a composite score (the mean of
    published figures) has no single base: n is None and it has no interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int | None


@dataclass(frozen=True)
class PaceCell:
    """One situation for one group: who takes the initiative, and speeding up versus braking.
    Each half rests on those who answered it (answers other than 'does not happen'); a half
    the disclosure rule withholds is None."""

    situation: str
    n_initiative: int
    initiative: dict[str, float] | None  # code -> share (0-1)
    n_effect: int
    effect: dict[str, float] | None

    @property
    def balance(self) -> float | None:
        """Percentage points 'speeds me up' minus 'brakes me' (-100 .. +100)."""
        if self.effect is None:
            return None
        return 100 * (self.effect.get("speeds_up", 0.0) - self.effect.get("brakes", 0.0))

    @property
    def own_initiative(self) -> float | None:
        """Share taken by the employee, alone or together with the manager (0-1)."""
        if self.initiative is None:
            return None
        return self.initiative.get("self", 0.0) + self.initiative.get("together", 0.0)


@dataclass(frozen=True)
class DesiredGap:
    """'How it is' and 'how it should be', each on its own base: 'now' is the statement's own
    figure (the same base as everywhere else), 'desired' rests on those who answered it."""

    item_id: str
    current: float  # 0-100, partnership end high
    desired: float
    n_current: int
    n_desired: int


@dataclass(frozen=True)
class ChoiceShares:
    """Single choice: share per option among those who answered (sums to 1). Multiple
    choice: share ticking each option among those who ticked any (may sum above 1)."""

    item_id: str
    n: int
    shares: dict[str, float]


@dataclass(frozen=True)
class Share:
    """A share of people with Wilson's 95 % score interval (0-1). The interval is a function
    of the count and the base alone, both published, so it tells nothing more and is shown at
    any n (unlike a mean's interval, see `shown_interval`)."""

    count: int
    n: int
    share: float
    low: float
    high: float


@dataclass(frozen=True)
class ItemShares:
    """Answers to one statement or mark over the statement's own base (those who answered it,
    the same people as its mean): the count per scale value, and the conventional shares:
    statements the share favourable (the two answers at the partnership end after keying),
    marks the share below 6 ('onvoldoende') and the share 8 or higher; statements also their
    mean on 0-100 (the item figure rescaled; its interval clipped to 0-100)."""

    item_id: str
    n: int
    counts: dict[int, int]  # scale value -> people
    score: Estimate | None = None  # on 0-100, partnership end high (statements), interval within 0-100
    favourable: Share | None = None
    insufficient: Share | None = None
    good: Share | None = None


@dataclass(frozen=True)
class DimensionScore:
    """A group's dimension score (the mean of its published statement figures, 0-100) with
    the people behind it and an interval; see survey/analysis/quality.py for the definitions.
    `n` is the number of people in the group who answered at least one of its statements;
    n and the interval are given only when every statement of the dimension is published for
    the group (they rest on exactly those statements); `favourable` is the mean of the
    statements' shares favourable (0-1), a composite like the score."""

    dimension: str
    mean: float
    n: int | None
    ci_low: float | None
    ci_high: float | None
    favourable: float | None
    parts: int  # statements it is the mean of


@dataclass(frozen=True)
class ItemQuality:
    """One statement or mark of a group (organisation or managers): how often it was
    answered, skipped or answered with 'don't know', and how it fits its dimension."""

    item_id: str
    dimension: str | None
    n_group: int  # people in the group
    n_answered: int
    n_dont_know: int
    n_declined: int  # 'prefer not to say', when the questionnaire offers it
    item_rest: float | None  # over the dimension's complete cases; None when not shown
    flags: tuple[str, ...] = ()  # item_negative, item_weak, missing_high, dont_know_high

    @property
    def n_missing(self) -> int:
        return self.n_group - self.n_answered - self.n_dont_know - self.n_declined


@dataclass(frozen=True)
class DimensionQuality:
    """Reliability of one dimension in one group, on its complete cases (the people who
    answered every statement of it). Values are None when not computable or withheld;
    `reason` then says why, in plain words."""

    dimension: str
    group: str
    n_items: int
    n_complete: int | None
    alpha: float | None
    alpha_ci: tuple[float, float] | None
    omega: float | None
    omega_ci: tuple[float, float] | None
    verdict: str | None  # None (acceptable), "questionable" or "weak"
    flags: tuple[str, ...] = ()  # dimension_weak, dimension_questionable, few_cases, ...
    reason: str = ""
    items: tuple[ItemQuality, ...] = ()


@dataclass(frozen=True)
class DriverWeight:
    """One predictor's part in explaining an outcome within a group (survey/analysis/drivers.py)."""

    predictor: str  # dimension id or situation id
    kind: str  # "dimension" | "pace"
    importance: float  # share of the explained variance, % (the weights of a group add up to 100)
    low: float | None  # 95% bootstrap interval of `importance`; None when fewer than 2k people
    high: float | None
    raw: float  # share of the outcome's variance (the raw weights add up to R^2)
    current: float | None  # the group's published score, 0-100 (pace: 50 + balance / 2)


@dataclass(frozen=True)
class DriverResult:
    """Relative importance of the predictors of one outcome in one group, over the group's
    complete cases (people with the outcome and every predictor)."""

    outcome: str  # derived score id
    n: int  # complete cases
    r_squared: float  # explained variance of the linear model, 0-1
    r_squared_low: float | None
    r_squared_high: float | None
    weights: tuple[DriverWeight, ...]  # most important first
    n_boot: int  # bootstrap resamples used
    seed: int

    @property
    def beats_chance(self) -> bool:
        """Whether the model explains more than chance would: the overall F-test of R² at
        `ALPHA` (the report names nothing to work on first otherwise)."""
        from scipy import stats

        from survey.stats.inference import ALPHA

        predictors, rest = len(self.weights), self.n - len(self.weights) - 1
        if rest <= 0 or predictors == 0 or self.r_squared >= 1:
            return False
        f = (self.r_squared / predictors) / ((1 - self.r_squared) / rest)
        return float(stats.f.sf(f, predictors, rest)) < ALPHA


@dataclass(frozen=True)
class DriverSetup:
    """What the driver analysis looked at, scan-wide (for the methods text)."""

    outcomes: tuple[str, ...]  # derived score ids declared `outcome: true`
    predictors: dict[str, tuple[tuple[str, str], ...]]  # outcome -> ((kind, id), ...)
    min_organisation: int
    min_department: int
    n_boot: int  # resamples asked for (0: the analysis ran without bootstrap)
    refused: dict[str, str] = field(default_factory=dict)  # outcome -> why the organisation has no result


@dataclass(frozen=True)
class Change:
    """A group's change since the previous wave on one score or share (survey/analysis/change.py):
    this wave's shown figure minus the previous wave's figure for the same group, with a 95 %
    interval (independent samples: Welch's width around the shown difference for scores,
    Newcombe's interval for shares). `claimed` is the rule's verdict (Holm over the family of
    its kind). `variable`: 'dim:<name>', 'derived:<id>' or 'pace:<situation>.<brakes|speeds_up>';
    scores on their own scale (0-100 for dimensions), shares as 0-1."""

    variable: str
    group: str
    earlier_wave: str
    now: float
    earlier: float
    n_now: int  # people behind the figure in each wave (scores: those with a score)
    n_earlier: int
    estimate: float  # now - earlier
    low: float | None
    high: float | None
    p: float | None
    p_adjusted: float | None
    claimed: bool
    family: int
    reason: str = ""
    # the organisation's change the test supports but that does not hold with the earlier wave
    # standardised to this wave's department mix: only who answered changed. Not claimed; the
    # (this wave's, shown) departments whose share of respondents moved most, for the report;
    # None: not the case
    composition: tuple[str, ...] | None = None

    def shown(self, threshold: int) -> tuple[float | None, float | None]:
        """The interval as published: a share's interval is a function of published counts
        (shown at any n); a score's only from 2k people in each wave (`shown_interval`)."""
        if self.low is None or self.high is None:
            return None, None
        if self.variable.startswith("pace:"):
            return self.low, self.high
        return shown_interval(Estimate(self.estimate, self.low, self.high, min(self.n_now, self.n_earlier)), threshold)


@dataclass(frozen=True)
class WavePoint:
    """One wave's value of a score or share in a series, with its 95 % interval (None when not
    shown: fewer than 2k people for a score)."""

    wave: str
    value: float
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class LeftOut:
    """What has no change or trend, and why, for the report to name: a score or situation
    whose questions changed (`items`: the changed ones), or a group that cannot be compared
    (merged, split, new, hidden in one wave, or withheld by the disclosure rule)."""

    wave: str  # the earlier wave it concerns
    variable: str | None  # None: the whole group
    group: str | None  # None: every group
    reason: str  # changed | not_in_both | merged | split | new | hidden | withheld | not_computable
    items: tuple[str, ...] = ()  # changed questions; for a group: its name(s) in that wave
    detail: str = ""


@dataclass
class ChangeResult:
    """Change since the previous wave, scan-wide (survey/analysis/change.py)."""

    waves: tuple[str, ...]  # every wave, oldest first, this one last
    previous: str  # the wave changes are measured from
    alpha: float
    families: dict[str, int]  # kind ('scores', 'shares') -> comparisons in its Holm family
    changed_items: dict[str, tuple[str, ...]]  # earlier wave -> questions whose fingerprint changed
    left_out: list[LeftOut] = field(default_factory=list)
    links: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # department -> (continuity, earlier names)
    suppressed: list[Suppression] = field(default_factory=list)  # the earlier waves' decisions
    # earlier wave -> (variable, group key) of every figure of that wave its decision allowed:
    # what the report builder may show of that wave (survey/report/change.py)
    allowed: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    # an earlier wave whose folder is gone: the CLI's warning (waves.yaml and its line); the
    # report names it (LeftOut reason 'missing'); empty when every wave was read
    missing: str = ""


@dataclass
class GroupResult:
    key: str  # department name, ORGANISATION, MANAGERS or OTHERS
    n: int
    expected: int | None = None
    dimensions: dict[str, Estimate] = field(default_factory=dict)
    derived: dict[str, Estimate] = field(default_factory=dict)
    items: dict[str, Estimate] = field(default_factory=dict)  # on the item's own scale; 'x.desired' too
    pace: dict[str, PaceCell] = field(default_factory=dict)
    desired: dict[str, DesiredGap] = field(default_factory=dict)
    choices: dict[str, ChoiceShares] = field(default_factory=dict)
    open_answers: dict[str, list[str]] = field(default_factory=dict)
    members: int = 0  # OTHERS: how many departments it combines
    # survey/analysis/quality.py
    item_shares: dict[str, ItemShares] = field(default_factory=dict)
    dimension_scores: dict[str, DimensionScore] = field(default_factory=dict)
    drivers: dict[str, DriverResult] = field(default_factory=dict)  # outcome id -> relative importance
    # survey/analysis/change.py: since the previous wave, and every wave's value (3+ waves)
    change: dict[str, Change] = field(default_factory=dict)  # variable -> change
    trend: dict[str, tuple[WavePoint, ...]] = field(default_factory=dict)  # variable -> oldest first

    @property
    def response_rate(self) -> float | None:
        return self.n / self.expected if self.expected else None


@dataclass
class BreakdownRow:
    background: str  # background question id
    option: str  # option code
    n: int
    index: Estimate | None  # only without protection (tests of the audit): a crossing figure


@dataclass
class AnalysisResult:
    scan: Scan
    n_responses: int
    n_employees: int
    n_managers: int
    organisation_result: GroupResult
    managers: GroupResult | None
    departments: list[GroupResult]
    hidden: list[HiddenGroup]  # named in the report with their reason
    others: GroupResult | None  # the hidden departments together, when that is publishable
    breakdowns: list[BreakdownRow]
    suppressed: list[Suppression]
    headline: str | None  # derived score id that heads the report, e.g. partnership_index
    register: Register | None = None
    decision: Decision | None = None
    protection: bool = True
    n_unverified: int = 0  # counted responses imported without an issued code (survey import --unverified)
    ids: np.ndarray | None = None  # response id of every position in the analysed frame
    # survey/analysis/quality.py: reliability per dimension, item quality (organisation and
    # managers), in questionnaire order
    reliability: list[DimensionQuality] = field(default_factory=list)
    item_quality: dict[str, list[ItemQuality]] = field(default_factory=dict)  # group key -> items
    claims: Claims | None = None  # which differences the data support (survey/analysis/claims.py)
    drivers: DriverSetup | None = None  # None: the questionnaire declares no outcome
    change: ChangeResult | None = None  # None: no earlier wave (survey/analysis/change.py)
    # (earlier wave's store, figures of its people shown here): recorded there by `publish`
    change_publications: list = field(default_factory=list, repr=False)
    # seconds per step of the analysis (load, core, decision, each subject): for the benchmark
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def questionnaire(self) -> m.Questionnaire:
        return self.scan.questionnaire

    @property
    def hidden_departments(self) -> list[str]:
        return sorted(h.name for h in self.hidden if h.name != MANAGERS)

    @property
    def groups(self) -> list[GroupResult]:
        """Organisation, shown departments, then the combined hidden ones (tables and charts)."""
        return [self.organisation_result] + self.departments + ([self.others] if self.others else [])


def group_label(results: AnalysisResult, key: str) -> str:
    """The name a reader sees for a group, in the scan's language."""
    from survey.i18n import wording

    w = wording(results.scan.language)
    if key == ORGANISATION:
        return w["organisation"]
    if key == MANAGERS:
        return w["managers"]
    if key == OTHERS:
        return w["other_departments"].format(count=results.others.members if results.others else 0)
    return key


GROUP_KINDS = {ORGANISATION: "organisation", MANAGERS: "managers", OTHERS: "combined"}


def shown_interval(e: Estimate, threshold: int) -> tuple[float | None, float | None]:
    """The interval as published. Mean, interval and n together give a group's sum of squares,
    and in a small group that can pin down every answer (with 5 answers on a 1-5 scale it
    often does). So an interval is shown only from twice the threshold of answers, rounded to
    one decimal."""
    if e.n is None or e.ci_low is None or e.ci_high is None or e.n < 2 * threshold \
            or math.isnan(e.ci_low) or math.isnan(e.ci_high):
        return None, None
    return round(e.ci_low, 1), round(e.ci_high, 1)
