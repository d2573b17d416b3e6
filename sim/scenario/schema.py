"""The scenario schema: a validated, immutable description of one front door and its demand.

Every block is a frozen pydantic model; every number a parameter type of sim.scenario.params
(value, unit, plausible range, provenance, source). Validation never runs anything and never
half-builds a scenario: it either returns a `Scenario` or raises `ScenarioError` with one line
naming the field, the value and what is allowed (`validate`). Reading files is in
sim.scenario.loading.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from sim.scenario.params import (
    Bool,
    CountMonthly,
    Date,
    DateParam,
    Duration,
    Frozen,
    HourScalar,
    Int,
    PositiveScalar,
    SessionsPerDayScalar,
    ShareMonthly,
    Shares,
    ShareScalar,
    WeightVector,
)

SOURCES = ("police", "education", "health", "other_agency", "public")
PARTNER_SOURCES = SOURCES[1:]
CHANNELS = ("phone", "email", "ppn_domestic", "ppn_nondomestic")
OUTCOMES = ("info_advice", "early_help", "referral", "nfa")
POOLS = ("csw", "ps", "da_hub", "cotriage")
ASSESSMENT_OUTCOMES = ("closed", "early_help", "child_in_need")
CONCERN_SIZES = ("one", "two", "three", "four")
RETURN_CATEGORIES = ("info_advice", "early_help", "nfa", "assessment_closed", "child_in_need", "cp_plan")
BACKLOG_ITEMS = ("emails_unread", "ppns_waiting", "domestic_ppns_waiting", "assessments_waiting",
                 "assessments_in_progress", "s47_in_progress", "children_on_plans")
MAX_FILE_BYTES = 1_000_000


class ScenarioError(ValueError):
    """A scenario that cannot be used, with a one-line reason naming the field."""


# The most replications one run may ask for (run.reps, and --reps on the command line): beyond
# a few hundred the 95% interval of a monthly measure narrows by little more, and 10,000 of the
# baseline already take hours (about two seconds each on one core of a shared machine).
MAX_REPS = 10_000


class RunSettings(Frozen):
    start: Date
    end: Date
    warmup_days: PositiveScalar
    cooldown_days: PositiveScalar
    seed: Int = Field(ge=0, le=2**63 - 1)
    reps: Int = Field(ge=1, le=MAX_REPS)
    saturation_queue_days: PositiveScalar

    @model_validator(mode="after")
    def _order(self) -> RunSettings:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days > 3 * 366:
            raise ValueError(f"a run of {(self.end - self.start).days} days is longer than 3 years")
        return self


class CalendarSettings(Frozen):
    office_open_hour: HourScalar
    office_close_hour: HourScalar
    working_weekdays: tuple[Int, ...] = Field(min_length=1, max_length=7)
    bank_holidays: Literal["england", "none"]

    @model_validator(mode="after")
    def _hours(self) -> CalendarSettings:
        if self.office_close_hour.value <= self.office_open_hour.value:
            raise ValueError(
                f"office_close_hour {self.office_close_hour.value} must be after"
                f" office_open_hour {self.office_open_hour.value}"
            )
        bad = [d for d in self.working_weekdays if not 0 <= d <= 6]
        if bad or len(set(self.working_weekdays)) != len(self.working_weekdays):
            raise ValueError(
                f"working_weekdays {list(self.working_weekdays)} must be distinct days 0 (Mon) to 6"
            )
        return self


class ArrivalProfile(Frozen):
    weekday: WeightVector
    hour: WeightVector
    bank_holiday_factor: PositiveScalar

    @model_validator(mode="after")
    def _lengths(self) -> ArrivalProfile:
        if len(self.weekday.value) != 7:
            raise ValueError(f"weekday needs 7 weights (Mon..Sun), got {len(self.weekday.value)}")
        if len(self.hour.value) != 24:
            raise ValueError(f"hour needs 24 weights (00..23), got {len(self.hour.value)}")
        return self


class Demand(Frozen):
    contacts_monthly: CountMonthly
    police_monthly: CountMonthly
    police_channels: Shares
    partner_sources: Shares
    partner_phone_share: dict[str, ShareScalar]
    profiles: dict[str, ArrivalProfile]
    out_of_hours_urgent_share: ShareScalar

    @model_validator(mode="after")
    def _consistent(self) -> Demand:
        _same_keys("police_channels", self.police_channels.value, CHANNELS)
        _same_keys("partner_sources", self.partner_sources.value, PARTNER_SOURCES)
        _same_keys("partner_phone_share", self.partner_phone_share, PARTNER_SOURCES)
        _same_keys("profiles", self.profiles, ("phone", "email", "ppn"))
        months = set(self.contacts_monthly.value) | set(self.police_monthly.value)
        for m in sorted(months):
            y, mo = int(m[:4]), int(m[5:])
            total, police = self.contacts_monthly.at(y, mo), self.police_monthly.at(y, mo)
            if police > total:
                raise ValueError(
                    f"police_monthly {police} for {m} is more than contacts_monthly {total}"
                )
        if self.police_monthly.default > self.contacts_monthly.default:
            raise ValueError(
                f"police_monthly.default {self.police_monthly.default} is more than"
                f" contacts_monthly.default {self.contacts_monthly.default}"
            )
        return self


class StaffPool(Frozen):
    establishment: CountMonthly
    vacancy_rate: ShareMonthly
    leave_rate: ShareMonthly
    sickness_rate: ShareScalar
    productive_share: ShareScalar


class Service(Frozen):
    conversation_minutes: Duration
    email_screen_minutes: Duration
    ppn_screen_minutes: Duration
    direction_minutes: Duration
    da_screen_minutes: Duration
    ps_priority: dict[str, Int]

    @model_validator(mode="after")
    def _prio(self) -> Service:
        _same_keys("ps_priority", self.ps_priority, ("direction", "ppn", "email"))
        return self


class PPNQuality(Frozen):
    quality: ShareScalar
    reference_quality: ShareScalar
    effort_at_zero_quality: PositiveScalar
    effort_at_full_quality: PositiveScalar
    info_advice_effect: ShareScalar
    referral_effect: ShareScalar


class Abandonment(Frozen):
    enabled: Bool
    patience_minutes: Duration
    callback_share: ShareScalar
    callback_delay_minutes: Duration
    max_attempts: Int = Field(ge=1, le=20)


class DomesticAbuseHub(Frozen):
    dram_hour: HourScalar


class CoTriage(Frozen):
    enabled: Bool
    start: DateParam
    minutes: Duration
    closed_share: ShareScalar
    screen_effort_after: ShareScalar
    supervisors_from_ps_pool: Bool


class Outcomes(Frozen):
    written: dict[str, Shares]
    conversation_referral_ratio: PositiveScalar

    @model_validator(mode="after")
    def _streams(self) -> Outcomes:
        keys = ("police_ppn_domestic", "police_ppn_nondomestic", "police_other", *PARTNER_SOURCES)
        _same_keys("written", self.written, keys)
        for k, s in self.written.items():
            _same_keys(f"written.{k}", s.value, OUTCOMES)
        return self


class StrategyMeetings(Frozen):
    chairs: StaffPool
    meetings_per_chair_per_day: SessionsPerDayScalar
    injury_share: ShareScalar
    injury_lead_hours: Duration
    target_hours: PositiveScalar
    injury_target_hours: PositiveScalar
    clock: Literal["working_days", "office_hours", "calendar"]


class Enquiries(Frozen):
    working_days: Duration
    # how long before the start an S47 enquiry declared open (backlog.s47_in_progress) had its
    # strategy meeting: uniform from 0 up to this many working days
    backlog_age_working_days: PositiveScalar


class Conferences(Frozen):
    share_of_s47: ShareScalar
    notice_working_days: PositiveScalar
    target_working_days: PositiveScalar
    chairs: StaffPool
    conferences_per_chair_per_day: SessionsPerDayScalar
    plan_share: ShareScalar
    plan_months: Duration


class Assessments(Frozen):
    share_of_referrals: ShareScalar
    team: StaffPool
    caseload_limit: PositiveScalar
    hours_per_day: PositiveScalar
    work_hours: Duration
    max_hours_per_day: PositiveScalar
    target_working_days: PositiveScalar
    outcomes: Shares
    child_in_need_months: Duration
    # how long before the start an assessment declared in progress (backlog.assessments_in_progress)
    # was referred: uniform from 0 up to this many working days
    backlog_age_working_days: PositiveScalar

    @model_validator(mode="after")
    def _outcomes(self) -> Assessments:
        _same_keys("outcomes", self.outcomes.value, ASSESSMENT_OUTCOMES)
        if self.max_hours_per_day.value <= 0 or self.hours_per_day.value <= 0:
            raise ValueError("hours_per_day and max_hours_per_day must be above 0")
        return self


class Downstream(Frozen):
    strategy_share_of_referrals: ShareScalar
    strategy_delay_hours: Duration
    s47_share_of_strategy: ShareScalar
    s47_delay_hours: Duration
    strategy_meetings: StrategyMeetings
    s47: Enquiries
    icpc: Conferences
    assessments: Assessments


class ReturnShares(Frozen):
    return_share: ShareScalar
    referral_share: ShareScalar


class HistoryEffects(Frozen):
    """How a family's earlier episodes change what happens to it next (sim/model/pathway.py)."""

    prior_plan_share: ShareScalar = Field(
        title="Families with a plan before the history window",
        description="Share of families first seen in the model's history whose children had"
                    " already been on a child protection plan before it.")
    plan_strategy_odds: PositiveScalar = Field(
        title="Strategy meeting odds after a plan",
        description="Odds ratio of a strategy meeting for a referred child who has been on a"
                    " child protection plan before.")
    plan_s47_odds: PositiveScalar = Field(
        title="S47 enquiry odds after a plan",
        description="Odds ratio of an S47 enquiry after the strategy meeting for a child who has"
                    " been on a plan before.")
    plan_icpc_odds: PositiveScalar = Field(
        title="Conference odds after a plan",
        description="Odds ratio of an initial child protection conference after the S47 enquiry"
                    " for a child who has been on a plan before.")
    soon_return_days: PositiveScalar = Field(
        title="A soon return",
        description="Days from the end of an episode within which a family coming back counts"
                    " as coming back soon.")
    soon_referral_odds: PositiveScalar = Field(
        title="Referral odds of a soon return",
        description="Odds ratio that a family coming back soon comes back as a referral rather"
                    " than another contact; later returns are lowered to keep the stated shares.")


class Children(Frozen):
    history_months: PositiveScalar
    concern_size: Shares
    return_gap_days: Duration
    returns: dict[str, ReturnShares]
    history_effects: HistoryEffects | None = Field(
        default=None, title="Effects of a family's history",
        description="How earlier episodes change the pathway and returns; none: the pathway"
                    " ignores history.")

    @model_validator(mode="after")
    def _keys(self) -> Children:
        _same_keys("concern_size", self.concern_size.value, CONCERN_SIZES)
        _same_keys("returns", self.returns, RETURN_CATEGORIES)
        _whole("history_months", self.history_months.value, 60)
        return self


class Backlog(Frozen):
    """Work already open when the simulation starts (counts)."""

    emails_unread: PositiveScalar
    ppns_waiting: PositiveScalar
    domestic_ppns_waiting: PositiveScalar
    assessments_waiting: PositiveScalar
    assessments_in_progress: PositiveScalar
    s47_in_progress: PositiveScalar
    children_on_plans: PositiveScalar

    @model_validator(mode="after")
    def _counts(self) -> Backlog:
        for name in BACKLOG_ITEMS:
            _whole(name, getattr(self, name).value, 100_000)
        return self


def _whole(field: str, value: float, most: float) -> None:
    if value != int(value) or not 0 <= value <= most:
        raise ValueError(f"{field} {value} must be a whole number from 0 to {most:g}")


class Scenario(Frozen):
    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    run: RunSettings
    calendar: CalendarSettings
    demand: Demand
    staff: dict[str, StaffPool]
    service: Service
    ppn: PPNQuality
    abandonment: Abandonment
    da_hub: DomesticAbuseHub
    cotriage: CoTriage
    outcomes: Outcomes
    downstream: Downstream
    children: Children
    backlog: Backlog

    @field_validator("name")
    @classmethod
    def _printable_name(cls, name: str) -> str:
        # the name is printed on terminals and pages: no escape sequences, line breaks or tabs
        bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
        if bad:
            raise ValueError(f"a name is one line of printable text; it holds {bad[0]!r}")
        return name

    @model_validator(mode="after")
    def _pools(self) -> Scenario:
        _same_keys("staff", self.staff, POOLS)
        return self

    def with_run(self, **changes: Any) -> Scenario:
        """A copy with run settings changed (validated again)."""
        data = self.model_dump(mode="python")
        data["run"].update(changes)
        return validate(data)


def _same_keys(field: str, got: Any, expected: tuple[str, ...]) -> None:
    if set(got) != set(expected):
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        raise ValueError(
            f"{field} must name exactly {list(expected)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; not allowed {extra}" if extra else "")
        )


def format_error(exc: ValidationError, origin: str = "scenario") -> str:
    """One line: the field path, the value given, and what is allowed."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        line = f"{origin}: {loc}: unknown setting (check the spelling; it is not in the schema)"
    elif err["type"] == "missing":
        line = f"{origin}: {loc}: required setting is missing"
    else:
        val = err.get("input")
        if isinstance(val, dict) and "value" in val:
            shown = f"value {val['value']!r}"
        elif isinstance(val, dict | list):
            shown = f"a {type(val).__name__} of {len(val)} entries"
        else:
            shown = repr(val)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        line = f"{origin}: {loc}: got {shown}; {msg}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line


def validate(doc: dict, origin: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        raise ScenarioError(format_error(exc, origin)) from None
