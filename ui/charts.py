"""Charts a board can read: a title, units on the axis, a colour-blind-safe palette, and words.

Each function returns the chart, the table it draws (for download) and a sentence that says
what the chart shows, for readers who cannot see it (and for anyone skimming).
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from sim.experiments.compare import LABELS, PERIOD, SUMMARY_ROWS
from sim.measures.metrics import MEASURES
from sim.scenario.schema import POOL_WORK_NAMES, POOL_WORK_TEXT

# Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
SERIES = [OKABE_ITO[c] for c in ("blue", "orange", "green", "purple", "vermillion", "sky", "black")]
# the work of each pool, as a chart legend and inside a sentence (named in sim.scenario.schema)
POOL_WORK = POOL_WORK_NAMES
POOL_TEXT = POOL_WORK_TEXT
MODEL = "Model average"
BAND = "Model 95% interval"
REPORTED = "Reported"
LEGEND = {"orient": "top", "labelLimit": 0, "title": None, "direction": "horizontal"}


TEAM_HOURS = "hours a month, the whole team"
POST_HOURS = "hours a month per post"


def unit_of(measure: str) -> str:
    """A measure's unit as the app says it: overtime is the whole team's hours in a month (a
    figure that can fall when posts are cut, because fewer people are there to work late)."""
    return TEAM_HOURS if measure.startswith("overtime_hours_") else LABELS[measure][1]


def fmt(v: float, unit: str = "") -> str:
    """A number as a reader expects it: no false precision, percentages with one decimal."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "not available"
    if unit == "%" or unit.startswith("% of"):
        return f"{v:.1f}%"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def _months(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["month_start"] = pd.to_datetime(df["month"] + "-01")
    return df


def _title(text: str, subtitle: str = "") -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle or alt.Undefined, anchor="start")


def measure_vs_reported(summary: pd.DataFrame, observed: pd.DataFrame, measure: str,
                        reps: int) -> tuple[alt.Chart, pd.DataFrame, str]:
    """One measure by month: the model's mean and 95% band, with the reported figure beside it."""
    label, unit = MEASURES[measure][0], unit_of(measure)
    s = summary[summary["measure"] == measure][["month", "mean", "ci_low", "ci_high"]]
    if measure in getattr(observed, "columns", []):
        rep = observed[measure].rename("reported").reset_index().rename(columns={"index": "month"})
        s = s.merge(rep, on="month", how="left")
    else:
        s = s.assign(reported=np.nan)
    data = _months(s)
    x = alt.X("month_start:T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0,
                                                           tickCount="month"))
    series = [MODEL, BAND, REPORTED]
    colour = alt.Color("series:N", title=None, legend=alt.Legend(**LEGEND),
                       scale=alt.Scale(domain=series,
                                       range=[OKABE_ITO["blue"], OKABE_ITO["sky"], OKABE_ITO["black"]]))
    shape = alt.Shape("series:N", title=None, legend=alt.Legend(**LEGEND),
                      scale=alt.Scale(domain=series, range=["circle", "square", "diamond"]))
    tip = [alt.Tooltip("month:N", title="Month"),
           alt.Tooltip("mean:Q", title="Model average", format=",.1f"),
           alt.Tooltip("ci_low:Q", title="95% interval from", format=",.1f"),
           alt.Tooltip("ci_high:Q", title="95% interval to", format=",.1f"),
           alt.Tooltip("reported:Q", title="Reported", format=",.1f")]
    base = alt.Chart(data).encode(x=x)
    band = base.mark_area(opacity=0.35).encode(
        y=alt.Y("ci_low:Q", title=unit, scale=alt.Scale(zero=False)), y2="ci_high:Q", color=colour,
        tooltip=tip
    ).transform_calculate(series=f"'{BAND}'")
    line = base.mark_line(strokeWidth=2.5).encode(
        y=alt.Y("mean:Q", title=unit, scale=alt.Scale(zero=False)), color=colour, tooltip=tip
    ).transform_calculate(series=f"'{MODEL}'")
    dots = base.mark_point(filled=True, size=50).encode(
        y=alt.Y("mean:Q", title=unit, scale=alt.Scale(zero=False)), color=colour, shape=shape, tooltip=tip
    ).transform_calculate(series=f"'{MODEL}'")
    layers = [band, line, dots]
    if data["reported"].notna().any():
        layers.append(base.mark_point(filled=True, size=140).encode(
            y=alt.Y("reported:Q", title=unit, scale=alt.Scale(zero=False)), color=colour, shape=shape,
            tooltip=tip
        ).transform_calculate(series=f"'{REPORTED}'").transform_filter("isValid(datum.reported)"))
    chart = alt.layer(*layers).properties(
        title=_title(label, f"{unit}, by month; band: 95% interval over {reps} replications"),
        height=340)
    table = s.rename(columns={"mean": "model average", "ci_low": "95% interval low",
                              "ci_high": "95% interval high", "reported": "reported"})
    return chart, table, describe_measure(s, label, unit)


def month_name(month: str) -> str:
    """'2023-07' as 'July 2023'."""
    try:
        return pd.Timestamp(f"{month}-01").strftime("%B %Y")
    except ValueError:
        return month


def describe_measure(s: pd.DataFrame, label: str, unit: str) -> str:
    """A sentence for a screen reader: the run's level, its band and how the reported compares."""
    if s.empty:
        return f"{label}: no results."
    first, last = s.iloc[0], s.iloc[-1]
    text = (f"{label} ({unit}): the model gives {fmt(first['mean'], unit)} in {month_name(first['month'])}"
            f" and {fmt(last['mean'], unit)} in {month_name(last['month'])}; monthly average"
            f" {fmt(s['mean'].mean(), unit)}.")
    rep = s.dropna(subset=["reported"]) if "reported" in s else s.iloc[0:0]
    if not rep.empty:
        inside = ((rep["reported"] >= rep["ci_low"]) & (rep["reported"] <= rep["ci_high"])).sum()
        text += (f" Reported monthly average {fmt(rep['reported'].mean(), unit)}; the reported"
                 f" figure is inside the model's 95% interval in {inside} of {len(rep)} months.")
    return text


def pools_chart(summary: pd.DataFrame, prefix: str, pools: list[str], reps: int,
                title: str) -> tuple[alt.Chart, pd.DataFrame, str]:
    """A per-pool measure (wait, queue, utilisation, overtime) by month, one line per pool."""
    keys = {f"{prefix}{p}": p for p in pools}
    s = summary[summary["measure"].isin(keys)].copy()
    s["work"] = s["measure"].map(lambda m: POOL_WORK[keys[m]])
    unit = unit_of(next(iter(keys)))
    data = _months(s)
    order = [POOL_WORK[p] for p in pools]
    colour = alt.Color("work:N", title=None, sort=order, legend=alt.Legend(**{**LEGEND, "columns": 1}),
                       scale=alt.Scale(domain=order, range=SERIES[: len(order)]))
    x = alt.X("month_start:T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0,
                                                           tickCount="month"))
    tip = [alt.Tooltip("work:N", title="Work"), alt.Tooltip("month:N", title="Month"),
           alt.Tooltip("mean:Q", title="Model average", format=",.2f"),
           alt.Tooltip("ci_low:Q", title="95% interval from", format=",.2f"),
           alt.Tooltip("ci_high:Q", title="95% interval to", format=",.2f")]
    base = alt.Chart(data).encode(x=x, color=colour, tooltip=tip)
    chart = alt.layer(
        base.mark_area(opacity=0.2).encode(y=alt.Y("ci_low:Q", title=unit), y2="ci_high:Q"),
        base.mark_line(point=True, strokeWidth=2.5).encode(
            y=alt.Y("mean:Q", title=unit), strokeDash=alt.StrokeDash("work:N", sort=order, legend=None)),
    ).properties(title=_title(title, f"{unit}, by month; bands: 95% interval over {reps} replications"),
                 height=400)
    table = s[["work", "month", "mean", "ci_low", "ci_high"]].rename(columns={
        "mean": f"model average ({unit})", "ci_low": "95% interval low", "ci_high": "95% interval high"})
    parts = []
    for p in pools:
        v = s[s["measure"] == f"{prefix}{p}"]["mean"]
        if v.notna().any():
            parts.append(f"{POOL_TEXT[p]} {fmt(v.mean(), unit)}"
                         f" (highest month {fmt(v.max(), unit)})")
    text = f"{title}, monthly average ({unit}): " + "; ".join(parts) + "." if parts else f"{title}: none."
    return chart, table, text


FLOW_STEPS = [
    ("Contacts", "contacts", "All contacts"),
    ("Contacts", "phone_contacts", "Contacts by phone"),
    ("Contacts", "email_contacts", "Contacts by email"),
    ("Contacts", "ppn_contacts", "Police protection notices"),
    ("Decision at the front door", "info_advice", "Information and advice"),
    ("Decision at the front door", "early_help", "Early help"),
    ("Decision at the front door", "nfa", "No further action"),
    ("Decision at the front door", "referrals", "Referral to children's social care"),
    ("After referral", "strategy_meetings", "Strategy meeting held"),
    ("After referral", "s47_enquiries", "Section 47 enquiry started"),
]


def flow_chart(summary: pd.DataFrame, reps: int) -> tuple[alt.Chart, pd.DataFrame, str]:
    """From contacts to outcomes: a funnel of monthly averages, stage by stage."""
    per = summary.groupby("measure")["mean"].mean()
    rows = [{"stage": stage, "step": name, "per month": float(per.get(key, np.nan))}
            for stage, key, name in FLOW_STEPS]
    data = pd.DataFrame(rows)
    total = float(per.get("contacts", np.nan))
    data["share of contacts"] = 100 * data["per month"] / total if total else np.nan
    stages = list(dict.fromkeys(s for s, _, _ in FLOW_STEPS))
    colour = alt.Color("stage:N", title="Stage", sort=stages, legend=alt.Legend(**LEGEND),
                       scale=alt.Scale(domain=stages, range=SERIES[: len(stages)]))
    base = alt.Chart(data).encode(
        y=alt.Y("step:N", sort=[n for _, _, n in FLOW_STEPS], title=None,
                axis=alt.Axis(labelLimit=300, labelFontSize=12)),
        tooltip=[alt.Tooltip("step:N", title="Step"),
                 alt.Tooltip("per month:Q", title="Average per month", format=",.0f"),
                 alt.Tooltip("share of contacts:Q", title="% of contacts", format=".1f")])
    bars = base.mark_bar().encode(x=alt.X("per month:Q", title="contacts, meetings or enquiries per month"),
                                  color=colour)
    labels = base.mark_text(align="left", dx=4).encode(
        x="per month:Q", text=alt.Text("per month:Q", format=",.0f"))
    chart = (bars + labels).properties(
        title=_title("From contacts to outcomes",
                     f"average per month over the run, {reps} replications; meetings and enquiries"
                     " are counted in the month they happen"),
        height=alt.Step(34))
    ref = float(per.get("referrals", np.nan))
    text = (f"From contacts to outcomes: about {fmt(total)} contacts a month"
            f" ({fmt(per.get('phone_contacts', np.nan))} by phone, {fmt(per.get('email_contacts', np.nan))}"
            f" by email, {fmt(per.get('ppn_contacts', np.nan))} police protection notices);"
            f" {fmt(per.get('info_advice', np.nan))} end in information and advice,"
            f" {fmt(per.get('early_help', np.nan))} in early help, {fmt(per.get('nfa', np.nan))} in no"
            f" further action and {fmt(ref)} ({fmt(100 * ref / total, '%') if total else '-'}) become"
            f" referrals; {fmt(per.get('strategy_meetings', np.nan))} strategy meetings and"
            f" {fmt(per.get('s47_enquiries', np.nan))} section 47 enquiries follow each month.")
    return chart, data, text


def difference_chart(table: pd.DataFrame, measure: str, reference: str
                     ) -> tuple[alt.Chart, pd.DataFrame, str]:
    """Each scenario's paired difference from the reference, with its 95% interval."""
    label, unit = LABELS[measure][0], unit_of(measure)
    d = table[(table["measure"] == measure) & (table["month"] == PERIOD)
              & (table["scenario"] != reference)]
    d = d[["scenario", "mean", "diff_from_first", "diff_ci_low", "diff_ci_high"]].copy()
    unit_d = "percentage points" if unit.startswith("%") else unit
    # every scenario keeps its label (no label is dropped for lack of room), and an axis of all-zero
    # differences still reads as numbers a person would write
    y = alt.Y("scenario:N", title=None, sort=list(d["scenario"]),
              axis=alt.Axis(labelLimit=320, labelOverlap=False), scale=alt.Scale(padding=0.5))
    lo = min([0.0, *d["diff_ci_low"].dropna()])
    hi = max([0.0, *d["diff_ci_high"].dropna()])
    if hi - lo < 1e-9:
        lo, hi = -1.0, 1.0
    pad = 0.08 * (hi - lo)
    xscale = alt.Scale(domain=[lo - pad, hi + pad], nice=True)
    tip = [alt.Tooltip("scenario:N", title="Scenario"),
           alt.Tooltip("diff_from_first:Q", title="Difference", format="+,.2f"),
           alt.Tooltip("diff_ci_low:Q", title="95% interval from", format="+,.2f"),
           alt.Tooltip("diff_ci_high:Q", title="95% interval to", format="+,.2f")]
    base = alt.Chart(d).encode(y=y, tooltip=tip)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color=OKABE_ITO["black"], strokeDash=[4, 4]
                                                          ).encode(x="x:Q")
    chart = alt.layer(
        zero,
        base.mark_rule(strokeWidth=3, color=OKABE_ITO["blue"]).encode(
            x=alt.X("diff_ci_low:Q", title=f"difference from '{reference}' ({unit_d})", scale=xscale,
                    axis=alt.Axis(format="+,.3~g")),
            x2="diff_ci_high:Q"),
        base.mark_point(filled=True, size=120, shape="diamond", color=OKABE_ITO["vermillion"]).encode(
            x="diff_from_first:Q"),
    ).properties(title=_title(f"{label}: difference from '{reference}'",
                              f"{unit_d}; average over the run's months; line: 95% interval of the"
                              " paired difference"),
                 height=max(170, 64 * len(d)))
    parts = [f"'{r.scenario}' {r.diff_from_first:+,.2f} (95% interval {r.diff_ci_low:+,.2f} to"
             f" {r.diff_ci_high:+,.2f})" for r in d.itertuples()]
    text = (f"{label}, difference from '{reference}' in {unit_d}: " + "; ".join(parts) + "."
            if parts else "No scenario to compare.")
    return chart, d.rename(columns={"mean": f"scenario average ({unit})",
                                    "diff_from_first": f"difference ({unit_d})",
                                    "diff_ci_low": "95% interval low",
                                    "diff_ci_high": "95% interval high"}), text


def difference_by_month_chart(table: pd.DataFrame, measure: str, reference: str
                              ) -> tuple[alt.Chart, pd.DataFrame, str]:
    """Each scenario's paired difference from the reference month by month, with its 95% band, so
    a dip in one month (a summer, a vacancy) is seen rather than averaged away."""
    label, unit = LABELS[measure][0], unit_of(measure)
    unit_d = "percentage points" if unit.startswith("%") else unit
    d = table[(table["measure"] == measure) & ~table["month"].isin(SUMMARY_ROWS)
              & (table["scenario"] != reference)][["scenario", "month", "diff_from_first", "diff_ci_low",
                                                   "diff_ci_high"]]
    data = _months(d)
    order = list(dict.fromkeys(d["scenario"]))
    colour = alt.Color("scenario:N", title=None, sort=order, legend=alt.Legend(**{**LEGEND, "columns": 1}),
                       scale=alt.Scale(domain=order, range=SERIES[: len(order)] or SERIES[:1]))
    x = alt.X("month_start:T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount="month"))
    tip = [alt.Tooltip("scenario:N", title="Scenario"), alt.Tooltip("month:N", title="Month"),
           alt.Tooltip("diff_from_first:Q", title="Difference", format="+,.2f"),
           alt.Tooltip("diff_ci_low:Q", title="95% interval from", format="+,.2f"),
           alt.Tooltip("diff_ci_high:Q", title="95% interval to", format="+,.2f")]
    base = alt.Chart(data).encode(x=x, color=colour, tooltip=tip)
    y_title = f"difference ({unit_d})"
    chart = alt.layer(
        alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color=OKABE_ITO["black"], strokeDash=[4, 4]).encode(
            y="y:Q"),
        base.mark_area(opacity=0.2).encode(y=alt.Y("diff_ci_low:Q", title=y_title,
                                                   axis=alt.Axis(format="+,.3~g")), y2="diff_ci_high:Q"),
        base.mark_line(point=True, strokeWidth=2.5).encode(y="diff_from_first:Q"),
    ).properties(title=_title(f"{label}: difference from '{reference}', month by month",
                              f"{unit_d}; band: 95% interval of the paired difference"), height=320)
    parts = []
    for s in order:
        v = d[d["scenario"] == s].sort_values("month")
        if len(v):
            lo, hi = v.loc[v["diff_from_first"].idxmin()], v.loc[v["diff_from_first"].idxmax()]
            parts.append(f"'{s}' from {lo['diff_from_first']:+,.2f} ({month_name(lo['month'])}) to"
                         f" {hi['diff_from_first']:+,.2f} ({month_name(hi['month'])})")
    text = (f"{label}, difference from '{reference}' by month in {unit_d}: " + "; ".join(parts) + "."
            if parts else "No scenario to compare.")
    table_out = d.rename(columns={"diff_from_first": f"difference ({unit_d})",
                                  "diff_ci_low": "95% interval low", "diff_ci_high": "95% interval high"})
    return chart, table_out, text


def tornado_chart(data: pd.DataFrame, title: str, unit: str, reps: int,
                  top: int = 15) -> tuple[alt.Chart, pd.DataFrame, str]:
    """One measure's tornado: for each setting, the result at the low and the high end of its range.

    `data` is `sim.experiments.sensitivity.one_at_a_time` output for one measure with a `setting` column of
    plain names. Bars run from the scenario's own result to the result with the setting at each
    end; the widest swing is at the top.
    """
    d = data.dropna(subset=["at_low", "at_high"], how="all").sort_values("swing", ascending=False)
    d = d.head(top)
    base = float(data["base"].iloc[0]) if len(data) else float("nan")
    order = list(d["setting"])
    long = pd.concat([
        pd.DataFrame({"setting": d["setting"], "end": LOW_END, "setting value": d["low"],
                      "result": d["at_low"], "base": base}),
        pd.DataFrame({"setting": d["setting"], "end": HIGH_END, "setting value": d["high"],
                      "result": d["at_high"], "base": base})]).dropna(subset=["result"])
    colour = alt.Color("end:N", title=None, legend=alt.Legend(**LEGEND),
                       scale=alt.Scale(domain=[LOW_END, HIGH_END],
                                       range=[OKABE_ITO["blue"], OKABE_ITO["orange"]]))
    y = alt.Y("setting:N", sort=order, title=None, axis=alt.Axis(labelLimit=420, labelFontSize=12))
    tip = [alt.Tooltip("setting:N", title="Setting"), alt.Tooltip("end:N", title="Moved to"),
           alt.Tooltip("setting value:Q", title="Setting's value there", format=",.3g"),
           alt.Tooltip("result:Q", title=f"Result ({unit})", format=",.2f"),
           alt.Tooltip("base:Q", title=f"Scenario as it is ({unit})", format=",.2f")]
    bars = alt.Chart(long).mark_bar(opacity=0.9).encode(
        y=y, x=alt.X("result:Q", title=title if unit == "%" else f"{title} ({unit})",
                     scale=alt.Scale(zero=False)), x2="base:Q", color=colour,
        yOffset=alt.YOffset("end:N", sort=[LOW_END, HIGH_END]), tooltip=tip)
    rule = alt.Chart(pd.DataFrame({"base": [base]})).mark_rule(
        color=OKABE_ITO["black"], strokeDash=[4, 3]).encode(x="base:Q")
    shown = f"the {len(d)} with the widest swing of {len(data)}" if len(data) > len(d) else f"all {len(d)}"
    chart = alt.layer(bars, rule).properties(
        title=_title(f"{title}: which assumptions move it most",
                     f"Dashed line: the scenario as it is ({fmt(base, unit)}); bars: each setting"
                     f" at the low and high end of its plausible range ({shown}; {reps} replication"
                     f"{'s' if reps != 1 else ''} each)"),
        height=alt.Step(16))
    cols = ["setting", *(["unit of the setting"] if "unit of the setting" in data else []), "value", "low",
            "high", "base", "at_low", "at_high", "swing"]
    table = data.sort_values("swing", ascending=False)[cols].rename(columns={
            "value": "setting's value", "low": "low end of its range", "high": "high end of its range",
            "base": f"result as it is ({unit})", "at_low": "result at the low end",
            "at_high": "result at the high end", "swing": "swing (high minus low, absolute)"})
    return chart, table, describe_tornado(d, title, unit, base)


LOW_END = "Setting at the low end of its range"
HIGH_END = "Setting at the high end of its range"


def describe_tornado(d: pd.DataFrame, title: str, unit: str, base: float) -> str:
    """The tornado in words: the three widest swings with both ends."""
    if d.empty:
        return f"{title}: no setting was varied."
    parts = [f"{r.setting} ({fmt(r.at_low, unit)} at {r.low:,.3g}, {fmt(r.at_high, unit)} at {r.high:,.3g})"
             for r in d.head(3).itertuples()]
    return (f"{title} is {fmt(base, unit)} as the scenario stands. The assumptions that move it most,"
            " with the result at the low and the high end of each one's range: " + "; ".join(parts) + ".")


MEETS = "Meets the goal with 95% confidence"
MISSES = "Not with 95% confidence"


def target_chart(grid: pd.DataFrame, lever_label: str, lever_unit: str, measure_label: str,
                 goal: float, goal_label: str, found: float | None, at_least: bool
                 ) -> tuple[alt.Chart, pd.DataFrame]:
    """The target finder's search: the measure (mean and 95% interval) at each value tried."""
    d = grid.copy()
    d["result"] = np.where(d["meets_confident"], MEETS, MISSES)
    colour = alt.Color("result:N", title=None, legend=alt.Legend(**LEGEND),
                       scale=alt.Scale(domain=[MEETS, MISSES],
                                       range=[OKABE_ITO["green"], OKABE_ITO["vermillion"]]))
    shape = alt.Shape("result:N", title=None, legend=alt.Legend(**LEGEND),
                      scale=alt.Scale(domain=[MEETS, MISSES], range=["circle", "triangle-down"]))
    x = alt.X("value:Q", title=f"{cap_first(lever_label)} ({lever_unit})", scale=alt.Scale(zero=False))
    tip = [alt.Tooltip("value:Q", title=cap_first(lever_label), format=",.3g"),
           alt.Tooltip("mean:Q", title="Average", format=",.3g"),
           alt.Tooltip("ci_low:Q", title="95% interval from", format=",.3g"),
           alt.Tooltip("ci_high:Q", title="95% interval to", format=",.3g"),
           alt.Tooltip("result:N", title="Result")]
    base = alt.Chart(d).encode(x=x, tooltip=tip)
    layers = [
        base.mark_rule(strokeWidth=3, color=OKABE_ITO["sky"]).encode(
            y=alt.Y("ci_low:Q", title=wrap(measure_label), scale=alt.Scale(zero=False),
                    axis=alt.Axis(titleLimit=0)), y2="ci_high:Q"),
        base.mark_line(color=OKABE_ITO["blue"], strokeDash=[2, 2]).encode(y="mean:Q"),
        base.mark_point(filled=True, size=140).encode(y="mean:Q", color=colour, shape=shape),
        alt.Chart(pd.DataFrame({"goal": [goal], "text": [goal_label]})).mark_rule(
            color=OKABE_ITO["black"], strokeDash=[6, 4]).encode(y="goal:Q"),
        alt.Chart(pd.DataFrame({"goal": [goal], "text": [goal_label]})).mark_text(
            align="left", dx=4, dy=-8 if at_least else 12, color=OKABE_ITO["black"]).encode(
            y="goal:Q", text="text:N", x=alt.value(0)),
    ]
    if found is not None:
        layers.append(alt.Chart(pd.DataFrame({"found": [found]})).mark_rule(
            color=OKABE_ITO["green"], strokeWidth=2).encode(x="found:Q"))
    chart = alt.layer(*layers).properties(
        title=_title(f"{measure_label} as the lever moves",
                     "average and 95% interval at each value tried (same random numbers at every value);"
                     " dashed line: the goal" + ("; green line: the smallest change that meets it with"
                                                 " 95% confidence" if found is not None else "")),
        height=420, padding={"left": 10, "right": 10, "top": 5, "bottom": 5})
    # the goal is judged on one end of the 95% interval, already in the table: no second name for it
    table = grid.drop(columns=["bound"], errors="ignore").rename(columns={
        "lever": "lever", "measure": "measure", "value": f"{lever_label} ({lever_unit})", "mean": "average",
        "ci_low": "95% interval low", "ci_high": "95% interval high", "meets_mean": "average meets the goal",
        "meets_confident": "meets the goal with 95% confidence"})
    return chart, table


def wrap(text: str, width: int = 34) -> list[str]:
    """An axis title over several lines (Vega-Lite draws a list as lines), so none is cut off."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [text]


def cap_first(text: str) -> str:
    return text[:1].upper() + text[1:]
