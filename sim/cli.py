"""Command line: `python -m sim COMMAND ...` (see --help for the exit codes).

Every error is one line on stderr and the exit code says what kind it was; --verbose adds
the detail (every problem in a scenario file, the traceback of an internal error).

Each command imports what it needs inside its own function: `check` and `--help` then start
without loading the model, pandas' measures or Dask (about a second saved), and Ctrl-C during
those imports is answered in one line. That is the only reason for the imports inside functions
in this module.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sim.experiments.executors import (
    CONNECT_SECONDS,
    NO_WORKER_SECONDS,
    ClusterLost,
    SchedulerUnreachable,
    ignore_sigint,
    open_executor,
    silence_dask_logs,
)
from sim.scenario.loading import load
from sim.scenario.schema import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario.schema import Scenario

EXIT_OK, EXIT_INPUT, EXIT_SATURATED, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 2, 3, 4, 130

EPILOG = f"""exit codes:
  0   success
  2   invalid input (scenario file, arguments, an output folder that cannot be written or
      a disk that fills while writing, a --scheduler that is not an address or does not
      answer within {CONNECT_SECONDS:g} s): one line on stderr per problem, naming the file or the
      flag; checked before any replication runs wherever it can be
  3   the run finished but a queue saturated: results are written; each warning on stderr
      names the queue, how many items were waiting and since when
  4   internal error (a bug, or a replication that failed): one line on stderr per failure,
      with the replication's seed; the other replications' results are written;
      --verbose for the traceback. Also a Dask cluster lost during the run (its scheduler
      stopped, or no worker connected for {NO_WORKER_SECONDS:g} s): one line, nothing written
  130 interrupted (Ctrl-C or SIGTERM): the output folder holds the previous results or the
      complete new ones, never a mix or a half-written file; stderr says which
"""
RUN_FILES = ("events.csv", "monthly.csv", "summary.csv", "rota.csv", "run.json", "vidigi_log.csv",
             "process_map.csv")


class InputError(Exception):
    """A problem with the command's arguments or surroundings (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (usage is in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"error: {self.prog}: {_one_line(message)} (see {self.prog} --help)\n")


def _one_line(text: object) -> str:
    """One line of printable text: whitespace runs become one space, and any other control
    or format character (an ANSI escape from a file, a NUL, a bidi override) is shown escaped,
    so that nothing read from a file can move the cursor or recolour the terminal."""
    return " ".join(_printable(str(text)).split())


def _printable(text: str) -> str:
    """`text` with control and format characters (except whitespace) written as escapes."""
    return "".join(ch if ch.isspace() or unicodedata.category(ch)[0] != "C"
                   else ascii(ch)[1:-1] for ch in text)


def _out_dir(text: str) -> Path:
    """An output folder: not empty (which would mean the current folder), no NUL."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty or blank name is not a folder; give a folder for the"
                                         " results (e.g. out)")
    if "\x00" in text:
        raise argparse.ArgumentTypeError(f"{_printable(text)!r} holds a NUL character; give a folder name")
    return Path(text)

KEY_MEASURES = (
    "contacts", "police_contacts", "police_info_advice", "pct_police_info_advice",
    "pct_contacts_to_referral", "pct_completed_within_1wd", "strategy_meetings",
    "pct_strategy_to_s47", "abandoned_calls", "util_csw", "util_ps", "wait_hours_ps",
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _lever_spec(text: str) -> tuple[str, float]:
    """NAME[:WEIGHT]: a lever of sim.experiments.levers and the cost of one step of it."""
    from sim.experiments.frontier import LEVER_NAMES

    name, _, weight = text.partition(":")
    name = name.strip()
    if name not in LEVER_NAMES:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: unknown lever {name[:40]!r}; choose from"
                                         f" {', '.join(LEVER_NAMES)}")
    if not weight.strip():
        return name, 1.0
    try:
        w = float(weight) if len(weight) <= 20 else float("nan")
    except ValueError:
        w = float("nan")
    if not (math.isfinite(w) and w > 0):
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: the weight after ':' must be a positive number"
                                         " (the cost of one step of the lever)")
    return name, w


def _target_epilog() -> str:
    from sim.experiments.frontier import MAX_LEVERS, MAX_POINT_REPS, START, START_STEP, STEPS
    from sim.experiments.levers import LEVERS

    lines = ["levers (NAME: one step, the unit its WEIGHT is per; the plausible range searched):"]
    lines += [f"  {k}: {words}; {LEVERS[k].low:g} to {LEVERS[k].high:g} {LEVERS[k].unit}"
              for k, (_, words) in STEPS.items()]
    lines += [f"  {START}: {START_STEP[1]} (a dated start; WEIGHT is per month earlier);",
              "    from --latest-start (default the run's last month) back to the run's first month",
              "", f"With {START}, the other levers act from the first of the start's month (written as",
              "dated changes); from the run's first month they act over the whole run and its warm-up,",
              f"as without {START}. The target is measured over the whole run, so the months before the",
              "start count without the change. Co-triage levers cannot start on a date."]
    lines += ["", f"At most {MAX_LEVERS} levers and {MAX_POINT_REPS} point-replications (points x --reps, the"
              " reference scenario counted as one point) a search.", "", EPILOG]
    return "\n".join(lines)


def _positive(text: str) -> int:
    """A count from 1 to MAX_REPS (the schema's limit on run.reps), refused before anything is
    built from it (a 23-digit --reps once grew a set to 22 GB)."""
    from sim.scenario.schema import MAX_REPS

    try:
        v = int(text) if len(text.strip()) <= 12 else MAX_REPS + 1
    except ValueError:
        v = 0
    if not 1 <= v <= MAX_REPS:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} must be a whole number from 1 to {MAX_REPS:,}")
    return v


def _reps(text: str) -> int | str:
    if text == "auto":
        return "auto"
    try:
        return _positive(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (the most replications a scenario may ask for, as"
                                         " run.reps), or auto") from None


def _precision(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a relative precision between 0 and 1,"
                                         " e.g. 0.05 for 5%")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number from 0 to 2**63-1")
    return v


def _executor_args(p: argparse.ArgumentParser, default_workers: int | None = None) -> None:
    p.add_argument("--executor", choices=("serial", "process", "dask"), default="process",
                   help="where replications run (default: a process pool); results are identical")
    p.add_argument("--workers", type=_positive, default=default_workers,
                   help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler address host:port (with --executor dask);"
                   f" none starts a local cluster (Ctrl-C is ignored while it starts). It must answer"
                   f" within {CONNECT_SECONDS:g} s; a"
                   f" run with no worker connected for {NO_WORKER_SECONDS:g} s is stopped")


def _check_executor_args(args: argparse.Namespace) -> None:
    """--scheduler is checked before any file is read or replication run."""
    from sim.experiments.executors import check_scheduler_address

    address = getattr(args, "scheduler", None)
    if address is None:
        return
    if args.executor != "dask":
        raise InputError(f"--scheduler {_printable(address)}: is used only with --executor dask"
                         f" (got --executor {args.executor})")
    try:
        check_scheduler_address(address)
    except SchedulerUnreachable as exc:
        raise InputError(f"--scheduler: {exc}") from None


@contextmanager
def _executor(args) -> Iterator:
    """The executor asked for (sim.experiments.executors.open_executor): a process pool's workers
    leave Ctrl-C to this process, and the pool is ended at once on Ctrl-C, an error or a dead
    worker; Dask's logs stay silenced for the rest of the process unless --verbose."""
    verbose = getattr(args, "verbose", False)
    if args.executor == "dask" and not verbose:
        silence_dask_logs()  # for the rest of the process: Dask logs on for a moment after closing
    with open_executor(args.executor, args.workers, args.scheduler, quiet_logs=not verbose,
                       on_interrupt_terminate=True, initializer=ignore_sigint) as ex:
        yield ex


def _replication_args(p: argparse.ArgumentParser, default: str, auto: str, every: str = "") -> None:
    """--reps, --precision, --seed, --start, --end and the executor options of run and compare."""
    p.add_argument("--reps", type=_reps, help=f"replications, or 'auto' to add them until the 95%%"
                   f" half-width is within --precision of the mean{auto} (default: {default})")
    p.add_argument("--precision", type=_precision, default=0.05,
                   help="relative precision for --reps auto (default 0.05)")
    p.add_argument("--seed", type=_seed, help=f"run seed (default: {default})")
    p.add_argument("--start", type=_date, help=f"first reported day{every}, YYYY-MM-DD")
    p.add_argument("--end", type=_date, help=f"last reported day{every}, YYYY-MM-DD")
    _executor_args(p)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m sim", description="Simulate a children's social care front door.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--verbose", action="store_true", help="show tracebacks and detail")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run replications of a scenario and write the measures",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("scenario", type=Path, help="scenario YAML file")
    _replication_args(r, "the scenario's", "")
    r.add_argument("--out", type=_out_dir, default=Path("out"), help="output folder (default out/)")
    r.add_argument("--events", choices=("all", "first", "none"), default="all",
                   help="which replications' event logs to write to events.csv (with all or first,"
                   " replication 0 is also written as vidigi_log.csv and process_map.csv)")
    r.add_argument("--quiet", action="store_true", help="no progress bar or summary table")

    k = sub.add_parser("compare", help="run scenarios on the same seeds; paired differences",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    k.add_argument("scenarios", type=Path, nargs="+", help="two or more scenario files; the"
                   " first is the reference")
    _replication_args(k, "the first scenario's", " (chosen on the first scenario)", " for every scenario")
    k.add_argument("--out", type=_out_dir, default=Path("out"), help="output folder")
    k.add_argument("--quiet", action="store_true", help="no progress bar or table")
    k.add_argument("--align", action="store_true", help="run every scenario on the first one's"
                   " period (without it, scenarios whose periods differ are refused); says what it moved")

    cal = sub.add_parser("calibrate", help="fit the free parameters to July-September 2023 and"
                         " write them into the scenario's calibration overlay"
                         " (scenarios/calibrated/baseline.calibrated.yaml; the scenario file is not"
                         " rewritten)")
    cal.add_argument("--config", type=Path, default=None, help="calibration settings (default"
                     " calibration/calibration.yaml)")
    cal.add_argument("--max-evaluations", type=_positive, help="optimiser budget")
    _executor_args(cal)
    cal.add_argument("--dry-run", action="store_true", help="fit and print; write nothing")

    val = sub.add_parser("validate", help="run the scenario against every reported month and"
                         " regenerate calibration/report.md")
    val.add_argument("--config", type=Path, default=None)
    val.add_argument("--reps", type=_positive, help="replications (default from the config)")
    _executor_args(val)

    tg = sub.add_parser("target", help="find the cheapest changes to one to three levers that meet a"
                        " target with 95%% confidence (the frontier)",
                        epilog=_target_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    tg.add_argument("scenario", type=Path, nargs="?", default=None,
                    help="scenario file (default scenarios/baseline.yaml; or --scenario)")
    tg.add_argument("--target", required=True, choices=("within_1wd_95", "referrals_30pct"),
                    help="within_1wd_95: 95%% of contacts completed within 1 working day;"
                    " referrals_30pct: 30%% fewer referrals than before the conversations approach")
    tg.add_argument("--lever", required=True, action="append", type=_lever_spec, metavar="NAME[:WEIGHT]",
                    help="a lever to move, with the cost of one step of it (default 1); give --lever up"
                    " to 3 times. The steps are listed below")
    tg.add_argument("--values", type=_positive, help="values tried per lever, from the scenario's to"
                    " the range end in whole steps (default 11 for one lever, 5 for two, 3 for three)")
    tg.add_argument("--latest-start", metavar="YYYY-MM", default=None,
                    help="with --lever start_month: the latest month of the run the other levers may"
                    " start (default the run's last month); the search tries starts from it back to the"
                    " run's first month, each month earlier costing the start's WEIGHT")
    tg.add_argument("--scenario", dest="scenario_opt", type=Path, default=None, help=argparse.SUPPRESS)
    tg.add_argument("--reference", type=Path, default=Path("scenarios/pre_conversations.yaml"),
                    help="the 'before' scenario for referrals_30pct")
    tg.add_argument("--reps", type=_positive, default=10, help="replications per point (default 10)")
    tg.add_argument("--seed", type=_seed)
    tg.add_argument("--out", type=_out_dir, default=Path("out"))
    tg.add_argument("--quiet", action="store_true", help="no progress bar")
    _executor_args(tg)

    se = sub.add_parser("sensitivity", help="one-at-a-time swings over every judged parameter's"
                        " range (tornado data), and Sobol indices on the largest")
    se.add_argument("scenario", type=Path, nargs="?", default=Path("scenarios/baseline.yaml"))
    se.add_argument("--reps", type=_positive, default=3, help="replications per point (default 3)")
    se.add_argument("--seed", type=_seed)
    se.add_argument("--only", nargs="+", help="parameter paths to vary (default: every judged one;"
                    " --list shows them)")
    se.add_argument("--list", action="store_true", help="print the judged parameter paths that"
                    " --only accepts, with their ranges, and exit")
    se.add_argument("--sobol", type=_positive, metavar="N", help="also Sobol indices with N base"
                    " samples (N x (K+2) runs) over the K parameters with the largest swings")
    se.add_argument("--sobol-top", type=_positive, default=5, metavar="K")
    se.add_argument("--out", type=_out_dir, default=Path("out"))
    _executor_args(se)

    rp = sub.add_parser("report", help="a board report: one self-contained HTML file (answers with"
                        " intervals, monthly charts, assumptions, fit, how to reproduce it)",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("scenarios", type=Path, nargs="+", help="one or more scenario files; the first is"
                    " the reference the others are compared with")
    rp.add_argument("--reps", type=_positive, help="replications (default: the first scenario's)")
    rp.add_argument("--seed", type=_seed, help="run seed (default: the first scenario's)")
    rp.add_argument("--start", type=_date, help="first reported day for every scenario, YYYY-MM-DD")
    rp.add_argument("--end", type=_date, help="last reported day for every scenario, YYYY-MM-DD")
    rp.add_argument("--question", type=_question, help="what the comparison asks, in the board's words"
                    " (default: written from the scenarios' names)")
    rp.add_argument("--sensitivity", metavar="TORNADO.csv|none", help="the tornado table of python -m sim"
                    " sensitivity to rank the assumptions by (default: OUT/tornado.csv if there, else a"
                    " quick one is run: one replication at each end of every judged range); none leaves"
                    " the ranking out")
    rp.add_argument("--out", type=_out_dir, default=Path("out"), help="output folder; the report is"
                    " OUT/board_report.html (default out/)")
    rp.add_argument("--pdf", action="store_true", help="also OUT/board_report.pdf (WeasyPrint; needs the"
                    " Pango library)")
    rp.add_argument("--align", action="store_true", help="run every scenario on the first one's period"
                    " when their periods differ (as compare --align; otherwise they are refused)")
    rp.add_argument("--quiet", action="store_true", help="no progress bar")
    _executor_args(rp)

    so = sub.add_parser("story", help="size the changes the reports date in October-December 2023"
                        " (fitted to those months, apart from the July-September calibration) and"
                        " write calibration/october_december.md")
    so.add_argument("--config", type=Path, default=None, help="default calibration/october_december.yaml")
    so.add_argument("--reps", type=_positive, default=None,
                    help="replications a grid point (default: the config's)")
    so.add_argument("--validation-reps", type=_positive, default=None,
                    help="replications of each reading's July-December run (default: the config's)")
    so.add_argument("--out", type=_out_dir, default=None, help="folder for the report and the grid"
                    " (default calibration/)")
    _executor_args(so)

    es = sub.add_parser("escalation", help="children escalating to statutory intervention (referrals,"
                        " and those reaching an S47 enquiry and a plan) against the front door"
                        " before the conversations approach, paired, with the reviews' figures",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    es.add_argument("scenario", type=Path, help="scenario YAML file")
    es.add_argument("--reference", type=Path, default=Path("scenarios/pre_conversations.yaml"),
                    help="the 'before' scenario (default scenarios/pre_conversations.yaml)")
    es.add_argument("--reps", type=_positive, help="replications (default: the scenario's)")
    es.add_argument("--seed", type=_seed, help="run seed (default: the scenario's)")
    es.add_argument("--out", type=_out_dir, default=Path("out"), help="output folder (default out/)")
    _executor_args(es)

    c = sub.add_parser("check", help="validate scenario files without running them",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("scenario", type=Path, nargs="+", help="one or more scenario files; each"
                   " invalid one gives one line on stderr")

    b = sub.add_parser("bench", help="time one 12-month replication against bare SimPy M/M/c")
    b.add_argument("scenario", type=Path, nargs="?", default=Path("scenarios/baseline.yaml"))
    b.add_argument("--repeats", type=_positive, default=5)
    b.add_argument("--months", type=_positive, default=12)
    b.add_argument("--compare", type=Path, metavar="OTHER.yaml",
                   help="also time a 20-replication paired comparison of 6 months against OTHER")
    d = sub.add_parser("docs", help="rewrite the generated sections of docs/model.md (parameter table,"
                       " measure definitions) from the code and the baseline scenario")
    d.add_argument("--check", action="store_true", help="write nothing; exit 1 with one line naming"
                   " each section that differs from what the code writes, 0 when it is current")
    d.add_argument("--file", type=Path, default=None, metavar="FILE.md",
                   help="the document (default docs/model.md of the project)")
    for command in sub.choices.values():  # --verbose after the command works too
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks and detail")
    return p


def _fmt(v: float) -> str:
    import pandas as pd

    if pd.isna(v):
        return "-"
    return f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"


def summary_table(summary: pd.DataFrame, measures=KEY_MEASURES) -> str:
    """Readable table: each measure's mean and 95% interval per month, with reported values."""
    import pandas as pd

    from sim.io.observed import observed_monthly

    obs = observed_monthly()
    rows = []
    for m in measures:
        s = summary[summary["measure"] == m]
        if s.empty:
            continue
        label = s["label"].iloc[0]
        cells = {}
        for _, row in s.iterrows():
            cell = f"{_fmt(row['mean'])} ({_fmt(row['ci_low'])}-{_fmt(row['ci_high'])})"
            if m in obs.columns and row["month"] in obs.index and pd.notna(obs.at[row["month"], m]):
                cell += f" [{_fmt(obs.at[row['month'], m])}]"
            cells[row["month"]] = cell
        rows.append({"measure": label, **cells})
    table = pd.DataFrame(rows).set_index("measure")
    with pd.option_context("display.max_colwidth", 40, "display.width", 250,
                           "display.max_columns", 30):
        return (table.to_string() + "\n\nmean (95% interval over replications) [reported]")


def _auto_reps(args, sc, keep_events: bool | str = False) -> tuple[int, list]:
    """Choose the replication count (Hoad, Robinson and Davies 2010) and say what was chosen.

    Returns the count and the replications run to choose it (with their event logs when the
    command writes them), which the run then reuses."""
    from sim.experiments.reps import choose_reps

    with _executor(args) as executor:
        choice = choose_reps(sc, seed=args.seed, precision=args.precision, executor=executor,
                             keep_events=keep_events)
    print(choice.message(), file=sys.stderr)
    return choice.ran, choice.outputs


def _load(args, path: Path):
    """Load and check one scenario file; with --verbose, list every problem it has first."""
    try:
        sc = load(path)
        # every command refuses, before it starts, a replication it cannot finish in bounded time
        # and memory (the count of replications is checked where it is known: run, compare)
        from sim.experiments.runner import check_workload

        check_workload(sc, str(path), reps=1)
        return sc
    except ScenarioError:
        if getattr(args, "verbose", False):
            for line in _every_problem(path):
                print(f"  detail: {line}", file=sys.stderr)
        raise
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: a file it extends is not a text file (it is not UTF-8)") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}:"
                            f" {exc.filename or path})") from None
    except (RuntimeError, ValueError) as exc:  # a symlink loop, a NUL in a path, nesting too deep
        raise ScenarioError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None


def _with_period(args: argparse.Namespace, sc: Scenario, origin: Path) -> Scenario:
    """The scenario on --start/--end, with any problem named by the flags, not the schema."""
    changes = {k: getattr(args, k) for k in ("start", "end") if getattr(args, k, None) is not None}
    if not changes:
        return sc
    start, end = changes.get("start", sc.run.start), changes.get("end", sc.run.end)
    flags = " ".join(f"--{k} {v}" for k, v in changes.items())
    if end < start:
        given = "" if len(changes) == 2 else (f" ({origin} runs {sc.run.start} to {sc.run.end};"
                                              " give both --start and --end)")
        raise InputError(f"{flags}: end {end} is before start {start}; the period must end on or"
                         f" after the day it starts{given}")
    try:
        return sc.with_run(**changes)
    except ScenarioError as exc:
        why = str(exc).split("; ", 1)[-1]  # the schema's own words, without its "scenario: run: got ..."
        raise InputError(f"{flags}: {why} (allowed: YYYY-MM-DD, end on or after start, at most"
                         " 3 years)") from None


def _every_problem(path: Path) -> list[str]:
    """Each problem pydantic finds in a scenario file, one line each (for --verbose)."""
    from pydantic import ValidationError

    from sim.scenario.loading import read_document
    from sim.scenario.schema import Scenario

    try:
        doc = read_document(Path(path).read_text(encoding="utf-8"), str(path), Path(path).parent)
        Scenario.model_validate(doc)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
            shown = repr(err.get("input"))
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            lines.append(_one_line(f"{loc}: {err['msg'].removeprefix('Value error, ')} (got {shown})"))
        return lines
    except Exception:  # noqa: BLE001 - detail is a courtesy; the one-line error still stands
        return []
    return []


def cmd_check(args) -> int:
    from sim.experiments.runner import check_workload

    bad = broken = 0
    for path in args.scenario:  # every file is checked, whatever went wrong with an earlier one
        try:
            sc = _load(args, path)
            check_workload(sc, str(path))
        except ScenarioError as exc:
            _error(exc)
            bad += 1
            continue
        except (OSError, RuntimeError, ValueError) as exc:
            _error(f"{path}: cannot be read ({type(exc).__name__}: {exc})")
            bad += 1
            continue
        except Exception as exc:  # noqa: BLE001 - a bug on one file must not hide the others' results
            if getattr(args, "verbose", False):
                traceback.print_exc()
            _error(f"{path}: {type(exc).__name__}: {exc} (run with --verbose for the traceback)",
                   "internal error")
            broken += 1
            continue
        n = sum(1 for _ in _walk_params(sc.model_dump()))
        print(_one_line(f"{path}: valid scenario {sc.name!r} with {n} sourced numbers;"
                        f" runs {sc.run.start} to {sc.run.end}, {sc.run.reps} replications"))
    return EXIT_INTERNAL if broken else EXIT_INPUT if bad else EXIT_OK


def _walk_params(node, path=""):
    if isinstance(node, dict):
        if "provenance" in node:
            yield path, node
            return
        for k, v in node.items():
            yield from _walk_params(v, f"{path}.{k}" if path else k)


def _error(exc: object, prefix: str = "error") -> None:
    print(f"{prefix}: {_one_line(exc)}", file=sys.stderr)


def _writable(out: Path) -> None:
    """Fail before a long run, not after it, if the results cannot be written."""
    import tempfile

    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, not a folder; give a folder for the results"
                         " (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write results there ({exc.strerror or exc})") from None


@contextmanager
def _writing(where: str) -> Iterator[None]:
    """Writing results that fails (a full disk, no permission) is one line naming where, not a
    traceback; the writers replace a set whole or not at all, so what was there is unchanged."""
    try:
        yield
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise InputError(f"{where}: the results could not be written ({why}); what was there"
                         " before is unchanged") from None


def _journey_files(sc: Scenario, seed: int, out: Path) -> dict[Path, Callable[[Path], None]]:
    """Replication 0 as a vidigi event log and its directly-follows process map. The
    replication is run again here (its random numbers depend only on the seed and its number,
    so it is the one in events.csv) because the log needs every task, not one row a contact."""
    # where used: `check` stays quick
    from sim.measures.process_map import directly_follows
    from sim.measures.vidigi_log import vidigi_log
    from sim.model.replication import simulate

    log = vidigi_log(simulate(sc, seed, 0))
    dfg = directly_follows(log)
    # minutes to 4 decimals (under 0.01 s): the 6 significant digits of the other files would
    # round a time late in the run to 6 s
    return {out / "vidigi_log.csv": lambda p: log.to_csv(p, index=False, float_format="%.4f"),
            out / "process_map.csv": lambda p: dfg.to_csv(p, index=False, float_format="%.4f")}


def cmd_run(args) -> int:
    from tqdm import tqdm

    from sim.experiments.levers import inactive_levers
    from sim.experiments.runner import (
        AllReplicationsFailed,
        check_workload,
        preload,
        run_replications,
    )
    from sim.io.output import csv_writer, text_writer, write_set

    sc = _with_period(args, _load(args, args.scenario), args.scenario)
    check_workload(sc, str(args.scenario), reps=args.reps if isinstance(args.reps, int) else None)
    # settings that cannot act in the period, against the file this one extends
    inactive = inactive_levers(sc, reference=_parent(args.scenario))
    for path, why in inactive:
        _error(f"{path}: {why}", "warning")
    preload()
    out: Path = args.out
    _writable(out)
    previous = [n for n in RUN_FILES if (out / n).exists()]
    args.on_interrupt = (f"no results were written; {out}/ keeps the previous results"
                         f" ({', '.join(previous)}) unchanged" if previous
                         else f"no results were written to {out}/")
    # "first": the other replications' event logs are dropped as they arrive (memory stays flat)
    keep_events = {"all": True, "first": "first", "none": False}[args.events]
    reps, done = args.reps or sc.run.reps, []
    if reps == "auto":
        reps, done = _auto_reps(args, sc, keep_events=keep_events)
    progress = None
    if not args.quiet:
        def progress(it):
            return tqdm(it, desc=f"{_one_line(sc.name)}: replications", unit="rep", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        with _executor(args) as executor:
            res = run_replications(sc, reps=reps, seed=args.seed, executor=executor,
                                   keep_events=keep_events, progress=progress, done=done)
    except AllReplicationsFailed as exc:
        for _, line in exc.failures:
            _error(line)
        raise
    elapsed = time.perf_counter() - t0
    files = {}
    if res.events is not None:
        ev = res.events if args.events == "all" else res.events[res.events["rep"] == 0]
        files[out / "events.csv"] = csv_writer(ev)
        if 0 in set(res.monthly["rep"]):
            files.update(_journey_files(sc, res.seed, out))
    files[out / "monthly.csv"] = csv_writer(res.monthly)
    files[out / "summary.csv"] = csv_writer(res.summary)
    if res.rota is not None:
        files[out / "rota.csv"] = csv_writer(res.rota)
    meta = {"scenario": sc.name, "scenario_file": str(args.scenario), "seed": res.seed,
            "reps": res.reps, "start": str(sc.run.start), "end": str(sc.run.end),
            "seconds": round(elapsed, 2), "warnings": res.warnings,
            "failed_replications": [f for _, f in res.failures], "notes": res.notes,
            # when the contacts declared open at the start were all decided (null: none declared)
            "backlog_cleared": res.backlog.as_dict() if res.backlog is not None else None,
            # settings that change nothing in this period (co-triage after the end, months outside it)
            "inactive_settings": [{"setting": p, "why": w} for p, w in inactive],
            "files": sorted(p.name for p in files) + ["run.json"]}
    files[out / "run.json"] = text_writer(json.dumps(meta, indent=2) + "\n")
    # one set: all four files replace the previous run's together (no stale event log left)
    with _writing(f"--out {out}"):
        write_set(files, remove=[out / n for n in RUN_FILES])
    args.on_interrupt = f"the results were already written in full to {out}/"
    if not args.quiet:
        print(f"{_one_line(sc.name)}: {len(res.monthly['rep'].unique())} of {res.reps} replications,"
              f" seed {res.seed}, {sc.run.start} to {sc.run.end}, in {elapsed:.1f} s;"
              f" results in {out}/\n")
        print(summary_table(res.summary))
        if res.backlog is not None:
            print(f"\nbacklog: {res.backlog.message()}")
    if res.backlog is not None and res.backlog.not_cleared:
        _error(f"the backlog declared open at the start was not cleared by the end of the simulation"
               f" ({res.backlog.stop:%Y-%m-%d %H:%M}) in {len(res.backlog.not_cleared)} of"
               f" {len(res.backlog.cleared)} replications", "note")
    for note in res.notes:
        _error(note, "note")
    for _, f in res.failures:
        _error(f)
    for w in res.warnings:
        _error(w, "warning")
    if res.failures:
        return EXIT_INTERNAL
    return EXIT_SATURATED if res.warnings else EXIT_OK


def cmd_compare(args) -> int:
    from tqdm import tqdm

    from sim.experiments.compare import check_periods, compare, period_text
    from sim.experiments.levers import inactive_levers
    from sim.experiments.runner import check_workload
    from sim.io.output import write_csv
    from sim.measures.breakeven import break_even

    if len(args.scenarios) < 2:
        raise ScenarioError("compare needs at least two scenario files")
    scs = [_load(args, p) for p in args.scenarios]
    _distinct(args.scenarios, scs)
    # --start/--end set every scenario's period; otherwise each keeps its own, and periods that
    # differ are refused unless --align puts every one on the first one's
    scs = [_with_period(args, sc, p) for p, sc in zip(args.scenarios, scs, strict=True)]
    _writable(args.out)
    scs, moved = check_periods(scs, align=args.align)
    for path, sc in zip(args.scenarios, scs, strict=True):
        check_workload(sc, str(path))
    for line in moved:
        _error(f"--align: {line}", "note")
    # the reference by the co-triage rule alone; every other scenario against the reference
    inactive = [(scs[0].name, *x) for x in inactive_levers(scs[0])]
    inactive += [(sc.name, *x) for sc in scs[1:] for x in inactive_levers(sc, reference=scs[0])]
    for name, path, why in inactive:
        _error(f"{name}: {path}: {why}", "warning")
    reps = args.reps or scs[0].run.reps
    seed = scs[0].run.seed if args.seed is None else args.seed
    done = []
    if reps == "auto":
        reps, done = _auto_reps(args, scs[0])
    progress = None
    if not args.quiet:
        def progress(it):
            return tqdm(it, desc="replications", unit="rep", file=sys.stderr)
    with _executor(args) as executor:
        table, results = compare(scs, reps, seed, executor=executor, progress=progress, done=done)
    with _writing(f"--out {args.out}"):
        write_csv(table, args.out / "comparison.csv")
    if not args.quiet:
        print("periods (first and last reported day): " + "; ".join(
            f"'{_one_line(sc.name)}' {period_text(sc)}" for sc in scs))
        print(f"paired comparison on {reps} replications, seed {seed}; differences are each"
              f" scenario minus '{_one_line(scs[0].name)}', 95% intervals\n")
        print(_comparison_text(table, scs[0].name))
        for sc in scs:
            if sc.cotriage.enabled:
                print(f"\nbreak-even of '{_one_line(sc.name)}': {break_even(sc).text()}")
        print(f"\nwritten: {args.out / 'comparison.csv'}")
    for r in results:
        for note in getattr(r, "notes", []):
            _error(f"{r.scenario.name}: {note}", "note")
    failures = [f"{r.scenario.name}: {f}" for r in results for _, f in r.failures]
    for f in failures:
        _error(f)
    warnings = [f"{r.scenario.name}: {w}" for r in results for w in r.warnings]
    for w in warnings:
        _error(w, "warning")
    if failures:
        return EXIT_INTERNAL
    return EXIT_SATURATED if warnings else EXIT_OK


# what compare prints: the service's measures (a month on average), then the answers in hours,
# posts and counts, as totals over the period where they add up
COMPARE_AVERAGES = (*KEY_MEASURES, "referrals", "ps_task_hours", "ps_fte_saved", "referrals_avoided",
                    "cotriage_officer_hours", "overtime_hours_ps", "overtime_per_post_ps")
COMPARE_TOTALS = ("referrals", "referrals_avoided", "ps_task_hours", "ps_fte_saved", "abandoned_calls",
                  "cotriage_officer_hours", "overtime_hours_csw", "overtime_hours_ps")


def _comparison_text(table: pd.DataFrame, reference: str) -> str:
    """The comparison as two tables: a month on average, and totals over the period."""
    import pandas as pd

    from sim.experiments.compare import PERIOD, TOTAL

    out = []
    for month, measures, title in (
            (PERIOD, COMPARE_AVERAGES, "a month on average over the period"),
            (TOTAL, COMPARE_TOTALS, "totals over the period (full-time posts: over the period as a"
                                    " whole)")):
        t = table[table["month"] == month]
        rows = []
        for m in dict.fromkeys(measures):
            r = t[t["measure"] == m]
            if r.empty:
                continue
            row = {"measure": f"{r['label'].iloc[0]} ({r['unit'].iloc[0]})"}
            for _, x in r.iterrows():
                cell = _fmt(x["mean"])
                if x["scenario"] != reference:
                    cell += (f"  {x['diff_from_first']:+,.2f} ({x['diff_ci_low']:+,.2f} to"
                             f" {x['diff_ci_high']:+,.2f})")
                row[_one_line(x["scenario"])] = cell
            rows.append(row)
        with pd.option_context("display.width", 250, "display.max_columns", 20,
                               "display.max_colwidth", 70):
            out.append(f"{title}:\n" + pd.DataFrame(rows).set_index("measure").to_string())
    return "\n\n".join(out)


def _parent(path: Path) -> Scenario | None:
    """The scenario a file extends (its reference for what changes nothing), if it loads."""
    from sim.scenario.loading import extends_target

    try:
        parent = extends_target(path)
        return load(parent) if parent is not None else None
    except (ScenarioError, OSError, ValueError):
        return None

def cmd_escalation(args) -> int:
    from sim.experiments.escalation import escalation, text_table
    from sim.io.output import csv_writer, write_set

    sc, before = _load(args, args.scenario), _load(args, args.reference)
    if args.scenario.resolve() == args.reference.resolve() or sc.name == before.name:
        raise InputError(f"SCENARIO {args.scenario}: is the reference itself (named {sc.name!r});"
                         f" give another scenario than --reference {args.reference}, e.g."
                         " scenarios/baseline.yaml")
    _writable(args.out)
    reps = args.reps or sc.run.reps
    seed = sc.run.seed if args.seed is None else args.seed
    with _executor(args) as executor:
        esc = escalation(sc, before, reps, seed, executor=executor)
    files = {args.out / "escalation.csv": csv_writer(esc.table),
             args.out / "escalation_reviews.csv": csv_writer(esc.reported)}
    with _writing(f"--out {args.out}"):
        write_set(files)
    print(f"children escalating: {_one_line(sc.name)} against {_one_line(before.name)},"
          f" {sc.run.start} to {sc.run.end}\n")
    print(text_table(esc))
    print(f"\nwritten: {', '.join(str(p) for p in files)}")
    problems = [(f"{r.scenario.name}: {f}", "error") for r in esc.results for _, f in r.failures]
    problems += [(f"{r.scenario.name}: {w}", "warning") for r in esc.results for w in r.warnings]
    for text, kind in problems:
        _error(text, kind)
    kinds = {kind for _, kind in problems}
    return EXIT_INTERNAL if "error" in kinds else EXIT_SATURATED if kinds else EXIT_OK


def _distinct(paths: list[Path], scs: list[Scenario]) -> None:
    """compare needs different scenarios: refuse the same file twice or two of one name."""
    seen: dict[Path, Path] = {}
    for path in paths:
        key = path.resolve()
        if key in seen:
            spelt = "" if str(seen[key]) == str(path) else f" (as {seen[key]} and {path})"
            raise InputError(f"compare: {path} is given twice{spelt}; give two or more different"
                             " scenario files")
        seen[key] = path
    names: dict[str, Path] = {}
    for path, sc in zip(paths, scs, strict=True):
        if sc.name in names:
            raise InputError(f"compare: {names[sc.name]} and {path} are both named {sc.name!r};"
                             " scenario names must differ (change `name:` in one of them)")
        names[sc.name] = path


def cmd_calibrate(args) -> int:
    from tqdm import tqdm

    from sim.experiments.calibrate import CONFIG, calibrate, save_log, write_back

    config = args.config or CONFIG
    with _executor(args) as executor:
        result, _, cfg = calibrate(
            config, executor=executor, max_evaluations=args.max_evaluations,
            progress=lambda it: tqdm(it, desc="calibration evaluations", unit="eval",
                                     file=sys.stderr))
    print(f"calibrated in {result.seconds:.0f} s")
    second = result.downstream
    stages = [("front door", result, cfg.free_parameters,
               result.seconds - (second.seconds if second is not None else 0.0))]
    if second is not None:
        stages.append(("downstream", second, cfg.downstream_parameters, second.seconds))
    for title, fit, params, seconds in stages:
        print(f"\n{title}: {fit.evaluations} evaluations in {seconds:.0f} s; objective"
              f" {fit.start_objective:.2f} -> {fit.objective:.2f}")
        for p, a, b in zip(params, fit.start_x, fit.x, strict=True):
            print(f"  {p.name}: {a:.3f} -> {b:.3f}  (bounds {p.bounds[0]:g} to {p.bounds[1]:g})")
        if fit.fitted is not None:
            print(fit.fitted.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if not args.dry_run:
        with _writing(f"{config}"):
            path = write_back(config, cfg, result)
            save_log(result, cfg)
        print(f"written: {path} (provenance 'calibrated'); log: calibration/last_calibration.json")
    return EXIT_OK


def cmd_validate(args) -> int:
    from tqdm import tqdm

    from sim.experiments.calibrate import CONFIG
    from sim.experiments.compare import compare
    from sim.experiments.report import REPORT_DIR, summary_issue13, write_report
    from sim.experiments.validation import run_validation

    config = args.config or CONFIG
    with _executor(args) as executor:
        v = run_validation(config, reps=args.reps, executor=executor,
                           progress=lambda it: tqdm(it, total=args.reps or None, unit="rep",
                                                    desc="validation", file=sys.stderr))
        pre = config.parent.parent / "scenarios" / "pre_conversations.yaml"
        comparison = None
        if pre.is_file():
            comparison, _ = compare([_load(args, pre), v.results.scenario], reps=v.results.reps,
                                    seed=v.results.seed, executor=executor, by_month=False)
    with _writing(str(REPORT_DIR)):
        path = write_report(v, comparison)
    held = v.holdout
    print(v.by_measure.drop(columns=["measure"]).to_string(index=False,
                                                            float_format=lambda x: f"{x:.1f}"))
    s = v.scores
    print("\nheld-out CRPS (measure's unit) and skill against the July-September mean carried forward:")
    print(s[["label", "crps", "crps_naive", "skill", "widest_band"]].to_string(
        index=False, float_format=lambda x: f"{x:.2f}"))
    if v.elasticities is not None:
        for r in v.elasticities.itertuples():
            print(f"elasticity of the share within 1 working day to {r.group} demand: {r.elasticity:+.2f}"
                  f" ({r.ci_low:+.2f} to {r.ci_high:+.2f})")
    print("\n" + "\n".join(line.removeprefix("- ").replace("**", "") for line in summary_issue13(v)))
    print(f"\nheld-out coverage {int(held['inside_band'].sum())}/{len(held)} ({v.coverage:.0%});"
          f" worst volume error {v.worst_volume_error:.1f}%; report: {path}")
    return EXIT_OK


def cmd_story(args) -> int:
    import math

    import pandas as pd
    from tqdm import tqdm

    from sim.experiments.report import REPORT_DIR, with_section
    from sim.experiments.story import (
        CONFIG,
        Story,
        fit,
        load_story,
        markdown,
        shown,
        summary,
        validate_reading,
    )
    from sim.io.output import write_csv, write_text

    path = args.config or CONFIG
    cfg = load_story(path)
    if args.reps:
        cfg = cfg.model_copy(update={"reps": args.reps})
    out = args.out or REPORT_DIR
    _writable(out)
    story = Story(cfg)
    n = sum(math.prod(len(f.values) for f in r.free) for r in cfg.readings)
    print(f"{n} grid points x {cfg.reps} replications, then {len(cfg.readings)} validation runs of"
          f" {args.validation_reps or cfg.validation_reps}", file=sys.stderr)
    with _executor(args) as executor:
        for reading in cfg.readings:
            rf = fit(reading, cfg, path.parent, executor=executor,
                     progress=lambda it, r=reading: tqdm(it, desc=r.name, unit="point", file=sys.stderr))
            validate_reading(rf, args.validation_reps or cfg.validation_reps, executor=executor)
            story.fits.append(rf)
    grids = pd.concat([rf.grid.assign(reading=rf.reading.name) for rf in story.fits], ignore_index=True)
    cells = pd.concat([rf.cells.assign(reading=rf.reading.name) for rf in story.fits], ignore_index=True)
    with _writing(f"--out {out}"):
        write_csv(grids, out / "october_december_grid.csv")
        write_csv(cells, out / "october_december_cells.csv")
        write_text(markdown(story), out / "october_december.md")
        report = out / "report.md"
        old = report.read_text(encoding="utf-8") if report.is_file() else "# Calibration and validation\n"
        write_text(with_section(old, summary(story)), report)
    for rf in story.fits:
        sizes = ", ".join(f"{rf.setting(i)} {shown(v)} ({shown(rf.intervals[rf.setting(i)][0])} to"
                          f" {shown(rf.intervals[rf.setting(i)][1])})" for i, v in enumerate(rf.best))
        print(f"{rf.reading.name}: best score {rf.best_score:.1f}; {sizes};"
              f" {int(rf.cells['inside_band'].sum())}/{len(rf.cells)} cells inside the band")
    for a, b, told in story.apart():
        print(f"{a} against {b}: {'told apart' if told else 'not told apart'} by the figures")
    print(f"report: {out / 'october_december.md'}")
    return EXIT_OK


def cmd_target(args) -> int:
    from tqdm import tqdm

    from sim.experiments.frontier import START, SearchError, plan, run_plan, table
    from sim.experiments.target import TARGETS
    from sim.io.output import write_csv

    if args.scenario is not None and args.scenario_opt is not None and args.scenario != args.scenario_opt:
        raise InputError(f"--scenario {args.scenario_opt}: a scenario is already given ({args.scenario});"
                         " give one")
    path = args.scenario or args.scenario_opt or Path("scenarios/baseline.yaml")
    sc = _load(args, path)
    try:
        p = plan(sc, args.lever, args.target, reps=args.reps, seed=args.seed, values=args.values,
                 latest_start=args.latest_start)
    except SearchError as exc:
        raise InputError(str(exc)) from None
    ref = _load(args, args.reference) if TARGETS[args.target].relative_to else None
    _writable(args.out)
    for c in p.choices:
        print(c.intro())
    print(f"Searching {p.describe()}: at most {p.runs * p.reps} replications.", flush=True)

    bar = None if args.quiet else tqdm(total=p.runs, desc="target search", unit="point", file=sys.stderr)

    def said(first: float, total: float) -> None:
        line = (f"The first point took {first:.1f} s, so the search takes about {_duration(total)} at"
                " most (less if cheaper points already meet the target).")
        tqdm.write(line, file=sys.stderr) if bar is not None else print(line, file=sys.stderr, flush=True)

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    try:
        with _executor(args) as executor:
            res = run_plan(p, reference=ref, executor=executor, on_estimate=said, on_step=step)
    finally:
        if bar is not None:
            bar.close()
    with _writing(f"--out {args.out}"):
        write_csv(table(res), args.out / "target.csv")
    print(res.message())
    keys = [c.lever.key for c in p.choices]
    cols = [*keys, *([f"{START}_from"] if p.start else []), "cost", "mean", "ci_low", "ci_high", "bound"]
    if not res.frontier.empty:
        print("\nThe frontier (each meets the target with 95% confidence; none is beaten in every lever):")
        print(res.frontier[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print("\nEach lever alone (the others at the scenario's values):")
    for v in res.verdicts:
        print(f"  {v.message()}")
    skipped = (f"; {res.skipped} not run, as each costs more than a point already meeting it"
               if res.skipped else "")
    print(f"\n{len(res.grid)} points run in {_duration(res.seconds)}{skipped}."
          f" Every point is in {args.out / 'target.csv'}.")
    return EXIT_OK


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def cmd_sensitivity(args) -> int:
    from tqdm import tqdm

    from sim.experiments.sensitivity import (
        judged_parameters,
        one_at_a_time,
        sobol,
        unknown_parameters,
    )
    from sim.io.output import csv_writer, write_set

    sc = _load(args, args.scenario)
    judged = judged_parameters(sc)
    if args.list:
        for j in judged:
            print(f"{j.name}  (now {j.value:g}, range {j.low:g} to {j.high:g})")
        return EXIT_OK
    if not judged:
        raise InputError(f"{args.scenario}: has no judged parameter with a range to vary"
                         " (provenance: judgement and a range wider than a point)")
    unknown = unknown_parameters(sc, args.only or [])
    if unknown:
        raise InputError(f"--only {' '.join(unknown)}: not a judged parameter of {args.scenario}"
                         f"{_did_you_mean(unknown, [j.name for j in judged])}; see the"
                         f" {len(judged)} accepted paths with: python -m sim sensitivity"
                         f" {args.scenario} --list")
    _writable(args.out)
    tornado, sobol_csv = args.out / "tornado.csv", args.out / "sobol.csv"
    args.on_interrupt = (f"no results were written; {args.out}/ keeps its previous tornado.csv and"
                         " sobol.csv (if any) unchanged")

    def bar(desc):
        return lambda it: tqdm(it, desc=desc, unit="run", file=sys.stderr)

    with _executor(args) as executor:
        oat = one_at_a_time(sc, reps=args.reps, seed=args.seed, only=args.only,
                            executor=executor, progress=bar("one at a time"))
        for name, end, why in oat.attrs.get("skipped", []):
            print(f"note: {name} at its {end} end was not run: {why}", file=sys.stderr)
        print(f"one at a time: {oat['parameter'].nunique()} judged parameters x 2 ends x"
              f" {args.reps} replications; largest swings:")
        for _, g in oat.groupby("measure", sort=False):
            top = g.nsmallest(5, "rank")
            print(f"\n{g['label'].iloc[0]} (base {g['base'].iloc[0]:.3g})")
            for _, r in top.iterrows():
                print(f"  {r['parameter']:<55} {r['low']:>8.3g} -> {r['at_low']:>8.3g}   "
                      f"{r['high']:>8.3g} -> {r['at_high']:>8.3g}")
        files = {tornado: csv_writer(oat)}
        if args.sobol:
            swing = oat.groupby("parameter")["swing"].max().sort_values(ascending=False)
            keep = set(swing.index[:args.sobol_top])
            params = [p for p in judged_parameters(sc) if p.name in keep]
            s = sobol(sc, params, n=args.sobol, seed=args.seed, executor=executor,
                      progress=bar("Sobol samples"))
            files[sobol_csv] = csv_writer(s)
            print(f"\nSobol indices from {s.attrs['runs']} runs")
    # one set: a Sobol table from an earlier run never sits beside this run's tornado
    with _writing(f"--out {args.out}"):
        write_set(files, remove=[] if args.sobol else [sobol_csv])
    args.on_interrupt = f"the results were already written in full to {args.out}/"
    print(f"written: {', '.join(str(p) for p in files)}")
    return EXIT_OK


def _question(text: str) -> str:
    if not text.strip() or len(text) > 1000:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} must be a question of 1 to 1,000 characters")
    return text


def cmd_report(args) -> int:
    import shlex

    from tqdm import tqdm

    from sim.experiments import board_report as br
    from sim.experiments.compare import PeriodMismatch, check_periods, compare
    from sim.experiments.escalation import against_before
    from sim.experiments.runner import check_workload
    from sim.experiments.sensitivity import judged_parameters
    from sim.io.output import text_writer, write_atomic

    scs = [_load(args, p) for p in args.scenarios]
    try:
        _distinct(args.scenarios, scs)
    except InputError as exc:  # compare's rule, said as this command's
        raise InputError(str(exc).replace("compare:", "report:", 1)) from None
    files = list(scs)
    # compare's rule: --start/--end set every scenario's period; periods that differ are refused
    # unless --align puts every one on the first one's
    scs = [_with_period(args, sc, p) for p, sc in zip(args.scenarios, scs, strict=True)]
    try:
        scs, moved = check_periods(scs, align=args.align)
    except PeriodMismatch as exc:
        raise PeriodMismatch(str(exc).replace("compare:", "report:", 1)) from None
    for line in moved:
        _error(f"--align: {line}", "note")
    reps = args.reps or scs[0].run.reps
    seed = scs[0].run.seed if args.seed is None else args.seed
    for path, sc in zip(args.scenarios, scs, strict=True):
        check_workload(sc, str(path), reps=reps)
    _writable(args.out)
    given = args.sensitivity not in (None, "none")
    tornado = Path(args.sensitivity) if given else args.out / "tornado.csv"
    sens = br.SensitivityTable(None, "Left out of this report (--sensitivity none).") if (
        args.sensitivity == "none") else None
    from_file = sens is None and (given or tornado.is_file())
    if from_file:
        try:
            sens = br.file_sensitivity(tornado, scs[0])
        except (OSError, ValueError) as exc:
            raise InputError(f"--sensitivity {tornado}: {_one_line(exc)}") from None
    if sens is None:
        check_workload(scs[0], str(args.scenarios[0]), reps=2 * len(judged_parameters(scs[0])) + 1)
    if args.pdf:  # before any replication runs, not after
        from sim.experiments.board_pdf import PdfUnavailable, available, pdf_bytes

        if not available():
            raise InputError("--pdf: WeasyPrint or the Pango library it needs cannot be loaded here;"
                             " leave out --pdf and print the HTML report to PDF from a browser")
    def bar(desc):
        return None if args.quiet else (lambda it: tqdm(it, desc=desc, unit="rep", file=sys.stderr))

    with _executor(args) as executor:
        t0 = time.perf_counter()
        table, results = compare(scs, reps, seed, executor=executor, progress=bar("replications"))
        if sens is None:
            runs = 2 * len(judged_parameters(scs[0])) + 1
            minutes = (time.perf_counter() - t0) / (reps * len(scs)) * runs / 60
            _error(f"no {tornado}: ranking the assumptions by a quick sensitivity run, {runs} replications"
                   f" (one at each end of every judged range; about {max(1, round(minutes))} min at the"
                   " speed of the runs so far); --sensitivity FILE or none skips it", "note")
            sens = br.small_sensitivity(results[0].scenario, seed, executor, bar("sensitivity"))
    warnings = [f"{r.scenario.name}: {w}" for r in results for w in r.warnings]
    failures = [f"{r.scenario.name}: {f}" for r in results for _, f in r.failures]
    command = ["python", "-m", "sim", "report", *map(str, args.scenarios), "--reps", str(reps),
               "--seed", str(seed)]
    command += [f"--{k}={getattr(args, k)}" for k in ("start", "end") if getattr(args, k) is not None]
    if from_file or args.sensitivity == "none":
        command += ["--sensitivity", str(tornado) if from_file else "none"]
    if args.question:
        command += ["--question", args.question]
    entries = br.entries_for([r.scenario for r in results], [str(p) for p in args.scenarios], files)
    inputs = br.BoardInputs(entries,
                            table, reps, seed, sens, shlex.join(command), args.question or "",
                            warnings + failures, notes=br.run_notes(results),
                            escalation=against_before(results))
    path, page = args.out / br.FILE_NAME, br.build_html(inputs)
    pdf = None
    if args.pdf:
        try:
            pdf = pdf_bytes(page)
        except PdfUnavailable as exc:
            raise InputError(f"--pdf: {exc}") from None
    with _writing(f"--out {args.out}"):
        write_atomic(path, text_writer(page))
        if pdf is not None:
            write_atomic(path.with_suffix(".pdf"), lambda p: p.write_bytes(pdf))
    print(f"written: {path}" + (f" and {path.with_suffix('.pdf')}" if pdf is not None else ""))
    for f in failures:
        _error(f)
    for w in warnings:
        _error(w, "warning")
    if failures:
        return EXIT_INTERNAL
    return EXIT_SATURATED if warnings else EXIT_OK


def _did_you_mean(unknown: list[str], names: list[str]) -> str:
    import difflib

    close = [m for u in unknown for m in difflib.get_close_matches(u, names, n=2, cutoff=0.6)]
    return f" (did you mean {', '.join(dict.fromkeys(close))}?)" if close else ""


def cmd_bench(args) -> int:
    from sim.experiments.bench import bench, bench_compare, report, report_compare

    first = _load(args, args.scenario)
    print(report(bench(first, repeats=args.repeats, months=args.months)))
    if args.compare is not None:
        other = _load(args, args.compare)
        print(report_compare(bench_compare(first, other), (_one_line(first.name), _one_line(other.name))))
    return EXIT_OK


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that nothing is left half-done."""


def cmd_docs(args) -> int:
    from sim.experiments import documents

    path = args.file or documents.MODEL_DOC
    try:
        if args.check:
            stale = documents.check(path)
            if stale:
                names = ", ".join(f"'{name}'" for name in stale)
                print(_one_line(f"{path}: generated section{'s' if len(stale) > 1 else ''} {names}"
                                " differ from what the code writes (python -m sim docs rewrites them)"),
                      file=sys.stderr)
                return 1
            print(_one_line(f"{path}: generated sections are current"))
            return EXIT_OK
        changed = documents.write(path)
    except documents.DocumentError as exc:
        raise InputError(f"{path}: {exc}") from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise InputError(f"{path}: cannot be read or written ({why})") from None
    print(_one_line(f"{path}: rewrote {', '.join(changed)}" if changed else f"{path}: already current"))
    return EXIT_OK


def _on_sigterm(signum, frame) -> NoReturn:
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    handlers = {"run": cmd_run, "check": cmd_check, "bench": cmd_bench, "compare": cmd_compare,
                "calibrate": cmd_calibrate, "validate": cmd_validate, "target": cmd_target,
                "sensitivity": cmd_sensitivity, "docs": cmd_docs, "report": cmd_report,
                "story": cmd_story, "escalation": cmd_escalation}
    in_main = threading.current_thread() is threading.main_thread()
    args: argparse.Namespace | None = None
    previous_term = None
    try:  # everything, so an interrupt at any point is answered in one line
        args = build_parser().parse_args(argv)
        if in_main:
            previous_term = signal.signal(signal.SIGTERM, _on_sigterm)
        _check_executor_args(args)
        return handlers[args.command](args)
    except (ScenarioError, InputError) as exc:
        _error(exc)
        return EXIT_INPUT
    except SchedulerUnreachable as exc:
        _error(f"--scheduler {args.scheduler}: {exc}" if args is not None else exc)
        return EXIT_INPUT
    except ClusterLost as exc:
        _error(exc)
        return EXIT_INTERNAL
    except KeyboardInterrupt as exc:
        if argv is None and in_main:  # the program is ending: a second Ctrl-C (a terminal sends
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # them fast; Dask's exit hooks take a
            # moment) must neither cut this line short nor end the process by the signal
        what = "terminated (SIGTERM)" if isinstance(exc, _Terminated) else "interrupted"
        if args is None:
            note = "nothing was run or written"
        else:
            note = getattr(args, "on_interrupt", None) or ("files already in place are complete;"
                                                            " nothing was half-written")
        print(f"{what}: {note}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {_one_line(exc)} (run with --verbose for"
              " the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


if __name__ == "__main__":
    sys.exit(main())
