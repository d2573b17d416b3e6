"""When police co-triage saves supervisor time and when it costs it: the break-even.

Per non-domestic PPN co-triaged, with S the mean supervisor screening time of such a PPN
(`service.ppn_screen_minutes` x the PPN quality's effort factor), C the mean co-triage time
(`cotriage.minutes`), f the screening effort left after co-triage (`cotriage.screen_effort_after`)
and p the share the pair settles, supervisor minutes saved are

    saved = S x (1 - (1 - p) x f) - C,

since the pair's supervisor spends C on each PPN (and, from the pool, works the ordinary queue
otherwise), a settled PPN needs no screening and an unsettled one f of it. p = (share ending in
information and advice or no further action + share of referrals the room turns into advice x
referral share) x `cotriage.closed_share`, from the written outcome shares of non-domestic PPNs
at the scenario's PPN quality. Co-triage costs supervisor time once C passes
C* = S x (1 - (1 - p) f), or once p falls below p* = 1 - (1 - C/S) / f.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.sampling import IA, NFA, REF, outcome_tables
from sim.scenario.schema import CHANNELS, SOURCES, Scenario


@dataclass(frozen=True)
class BreakEven:
    """The break-even of one scenario's co-triage, in minutes and shares of PPNs."""

    screen_minutes: float  # S: mean supervisor screening time of a non-domestic PPN
    cotriage_minutes: float  # C: mean co-triage time, as set
    settled_share: float  # p: share of co-triaged PPNs the pair settles, as set
    closed_share: float  # cotriage.closed_share as set
    settleable_share: float  # share of co-triaged PPNs that could be settled (p / closed_share)
    saved_minutes: float  # supervisor minutes saved per PPN co-triaged (negative: a cost)
    max_cotriage_minutes: float  # C*: co-triage time at which nothing is saved
    min_settled_share: float | None  # p*: settled share at which nothing is saved (None: none can)
    min_closed_share: float | None  # p* as a closed_share (None: unreachable, or none needed)

    def text(self) -> str:
        """One line for the compare output."""
        sign = "saves" if self.saved_minutes >= 0 else "costs"
        p = self.min_settled_share
        if p is None or p > self.settleable_share:
            share = "whatever share it settles (it cannot settle enough at this length)"
        elif p <= 0:
            share = (f"never for the share it settles (settling none it still breaks even or saves;"
                     f" set: {100 * self.settled_share:.1f}%)")
        else:
            share = (f"if it settles fewer than {100 * p:.1f}% of the PPNs it sees (closed share"
                     f" {100 * (self.min_closed_share or 0.0):.1f}%; set: {100 * self.settled_share:.1f}%,"
                     f" closed share {100 * self.closed_share:.0f}%)")
        return (f"co-triage {sign} {abs(self.saved_minutes):.1f} supervisor minutes per non-domestic"
                f" PPN co-triaged (screening one takes {self.screen_minutes:.1f} min); it costs"
                f" supervisor time once a co-triage takes more than {self.max_cotriage_minutes:.1f} min"
                f" on average (set: {self.cotriage_minutes:.1f}), or {share}")


def ppn_screen_mean(sc: Scenario) -> float:
    """Mean supervisor screening minutes of a non-domestic PPN at the scenario's PPN quality."""
    q = sc.ppn

    def effort(x: float) -> float:
        return q.effort_at_zero_quality.value + (q.effort_at_full_quality.value
                                                 - q.effort_at_zero_quality.value) * x

    factor = effort(q.quality.value) / effort(q.reference_quality.value)
    return sc.service.ppn_screen_minutes.mean.value * factor


def break_even(sc: Scenario) -> BreakEven:
    """The break-even of the scenario's co-triage settings (whether or not co-triage is on)."""
    ct = sc.cotriage
    written, _ = outcome_tables(sc)
    p = written[SOURCES.index("police"), CHANNELS.index("ppn_nondomestic")]
    settleable = float(p[IA] + p[NFA] + p[REF] * ct.outcome_effects.referral_to_advice.value)
    settled = settleable * ct.closed_share.value
    s, c, f = ppn_screen_mean(sc), ct.minutes.mean.value, ct.screen_effort_after.value
    saved = s * (1 - (1 - settled) * f) - c
    p_star = 1 - (1 - c / s) / f if f > 0 else None
    reachable = p_star is not None and 0 < p_star <= settleable
    closed_star = p_star / settleable if reachable else None
    return BreakEven(screen_minutes=s, cotriage_minutes=c, settled_share=settled,
                     closed_share=ct.closed_share.value, settleable_share=settleable,
                     saved_minutes=saved, max_cotriage_minutes=s * (1 - (1 - settled) * f),
                     min_settled_share=p_star, min_closed_share=closed_star)
