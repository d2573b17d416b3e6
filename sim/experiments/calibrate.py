"""Calibration: fit the parameters the reports do not give to the months they do report.

`calibration/calibration.yaml` names the free parameters (with bounds and why each is free),
the months to fit and the targets. The fit minimises the squared error between the
simulated monthly means and the reported figures, each error in units of its month-to-month
noise, with Nelder-Mead inside the bounds. Every evaluation uses the same replication seeds
(common random numbers), so the objective is smooth enough for a direct search and differences
between candidate values are not masked by noise. The fitted values are written into the
scenario's calibration overlay (scenarios/calibrated/baseline.calibrated.yaml, which the
hand-edited scenarios/baseline.yaml extends) with provenance "calibrated", the date and the
value they replaced; the hand-edited file is never rewritten.

The fit has two stages. The front-door parameters are fitted first, as above. The downstream
parameters (`downstream_parameters`: strategy meeting chairs, S47 length, assessment pace,
how often families come back as referrals) cannot change anything the front door does, so the
front door is then run once per replication at the fitted values and only the pathway after it
(sim/pathway.py) is recomputed for each candidate: the same optimum as a joint fit, in a
fraction of the time.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import optimize

from sim.experiments.runner import SerialExecutor, run_replications
from sim.io.observed import observed_monthly
from sim.io.output import write_text
from sim.measures.metrics import monthly
from sim.model.pathway import complete
from sim.model.replication import simulate
from sim.scenario.loading import (
    OVERLAY_SUFFIX,
    OVERLAYS,
    deep_merge,
    extends_target,
    ordered_like,
    parse_yaml,
    read_document,
    read_text,
)
from sim.scenario.paths import PathError, assign, get, parts
from sim.scenario.schema import OUTCOMES, Scenario, ScenarioError, validate

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "calibration" / "calibration.yaml"
LOG = ROOT / "calibration" / "last_calibration.json"
PENALTY = 1e6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FreeParameter(_Strict):
    name: str
    kind: Literal["monthly_default", "share_scale", "scalar", "scalar_scale"]
    path: str | None = None
    paths: tuple[str, ...] = ()
    share: str | None = None
    bounds: tuple[float, float]
    target: str
    why: str


class TargetSpec(_Strict):
    scale: float = Field(gt=0)


class ValidationSpec(_Strict):
    reps: int = Field(ge=2)
    seed: int = Field(ge=0)
    band: float = Field(gt=0, lt=1)


class CalibrationConfig(_Strict):
    scenario: str
    fit_months: tuple[str, ...]
    holdout_months: tuple[str, ...]
    reps: int = Field(ge=1)
    seed: int = Field(ge=0)
    max_evaluations: int = Field(ge=1)
    validation: ValidationSpec
    free_parameters: tuple[FreeParameter, ...]
    targets: dict[str, TargetSpec]
    downstream_parameters: tuple[FreeParameter, ...] = ()
    downstream_targets: dict[str, TargetSpec] = Field(default_factory=dict)
    downstream_max_evaluations: int = Field(default=60, ge=1)
    validated_measures: tuple[str, ...]
    not_identifiable: tuple[str, ...]

    def scenario_path(self, config_path: Path) -> Path:
        return (config_path.parent / self.scenario).resolve()


def load_config(path: Path = CONFIG) -> CalibrationConfig:
    """The calibration settings, read by the hardened YAML reader; any problem is one
    ScenarioError line naming the file and the setting, never quoting the file's content (so a
    file given by mistake, or on purpose, is not echoed back)."""
    path = Path(path)
    origin = f"calibration config {path}"
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        raise ScenarioError(f"{origin}: not a calibration settings file (a .yaml file is expected)")
    doc = parse_yaml(read_text(path, origin), origin)
    if not isinstance(doc, dict):
        raise ScenarioError(f"{origin}: not a calibration settings file (a mapping of settings is expected)")
    try:
        cfg = CalibrationConfig.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = len(exc.errors()) - 1
        raise ScenarioError(f"{origin}: {loc}: {err['msg']}" + (f" (and {more} more)" if more else "")
                            ) from None
    scenario = cfg.scenario_path(path)
    if scenario.suffix != ".yaml" or not scenario.is_file():
        raise ScenarioError(f"{origin}: scenario: {cfg.scenario!r} is not a scenario file beside it")
    return cfg


# ---------------------------------------------------------------------------------------------
# applying candidate values to a scenario document


def scaled_shares(values: dict[str, float], share: str, factor: float) -> dict[str, float]:
    """One share scaled by `factor`, the others rescaled so all still sum to 1 (4 decimals)."""
    new = min(max(values[share] * factor, 0.0), 1.0)
    rest = 1.0 - values[share]
    out = {k: (v * (1.0 - new) / rest if rest > 0 else (1.0 - new) / (len(values) - 1))
           for k, v in values.items()}
    out[share] = new
    out = {k: round(v, 4) for k, v in out.items()}
    last = [k for k in OUTCOMES if k != share][-1]
    out[last] = round(1.0 - sum(v for k, v in out.items() if k != last), 4)
    return out


def apply(doc: dict, params: Iterable[FreeParameter], x: Iterable[float]) -> dict:
    """A copy of the scenario document with the free parameters set to x."""
    doc = copy.deepcopy(doc)
    for p, v in zip(params, x, strict=True):
        if p.kind == "monthly_default":
            assign(doc, (*parts(p.path), "default"), round(float(v), 3))
        elif p.kind == "scalar":
            assign(doc, (*parts(p.path), "value"), round(float(v), 4))
        elif p.kind == "scalar_scale":
            for path in p.paths:
                value = (*parts(path), "value")
                assign(doc, value, round(get(doc, value) * float(v), 4))
        else:
            for path in p.paths:
                value = (*parts(path), "value")
                assign(doc, value, scaled_shares(get(doc, value), p.share, float(v)))
    return doc


# ---------------------------------------------------------------------------------------------
# the fit


@dataclass
class FitResult:
    x: list[float]
    objective: float
    evaluations: int
    seconds: float
    start_x: list[float]
    start_objective: float
    history: list[tuple[list[float], float]] = field(default_factory=list)
    fitted: pd.DataFrame | None = None
    downstream: FitResult | None = None  # the second stage (downstream parameters)


def fit_period(sc: Scenario, months: tuple[str, ...]) -> Scenario:
    first = date.fromisoformat(months[0] + "-01")
    last = (pd.Timestamp(months[-1] + "-01") + pd.offsets.MonthEnd(0)).date()
    return sc.with_run(start=first, end=last)


def objective_terms(monthly: pd.DataFrame, cfg: CalibrationConfig,
                    targets: dict[str, TargetSpec] | None = None) -> pd.DataFrame:
    """Per target and month: simulated mean, reported value and the scaled error."""
    obs = observed_monthly()
    means = monthly.groupby("month").mean(numeric_only=True)
    rows = []
    for measure, spec in (cfg.targets if targets is None else targets).items():
        for month in cfg.fit_months:
            sim_v, obs_v = float(means.at[month, measure]), float(obs.at[month, measure])
            rows.append({"measure": measure, "month": month, "simulated": sim_v, "reported": obs_v,
                         "error": (sim_v - obs_v) / spec.scale})
    return pd.DataFrame(rows)


def _start_value(doc: dict, p: FreeParameter) -> float:
    if p.kind == "monthly_default":
        return float(get(doc, (*parts(p.path), "default")))
    if p.kind == "scalar":
        return float(get(doc, (*parts(p.path), "value")))
    return 1.0  # scales start at the file's values


def _nelder_mead(evaluate: Callable[[np.ndarray], float], params: tuple[FreeParameter, ...],
                 start: np.ndarray, budget: int) -> tuple[list[float], float]:
    """Nelder-Mead on the parameters mapped to [0, 1] within their bounds."""
    lo = np.array([p.bounds[0] for p in params])
    hi = np.array([p.bounds[1] for p in params])
    u0 = (np.clip(start, lo, hi) - lo) / (hi - lo)
    step = 0.25
    simplex = np.vstack([u0] + [np.clip(u0 + step * np.eye(len(u0))[i] * (1 if u0[i] < 0.5 else -1), 0, 1)
                                for i in range(len(u0))])
    opt = optimize.minimize(lambda u: evaluate(lo + np.clip(u, 0, 1) * (hi - lo)), u0,
                            method="Nelder-Mead", bounds=[(0, 1)] * len(u0),
                            options={"maxfev": budget, "initial_simplex": simplex,
                                     "xatol": 0.01, "fatol": 0.05})
    return (lo + np.clip(opt.x, 0, 1) * (hi - lo)).tolist(), float(opt.fun)


def _front_door(sc: Scenario, seed: int, rep: int):
    """One replication's result (top level so it pickles), for the downstream stage."""
    return simulate(sc, seed, rep)


def calibrate(config_path: Path = CONFIG, executor: Executor | None = None,
              progress: Callable[[Iterable], Iterable] | None = None,
              max_evaluations: int | None = None) -> tuple[FitResult, dict, CalibrationConfig]:
    """Fit the free parameters; returns the fit, the fitted scenario document and the config.

    The returned fit is the front-door stage; its `downstream` holds the second stage.
    """
    cfg = load_config(config_path)
    path = cfg.scenario_path(config_path)
    overlay_path(path)  # refused before a fit that could not be written
    check_not_set_by_hand(path, cfg)
    base_doc = read_document(read_text(path, str(path)), str(path), path.parent)
    params = cfg.free_parameters
    start = np.array([_start_value(base_doc, p) for p in params], dtype=float)
    budget = max_evaluations or cfg.max_evaluations
    d_budget = max_evaluations or cfg.downstream_max_evaluations
    history: list[tuple[list[float], float]] = []
    bar = progress(range(budget + (d_budget if cfg.downstream_parameters else 0))) if progress else None
    bar_it = iter(bar) if bar is not None else None

    def tick() -> None:
        if bar_it is not None:
            next(bar_it, None)

    def evaluate(x: np.ndarray) -> float:
        try:
            sc = fit_period(validate(apply(base_doc, params, x), "calibration candidate"),
                            cfg.fit_months)
        except ScenarioError:
            value = PENALTY  # outside a share's plausible range: not a candidate
        else:
            res = run_replications(sc, reps=cfg.reps, seed=cfg.seed, executor=executor)
            value = float(np.sum(objective_terms(res.monthly, cfg)["error"] ** 2))
        history.append((list(map(float, x)), value))
        tick()
        return value

    t0 = time.perf_counter()
    best_x, best_f = _nelder_mead(evaluate, params, start, budget)
    best_doc = apply(base_doc, params, best_x)
    sc = fit_period(validate(best_doc, "calibrated"), cfg.fit_months)
    fitted = objective_terms(run_replications(sc, reps=cfg.reps, seed=cfg.seed,
                                              executor=executor).monthly, cfg)
    result = FitResult(best_x, best_f, len(history), time.perf_counter() - t0,
                       start.tolist(), history[0][1], history, fitted)
    if cfg.downstream_parameters:
        result.downstream, best_doc = _calibrate_downstream(cfg, best_doc, sc, executor, d_budget, tick)
        result.seconds = time.perf_counter() - t0
    if bar is not None and hasattr(bar, "close"):
        bar.close()
    return result, best_doc, cfg


def _calibrate_downstream(cfg: CalibrationConfig, doc: dict, sc: Scenario, executor: Executor | None,
                          budget: int, tick: Callable[[], None]) -> tuple[FitResult, dict]:
    """Second stage: the downstream parameters on the fitted front door's replications."""
    t0 = time.perf_counter()
    ex = executor or SerialExecutor()
    runs = [f.result() for f in [ex.submit(_front_door, sc, cfg.seed, r) for r in range(cfg.reps)]]
    params = cfg.downstream_parameters
    start = np.array([_start_value(doc, p) for p in params], dtype=float)
    history: list[tuple[list[float], float]] = []

    def terms(x) -> pd.DataFrame | None:
        try:
            cand = fit_period(validate(apply(doc, params, x), "calibration candidate"), cfg.fit_months)
        except ScenarioError:
            return None
        return objective_terms(pd.concat([monthly(complete(r, cand)) for r in runs]), cfg,
                               cfg.downstream_targets)

    def evaluate(x: np.ndarray) -> float:
        t = terms(x)
        value = PENALTY if t is None else float(np.sum(t["error"] ** 2))
        history.append((list(map(float, x)), value))
        tick()
        return value

    best_x, best_f = _nelder_mead(evaluate, params, start, budget)
    fit = FitResult(best_x, best_f, len(history), time.perf_counter() - t0, start.tolist(),
                    history[0][1], history, terms(best_x))
    return fit, apply(doc, params, best_x)


# ---------------------------------------------------------------------------------------------
# writing back: into the calibration overlay, never into the hand-edited scenario file
#
# The scenario calibrated (scenarios/baseline.yaml) is edited by hand and `extends:` its
# calibration overlay (scenarios/calibrated/baseline.calibrated.yaml), which holds, for each
# fitted setting, only the fitted number, its provenance "calibrated", the source naming the
# calibration and a note with what it replaced. The hand-edited file keeps the rest of each
# setting (unit, plausible range) and everything else; what it states wins over the overlay,
# so calibrate refuses to run while it states one of the overlay's keys itself.

OVERLAY_KEYS = ("provenance", "source", "note")  # written beside the fitted number itself


def _fitted_key(p: FreeParameter) -> str:
    """The key of a setting that a fit sets: a monthly setting's default, else its value."""
    return "default" if p.kind == "monthly_default" else "value"


def _targets(p: FreeParameter) -> list[str]:
    return [p.path] if p.kind in ("monthly_default", "scalar") else list(p.paths)


def _all_parameters(cfg: CalibrationConfig) -> tuple[FreeParameter, ...]:
    return (*cfg.free_parameters, *cfg.downstream_parameters)


def overlay_path(scenario: Path) -> Path:
    """The calibration overlay the scenario file extends (beside it or in its `calibrated/`
    folder, named <scenario>.calibrated.yaml); anything else is refused in one line, so that
    calibrate never writes into a file that is edited by hand."""
    scenario = Path(scenario)
    target = extends_target(scenario)
    name = f"{scenario.stem}{OVERLAY_SUFFIX}"
    homes = {scenario.parent.resolve(), (scenario.parent / OVERLAYS).resolve()}
    if target is None or target.name != name or target.parent.resolve() not in homes:
        got = "extends nothing" if target is None else f"extends {target.name}"
        raise ScenarioError(f"{scenario}: extends: the file calibrated must extend its calibration"
                            f" overlay {name} (in {OVERLAYS}/ beside it), where the fitted settings"
                            f" are written; it {got}")
    return target


def check_not_set_by_hand(scenario: Path, cfg: CalibrationConfig) -> None:
    """Refuse, in one line, a fitted key that the hand-edited file states itself: it would win
    over the overlay, so the fit (or its provenance and source) would silently not be used."""
    scenario = Path(scenario)
    own = parse_yaml(read_text(scenario, str(scenario)), str(scenario))
    for p in _all_parameters(cfg):
        for target in _targets(p):
            try:
                node = get(own, target)
            except PathError:
                continue
            for key in (_fitted_key(p), *OVERLAY_KEYS):
                if isinstance(node, dict) and key in node:
                    raise ScenarioError(
                        f"{scenario}: {target}.{key}: set in the hand-edited file, where it would win"
                        f" over the calibrated setting in {scenario.stem}{OVERLAY_SUFFIX}; take it"
                        f" out of {scenario.name} (or '{p.name}' out of the calibration settings)")


def _put(doc: dict, path: str, node: dict) -> None:
    """Set `node` at a dotted path, making the mappings above it."""
    *above, last = parts(path)
    for key in above:
        doc = doc.setdefault(key, {})
    doc[last] = node


WIDTH = 100  # the overlay reads at 100 columns, as the hand-edited scenario files do
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}  # never written plain


def _scalar(v: Any) -> str:
    """One number or text as YAML (a text in double quotes, JSON's escapes being YAML's too)."""
    if isinstance(v, bool) or v is None:  # pragma: no cover - a fit writes numbers and texts
        raise TypeError(f"not a calibrated number or text: {v!r}")
    if isinstance(v, int | float):
        return repr(v)
    if re.fullmatch(r"[a-z]+", v) and v not in _YAML_WORDS:
        return v  # a one-word text such as a provenance reads plain
    return json.dumps(v, ensure_ascii=False)


def _folds(text: str) -> bool:
    """Whether a text reads back unchanged as a folded block (`>-`) of its words."""
    return (bool(text) and text == text.strip() and "  " not in text
            and all(c.isprintable() for c in text))


def _lines(node: dict, indent: str = "") -> list[str]:
    """A mapping as block YAML: nested mappings as blocks, a mapping of numbers (shares) on
    one line, a long text folded at word boundaries."""
    out = []
    for key, v in node.items():
        head = f"{indent}{key}:"
        if isinstance(v, dict) and v and all(isinstance(x, int | float) for x in v.values()):
            out.append(f"{head} {{{', '.join(f'{k}: {_scalar(x)}' for k, x in v.items())}}}")
        elif isinstance(v, dict):
            out += [head, *_lines(v, indent + "  ")]
        elif isinstance(v, str) and len(head) + 1 + len(_scalar(v)) > WIDTH and _folds(v):
            out.append(f"{head} >-")
            line = ""
            for word in v.split(" "):
                if line and len(indent) + 2 + len(line) + 1 + len(word) > WIDTH:
                    out.append(f"{indent}  {line}")
                    line = word
                else:
                    line = f"{line} {word}" if line else word
            out.append(f"{indent}  {line}")
        else:
            out.append(f"{head} {_scalar(v)}")
    return out


def overlay_text(entries: dict, scenario_name: str, when: date, months: tuple[str, ...]) -> str:
    """The calibration overlay's text: a header saying what it is, then the fitted settings."""
    header = (
        f"# The calibrated settings of {scenario_name}, written by `python -m sim calibrate`\n"
        f"# (last on {when.isoformat()}, fitted to {months[0]} to {months[-1]}; the log is\n"
        "# calibration/last_calibration.json). Each holds the fitted number, provenance\n"
        "# \"calibrated\", the source naming the calibration and a note with what it replaced.\n"
        f"# {scenario_name} extends this file and states the rest of each setting (unit, range).\n"
        f"# Edit {scenario_name}, not this file: the next calibration rewrites it.\n")
    return header + "\n".join(_lines(entries)) + "\n"


def write_back(config_path: Path, cfg: CalibrationConfig, result: FitResult,
               when: date | None = None) -> Path:
    """Write the fitted values into the scenario's calibration overlay (atomically: a temp file
    renamed over it), checked first as the whole scenario it makes; returns the overlay's path.

    The hand-edited scenario file is only read. The overlay keeps the settings an earlier
    calibration fitted that this one does not."""
    when = when or date.today()
    scenario = cfg.scenario_path(config_path)
    overlay = overlay_path(scenario)
    check_not_set_by_hand(scenario, cfg)
    own = parse_yaml(read_text(scenario, str(scenario)), str(scenario))
    current = read_document(read_text(scenario, str(scenario)), str(scenario), scenario.parent)
    entries = copy.deepcopy(parse_yaml(read_text(overlay, str(overlay)), str(overlay)))
    fitted = list(zip(cfg.free_parameters, result.x, strict=True))
    if result.downstream is not None:
        fitted += list(zip(cfg.downstream_parameters, result.downstream.x, strict=True))
    for p, v in fitted:
        for t in _targets(p):
            node = get(current, t)
            key = _fitted_key(p)
            old_value = dict(node[key]) if p.kind == "share_scale" else node[key]
            note = (node.get("note", "") if node.get("provenance") == "calibrated"
                    else f"Before calibration ({node['provenance']}): {_show(old_value)}. {node['source']}")
            if p.kind == "monthly_default":
                new: Any = round(float(v), 2)
                what = f"fitted value {float(v):.2f}"
            elif p.kind == "scalar":
                new = round(float(v), 3)
                what = f"fitted value {float(v):.3f}"
            elif p.kind == "scalar_scale":
                new = round(float(old_value) * float(v), 4)
                what = f"scaled by {float(v):.3f} with the other {len(p.paths) - 1} values of its group"
            else:
                scaled = scaled_shares(old_value, p.share, float(v))
                new = {k: scaled[k] for k in old_value}
                what = f"{p.share} share scaled by {float(v):.3f} across {len(p.paths)} streams"
            source = (f"Calibrated {when.isoformat()} by `python -m sim calibrate` to the"
                      f" reported {p.target} for {cfg.fit_months[0]} to {cfg.fit_months[-1]}"
                      f" (seed 003, calibration/observed_monthly.csv): {what}, bounds"
                      f" {list(p.bounds)}. Why free: {' '.join(p.why.split())}")
            _put(entries, t, {key: new, "provenance": "calibrated", "source": source, "note": note})
    entries = ordered_like(entries, own)
    text = overlay_text(entries, scenario.name, when, cfg.fit_months)
    if parse_yaml(text, str(overlay)) != entries:  # pragma: no cover - the dumper's own guarantee
        raise ScenarioError(f"{overlay}: the calibrated settings do not read back as written; not written")
    hand = {k: v for k, v in own.items() if k != "extends"}
    validate(deep_merge(entries, hand), str(scenario))  # never write an overlay that makes a bad scenario
    write_text(text, overlay)
    return overlay


def _show(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {x:g}" for k, x in v.items()) + "}"
    return f"{v:g}"


def save_log(result: FitResult, cfg: CalibrationConfig, path: Path = LOG) -> None:
    log = {
        "date": date.today().isoformat(), "seconds": round(result.seconds, 1),
        "evaluations": result.evaluations, "objective_start": result.start_objective,
        "objective": result.objective, "reps_per_evaluation": cfg.reps, "seed": cfg.seed,
        "parameters": [{"name": p.name, "bounds": list(p.bounds), "start": s, "fitted": x,
                        "target": p.target}
                       for p, s, x in zip(cfg.free_parameters, result.start_x, result.x, strict=True)],
        "fit": result.fitted.to_dict(orient="records") if result.fitted is not None else [],
    }
    d = result.downstream
    if d is not None:
        log["downstream"] = {
            "seconds": round(d.seconds, 1), "evaluations": d.evaluations,
            "objective_start": d.start_objective, "objective": d.objective,
            "parameters": [{"name": p.name, "bounds": list(p.bounds), "start": s, "fitted": x,
                            "target": p.target}
                           for p, s, x in zip(cfg.downstream_parameters, d.start_x, d.x, strict=True)],
            "fit": d.fitted.to_dict(orient="records") if d.fitted is not None else [],
        }
    write_text(json.dumps(log, indent=2) + "\n", path)
