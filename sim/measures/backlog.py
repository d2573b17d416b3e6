"""When the work a scenario declares open at the start (`backlog`) was cleared, over a run.

A manager's question: "we start Monday with 300 unread emails: when are we clear?". Each
replication reports when its backlog contacts were all decided (sim.measures.metrics.backlog_cleared_at);
this gathers those times into the answer the command line, run.json and the app show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from sim.model.calendar import run_calendar
from sim.scenario.schema import Scenario


class ClearedAt(Protocol):
    """What a replication's output says of its backlog (sim.experiments.runner.RepOutput)."""

    rep: int
    backlog_cleared: datetime | None


def ranges(reps: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2, 5'."""
    parts, start = [], None
    for i, r in enumerate(reps):
        if start is None:
            start = r
        if i + 1 == len(reps) or reps[i + 1] != r + 1:
            parts.append(f"{start}" if start == r else f"{start}-{r}")
            start = None
    return ", ".join(parts)


def _when(t: datetime) -> str:
    """A date and time as a reader says it: 'Thu 5 Oct 2023 09:34' (to the nearest minute)."""
    t = (t + timedelta(seconds=30)).replace(second=0, microsecond=0)
    return f"{t:%a} {t.day} {t:%b %Y %H:%M}"


@dataclass(frozen=True)
class BacklogClearance:
    """When the contacts open at the start (scenario `backlog`: unread emails and waiting PPNs)
    were all decided, in each replication of a run.

    The average is taken on the office-hours clock (the one the 1-working-day measure uses):
    the mean of the office hours each replication took, placed back in office hours, so the
    average of Thursday 16:00 and Friday 12:00 is Friday 10:00 (with a 9-to-5 office), not 02:00
    that night. `working_days` is that mean in working days of office hours from the start.
    """

    emails: int
    ppns: int  # non-domestic and domestic
    start: datetime  # the simulation start, when they were waiting
    stop: datetime  # when the simulation stopped (after the last reported day and the cool-down)
    cleared: tuple[tuple[int, datetime | None], ...]  # (rep, when); None: some still open at `stop`
    mean: datetime | None = None  # average over the replications that cleared it (office hours)
    working_days: float | None = None  # office time from the start to `mean`, in working days

    @property
    def contacts(self) -> int:
        return self.emails + self.ppns

    @property
    def times(self) -> list[datetime]:
        return [t for _, t in self.cleared if t is not None]

    @property
    def not_cleared(self) -> list[int]:
        return [r for r, t in self.cleared if t is None]

    @property
    def earliest(self) -> datetime | None:
        return min(self.times, default=None)

    @property
    def latest(self) -> datetime | None:
        return max(self.times, default=None)

    def what(self) -> str:
        """'300 emails', '20 PPNs' or '320 contacts (300 emails and 20 PPNs)'."""
        if not self.ppns:
            return f"{self.emails:,} email{'s' * (self.emails != 1)}"
        if not self.emails:
            return f"{self.ppns:,} PPN{'s' * (self.ppns != 1)}"
        return f"{self.contacts:,} contacts ({self.emails:,} emails and {self.ppns:,} PPNs)"

    def message(self) -> str:
        """The answer in plain English, saying so plainly if some replications never cleared it."""
        n, k = len(self.cleared), len(self.times)
        reps = f"{n} replication{'s' * (n != 1)}"
        head = f"The {self.what()} open at the start"
        stopped = f"some were still open when the simulation stopped at {_when(self.stop)}"
        if k == 0 or self.mean is None or self.working_days is None:
            where = "in the one replication" if n == 1 else f"in any of the {reps}"
            return f"{head} ({_when(self.start)}) were never all decided, {where}: {stopped}."
        text = (f"{head} were all decided by {_when(self.mean)} on average (earliest"
                f" {_when(self.earliest)}, latest {_when(self.latest)})")
        after = f"{self.working_days:.1f} working days after the start ({_when(self.start)})"
        if k == n:
            every = {1: "the one replication", 2: "both replications"}.get(n, f"all {reps}")
            return f"{text}, in {every}: {after}."
        return (f"{text}, in {k} of the {reps}: {after}. In the other {n - k} (replication"
                f"{'s' * (n - k != 1)} {ranges(self.not_cleared)}) they were never all decided:"
                f" {stopped}.")

    def as_dict(self) -> dict:
        """For run.json: ISO date-times to the second; null where not cleared."""
        def iso(t: datetime | None) -> str | None:
            return None if t is None else (t + timedelta(microseconds=500_000)).replace(
                microsecond=0).isoformat()

        return {"contacts": self.contacts, "emails": self.emails, "ppns": self.ppns,
                "start": iso(self.start), "simulation_stopped": iso(self.stop),
                "replications": len(self.cleared), "replications_cleared": len(self.times),
                "mean": iso(self.mean), "mean_working_days": (None if self.working_days is None
                                                               else round(self.working_days, 3)),
                "earliest": iso(self.earliest), "latest": iso(self.latest),
                "not_cleared_replications": self.not_cleared,
                "by_replication": [{"rep": r, "cleared": iso(t)} for r, t in self.cleared],
                "message": self.message()}


def backlog_clearance(scenario: Scenario, outputs: Iterable[ClearedAt]) -> BacklogClearance | None:
    """When each replication cleared the declared contact backlog; None if none is declared."""
    bl = scenario.backlog
    emails = int(bl.emails_unread.value)
    ppns = int(bl.ppns_waiting.value) + int(bl.domestic_ppns_waiting.value)
    if emails + ppns == 0:
        return None
    cal = run_calendar(scenario)  # the one the replications ran on
    start = datetime(cal.epoch.year, cal.epoch.month, cal.epoch.day)
    stop = start + timedelta(days=cal.days)
    cleared = tuple(sorted(((o.rep, o.backlog_cleared) for o in outputs), key=lambda x: x[0]))
    done = [t for _, t in cleared if t is not None]
    if not done:
        return BacklogClearance(emails, ppns, start, stop, cleared)
    minutes = np.array([(t - start).total_seconds() / 60.0 for t in done])
    if not cal.opens:  # no office hours at all (decided out of hours): the plain average
        return BacklogClearance(emails, ppns, start, stop, cleared,
                                start + timedelta(minutes=float(minutes.mean())), 0.0)
    office = float(cal.working_minutes_before(minutes).mean())
    # back from office minutes to a time: the same office minute of the k-th working day
    # (an exact multiple of a day's office hours is the close of the day before, not the next open)
    k = min(max(int(np.ceil(office / cal.day_length)) - 1, 0), len(cal.opens) - 1)
    mean = start + timedelta(minutes=float(cal.opens_arr[k]) + office - k * cal.day_length)
    return BacklogClearance(emails, ppns, start, stop, cleared, mean, office / cal.day_length)
