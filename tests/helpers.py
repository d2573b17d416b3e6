"""Helpers the tests share: scenario variants, the conservation check and an injected fault."""

from __future__ import annotations

import calendar as pycal
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.runner import replicate
from sim.model.children import MAX_SIBLINGS, REREFERRAL_WINDOW_DAYS
from sim.model.results import RepResult
from sim.scenario.loading import deep_merge, read_document
from sim.scenario.schema import POOLS, validate

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def baseline_doc() -> dict:
    """The baseline as one document, with the calibration overlay it extends merged in."""
    return read_document(BASELINE.read_text(encoding="utf-8"), str(BASELINE), BASELINE.parent)


def variant(overrides: dict[str, Any] | None = None, **run: Any):
    """The baseline with some settings replaced (validated like any scenario file)."""
    doc = deep_merge(baseline_doc(), overrides or {})
    if run:
        doc["run"] = {**doc["run"], **run}
    return validate(doc, "test variant")


def staff_level(pool: str, establishment: float) -> dict:
    return {"staff": {pool: {"establishment": {"value": {}, "default": establishment,
                                               "range": [0, 1000]}}}}


def mmc_doc(arrivals_per_hour: float, service_minutes: float, servers: int,
            start: str = "2023-01-01", end: str = "2023-03-31") -> dict:
    """One pool, Poisson arrivals, exponential service, open 24 hours every day: M/M/c."""
    y0, y1 = int(start[:4]), int(end[:4])
    months = {f"{y}-{m:02d}": arrivals_per_hour * 24 * pycal.monthrange(y, m)[1]
              for y in range(y0 - 1, y1 + 2) for m in range(1, 13)}
    flat24 = {"value": [1.0] * 24, "range": [0, 2]}
    flat7 = {"value": [1.0] * 7, "range": [0, 2]}
    profile = {"weekday": flat7, "hour": flat24, "bank_holiday_factor": {"value": 1.0, "range": [0, 2]}}
    exact = {"distribution": "exponential", "mean": {"value": service_minutes, "range": [0, 1e6]},
             "cv": {"value": 1.0, "range": [1, 1]}}
    staff = {p: {"establishment": {"value": {}, "default": servers if p == "csw" else 0,
                                   "range": [0, 1000]},
                 "vacancy_rate": {"value": {}, "default": 0.0, "range": [0, 1]},
                 "leave_rate": {"value": {}, "default": 0.0, "range": [0, 1]},
                 "sickness_rate": {"value": 0.0, "range": [0, 1]},
                 "productive_share": {"value": 1.0, "range": [0, 1]}} for p in POOLS}
    over = {
        "run": {"start": start, "end": end, "warmup_days": {"value": 14, "range": [0, 100]},
                "cooldown_days": {"value": 7, "range": [0, 100]}},
        "calendar": {"office_open_hour": {"value": 0, "range": [0, 24]},
                     "office_close_hour": {"value": 24, "range": [0, 24]},
                     "working_weekdays": [0, 1, 2, 3, 4, 5, 6], "bank_holidays": "none"},
        "demand": {
            "contacts_monthly": {"value": months, "default": 0, "range": [0, 1e6]},
            "police_monthly": {"value": {}, "default": 0, "range": [0, 1e6]},
            "partner_sources": {"value": {"education": 1.0, "health": 0.0, "other_agency": 0.0,
                                          "public": 0.0},
                                "range": {k: [0, 1] for k in ("education", "health", "other_agency",
                                                              "public")}},
            "partner_phone_share": {"education": {"value": 1.0, "range": [0, 1]}},
            "profiles": {"phone": profile, "email": profile, "ppn": profile},
            "out_of_hours_urgent_share": {"value": 0.0, "range": [0, 1]},
        },
        "staff": staff,
        "service": {"conversation_minutes": exact},
        "abandonment": {"enabled": False},
        "outcomes": {"conversation_referral_ratio": {"value": 0.0, "range": [0, 1]}},
    }
    return deep_merge(baseline_doc(), over)


def assert_conserved(res: RepResult) -> None:
    """Every arrival is decided or open at the end, once; every queue's entries are accounted."""
    c, st = res.contacts, res.stages
    decided = np.isfinite(c["decided"].to_numpy())
    open_state = c["open_state"].to_numpy()
    is_open = open_state != ""
    assert not np.any(decided & is_open), "a decided contact is still open somewhere"
    assert np.all(decided | is_open), (
        f"{int(np.sum(~decided & ~is_open))} contacts were lost: neither decided nor open")
    assert not any(s.count(";") > 1 for s in open_state), "a contact is open in two places"
    assert np.all((c["outcome"] == "open") == ~decided), "outcome and decision time disagree"
    for pool in POOLS:
        s = st[st["pool"] == pool]
        entered = res.queue_stats[pool]["entered"]
        assert len(s) == entered, f"{pool}: {entered} entered the queue but {len(s)} visits logged"
        waiting = (~np.isfinite(s["start"]) & ~s["abandoned"]).sum()
        assert waiting == res.queue_stats[pool]["open_at_end"], f"{pool}: queue length disagrees"
    # each contact decided once: served by at most one deciding stage
    final = st[np.isfinite(st["end"]) & ~st["abandoned"]]
    deciding = final[final["kind"].isin(["email_screen", "ppn_screen", "da_screen", "direction"])]
    assert not deciding["contact"].duplicated().any(), "a contact was decided twice"
    assert_pathway_conserved(res)


def assert_pathway_conserved(res: RepResult) -> None:
    """After the referral: every referred child is followed once, every stage in order, nothing lost.

    Each referral of the run has exactly one pathway row; every request (meeting, conference,
    assessment) is either served or still waiting when the run stops, never served before it is
    made; a plan always follows a conference, a conference an S47 enquiry, an enquiry a strategy
    meeting (work declared open at the start excepted); and every contact's child belongs to the
    contact's family, with no referral before its contact.
    """
    pw, c = res.pathway, res.contacts
    assert pw is not None, "the pathway was not computed"
    horizon = res.cal.horizon
    refs = np.flatnonzero(c["outcome"].to_numpy() == "referral")
    mine = pw[pw["origin"] == "contact"]
    assert sorted(mine["contact"]) == list(refs), "referrals and pathway rows differ"
    assert np.all(mine["referred"].to_numpy() == c["decided"].to_numpy()[mine["contact"]])
    assert np.all(mine["referred"].to_numpy() >= c["arrival"].to_numpy()[mine["contact"]]), \
        "a referral before its contact"
    declared = pw["origin"].to_numpy() == "backlog"

    def t(name):
        return pw[name].to_numpy(dtype=float)

    def after(later, earlier, what, mask=None):
        a, b = t(later), t(earlier)
        ok = np.isfinite(a)
        if mask is not None:
            ok &= mask
        assert np.all(np.isfinite(b[ok])), f"{what}: {later} without {earlier}"
        assert np.all(a[ok] >= b[ok] - 1e-6), f"{what}: {later} before {earlier}"

    after("strategy_meeting", "strategy_requested", "strategy meeting", ~declared)
    after("s47_start", "strategy_meeting", "S47 enquiry")
    after("s47_end", "s47_start", "S47 enquiry")
    after("icpc_requested", "s47_end", "conference request")
    after("icpc", "icpc_requested", "conference")
    plan = pw["cp_plan"].to_numpy() & ~declared
    assert np.all(np.isfinite(t("icpc")[plan])), "a plan without a conference"
    assert np.all(t("cp_plan_start")[plan] == t("icpc")[plan]), "a plan not started at its conference"
    after("assessment_allocated", "assessment_requested", "assessment allocation")
    after("assessment_completed", "assessment_requested", "assessment")
    after("assessment_completed", "assessment_allocated", "assessment",
          np.isfinite(t("assessment_allocated")))
    # every request made in the run is served or still waiting, once
    for req, done in (("strategy_requested", "strategy_meeting"), ("icpc_requested", "icpc"),
                      ("assessment_requested", "assessment_completed")):
        made = np.isfinite(t(req)) & (t(req) >= 0) & (t(req) < horizon)
        served = made & np.isfinite(t(done))
        assert np.all(t(done)[served] <= horizon + 1e-6), f"{done} after the end of the run"
        assert served.sum() + (made & ~np.isfinite(t(done))).sum() == made.sum()
    waiting = np.isfinite(t("assessment_requested")) & (t("assessment_requested") >= 0) \
        & ~np.isfinite(t("assessment_allocated"))
    assert not np.any(np.isfinite(t("assessment_completed")[waiting])), "completed, never allocated"
    # children: a contact's child is in its family; siblings of a concern share the family
    fam = c.groupby("concern")["family"].nunique()
    assert (fam == 1).all(), "siblings of one concern in different families"
    assert np.all(c["child"].to_numpy() // MAX_SIBLINGS == c["family"].to_numpy())
    per_child = c.groupby("child")["family"].nunique()
    assert (per_child == 1).all(), "a child in two families"
    gap = mine["previous_referral_gap"].to_numpy(dtype=float)
    assert np.all(gap[np.isfinite(gap)] >= 0), "a previous referral after the referral"
    assert np.array_equal(mine["rereferral_12m"].to_numpy(),
                          np.isfinite(gap) & (gap <= REREFERRAL_WINDOW_DAYS * 1440))


def replicate_or_raise(scenario, seed, rep, keep_events=False):
    """`sim.experiments.runner.replicate` with a fault in replication 1 (a two-line message), for the tests of
    failed replications; importable by a child process (`python -c`) as well."""
    if rep == 1:
        raise RuntimeError("a fault in replication 1\non two lines")
    return replicate(scenario, seed, rep, keep_events)


def cli_exit(argv: list[str]) -> int:
    """sim.cli.main's exit code, also when argparse ends the command (SystemExit)."""
    import sim.cli  # why: the command line loads its faces' modules; only the tests that run it need them

    try:
        return sim.cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def short_run_file(folder: Path, name: str, start: str, end: str) -> Path:
    """The baseline run from `start` to `end` with the shortest warm-up and cool-down, written as
    a scenario file `folder/<name>.yaml` (for tests that run the command line)."""
    import yaml  # why: only the tests that write scenario files need it

    doc = deep_merge(baseline_doc(), {"name": name})
    doc["run"] = {**doc["run"], "start": start, "end": end}
    for key in ("warmup_days", "cooldown_days"):
        doc["run"][key] = {**doc["run"][key], "value": doc["run"][key]["range"][0]}
    path = folder / f"{name.replace(' ', '_')}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path



def whole_posts_to(end: float, start: float) -> int:
    """The most whole posts that can be added to `start` without passing `end` (the last whole post
    inside a lever's range), counted one post at a time so it does not depend on a calibrated start."""
    k = 0
    while start + k + 1 <= end + 1e-9:
        k += 1
    return k
