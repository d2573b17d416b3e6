"""Units and words on the app's pages (issue 16, faults 6 and 7): no raw placeholders, variable
names, validator phrases or document numbers shown to a reader; overtime with its unit and per
post; replications as the scenario file (and so the command line) says; charts that keep their
labels. Expected values come from the scenario files or from the numbers typed in.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from sim.measures.metrics import MEASURES
from tests.app_helpers import go, lever, open_app
from tests.helpers import ROOT, baseline_doc
from ui import charts, params, state
from ui.pages import PAGES

FORBIDDEN = ("{}", "(ps)", "seed 003", "Input should", "(csw)", "nan%")


def every_word(at: AppTest) -> str:
    """The text a reader sees: prose, captions, messages, headings and widget labels and help."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.info, at.error, at.warning, at.success, at.title, at.subheader)
              for e in kind]
    for kind in ("number_input", "text_input", "slider", "toggle", "selectbox", "multiselect"):
        for w in getattr(at, kind):
            parts += [str(getattr(w, "label", "")), str(getattr(w, "help", "") or "")]
    return "\n".join(str(p) for p in parts)


@pytest.mark.app
def test_no_page_shows_raw_placeholders_or_document_numbers() -> None:
    at = open_app()
    for page in PAGES:
        go(at, page)
        words = every_word(at)
        for bad in FORBIDDEN:
            assert bad not in words, (page, bad, words[max(0, words.find(bad) - 200):words.find(bad) + 80])


@pytest.mark.app
def test_a_month_set_where_the_file_lists_none_says_so_in_words() -> None:
    doc = baseline_doc()
    doc["run"]["start"], doc["run"]["end"] = str(doc["run"]["start"]), str(doc["run"]["end"])
    assert doc["staff"]["ps"]["establishment"]["value"] == {}  # the file lists no month
    out = params.apply_edits(doc, {("staff", "ps", "establishment", "value"): {"2023-08": 6.0}})
    note = out["staff"]["ps"]["establishment"]["note"]
    assert "{}" not in note and "none listed" in note


@pytest.mark.parametrize(("text", "words"), [
    (b"extends: baseline\nname: x\nppn: 5\n", "ppn: got 5; must be a group of settings"),
    (b"extends: baseline\nname: x\nrun:\n  seed: 1e12\n", "run.seed: got 1000000000000.0; must be a whole"
                                                          " number written in digits only"),
])
def test_a_refused_upload_is_said_in_plain_words(text: bytes, words: str) -> None:
    msg = state.plain_error(_refusal(text))
    assert words in msg and "Input should" not in msg


def _refusal(text: bytes) -> str:
    try:
        state.parse_upload("u.yaml", text)
    except ValueError as exc:
        return str(exc)
    raise AssertionError("the upload was accepted")


def test_replications_default_to_the_files_own_as_the_command_line(monkeypatch) -> None:
    monkeypatch.delenv("FRONT_DOOR_REPS", raising=False)
    for name in ("baseline.yaml", "monday_backlog.yaml"):
        path = ROOT / "scenarios" / name
        from_file = yaml.safe_load(path.read_text(encoding="utf-8"))
        reps = (from_file.get("run") or {}).get("reps", baseline_doc()["run"]["reps"])
        assert state.default_reps({"run": {"reps": reps}}) == reps == 20


@pytest.mark.app
def test_the_ppn_quality_box_says_why_it_stops_and_where_to_go_beyond() -> None:
    at = go(open_app(), "Change the scenario")
    box = at.number_input(key=lever(at, "ppn.quality.value"))
    assert (box.min, box.max) == tuple(baseline_doc()["ppn"]["quality"]["range"])
    text = (ROOT / "scenarios" / "ppn_quality.yaml").read_text(encoding="utf-8")
    ppn = yaml.safe_load(text)["ppn"]["quality"]
    said = [c.value for c in at.caption if "ppn_quality.yaml" in c.value]
    assert said and f"sets {ppn['value']:g}" in said[0]
    assert f"its own range {ppn['range'][0]:g} to {ppn['range'][1]:g}" in said[0]


def _diff_table(names: list[str], diffs: list[float]) -> pd.DataFrame:
    rows = [{"scenario": n, "measure": "referrals", "month": "all months", "mean": 100.0 + d,
             "diff_from_first": d, "diff_ci_low": d - abs(d) / 2, "diff_ci_high": d + abs(d) / 2}
            for n, d in zip(names, diffs, strict=True)]
    return pd.DataFrame(rows)


def test_the_difference_chart_keeps_every_label_and_an_all_zero_axis_reads_as_numbers() -> None:
    names = ["baseline", "two fewer consultant social workers", "better notices"]
    chart, data, text = charts.difference_chart(_diff_table(names, [0.0, 5.0, -3.0]), "referrals", "baseline")
    assert list(data["scenario"]) == names[1:] and all(f"'{n}'" in text for n in names[1:])
    spec = chart.to_dict()
    y = next(layer["encoding"]["y"] for layer in spec["layer"] if "y" in layer.get("encoding", {}))
    assert y["axis"]["labelOverlap"] is False
    chart, _, _ = charts.difference_chart(_diff_table(names, [0.0, 0.0, 0.0]), "referrals", "baseline")
    x = next(layer["encoding"]["x"] for layer in chart.to_dict()["layer"]
             if "x2" in layer.get("encoding", {}))
    lo, hi = x["scale"]["domain"]
    assert lo < 0 < hi and "f" not in x["axis"]["format"].replace("~g", "")


def test_overtime_is_the_whole_teams_hours_in_a_month() -> None:
    assert charts.unit_of("overtime_hours_csw") == "hours a month, the whole team"
    assert MEASURES["overtime_hours_csw"][1] == "hours"  # the model's own unit, which the app explains


def test_the_month_by_month_difference_chart_shows_a_dip_in_its_month() -> None:
    months = [f"2023-{m:02d}" for m in range(7, 13)]
    diffs = [1.0, -4.0, 1.0, 1.0, 1.0, 1.0]  # a dip in August
    rows = [{"scenario": s, "measure": "referrals", "month": mo,
             "diff_from_first": d if s != "baseline" else 0.0,
             "diff_ci_low": d - 0.5, "diff_ci_high": d + 0.5}
            for s in ("baseline", "summer") for mo, d in zip(months, diffs, strict=True)]
    chart, data, text = charts.difference_by_month_chart(pd.DataFrame(rows), "referrals", "baseline")
    assert sorted(data["month"]) == months and set(data["scenario"]) == {"summer"}
    assert "'summer' from -4.00 (August 2023) to +1.00" in text
