"""The board report from the results the app already shows (sim.experiments.board_report).

Nothing is run for it: the scenarios, figures and intervals are the session's current run or,
when the comparison on the Compare page holds that run, that comparison; the assumptions that
matter most are the session's own sensitivity analysis of the reference scenario, if one was run.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from sim.experiments import board_pdf
from sim.experiments import board_report as br
from sim.experiments.compare import paired_differences
from sim.experiments.escalation import against_before
from ui import runs, state
from ui.pages.common import slug


def _digest(sc: Any) -> str:
    return runs.run_key(sc, 0, 0).split(":")[0]


def _sensitivity(first: Any) -> br.SensitivityTable:
    """The session's tornado if it was run on the reference scenario as it is now."""
    run = st.session_state.get("sensitivity")
    if run is not None and run.key.startswith(f"sensitivity:{_digest(first)}:") and not run.table.empty:
        n = run.table["parameter"].nunique()
        return br.SensitivityTable(run.table, (
            f"From the sensitivity analysis run in this session (Assumptions page) on '{run.scenario}':"
            f" {n} judged assumption{'s' if n != 1 else ''}, {run.reps} replication"
            f"{'s' if run.reps != 1 else ''} at each end of each range, seed {run.seed}."))
    return br.SensitivityTable(None, (
        f"No sensitivity analysis of '{first.name}' as it stands has been run in this session. Run one on"
        " the Assumptions page (Which assumptions matter most) and download the report again, or make the"
        " report with python -m sim report, which ranks them itself."))


def _file_for(name: str, source: str, changed: bool) -> tuple[str, str]:
    """The file the command line would read for a scenario, and how the app had it."""
    if source.endswith(state.UPLOADED) or changed or source not in state.scenario_files():
        how = f"{source}, as changed in the app" if changed else source
        return f"{slug(name)}.yaml", how
    return f"scenarios/{source}", f"scenarios/{source}"


def report_html(ran: state.Ran, comp: dict | None) -> str:
    """The report of these results: the comparison holding them if there is one, else this run."""
    store = runs.shared_store()
    results = [store.get(k) for k in comp["keys"]] if comp is not None else []
    if comp is not None and all(r is not None for r in results):
        names, table = list(comp["names"]), comp["table"]
        changed = {n: not comp["changes"][n].empty for n in names}
        files = [_file_for(n, comp["sources"][n], changed[n]) for n in names]
        entries = br.entries_for([r.scenario for r in results], [how for _, how in files])
    else:
        res = ran.res
        results, names = [res], [res.scenario.name]
        table = pd.concat([paired_differences(results, by_month=False),
                           paired_differences(results, by_month=True)], ignore_index=True)
        files = [_file_for(names[0], ran.source, not ran.changes.empty)]
        rows = ran.changes.to_dict("records")
        entries = [br.ScenarioEntry(res.scenario, files[0][1], rows, f"its file ({ran.source})")]
    reps, seed = int(results[0].reps), int(results[0].seed)
    command = shlex.join(["python", "-m", "sim", "report", *(f for f, _ in files), "--reps", str(reps),
                          "--seed", str(seed)])
    made_here = [f for f, how in files if not f.startswith("scenarios/")]
    if made_here:
        command += ("\n# " + ", ".join(made_here) + ": the scenario as the app had it (its YAML from the"
                    " Downloads page)")
    warnings = [f"{r.scenario.name}: {w}" for r in results for w in r.warnings]
    return br.build_html(br.BoardInputs(entries, table, reps, seed, _sensitivity(results[0].scenario),
                                        command, warnings=warnings, notes=br.run_notes(results),
                                        escalation=against_before(results)))


def report_bytes(ran: state.Ran, comp: dict | None) -> bytes:
    """The report, built once for these results (and this sensitivity run) and kept in the session."""
    ss = st.session_state
    sens = ss.get("sensitivity")
    sig = (ran.key, id(comp), len(ran.changes), getattr(sens, "key", None))
    if ss.get("board_report_sig") != sig:
        ss.board_report = report_html(ran, comp).encode("utf-8")
        ss.board_report_sig = sig
    return ss.board_report


def pdf_maker(page: bytes) -> Callable[[], bytes] | None:
    """The PDF of a report, made only when its button is clicked (it takes a few seconds); None
    where WeasyPrint cannot run."""
    if not board_pdf.available():
        return None
    return lambda: board_pdf.pdf_bytes(page.decode("utf-8"))
