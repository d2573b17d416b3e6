"""Every setting of a scenario in plain English, and edits applied to a scenario document.

A scenario document is the dict form of `sim.scenario.schema.Scenario` (its `model_dump(mode="json")`).
The app never edits it in place: it keeps the document as loaded plus a mapping of edits
(path -> new value), so "what did I change?" always has an exact answer, the changes can be
reset, and the assumptions table and workbook can say what was changed and from what.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from sim.scenario.paths import PathError, assign, get

Path_ = tuple[str, ...]

# The app's names for the pieces of a scenario (never shown as variable names).
ROLES = {"csw": "Consultant social workers", "ps": "Practice supervisors and managers",
         "da_hub": "Domestic abuse hub social workers", "cotriage": "Police co-triage pairs"}
SOURCES = {"police": "police", "education": "education", "health": "health",
           "other_agency": "other agencies", "public": "the public and families"}
CHANNELS = {"phone": "phone", "email": "email", "ppn_domestic": "domestic-abuse PPNs",
            "ppn_nondomestic": "other PPNs"}
PROFILES = {"phone": "Phone contacts", "email": "Emailed contacts", "ppn": "Police protection notices"}
STREAMS = {"police_ppn_domestic": "police domestic-abuse PPNs",
           "police_ppn_nondomestic": "police non-domestic PPNs",
           "police_other": "other police contacts (calls and emails)",
           "education": "education", "health": "health", "other_agency": "other agencies",
           "public": "the public and families"}
OUTCOME_NAMES = {"info_advice": "information and advice", "early_help": "early help",
                 "referral": "referral", "nfa": "no further action"}
OTHER_SHARE_NAMES = {"closed": "closed", "child_in_need": "child in need plan", "one": "one child",
                     "two": "two children", "three": "three children", "four": "four children"}
SHARE_KEY_NAMES = {**CHANNELS, **SOURCES, **OUTCOME_NAMES, **OTHER_SHARE_NAMES}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

STAFF_FIELDS = {"establishment": "posts", "vacancy_rate": "share of posts vacant",
                "leave_rate": "share of days on annual leave",
                "sickness_rate": "share of days off sick",
                "productive_share": "share of on-duty time on front-door work"}
_SM, _CP, _AS = (("downstream", "strategy_meetings"), ("downstream", "icpc"),
                 ("downstream", "assessments"))
DURATIONS = {
    ("service", "conversation_minutes"): "Length of a phone conversation",
    ("service", "email_screen_minutes"): "Time to screen an emailed contact",
    ("service", "ppn_screen_minutes"): "Time to screen a police protection notice",
    ("service", "direction_minutes"): "Time to record management direction on a referral",
    ("service", "da_screen_minutes"): "Time for the domestic abuse hub to screen a domestic PPN",
    ("abandonment", "patience_minutes"): "How long a caller waits before hanging up",
    ("abandonment", "callback_delay_minutes"): "Time before a caller who hung up tries again",
    ("cotriage", "minutes"): "Length of a police co-triage discussion",
    ("downstream", "strategy_delay_hours"):
        "Time to gather partners before a strategy meeting can be held (from the referral decision;"
        " the meeting is then held at the first free chair's slot)",
    ("downstream", "s47_delay_hours"): "Time from strategy meeting to start of the S47 enquiry",
    (*_SM, "injury_lead_hours"):
        "Time from referral decision to a strategy meeting about an injury",
    ("downstream", "s47", "working_days"): "Length of an S47 enquiry",
    (*_CP, "plan_months"): "Length of a child protection plan",
    (*_AS, "work_hours"): "Work in a child and family assessment",
    (*_AS, "child_in_need_months"): "Length of a child in need plan",
    ("children", "return_gap_days"): "Time before a family comes back to the front door",
}
# Staff pools outside the front door itself, by the path of the pool.
POOLS_ELSEWHERE = {(*_SM, "chairs"): "Strategy meeting chairs",
                   (*_CP, "chairs"): "Child protection conference chairs",
                   (*_AS, "team"): "Assessment social workers"}
RETURN_CATEGORIES = {"info_advice": "information and advice", "early_help": "early help",
                     "nfa": "no further action", "assessment_closed": "an assessment closed with no plan",
                     "child_in_need": "a child in need plan", "cp_plan": "a child protection plan"}
RETURN_FIELDS = {"return_share": "share of families who come back",
                 "referral_share": "share of those who come back as a referral"}
BACKLOG = {"emails_unread": "emailed contacts unread", "ppns_waiting": "non-domestic PPNs waiting",
           "domestic_ppns_waiting": "domestic-abuse PPNs waiting",
           "assessments_waiting": "assessments waiting for a social worker",
           "assessments_in_progress": "assessments under way", "s47_in_progress": "S47 enquiries under way",
           "children_on_plans": "children on child protection plans"}
FIXED = {
    ("run", "start"): "First reported day",
    ("run", "end"): "Last reported day",
    ("run", "seed"): "Random number seed",
    ("run", "reps"): "Replications suggested by the file",
    ("run", "warmup_days"): "Warm-up simulated before the first reported day",
    ("run", "cooldown_days"): "Run-on simulated after the last reported day",
    ("run", "saturation_queue_days"): "Queue size at the end that counts as saturated",
    ("calendar", "office_open_hour"): "Office opens",
    ("calendar", "office_close_hour"): "Office closes",
    ("calendar", "working_weekdays"): "Working days of the week",
    ("calendar", "bank_holidays"): "Bank holidays observed",
    ("demand", "contacts_monthly"): "Contacts received per month (all sources)",
    ("demand", "police_monthly"): "Police contacts per month",
    ("demand", "police_channels"): "How police contacts arrive",
    ("demand", "partner_sources"): "Where non-police contacts come from",
    ("demand", "out_of_hours_urgent_share"):
        "Share of out-of-hours contacts urgent enough for the emergency duty team",
    ("service", "ps_priority"): "Order practice supervisors take work in (0 first)",
    ("ppn", "quality"): "Quality of police protection notices",
    ("ppn", "reference_quality"): "PPN quality that the screening time and outcome shares describe",
    ("ppn", "effort_at_zero_quality"): "Screening effort for an unusable PPN",
    ("ppn", "effort_at_full_quality"): "Screening effort for a fully triaged PPN",
    ("ppn", "info_advice_effect"): "How far better PPNs cut information-and-advice outcomes",
    ("ppn", "referral_effect"): "How far better PPNs cut referrals made to be safe",
    ("abandonment", "enabled"): "Callers may hang up if not answered",
    ("abandonment", "callback_share"): "Share of callers who hang up and call back (the rest email)",
    ("abandonment", "max_attempts"): "Calls a caller makes before emailing instead",
    ("da_hub", "dram_hour"): "Time the daily risk assessment meeting releases domestic PPNs",
    ("cotriage", "enabled"): "Police co-triage of non-domestic PPNs",
    ("cotriage", "start"): "Date police co-triage starts",
    ("cotriage", "closed_share"): "Share of advice or no-action PPNs settled at co-triage",
    ("cotriage", "screen_effort_after"): "Screening effort still needed after co-triage",
    ("cotriage", "supervisors_from_ps_pool"): "Co-triage supervisors come from the practice supervisors",
    ("outcomes", "conversation_referral_ratio"):
        "Chance of referral after a conversation, relative to the same contact written",
    ("downstream", "strategy_share_of_referrals"): "Share of referrals going to a strategy meeting",
    ("downstream", "s47_share_of_strategy"): "Share of strategy meetings leading to an S47 enquiry",
    (*_SM, "meetings_per_chair_per_day"): "Strategy meetings a chair holds a day",
    (*_SM, "injury_share"): "Share of strategy meetings about an injury",
    (*_SM, "target_hours"): "Strategy meeting target (hours)",
    (*_SM, "injury_target_hours"): "Strategy meeting target for an injury (hours)",
    (*_SM, "clock"): "Clock the strategy meeting target runs on",
    (*_CP, "share_of_s47"): "Share of S47 enquiries asking for a child protection conference",
    (*_CP, "notice_working_days"): "Notice needed to hold a child protection conference",
    (*_CP, "target_working_days"): "Child protection conference target (working days)",
    (*_CP, "conferences_per_chair_per_day"): "Child protection conferences a chair holds a day",
    (*_CP, "plan_share"): "Share of conferences leading to a child protection plan",
    (*_AS, "share_of_referrals"): "Share of referrals getting a child and family assessment",
    (*_AS, "caseload_limit"): "Assessments a social worker holds at once (at most)",
    (*_AS, "hours_per_day"): "Hours a social worker has for assessments each day",
    (*_AS, "max_hours_per_day"): "Hours a day one assessment can take (at most)",
    (*_AS, "target_working_days"): "Assessment target (working days)",
    (*_AS, "outcomes"): "How assessments end",
    ("children", "history_months"): "Months of history simulated before the run",
    ("children", "concern_size"): "Children named in one concern",
}
SETTING_UNITS = {("calendar", "working_weekdays"): "days", ("run", "seed"): "number",
                 ("run", "reps"): "replications", ("abandonment", "max_attempts"): "calls",
                 ("service", "ps_priority"): "order", ("calendar", "bank_holidays"): "calendar",
                 ("run", "start"): "date", ("run", "end"): "date"}


def _human(word: str) -> str:
    return word.replace("_", " ")


def _duration_part(word: str) -> str:
    return {"mean": "average", "cv": "variability (coefficient of variation)",
            "distribution": "shape of its spread"}.get(word, _human(word))


def label(path: Path_) -> str:
    """Plain-English name of a setting, from its path in the scenario."""
    p = tuple(path)
    if p in FIXED:
        return FIXED[p]
    for n in (3, 2):  # a task time, or one part of it
        if len(p) >= n and p[:n] in DURATIONS:
            base = DURATIONS[p[:n]]
            return base if len(p) == n else f"{base}: {_duration_part(p[n])}"
    if len(p) == 3 and p[0] == "staff":
        return f"{ROLES.get(p[1], _human(p[1]))}: {STAFF_FIELDS.get(p[2], _human(p[2]))}"
    if p[:3] in POOLS_ELSEWHERE and len(p) == 4:
        field = ("share of on-duty time free for this work" if p[3] == "productive_share"
                 else STAFF_FIELDS.get(p[3], _human(p[3])))
        return f"{POOLS_ELSEWHERE[p[:3]]}: {field}"
    if len(p) == 3 and p[:2] == ("demand", "partner_phone_share"):
        return f"Share of {SOURCES.get(p[2], _human(p[2]))} contacts made by phone"
    if len(p) == 4 and p[:2] == ("demand", "profiles"):
        what = {"weekday": "pattern over the week", "hour": "pattern over the day",
                "bank_holiday_factor": "on a bank holiday, share of a normal day"}
        return f"{PROFILES.get(p[2], _human(p[2]))}: {what.get(p[3], _human(p[3]))}"
    if len(p) in (3, 4) and p[:2] == ("outcomes", "written"):
        text = f"Outcomes of written contacts from {STREAMS.get(p[2], _human(p[2]))}"
        return text if len(p) == 3 else f"{text}: {SHARE_KEY_NAMES.get(p[3], _human(p[3]))}"
    if len(p) == 4 and p[:2] == ("children", "returns"):
        return (f"After {RETURN_CATEGORIES.get(p[2], _human(p[2]))}:"
                f" {RETURN_FIELDS.get(p[3], _human(p[3]))}")
    if len(p) == 2 and p[0] == "backlog":
        return f"Open at the start: {BACKLOG.get(p[1], _human(p[1]))}"
    if len(p) > 1 and p[:-1] in FIXED:
        return f"{FIXED[p[:-1]]}: {SHARE_KEY_NAMES.get(p[-1], _human(p[-1]))}"
    first = GROUPS.get(p[0], _human(p[0]).capitalize()) if p else ""
    return ": ".join([first, *(_human(x) for x in p[1:])])


# ---------------------------------------------------------------------------------------------
# reading and writing a document by path


# (`get` and `assign` are sim.scenario.paths', the one way every part of the project walks a path)


def sourced_parent(doc: Mapping, path: Path_) -> Path_ | None:
    """The nearest enclosing parameter (a mapping with provenance) of a path, if any."""
    for n in range(len(path), 0, -1):
        node = get(doc, path[:n])
        if isinstance(node, Mapping) and "provenance" in node:
            return tuple(path[:n])
    return None


SCALE = "*scale"      # multiply a monthly count (default and every listed month) by a factor
SUMMER = "*summer"    # add to a monthly share in July and August of every year in the run


def run_months(doc: Mapping) -> list[str]:
    """Every calendar month the run simulates, warm-up and run-on included (YYYY-MM)."""
    start = pd.Timestamp(doc["run"]["start"]) - pd.Timedelta(days=float(doc["run"]["warmup_days"]["value"]))
    end = pd.Timestamp(doc["run"]["end"]) + pd.Timedelta(days=float(doc["run"]["cooldown_days"]["value"]))
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def reported_months(doc: Mapping) -> list[str]:
    """The months whose measures are reported (the run's start to end)."""
    return [p.strftime("%Y-%m") for p in pd.period_range(pd.Timestamp(doc["run"]["start"]),
                                                         pd.Timestamp(doc["run"]["end"]), freq="M")]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def apply_edits(original: Mapping, edits: Mapping[Path_, Any]) -> dict:
    """The document with every edit applied; changed parameters are marked as set in the app.

    A changed number can no longer claim to be "reported" or "calibrated": its provenance
    becomes "judgement" and its note says what the file held, so the assumptions table and the
    downloaded YAML stay honest about what the user set.
    """
    doc = copy.deepcopy(dict(original))
    special = []
    for path, value in edits.items():
        if path[-1] in (SCALE, SUMMER):
            special.append((path, value))
            continue
        try:
            old = get(original, path)
        except PathError:
            continue
        if same(old, value):
            continue
        assign(doc, path, copy.deepcopy(value))
        _mark(doc, original, path, old)
    for path, value in special:
        node_path = path[:-1]
        try:
            node = get(doc, node_path)
        except PathError:
            continue
        if path[-1] == SCALE and not same(value, 1.0):
            node["default"] = round(node["default"] * value, 6)
            node["value"] = {m: round(v * value, 6) for m, v in node["value"].items()}
            _mark(doc, original, node_path, f"x{value:g} of the file's values")
        elif path[-1] == SUMMER and not same(value, 0.0):
            months = [m for m in run_months(doc) if m[5:] in ("07", "08")]
            node["value"] = {**node["value"],
                             **{m: round(node["value"].get(m, node["default"]) + value, 6)
                                for m in months}}
            _mark(doc, original, node_path, f"+{value:g} in July and August")
    return doc


def _mark(doc: dict, original: Mapping, path: Path_, old: Any) -> None:
    parent = sourced_parent(doc, path)
    if parent is None:
        return
    node = get(doc, parent)
    was = get(original, parent).get("provenance")
    if isinstance(old, dict):
        old = json.dumps(old)
    prior = node.get("note", "")
    change = f"changed in the app (file: {old}, {was})"
    node["note"] = change if not prior or "changed in the app" in prior else f"{change}; {prior}"
    node["provenance"] = "judgement"


def changes(original: Mapping, edited: Mapping) -> pd.DataFrame:
    """Every setting that differs between two documents, by plain-English name."""
    rows = []
    if original.get("name") != edited.get("name"):
        rows.append({"setting": "Scenario name", "file value": original.get("name", ""),
                     "value used": edited.get("name", ""), "unit": ""})
    for path, node in walk(edited):
        try:
            before = get(original, path)
        except PathError:
            before = None
        a = _value_of(before) if before is not None else ""
        b = _value_of(node)
        if a != b:
            rows.append({"setting": label(path), "file value": a, "value used": b,
                         "unit": node.get("unit", "") if isinstance(node, Mapping) else ""})
    return pd.DataFrame(rows, columns=["setting", "file value", "value used", "unit"])


# ---------------------------------------------------------------------------------------------
# the assumptions table


def walk(doc: Mapping, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every setting: each sourced parameter once (not its parts), and every other leaf."""
    for key, val in doc.items():
        p = (*path, key)
        if p in (("name",), ("description",)):
            continue
        if isinstance(val, Mapping) and "provenance" in val:
            yield p, val
        elif isinstance(val, Mapping) and "distribution" in val:
            yield (*p, "distribution"), val["distribution"]
            yield from walk({k: v for k, v in val.items() if k != "distribution"}, p)
        elif isinstance(val, Mapping):
            yield from walk(val, p)
        else:
            yield p, val


def _num(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _value_of(node: Any) -> str:
    if not isinstance(node, Mapping):
        if isinstance(node, list | tuple):
            return ", ".join(_num(v) for v in node)
        return _num(node)
    val = node.get("value")
    if isinstance(val, Mapping) and "default" in node:
        months = "; ".join(f"{m}: {_num(v)}" for m, v in sorted(val.items()))
        return f"{_num(node['default'])} in any month not listed" + (f"; {months}" if months else "")
    if isinstance(val, Mapping):
        return ", ".join(f"{SHARE_KEY_NAMES.get(k, _human(k))} {_num(v)}" for k, v in val.items())
    if isinstance(val, list | tuple):
        return ", ".join(_num(v) for v in val)
    return _num(val)


def _range_of(node: Any) -> str:
    if not isinstance(node, Mapping) or "range" not in node:
        return ""
    rng = node["range"]
    if isinstance(rng, Mapping):
        return ", ".join(f"{SHARE_KEY_NAMES.get(k, _human(k))} {_num(lo)} to {_num(hi)}"
                         for k, (lo, hi) in rng.items())
    return f"{_num(rng[0])} to {_num(rng[1])}"


GROUPS = {"run": "Run period", "calendar": "Office hours and calendar", "demand": "Demand and channels",
          "staff": "Staffing", "service": "Task times", "ppn": "PPN quality",
          "abandonment": "Callers who hang up", "da_hub": "Domestic abuse hub",
          "cotriage": "Police co-triage", "outcomes": "Outcomes of contacts",
          "downstream": "After a referral", "children": "Children and families",
          "backlog": "Work open at the start"}

def _special_value(path: Path_, node: Any) -> str:
    if path == ("calendar", "working_weekdays"):
        return ", ".join(WEEKDAYS[d] for d in node if 0 <= d < 7)
    if path == ("run", "seed"):
        return str(node)
    return _value_of(node)


PROVENANCE_WORDS = {
    "reported": "reported by the service",
    "national": "national statistic",
    "judgement": "judgement",
    "calibrated": "fitted to the reported months",
    "setting": "model setting",
}


def assumptions(doc: Mapping) -> pd.DataFrame:
    """One row per setting: plain-English name, value, unit, plausible range, provenance, source."""
    rows = []
    for path, node in walk(doc):
        sourced = isinstance(node, Mapping)
        rows.append({
            "group": GROUPS.get(path[0], _human(path[0]).capitalize()),
            "setting": label(path),
            "value": _special_value(path, node),
            "unit": node.get("unit", "") if sourced else SETTING_UNITS.get(path, ""),
            "plausible range": _range_of(node),
            "provenance": node.get("provenance", "") if sourced else "setting",
            "source": node.get("source", "") if sourced else "",
            "note": node.get("note", "") if sourced else "",
            "path": ".".join(path),
        })
    return pd.DataFrame(rows)
