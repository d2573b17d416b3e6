"""What the October-December figures imply: sizing the changes the reports date in those months.

The reports date several changes inside October-December 2023 (PPN training, the
conversations refresher, recruitment) but give no sizes. Each *reading* is one way those
changes could explain the figures: a scenario file (scenarios/as_reported_2023*.yaml) whose
dated changes hold the sizes, some of them left free. `fit` tries every combination of the free
sizes on a grid (posts in whole posts), every point on the same replication seeds (common random
numbers), and scores it by the squared errors of the target measures over October-December, each
in units of its month-to-month noise (the scales of calibration/october_december.yaml). For each
size it reports the values whose best score is within 3.84 of the reading's best (a 95% profile
interval if the scaled errors were standard normal: rough, and only as fine as the grid), and it
says plainly when a size is not pinned (its interval spans every value tried) or when two readings
fit about equally well (best scores within 3.84 of each other), which is the data failing to tell
them apart.

This is kept apart from the July-September calibration: the baseline stays the held-out
validation, and every size fitted here is labelled "fitted to October-December". The validation
run of each reading (`validate_reading`) covers July-December, October-December being fitted
months for it, not held out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.experiments.calibrate import CONFIG as CALIBRATION
from sim.experiments.calibrate import load_config
from sim.experiments.report import SECTION
from sim.experiments.runner import run_replications
from sim.experiments.validation import cells_table
from sim.io.observed import observed_monthly
from sim.scenario.loading import load, parse_yaml, read_text
from sim.scenario.paths import with_values
from sim.scenario.schema import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "calibration" / "october_december.yaml"
CHI2_1_95 = 3.841  # the 95% point of chi-squared with one degree of freedom
MAX_POINTS = 200  # grid points of one reading; beyond this the fit would take hours here


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FreeChange(_Strict):
    change: int = Field(ge=0, description="index of the dated change in the reading's scenario")
    field: Literal["value", "from_date"] = "value"  # its size, or the day it starts
    values: tuple[float, ...] | tuple[date, ...] = Field(min_length=1, max_length=50)


class Reading(_Strict):
    name: str = Field(min_length=1, max_length=60)
    scenario: str
    says: str
    free: tuple[FreeChange, ...] = Field(min_length=1, max_length=3)


class StoryConfig(_Strict):
    months: tuple[str, ...] = Field(min_length=1)
    reps: int = Field(ge=2, le=100)
    seed: int = Field(ge=0)
    validation_reps: int = Field(ge=2, le=200)
    targets: dict[str, dict[str, float]]
    readings: tuple[Reading, ...] = Field(min_length=1, max_length=6)


def load_story(path: Path = CONFIG) -> StoryConfig:
    """The story's settings by the hardened YAML reader; any problem one line naming the setting."""
    origin = f"story config {path}"
    doc = parse_yaml(read_text(Path(path), origin), origin)
    try:
        cfg = StoryConfig.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ScenarioError(f"{origin}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    for r in cfg.readings:
        points = int(np.prod([len(f.values) for f in r.free]))
        if points > MAX_POINTS:
            raise ScenarioError(f"{origin}: readings '{r.name}': {points} grid points; at most {MAX_POINTS}")
    return cfg


def _points(sc: Scenario, reading: Reading) -> list[tuple[float, ...]]:
    for f in reading.free:
        if f.change >= len(sc.changes):
            raise ScenarioError(f"reading '{reading.name}': change {f.change} is not in {sc.name}"
                                f" (it has {len(sc.changes)} dated changes)")
    return list(itertools.product(*(f.values for f in reading.free)))


def at_point(sc: Scenario, reading: Reading, point: tuple) -> Scenario:
    """The reading's scenario with its free sizes (or dates) set to `point` (validated)."""
    return with_values(sc, {f"changes.{f.change}.{f.field}": (float(v) if f.field == "value" else v)
                            for f, v in zip(reading.free, point, strict=True)})


def free_name(sc: Scenario, f: FreeChange) -> str:
    """A free size's column name: the setting's path, and ' from' for its start date."""
    return sc.changes[f.change].setting + (" from" if f.field == "from_date" else "")


def score_terms(monthly: pd.DataFrame, cfg: StoryConfig) -> pd.DataFrame:
    """Per target and month: simulated mean, reported value and error in noise units."""
    obs = observed_monthly()
    means = monthly.groupby("month").mean(numeric_only=True)
    rows = []
    for measure, spec in cfg.targets.items():
        for month in cfg.months:
            s, o = float(means.at[month, measure]), float(obs.at[month, measure])
            rows.append({"measure": measure, "month": month, "simulated": s, "reported": o,
                         "error": (s - o) / spec["scale"]})
    return pd.DataFrame(rows)


@dataclass
class ReadingFit:
    reading: Reading
    scenario: Scenario
    grid: pd.DataFrame  # one row per point: each free size, the score and each target-month mean
    best: tuple[float, ...]
    intervals: dict[str, tuple[float, float]]  # per free setting: lowest and highest value in 3.84
    pinned: dict[str, bool]  # False where the interval spans every value tried
    edge: dict[str, bool]  # True where the best size is the lowest or highest tried
    cells: pd.DataFrame | None = None  # the validation run of the best point (validate_reading)

    @property
    def best_score(self) -> float:
        return float(self.grid["score"].min())

    def setting(self, i: int) -> str:
        return free_name(self.scenario, self.reading.free[i])


def profile(grid: pd.DataFrame, column: str) -> tuple[tuple[float, float], bool]:
    """The values of `column` whose best score (over the other sizes) is within 3.84 of the
    best, as (lowest, highest), and whether that leaves any value tried outside."""
    best = grid.groupby(column)["score"].min()
    inside = best[best <= best.min() + CHI2_1_95].index

    def plain(v):
        return float(v) if isinstance(v, int | float | np.number) else v

    return (plain(inside.min()), plain(inside.max())), len(inside) < len(best)


def fit(reading: Reading, cfg: StoryConfig, base: Path = CONFIG.parent, executor: Executor | None = None,
        progress: Callable[[Iterable], Iterable] | None = None) -> ReadingFit:
    """Every grid point of one reading on the same seeds, and what the scores say."""
    sc = load((base / reading.scenario).resolve())
    points = _points(sc, reading)
    names = [free_name(sc, f) for f in reading.free]
    rows = []
    for point in (progress(points) if progress else points):
        res = run_replications(at_point(sc, reading, point), reps=cfg.reps, seed=cfg.seed, executor=executor)
        terms = score_terms(res.monthly, cfg)
        row = dict(zip(names, point, strict=True))
        row["score"] = float((terms["error"] ** 2).sum())
        row.update({f"{t.measure} {t.month}": t.simulated for t in terms.itertuples()})
        rows.append(row)
    grid = pd.DataFrame(rows)
    best = tuple(grid.loc[grid["score"].idxmin(), n] for n in names)
    best = tuple(float(b) if f.field == "value" else b for b, f in zip(best, reading.free, strict=True))
    intervals, pinned, edge = {}, {}, {}
    for n, f, b in zip(names, reading.free, best, strict=True):
        intervals[n], pinned[n] = profile(grid, n)
        tried = sorted(f.values)
        edge[n] = len(tried) > 1 and f.field == "value" and b in (tried[0], tried[-1])
    return ReadingFit(reading, sc, grid, best, intervals, pinned, edge)


def validate_reading(rf: ReadingFit, reps: int, executor: Executor | None = None) -> pd.DataFrame:
    """The best point's run over July-December on the validation seed: every reported cell."""
    cal = load_config(CALIBRATION)
    res = run_replications(at_point(rf.scenario, rf.reading, rf.best), reps=reps, seed=cal.validation.seed,
                           executor=executor)
    cells = cells_table(res.monthly, cal, cal.validation.band)
    cells = cells[cells["validated"]].copy()
    cells["period"] = cells["period"].replace({"held out": "fitted to October-December"})
    rf.cells = cells
    return cells


@dataclass
class Story:
    cfg: StoryConfig
    fits: list[ReadingFit] = field(default_factory=list)

    def apart(self) -> list[tuple[str, str, bool]]:
        """Each pair of readings and whether the figures tell them apart (best scores more than
        3.84 apart)."""
        return [(a.reading.name, b.reading.name, abs(a.best_score - b.best_score) > CHI2_1_95)
                for a, b in itertools.combinations(self.fits, 2)]


def shown(v: float | date) -> str:
    return f"{v:.3g}" if isinstance(v, float | int) else str(v)


def _pinned_words(rf: ReadingFit, name: str, values: tuple) -> str:
    """Whether the figures pin a size, and whether its best is at the edge of what was tried."""
    if rf.edge[name]:
        best = rf.best[[rf.setting(i) for i in range(len(rf.best))].index(name)]
        end = "lowest" if best == min(values) else "highest"
        return f"no: the best is the {end} value tried, so the figures would have it further still"
    return "yes" if rf.pinned[name] else "no: every value tried fits"


def markdown(story: Story) -> str:
    """The section "What the October-December figures imply"."""
    out = ["# What the October-December figures imply", "",
           "Generated by `python -m sim story` from `calibration/october_december.yaml`. Every size"
           " here is **fitted to October-December 2023**, apart from the July-September calibration;"
           " for these scenarios October-December are fitted months, not a validation (the plain"
           " baseline's held-out validation is in `report.md`). Score: the sum over"
           f" {', '.join(story.cfg.months)} and the targets ({', '.join(story.cfg.targets)}) of the"
           " squared error in units of month-to-month noise; interval: the values whose best score"
           f" is within {CHI2_1_95} of the best ({story.cfg.reps} replications a point, common random"
           " numbers; as fine as the grid).", ""]
    out += ["| reading | what it says | change | fitted size | interval | pinned by the figures"
            " | best score |", "|---|---|---|---|---|---|---|"]
    for rf in story.fits:
        for i, f in enumerate(rf.reading.free):
            ch = rf.scenario.changes[f.change]
            name = rf.setting(i)
            lo, hi = rf.intervals[name]
            when = f"from {ch.from_date}" + (f" to {ch.to_date}" if ch.to_date else "")
            out.append(f"| {rf.reading.name} | {rf.reading.says if i == 0 else ''} | `{name}` {when} |"
                       f" {shown(rf.best[i])} | {shown(lo)} to {shown(hi)} |"
                       f" {_pinned_words(rf, name, f.values)} | {rf.best_score:.1f} |")
    out.append("")
    for a, b, told in story.apart():
        out.append(f"- **{a}** against **{b}**: " + (
            "the figures tell them apart (best scores more than 3.84 apart)." if told else
            "the figures cannot tell them apart: both fit about as well. More capacity and better"
            " practice are two readings of the same months, and only a measure the reports do not"
            " give (supervisor hours, PPN screening times) could choose between them."))
    out.append("")
    for rf in story.fits:
        if rf.cells is None:
            continue
        c = rf.cells
        inside = int(c["inside_band"].sum())
        widths = c.groupby("label", sort=False)["band_width"].agg(["median", "max"])
        out += [f"## {rf.reading.name}: all reported measures, July-December", "",
                f"{inside} of {len(c)} month x measure cells inside the 95% band"
                f" ({rf.reading.name}, {len(c['month'].unique())} months). Width of the band, in"
                " each measure's own unit (median over the months, widest): "
                + "; ".join(f"{k} {r['median']:.1f}, {r['max']:.1f}" for k, r in widths.iterrows())
                + ".", "",
                "| measure | month | period | reported | mean | band | inside |",
                "|---|---|---|---|---|---|---|"]
        for r in c.itertuples():
            out.append(f"| {r.label} | {r.month} | {r.period} | {r.reported:.1f} | {r.mean:.1f} |"
                       f" {r.band_low:.1f} to {r.band_high:.1f} | {'yes' if r.inside_band else 'no'} |")
        out.append("")
    return "\n".join(out) + "\n"


def summary(story: Story) -> str:
    """The section of calibration/report.md: each reading's sizes, whether the figures pin them
    and tell the readings apart, and each reading's July-December coverage."""
    out = [SECTION[0], "## What the October-December figures imply", "",
           "Fitted to October-December 2023, not a validation (the held-out validation of the"
           " baseline is above). Two readings of the reported changes, side by side; details,"
           " every grid point and every cell: `october_december.md`, `october_december_grid.csv`,"
           " `october_december_cells.csv` (`python -m sim story`).", "",
           "| reading | change | fitted size | interval | pinned | July-December cells in band |",
           "|---|---|---|---|---|---|"]
    for rf in story.fits:
        cells = rf.cells
        covered = f"{int(cells['inside_band'].sum())}/{len(cells)}" if cells is not None else ""
        for i, _ in enumerate(rf.reading.free):
            name = rf.setting(i)
            lo, hi = rf.intervals[name]
            out.append(f"| {rf.reading.name} | `{name}` | {shown(rf.best[i])} | {shown(lo)} to {shown(hi)} |"
                       f" {_pinned_words(rf, name, rf.reading.free[i].values)} |"
                       f" {covered if i == 0 else ''} |")
    out.append("")
    for a, b, told in story.apart():
        out.append(f"- {a} against {b}: " + ("told apart by these figures." if told else
                                              "these figures cannot tell them apart."))
    out += ["", SECTION[1]]
    return "\n".join(out)
