"""What would it take, across levers: the cheapest combinations of up to three levers that meet
a target with 95% confidence.

Each lever is tried at a few values from the scenario's own towards the end of its plausible
range, in whole steps (`STEPS`: whole posts for posts, so no fractional post is ever proposed).
Every combination of those values is a point of the grid, and every point runs the same
replication seeds (common random numbers), so the points compare fairly. A point meets the
target when the bound of its 95% interval (the end on the far side from the goal, as in
sim.experiments.target) is past the goal.

The user states what one step of each lever costs (a weight: money, effort, or 1 for "count the
steps"). The frontier is every point that meets the target and that no other meeting point
dominates (costs no more in every lever and less in one): the cheapest ways to meet it, a
choice for the board rather than one answer. Points are run cheapest first (fewest steps), and a
point that dominates a point already met is not run: it cannot be on the frontier (with a dated
start, a lever alone over the whole run is run unless it dominates one of those that meets). So
the count of points said before the search starts is the most it can run, and the time a bound.

One lever is the special case: its frontier is the first value that meets the target.

A dated start (`START`, "start_month") is a lever too: it says in which month of the run the other
levers begin. Its step is a month earlier, from the latest start the user allows (the run's last
month unless told) back to the run's first month, so its weight is what starting a month earlier
costs. A start in a later month writes the other levers as dated changes from the first of that
month (the file's own settings before it); a start in the run's first month is the levers as they
act without a start, over the whole run and its warm-up. (A dated change from the run's first day
is not the same: the warm-up before it, and the histories, would run on the file's settings.)
Combinations that move only the start are the scenario itself, so only one of them is run.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sim.experiments.levers import LEVERS, STEPS, Lever, run_months, whole_steps
from sim.scenario.schema import Scenario

if TYPE_CHECKING:  # pandas and the runner load only when a search runs: the help stays quick
    import pandas as pd

    from sim.experiments.target import Target

MAX_LEVERS = 3
# The most point-replications (grid points times replications, the reference scenario counted
# as one more point) a search may ask for. A replication of the baseline's six months takes about
# 1.1 s of one core here; a 280-replication search took 9.2 minutes with two workers on this
# 2-core machine while it was shared (load about 5), 5.1 minutes of processor time.
MAX_POINT_REPS = 300
# Values tried per lever when the user does not say: a grid of at most 11, 25 and 27 points.
DEFAULT_VALUES = {1: 11, 2: 5, 3: 3}
# The dated start: the month of the run the other levers begin (a lever of its own).
START = "start_month"
START_STEP = (1.0, "starting the other levers one month earlier")
LEVER_NAMES = (*STEPS, START)


def _step(key: str) -> tuple[float, str]:
    return START_STEP if key == START else STEPS[key]


class SearchError(ValueError):
    """A search that is refused before it starts; the message is one line naming the field."""


class StartError(SearchError):
    """A dated start the search cannot use (no other lever, one that cannot start on a date, a
    month outside the run)."""


@dataclass(frozen=True)
class Choice:
    """One lever of a search: the user's weight per step and the values it is tried at."""

    lever: Lever
    weight: float
    start: float
    steps: tuple[int, ...]  # whole steps from the scenario's value, 0 first

    months: tuple[str, ...] = ()  # the run's months (YYYY-MM), for the dated start only

    @property
    def step(self) -> float:
        return _step(self.lever.key)[0]

    @property
    def step_words(self) -> str:
        return _step(self.lever.key)[1]

    @property
    def is_start(self) -> bool:
        return self.lever.key == START

    def shown(self, v: float) -> str:
        """A value as the output says it: the month for the start, else the number."""
        if not self.is_start:
            return f"{v:g}"
        m = int(round(v))
        return f"{self.months[m - 1]}" + (" (the whole run)" if m == 1 else "")

    def from_day(self, k: int) -> date | None:
        """The start's first day k months earlier than the latest, None for the whole run."""
        m = int(round(self.value(k)))
        return None if m <= 1 else date.fromisoformat(self.months[m - 1] + "-01")

    def intro(self) -> str:
        """The lever in one line, said before a search starts."""
        if self.is_start:
            return (f"{START}: the other levers start at the latest in {self.months[int(self.start) - 1]}"
                    f" (month {self.start:g} of the run); one step is {self.step_words}, back to"
                    f" {self.months[0]}, when they act over the whole run; cost {self.weight:g}")
        return (f"{self.lever.key}: now {self.start:g} {self.lever.unit}; one step is {self.step_words},"
                f" cost {self.weight:g}")

    def value(self, k: int) -> float:
        """The lever's value k steps from the scenario's, towards the end of its range."""
        return round(self.start + self.lever.improves * k * self.step, 10)

    @property
    def end(self) -> float:
        return self.lever.high if self.lever.improves > 0 else self.lever.low


def lever_steps(lever: Lever, start: float, values: int) -> tuple[int, ...]:
    """At most `values` whole steps from 0 (the scenario's value) to the last whole step inside the
    lever's range, evenly spread and always holding both ends."""
    return whole_steps(lever, start, values, _step(lever.key)[0])


@dataclass(frozen=True)
class Plan:
    """A search before it runs: what it tries and how much work that is."""

    scenario: Scenario
    target: Target
    choices: tuple[Choice, ...]
    reps: int
    seed: int

    @property
    def points(self) -> list[tuple[int, ...]]:
        """Every combination of the levers' steps, fewest steps first (so a point's dominators,
        which have fewer, are run before it)."""
        grid = itertools.product(*(c.steps for c in self.choices))
        return sorted((ks for ks in grid if not self._start_alone(ks)), key=lambda ks: (sum(ks), ks))

    def _start_alone(self, ks: Sequence[int]) -> bool:
        """A point that moves the start and nothing else: the scenario itself, run once (at 0)."""
        moved = [c.is_start for c, k in zip(self.choices, ks, strict=True) if k]
        return bool(moved) and all(moved)

    @property
    def start(self) -> Choice | None:
        return next((c for c in self.choices if c.is_start), None)

    def alone(self, ks: Sequence[int]) -> bool:
        """With a start: whether the point is one lever alone acting over the whole run (the
        start at the run's first month, the other levers at the scenario's values). Those points
        say what each lever does alone, so they are skipped only for one of their own that meets."""
        if self.start is None:
            return False
        moved = [c for c, k in zip(self.choices, ks, strict=True) if k and not c.is_start]
        full = all(k == c.steps[-1] for c, k in zip(self.choices, ks, strict=True) if c.is_start)
        return full and len(moved) <= 1

    @property
    def runs(self) -> int:
        """Points to run at most, with the reference scenario as one more."""
        return len(self.points) + (1 if self.target.relative_to else 0)

    def cost(self, ks: Sequence[int]) -> float:
        return float(sum(c.weight * k for c, k in zip(self.choices, ks, strict=True)))

    def apply(self, ks: Sequence[int]) -> Scenario:
        """The scenario with each lever k steps on; with a start, from that start's first day."""
        sc = self.scenario
        day = None
        for c, k in zip(self.choices, ks, strict=True):
            if c.is_start:
                day = c.from_day(k)
        for c, k in zip(self.choices, ks, strict=True):
            if k and not c.is_start:
                sc = c.lever.apply(sc, c.value(k)) if day is None else c.lever.apply_from(sc, c.value(k), day)
        return sc

    def describe(self) -> str:
        """The search in one sentence, said before it starts."""
        levers = "; ".join(f"{c.lever.key} at {len(c.steps)} value{'s' if len(c.steps) > 1 else ''}"
                           f" from {c.shown(c.value(0))} to {c.shown(c.value(c.steps[-1]))}"
                           for c in self.choices)
        ref = ", plus the scenario before the conversations approach" if self.target.relative_to else ""
        return (f"{len(self.points)} point{'s' if len(self.points) > 1 else ''} ({levers}){ref},"
                f" {self.reps} replications each on the same seeds")


def start_lever(scenario: Scenario, latest: str | None) -> tuple[Lever, tuple[str, ...]]:
    """The dated start as a lever for this run: the month (1 = the run's first) the other levers
    begin, moved from `latest` (YYYY-MM, the run's last month if None) back to the first; refuses
    a month outside the run."""
    months = tuple(run_months(scenario))
    if latest is None:
        latest = months[-1]
    if not re.fullmatch(r"\d{4}-\d{2}", str(latest)):
        raise StartError(f"--latest-start {str(latest)[:40]}: not a month; give one of the run's months"
                         f" as YYYY-MM ({months[0]} to {months[-1]})")
    if latest not in months:
        raise StartError(f"--latest-start {latest}: outside the run ({months[0]} to {months[-1]});"
                         " give one of its months")
    at = months.index(latest) + 1
    lever = Lever(START, "month of the run the other levers start", "month of the run", 1.0, float(at), -1,
                  f"from {latest} back to the run's first month, {months[0]}, when the levers act over"
                  " the whole run", lambda sc: float(at), lambda doc, v: {})
    return lever, months


def plan(scenario: Scenario, levers: Sequence[tuple[str, float]], target_key: str, reps: int = 10,
         seed: int | None = None, values: int | None = None,
         max_point_reps: int = MAX_POINT_REPS, latest_start: str | None = None) -> Plan:
    """Check a search and lay out its grid; refuses (SearchError, one line) what it cannot run."""
    # here, not at the top: the command line's help imports this module and must stay quick
    from sim.experiments.target import TARGETS

    if target_key not in TARGETS:
        raise SearchError(f"--target {target_key}: unknown; choose one of {', '.join(TARGETS)}")
    if not levers:
        raise SearchError("--lever: give at least one lever")
    if len(levers) > MAX_LEVERS:
        raise SearchError(f"--lever: {len(levers)} levers given ({', '.join(k for k, _ in levers)});"
                          f" a search takes at most {MAX_LEVERS}")
    seen: set[str] = set()
    for key, weight in levers:
        if key not in LEVERS and key != START:
            raise SearchError(f"--lever {key}: unknown lever; choose from {', '.join(LEVER_NAMES)}")
        if key in seen:
            raise SearchError(f"--lever {key}: given twice; give each lever once")
        seen.add(key)
        if not (math.isfinite(weight) and weight > 0):
            raise SearchError(f"--lever {key}:{weight:g}: the weight must be a positive number"
                              " (the cost of one step of the lever)")
    _check_start([k for k, _ in levers], latest_start)
    n = DEFAULT_VALUES[len(levers)] if values is None else values
    if n < 2:
        raise SearchError(f"--values {n}: must be at least 2 (the scenario's value and the range end)")
    choices = []
    for key, weight in levers:
        lv, months = start_lever(scenario, latest_start) if key == START else (LEVERS[key], ())
        start = lv.current(scenario)
        choices.append(Choice(lv, float(weight), start, lever_steps(lv, start, n), months))
    p = Plan(scenario, TARGETS[target_key], tuple(choices), reps,
             scenario.run.seed if seed is None else seed)
    if p.runs * reps > max_point_reps:
        name = f"--reps {reps}" if values is None else f"--values {n}"
        ref = " and the reference" if p.target.relative_to else ""
        raise SearchError(f"{name}: {len(p.points)} points{ref} x {reps} replications is"
                          f" {p.runs * reps} point-replications, more than the {max_point_reps} a"
                          " search may run; give fewer --values, levers or --reps")
    return p


def _check_start(keys: Sequence[str], latest_start: str | None) -> None:
    """A dated start needs another lever to start, each of which can take a dated change."""
    if START not in keys:
        if latest_start is not None:
            raise StartError(f"--latest-start {str(latest_start)[:40]}: give it with --lever {START}"
                             " (it is the latest month the other levers may start)")
        return
    others = [k for k in keys if k != START]
    if not others:
        raise StartError(f"--lever {START}: needs another lever to start (it says in which month the"
                         " other levers begin)")
    for k in others:
        if not LEVERS[k].datable:
            raise StartError(f"--lever {k}: cannot start on a date with --lever {START}:"
                             f" {LEVERS[k].why_not_datable}")


@dataclass
class Verdict:
    """What one lever does alone (the others at the scenario's values)."""

    choice: Choice
    reaches: bool
    row: dict | None  # the cheapest point that meets the target, or the range end's point

    def message(self) -> str:
        c, t = self.choice, self.row
        lv = c.lever
        if c.is_start:
            return (f"{START}: alone it changes nothing (it says when the other levers start); each other"
                    " lever alone is read with it acting over the whole run")
        if len(c.steps) == 1:
            return (f"{lv.key}: cannot move (the scenario's {c.start:g} {lv.unit} is already at the"
                    f" end of its plausible range, {c.end:g})")
        if t is None:
            return f"{lv.key}: alone, its points were not run (a cheaper point already met the target)"
        if self.reaches:
            return (f"{lv.key}: alone, meets the target with 95% confidence at {t[lv.key]:g} {lv.unit}"
                    f" ({t[lv.key + '_steps']:.0f} step{'s' if t[lv.key + '_steps'] != 1 else ''},"
                    f" cost {t['cost']:g})")
        return (f"{lv.key}: alone, never meets the target with 95% confidence within its plausible range"
                f" ({c.start:g} to {c.end:g} {lv.unit}, {lv.why_range}); at {t[lv.key]:g} the measure is"
                f" {t['mean']:.3g} (95% interval {t['ci_low']:.3g} to {t['ci_high']:.3g})")


@dataclass
class FrontierResult:
    plan: Plan
    grid: pd.DataFrame  # every point run, by the levers' steps
    skipped: int  # points not run because they dominate a point that met the target
    seconds: float
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def frontier(self) -> pd.DataFrame:
        return (self.grid[self.grid["on_frontier"]].sort_values(["cost", "bound"])
                .reset_index(drop=True))

    def message(self) -> str:
        t = self.plan.target
        f = self.frontier
        if f.empty:
            g = self.grid
            near = g.loc[g["bound"].idxmax() if t.at_least else g["bound"].idxmin()]
            at = ", ".join(f"{c.lever.key} {c.shown(near[c.lever.key])}" for c in self.plan.choices)
            return (f"{t.label}: not met with 95% confidence by any combination tried"
                    f" ({len(g)} points, each lever up to the end of its range). The nearest is {at}:"
                    f" {near['mean']:.3g} (95% interval {near['ci_low']:.3g} to {near['ci_high']:.3g})"
                    f" against a goal of {t.goal:g}; target.csv has every point.")
        best = f.iloc[0]
        if len(self.plan.choices) == 1:
            c = self.plan.choices[0]
            k = c.lever.key
            below = self.grid[self.grid[k + "_steps"] < best[k + "_steps"]]
            before = ("" if below.empty else f"; at {below.iloc[-1][k]:g}, the value tried before it,"
                      " it is not met with 95% confidence")
            return (f"{t.label}: met with 95% confidence at {k} {best[k]:g} {c.lever.unit}"
                    f" ({best[k + '_steps']:.0f} step{'s' if best[k + '_steps'] != 1 else ''} of"
                    f" {c.step_words} from {c.start:g}, cost {best['cost']:g}){before}.")
        change = ", ".join(f"{c.lever.key} {c.shown(best[c.lever.key])}" for c in self.plan.choices)
        n = len(f)
        return (f"{t.label}: met with 95% confidence by {n} combination{'s' if n > 1 else ''} that no"
                f" other point tried beats in every lever; the cheapest by your weights is {change}"
                f" (cost {best['cost']:g}). Between the points tried the answer is uncertain.")


def dominated(ks: Sequence[int], others: Iterable[Sequence[int]]) -> bool:
    """Whether some other point costs no more in every lever and less in one (weights are positive,
    so this is the same in steps as in cost)."""
    return any(all(o <= k for o, k in zip(other, ks, strict=True)) and tuple(other) != tuple(ks)
               for other in others)


def frontier_mask(steps: Sequence[Sequence[int]], met: Sequence[bool]) -> list[bool]:
    """Which points are on the frontier: they meet the target and no other meeting point
    dominates them."""
    winners = [tuple(s) for s, m in zip(steps, met, strict=True) if m]
    return [bool(m) and not dominated(s, winners) for s, m in zip(steps, met, strict=True)]


def run_plan(p: Plan, reference: Scenario | None = None, executor: Executor | None = None,
             on_step: Callable[[int, int], None] | None = None,
             on_estimate: Callable[[float, float], None] | None = None) -> FrontierResult:
    """Run the search. `on_step(done, total)` is told 0 at the start and then after every point run
    or skipped (the reference scenario's run counts as one), so it reaches total; `on_estimate` is
    told, after the first run, the seconds it took and the seconds the whole search may take."""
    # pandas and the runner load here, when a search runs, so the command line's help stays quick
    import pandas as pd

    from sim.experiments.target import measure_point, reference_monthly

    t0 = time.perf_counter()
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(done, p.runs)

    def estimate(first: float) -> None:
        if on_estimate is not None:
            on_estimate(first, first * p.runs)

    if on_step is not None:
        on_step(0, p.runs)
    ref = None
    if p.target.relative_to:
        ref = reference_monthly(p.scenario, p.target, reference, p.reps, p.seed, executor)
        estimate(time.perf_counter() - t0)
        tick()
    rows: list[dict] = []
    met: list[tuple[int, ...]] = []
    skipped = 0
    for ks in p.points:
        if dominated(ks, [m for m in met if p.alone(m)] if p.alone(ks) else met):
            skipped += 1
            tick()
            continue
        t1 = time.perf_counter()
        m = measure_point(p.apply(ks), p.target, p.reps, p.seed, ref, executor)
        if not rows and ref is None:
            estimate(time.perf_counter() - t1)
        row: dict = {}
        for c, k in zip(p.choices, ks, strict=True):
            row[c.lever.key] = c.value(k)
            row[c.lever.key + "_steps"] = k
            row[c.lever.key + "_cost"] = c.weight * k
            if c.is_start:
                day = c.from_day(k)
                row[START + "_from"] = "whole run" if day is None else day.isoformat()
        row.update(cost=p.cost(ks), mean=m["mean"], ci_low=m["ci_low"], ci_high=m["ci_high"],
                   bound=m["bound"], meets_mean=m["meets_mean"], met=m["meets_confident"])
        rows.append(row)
        if m["meets_confident"]:
            met.append(ks)
        tick()
    keys = [c.lever.key for c in p.choices]
    grid = pd.DataFrame(rows).sort_values([k + "_steps" for k in keys]).reset_index(drop=True)
    steps = grid[[k + "_steps" for k in keys]].to_numpy(dtype=int).tolist()
    grid["on_frontier"] = frontier_mask(steps, grid["met"].tolist())
    return FrontierResult(p, grid, skipped, time.perf_counter() - t0, verdicts(p, grid))


def verdicts(p: Plan, grid: pd.DataFrame) -> list[Verdict]:
    """For each lever, what it does alone: the cheapest point on its own axis that meets the
    target, or, if none does, its range end's point."""
    out = []
    start = p.start
    for i, c in enumerate(p.choices):
        if c.is_start:
            out.append(Verdict(c, False, None))
            continue
        others = [d.lever.key + "_steps" for j, d in enumerate(p.choices) if j != i and not d.is_start]
        axis = grid[(grid[others] == 0).all(axis=1)] if others else grid
        if start is not None:  # alone means acting over the whole run, as without a start
            axis = axis[axis[START + "_steps"] == start.steps[-1]]
        axis = axis.sort_values(c.lever.key + "_steps")
        hits = axis[axis["met"]]
        if not hits.empty:
            out.append(Verdict(c, True, hits.iloc[0].to_dict()))
        else:
            out.append(Verdict(c, False, axis.iloc[-1].to_dict() if len(axis) else None))
    return out


def table(res: FrontierResult) -> pd.DataFrame:
    """target.csv: every point run, with each lever's value, steps and cost, the total cost, the
    mean and 95% interval of the target's measure, its bound, and whether it meets the target and
    is on the frontier."""
    g = res.grid.copy()
    g.insert(0, "target", res.plan.target.key)
    return g
