"""Hours a full-time post works in a month: the divisor that turns hours of work into posts.

A board asks how many posts a change frees or needs, not how many hours; the conversion is a
stated assumption with its source, like every number in a scenario, so it is a sourced scalar
here rather than a bare constant.
"""

from __future__ import annotations

from sim.scenario.params import Scalar

DAYS_A_YEAR = 365.25
WEEKS_A_YEAR = DAYS_A_YEAR / 7
HOURS_A_WEEK = 37.0  # NJC Green Book standard working week
LEAVE_DAYS = 27.0  # annual leave (judgement, within the Green Book's 21 to 26+ and local terms)
BANK_HOLIDAYS = 8.0  # England
WORKING_WEEKS = WEEKS_A_YEAR - (LEAVE_DAYS + BANK_HOLIDAYS) / 5

FTE_HOURS_A_MONTH = Scalar(
    value=round(HOURS_A_WEEK * WORKING_WEEKS / 12, 1),
    range=(120.0, round(HOURS_A_WEEK * WEEKS_A_YEAR / 12, 1)),
    unit="hours a month worked by one full-time post",
    provenance="judgement",
    source="37 hours a week (the standard full-time week of the NJC for Local Government Services,"
           " 'Green Book', which covers council social work staff) x 45.2 working weeks a year"
           " (52.2 weeks less 27 days' annual leave and 8 bank holidays in England) / 12 months."
           " The leave is a judgement: the Green Book's minimum is 21 days rising to 26 after five"
           " years, and councils often give more. The range runs from 120 (more sickness, training"
           " and supervision days) to the contracted 160.9 hours with no leave at all.",
    note="Task hours are time on front-door tasks only; a post also spends time on supervision,"
         " meetings and travel, so hours saved convert to fewer posts than the same hours of a"
         " rota would.",
)


def fte(hours: float, months: float = 1.0) -> float:
    """Hours worked over `months` (a part month as a fraction) as full-time posts."""
    return hours / (FTE_HOURS_A_MONTH.value * months)
