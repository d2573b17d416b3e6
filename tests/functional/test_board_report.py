"""The board report: every section, nothing fetched when it opens, user text escaped, and the
assumptions, limits and fit taken from their one source."""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.experiments import board_report as br
from sim.experiments.compare import compare
from sim.experiments.escalation import against_before
from sim.experiments.sensitivity import one_at_a_time
from sim.scenario.loading import load
from sim.scenario.schema import validate
from tests.helpers import ROOT

HOSTILE = '<script>alert("name")</script> & <b>co</b>'
HOSTILE_TEXT = "<img src=x onerror=alert(1)> two posts fewer"
QUESTION = "Can we cut two posts?</p><script>alert('q')</script>"
# what a board expects to find, in this order
SECTIONS = ["The question", "The scenarios and what they change", "The answers", "Month by month",
            "The assumptions that matter most for this answer", "What the model does not represent",
            "How well the model fits the reported months", "How to reproduce this report"]
VARIED = ["staff.csw.leave_rate", "service.conversation_minutes.mean"]


def assert_t_interval(shown: tuple[str, ...], x: np.ndarray) -> None:
    """The (mean, low, high) a page shows equal the mean of `x` and its 95% interval
    t(0.975, n-1) x sd / sqrt(n), with scipy's t rather than the project's."""
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    mean, lo, hi = map(float, shown)
    assert mean == pytest.approx(x.mean(), rel=1e-9)
    assert (lo, hi) == pytest.approx((x.mean() - half, x.mean() + half), rel=1e-9)


class _Parts(HTMLParser):
    """Every tag with its attributes, and the text of each h2."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_h2 = tag == "h2"
        if self._in_h2:
            self.h2.append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


@pytest.fixture(scope="module")
def made():
    base = load(ROOT / "scenarios" / "baseline.yaml").with_run(start="2023-09-01", end="2023-10-31")
    doc = load(ROOT / "scenarios" / "staffing_minus2.yaml").model_dump(mode="json")
    doc["name"], doc["description"] = HOSTILE, HOSTILE_TEXT
    other = validate(doc, "hostile").with_run(start="2023-09-01", end="2023-10-31")
    table, results = compare([base, other], reps=2, seed=3)
    tornado = one_at_a_time(results[0].scenario, reps=1, seed=3, measures=list(br.HEADLINE), only=VARIED)
    entries = br.entries_for([r.scenario for r in results], ["scenarios/baseline.yaml", "hostile.yaml"])
    inputs = br.BoardInputs(entries, table, 2, 3, br.SensitivityTable(tornado, "made by the test"),
                            "python -m sim report scenarios/baseline.yaml hostile.yaml", QUESTION)
    page = br.build_html(inputs)
    parts = _Parts()
    parts.feed(page)
    return page, parts, tornado, results


@pytest.mark.slow
def test_the_report_has_every_section_in_order(made) -> None:
    _, parts, _, _ = made
    assert parts.h2 == SECTIONS


@pytest.mark.slow
def test_the_report_opens_without_a_network(made) -> None:
    page, parts, _, _ = made
    images = [a for tag, a in parts.tags if tag == "img"]
    assert len(images) == len(br.CHARTS)  # every monthly chart is drawn
    for a in images:
        src = a["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert a.get("alt")  # each chart has its words
    for tag, a in parts.tags:
        for key in ("src", "href", "action", "srcset", "poster"):
            assert not re.match(r"\s*(https?:)?//", a.get(key) or ""), (tag, key, a.get(key))
    assert not [t for t, _ in parts.tags if t in ("script", "link", "iframe", "object", "embed")]
    assert "@import" not in page and "url(" not in page


@pytest.mark.slow
def test_user_text_is_escaped(made) -> None:
    page, parts, _, _ = made
    assert "<script>" not in page and "<b>co</b>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; two posts fewer" in page
    assert "Can we cut two posts?&lt;/p&gt;&lt;script&gt;" in page
    # a data attribute holding the name is escaped too, so it cannot close its quote
    assert all(a.get("data-scenario") in ("baseline", HOSTILE) for t, a in parts.tags if "data-scenario" in a)


@pytest.mark.slow
def test_the_scenarios_changes_are_named_in_words(made) -> None:
    page, _, _, _ = made
    # staffing_minus2 sets 10 consultant social worker posts from August 2023 by a step
    assert "Consultant social workers: posts" in page
    assert "12 before 2023-08; from 2023-08: 10" in page


@pytest.mark.slow
def test_differences_are_paired_with_t_intervals(made) -> None:
    """The headline difference equals the mean of the replication-by-replication differences of
    the monthly averages, its interval t(0.975, n-1) x sd / sqrt(n) (scipy's t, not the project's)."""
    page, _, _, results = made
    per = [r.monthly.groupby("rep")["abandoned_calls"].mean() for r in results]
    d = (per[1] - per[0]).to_numpy()
    name = re.escape(HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                     .replace('"', "&quot;"))
    m = re.search(rf'data-measure="abandoned_calls" data-scenario="{name}" data-diff="([^"]+)"'
                  r' data-diff-low="([^"]+)" data-diff-high="([^"]+)"', page)
    assert m is not None
    assert_t_interval(m.groups(), d)


@pytest.mark.slow
def test_the_assumptions_shown_are_the_largest_swings(made) -> None:
    page, _, tornado, _ = made
    t = tornado[tornado["measure"] == "pct_completed_within_1wd"]
    swing = (t["at_high"] - t["at_low"]).abs()
    largest = t.loc[swing.idxmax(), "parameter"]
    base = load(ROOT / "scenarios" / "baseline.yaml")
    shown = br.top_assumptions(tornado, base, ["pct_completed_within_1wd"])
    assert shown["parameter"].iloc[0] == largest
    assert list(shown["swing"]) == sorted(shown["swing"], reverse=True)
    assert "made by the test" in page  # which table it used is said


def test_the_limits_and_the_fit_come_from_their_one_source() -> None:
    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    section = doc.split("### 3.5 ", 1)[1].split("\n## ", 1)[0]
    leads = re.findall(r"^- \*\*(.+?)\*\*", section, re.M)
    items = br.not_represented()
    assert len(items) == len(leads) >= 3
    assert [re.match(r"\*\*(.+?)\*\*", i).group(1) for i in items] == leads
    made_line, bullets, rows = br.calibration_fit()
    report = (ROOT / "calibration" / "report.md").read_text(encoding="utf-8")
    assert made_line and made_line in report
    assert any("held out" in b.lower() for b in bullets)
    assert rows[0][0] == "measure (label)" and len(rows) > 5


def test_a_tornado_that_is_not_one_is_refused_naming_the_column(tmp_path: Path) -> None:
    bad = tmp_path / "tornado.csv"
    bad.write_text("parameter,measure\nstaff.csw.leave_rate,referrals\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no column 'value'"):
        br.read_tornado(bad)


def test_settings_fingerprint_changes_with_any_setting() -> None:
    base = load(ROOT / "scenarios" / "baseline.yaml")
    doc = base.model_dump(mode="json")
    doc["staff"]["ps"]["establishment"]["default"] += 1
    assert br.settings_sha256(base) == br.settings_sha256(load(ROOT / "scenarios" / "baseline.yaml"))
    assert br.settings_sha256(base) != br.settings_sha256(validate(doc, "changed"))
    assert re.fullmatch(r"[0-9a-f]{64}", br.settings_sha256(base))


@pytest.mark.slow
def test_the_pdf_holds_every_chart(made) -> None:
    from sim.experiments import board_pdf

    if not board_pdf.available():
        pytest.skip("WeasyPrint or the Pango library cannot be loaded here (.ci/run installs Pango)")
    page, _, _, _ = made
    pdf = board_pdf.pdf_bytes(page)
    assert pdf.startswith(b"%PDF-")
    # each chart is one image (with its transparency mask, another): none is lost or fetched
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= len(br.CHARTS)


def test_a_declared_backlog_is_answered_beside_the_figures() -> None:
    sc = load(ROOT / "scenarios" / "monday_backlog.yaml")
    table, results = compare([sc], reps=1, seed=2)
    inputs = br.BoardInputs(br.entries_for([sc], ["scenarios/monday_backlog.yaml"]), table, 1, 2,
                            br.SensitivityTable(None, "left out"), "python -m sim report",
                            notes=br.run_notes(results))
    text = br.build_html(inputs)
    cleared = results[0].backlog
    assert cleared is not None and cleared.message().split(" on average")[0] in html.unescape(text)
    # 2 to 29 October: a part month's counts are not the reported month's; one replication is few
    assert "The period starts on 02 October 2023 and ends on 29 October 2023, inside a month" in text
    assert "Only 1 replication: the intervals are wide" in text


@pytest.mark.slow
def test_escalation_against_the_front_door_before_the_approach(made) -> None:
    """With the front door before the approach among the scenarios, the answers show each other
    scenario's reduction in referrals (1 - scenario / before, replication by replication, with
    scipy's t interval) and the reviews' figures; without it, no such table."""
    assert "Children escalating to statutory intervention" not in made[0]
    run = {"start": "2023-09-01", "end": "2023-10-31"}
    pre, base = (load(ROOT / "scenarios" / f).with_run(**run)
                 for f in ("pre_conversations.yaml", "baseline.yaml"))
    table, results = compare([pre, base], reps=3, seed=3)
    entries = br.entries_for([r.scenario for r in results], ["pre.yaml", "baseline.yaml"])
    inputs = br.BoardInputs(entries, table, 3, 3, br.SensitivityTable(None, "none"), "python -m sim report",
                            escalation=against_before(results))
    page = br.build_html(inputs)
    assert "Children escalating to statutory intervention" in page and "seed 003 line 387" in page
    per = [r.monthly.groupby("rep")["referrals"].mean() for r in results]
    red = (100 * (1 - per[1] / per[0])).to_numpy()
    m = re.search(r'data-escalation="referrals" data-scenario="baseline" data-reduction="([^"]+)"'
                  r' data-low="([^"]+)" data-high="([^"]+)"', page)
    assert m is not None
    assert_t_interval(m.groups(), red)
