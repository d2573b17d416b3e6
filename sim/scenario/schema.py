"""The scenario schema: a validated, immutable description of one front door and its demand.

Every block is a frozen pydantic model; every number a parameter type of sim.scenario.params
(value, unit, plausible range, provenance, source). Validation never runs anything and never
half-builds a scenario: it either returns a `Scenario` or raises `ScenarioError` with one line
naming the field, the value and what is allowed (`validate`). Reading files is in
sim.scenario.loading.

It is also the one place a setting is named for people: each field's title (and description
where useful), and the names of each fixed key set beside its tuple, are what the app, the
command line and docs/model.md show (`setting_title`; `python -m sim docs`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from types import UnionType
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from sim.scenario import changes as dated_changes
from sim.scenario.errors import ScenarioError
from sim.scenario.params import (
    Bool,
    Change,
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

# The fixed key sets of a scenario, each with the plain-English names a reader sees for its
# keys (lower case where they are read inside a sentence). Every label of the app, the command
# line and docs/model.md is built from these and from the fields' titles below.
SOURCES = ("police", "education", "health", "other_agency", "public")
SOURCE_NAMES = {
    "police": "police",
    "education": "education",
    "health": "health",
    "other_agency": "other agencies",
    "public": "the public and families",
}
PARTNER_SOURCES = SOURCES[1:]
CHANNELS = ("phone", "email", "ppn_domestic", "ppn_nondomestic")
CHANNEL_NAMES = {
    "phone": "phone",
    "email": "email",
    "ppn_domestic": "domestic-abuse PPNs",
    "ppn_nondomestic": "other PPNs",
}
ARRIVAL_PROFILES = ("phone", "email", "ppn")
ARRIVAL_PROFILE_NAMES = {
    "phone": "Phone contacts",
    "email": "Emailed contacts",
    "ppn": "Police protection notices",
}
OUTCOMES = ("info_advice", "early_help", "referral", "nfa")
OUTCOME_NAMES = {
    "info_advice": "information and advice",
    "early_help": "early help",
    "referral": "referral",
    "nfa": "no further action",
}
WRITTEN_STREAMS = ("police_ppn_domestic", "police_ppn_nondomestic", "police_other", *PARTNER_SOURCES)
WRITTEN_STREAM_NAMES = {
    "police_ppn_domestic": "police domestic-abuse PPNs",
    "police_ppn_nondomestic": "police non-domestic PPNs",
    "police_other": "other police contacts (calls and emails)",
    **{s: SOURCE_NAMES[s] for s in PARTNER_SOURCES},
}
POOLS = ("csw", "ps", "da_hub", "cotriage")
# a pool's staff, as a heading; inside a sentence ("Utilisation of ..."); and the work it does
POOL_NAMES = {
    "csw": "Consultant social workers",
    "ps": "Practice supervisors and managers",
    "da_hub": "Domestic abuse hub social workers",
    "cotriage": "Police co-triage pairs",
}
POOL_SHORT_NAMES = {
    "csw": "consultant social workers",
    "ps": "practice supervisors",
    "da_hub": "domestic abuse hub",
    "cotriage": "police co-triage",
}
POOL_WORK_NAMES = {
    "csw": "Phone calls (consultant social workers)",
    "ps": "Emails, PPNs, direction (practice supervisors)",
    "da_hub": "Domestic-abuse PPNs (domestic abuse hub)",
    "cotriage": "Police co-triage of other PPNs",
}
POOL_WORK_TEXT = {
    "csw": "phone calls",
    "ps": "emails, PPN screening and management direction",
    "da_hub": "domestic-abuse PPNs",
    "cotriage": "police co-triage",
}
# a pool's establishment, as the number a user turns ("what would it take?" levers)
POOL_POST_NAMES = {
    "csw": "consultant social worker posts",
    "ps": "practice supervisor posts screening",
    "da_hub": "domestic abuse hub social worker posts",
    "cotriage": "police co-triage officer and supervisor pairs",
}
PS_TASKS = ("direction", "ppn", "email")
PS_TASK_NAMES = {"direction": "direction", "ppn": "ppn", "email": "email"}
ASSESSMENT_OUTCOMES = ("closed", "early_help", "child_in_need")
ASSESSMENT_OUTCOME_NAMES = {
    "closed": "closed",
    "early_help": "early help",
    "child_in_need": "child in need plan",
}
CONCERN_SIZES = ("one", "two", "three", "four")
CONCERN_SIZE_NAMES = {
    "one": "one child",
    "two": "two children",
    "three": "three children",
    "four": "four children",
}
RETURN_CATEGORIES = ("info_advice", "early_help", "nfa", "assessment_closed", "child_in_need", "cp_plan")
RETURN_CATEGORY_NAMES = {
    "info_advice": "information and advice",
    "early_help": "early help",
    "nfa": "no further action",
    "assessment_closed": "an assessment closed with no plan",
    "child_in_need": "a child in need plan",
    "cp_plan": "a child protection plan",
}
BACKLOG_ITEMS = (
    "emails_unread",
    "ppns_waiting",
    "domestic_ppns_waiting",
    "assessments_waiting",
    "assessments_in_progress",
    "s47_in_progress",
    "children_on_plans",
)
# the parts of a random duration (sim.scenario.params.Duration), as read after its name
DURATION_PART_NAMES = {
    "mean": "average",
    "cv": "variability (coefficient of variation)",
    "distribution": "shape of its spread",
}
MAX_FILE_BYTES = 1_000_000


def setting(
    title: str,
    description: str | None = None,
    *,
    key_names: Mapping[str, str] | None = None,
    each: str | None = None,
    share_names: Mapping[str, str] | None = None,
    title_elsewhere: str | None = None,
    **limits: Any,
) -> Any:
    """A schema field with its plain-English name, so each label is written once, here.

    `key_names` names the keys of a mapping or of shares held by the field; `each` is how one
    entry of a mapping is called ("Share of {key} contacts made by phone"); `share_names` names
    the keys of the shares inside each entry; `title_elsewhere` is the name of a pool's part
    when the pool is outside the front door (`setting_title`).
    """
    extra = {
        k: v
        for k, v in (
            ("key_names", key_names),
            ("each", each),
            ("share_names", share_names),
            ("title_elsewhere", title_elsewhere),
        )
        if v is not None
    }
    return Field(title=title, description=description, json_schema_extra=extra or None, **limits)


# The most replications one run may ask for (run.reps, and --reps on the command line): beyond
# a few hundred the 95% interval of a monthly measure narrows by little more, and 10,000 of the
# baseline already take hours (about two seconds each on one core of a shared machine).
MAX_REPS = 10_000


class RunSettings(Frozen):
    start: Date = setting("First reported day", "The first day whose measures are reported.")
    end: Date = setting("Last reported day", "The last day whose measures are reported.")
    warmup_days: PositiveScalar = setting(
        "Warm-up simulated before the first reported day",
        "Days simulated before the first reported day, so queues and caseloads are not empty"
        " when reporting starts.",
    )
    cooldown_days: PositiveScalar = setting(
        "Run-on simulated after the last reported day",
        "Days simulated after the last reported day so work arriving late in the period can finish.",
    )
    seed: Int = setting("Random number seed", "The same seed gives the same numbers, run after run.",
                        ge=0, le=2**63 - 1)
    reps: Int = setting(
        "Replications suggested by the file",
        "How many runs with different random numbers the file suggests.",
        ge=1, le=MAX_REPS,
    )
    saturation_queue_days: PositiveScalar = setting(
        "Queue size at the end that counts as saturated",
        "A queue holding more than this many days of its own demand at the end is reported as saturated.",
    )

    @model_validator(mode="after")
    def _order(self) -> RunSettings:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days > 3 * 366:
            raise ValueError(f"a run of {(self.end - self.start).days} days is longer than 3 years")
        return self


class CalendarSettings(Frozen):
    office_open_hour: HourScalar = setting("Office opens")
    office_close_hour: HourScalar = setting("Office closes")
    working_weekdays: tuple[Int, ...] = setting(
        "Working days of the week", "Days of the week the office is open, 0 (Monday) to 6 (Sunday).",
        min_length=1, max_length=7,
    )
    bank_holidays: Literal["england", "none"] = setting("Bank holidays observed")

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
    weekday: WeightVector = setting("pattern over the week", "Relative weights of Monday to Sunday.")
    hour: WeightVector = setting("pattern over the day", "Relative weights of the 24 hours of the day.")
    bank_holiday_factor: PositiveScalar = setting("on a bank holiday, share of a normal day")

    @model_validator(mode="after")
    def _lengths(self) -> ArrivalProfile:
        if len(self.weekday.value) != 7:
            raise ValueError(f"weekday needs 7 weights (Mon..Sun), got {len(self.weekday.value)}")
        if len(self.hour.value) != 24:
            raise ValueError(f"hour needs 24 weights (00..23), got {len(self.hour.value)}")
        return self


class Demand(Frozen):
    contacts_monthly: CountMonthly = setting("Contacts received per month (all sources)")
    police_monthly: CountMonthly = setting("Police contacts per month")
    police_channels: Shares = setting(
        "How police contacts arrive", "Shares of police contacts by channel.", key_names=CHANNEL_NAMES
    )
    partner_sources: Shares = setting(
        "Where non-police contacts come from",
        "Shares of non-police contacts by source.",
        key_names=SOURCE_NAMES,
    )
    partner_phone_share: dict[str, ShareScalar] = setting(
        "Share of each partner's contacts made by phone",
        each="Share of {key} contacts made by phone",
        key_names=SOURCE_NAMES,
    )
    profiles: dict[str, ArrivalProfile] = setting(
        "When contacts arrive",
        "Weights of the week and the day for each channel.",
        each="{key}",
        key_names=ARRIVAL_PROFILE_NAMES,
    )
    out_of_hours_urgent_share: ShareScalar = setting(
        "Share of out-of-hours contacts urgent enough for the emergency duty team",
        "Urgent contacts arriving out of hours are decided by the emergency duty team on arrival;"
        " the rest wait for the office to open.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Demand:
        _same_keys("police_channels", self.police_channels.value, CHANNELS)
        _same_keys("partner_sources", self.partner_sources.value, PARTNER_SOURCES)
        _same_keys("partner_phone_share", self.partner_phone_share, PARTNER_SOURCES)
        _same_keys("profiles", self.profiles, ARRIVAL_PROFILES)
        months = set(self.contacts_monthly.change_months()) | set(self.police_monthly.change_months())
        for m in sorted(months):
            y, mo = int(m[:4]), int(m[5:])
            total, police = self.contacts_monthly.at(y, mo), self.police_monthly.at(y, mo)
            if police > total:
                raise ValueError(f"police_monthly {police} for {m} is more than contacts_monthly {total}")
        if self.police_monthly.default > self.contacts_monthly.default:
            raise ValueError(
                f"police_monthly.default {self.police_monthly.default} is more than"
                f" contacts_monthly.default {self.contacts_monthly.default}"
            )
        return self


class Rota(Frozen):
    """How a front-door pool's posts are rostered: leave in spells booked to keep a minimum
    cover, sickness in spells, and the time away from front-door work as blocks of each day
    (sim/model/rota.py)."""

    two_week_leave_share: ShareScalar = setting(
        "share of leave spells two weeks long",
        "Annual leave is taken in spells of one working week or two; this share are two weeks.",
    )
    min_cover: PositiveScalar = setting(
        "minimum cover kept when leave is booked",
        "Leave is booked so that at least this many filled posts are not on leave on each working"
        " day, wherever the filled posts allow; a day below it is counted and listed.",
    )
    sickness_spell_days: PositiveScalar = setting(
        "average length of a spell of sickness",
        "Working days; a spell ends on any day with probability 1 / this length.",
    )
    away_blocks: PositiveScalar = setting(
        "blocks of the day away from front-door work",
        "Meetings, supervision, training and checks, taken as this many blocks spread through"
        " each working day (each the same length); the productive share sets their total.",
    )
    weekday_weights: WeightVector = setting(
        "front-door time by weekday (Monday to Friday)",
        "Relative productive time on each weekday; the week's total is kept, so more on Monday"
        " means less on the other days.",
    )

    @model_validator(mode="after")
    def _parts(self) -> Rota:
        _whole("away_blocks", self.away_blocks.value, 8)
        if len(self.weekday_weights.value) != 5:
            raise ValueError(f"weekday_weights has {len(self.weekday_weights.value)} entries;"
                             " it needs 5 (Monday to Friday)")
        if self.sickness_spell_days.value < 1:
            raise ValueError(f"sickness_spell_days {self.sickness_spell_days.value} must be at least 1")
        return self


class StaffPool(Frozen):
    establishment: CountMonthly = setting("posts", "Posts in the establishment, month by month.")
    vacancy_rate: ShareMonthly = setting("share of posts vacant")
    leave_rate: ShareMonthly = setting("share of days on annual leave")
    sickness_rate: ShareScalar = setting("share of days off sick")
    productive_share: ShareScalar = setting(
        "share of on-duty time on front-door work",
        "Share of an on-duty member's time spent on this work rather than on other duties.",
        title_elsewhere="share of on-duty time free for this work",
    )


class FrontDoorPool(StaffPool):
    """A front-door pool: a staff pool with its rota (sim/model/rota.py)."""

    rota: Rota = setting(
        "rota", "Leave spells, minimum cover, sickness spells and the day's blocks away.")


class Service(Frozen):
    conversation_minutes: Duration = setting("Length of a phone conversation")
    email_screen_minutes: Duration = setting("Time to screen an emailed contact")
    ppn_screen_minutes: Duration = setting("Time to screen a police protection notice")
    direction_minutes: Duration = setting("Time to record management direction on a referral")
    da_screen_minutes: Duration = setting("Time for the domestic abuse hub to screen a domestic PPN")
    ps_priority: dict[str, Int] = setting(
        "Order practice supervisors take work in (0 first)",
        "Practice supervisors always take the waiting task with the lowest number first.",
        key_names=PS_TASK_NAMES,
    )
    checks_share: ShareScalar = setting(
        "Share of contacts whose decision waits on checks",
        "History checks and speaking with parents for consent before the decision (seed 003,"
        " line 1245); the decision is recorded when they are back. The staff time they take is part"
        " of the productive share; the wait is the time for answers to come back.",
    )
    checks_wait_minutes: Duration = setting(
        "Time for checks to come back",
        "Office minutes from the end of the conversation or screening to the decision.")
    ps_max_wait_hours: dict[str, PositiveScalar] = setting(
        "Longest a supervisor task waits before it is taken first",
        "Office hours; a task waiting longer is taken before any other, the longest-waiting first.",
        each="Longest wait before {key} is taken first",
        key_names=PS_TASK_NAMES,
    )

    @model_validator(mode="after")
    def _prio(self) -> Service:
        _same_keys("ps_priority", self.ps_priority, PS_TASKS)
        _same_keys("ps_max_wait_hours", self.ps_max_wait_hours, PS_TASKS)
        return self


class PPNQuality(Frozen):
    quality: ShareScalar = setting(
        "Quality of police protection notices", "0 is an unusable notice, 1 a fully triaged one."
    )
    reference_quality: ShareScalar = setting(
        "PPN quality that the screening time and outcome shares describe",
        "The file's PPN screening times and outcome shares hold at this quality; at another quality"
        " they are scaled by the settings below.",
    )
    effort_at_zero_quality: PositiveScalar = setting(
        "Screening effort for an unusable PPN",
        "Relative screening effort at quality 0; effort runs in a straight line to the effort at"
        " quality 1, and PPN screening times are scaled by the effort at the scenario's quality over"
        " the effort at the reference quality.",
    )
    effort_at_full_quality: PositiveScalar = setting(
        "Screening effort for a fully triaged PPN",
        "Relative screening effort at quality 1 (see the effort for an unusable PPN).",
    )
    info_advice_effect: ShareScalar = setting(
        "How far better PPNs cut information-and-advice outcomes",
        "For each unit of quality above the reference, the PPN share ending in information and advice"
        " falls by this fraction of itself; the difference ends in no further action.",
    )
    referral_effect: ShareScalar = setting(
        "How far better PPNs cut referrals made to be safe",
        "For each unit of quality above the reference, the PPN share ending in referral falls by this"
        " fraction of itself; the difference ends in no further action.",
    )


class Abandonment(Frozen):
    enabled: Bool = setting("Callers may hang up if not answered")
    patience_minutes: Duration = setting("How long a caller waits before hanging up")
    callback_share: ShareScalar = setting("Share of callers who hang up and call back (the rest email)")
    callback_delay_minutes: Duration = setting("Time before a caller who hung up tries again")
    max_attempts: Int = setting("Calls a caller makes before emailing instead", ge=1, le=20)


class DomesticAbuseHub(Frozen):
    dram_hour: HourScalar = setting("Time of the daily risk assessment meeting (DRAM)")
    dram_minutes: PositiveScalar = setting(
        "Length of the daily risk assessment meeting",
        "Every hub member on duty attends; the meeting is one of the day's blocks away from"
        " screening (its time is part of the hub's productive share).",
    )
    hold_for_dram: Bool = setting(
        "Domestic PPNs wait for the meeting before screening",
        "true: a domestic PPN is screened only after the next DRAM (one that arrives after the"
        " meeting waits for the next day's); false: the hub screens domestic PPNs as they arrive"
        " and the meeting reviews the previous 24 hours' notifications.",
    )


class Overtime(Frozen):
    enabled: Bool = setting("Overtime when the morning queue is over the trigger")
    hours_per_day: PositiveScalar = setting(
        "Overtime a supervisor may work on a triggered day",
        "Hours after the close, worked while supervisor work is waiting.")
    cap_hours_per_week: PositiveScalar = setting(
        "Most overtime a supervisor works in a week", "Hours a person a week (Monday to Friday).")


class LentStaff(Frozen):
    enabled: Bool = setting("Consultant social workers screen emails on a triggered day")
    posts: PositiveScalar = setting(
        "Consultant social workers moved to screening for the day, at most",
        "Only while the consultant social workers left on the phones keep their minimum cover.")
    cap_days_per_week: PositiveScalar = setting(
        "Most triggered days a week consultant social workers are moved to screening",
        "Working days a week (Monday to Friday).")


class ManagerScreening(Frozen):
    enabled: Bool = setting("A team manager screens on a triggered day")
    hours_per_day: PositiveScalar = setting("Hours the team manager screens on a triggered day")
    cap_hours_per_week: PositiveScalar = setting("Most hours the team manager screens in a week")


class MorningTriage(Frozen):
    enabled: Bool = setting(
        "Team manager's start-of-day triage of what arrived out of hours",
        "At each opening the team manager reads the written contacts that arrived since the last"
        " close: would-be referrals go to the front of the supervisors' queue, and a share of those"
        " ending in advice or no further action are closed at triage.",
    )
    minutes_per_item: PositiveScalar = setting("Team manager's time to triage one contact")
    cap_hours_per_day: PositiveScalar = setting("Most time the team manager spends on the triage a day")
    closed_share: ShareScalar = setting(
        "Share of advice or no-action contacts closed at triage",
        "Of the contacts triaged that end in information and advice or no further action.")


class Response(Frozen):
    """What the service does when supervisor work piles up, and the team manager's daily triage."""

    trigger_items: PositiveScalar = setting(
        "Supervisor queue at the morning opening that triggers a response",
        "Contacts waiting for a practice supervisor (screening or direction) at the opening.")
    overtime: Overtime = setting("Overtime")
    lent_csws: LentStaff = setting("Consultant social workers moved to screening")
    manager_screening: ManagerScreening = setting("Team manager screening")
    morning_triage: MorningTriage = setting("Morning triage")


class CoTriageEffects(Frozen):
    referral_to_advice: ShareScalar = setting(
        "Share of co-triaged PPNs' referrals that become advice",
        "Of the non-domestic PPNs co-triaged that would have become referrals (risk could not be"
        " judged from the notice alone), the share the officer's knowledge of the incident turns"
        " into information and advice, closed with advice to police. 0: co-triage changes no outcome.",
    )


class CoTriage(Frozen):
    enabled: Bool = setting(
        "Police co-triage of non-domestic PPNs",
        "From its start date, non-domestic PPNs go to an officer and practice supervisor first.",
    )
    start: DateParam = setting("Date police co-triage starts")
    minutes: Duration = setting("Length of a police co-triage discussion")
    closed_share: ShareScalar = setting("Share of advice or no-action PPNs settled at co-triage")
    screen_effort_after: ShareScalar = setting(
        "Screening effort still needed after co-triage",
        "A share of the standard screening effort of a PPN that co-triage did not settle.",
    )
    supervisors_from_ps_pool: Bool = setting(
        "Co-triage supervisors come from the practice supervisors",
        "If so, a pair forms on a day only when an officer and a practice supervisor are both on"
        " duty, and the pair's supervisor works the ordinary supervisor queue whenever no PPN waits"
        " for the pair; if not, the pair's supervisor comes from outside the front-door team.",
    )
    days_not_covered: ShareScalar = setting(
        "Share of working days with no officer in the room",
        "Days the police do not cover at all (abstraction to operational duty, shift patterns),"
        " over and above each officer's own leave, sickness and other duties.",
    )
    outcome_effects: CoTriageEffects = setting("What police knowledge in the room changes")


class Outcomes(Frozen):
    written: dict[str, Shares] = setting(
        "Outcomes of written contacts",
        "Shares of outcomes of emailed contacts and PPNs, by stream.",
        each="Outcomes of written contacts from {key}",
        key_names=WRITTEN_STREAM_NAMES,
        share_names=OUTCOME_NAMES,
    )
    conversation_referral_ratio: PositiveScalar = setting(
        "Chance of referral after a conversation, relative to the same contact written",
        "A phone contact's share ending in referral is the same contact's written share times this.",
    )

    @model_validator(mode="after")
    def _streams(self) -> Outcomes:
        _same_keys("written", self.written, WRITTEN_STREAMS)
        for k, s in self.written.items():
            _same_keys(f"written.{k}", s.value, OUTCOMES)
        return self


class StrategyMeetings(Frozen):
    chairs: StaffPool = setting("Strategy meeting chairs")
    meetings_per_chair_per_day: SessionsPerDayScalar = setting("Strategy meetings a chair holds a day")
    injury_share: ShareScalar = setting("Share of strategy meetings about an injury")
    injury_lead_hours: Duration = setting("Time from referral decision to a strategy meeting about an injury")
    target_hours: PositiveScalar = setting("Strategy meeting target (hours)")
    injury_target_hours: PositiveScalar = setting("Strategy meeting target for an injury (hours)")
    clock: Literal["working_days", "office_hours", "calendar"] = setting(
        "Clock the strategy meeting target runs on"
    )


class Enquiries(Frozen):
    working_days: Duration = setting("Length of an S47 enquiry")
    # how long before the start an S47 enquiry declared open (backlog.s47_in_progress) had its
    # strategy meeting: uniform from 0 up to this many working days
    backlog_age_working_days: PositiveScalar = setting(
        "Oldest age of an S47 enquiry open at the start (working days)",
        "An enquiry declared open at the start had its strategy meeting from 0 up to this many"
        " working days before.",
    )


class Conferences(Frozen):
    share_of_s47: ShareScalar = setting("Share of S47 enquiries asking for a child protection conference")
    notice_working_days: PositiveScalar = setting("Notice needed to hold a child protection conference")
    target_working_days: PositiveScalar = setting("Child protection conference target (working days)")
    chairs: StaffPool = setting("Child protection conference chairs")
    conferences_per_chair_per_day: SessionsPerDayScalar = setting(
        "Child protection conferences a chair holds a day"
    )
    plan_share: ShareScalar = setting("Share of conferences leading to a child protection plan")
    plan_months: Duration = setting("Length of a child protection plan")


class Assessments(Frozen):
    share_of_referrals: ShareScalar = setting("Share of referrals getting a child and family assessment")
    team: StaffPool = setting("Assessment social workers")
    caseload_limit: PositiveScalar = setting("Assessments a social worker holds at once (at most)")
    hours_per_day: PositiveScalar = setting("Hours a social worker has for assessments each day")
    work_hours: Duration = setting("Work in a child and family assessment")
    max_hours_per_day: PositiveScalar = setting("Hours a day one assessment can take (at most)")
    target_working_days: PositiveScalar = setting("Assessment target (working days)")
    outcomes: Shares = setting("How assessments end", key_names=ASSESSMENT_OUTCOME_NAMES)
    child_in_need_months: Duration = setting("Length of a child in need plan")
    # how long before the start an assessment declared in progress (backlog.assessments_in_progress)
    # was referred: uniform from 0 up to this many working days
    backlog_age_working_days: PositiveScalar = setting(
        "Oldest age of an assessment under way at the start (working days)",
        "An assessment declared under way at the start was referred from 0 up to this many"
        " working days before.",
    )

    @model_validator(mode="after")
    def _outcomes(self) -> Assessments:
        _same_keys("outcomes", self.outcomes.value, ASSESSMENT_OUTCOMES)
        if self.max_hours_per_day.value <= 0 or self.hours_per_day.value <= 0:
            raise ValueError("hours_per_day and max_hours_per_day must be above 0")
        return self


class Downstream(Frozen):
    strategy_share_of_referrals: ShareScalar = setting("Share of referrals going to a strategy meeting")
    strategy_delay_hours: Duration = setting(
        "Time to gather partners before a strategy meeting can be held (from the referral decision;"
        " the meeting is then held at the first free chair's slot)"
    )
    s47_share_of_strategy: ShareScalar = setting("Share of strategy meetings leading to an S47 enquiry")
    s47_delay_hours: Duration = setting("Time from strategy meeting to start of the S47 enquiry")
    strategy_meetings: StrategyMeetings = setting("Strategy meetings")
    s47: Enquiries = setting("S47 enquiries")
    icpc: Conferences = setting("Initial child protection conferences")
    assessments: Assessments = setting("Child and family assessments")


class ReturnShares(Frozen):
    return_share: ShareScalar = setting("share of families who come back")
    referral_share: ShareScalar = setting("share of those who come back as a referral")


class HistoryEffects(Frozen):
    """How a family's earlier episodes change what happens to it next (sim/model/pathway.py)."""

    prior_plan_share: ShareScalar = setting(
        "Families with a plan before the history window",
        "Share of families first seen in the model's history whose children had"
        " already been on a child protection plan before it.",
    )
    plan_strategy_odds: PositiveScalar = setting(
        "Strategy meeting odds after a plan",
        "Odds ratio of a strategy meeting for a referred child who has been on a"
        " child protection plan before.",
    )
    plan_s47_odds: PositiveScalar = setting(
        "S47 enquiry odds after a plan",
        "Odds ratio of an S47 enquiry after the strategy meeting for a child who has"
        " been on a plan before.",
    )
    plan_icpc_odds: PositiveScalar = setting(
        "Conference odds after a plan",
        "Odds ratio of an initial child protection conference after the S47 enquiry"
        " for a child who has been on a plan before.",
    )
    soon_return_days: PositiveScalar = setting(
        "A soon return",
        "Days from the end of an episode within which a family coming back counts"
        " as coming back soon.",
    )
    soon_referral_odds: PositiveScalar = setting(
        "Referral odds of a soon return",
        "Odds ratio that a family coming back soon comes back as a referral rather"
        " than another contact; later returns are lowered to keep the stated shares.",
    )


class Children(Frozen):
    history_months: PositiveScalar = setting(
        "Months of history simulated before the run",
        "Earlier concerns are generated for this many months so re-referrals can be counted from the start.",
    )
    concern_size: Shares = setting("Children named in one concern", key_names=CONCERN_SIZE_NAMES)
    return_gap_days: Duration = setting("Time before a family comes back to the front door")
    returns: dict[str, ReturnShares] = setting(
        "Families who come back",
        "By how a family's last concern ended.",
        each="After {key}",
        key_names=RETURN_CATEGORY_NAMES,
    )
    history_effects: HistoryEffects | None = setting(
        "Effects of a family's history",
        "How earlier episodes change the pathway and returns; none: the pathway ignores history.",
        default=None,
    )

    @model_validator(mode="after")
    def _keys(self) -> Children:
        _same_keys("concern_size", self.concern_size.value, CONCERN_SIZES)
        _same_keys("returns", self.returns, RETURN_CATEGORIES)
        _whole("history_months", self.history_months.value, 60)
        return self


class Backlog(Frozen):
    """Work already open when the simulation starts (counts)."""

    emails_unread: PositiveScalar = setting("Open at the start: emailed contacts unread")
    ppns_waiting: PositiveScalar = setting("Open at the start: non-domestic PPNs waiting")
    domestic_ppns_waiting: PositiveScalar = setting("Open at the start: domestic-abuse PPNs waiting")
    assessments_waiting: PositiveScalar = setting(
        "Open at the start: assessments waiting for a social worker"
    )
    assessments_in_progress: PositiveScalar = setting("Open at the start: assessments under way")
    s47_in_progress: PositiveScalar = setting("Open at the start: S47 enquiries under way")
    children_on_plans: PositiveScalar = setting("Open at the start: children on child protection plans")

    @model_validator(mode="after")
    def _counts(self) -> Backlog:
        for name in BACKLOG_ITEMS:
            _whole(name, getattr(self, name).value, 100_000)
        return self


def _whole(field: str, value: float, most: float) -> None:
    if value != int(value) or not 0 <= value <= most:
        raise ValueError(f"{field} {value} must be a whole number from 0 to {most:g}")


class Scenario(Frozen):
    name: str = setting("Scenario name", "Used on charts and in comparisons.", min_length=1, max_length=80)
    description: str = setting("Description", default="")
    run: RunSettings = setting("Run period")
    calendar: CalendarSettings = setting("Office hours and calendar")
    demand: Demand = setting("Demand and channels")
    staff: dict[str, FrontDoorPool] = setting("Staffing", each="{key}", key_names=POOL_NAMES)
    service: Service = setting("Task times")
    ppn: PPNQuality = setting("PPN quality")
    abandonment: Abandonment = setting("Callers who hang up")
    da_hub: DomesticAbuseHub = setting("Domestic abuse hub")
    cotriage: CoTriage = setting("Police co-triage")
    response: Response = setting("Management response to a backlog")
    outcomes: Outcomes = setting("Outcomes of contacts")
    downstream: Downstream = setting("After a referral")
    children: Children = setting("Children and families")
    backlog: Backlog = setting("Work open at the start")
    changes: tuple[Change, ...] = setting(
        "Dated changes",
        "Settings that take a new value from a date, or move to it between two dates"
        " (sim/scenario/changes.py).", default=(), max_length=200)

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

    @model_validator(mode="after")
    def _dated_changes(self) -> Scenario:
        if self.changes:
            dated_changes.check(self, validate)
        return self

    def with_run(self, **changes: Any) -> Scenario:
        """A copy with run settings changed (validated again)."""
        data = self.model_dump(mode="python")
        data["run"].update(changes)
        return validate(data)


# Blocks whose fields are parts of one thing, each named after it ("Consultant social workers: posts").
_PART_MODELS: tuple[type[BaseModel], ...] = (StaffPool, FrontDoorPool, Rota, ArrivalProfile, ReturnShares)


def _unwrapped(annotation: Any) -> Any:
    """The type inside Annotated[...] (a mapping's values keep their validators there), or
    inside `X | None` (a block a scenario may leave out)."""
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0]
    if get_origin(annotation) is UnionType:
        kinds = [a for a in get_args(annotation) if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


def _human(word: str) -> str:
    return word.replace("_", " ")


def _named(path: Sequence[str]) -> tuple[str, str]:
    """The title and description of the setting at `path` (see `setting_title`)."""
    p = tuple(str(x) for x in path)
    node: Any = Scenario
    text = description = ""
    names: Mapping[str, str] = {}
    each: str | None = None
    share_names: Mapping[str, str] = {}
    for seg in p:
        if get_origin(node) is dict:
            name = names.get(seg, _human(seg))
            text = each.format(key=name) if each else f"{text}: {name}"
            node, names, each, share_names = _unwrapped(get_args(node)[1]), share_names, None, {}
            continue
        is_model = isinstance(node, type) and issubclass(node, BaseModel)
        info = node.model_fields.get(seg) if is_model and seg not in names else None
        if info is None:
            text = f"{text}: {names.get(seg, _human(seg))}" if text else _human(seg).capitalize()
            node, names, each, share_names = None, {}, None, {}
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if node is Duration:
            title = DURATION_PART_NAMES.get(seg, _human(seg))
        elif node is StaffPool and p[0] != "staff":
            title = str(extra.get("title_elsewhere", info.title))
        else:
            title = info.title or _human(seg)
        part = node is Duration or node in _PART_MODELS or info.title is None
        text = f"{text}: {title}" if part and text else title
        if info.title is not None:
            description = info.description or ""
        names = extra.get("key_names", {})  # type: ignore[assignment]
        each = extra.get("each")  # type: ignore[assignment]
        share_names = extra.get("share_names", {})  # type: ignore[assignment]
        node = _unwrapped(info.annotation)
    return text, description


def setting_title(path: Sequence[str]) -> str:
    """The plain-English name of the setting at `path` in a scenario document, from the titles.

    A field's title names it (the blocks around it are headings, not part of the name); a part
    of a staff pool, arrival profile or return, or of a random duration, is named after its
    whole; an entry of a mapping or a share by its key set's names. A path the schema does not
    know is named by its words, so a label never fails.
    """
    return _named(path)[0]


def setting_description(path: Sequence[str]) -> str:
    """What the setting at `path` means, in a sentence ("" where its title says it all)."""
    return _named(path)[1]


def _same_keys(field: str, got: Any, expected: tuple[str, ...]) -> None:
    if set(got) != set(expected):
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        raise ValueError(
            f"{field} must name exactly {list(expected)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; not allowed {extra}" if extra else "")
        )


def _change_label(doc: Any, loc: tuple) -> str | None:
    """A dated change's entry as its own checks name it ("changes.1 (ppn.quality from ...)")."""
    if len(loc) < 2 or loc[0] != "changes" or not isinstance(loc[1], int) or not isinstance(doc, Mapping):
        return None
    entries = doc.get("changes")
    entry = entries[loc[1]] if isinstance(entries, Sequence) and loc[1] < len(entries) else None
    if not isinstance(entry, Mapping) or not isinstance(entry.get("setting"), str):
        return None
    name = "".join(c for c in entry["setting"][:60] if c.isprintable())
    when = f" from {entry['from_date']}" if isinstance(entry.get("from_date"), str | date) else ""
    rest = ".".join(str(p) for p in loc[2:])
    return f"changes.{loc[1]} ({name}{when})" + (f".{rest}" if rest else "")


def format_error(exc: ValidationError, origin: str = "scenario", doc: Any = None) -> str:
    """One line: the field path, the value given, and what is allowed."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = _change_label(doc, tuple(err["loc"])) or ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "value_error" and not err["loc"] and msg.startswith("changes."):
        line = f"{origin}: {msg}"  # a dated change's check names its entry itself
    elif err["type"] == "extra_forbidden":
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
        raise ScenarioError(format_error(exc, origin, doc)) from None
