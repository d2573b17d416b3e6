"""The target finder (sim.experiments.target) and the sensitivity tornado
(sim.experiments.sensitivity) in the app.

Both can take minutes, so each says how long it will take before it starts and can be made
smaller (fewer values of the lever, fewer assumptions, fewer replications); it shows progress
while it runs and keeps its answer twice: in the session, to show on the page, and in a cache
shared by every session of this server, under the whole scenario, the seed and the number of
replications (as runs are, ui/runs.py), so asking again is immediate. Nothing is written to disk.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from sim.experiments import frontier as fr
from sim.experiments.levers import LEVERS, Lever, run_months
from sim.experiments.sensitivity import Judged, judged_parameters, one_at_a_time
from sim.experiments.target import TARGETS, Target, TargetResult, find_target
from sim.measures.metrics import MEASURES
from sim.scenario.loading import load
from sim.scenario.paths import get
from sim.scenario.schema import Scenario
from ui import charts, excel, params, runs, state

T = TypeVar("T")
Step = Callable[[int, int], None]

# Measures every sensitivity run records (they cost nothing extra: all come from the same runs).
SENS_MEASURES = tuple(m for m in (
    "pct_completed_within_1wd", "pct_contacts_to_referral", "referrals", "pct_police_info_advice",
    "abandoned_calls", "util_csw", "util_ps", "wait_hours_csw", "wait_hours_ps", "open_at_month_end",
) if m in MEASURES)
# A quick first look: the assumptions the front door's own work hangs on.
SENS_FIRST_PICK = ("staff.csw.productive_share", "staff.ps.productive_share",
                   "service.conversation_minutes.mean", "service.email_screen_minutes.mean",
                   "service.ppn_screen_minutes.mean", "outcomes.conversation_referral_ratio")
ALL, CHOSEN = "Every judged assumption", "Only the assumptions I choose"
WEIGHT_KEY = "frontier_weight:"
# Each widget's starting value; kept in the session so that leaving the page keeps the choice.
CHOICES: dict[str, Any] = {
    "target_question": "within_1wd_95", "target_lever": "csw_posts", "target_reps": runs.DEFAULT_REPS,
    "target_coarse": 5, "target_fine": 4,
    "frontier_levers": ["conversation_effect", "phone_shift"], "frontier_values": 3,
    "sens_measures": list(SENS_MEASURES[:2]), "sens_scope": CHOSEN, "sens_pick": list(SENS_FIRST_PICK),
    "sens_reps": 3, "sens_top": 15,
}


def keep_choices() -> None:
    """Give every choice its starting value once, and keep it while another page is shown."""
    ss = st.session_state
    for k, v in CHOICES.items():
        ss[k] = ss[k] if k in ss else (list(v) if isinstance(v, list) else v)
    for k in [k for k in ss if str(k).startswith(WEIGHT_KEY)]:  # each lever's weight, once set
        ss[k] = ss[k]
    if "frontier_latest_start" in ss:  # the dated start's latest month, once chosen
        ss.frontier_latest_start = ss.frontier_latest_start


@st.cache_resource(show_spinner=False)
def shared_store() -> runs.ResultStore:
    """Finished searches and sensitivity rows, shared by every session (keys name the whole scenario)."""
    return runs.ResultStore(max_items=4096)


def _with_pool(fn: Callable[[Executor], T]) -> T:
    """Run on the shared pool; if a worker died, start a fresh pool and try once more."""
    try:
        return fn(runs.shared_pool())
    except BrokenProcessPool:
        runs.shared_pool.clear()
        return fn(runs.shared_pool())


def _ticks(on_step: Step | None) -> Callable[[Iterable], Iterator] | None:
    """sim.experiments.target's progress: it takes one item after each value of the lever is finished."""
    if on_step is None:
        return None

    def progress(it: Iterable) -> Iterator:
        items = list(it)
        for i, x in enumerate(items, start=1):
            on_step(i, len(items))
            yield x
    return progress


def _finished(on_step: Step | None) -> Callable[[Iterable], Iterator] | None:
    """sim.experiments.sensitivity's progress: it hands over the futures; each is counted once it
    has finished."""
    if on_step is None:
        return None

    def progress(futures: Iterable) -> Iterator:
        futures = list(futures)
        on_step(0, len(futures))
        for i, fut in enumerate(futures, start=1):
            fut.exception()  # waits; an error is raised where the result is taken
            on_step(i, len(futures))
            yield fut
    return progress


def progress_bar(what: str) -> tuple[Any, Step]:
    """A progress bar that also says how long is left, from the pace so far."""
    bar = st.progress(0.0, text=f"{what}: starting…")
    t0 = time.perf_counter()

    def step(done: int, total: int) -> None:
        if total <= 0:
            return
        left = ""
        if 0 < done < total:
            secs = (time.perf_counter() - t0) / done * (total - done)
            left = f"; {runs.say_seconds(secs)} left"
        bar.progress(min(1.0, done / total), text=f"{what}: {done} of {total} finished{left}")
    return bar, step


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# the target finder


@dataclass
class TargetRun:
    """A finished search as the session shows it."""

    key: str
    result: TargetResult
    seconds: float
    from_cache: bool
    scenario: str
    reps: int
    seed: int


def target_key(sc: Scenario, seed: int, reps: int, lever: str, target: str, coarse: int, fine: int) -> str:
    return f"target:{runs.run_key(sc, seed, reps)}:{lever}:{target}:{coarse}:{fine}"


@functools.lru_cache(maxsize=4)
def _library(name: str) -> Scenario:
    return load(state.SCENARIO_DIR / f"{name}.yaml")


def reference_for(target: Target) -> Scenario | None:
    """The scenario a relative target is measured against (the front door before the approach)."""
    return _library(target.relative_to) if target.relative_to else None


def target_seconds(sc: Scenario, target: str, reps: int, coarse: int, fine: int) -> float:
    """At most this long: every value of the lever tried, plus the reference scenario if needed."""
    one = runs.estimate_seconds(sc, reps, runs.shared_timing())
    return (coarse + fine + (1 if TARGETS[target].relative_to else 0)) * one


def run_target(sc: Scenario, seed: int, reps: int, lever: str, target: str, coarse: int, fine: int,
               on_step: Step | None = None) -> tuple[TargetResult, float, bool]:
    """The search for (scenario, seed, reps, lever, target, grid): from the cache, or run now."""
    key = target_key(sc, seed, reps, lever, target, coarse, fine)
    store = shared_store()
    hit = store.get(key)
    if hit is not None:
        return hit, 0.0, True
    ref = reference_for(TARGETS[target])
    t0 = time.perf_counter()
    res = _with_pool(lambda pool: find_target(sc, lever, target, reps=reps, seed=seed, coarse=coarse,
                                              fine=fine, reference=ref, executor=pool,
                                              progress=_ticks(on_step)))
    seconds = time.perf_counter() - t0
    store.put(key, res)
    runs.shared_timing().record(seconds, runs.workload(sc) * reps * (len(res.grid) + (ref is not None)),
                                max(1, min(runs.WORKERS, reps)))
    return res, seconds, False


def lever_text(lv: Lever, sc: Scenario) -> str:
    return (f"Now {lv.current(sc):g} {lv.unit} in this scenario. The search moves it"
            f" {'up' if lv.improves > 0 else 'down'} towards {lv.high if lv.improves > 0 else lv.low:g},"
            f" within the plausible range {lv.low:g} to {lv.high:g} {lv.unit}: {lv.why_range}.")


def target_text(t: Target) -> str:
    label, unit = MEASURES[t.measure]
    if t.relative_to:
        return (f"Met when {label.lower()} over the run, divided by the same replications of the front door"
                f" before the conversations approach (scenarios/{t.relative_to}.yaml), is {t.goal:g} or less"
                " with 95% confidence: 30% fewer.")
    return (f"Met when the average {label[:1].lower() + label[1:]} over the run is"
            f" {'at least' if t.at_least else 'at most'} {t.goal:g}{'%' if unit.startswith('%') else ''}"
            " with 95% confidence.")


@st.fragment  # its choices and its run redraw this section alone, not the comparison above it
def target_section(sc: Scenario | None) -> None:
    """The target finder's form, its time estimate, progress, and the answer."""
    ss = st.session_state
    st.subheader("What would it take? (target finder)")
    st.markdown("Finds the smallest change to one lever that meets a target with 95% confidence: the"
                " improvement lead's 30% fewer referrals than before the conversations approach, or the"
                " managers' 95% of contacts completed within one working day. The lever is tried at a few"
                " values across its plausible range, then at more values between the last that misses and"
                " the first that meets the target; every value runs on the same random numbers.")
    if sc is None:
        st.info("The changed scenario cannot be run (see Change the scenario), so there is nothing to"
                " search.")
        return
    c1, c2 = st.columns(2)
    with c1:
        tkey = st.radio("Question", list(TARGETS), format_func=lambda k: cap(TARGETS[k].label),
                        key="target_question")
        st.caption(target_text(TARGETS[tkey]))
        lkey = st.selectbox("Lever to move", list(LEVERS), format_func=lambda k: cap(LEVERS[k].label),
                            key="target_lever")
        whole = (f" It moves in whole steps from the scenario's value: one step is {fr.STEPS[lkey][1]}."
                 if LEVERS[lkey].whole else "")
        st.caption(lever_text(LEVERS[lkey], sc) + whole)
    with c2:
        reps = int(st.number_input("Replications at each value tried", min_value=2, max_value=runs.MAX_REPS,
                                   step=1, key="target_reps",
                                   help="More replications give a narrower interval at each value, so the"
                                        " target can be met with confidence closer to where the average"
                                        " meets it; the search takes longer."))
        coarse = int(st.slider("Values tried across the range", min_value=2, max_value=9, key="target_coarse",
                               help="Evenly spaced from the scenario's value to the end of the range"
                                    " (whole posts for posts and co-triage pairs)."))
        fine = int(st.slider("Further values tried to pin the answer down", min_value=0, max_value=6,
                             key="target_fine",
                             help="Between the last value that misses the target and the first that meets"
                                  " it (for posts, halving that gap in whole posts); none means the answer"
                                  " is only as fine as the values above."))
    seed = int(ss.seed)
    key = target_key(sc, seed, reps, lkey, tkey, coarse, fine)
    ok = True
    if shared_store().get(key) is not None:
        st.caption("This search has been run with these settings: its answer will show at once.")
    else:
        secs = target_seconds(sc, tkey, reps, coarse, fine)
        ref = (", plus the same replications of the front door before the conversations approach"
               if TARGETS[tkey].relative_to else "")
        st.caption(f"This will take {runs.say_seconds(secs)} at most: up to {coarse + fine} values of the"
                   f" lever, {reps} replications each{ref} (it stops early once the answer is pinned down)."
                   " For a quicker answer, try fewer values or fewer replications.")
        ok = runs.long_run_confirmed(secs, "Lower the replications or the values tried above for a"
                                     " quicker look, or confirm below.", "target")
    if st.button("Find the smallest change", type="primary", key="run_target", disabled=not ok):
        bar, step = progress_bar(f"Trying {LEVERS[lkey].label}")
        try:
            res, seconds, hit = run_target(sc, seed, reps, lkey, tkey, coarse, fine, step)
        except Exception as exc:  # noqa: BLE001 - said on the page, which goes on
            bar.empty()
            st.error(f"The search stopped: {exc}")
            return
        bar.empty()
        ss.target = TargetRun(key, res, seconds, hit, sc.name, reps, seed)
    run: TargetRun | None = ss.get("target")
    if run is not None:
        if run.key != key:
            st.info("The answer below is for earlier settings (a different question, lever, scenario or"
                    " number of replications); find the smallest change again to update it.")
        show_target(run)
    frontier_section(sc, tkey, reps)


def show_target(run: TargetRun) -> None:
    res = run.result
    lv, t = res.lever, res.target
    (st.success if res.met else st.warning)(res.message())
    when = "from the cache, at once" if run.from_cache else f"in {run.seconds:.0f} seconds"
    how = (f"the first value tried, in whole steps of {fr.STEPS[lv.key][1]}, where" if lv.whole else
           "the value where")
    between = "." if lv.whole else ", interpolated between the values tried."
    st.caption(f"Scenario '{run.scenario}', {run.reps} replications at each of {len(res.grid)} values, seed"
               f" {run.seed}; answered {when}. The search's own answer is {how} the 95% interval's"
               " near end (its low end for a goal to reach, its high end for one to stay under) crosses the"
               f" goal{between}")
    measure = str(res.grid["measure"].iloc[0]) if len(res.grid) else MEASURES[t.measure][0]
    unit = MEASURES[t.measure][1]
    if t.relative_to:
        axis, goal = f"{measure} (ratio, 1 = the same)", f"goal: {t.goal:g} (30% fewer)"
    else:
        axis = measure if unit == "%" else f"{measure} ({unit})"
        goal = f"goal: {t.goal:g}{'%' if unit.startswith('%') else ''}"
    chart, table = charts.target_chart(res.grid, lv.label, lv.unit, axis, t.goal, goal,
                                       res.value_confident if res.met else None, t.at_least)
    st.altair_chart(chart, width="stretch", alt=res.message())
    st.caption("In words: " + res.message())
    st.dataframe(table.drop(columns=["lever", "measure"], errors="ignore").round(3), hide_index=True,
                 width="stretch")
    st.download_button("Download the values tried (target.csv)", excel.csv_bytes(table),
                       file_name="target.csv", mime="text/csv", key="dl:target", on_click="ignore")


# ---------------------------------------------------------------------------------------------
# several levers at once: the frontier (sim.experiments.frontier)


@dataclass
class FrontierRun:
    """A finished search over several levers as the session shows it."""

    key: str
    result: fr.FrontierResult
    seconds: float
    from_cache: bool
    scenario: str


def frontier_key(sc: Scenario, seed: int, reps: int, target: str, levers: list[tuple[str, float]],
                 values: int) -> str:
    chosen = ",".join(f"{k}:{w:g}" for k, w in levers)
    return f"frontier:{runs.run_key(sc, seed, reps)}:{target}:{chosen}:{values}"


def run_frontier(p: fr.Plan, key: str, on_step: Step | None = None) -> tuple[fr.FrontierResult, float, bool]:
    """The search laid out in `p`: from the cache, or run now on the shared pool."""
    store = shared_store()
    hit = store.get(key)
    if hit is not None:
        return hit, 0.0, True
    ref = reference_for(p.target)
    res = _with_pool(lambda pool: fr.run_plan(p, reference=ref, executor=pool, on_step=on_step))
    store.put(key, res)
    contacts = runs.workload(p.scenario) * p.reps * (len(res.grid) + (ref is not None))
    runs.shared_timing().record(res.seconds, contacts, max(1, min(runs.WORKERS, p.reps)))
    return res, res.seconds, False


def lever_label(key: str) -> str:
    return "month the other levers start (a dated start)" if key == fr.START else LEVERS[key].label


def start_text(months: list[str], latest: str | None) -> str:
    return (f"The other levers start from the first of a month, tried from {latest or months[-1]} back to"
            f" {months[0]}, the run's first month, when they act over the whole run and its warm-up, as"
            " without a start. The target is measured over the whole run, so the months before the start"
            " count without the change. Co-triage levers cannot start on a date.")


def page_words(exc: Exception) -> str:
    """A refusal without the command line's flag and advice (the page has neither)."""
    return str(exc).split(": ", 1)[-1].split("; give")[0].replace(f"--lever {fr.START}", "a dated start")


def frontier_section(sc: Scenario, tkey: str, reps: int) -> None:
    """Up to three levers, a cost for one step of each, and the cheapest combinations that meet the
    question above with 95% confidence."""
    ss = st.session_state
    st.markdown("#### Several levers at once: the cheapest combinations")
    st.markdown("Tries every combination of a few values of each lever (whole posts for posts), on the"
                " same random numbers, for the question above and its replications. A combination meets"
                " the target when its 95% interval's near end is past the goal. The table shows every"
                " combination that meets it and that no other combination tried beats in every lever:"
                " the cheapest ways to meet it by the costs you give.")
    keys = st.multiselect("Levers (up to three)", list(fr.LEVER_NAMES), max_selections=fr.MAX_LEVERS,
                          format_func=lambda k: cap(lever_label(k)), key="frontier_levers")
    if not keys:
        st.info("Choose at least one lever.")
        return
    months = run_months(sc)
    latest = None
    if fr.START in keys:
        if ss.get("frontier_latest_start") not in months:  # a scenario with another run
            ss.frontier_latest_start = months[-1]
        latest = st.selectbox("Latest month the other levers may start", months, key="frontier_latest_start",
                              help="The search tries starts from this month back to the run's first.")
    cols = st.columns(len(keys))
    levers = []
    for col, k in zip(cols, keys, strict=True):
        wkey = WEIGHT_KEY + k
        ss.setdefault(wkey, 1.0)
        step = fr.START_STEP[1] if k == fr.START else fr.STEPS[k][1]
        with col:
            w = float(st.number_input(f"Cost of one step of {lever_label(k)}", min_value=0.01,
                                      step=0.5, key=wkey, help=f"One step is {step}."
                                      " Give the cost in any unit you like (money, effort, or 1 to count"
                                      " steps): the same unit for every lever."))
            text = start_text(months, latest) if k == fr.START else lever_text(LEVERS[k], sc)
            st.caption(f"One step: {step}. {text}")
        levers.append((k, w))
    values = int(st.slider("Values tried per lever", min_value=2, max_value=11, key="frontier_values",
                           help="From the scenario's value to the end of the lever's range, in whole"
                                " steps."))
    seed = int(ss.seed)
    try:
        p = fr.plan(sc, levers, tkey, reps=reps, seed=seed, values=values, latest_start=latest)
    except fr.StartError as exc:
        st.error(f"This search cannot run: {page_words(exc)}.")
        return
    except fr.SearchError as exc:
        st.error(f"This search cannot run: {page_words(exc)}. Fewer values per lever, levers or replications"
                 " will fit.")
        return
    key = frontier_key(sc, seed, reps, tkey, levers, values) + (f":from-{latest}" if latest else "")
    ok = True
    if shared_store().get(key) is not None:
        st.caption("This search has been run with these settings: its answer will show at once.")
    else:
        secs = p.runs * runs.estimate_seconds(sc, reps, runs.shared_timing())
        st.caption(f"This will take {runs.say_seconds(secs)} at most: {p.describe()}. It skips any"
                   " combination that costs more in every lever than one that already meets the target.")
        ok = runs.long_run_confirmed(secs, "Fewer values or replications give a quicker look; or"
                                     " confirm below.", "frontier")
    if st.button("Find the cheapest combinations", type="primary", key="run_frontier", disabled=not ok):
        bar, step = progress_bar("Trying combinations")
        try:
            res, seconds, hit = run_frontier(p, key, step)
        except Exception as exc:  # noqa: BLE001 - said on the page, which goes on
            bar.empty()
            st.error(f"The search stopped: {exc}")
            return
        bar.empty()
        ss.frontier = FrontierRun(key, res, seconds, hit, sc.name)
    run: FrontierRun | None = ss.get("frontier")
    if run is not None:
        if run.key != key:
            st.info("The answer below is for earlier settings; find the cheapest combinations again to"
                    " update it.")
        show_frontier(run)


def show_frontier(run: FrontierRun) -> None:
    res = run.result
    keys = [c.lever.key for c in res.plan.choices]
    f = res.frontier
    (st.success if not f.empty else st.warning)(res.message())
    if not f.empty:
        cols = [f"{fr.START}_from" if k == fr.START else k for k in keys]
        shown = f[[*cols, "cost", "mean", "ci_low", "ci_high", "bound"]].rename(columns={
            **{k: cap(LEVERS[k].label) for k in keys if k != fr.START},
            f"{fr.START}_from": "The other levers start from", "cost": "Cost (your units)", "mean": "Mean",
            "ci_low": "95% interval, low", "ci_high": "95% interval, high", "bound": "Bound tested"})
        st.dataframe(shown.round(3), hide_index=True, width="stretch")
    st.markdown("**Each lever alone** (the others at the scenario's values):\n\n"
                + "\n".join(f"- {v.message()}" for v in res.verdicts))
    when = "from the cache, at once" if run.from_cache else f"in {run.seconds:.0f} seconds"
    skipped = (f"; {res.skipped} not run, each costing more in every lever than one already meeting the"
               " target" if res.skipped else "")
    st.caption(f"Scenario '{run.scenario}', {res.plan.reps} replications at each of {len(res.grid)}"
               f" combinations run{skipped}, seed {res.plan.seed}; answered {when}. Between the values"
               " tried the answer is uncertain.")
    st.download_button("Download every combination tried (target.csv)", excel.csv_bytes(fr.table(res)),
                       file_name="target.csv", mime="text/csv", key="dl:frontier", on_click="ignore")


# ---------------------------------------------------------------------------------------------
# sensitivity


@dataclass
class SensitivityRun:
    """A finished sensitivity analysis as the session shows it."""

    key: str
    table: pd.DataFrame
    seconds: float
    ran: int  # assumptions run now (the rest came from the cache)
    scenario: str
    reps: int
    seed: int
    skipped: list[tuple[str, str, str]] = field(default_factory=list)


def setting_label(j: Judged) -> str:
    """An assumption's plain-English name (its path's name on the Assumptions page)."""
    return params.label((*j.path, j.share) if j.share else j.path)


def setting_units(sc: Scenario) -> dict[str, str]:
    """Each judged assumption's unit, as the scenario file states it."""
    doc = sc.model_dump(mode="json")
    out = {}
    for j in judged_parameters(sc):
        node = get(doc, j.path)
        out[j.name] = str(node.get("unit", "")) if isinstance(node, dict) else ""
    return out


def assumptions_to_vary(sc: Scenario) -> dict[str, str]:
    """Every judged assumption with a range: its name in the scenario -> its plain name, by group."""
    js = sorted(judged_parameters(sc), key=lambda j: list(params.GROUPS).index(j.path[0])
                if j.path[0] in params.GROUPS else len(params.GROUPS))
    out: dict[str, str] = {}
    for j in js:
        lab = setting_label(j)
        while lab in out.values():  # two settings with one name would share a bar
            lab += " (another)"
        out[j.name] = lab
    return out


def _sens_prefix(sc: Scenario, seed: int, reps: int) -> str:
    return f"sensitivity:{runs.run_key(sc, seed, reps)}"


def sensitivity_todo(sc: Scenario, seed: int, reps: int, names: list[str]) -> list[str]:
    prefix, store = _sens_prefix(sc, seed, reps), shared_store()
    return [n for n in names if store.get(f"{prefix}:{n}") is None]


def sensitivity_seconds(sc: Scenario, reps: int, n: int) -> float:
    """Each assumption at both ends of its range, plus the scenario itself, `reps` times each."""
    return runs.estimate_seconds(sc, (2 * n + 1) * reps, runs.shared_timing()) if n else 0.0


def run_sensitivity(sc: Scenario, seed: int, reps: int, names: list[str],
                    on_step: Step | None = None) -> tuple[pd.DataFrame, float, int, list]:
    """Tornado rows for the named assumptions; those asked before (same scenario, seed and
    replications) come from the cache, the rest are run now. Returns the rows (every measure in
    SENS_MEASURES), the seconds taken, how many assumptions were run and any range ends skipped."""
    prefix, store = _sens_prefix(sc, seed, reps), shared_store()
    todo = sensitivity_todo(sc, seed, reps, names)
    got: dict[str, tuple[pd.DataFrame, list]] = {}
    seconds = 0.0
    if todo:
        t0 = time.perf_counter()
        out = _with_pool(lambda pool: one_at_a_time(sc, reps=reps, seed=seed, measures=SENS_MEASURES,
                                                    only=todo, executor=pool, progress=_finished(on_step)))
        seconds = time.perf_counter() - t0
        skipped = out.attrs.get("skipped", [])
        for n in todo:
            got[n] = (out[out["parameter"] == n].copy(), [s for s in skipped if s[0] == n])
            store.put(f"{prefix}:{n}", got[n])
        jobs = (2 * len(todo) + 1) * reps
        runs.shared_timing().record(seconds, runs.workload(sc) * jobs, max(1, min(runs.WORKERS, jobs)))
    parts, skipped = [], []
    for n in names:
        rows, skip = got.get(n) or store.get(f"{prefix}:{n}") or (pd.DataFrame(), [])
        parts.append(rows)
        skipped += skip
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=["parameter", "measure", "swing"])
    if not table.empty:
        table["rank"] = table.groupby("measure")["swing"].rank(ascending=False, method="first")
        table = table.sort_values(["measure", "rank"]).reset_index(drop=True)
    return table, seconds, len(todo), skipped


@st.fragment  # its choices and its run redraw this section alone, not the assumptions table above
def sensitivity_section(sc: Scenario | None) -> None:
    """Choose measures and assumptions, see the time it will take, run, and draw a tornado per measure."""
    ss = st.session_state
    st.subheader("Which assumptions matter most (sensitivity)")
    st.markdown("Each judged assumption is moved to the low and then the high end of its plausible range,"
                " one at a time, all else as the scenario stands, on the same random numbers. The change in"
                " a measure is drawn as a bar: the longest bars are the assumptions worth pinning down"
                " first, and the ones whose uncertainty matters most for an answer.")
    if sc is None:
        st.info("The changed scenario cannot be run (see Change the scenario), so there is nothing to vary.")
        return
    names = assumptions_to_vary(sc)
    ss.sens_pick = [n for n in ss.sens_pick if n in names]  # a scenario without some of them
    measures = st.multiselect("Measures to draw (one chart each)", list(SENS_MEASURES),
                              format_func=lambda m: MEASURES[m][0], key="sens_measures")
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        scope = st.radio("Assumptions to vary", [CHOSEN, ALL], key="sens_scope", horizontal=True)
    with c2:
        reps = int(st.number_input("Replications at each end of each range", min_value=1, max_value=50,
                                   step=1, key="sens_reps",
                                   help="Each end runs on the same random numbers as the scenario itself, so"
                                        " a few replications show the main effects."))
    with c3:
        top = int(st.slider("Bars to show in each chart", min_value=5, max_value=60, key="sens_top"))
    if scope == CHOSEN:
        picked = st.multiselect("Assumptions", list(names), format_func=names.get, key="sens_pick",
                                placeholder="Choose one or more assumptions")
    else:
        picked = list(names)
        st.caption(f"All {len(names)} judged assumptions with a range.")
    seed = int(ss.seed)
    todo = sensitivity_todo(sc, seed, reps, picked)
    secs = sensitivity_seconds(sc, reps, len(todo))
    ready = len(picked) - len(todo)
    ok = bool(picked and measures)
    if picked:
        words = (f"{len(picked)} assumption{'s' if len(picked) != 1 else ''}, each at both ends of its range,"
                 f" {reps} replication{'s' if reps != 1 else ''} each, seed {seed}: ")
        if todo:
            words += (f"{(2 * len(todo) + 1) * reps} replications to run, which will take"
                      f" {runs.say_seconds(secs)}")
            words += f" ({ready} ready from earlier)." if ready else "."
        else:
            words += "all ready from earlier."
        st.caption(words)
        ok = ok and runs.long_run_confirmed(secs, "Choose fewer assumptions or replications for a"
                                            " quicker look, or confirm below.", "sensitivity")
    if st.button("Run the sensitivity analysis", type="primary", key="run_sensitivity", disabled=not ok):
        bar, step = progress_bar("Sensitivity runs")
        try:
            table, seconds, n_ran, skipped = run_sensitivity(sc, seed, reps, picked, step)
        except Exception as exc:  # noqa: BLE001 - said on the page, which goes on
            bar.empty()
            st.error(f"The sensitivity analysis stopped: {exc}")
            return
        bar.empty()
        table["setting"] = table["parameter"].map(names)
        table["unit of the setting"] = table["parameter"].map(setting_units(sc))
        ss.sensitivity = SensitivityRun(_sens_key(sc, seed, reps, picked), table, seconds, n_ran, sc.name,
                                        reps, seed, skipped)
    run: SensitivityRun | None = ss.get("sensitivity")
    if run is not None:
        if run.key != _sens_key(sc, seed, reps, picked):
            st.info("The charts below are for earlier choices (a different scenario, seed, replications or"
                    " set of assumptions); run the sensitivity analysis again to update them.")
        show_sensitivity(run, measures, top)


def _sens_key(sc: Scenario, seed: int, reps: int, names: list[str]) -> str:
    return f"{_sens_prefix(sc, seed, reps)}:{','.join(sorted(names))}"


def show_sensitivity(run: SensitivityRun, measures: list[str], top: int) -> None:
    n = run.table["parameter"].nunique() if not run.table.empty else 0
    when = (f"{run.ran} run in {run.seconds:.0f} seconds" + (f", {n - run.ran} from the cache" if n > run.ran
                                                              else "")
            if run.ran else "all from the cache, at once")
    plural = "s" if run.reps != 1 else ""
    st.caption(f"Scenario '{run.scenario}', {n} assumptions, {run.reps} replication{plural} at each end, seed"
               f" {run.seed}; {when}.")
    if run.skipped:
        with st.expander(f"Range ends that could not be run ({len(run.skipped)})"):
            for name, end, msg in run.skipped:
                st.caption(f"{run.table.loc[run.table['parameter'] == name, 'setting'].iloc[0]}"
                           f" at its {end} end: {msg}")
    for m in measures:
        rows = run.table[run.table["measure"] == m]
        if rows.empty:
            continue
        label, unit = MEASURES[m]
        chart, table, text = charts.tornado_chart(rows, label, unit, run.reps, top)
        st.altair_chart(chart, width="stretch", alt=text)
        st.caption(text)
        st.download_button(f"Download the data: {label} (CSV)", excel.csv_bytes(table),
                           file_name=f"tornado_{m}.csv", mime="text/csv", key=f"dl:tornado_{m}",
                           on_click="ignore")
    whole = run.table.assign(measure=run.table["measure"].map(lambda m: MEASURES[m][0]))[
        ["setting", "unit of the setting", "value", "low", "high", "measure", "base", "at_low", "at_high",
         "swing", "rank"]].rename(
        columns={"value": "setting's value", "low": "low end of its range", "high": "high end of its range",
                 "base": "result as it is", "at_low": "result at the low end",
                 "at_high": "result at the high end", "swing": "swing (absolute)"})
    with st.expander("Every assumption and measure (table)"):
        st.dataframe(whole, hide_index=True, width="stretch")
    st.download_button("Download every assumption and measure (tornado.csv)", excel.csv_bytes(whole),
                       file_name="tornado.csv", mime="text/csv", key="dl:tornado", on_click="ignore")
