"""The Compare page as a board reads it (AppTest): totals and monthly figures in hours, posts and
counts with their intervals, under a caption naming the months compared; and a setting that
cannot act in the period flagged beside its lever and above the comparison."""

from __future__ import annotations

import re

import pytest

from sim.measures.posts import FTE_HOURS_A_MONTH
from tests.app_helpers import fewer_posts, go, lever, open_app, set_lever

pytestmark = [pytest.mark.app, pytest.mark.slow]  # two scenarios are run (about 40 s)

INTERVAL = re.compile(r"^[+-][\d,]+\.\d\d \([+-][\d,]+\.\d\d to [+-][\d,]+\.\d\d\)$")
MONTHS = "Jul 2023, Aug 2023, Sep 2023, Oct 2023, Nov 2023, Dec 2023"


def test_the_board_table_gives_totals_and_months_with_intervals_and_flags_what_cannot_act() -> None:
    at = go(open_app(), "Compare and target")
    at.multiselect(key="library_add").set_value(["baseline.yaml"]).run()
    at.button(key="add_library").click().run()
    go(at, "Change the scenario")
    set_lever(at, "staff.ps.establishment.default", fewer_posts("ps", 2))
    at.toggle(key=lever(at, "cotriage.enabled")).set_value(True).run()
    # beside the lever: the setting by its name, with the date it starts and the period's end
    beside = [w.value for w in at.warning if "Date police co-triage starts" in w.value]
    assert len(beside) == 1 and "22 January 2024, after the period ends (31 December 2023)" in beside[0]
    at.text_input(key=lever(at, "name")).input("fewer supervisors").run()
    at.button(key="save_for_compare").click().run()
    go(at, "Compare and target")
    assert [e.name for e in at.session_state.saved] == ["baseline", "fewer supervisors"]
    at.button(key="run_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]

    # above the result: what changes nothing in these months, named
    flags = [w.value for w in at.warning if w.value.startswith("'fewer supervisors': **Date police")]
    assert flags and "changes nothing in these results" in flags[0]
    # the months, by name, and the first and last day
    assert any(c.value.startswith("Months compared: July to December 2023 (6 months) (01 Jul 2023 to"
                                  f" 31 Dec 2023): {MONTHS}.") for c in at.caption)
    assert any(m.value == "**For the board: hours, posts and counts**" for m in at.markdown)
    board = next(d.value for d in at.dataframe if "'baseline' a month" in d.value.columns)
    rows = board.set_index("measure")
    assert any(m.value == "'fewer supervisors' against 'baseline'" for m in at.markdown)
    a_month, total = "a month on average", "over the period"
    for measure in ("Supervisor hours saved on front-door tasks",
                    "Supervisor time saved, as full-time posts",
                    "Referrals avoided", "Calls abandoned: change",
                    "Supervisors' overtime, whole team: change",
                    "Social workers' overtime, whole team: change"):
        assert INTERVAL.match(rows.loc[measure, a_month]), (measure, rows.loc[measure, a_month])
        assert INTERVAL.match(rows.loc[measure, total]), (measure, rows.loc[measure, total])
    per_post = rows.loc["Supervisors' overtime, per filled post: change"]
    assert INTERVAL.match(per_post[a_month]) and per_post[total] == "a month only (no total)"
    # no co-triage acts in either: its pair rows are left out rather than shown as nothing
    assert "Police officer hours added in co-triage pairs" not in rows.index
    assert list(board.columns[3:]) == [total, a_month]  # the totals lead

    # the numbers behind the cells: posts are the hours saved over one post's hours (six whole
    # months), and over the period the total is the six months' hours
    t = at.session_state.comparison["table"]
    mine = t[t["scenario"] == "fewer supervisors"].set_index(["measure", "month"])
    hours = -mine.loc[("ps_task_hours", "all months"), "diff_from_first"]
    posts = mine.loc[("ps_fte_saved", "all months"), "diff_from_first"]
    assert posts == pytest.approx(hours / FTE_HOURS_A_MONTH.value, rel=1e-9)
    assert rows.loc["Supervisor hours saved on front-door tasks", a_month].startswith(f"{hours:+,.2f} ")
    referrals = mine.loc[("referrals", "period total"), "diff_from_first"]  # fewer is avoided
    assert rows.loc["Referrals avoided", total].startswith(f"{-referrals + 0.0:+,.2f} ")
    months = [f"2023-{m:02d}" for m in range(7, 13)]
    by_month = sum(mine.loc[("ps_task_hours", m), "diff_from_first"] for m in months)
    assert mine.loc[("ps_task_hours", "period total"), "diff_from_first"] == pytest.approx(by_month)


def test_results_give_time_in_hours_and_posts_with_intervals() -> None:
    at = open_app()  # the baseline's first answer comes without asking
    heads = [s.value for s in at.subheader if s.value.startswith("Time, posts and counts")]
    assert heads == ["Time, posts and counts, July to December 2023 (6 months)"]
    table = next(d.value for d in at.dataframe if "over the period" in d.value.columns).set_index("measure")
    monthly = at.session_state.ran.res.monthly
    hours = monthly.groupby("rep")["ps_task_hours"].sum().mean()  # each replication's six months
    cell = table.loc["Practice supervisor hours on front-door tasks", "over the period"]
    assert cell.startswith(f"{hours:,.0f} (95% interval "), cell
    posts = monthly["ps_task_hours"].mean() / FTE_HOURS_A_MONTH.value
    as_posts = "Practice supervisor hours on front-door tasks, as full-time posts"
    cell = table.loc[as_posts, "a month on average"]
    assert cell.startswith(f"{posts:,.2f} (95% interval "), cell
    per_post = "Overtime of practice supervisors, hours a month per filled post"
    assert table.loc[per_post, "over the period"] == "a month only (no total)"
    assert "Police officer hours in co-triage pairs" not in table.index  # no co-triage in 2023
