"""Children escalating to statutory intervention, counted as the reviews of the approach count it.

The conversations approach promises about 30% fewer children escalating to statutory
intervention (seed 003 line 375). The reviews measure that as fewer contacts resulting in a
referral; the service follows the referral on to an S47 enquiry and a child protection plan.
So the escalation here is three counts per month, and the share of contacts resulting in a
referral, each against the front door before the approach (`scenarios/pre_conversations.yaml`):

- % of contacts resulting in a referral (the reviews' own measure: the two scenarios' contacts
  differ a little, as calls abandoned, emailed instead and families coming back differ);
- referrals made in the month;
- of them, the referrals whose child went on to an S47 enquiry;
- of them, the referrals whose child went on to a child protection plan.

Both scenarios run on the same replication seeds (sim.experiments.compare: common random
numbers), so each replication gives one paired reduction, 1 - scenario / before, per month
and over the period (the period's from the replication's monthly average, which for a count is
its total over the months). The
interval is Student's t over the replications of that per-replication reduction (not a ratio
of means). The reviews' own figures are listed beside it, each with what it measures and the
seed line it comes from: none of them is the model's quantity to the letter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.experiments.compare import PERIOD, compare, per_rep
from sim.experiments.runner import RunResults
from sim.io.observed import OBSERVED_CSV
from sim.measures.intervals import half_width
from sim.measures.metrics import MEASURES
from sim.scenario.schema import Scenario

BEFORE = "pre_conversations"  # the front door before the approach (scenarios/pre_conversations.yaml)
STEPS = ("pct_contacts_to_referral", "referrals", "referrals_to_s47", "referrals_to_cp_plan")
OBSERVED_EVENTS_CSV = OBSERVED_CSV.parent / "observed_events.csv"
COLUMNS = ["measure", "label", "unit", "month", "before", "scenario", "difference",
           "difference_ci_low", "difference_ci_high", "reduction_pct", "reduction_ci_low",
           "reduction_ci_high", "reps"]


@dataclass(frozen=True)
class Review:
    """One of the reviews of the approach: when it was held and the seed line that says so."""

    weeks: int
    held: str
    line: int
    quote: str


REVIEWS = {
    26: Review(26, "2023-10-20", 381, "held our 26-week review on 20th October 23"),
    52: Review(52, "2023-12-19", 384, "final post implementation review on 19th December 23"
               " looking at the full 52 weeks"),
}


@dataclass(frozen=True)
class Reported:
    """A reported figure (calibration/observed_events.csv), what it counts and its own words."""

    key: str
    review: int
    measures: str
    quote: str
    nearest: str  # the model's measure nearest to it, and how it differs


REPORTED = (
    Reported("review26_pct_reduction_all_contacts_to_referral", 26,
             "contacts resulting in a referral, all agencies (average reduction)",
             "our average reduction overall was 16%",
             "% of contacts resulting in a referral (and the count of referrals)"),
    Reported("review26_pct_reduction_police_contacts_to_referral", 26,
             "police contacts resulting in a referral",
             "the number of contacts resulting in a referral had decreased by 29% for Police",
             "none: police referrals alone are not a monthly measure"),
    Reported("review26_expected_pct_reduction_referrals", 26,
             "the approach's aim: referrals overall",
             "expectation is an overall 30% reduction in referrals",
             "referrals (and the % of contacts resulting in one)"),
    Reported("review52_pct_reduction_contacts_to_referral", 52,
             "contacts resulting in a referral, over the year",
             "5.8% reduction in contacts resulting a referral",
             "% of contacts resulting in a referral"),
    Reported("review52_pct_reduction_contacts_to_referral_peak", 52,
             "contacts resulting in a referral, at some points in the year",
             "some points during the year seeing a 21.9% reduction",
             "% of contacts resulting in a referral, in its best month"),
    Reported("review52_pct_reduction_referrals_to_strategy_peak", 52,
             "referrals resulting in a strategy meeting, at times (minimal overall)",
             "there were times in the year we saw a 10.8% reduction",
             "none in this table (strategy meetings are in `compare`)"),
    Reported("review52_pct_increase_referrals_to_s47", 52,
             "referrals resulting in an S47 enquiry (an increase: a negative reduction)",
             "10.8% increase in the number of referrals resulting in section 47",
             "referrals reaching an S47 enquiry"),
)


def reported_reviews() -> pd.DataFrame:
    """The reviews' own figures as reductions in %, each with its review, words and seed line."""
    events = pd.read_csv(OBSERVED_EVENTS_CSV).set_index("measure")
    rows = []
    for r in REPORTED:
        ev = events.loc[r.key]
        line = int(str(ev["source"]).rsplit("(line ", 1)[1].rstrip(")"))
        sign = -1.0 if "_increase_" in r.key else 1.0
        review = REVIEWS[r.review]
        rows.append({"review": f"{r.review} weeks (held {review.held})", "measures": r.measures,
                     "reduction_pct": sign * float(ev["value"]), "quote": r.quote,
                     "source": f"seed 003 line {line}; review: line {review.line}",
                     "line": line, "nearest_in_model": r.nearest})
    return pd.DataFrame(rows)


def reductions(before: pd.DataFrame, after: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Paired reduction 1 - after / before in %, per month and over the period, per step.

    `before` and `after` are monthly tables (rep, month, measures) run on the same seeds;
    rows pair on (rep, month). A replication whose `before` count is 0 has no reduction and is
    left out of that cell's interval (`reps` says how many were used)."""
    parts = []
    for by_month in (True, False):
        b, a = per_rep(before, by_month)[list(STEPS)], per_rep(after, by_month)[list(STEPS)]
        b, a = b.align(a, join="inner")
        with np.errstate(divide="ignore", invalid="ignore"):
            red = 100.0 * (1.0 - a / b.where(b > 0))
        long = pd.DataFrame({"before": b.stack(), "scenario": a.stack(), "reduction": red.stack()})
        long.index.names = ["rep", "month", "measure"]
        g = long.groupby(level=["measure", "month"], sort=False)
        stats = g.agg(before=("before", "mean"), scenario=("scenario", "mean"),
                      reduction_pct=("reduction", "mean"), reps=("reduction", "count"))
        stats["half"] = g["reduction"].agg(lambda x: half_width(x.to_numpy(), level))
        parts.append(stats.reset_index())
    out = pd.concat(parts, ignore_index=True)
    out["reduction_ci_low"] = out["reduction_pct"] - out["half"]
    out["reduction_ci_high"] = out["reduction_pct"] + out["half"]
    order = {m: i for i, m in enumerate(STEPS)}
    out = out.sort_values("measure", key=lambda s: s.map(order), kind="stable")
    return out.drop(columns="half").reset_index(drop=True)


@dataclass
class Escalation:
    """The escalation table of one scenario against the one before the approach."""

    table: pd.DataFrame
    reported: pd.DataFrame
    reps: int
    seed: int
    results: list[RunResults] = field(default_factory=list)

    def notes(self) -> list[str]:
        """What a reader must know to read the table."""
        sc = self.results[-1].scenario if self.results else None
        cool = f" ({sc.run.cooldown_days.value:g} days after the period)" if sc else ""
        return [
            f"paired on {self.reps} replications, seed {self.seed}: reduction = 1 - scenario /"
            " before, per replication; 95% interval by Student's t over the replications",
            "children reaching an S47 enquiry or a plan are counted by the month of the referral,"
            f" followed to the end of the simulated horizon{cool}: the last months' counts are low"
            " in both scenarios, so their reduction is less sure than the counts suggest",
            "the reviews' figures measure contacts resulting in a referral (or referrals"
            " resulting in an enquiry), over 26 or 52 weeks from November 2022; the model's"
            " period and its demand (held at 2023's) differ, so they are set beside it, not"
            " matched to it",
        ]


def escalation(scenario: Scenario, before: Scenario, reps: int, seed: int,
               executor: Executor | None = None,
               progress: Callable[[Iterable], Iterable] | None = None) -> Escalation:
    """Run `before` and `scenario` on the same seeds over the scenario's period; the table."""
    before = before.with_run(start=scenario.run.start, end=scenario.run.end)
    diffs, results = compare([before, scenario], reps, seed, executor=executor, progress=progress)
    red = reductions(results[0].monthly, results[1].monthly)
    d = diffs[(diffs["scenario"] == scenario.name) & diffs["measure"].isin(STEPS)]
    d = d[["measure", "month", "diff_from_first", "diff_ci_low", "diff_ci_high"]].rename(
        columns={"diff_from_first": "difference", "diff_ci_low": "difference_ci_low",
                 "diff_ci_high": "difference_ci_high"})
    table = red.merge(d, on=["measure", "month"], how="left")
    table["label"] = table["measure"].map(lambda m: MEASURES[m][0])
    table["unit"] = table["measure"].map(lambda m: MEASURES[m][1] if MEASURES[m][1] == "%"
                                         else MEASURES[m][1] + " a month")
    return Escalation(table[COLUMNS], reported_reviews(), reps, seed, results)


def text_table(esc: Escalation) -> str:
    """The table as a reader sees it: per step, months across, reduction (interval)."""
    t = esc.table
    months = [m for m in dict.fromkeys(t["month"]) if m != PERIOD] + [PERIOD]
    rows = []
    for m in STEPS:
        s = t[t["measure"] == m].set_index("month")
        rows.append({"": f"{MEASURES[m][0]}: before", **{k: f"{s.at[k, 'before']:,.1f}" for k in months}})
        rows.append({"": "  with the scenario", **{k: f"{s.at[k, 'scenario']:,.1f}" for k in months}})
        rows.append({"": "  reduction %", **{k: _cell(s.loc[k]) for k in months}})
    model = pd.DataFrame(rows).set_index("")
    rep = esc.reported[["review", "measures", "reduction_pct", "source"]].rename(
        columns={"reduction_pct": "reduction %"})
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_colwidth", 80):
        return "\n".join([model.to_string(), "", "reported by the reviews (not the same quantity):",
                          rep.to_string(index=False), "", *(f"note: {n}" for n in esc.notes())])


def reduction_cell(pct: float, low: float, high: float, unit: str = "") -> str:
    """A reduction as a reader sees it: "8.6 (7.8 to 9.4)", the point alone when there is no
    interval (one replication), "-" when there is no reduction (nothing before)."""
    if not np.isfinite(pct):
        return "-"
    if not np.isfinite(low):
        return f"{pct:.1f}{unit}"
    return f"{pct:.1f}{unit} ({low:.1f} to {high:.1f})"


def _cell(row: pd.Series) -> str:
    return reduction_cell(row["reduction_pct"], row["reduction_ci_low"], row["reduction_ci_high"])


def against_before(results: list[RunResults]) -> pd.DataFrame | None:
    """Each scenario's reductions over the period (`reductions`) against the front door before
    the approach, when it is one of `results` (run on the same seeds); None when it is not."""
    names = [r.scenario.name for r in results]
    if BEFORE not in names or len(names) < 2:
        return None
    before = results[names.index(BEFORE)].monthly
    parts = []
    for r in results:
        if r.scenario.name != BEFORE:
            t = reductions(before, r.monthly)
            parts.append(t[t["month"] == PERIOD].assign(scenario_name=r.scenario.name))
    return pd.concat(parts, ignore_index=True)
