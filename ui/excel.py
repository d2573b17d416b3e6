"""Downloads: one Excel workbook a manager can take to a board, and the same tables as CSV.

Column headings are the measures' plain-English names with their units, never variable
names; every sheet says what it holds on its "Read me" sheet.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, datetime

import pandas as pd

from sim.experiments.runner import RunResults
from sim.measures.metrics import MEASURES


def monthly_table(res: RunResults) -> pd.DataFrame:
    """One row per replication and month, one column per measure, named in plain English."""
    cols = [m for m in MEASURES if m in res.monthly.columns]
    out = res.monthly[["rep", "month", *cols]].copy()
    out["rep"] = out["rep"] + 1
    return out.rename(columns={"rep": "replication", "month": "month",
                               **{m: f"{MEASURES[m][0]} ({MEASURES[m][1]})" for m in cols}})


def summary_table(res: RunResults, observed: pd.DataFrame) -> pd.DataFrame:
    """Per month and measure: the model's mean and 95% interval, and the reported figure."""
    s = res.summary.copy()
    rep = []
    for m, k in zip(s["month"], s["measure"], strict=True):
        ok = k in getattr(observed, "columns", []) and m in observed.index
        rep.append(observed.at[m, k] if ok else float("nan"))
    s["reported"] = rep
    return s[["month", "label", "unit", "mean", "ci_low", "ci_high", "reported", "reps"]].rename(
        columns={"label": "measure", "mean": "model average", "ci_low": "95% interval low",
                 "ci_high": "95% interval high", "reps": "replications"})


def comparison_table(table: pd.DataFrame | None) -> pd.DataFrame:
    """The paired comparison, with plain-English column names."""
    if table is None or table.empty:
        return pd.DataFrame({"note": ["No comparison has been run in this session."]})
    t = table.drop(columns=["measure"], errors="ignore")
    return t.rename(columns={
        "label": "measure", "mean": "scenario average", "ci_low": "95% interval low",
        "ci_high": "95% interval high", "diff_from_first": "difference from the first scenario",
        "diff_ci_low": "difference: 95% interval low", "diff_ci_high": "difference: 95% interval high",
        "reps": "replications"})[["scenario", "month", "measure", "unit", "scenario average",
                                   "95% interval low", "95% interval high",
                                   "difference from the first scenario",
                                   "difference: 95% interval low", "difference: 95% interval high",
                                   "replications"]]


NUMBER_FIRST = re.compile(r"^(-?[\d,]*\.?\d+)(?:\s+(.*))?$")


def cell(v: object) -> object:
    """A value as the workbook should hold it: a number as a number, a date as a date, else text."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float | date):
        return v
    return _number(str(v).strip())[0]


def _number(text: str) -> tuple[object, str]:
    """A setting's text split into its number (if it starts with one) and the words after it."""
    m = NUMBER_FIRST.match(text)
    if not m:
        return text, ""
    digits = m.group(1).replace(",", "")
    num: float = float(digits)
    return (int(num) if num.is_integer() and "." not in digits else num), (m.group(2) or "")


def inputs_table(meta: Mapping[str, object], changed: pd.DataFrame) -> pd.DataFrame:
    """What this run used: scenario, period, seed, replications, time, warnings, and every change
    (the value used and the file's, each a number where it is one, with its unit; words after a
    number, such as "in any month not listed", go beside it as a note)."""
    rows = [{"item": k, "value": cell(v), "file value": None, "unit": None, "note": None}
            for k, v in meta.items()]
    if changed.empty:
        rows.append({"item": "changes from the scenario file", "value": "none", "file value": None,
                     "unit": None, "note": None})
    for r in changed.itertuples(index=False):
        used, note = _number(str(r[2]))
        was, note_was = _number(str(r[1]))
        notes = "; ".join(dict.fromkeys(n for n in (note, note_was) if n))
        rows.append({"item": f"changed: {r.setting}", "value": used, "file value": was,
                     "unit": r.unit or None, "note": notes or None})
    return pd.DataFrame(rows, columns=["item", "value", "file value", "unit", "note"])


READ_ME = [
    ("Inputs", "The scenario that was run: its name, seed, replications, period, run time, any"
               " warnings, and every setting changed from the scenario file."),
    ("Monthly", "One row per replication and month: every measure the model produces."),
    ("Summary", "Per month and measure: the model's average over replications, its 95% interval"
                " (t-based), and the figure the service reported where there is one."),
    ("Comparison", "Paired comparison of saved scenarios on the same random numbers: each"
                   " scenario's average and its difference from the first, with 95% intervals;"
                   " 'all months' rows are the average over the run's months."),
    ("Assumptions", "Every setting of the scenario: value, unit, plausible range, provenance"
                    " (reported, national, judgement, calibrated) and source."),
]


def workbook(inputs: pd.DataFrame, monthly: pd.DataFrame, summary: pd.DataFrame,
             comparison: pd.DataFrame, assumptions: pd.DataFrame) -> bytes:
    """The Excel workbook as bytes (built in memory: nothing is written to disk)."""
    buf = io.BytesIO()
    sheets = {"Inputs": inputs, "Monthly": monthly, "Summary": summary,
              "Comparison": comparison, "Assumptions": assumptions.drop(columns=["path"], errors="ignore")}
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    readme = pd.DataFrame([{"sheet": "(this workbook)",
                            "what it holds": f"Front-door simulator results, made {made}. Aggregate"
                                             " figures only: no personal data."}]
                          + [{"sheet": s, "what it holds": w} for s, w in READ_ME])
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        readme.to_excel(xl, sheet_name="Read me", index=False)
        for name, df in sheets.items():
            df.to_excel(xl, sheet_name=name, index=False)
        for ws in xl.book.worksheets:
            ws.freeze_panes = "A2"
            for col in ws.columns:
                longest = max((len(str(c.value)) for c in col[:200] if c.value is not None), default=8)
                ws.column_dimensions[col[0].column_letter].width = min(60, max(10, longest + 2))
    return buf.getvalue()


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")
