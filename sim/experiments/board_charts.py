"""The board report's month-by-month charts, drawn as PNG images to go inside the report.

Matplotlib's object interface (a `Figure` with its own Agg canvas, no pyplot) is used so that a
chart drawn for one app session never shares state with another's. Every chart has a title,
its unit on the axis, the colour-blind-safe palette the app uses (Okabe and Ito) and a sentence
saying what it shows, for readers who cannot see it.
"""

from __future__ import annotations

import base64
import io

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Okabe and Ito's palette (as the app's charts), distinguishable with common colour-vision deficiencies
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
REPORTED_COLOUR = "#000000"


def month_label(month: str) -> str:
    """'2023-08' -> 'Aug 2023'."""
    return f"{pd.Timestamp(month + '-01'):%b %Y}"


def monthly_png(by_month: pd.DataFrame, names: list[str], title: str, unit: str,
                reported: pd.Series | None = None) -> bytes:
    """One measure by month: each scenario's average with its 95% band, and the reported figures.

    `by_month`: rows of a paired comparison table (scenario, month, mean, ci_low, ci_high) for
    one measure; `reported`: the service's figure by month (YYYY-MM index), if it has one."""
    months = sorted(by_month["month"].unique())
    x = list(range(len(months)))
    fig = Figure(figsize=(7.2, 3.0), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for k, name in enumerate(names):
        rows = by_month[by_month["scenario"] == name].set_index("month").reindex(months)
        colour = SERIES[k % len(SERIES)]
        ax.fill_between(x, rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float),
                        color=colour, alpha=0.2, linewidth=0)
        ax.plot(x, rows["mean"].to_numpy(float), color=colour, marker="o", markersize=3.5,
                linewidth=1.8, label=f"{name} (average, 95% band)")
    if reported is not None:
        rep = reported.reindex(months)
        if rep.notna().any():
            ax.plot(x, rep.to_numpy(float), linestyle="none", marker="D", markersize=5,
                    color=REPORTED_COLOUR, label="reported by the service")
    ax.set_xticks(x, [month_label(m) for m in months], fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel(unit, fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """A PNG as a data: URI, so the image travels inside the HTML file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
