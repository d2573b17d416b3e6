"""The dated start of the target search on the model itself (few replications, short runs): from
the run's first month it is the whole-run lever; from a later month the months before it are
the file's own for every measure of contacts arriving in them; and `python -m sim target` runs it
end to end and refuses a start outside the run in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import sim.cli
import sim.experiments.runner
from sim.cli import EXIT_INPUT, EXIT_OK
from sim.experiments import frontier as fr
from sim.experiments.levers import LEVERS
from sim.experiments.runner import run_replications
from tests.helpers import cli_exit, short_run_file, variant

# Measures of the contacts arriving in a month, settled when they arrive (channel, outcome):
# exactly the file's own in the months before a start of staffing, the conversation effect or PPN
# quality. A phone shift keeps only the counts by channel (CHANNELS): the model's draws for earlier
# contacts depend on how many later contacts come by each channel, so the months before it are
# other draws from the same settings.
ARRIVING = ("contacts", "police_contacts", "phone_contacts", "email_contacts", "ppn_contacts",
            "edt_contacts", "referrals", "pct_contacts_to_referral", "info_advice", "early_help", "nfa",
            "police_info_advice", "strategy_meetings", "s47_enquiries")
CHANNELS = ("contacts", "police_contacts", "phone_contacts", "email_contacts", "ppn_contacts")


@pytest.fixture(scope="module")
def quarter():
    """July to September 2023 with the shortest warm-up."""
    return variant({"run": {"warmup_days": {"value": 28}}}, start="2023-07-01", end="2023-09-30")


def _monthly(sc, reps: int = 2) -> pd.DataFrame:
    return run_replications(sc, reps=reps, seed=11).monthly


def _same_before(a: pd.DataFrame, b: pd.DataFrame, cols: tuple[str, ...], month: str) -> None:
    before = a["month"] < month
    for col in cols:
        assert a.loc[before, col].tolist() == b.loc[before, col].tolist(), col


@pytest.mark.slow
def test_a_start_in_the_first_month_is_the_whole_run_lever_and_a_later_one_leaves_the_months_before(quarter):
    p = fr.plan(quarter, [("ps_posts", 1.0), ("conversation_effect", 1.0), (fr.START, 1.0)],
                "within_1wd_95", reps=2, values=3)
    ks = {c.lever.key: c.steps for c in p.choices}
    assert ks[fr.START] == (0, 1, 2)  # September, August, July (the whole run)
    ps, conv = ks["ps_posts"][-1], ks["conversation_effect"][-1]
    own = _monthly(quarter)
    whole = _monthly(p.apply((ps, conv, 2)))
    by_hand = _monthly(LEVERS["conversation_effect"].apply(
        LEVERS["ps_posts"].apply(quarter, p.choices[0].value(ps)), 0.5))
    pd.testing.assert_frame_equal(whole, by_hand)
    september = _monthly(p.apply((ps, conv, 0)))
    _same_before(own, september, ARRIVING, "2023-09")
    # from September on the levers act (fewer referrals after a conversation), and over the whole
    # run they act in July too: the start is what keeps the months before it
    sep, july = own["month"] == "2023-09", own["month"] == "2023-07"
    assert september.loc[sep, "referrals"].sum() < own.loc[sep, "referrals"].sum()
    assert whole.loc[july, "referrals"].sum() < own.loc[july, "referrals"].sum()


@pytest.mark.slow
def test_a_later_phone_shift_keeps_the_contacts_by_channel_before_it(quarter):
    p = fr.plan(quarter, [("phone_shift", 1.0), (fr.START, 1.0)], "within_1wd_95", reps=2, values=3)
    own, august = _monthly(quarter), _monthly(p.apply((p.choices[0].steps[-1], 1)))
    _same_before(own, august, CHANNELS, "2023-08")
    later = own["month"] >= "2023-08"
    assert (august.loc[later, "email_contacts"] < own.loc[later, "email_contacts"]).all()


@pytest.mark.slow
def test_a_dated_change_from_the_first_day_is_not_the_whole_run_lever():
    """Why the first month's start is the whole-run lever and not a dated change from the run's
    first day: the warm-up before that day (the baseline's 56 days) runs on the file's posts, so
    July's supervisors start with its queue."""
    quarter = variant(start="2023-07-01", end="2023-09-30")
    dated = LEVERS["ps_posts"].apply_from(quarter, 11.58, quarter.run.start)
    assert [c.from_date for c in dated.changes] == [date(2023, 7, 1)]
    a, b = _monthly(LEVERS["ps_posts"].apply(quarter, 11.58)), _monthly(dated)
    july = a["month"] == "2023-07"
    assert a.loc[july, "contacts"].tolist() == b.loc[july, "contacts"].tolist()
    assert a.loc[july, "util_ps"].tolist() != b.loc[july, "util_ps"].tolist()


main = cli_exit


@pytest.fixture(scope="module")
def two_months(tmp_path_factory) -> Path:
    return short_run_file(tmp_path_factory.mktemp("scen"), "two months", "2023-08-01", "2023-09-30")


@pytest.mark.slow
def test_the_command_line_searches_a_start_and_writes_it(two_months, tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["target", str(two_months), "--target", "within_1wd_95", "--lever", "ps_posts",
               "--lever", "start_month:0.5", "--values", "2", "--reps", "3", "--executor", "serial",
               "--quiet", "--out", str(out)])
    assert rc == EXIT_OK
    said = capsys.readouterr().out
    assert "start_month: the other levers start at the latest in 2023-09" in said
    assert "one step is starting the other levers one month earlier" in said
    t = pd.read_csv(out / "target.csv")
    # (0, 0), then 6 posts from September and over the whole run; no posts from August is the
    # scenario itself, not run twice
    run = set(zip(t["ps_posts_steps"], t["start_month_steps"], strict=True))
    assert (0, 0) in run and run <= {(0, 0), (6, 0), (6, 1)} and f"{len(t)} points run" in said
    assert set(t["start_month_from"]) <= {"2023-09-01", "whole run"}
    assert (t["cost"] == t["ps_posts_steps"] + 0.5 * t["start_month_steps"]).all()
    assert "start_month: alone it changes nothing" in said


@pytest.fixture
def no_replications(monkeypatch):
    def ran(*a, **k):
        raise AssertionError("replications ran before the input was checked")
    monkeypatch.setattr(sim.experiments.runner, "replicate", ran)


@pytest.mark.parametrize(("args", "words"), [
    (["--lever", "ps_posts", "--lever", "start_month", "--latest-start", "2024-01"],
     "error: --latest-start 2024-01: outside the run (2023-08 to 2023-09); give one of its months"),
    (["--lever", "start_month"], "error: --lever start_month: needs another lever to start"),
    (["--lever", "cotriage_pairs", "--lever", "start_month"],
     "error: --lever cotriage_pairs: cannot start on a date"),
])
def test_a_start_it_cannot_use_is_refused_with_one_line(two_months, capsys, no_replications, tmp_path,
                                                         args, words):
    rc = main(["target", str(two_months), "--target", "within_1wd_95", *args, "--reps", "3",
               "--executor", "serial", "--quiet", "--out", str(tmp_path / "o")])
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert rc == EXIT_INPUT and len(err) == 1 and err[0].startswith(words), err
    assert not (tmp_path / "o").exists()
