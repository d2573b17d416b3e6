"""Replications: one function per replication, run through any concurrent.futures.Executor.

A worker receives (scenario, seed, rep) and returns that replication's monthly measures, when
the backlog the scenario declares was cleared, and its event log only when asked, so results
are identical whether replications run serially, in a process pool or on a cluster: each
replication's streams depend on (seed, rep) alone.

A replication that raises is reported with its seed and the others are kept. A worker process
that dies (killed, out of memory) breaks a process pool and every replication still running in
it; those are run again, each in a process of its own, so only a replication that kills its
worker again is reported as failed. Ctrl-C stops the run at once, whatever the executor.
"""

from __future__ import annotations

import calendar
import dataclasses
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.experiments.executors import SerialExecutor, end_workers, terminate_pool
from sim.measures.backlog import BacklogClearance, backlog_clearance
from sim.measures.backlog import ranges as _ranges
from sim.scenario.schema import POOL_SHORT_NAMES, POOLS, Scenario, ScenarioError, StaffPool, setting_title

if TYPE_CHECKING:  # the model and measures are imported where used: `check` stays quick
    from sim.model.results import RepResult, Saturation

# What one replication may ask of this machine; beyond these a run would take hours or exhaust
# memory, so it is refused before it starts (check_workload; docs/model.md, "Workload budget").
#
# The budget: one replication within about 1.5 GB and 2 minutes. Why: replications run one per
# core, so a laptop with 8 GB and 4 cores (or this 2-core, 23 GB machine with the app beside
# it) holds a full pool of them with the main process (at most 1 GB, see run_replications)
# and room to spare, and 10 replications of the largest scenario allowed still finish in
# minutes. The baseline uses a sixth of the memory and a sixtieth of the time.
REP_MEMORY_BUDGET_MB = 1_500
REP_SECONDS_BUDGET = 120
RUN_CPU_HOURS_BUDGET = 24  # replications x their time: a day of one core at most
# Costs per item, measured as the peak RSS and time of one replication (Python 3, numpy,
# pandas 3.1, on this machine, 2026-12): 343,000 contacts with 3 call attempts 964 MB and 11 s,
# with 20 attempts 1,618 MB and 17 s; 2.4 million contacts of history 862 MB and 3 s; 100,000
# declared downstream items +70 MB; the baseline (30,000 contacts) 240 MB and 1 s. Rounded up,
# so the estimate is above the measured peak.
BASE_MB = 200.0  # the interpreter, numpy, pandas, SimPy and the calendars
KB_PER_CONTACT = 2.0  # a front-door contact: its draws, event log and stage visits
KB_PER_CONTACT_ATTEMPT = 0.12  # per call attempt allowed (abandonment.max_attempts), per contact
KB_PER_HISTORY_CONTACT = 0.3  # a contact of the generated history (children.history_months)
KB_PER_DOWNSTREAM_ITEM = 0.7  # a declared assessment, enquiry or plan open at the start
BYTES_PER_POST_DAY = 24.0  # a staff pool's roster draws, per post and working day
SECONDS_PER_CONTACT = 8e-5
SECONDS_PER_HISTORY_CONTACT = 2e-6
SECONDS_PER_DOWNSTREAM_ITEM = 1e-5
MAX_CONTACTS_PER_REP = 500_000  # run and declared backlog together (about 40 s when saturated)
MAX_POSTS_PER_POOL = 1_000
MAX_SIMULATED_DAYS = 5 * 366
FIRST_YEAR, LAST_YEAR = 1950, 2100
FRONT_DOOR_BACKLOG = ("emails_unread", "ppns_waiting", "domestic_ppns_waiting")

TIME_COLUMNS = (
    "arrival", "decided", "conversation_queue", "conversation_start", "conversation_end",
    "screen_queue", "screen_start", "screen_end", "direction_queue", "direction_start",
    "direction_end", "cotriage_queue", "cotriage_start", "cotriage_end", "dram_release",
    "strategy_meeting", "s47_start",
)


@dataclass
class RepOutput:
    rep: int
    monthly: pd.DataFrame
    warnings: list[Saturation]
    events: pd.DataFrame | None = None
    # when the contacts the scenario declares open at the start (`backlog`) were all decided
    # (sim.measures.metrics.backlog_cleared_at); None if none were declared or some were still open at the end
    backlog_cleared: datetime | None = None
    rota: pd.DataFrame | None = None  # the reported period's rota (rota_rows), what rota.csv shows


@dataclass
class RunResults:
    scenario: Scenario
    seed: int
    reps: int
    monthly: pd.DataFrame
    summary: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    events: pd.DataFrame | None = None
    failures: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    broken_pool: bool = False  # the executor passed in lost a worker and cannot be used again
    backlog: BacklogClearance | None = None  # when the declared contact backlog was cleared
    rota: pd.DataFrame | None = None  # every replication's rota_rows, in rep order (rota.csv)


class AllReplicationsFailed(RuntimeError):
    """No replication finished; `failures` lists each one with its seed."""

    def __init__(self, failures: list[tuple[int, str]]):
        self.failures = sorted(failures)
        super().__init__(f"every replication failed ({len(failures)}); the first: "
                         + (self.failures[0][1] if failures else "none ran"))


def events_table(res: RepResult) -> pd.DataFrame:
    """The event log of one replication as a user reads it: one row per contact, real times.

    Only contacts that arrived in the reported period are listed (warm-up and cool-down
    contacts are simulated but not reported).
    """
    c = res.contacts
    sc, cal = res.scenario, res.cal
    t0 = cal.minutes_at(sc.run.start)
    t1 = cal.minutes_at(sc.run.end) + 1440.0
    keep = (c["arrival"] >= t0) & (c["arrival"] < t1)
    c = c.loc[keep].copy()
    for col in TIME_COLUMNS:
        c[col] = cal.to_datetime(c[col].to_numpy())
    within = cal.within_one_working_day(res.contacts.loc[keep, "arrival"].to_numpy(),
                                        res.contacts.loc[keep, "decided"].to_numpy())
    c["completed_within_1wd"] = within
    pools = np.asarray(POOLS)
    for stage, pool in (("conversation", "csw"), ("direction", "ps"), ("cotriage", "cotriage")):
        s = c.pop(f"{stage}_server").to_numpy()
        c[f"{stage}_by"] = np.where(s >= 0, np.char.add(f"{pool}-", s.astype(str)), "")
    s = c.pop("screen_server").to_numpy()
    sp = c.pop("screen_pool").to_numpy()
    c["screen_by"] = np.where(s >= 0, np.char.add(np.char.add(pools[np.maximum(sp, 0)], "-"),
                                                  s.astype(str)), "")
    c.insert(0, "rep", res.rep)
    return c.reset_index(drop=True)


ROTA_COLUMNS = ("rep", "day", "pool", "posts_filled", "on_leave", "sick", "on_duty", "min_cover",
                "cover_kept", "frontdoor_hours", "response_hours")


def rota_rows(res: RepResult) -> pd.DataFrame:
    """The rota of one replication as a manager checks it (rota.csv): one row per working day of
    the reported period (run.start to run.end; warm-up and cool-down days are simulated but not
    reported) and front-door pool. `response_hours` (hours of management response) is the
    rota's own when the model records it, else 0. Compact types: a long run's main process
    holds every replication's rows."""
    r, run = res.rota, res.scenario.run
    day = pd.to_datetime(r["day"])
    keep = ((day >= pd.Timestamp(run.start)) & (day <= pd.Timestamp(run.end))).to_numpy()
    r = r.loc[keep]
    out = pd.DataFrame({
        "rep": np.full(len(r), res.rep, dtype=np.int32),
        "day": day[keep].to_numpy(dtype="datetime64[D]"),
        "pool": pd.Categorical(r["pool"].to_numpy(), categories=POOLS),
        "posts_filled": r["posts_filled"].to_numpy(dtype=np.float32),
        **{k: r[k].to_numpy(dtype=np.int16) for k in ("on_leave", "sick", "on_duty")},
        "min_cover": r["min_cover"].to_numpy(dtype=np.float32),
        "cover_kept": r["cover_kept"].to_numpy(dtype=bool),
        "frontdoor_hours": r["frontdoor_hours"].to_numpy(dtype=float),
        "response_hours": (r["response_hours"].to_numpy(dtype=float) if "response_hours" in r
                           else np.zeros(len(r))),
    })
    return out.sort_values(["day", "pool"], kind="stable").reset_index(drop=True)[list(ROTA_COLUMNS)]


def saturation_summary(found: list[Saturation], reps: int, days: float) -> list[str]:
    """One line per saturated queue across replications: which, how large, from when."""
    # where used: `check` stays quick (top of module)
    from sim.model.downstream import TEAM_LEVEL_SCALE, TEAM_PATHS

    lines = []
    for pool in sorted({s.pool for s in found}):
        hits = [s for s in found if s.pool == pool]
        waiting = sorted(s.waiting for s in hits)
        size = f"{waiting[0]:,}" if waiting[0] == waiting[-1] else f"{waiting[0]:,} to {waiting[-1]:,}"
        path = TEAM_PATHS.get(pool)
        label = (f"{POOL_SHORT_NAMES[pool]} ({pool})" if pool in POOL_SHORT_NAMES
                 else f"{setting_title(tuple(path.split('.'))).lower()} ({path})" if path else pool)
        lines.append(
            f"saturated: the {label} queue held {size} items at the end of the period, more than"
            f" {days * TEAM_LEVEL_SCALE.get(pool, 1):g} days of its own demand (about {hits[0].limit:,.0f}),"
            f" in {len(hits)} of"
            f" {reps} replications, and stayed above that level from {min(s.since for s in hits)}"
            f" at the earliest; measures from then on reflect a growing backlog")
    return lines


def _walk_pools(node: object, path: str) -> Iterator[tuple[str, StaffPool]]:
    if isinstance(node, StaffPool):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk_pools(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, val in node.items():
            yield from _walk_pools(val, f"{path}.{key}")


def check_workload(scenario: Scenario, origin: str | None = None, reps: int | None = None) -> None:
    """Refuse, before anything runs, a scenario this machine cannot simulate in bounded time
    and memory: one line naming the setting, like any invalid scenario (ScenarioError).

    Counts what one replication simulates (the contacts of the simulated span, the declared
    backlog, the generated history, the staff rosters) against the budget above, and `reps`
    replications (default the scenario's run.reps) against RUN_CPU_HOURS_BUDGET. `origin`
    (the file or upload name) starts the message; by default the scenario's name."""
    try:
        _check_workload(scenario, scenario.run.reps if reps is None else reps)
    except ScenarioError as exc:
        raise ScenarioError(f"{origin or scenario.name}: {exc}") from None


@dataclass
class Workload:
    """What one replication simulates, and its estimated peak memory and time."""

    contacts: float  # expected contacts arriving in the simulated span
    backlog_contacts: int  # declared waiting at the start
    history_contacts: float  # expected contacts of the generated history
    downstream_items: int  # declared open downstream at the start
    parts_mb: dict[str, tuple[str, float]]  # setting -> (what, estimated MB)
    parts_s: dict[str, tuple[str, float]]  # setting -> (what, estimated seconds)

    @property
    def memory_mb(self) -> float:
        return BASE_MB + sum(mb for _, mb in self.parts_mb.values())

    @property
    def seconds(self) -> float:
        return 1.0 + sum(sec for _, sec in self.parts_s.values())


def _expected_contacts(scenario: Scenario, first: date, last: date) -> float:
    demand = scenario.demand.contacts_monthly
    expected, day = 0.0, first
    while day <= last:
        expected += demand.at(day.year, day.month) / calendar.monthrange(day.year, day.month)[1]
        day += timedelta(days=1)
    return expected


def estimate_workload(scenario: Scenario) -> Workload:
    """The work one replication of `scenario` makes, with its estimated memory and time (the
    costs measured above); for a scenario check_workload has not refused for its span."""
    from sim.model.children import history_days  # where used: `check` stays quick (top of module)

    run, bl = scenario.run, scenario.backlog
    first = run.start - timedelta(days=int(round(run.warmup_days.value)))
    last = run.end + timedelta(days=int(round(run.cooldown_days.value)))
    contacts = _expected_contacts(scenario, first, last)
    months = int(scenario.children.history_months.value)
    back = history_days(first, months)
    history = _expected_contacts(scenario, first - timedelta(days=back), first - timedelta(days=1))
    fd_items = {name: int(getattr(bl, name).value) for name in FRONT_DOOR_BACKLOG}
    ds_items = {name: int(getattr(bl, name).value) for name in type(bl).model_fields
                if name not in FRONT_DOOR_BACKLOG}
    n_back, n_down = sum(fd_items.values()), sum(ds_items.values())
    attempts = scenario.abandonment.max_attempts
    fd = contacts + n_back
    working_days = ((last - first).days + 1) * len(scenario.calendar.working_weekdays) / 7
    parts_mb = {
        "demand.contacts_monthly": (f"about {contacts:,.0f} contacts in the simulated span",
                                    contacts * KB_PER_CONTACT / 1024),
        f"backlog.{max(fd_items, key=fd_items.get)}": (f"{n_back:,} contacts declared waiting",
                                                       n_back * KB_PER_CONTACT / 1024),
        "abandonment.max_attempts": (f"{attempts} call attempts for each of {fd:,.0f} contacts",
                                     fd * attempts * KB_PER_CONTACT_ATTEMPT / 1024),
        "children.history_months": (f"about {history:,.0f} contacts in {months} months of history",
                                    history * KB_PER_HISTORY_CONTACT / 1024),
        f"backlog.{max(ds_items, key=ds_items.get)}": (
            f"{n_down:,} downstream items declared open", n_down * KB_PER_DOWNSTREAM_ITEM / 1024),
    }
    for path, pool in _walk_pools(scenario, ""):
        est = pool.establishment
        posts = max([*est.levels(), est.range[1]])
        parts_mb[f"{path}.establishment"] = (f"rosters of up to {posts:,.0f} posts",
                                             posts * working_days * BYTES_PER_POST_DAY / 2**20)
    parts_s = {
        "demand.contacts_monthly": (f"about {contacts:,.0f} contacts", contacts * SECONDS_PER_CONTACT),
        f"backlog.{max(fd_items, key=fd_items.get)}": (f"{n_back:,} contacts declared waiting",
                                                       n_back * SECONDS_PER_CONTACT),
        "children.history_months": (f"about {history:,.0f} contacts of history",
                                    history * SECONDS_PER_HISTORY_CONTACT),
        f"backlog.{max(ds_items, key=ds_items.get)}": (f"{n_down:,} downstream items",
                                                       n_down * SECONDS_PER_DOWNSTREAM_ITEM),
    }
    return Workload(contacts, n_back, history, n_down, parts_mb, parts_s)


def _check_workload(scenario: Scenario, reps: int) -> None:
    run = scenario.run
    warm, cool = int(round(run.warmup_days.value)), int(round(run.cooldown_days.value))
    length = (run.end - run.start).days + 1
    span = warm + length + cool
    if span > MAX_SIMULATED_DAYS:
        biggest = max((warm, "run.warmup_days"), (cool, "run.cooldown_days"), (length, "run"))[1]
        raise ScenarioError(
            f"{biggest}: warm-up {warm:,} + run {length:,} + cool-down {cool:,} days make a simulated"
            f" span of {span:,} days; the simulator handles at most {MAX_SIMULATED_DAYS:,}")
    try:
        first, last = run.start - timedelta(days=warm), run.end + timedelta(days=cool)
    except OverflowError:
        first, last = date.min, date.max
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise ScenarioError(
            f"run: the simulated span {first} to {last} (with warm-up and cool-down) must lie within"
            f" {FIRST_YEAR} to {LAST_YEAR}, the years the calendar covers")
    for path, pool in _walk_pools(scenario, ""):
        est = pool.establishment
        most = max([*est.levels(), est.range[1]])
        if most > MAX_POSTS_PER_POOL:
            raise ScenarioError(
                f"{path}.establishment: up to {most:,.0f} posts (value, default or range); the"
                f" simulator handles at most {MAX_POSTS_PER_POOL:,} posts in a pool")
    work = estimate_workload(scenario)
    if work.contacts + work.backlog_contacts > MAX_CONTACTS_PER_REP:
        if work.contacts >= work.backlog_contacts:
            raise ScenarioError(
                f"demand.contacts_monthly: about {work.contacts:,.0f} contacts in one replication"
                f" ({span:,} simulated days) and {work.backlog_contacts:,} declared waiting; the"
                f" simulator handles at most {MAX_CONTACTS_PER_REP:,} (fewer contacts a month or a"
                " shorter run)")
        setting = max(FRONT_DOOR_BACKLOG, key=lambda n: getattr(scenario.backlog, n).value)
        raise ScenarioError(
            f"backlog.{setting}: {work.backlog_contacts:,} contacts declared waiting and about"
            f" {work.contacts:,.0f} arriving in one replication; the simulator handles at most"
            f" {MAX_CONTACTS_PER_REP:,}")
    for total, budget, unit, parts in ((work.memory_mb, REP_MEMORY_BUDGET_MB, "MB", work.parts_mb),
                                       (work.seconds, REP_SECONDS_BUDGET, "s", work.parts_s)):
        if total > budget:
            setting, (what, _) = max(parts.items(), key=lambda kv: kv[1][1])
            raise ScenarioError(
                f"{setting}: {what} make one replication need about {total:,.0f} {unit} with the"
                f" rest it simulates; the budget is {budget:,} {unit} a replication (docs/model.md,"
                " Workload budget)")
    hours = reps * work.seconds / 3600
    if hours > RUN_CPU_HOURS_BUDGET:
        raise ScenarioError(
            f"run.reps: {reps:,} replications of about {work.seconds:,.0f} s each make about"
            f" {hours:,.0f} hours of computing; at most {RUN_CPU_HOURS_BUDGET} (fewer replications"
            " or a smaller scenario)")


def preload() -> None:
    """Import the model and the measures now, not inside the first replication.

    A forked worker then starts with them loaded, and an interrupt cannot land inside their
    (compiled) imports, which would leave them half-initialised for the next replication.
    """
    import sim.measures.metrics  # noqa: F401
    import sim.model.downstream  # noqa: F401
    import sim.model.frontdoor  # noqa: F401


def replicate(scenario: Scenario, seed: int, rep: int, keep_events: bool = False) -> RepOutput:
    """One replication, returning only what was asked for (top level so it pickles)."""
    # where used: `check` stays quick (top of module)
    from sim.measures.metrics import backlog_cleared_at, monthly
    from sim.model.downstream import saturation as downstream_saturation
    from sim.model.replication import simulate

    check_workload(scenario, reps=1)
    res = simulate(scenario, seed, rep)
    ev = events_table(res) if keep_events else None
    return RepOutput(rep, monthly(res), [*res.warnings, *downstream_saturation(res)], ev,
                     backlog_cleared_at(res), rota_rows(res))


def keeps_events(keep_events: bool | str, rep: int) -> bool:
    """Whether replication `rep` returns its event log: True every one, "first" only
    replication 0 (so a run writing one log holds one in memory, not one per replication)."""
    return keep_events == "first" and rep == 0 if isinstance(keep_events, str) else bool(keep_events)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _failure(rep: int, seed: int, why: str) -> tuple[int, str]:
    return rep, _one_line(f"replication {rep} (seed {seed}, spawn key ({rep},)) failed: {why}")


def _raise_if_interrupted(fut: Future) -> None:
    """Ctrl-C inside a replication that ran in this process (a serial executor) stops the run."""
    if fut.done() and not fut.cancelled():
        exc = fut.exception()
        if exc is not None and not isinstance(exc, Exception):
            raise exc


class _Isolated:
    """Runs replications each in a process of its own (at most `workers` at a time), so a
    replication that kills its process loses nothing else. Ctrl-C stops every one of them."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.workers = max(1, getattr(pool, "_max_workers", None) or os.cpu_count() or 1)
        ctx = getattr(pool, "_mp_context", None) or multiprocessing.get_context()
        if ctx.get_start_method() == "fork":  # forking from this (threaded) process can deadlock
            ctx = multiprocessing.get_context("spawn")
        self.options = {"mp_context": ctx,
                        "initializer": getattr(pool, "_initializer", None),
                        "initargs": getattr(pool, "_initargs", ())}
        self.running: set[ProcessPoolExecutor] = set()
        self.lock = threading.Lock()

    def _one(self, *args) -> RepOutput:
        with ProcessPoolExecutor(max_workers=1, **self.options) as single:
            with self.lock:
                self.running.add(single)
            try:
                return single.submit(replicate, *args).result()
            finally:
                with self.lock:
                    self.running.discard(single)

    def run(self, scenario: Scenario, seed: int, reps: list[int], keep_events: bool | str
            ) -> tuple[list[RepOutput], list[tuple[int, str]]]:
        outputs, failures = [], []
        threads = ThreadPoolExecutor(max_workers=min(self.workers, len(reps)))
        try:
            futures = {threads.submit(self._one, scenario, seed, r, keeps_events(keep_events, r)): r
                       for r in reps}
            for fut in as_completed(futures):
                rep = futures[fut]
                try:
                    outputs.append(fut.result())
                except BrokenProcessPool:
                    failures.append(_failure(rep, seed, "its worker process died (BrokenProcessPool),"
                                             " also when run again in a process of its own"))
                except Exception as exc:  # noqa: BLE001 - reported with its seed, the rest kept
                    failures.append(_failure(rep, seed, f"{type(exc).__name__}: {exc}"))
        except BaseException:
            with self.lock:
                for single in list(self.running):
                    terminate_pool(single)
            threads.shutdown(wait=False, cancel_futures=True)
            raise
        threads.shutdown()
        return outputs, failures


def run_replications(scenario: Scenario, reps: int | None = None, seed: int | None = None,
                     executor: Executor | None = None, keep_events: bool | str = False,
                     progress: Callable[[Iterable], Iterable] | None = None,
                     done: Iterable[RepOutput] = ()) -> RunResults:
    """Run `reps` replications of one scenario and gather their measures in rep order.

    `keep_events`: True keeps every replication's event log, "first" only replication 0's
    (what `run --events first` writes), False none. The main process holds each finished
    replication's monthly rows, rota rows (rota_rows, about 45 bytes a working day and pool)
    and warnings, and only the event logs asked for, so its memory grows with the replications
    by those rows alone.

    `done` holds replications of this scenario and seed already run (e.g. while choosing the
    replication count): they are used as they are, not run again. Their event logs are
    needed when `keep_events` asks for them.

    Raises ScenarioError if the scenario is beyond what can be simulated (check_workload, with
    `reps`) and AllReplicationsFailed if no replication finished; otherwise failed replications
    are listed in `failures` with their seeds and the results of the others are returned.
    """
    reps = scenario.run.reps if reps is None else reps
    seed = scenario.run.seed if seed is None else seed
    check_workload(scenario, reps=reps)
    preload()
    own = executor is None
    executor = executor or SerialExecutor()
    outputs: dict[int, RepOutput] = {}
    for o in done:
        if o.rep < reps and (o.events is not None or not keeps_events(keep_events, o.rep)):
            outputs[o.rep] = _slim(o, keep_events)
    todo = [r for r in range(reps) if r not in outputs]
    failures: list[tuple[int, str]] = []
    lost: list[int] = []
    try:
        futures: dict[Future, int] = {}
        for k, r in enumerate(todo):
            try:
                fut = executor.submit(replicate, scenario, seed, r, keeps_events(keep_events, r))
            except BrokenProcessPool:
                lost.extend(todo[k:])
                break
            _raise_if_interrupted(fut)
            futures[fut] = r
        finished = _Sized(as_completed(futures), len(futures))
        for fut in finished if progress is None else progress(finished):
            rep = futures.pop(fut)  # the future (and its result) is not kept once read
            try:
                outputs[rep] = _slim(fut.result(), keep_events)
            except BrokenProcessPool:
                lost.append(rep)
            except Exception as exc:  # noqa: BLE001 - one failed replication must not lose the rest
                failures.append(_failure(rep, seed, f"{type(exc).__name__}: {exc}"))
    finally:
        if own:
            executor.shutdown()
    notes = []
    if lost:
        lost.sort()
        if isinstance(executor, ProcessPoolExecutor):
            # a broken pool's surviving workers would otherwise keep its shutdown waiting forever
            end_workers(list((getattr(executor, "_processes", None) or {}).values()))
            notes.append(_one_line(
                f"a worker process died during the run (BrokenProcessPool); replications"
                f" {_ranges(lost)} were run again, each in a process of its own"))
            again, failed = _Isolated(executor).run(scenario, seed, lost, keep_events)
            outputs.update((o.rep, _slim(o, keep_events)) for o in again)
            failures += failed
        else:
            failures += [_failure(r, seed, "its worker process died (BrokenProcessPool)") for r in lost]
    return gather(scenario, seed, reps, list(outputs.values()), keep_events, failures, notes, bool(lost))


def gather(scenario: Scenario, seed: int, reps: int, outputs: Iterable[RepOutput],
           keep_events: bool | str = False, failures: Iterable[tuple[int, str]] = (),
           notes: Iterable[str] = (), broken_pool: bool = False) -> RunResults:
    """The results of finished replications, in rep order: what `run_replications` returns,
    and what the app shows while the rest of a run is still going (the same figures, so a run
    shown step by step ends exactly where one run at once does)."""
    ordered = sorted(outputs, key=lambda o: o.rep)
    failures = sorted(failures)
    if not ordered:
        raise AllReplicationsFailed(failures)
    from sim.measures.metrics import summarise  # where used: `check` stays quick (top of module)

    monthly_all = pd.concat([o.monthly for o in ordered], ignore_index=True)
    events = None
    if keep_events:
        logs = [o.events for o in ordered if o.events is not None]
        # none when the one replication asked for failed: an empty log, not a missing one
        events = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame({"rep": pd.Series(dtype=int)})
    warnings = saturation_summary([w for o in ordered for w in o.warnings], len(ordered),
                                  scenario.run.saturation_queue_days.value)
    rotas = [o.rota for o in ordered if o.rota is not None]
    rota = pd.concat(rotas, ignore_index=True) if rotas else None
    return RunResults(scenario, seed, reps, monthly_all, summarise(monthly_all), warnings,
                      events, failures, list(notes), broken_pool, backlog_clearance(scenario, ordered), rota)


def _slim(out: RepOutput, keep_events: bool | str) -> RepOutput:
    """A replication's output without an event log nobody asked for (one from `done` may
    carry it): the main process keeps only what the results need."""
    if out.events is not None and not keeps_events(keep_events, out.rep):
        return dataclasses.replace(out, events=None)
    return out


class _Sized:
    """An iterator that knows its length (replications still to run), for progress bars."""

    def __init__(self, it: Iterator, n: int) -> None:
        self.it, self.n = it, n

    def __iter__(self) -> Iterator:
        return self.it

    def __len__(self) -> int:
        return self.n
