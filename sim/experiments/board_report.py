"""The board report: one self-contained HTML file a service manager can forward or print to PDF.

It carries what a board needs to weigh an answer: the question, the scenarios and what each
changes, the headline answers with 95% intervals in the service's units and the paired
differences from the first scenario (sim.experiments.compare), month-by-month charts beside
the reported figures, the assumptions that matter most for these measures (the top of the
sensitivity tornado), what the model does not represent (docs/model.md 3.5), the calibration
fit (calibration/report.md) and the exact command that reproduces it.

Both faces build it from results they already hold (`BoardInputs`): the command line from its
own paired comparison, the app from the comparison on screen, so the report never re-runs.
Everything a user can write (scenario names, descriptions, a question) is escaped; the charts
are PNG images inside the file and nothing is fetched when it opens.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.experiments.board_charts import data_uri, monthly_png
from sim.experiments.compare import PERIOD, SUMMARY_ROWS, months_words
from sim.experiments.documents import setting_changes
from sim.experiments.escalation import BEFORE, reduction_cell, reported_reviews
from sim.experiments.runner import RunResults
from sim.experiments.sensitivity import judged_parameters, one_at_a_time
from sim.io.observed import observed_monthly
from sim.measures.metrics import MEASURES
from sim.scenario.paths import get
from sim.scenario.schema import Scenario, setting_title

ROOT = Path(__file__).resolve().parents[2]
MODEL_DOC = ROOT / "docs" / "model.md"
CALIBRATION_REPORT = ROOT / "calibration" / "report.md"
FILE_NAME = "board_report.html"

# The headline measures in the service's units: measure -> (unit of the figure, unit of a difference)
HEADLINE: dict[str, tuple[str, str]] = {
    "pct_completed_within_1wd": ("% of contacts", "points"),
    "referrals": ("referrals a month", "referrals a month"),
    "pct_contacts_to_referral": ("% of contacts", "points"),
    "abandoned_calls": ("calls abandoned a month", "calls a month"),
    "wait_hours_ps": ("working hours, average wait", "working hours"),
    "util_ps": ("% of on-duty office time", "points"),
    "overtime_hours_ps": ("hours a month, whole team", "hours a month"),
    "overtime_hours_csw": ("hours a month, whole team", "hours a month"),
}
# the tornado's columns the report reads (python -m sim sensitivity writes them)
TORNADO_COLUMNS = ("parameter", "value", "low", "high", "measure", "base", "at_low", "at_high", "swing")
TOP_ASSUMPTIONS = 3
SECTION_TITLES = ("The question", "The scenarios and what they change", "The answers",
                  "Month by month", "The assumptions that matter most for this answer",
                  "What the model does not represent", "How well the model fits the reported months",
                  "How to reproduce this report")


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario of the report: the scenario run, where it came from, and what it changes."""

    scenario: Scenario
    origin: str                                   # the file given, or how the app had it
    changes: list[dict[str, str]] = field(default_factory=list)  # setting_changes rows
    changes_against: str = ""                     # what the changes are measured from
    fingerprint: str = ""                         # settings_sha256 of the file as read ("": of `scenario`)


@dataclass(frozen=True)
class SensitivityTable:
    """The tornado rows used (None: none available) and which table it is, in words."""

    table: pd.DataFrame | None
    provenance: str


@dataclass(frozen=True)
class BoardInputs:
    """Everything the report shows, already computed (the report runs nothing)."""

    entries: list[ScenarioEntry]
    table: pd.DataFrame        # sim.experiments.compare.paired_differences: the period and each month
    reps: int
    seed: int
    sensitivity: SensitivityTable
    command: str
    question: str = ""
    warnings: list[str] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: list[str] = field(default_factory=list)  # e.g. when a declared backlog was cleared
    escalation: pd.DataFrame | None = None  # sim.experiments.escalation.against_before, if it applies


def run_notes(results: Iterable[RunResults]) -> list[str]:
    """What each run said beside its figures: when a declared backlog cleared, and its notes."""
    out = []
    for r in results:
        if r.backlog is not None:
            out.append(f"{r.scenario.name}: {r.backlog.message()}")
        out += [f"{r.scenario.name}: {n}" for n in r.notes]
    return out


# ---------------------------------------------------------------------------------------------
# the pieces


def settings_sha256(sc: Scenario) -> str:
    """SHA-256 of a scenario's resolved settings (every value after `extends`, as JSON)."""
    return hashlib.sha256(sc.model_dump_json().encode("utf-8")).hexdigest()


def entries_for(scenarios: Sequence[Scenario], origins: Sequence[str],
                files: Sequence[Scenario] | None = None) -> list[ScenarioEntry]:
    """Each scenario run with the settings in which it differs from the first (the reference);
    `files`: the scenarios as their files read (before a period given on the command line or the
    first one's period was put on them), whose settings the fingerprints are of."""
    ref = scenarios[0].model_dump(mode="json")
    prints = [settings_sha256(f) for f in files] if files is not None else [""] * len(scenarios)
    out = [ScenarioEntry(scenarios[0], origins[0], fingerprint=prints[0])]
    for sc, origin, sha in zip(scenarios[1:], origins[1:], prints[1:], strict=True):
        rows = [r for r in setting_changes(ref, sc.model_dump(mode="json"))
                if r["setting"] != "Scenario name"]
        out.append(ScenarioEntry(sc, origin, rows, f"'{scenarios[0].name}'", sha))
    return out


def reported_months(table: pd.DataFrame) -> list[str]:
    return sorted(m for m in table["month"].unique() if m not in SUMMARY_ROWS)


def default_question(entries: Sequence[ScenarioEntry], period: str) -> str:
    """What the comparison asks, from the scenarios' own descriptions."""
    ref = entries[0].scenario
    if len(entries) == 1:
        return f"What does the model give for '{ref.name}' over {period}?"
    others = ", ".join(f"'{e.scenario.name}'" for e in entries[1:])
    return (f"Over {period}, what would change at the front door under {others}, against"
            f" '{ref.name}' on the same random numbers?")


def fmt(v: float, unit: str) -> str:
    """A figure as a reader expects it: percentages to one decimal, no false precision."""
    if v is None or not math.isfinite(v):
        return "not available"
    if unit.startswith("%"):
        return f"{v:.1f}%"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def fmt_diff(v: float, unit: str) -> str:
    """A difference with its sign; in points for a percentage."""
    if v is None or not math.isfinite(v):
        return "not available"
    if unit == "points":
        return f"{v:+.2f}" if abs(v) < 1 else f"{v:+.1f}"
    if abs(v) >= 100:
        return f"{v:+,.0f}"
    return f"{v:+,.1f}" if abs(v) >= 10 else f"{v:+,.2f}"


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The period rows of the headline measures, in the headline's order."""
    t = table[(table["month"] == PERIOD) & table["measure"].isin(list(HEADLINE))]
    order = {m: i for i, m in enumerate(HEADLINE)}
    return t.assign(_o=t["measure"].map(order)).sort_values(["_o"], kind="stable").drop(columns="_o")


def read_tornado(path: Path) -> pd.DataFrame:
    """A tornado table written by `python -m sim sensitivity`; ValueError naming what is wrong."""
    try:
        t = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot be read as a CSV table ({type(exc).__name__})") from None
    missing = [c for c in TORNADO_COLUMNS if c not in t.columns]
    if missing:
        raise ValueError(f"has no column {missing[0]!r} (allowed: a tornado.csv written by"
                         " python -m sim sensitivity)")
    for c in TORNADO_COLUMNS[1:]:
        if c != "measure" and not pd.api.types.is_numeric_dtype(t[c]):
            raise ValueError(f"column {c!r} is not numeric (allowed: a tornado.csv written by"
                             " python -m sim sensitivity)")
    return t


def file_sensitivity(path: Path, sc: Scenario) -> SensitivityTable:
    """A tornado read from a file, said with its file time and whether it fits this scenario."""
    t = read_tornado(path)
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    judged = {j.name: j.value for j in judged_parameters(sc)}
    values = t.drop_duplicates("parameter").set_index("parameter")["value"]
    unknown = [p for p in values.index if p not in judged]
    moved = [p for p, v in values.items() if p in judged and not np.isclose(v, judged[p])]
    words = (f"Read from {path} (written {when:%d %B %Y %H:%M} UTC), {len(values)} judged assumptions,"
             " each at both ends of its plausible range, all else as the scenario it was run on.")
    if unknown or moved:
        words += (f" It does not match '{sc.name}' exactly: {len(unknown)} of its assumptions are not"
                  f" judged settings of it and {len(moved)} had another value when it was made, so its"
                  " ranking is a guide, not this scenario's own.")
    else:
        words += f" Its assumptions and their values are those of '{sc.name}'."
    return SensitivityTable(t, words)


def small_sensitivity(sc: Scenario, seed: int, executor: Executor | None = None,
                      progress: Callable[[Iterable], Iterable] | None = None) -> SensitivityTable:
    """A quick tornado for the report: one replication at each end of every judged range."""
    measures = [m for m in HEADLINE if m in MEASURES]
    t = one_at_a_time(sc, reps=1, seed=seed, measures=measures, executor=executor, progress=progress)
    n = t["parameter"].nunique()
    return SensitivityTable(t, f"Run for this report on {datetime.now(UTC):%d %B %Y %H:%M} UTC on"
                               f" '{sc.name}': {n} judged assumptions, each at both ends of its plausible"
                               f" range, one replication at each end (seed {seed}), all else as the"
                               " scenario. One replication shows the large effects; for a finer"
                               " ranking run python -m sim sensitivity with more replications and pass"
                               " its tornado.csv with --sensitivity.")


def _parameter_title(name: str, sc: Scenario) -> tuple[str, str]:
    """A judged number's plain-English name and its unit, as the scenario states it."""
    doc = sc.model_dump(mode="json")
    for j in judged_parameters(sc):
        if j.name == name:
            node = get(doc, j.path)
            unit = str(node.get("unit", "")) if isinstance(node, dict) else ""
            return setting_title((*j.path, j.share) if j.share else j.path), unit
    return setting_title(tuple(name.split("."))), ""


def top_assumptions(tornado: pd.DataFrame, sc: Scenario, measures: Iterable[str],
                    k: int = TOP_ASSUMPTIONS) -> pd.DataFrame:
    """The `k` assumptions with the largest swing in each measure, largest first."""
    rows = []
    for m in measures:
        t = tornado[tornado["measure"] == m].dropna(subset=["swing"])
        for _, r in t.sort_values("swing", ascending=False, kind="stable").head(k).iterrows():
            title, unit = _parameter_title(str(r["parameter"]), sc)
            rows.append({"measure": m, "setting": title, "unit": unit,
                         "parameter": r["parameter"], "value": r["value"], "low": r["low"],
                         "high": r["high"], "base": r["base"], "at_low": r["at_low"],
                         "at_high": r["at_high"], "swing": r["swing"]})
    return pd.DataFrame(rows)


def not_represented(doc: Path = MODEL_DOC) -> list[str]:
    """The bullets of docs/model.md 3.5 ("What the model does not do yet"), one string each."""
    text = doc.read_text(encoding="utf-8")
    m = re.search(r"^### 3\.5 [^\n]*\n(.*?)^##", text, re.S | re.M)
    if m is None:
        return []
    items: list[str] = []
    for line in m.group(1).splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


def calibration_fit(report: Path = CALIBRATION_REPORT) -> tuple[str, list[str], list[list[str]]]:
    """From calibration/report.md: the line saying how it was made, the summary bullets and the
    fit table (header first)."""
    if not report.is_file():
        return "", [], []
    text = report.read_text(encoding="utf-8")
    made = next((ln for ln in text.splitlines() if ln.startswith("Generated")), "")
    summary = re.search(r"^## Summary\n(.*?)^## ", text, re.S | re.M)
    bullets = [ln[2:].strip() for ln in (summary.group(1).splitlines() if summary else [])
               if ln.startswith("- ")]
    fit = re.search(r"^## Fit table\n(.*?)^## ", text, re.S | re.M)
    rows = []
    for ln in (fit.group(1).splitlines() if fit else []):
        if ln.startswith("|") and not set(ln) <= set("|-: "):
            rows.append([c.strip() for c in ln.strip().strip("|").split("|")])
    return made, bullets, rows


# ---------------------------------------------------------------------------------------------
# HTML


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Project text with Markdown's **bold** and `code`, escaped first (it may quote user text)."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 1.8rem;
     border-bottom: 2px solid #0072B2; padding-bottom: .2rem; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; font-size: .85rem; }
th, td { border: 1px solid #c8c8c8; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #eef3f8; } td.num { text-align: right; white-space: nowrap; }
.small { font-size: .8rem; color: #444; } .warn { background: #fff4e0; border-left: 4px solid #E69F00;
        padding: .4rem .6rem; } code, pre { font-family: ui-monospace, Menlo, Consolas, monospace;
        font-size: .8rem; } pre { background: #f4f4f4; padding: .6rem; white-space: pre-wrap;
        word-break: break-all; }
figure { margin: 1rem 0; break-inside: avoid; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: .8rem; color: #444; } tr { break-inside: avoid; }
@page { size: A4; margin: 14mm; } @media print { body { margin: 0; max-width: none; font-size: 11pt; } }
"""


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] = ()) -> str:
    """An HTML table; cells are already HTML (escaped by the caller)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{c}</td>' if (i < len(numeric) and numeric[i]) else f"<td>{c}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(title: str, body: str) -> str:
    anchor = re.sub(r"[^a-z]+", "-", title.lower())
    return f'<section><h2 id="{esc(anchor)}">{esc(title)}</h2>\n{body}</section>\n'


def _question(inputs: BoardInputs, period: str) -> str:
    q = inputs.question.strip() or default_question(inputs.entries, period)
    run = inputs.entries[0].scenario.run
    return (f"<p><strong>{esc(q)}</strong></p><p>Months compared: <strong>{esc(period)}</strong>"
            f" ({run.start:%d %B %Y} to {run.end:%d %B %Y}),"
            " each figure an average month of that period. Every scenario is run"
            f" {inputs.reps} times (replications) on the same random numbers (seed {inputs.seed}), so a"
            " difference between two scenarios is the effect of what they change, not of chance. Each"
            " figure carries its 95% interval: the range within which the model's long-run average lies"
            " with 95% confidence, given these replications. It is a model of the service, not a"
            " forecast.</p>"
            + "".join(f"<div class='warn'><p>{esc(c)}</p></div>" for c in _cautions(inputs)))


def _cautions(inputs: BoardInputs) -> list[str]:
    """What a reader must know before reading the figures: part months, few replications."""
    run = inputs.entries[0].scenario.run
    out = []
    part = [f"starts on {run.start:%d %B %Y}" if run.start.day != 1 else "",
            f"ends on {run.end:%d %B %Y}" if (pd.Timestamp(run.end) + pd.Timedelta(days=1)).day != 1 else ""]
    part = [p for p in part if p]
    if part:
        out.append(f"The period {' and '.join(part)}, inside a month: the counts of a part month (contacts,"
                   " referrals, calls, hours) are for the days run only, not a whole month's, and not"
                   " comparable with the service's monthly figures; its percentages are.")
    if inputs.reps < 10:
        out.append(f"Only {inputs.reps} replication{'s' if inputs.reps != 1 else ''}: the intervals are wide"
                   " (with few replications the t multiplier is large); run more for an answer to put to a"
                   " board.")
    return out


def _scenarios(inputs: BoardInputs) -> str:
    parts = []
    for k, e in enumerate(inputs.entries):
        sc = e.scenario
        role = ("the reference: every other scenario is compared with it" if k == 0
                else "compared with the first")
        parts.append(f"<h3>{esc(sc.name)} <span class='small'>({esc(role)})</span></h3>")
        if sc.description.strip():
            parts.append(f"<p>{esc(' '.join(sc.description.split()))}</p>")
        parts.append(f"<p class='small'>From {esc(e.origin)}.</p>")
        if k == 0 and not e.changes:
            continue
        if not e.changes:
            parts.append(f"<p>It has the same settings as {esc(e.changes_against)}.</p>")
            continue
        against = esc(e.changes_against or "its file")
        parts.append(f"<p>What it changes, against {against}:</p>")
        parts.append(_table(["setting", f"in {against}", "in this scenario", "unit"],
                            ([esc(r["setting"]), esc(r["file value"]), esc(r["value used"]), esc(r["unit"])]
                             for r in e.changes)))
    return "\n".join(parts)


def _finding(name: str, ref: str, measure: str, diff: tuple[float, float, float], unit: str) -> str:
    """One difference in a sentence: higher, lower, or not told apart from zero."""
    d, lo, hi = diff
    label = MEASURES[measure][0]
    interval = f"95% interval {fmt_diff(lo, unit)} to {fmt_diff(hi, unit)} {unit}"
    if lo > 0 or hi < 0:
        way = "higher" if d > 0 else "lower"
        return (f"{label}: {way} under '{name}' than under '{ref}', by"
                f" {fmt_diff(abs(d), unit).lstrip('+')} {unit} ({interval}).")
    return f"{label}: these replications cannot tell '{name}' apart from '{ref}' ({interval})."


def _answers(inputs: BoardInputs, period: str) -> str:
    t = headline(inputs.table)
    names = [e.scenario.name for e in inputs.entries]
    ref = names[0]
    header = ["measure", "unit"] + [esc(n) for n in names]
    if len(names) > 1:
        header += [f"{esc(n)} minus {esc(ref)}" for n in names[1:]]
    rows = []
    sentences = []
    for m in HEADLINE:
        rm = t[t["measure"] == m].set_index("scenario")
        if rm.empty:
            continue
        unit, dunit = HEADLINE[m]
        row = [esc(MEASURES[m][0]), esc(unit)]
        for n in names:
            if n not in rm.index:
                row.append("not available")
                continue
            r = rm.loc[n]
            row.append(f'<span data-measure="{esc(m)}" data-scenario="{esc(n)}"'
                       f' data-mean="{float(r["mean"])!r}" data-low="{float(r["ci_low"])!r}"'
                       f' data-high="{float(r["ci_high"])!r}">'
                       f'{esc(fmt(r["mean"], unit))}</span><br><span class="small">'
                       f'{esc(fmt(r["ci_low"], unit))} to {esc(fmt(r["ci_high"], unit))}</span>')
        for n in names[1:]:
            if n not in rm.index:
                row.append("not available")
                continue
            r = rm.loc[n]
            d, lo, hi = r["diff_from_first"], r["diff_ci_low"], r["diff_ci_high"]
            row.append(f'<span data-measure="{esc(m)}" data-scenario="{esc(n)}" data-diff="{float(d)!r}"'
                       f' data-diff-low="{float(lo)!r}" data-diff-high="{float(hi)!r}">'
                       f'{esc(fmt_diff(d, dunit))}'
                       f' {esc(dunit)}</span><br><span class="small">{esc(fmt_diff(lo, dunit))} to'
                       f' {esc(fmt_diff(hi, dunit))}</span>')
            if math.isfinite(lo) and math.isfinite(hi):
                sentences.append(_finding(n, ref, m, (d, lo, hi), dunit))
        rows.append(row)
    out = [f"<p>Each scenario's average month over {esc(period)}, with its 95% interval below it"
           + ("; then each scenario's paired difference from the first (its replications minus the"
              " first's, replication by replication), with the difference's 95% interval. A percentage"
              " differs in percentage points." if len(names) > 1 else ".") + "</p>",
           _table(header, rows, [False, False] + [True] * (len(header) - 2))]
    if sentences:
        out.append("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in sentences) + "</ul>")
    out.append("<p class='small'>Overtime is the whole team's hours worked after the office closes in an"
               " average month: a team with fewer posts can show less overtime in all. The wait for"
               " practice supervisors counts office hours from joining the queue to the start of work"
               " (emails, police notices and management direction).</p>")
    if inputs.escalation is not None:
        out.append(_escalation(inputs.escalation))
    if inputs.notes:
        out.append("<p><strong>Beside the figures</strong></p><ul>"
                   + "".join(f"<li>{esc(n)}</li>" for n in inputs.notes) + "</ul>")
    if inputs.warnings:
        out.append("<div class='warn'><p><strong>Warnings from the run</strong></p><ul>"
                   + "".join(f"<li>{esc(w)}</li>" for w in inputs.warnings) + "</ul></div>")
    return "\n".join(out)


def _escalation(table: pd.DataFrame) -> str:
    """Children escalating to statutory intervention against the front door before the approach,
    over the period, with the reviews' own figures beside it (not the same quantity)."""
    rows = []
    for r in table.itertuples():
        cell = reduction_cell(r.reduction_pct, r.reduction_ci_low, r.reduction_ci_high, "%")
        unit = MEASURES[r.measure][1]
        amount = (f"{r.before:.1f}% to {r.scenario:.1f}%" if unit == "%"
                  else f"{r.before:,.1f} to {r.scenario:,.1f} a month")
        rows.append([esc(r.scenario_name), esc(MEASURES[r.measure][0]), esc(amount),
                     f'<span data-escalation="{esc(r.measure)}" data-scenario="{esc(r.scenario_name)}"'
                     f' data-reduction="{float(r.reduction_pct)!r}" data-low="{float(r.reduction_ci_low)!r}"'
                     f' data-high="{float(r.reduction_ci_high)!r}">{esc(cell)}</span>'])
    reviews = reported_reviews()
    review_rows = [[esc(v.review), esc(v.measures), esc(f"{v.reduction_pct:g}%"), esc(v.source)]
                   for v in reviews.itertuples()]
    return "\n".join([
        "<h3>Children escalating to statutory intervention</h3>",
        f"<p>Against the front door before the conversations approach ({esc(BEFORE)}), on the same"
        " replication seeds: the reduction is 1 - scenario / before in each replication, with its 95%"
        " interval over the replications (a negative reduction is a rise). Children reaching an S47"
        " enquiry or a plan are counted by the month of their referral. The approach promises about"
        " 30% fewer children escalating (seed 003 line 375).</p>",
        _table(["scenario", "measure", "before to scenario", "reduction (95% interval)"], rows,
               [False, False, True, True]),
        "<p class='small'>What the reviews reported (not the same quantity: over 26 or 52 weeks from"
        " November 2022, on that year's demand):</p>",
        _table(["review", "what it measures", "reduction", "source"], review_rows,
               [False, False, True, False]),
    ])


CHARTS = ("pct_completed_within_1wd", "referrals", "pct_contacts_to_referral", "abandoned_calls",
          "wait_hours_ps", "overtime_hours_ps")


def _charts(inputs: BoardInputs) -> str:
    table = inputs.table
    names = [e.scenario.name for e in inputs.entries]
    obs = observed_monthly()
    parts = ["<p>Each line is a scenario's average month by month, its shaded band the 95% interval;"
             " black diamonds are the figures the service reported, where it reports the measure for"
             " those months.</p>"]
    for m in CHARTS:
        rows = table[(table["measure"] == m) & ~table["month"].isin(SUMMARY_ROWS)]
        if rows.empty:
            continue
        label, unit = MEASURES[m][0], HEADLINE[m][0]
        reported = obs[m] if m in getattr(obs, "columns", []) else None
        png = monthly_png(rows, names, label, unit, reported)
        has_rep = reported is not None and reported.reindex(reported_months(table)).notna().any()
        words = (f"{label} by month ({unit}) for {', '.join(names)}, with 95% bands"
                 + ("; the reported figures as diamonds." if has_rep else "; the service does not report it"
                    " for these months."))
        parts.append(f'<figure><img src="{data_uri(png)}" alt="{esc(words)}">'
                     f"<figcaption>{esc(words)}</figcaption></figure>")
    return "\n".join(parts)


def _assumptions(inputs: BoardInputs) -> str:
    sens, sc = inputs.sensitivity, inputs.entries[0].scenario
    if sens.table is None or sens.table.empty:
        return (f"<p>{esc(sens.provenance)}</p><p>Without it this report cannot say which assumptions move"
                " these answers most; the full list of assumptions, with their ranges and sources, is in"
                " docs/model.md section 3.3 and on the app's Assumptions page.</p>")
    measures = [m for m in HEADLINE if m in set(sens.table["measure"])]
    top = top_assumptions(sens.table, sc, measures)
    out = ["<p>The judged numbers (not reported by the service, nor fitted to it) whose plausible range"
           f" moves each measure most, {TOP_ASSUMPTIONS} a measure: each was moved to the low and the high"
           " end of its range, one at a time, on the same random numbers. A long swing means the answer"
           " rests on that judgement: pin it down first, or read the answer with it in mind.</p>",
           f"<p class='small'>{esc(sens.provenance)}</p>"]
    rows = []
    for _, r in top.iterrows():
        unit, dunit = HEADLINE.get(r["measure"], (MEASURES[r["measure"]][1],) * 2)
        swing = abs(r["at_high"] - r["at_low"])
        rows.append([esc(MEASURES[r["measure"]][0]), esc(r["setting"]),
                     esc(f"{r['value']:.4g} (range {r['low']:.4g} to {r['high']:.4g})"
                         + (f" {r['unit']}" if r["unit"] else "")),
                     esc(f"{fmt(r['at_low'], unit)} to {fmt(r['at_high'], unit)}"),
                     esc(f"{fmt_diff(swing, dunit).lstrip('+')} {dunit}")])
    out.append(_table(["measure", "assumption", "value (plausible range)",
                       "measure at the low end to the high end", "swing"], rows,
                      [False, False, False, True, True]))
    missing = [MEASURES[m][0] for m in HEADLINE if m not in set(sens.table["measure"])]
    if missing:
        out.append(f"<p class='small'>Not in this sensitivity table: {esc(', '.join(missing))}.</p>")
    return "\n".join(out)


def _limits() -> str:
    items = not_represented()
    if not items:
        return "<p>docs/model.md section 3.5 could not be read.</p>"
    return ("<p>From docs/model.md section 3.5; the answers above say nothing about these.</p><ul>"
            + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")


def _fit() -> str:
    made, bullets, rows = calibration_fit()
    if not rows and not bullets:
        return "<p>calibration/report.md could not be read.</p>"
    out = ["<p>How well the calibrated baseline reproduces the months the service reported, from"
           f" calibration/report.md ({_inline(made)}). Some months were used to fit the model; the"
           " others were held out, and the held-out months are the real test.</p>"]
    if bullets:
        out.append("<ul>" + "".join(f"<li>{_inline(b)}</li>" for b in bullets) + "</ul>")
    if rows:
        out.append(_table([esc(h) for h in rows[0]], ([esc(c) for c in r] for r in rows[1:]),
                          [False, True, True, True, True, False]))
        out.append("<p class='small'>MAPE: mean absolute percentage error of the simulated monthly mean"
                   " against the reported figure. Covered: months whose reported figure lies inside the"
                   " central 95% of replications.</p>")
    return "\n".join(out)


def _reproduce(inputs: BoardInputs) -> str:
    rows = [[esc(e.scenario.name), esc(e.origin),
             f"<code>{e.fingerprint or settings_sha256(e.scenario)}</code>"] for e in inputs.entries]
    return (f"<pre>{esc(inputs.command)}</pre>"
            f"<p>Simulator version {esc(sim.__version__)}; seed {inputs.seed}; {inputs.reps} replications;"
            f" made {inputs.created:%d %B %Y %H:%M} UTC. The same command on the same version gives the"
            " same figures, whichever machine runs it. The fingerprint of each scenario is the SHA-256 of"
            " its resolved settings as its file reads (every value after <code>extends</code>, as JSON;"
            " <code>settings_sha256</code> in sim/experiments/board_report.py), so a changed file is"
            " noticed:</p>" + _table(["scenario", "from", "SHA-256 of the resolved settings"], rows))


def build_html(inputs: BoardInputs) -> str:
    """The whole report as one HTML document (no external resource of any kind)."""
    period = months_words(reported_months(inputs.table))
    names = [e.scenario.name for e in inputs.entries]
    title = "Front door: " + (f"{', '.join(names[1:])} against {names[0]}" if len(names) > 1 else names[0])
    bodies = {
        SECTION_TITLES[0]: _question(inputs, period),
        SECTION_TITLES[1]: _scenarios(inputs),
        SECTION_TITLES[2]: _answers(inputs, period),
        SECTION_TITLES[3]: _charts(inputs),
        SECTION_TITLES[4]: _assumptions(inputs),
        SECTION_TITLES[5]: _limits(),
        SECTION_TITLES[6]: _fit(),
        SECTION_TITLES[7]: _reproduce(inputs),
    }
    return ("<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{esc(title)}</h1>\n<p class='small'>A simulation of Bradford's Integrated Front Door"
            f" for children's social care. {esc(period)}; {inputs.reps} replications, seed {inputs.seed};"
            f" made {inputs.created:%d %B %Y} with simulator version {esc(sim.__version__)}. Aggregate"
            " figures only: no personal data.</p>\n"
            + "".join(_section(t, b) for t, b in bodies.items()) + "</body>\n</html>\n")
