"""Speed check: one 12-month replication beside a bare-SimPy M/M/c with as many arrivals.

Both are timed in the same process, interleaved, on the process's own CPU time (so other
work on a shared machine counts for neither), and the best of several repeats is kept, so the
printed ratio is stable on a shared, noisy machine even when the seconds are not. The paired
comparison runs in a process pool, so it is timed on the wall clock, as a user waits for it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import simpy

from sim.experiments.compare import compare
from sim.model.frontdoor import FrontDoorModel
from sim.scenario.schema import Scenario


def mmc_reference(n_arrivals: int, servers: int = 5, rho: float = 0.8, seed: int = 1,
                  clock: Callable[[], float] = time.process_time) -> float:
    """The textbook SimPy M/M/c: a process per customer requesting a Resource. Returns seconds."""
    rng = np.random.default_rng(seed)
    service = 20.0
    gaps = rng.exponential(service / (servers * rho), n_arrivals).tolist()
    durations = rng.exponential(service, n_arrivals).tolist()
    env = simpy.Environment()
    staff = simpy.Resource(env, capacity=servers)

    def customer(d):
        with staff.request() as req:
            yield req
            yield env.timeout(d)

    def source():
        for gap, d in zip(gaps, durations, strict=True):
            yield env.timeout(gap)
            env.process(customer(d))

    t0 = clock()
    env.process(source())
    env.run()
    return clock() - t0


def model_once(scenario: Scenario, rep: int) -> tuple[float, int]:
    t0 = time.process_time()
    model = FrontDoorModel(scenario, scenario.run.seed, rep)
    model.run()
    return time.process_time() - t0, len(model.arr)


def bench(scenario: Scenario, repeats: int = 5, months: int = 12) -> dict[str, float]:
    start = pd.Timestamp(scenario.run.start)
    end = (start + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()
    sc = scenario.with_run(end=end)
    model_t, ref_t, n = [], [], 0
    for r in range(repeats):
        t, n = model_once(sc, r)
        model_t.append(t)
        ref_t.append(mmc_reference(n, seed=r))
    best_m, best_r = min(model_t), min(ref_t)
    return {"months": months, "arrivals": n, "model_seconds": best_m,
            "reference_seconds": best_r, "ratio": best_m / best_r}


def report(result: dict[str, float]) -> str:
    return (
        f"one replication of {result['months']} months (plus warm-up and cool-down),"
        f" {result['arrivals']} contacts simulated\n"
        f"  front-door model        {result['model_seconds']:.3f} s\n"
        f"  bare SimPy M/M/c, same arrivals {result['reference_seconds']:.3f} s\n"
        f"  ratio model / reference {result['ratio']:.2f}"
    )


def bench_compare(first: Scenario, second: Scenario, reps: int = 20, months: int = 6,
                  workers: int | None = None) -> dict[str, float]:
    """Time a paired comparison (the users' commonest question) beside the bare M/M/c.

    Both scenarios run `months` months from the first one's start on `reps` common seeds in a
    process pool; the reference is the M/M/c on as many arrivals as one worker simulates,
    timed in this process just before, so the ratio says how far the comparison is from the
    cost of bare SimPy on this machine now.
    """
    workers = workers or os.cpu_count() or 1
    start = pd.Timestamp(first.run.start)
    end = (start + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()
    a = first.with_run(end=end)
    b = second.with_run(start=first.run.start, end=end)
    if b.name == a.name:  # the same file twice: still a fair timing
        b = b.model_copy(update={"name": f"{b.name} (second)"})
    arrivals = len(FrontDoorModel(a, a.run.seed, 0).arr)
    per_worker = int(np.ceil(2 * reps / workers)) * arrivals
    ref = min(mmc_reference(per_worker, seed=r, clock=time.perf_counter) for r in range(2))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        compare([a, b], reps=reps, seed=a.run.seed, executor=pool)
    took = time.perf_counter() - t0
    return {"reps": reps, "months": months, "workers": workers, "seconds": took,
            "reference_seconds": ref, "ratio": took / ref}


def report_compare(result: dict[str, float], names: tuple[str, str]) -> str:
    months = f"{result['months']} month" + ("s" if result["months"] != 1 else "")
    return (
        f"paired comparison of {names[0]} and {names[1]}: {result['reps']} replications each,"
        f" {months}, {result['workers']} worker processes\n"
        f"  comparison              {result['seconds']:.1f} s\n"
        f"  bare SimPy M/M/c, one worker's arrivals {result['reference_seconds']:.1f} s\n"
        f"  ratio comparison / reference {result['ratio']:.2f}"
    )
