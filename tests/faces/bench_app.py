"""How fast the app answers, measured as a user waits: `python -m tests.faces.bench_app`.

In one process, with the app's own pool (forkserver workers, FRONT_DOOR_WORKERS of them, 2 by
default) and its own running layer (ui/runs.py, ui/progress.py), it measures:

- the time from pressing Run to the first figures with their intervals (FIRST_FIGURES_AFTER
  replications finished and gathered) and to the full results;
- the estimate shown before the run against the time taken (the first question on the first
  guess, the second on the pace this process has measured);
- a repeat question, answered from the cache: the lookup itself, and the whole Results page
  redrawn for it under AppTest (the script's time; a browser adds its own drawing).

It prints the figures; nothing here is a test (timings on a shared machine are not assertions).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sim.scenario.loading import load
from sim.scenario.schema import Scenario
from ui import progress, runs

ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.02


def one_question(sc: Scenario, seed: int, reps: int) -> dict[str, float]:
    """Start a run as the Run button does and time its first figures and its end."""
    timing = runs.shared_timing()
    estimate = runs.estimate_seconds(sc, reps, timing)
    measured = timing.measured
    t0 = time.perf_counter()
    job = runs.start(sc, seed, reps)
    first = None
    while not job.done:
        if first is None and job.partial() is not None:
            first = time.perf_counter() - t0
        time.sleep(POLL_SECONDS)
    res = runs.outcome(job)
    full = time.perf_counter() - t0
    if first is None:
        first = full
    assert res.reps == reps and not res.failures, res.failures
    return {"estimate": estimate, "first": first, "full": full, "ratio": estimate / full,
            "learnt_from": measured}


def repeat(sc: Scenario, seed: int, reps: int) -> float:
    t0 = time.perf_counter()
    _, _, hit = runs.run(sc, seed, reps)
    took = time.perf_counter() - t0
    assert hit, "the repeat question was not answered from the cache"
    return took


def page_repeat(times: int = 3) -> list[float]:
    """The Results page opened on the baseline (its answer already in the cache), then redrawn."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t0)
    assert not at.exception, [e.value for e in at.exception]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=None, help="replications (default: each file's run.reps)")
    p.add_argument("first", nargs="?", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    p.add_argument("second", nargs="?", type=Path, default=ROOT / "scenarios" / "staffing_plus2.yaml")
    args = p.parse_args(argv)
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    runs.shared_pool()
    pool = time.perf_counter() - t0
    t0 = time.perf_counter()
    slowdown = runs.shared_timing().slowdown
    calibrated = time.perf_counter() - t0
    print(f"app running layer: {runs.WORKERS} worker processes on {os.cpu_count()} cores; load average"
          f" {load_avg:.2f} at the start; the pool started in {pool:.1f} s; calibrating took"
          f" {calibrated:.2f} s and found the workers running {slowdown:.2f} times slower than quiet")
    for label, path in (("first question (estimate from the first guess)", args.first),
                        ("second question (estimate from the pace measured)", args.second)):
        sc = load(path)
        reps = args.reps or sc.run.reps
        r = one_question(sc, sc.run.seed, reps)
        print(f"{label}: {sc.name}, {reps} replications, seed {sc.run.seed}")
        print(f"  first figures ({progress.FIRST_FIGURES_AFTER} replications) {r['first']:6.2f} s")
        print(f"  full results                       {r['full']:6.2f} s")
        print(f"  estimate shown before the run      {r['estimate']:6.2f} s"
              f"  (estimate / taken {r['ratio']:.2f})")
        print(f"  repeat answer from the cache       {repeat(sc, sc.run.seed, reps) * 1000:6.2f} ms")
    redraws = page_repeat()
    print("Results page redrawn for a cached answer (AppTest, script time): "
          + ", ".join(f"{t:.2f} s" for t in redraws))
    runs.shared_pool().shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
