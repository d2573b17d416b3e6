"""Contacts arriving: non-homogeneous Poisson streams per source and channel.

Each stream's monthly volume is spread over the month's hours in proportion to
weekday weight x hour weight (x the bank-holiday factor on bank holidays), so the rate is
piecewise constant by the hour. Counts per hour are Poisson and times are uniform within the
hour, which is an exact draw of that non-homogeneous Poisson process. Every stream has its own
random generators (arrival times, outcome draws, task times, patience, downstream), so changing
one stream's volume leaves every other stream's contacts exactly as they were (common random
numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from sim.model.calendar import WorkCalendar
from sim.model.dated import spell_of_days, timeline
from sim.scenario.schema import CHANNELS, PARTNER_SOURCES, SOURCES, Scenario

# One arrival stream per (source, channel) the front door can receive.
STREAMS: tuple[tuple[str, str], ...] = (
    ("police", "ppn_domestic"),
    ("police", "ppn_nondomestic"),
    ("police", "phone"),
    ("police", "email"),
    *((s, c) for s in PARTNER_SOURCES for c in ("phone", "email")),
)
SERVICE_DRAWS = ("conversation", "screen", "direction", "cotriage", "da_screen", "checks")


DECISION_DRAWS = ("outcome", "urgent", "settle", "checks")
DOWNSTREAM_DRAWS = ("strategy", "strategy_delay", "s47", "s47_delay")
CALL_DRAWS = ("patience", "calls_back", "callback_delay")


@dataclass
class Arrivals:
    """All contacts of one replication, sorted by arrival time, with their own random draws.

    Each contact carries the uniforms that fix what happens to it (outcome, task times,
    patience on each call attempt, downstream), drawn from its own stream's generators, so a
    change elsewhere in the scenario leaves them attached to the same contact.
    """

    time: np.ndarray  # minutes since epoch
    source: np.ndarray  # index into SOURCES
    channel: np.ndarray  # index into CHANNELS
    decision: np.ndarray  # (n, len(DECISION_DRAWS)) uniforms
    service: np.ndarray  # (n, len(SERVICE_DRAWS)) uniforms for stage durations
    calls: np.ndarray  # (attempts, n, len(CALL_DRAWS)) uniforms, one block per call attempt
    downstream: np.ndarray  # (n, len(DOWNSTREAM_DRAWS)) uniforms

    def __len__(self) -> int:
        return len(self.time)


def stream_volume(scenario: Scenario, source: str, channel: str, year: int, month: int) -> float:
    """Expected contacts in one calendar month for one (source, channel) stream."""
    d = scenario.demand
    total = d.contacts_monthly.at(year, month)
    police = d.police_monthly.at(year, month)
    if source == "police":
        return police * d.police_channels.value[channel]
    partners = max(total - police, 0.0) * d.partner_sources.value[source]
    phone = d.partner_phone_share[source].value
    return partners * (phone if channel == "phone" else 1.0 - phone)


def _profile_for(channel: str) -> str:
    return "ppn" if channel.startswith("ppn") else channel


def hourly_rates(scenario: Scenario, cal: WorkCalendar, source: str, channel: str) -> np.ndarray:
    """Expected arrivals in each hour of the horizon (days x 24) for one stream.

    A day takes the rate its month's volume and profile give under the settings in force that
    day (dated changes: sim.scenario.timeline), so a change from the 16th of a month changes
    the rate from the 16th.
    """
    tl = timeline(scenario)
    # Whole months covering the horizon, so each month's volume is spread over all its hours.
    first = cal.epoch.replace(day=1)
    last = cal.epoch + timedelta(days=cal.days)
    rates = np.zeros((cal.days, 24))
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        m0, m1 = date(y, m, 1), date(ny, nm, 1)
        ndays = (m1 - m0).days
        dates = [m0 + timedelta(days=i) for i in range(ndays)]
        spell = spell_of_days(tl, dates)
        start = (m0 - cal.epoch).days
        for k in np.unique(spell).tolist():
            month_rates = _month_rates(tl.scenarios[k], cal, source, channel, dates, y, m)
            in_spell = spell == k
            keep = in_spell & (np.arange(ndays) + start >= 0) & (np.arange(ndays) + start < cal.days)
            if month_rates is not None and keep.any():
                rates[np.flatnonzero(keep) + start] = month_rates[keep]
        y, m = ny, nm
    return rates


def _month_rates(scenario: Scenario, cal: WorkCalendar, source: str, channel: str,
                 dates: list[date], year: int, month: int) -> np.ndarray | None:
    """A month's volume spread over its hours by the profile (None when there is none)."""
    prof = scenario.demand.profiles[_profile_for(channel)]
    wk = np.asarray(prof.weekday.value, dtype=float)
    hr = np.asarray(prof.hour.value, dtype=float)
    day_w = np.empty(len(dates))
    for i, d in enumerate(dates):
        w = wk[d.weekday()]
        if d in cal.holidays:
            w *= prof.bank_holiday_factor.value
        day_w[i] = w
    weights = day_w[:, None] * hr[None, :]
    total = weights.sum()
    vol = stream_volume(scenario, source, channel, year, month)
    if total > 0 and vol > 0:
        return vol * weights / total
    return None


def generate(scenario: Scenario, cal: WorkCalendar,
             streams: dict[str, np.random.Generator]) -> Arrivals:
    """Draw every contact of the horizon. `streams` holds one generator per random activity."""
    attempts = scenario.abandonment.max_attempts
    parts: list[tuple] = []
    for source, channel in STREAMS:
        key = f"{source}.{channel}"
        rates = hourly_rates(scenario, cal, source, channel).ravel()
        g_arr = streams[f"{key}/arrivals"]
        counts = g_arr.poisson(rates)
        n = int(counts.sum())
        t = np.repeat(np.arange(rates.size, dtype=float) * 60.0, counts) + g_arr.random(n) * 60.0
        parts.append((
            t, SOURCES.index(source), CHANNELS.index(channel),
            streams[f"{key}/outcome"].random((n, len(DECISION_DRAWS))),
            streams[f"{key}/service"].random((n, len(SERVICE_DRAWS))),
            # attempt-major, so the first k attempts' draws do not depend on the maximum
            streams[f"{key}/abandonment"].random((attempts, n, len(CALL_DRAWS))),
            streams[f"{key}/downstream"].random((n, len(DOWNSTREAM_DRAWS))),
        ))
    t = np.concatenate([p[0] for p in parts])
    order = np.argsort(t, kind="stable")
    return Arrivals(
        time=t[order],
        source=np.concatenate([np.full(len(p[0]), p[1], dtype=np.int8) for p in parts])[order],
        channel=np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])[order],
        decision=np.concatenate([p[3] for p in parts])[order],
        service=np.concatenate([p[4] for p in parts])[order],
        calls=np.concatenate([p[5] for p in parts], axis=1)[:, order],
        downstream=np.concatenate([p[6] for p in parts])[order],
    )
