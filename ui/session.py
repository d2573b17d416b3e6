"""A session as one file: the scenarios (worked on and saved), their changes and their results.

Why: an improvement lead who has built three scenarios and run them should be able to close the
browser and show the same figures at the board tomorrow, or send them to a colleague.

The file is JSON, which is also YAML, so it is read back by the one hardened reader
(sim.scenario.safe_yaml); JSON quotes every text, so no value can be read back as something else
(a scenario named 1e5 stays text). Its parts, shown here as YAML:

    format: front-door-session
    version: 1
    replications: 20            # the run settings the results belong to
    seed: 20230701
    documents:                  # each scenario document once, as read from its file
      d0: {name: baseline, ...}
    work:                       # the scenario being worked on
      document: d0
      source: baseline.yaml
      changes:                  # the user's changes, each a setting's path and its value
        - {path: [ppn, quality, value], value: 0.6}
      results:                  # only if it had been run with these settings
        monthly_csv: "rep,month,contacts,..."   # every replication's monthly measures
        warnings: [...]
        backlog_cleared: [...]  # when each replication cleared a declared backlog
    saved: [...]                # the scenarios saved for comparison, each like `work`

Opening one treats it as hostile: at most MAX_SESSION_BYTES, read by the safe YAML reader,
every document validated as a scenario upload is, every change applied and the result validated
again, results checked against their scenario (columns, replications, months, finite numbers);
the first problem refuses the whole file in one line naming it, and nothing in the session
changes. Nothing from the file is written anywhere, and restored results stay in this session
(never in the cache other sessions share), labelled as restored.
"""

from __future__ import annotations

import copy
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from sim.experiments.runner import RepOutput, RunResults, check_workload, gather
from sim.measures.metrics import MEASURES
from sim.scenario import safe_yaml
from sim.scenario.loading import library_files, load
from sim.scenario.paths import get
from sim.scenario.schema import Scenario, ScenarioError, validate
from ui import params, runs, state
from ui.state import MAX_SEED, UPLOADED, Entry, plain_error, upload_name

FORMAT = "front-door-session"
VERSION = 1
MAX_SESSION_BYTES = safe_yaml.MAX_CHARS  # 1,000,000: a few scenarios with 20 replications each
MAX_SCENARIOS = 20                        # the one worked on and up to 19 saved
MAX_CHANGES = 500                         # changes to one scenario
MAX_PATH = 12                             # levels of a setting's path
MAX_WARNINGS = 50
MAX_TEXT = 400                            # characters of a warning or a source kept
TOP_KEYS = {"format", "version", "replications", "seed", "documents", "work", "saved"}
ENTRY_KEYS = {"document", "source", "changes", "results"}
RESULT_KEYS = {"monthly_csv", "warnings", "backlog_cleared"}
MONTH = re.compile(r"\d{4}-\d{2}")


class SessionError(ValueError):
    """A session file that cannot be opened; the message is one line naming what is wrong."""


@dataclass
class Session:
    """What a session file restores: the scenarios, the run settings and the results found."""

    work: Entry
    saved: list[Entry]
    reps: int
    seed: int
    results: dict[str, RunResults]   # by run key (ui.runs.run_key)


# ---------------------------------------------------------------------------------------------
# saving


def _results_part(res: RunResults) -> dict:
    part: dict[str, Any] = {"monthly_csv": res.monthly.to_csv(index=False),
                            "warnings": list(res.warnings)}
    if res.backlog is not None:
        part["backlog_cleared"] = [None if t is None else t.isoformat(timespec="seconds")
                                   for _, t in res.backlog.cleared]
    return part


def dump(work: Entry, saved: list[Entry], reps: int, seed: int,
         results: dict[str, RunResults]) -> tuple[bytes, list[str]]:
    """The session file's bytes, and the names of scenarios whose results were left out to keep
    it within MAX_SESSION_BYTES (their scenarios and changes are always kept)."""
    documents: dict[str, dict] = {}

    def doc_id(original: dict) -> str:
        for k, d in documents.items():
            if d == original:
                return k
        k = f"d{len(documents)}"
        documents[k] = copy.deepcopy(original)
        return k

    def entry_part(e: Entry) -> dict:
        part: dict[str, Any] = {"document": doc_id(e.original), "source": e.source,
                                "changes": [{"path": list(p), "value": v} for p, v in e.edits.items()]}
        res = _results_for(e, reps, seed, results)
        if res is not None:
            part["results"] = _results_part(res)
        return part

    body = {"format": FORMAT, "version": VERSION, "replications": int(reps), "seed": int(seed),
            "documents": documents, "work": entry_part(work), "saved": [entry_part(e) for e in saved]}
    left_out: list[str] = []
    parts = [body["work"], *body["saved"]]
    names = [work.name, *(e.name for e in saved)]
    while True:
        data = json.dumps(body, indent=1, ensure_ascii=False, allow_nan=False).encode("utf-8")
        if len(data) <= MAX_SESSION_BYTES:
            return data, left_out
        # too large: leave out the results of the last scenario that still has some
        i = max((i for i, p in enumerate(parts) if "results" in p), default=None)
        if i is None:
            return data, left_out
        del parts[i]["results"]
        left_out.append(names[i])


def _scenario(e: Entry) -> Scenario | None:
    try:
        return validate(e.doc(), "saved scenario")
    except ScenarioError:
        return None


def _results_for(e: Entry, reps: int, seed: int, results: dict[str, RunResults]) -> RunResults | None:
    sc = _scenario(e)
    if sc is None:
        return None
    key = runs.run_key(sc, seed, reps)
    return results.get(key) or runs.cached(sc, seed, reps)


# ---------------------------------------------------------------------------------------------
# opening


def _short(text: str, most: int = 40) -> str:
    shown = "".join(c if c.isprintable() else "?" for c in text)
    return shown if len(shown) <= most else shown[:most - 1] + "…"


def _fail(what: str) -> SessionError:
    return SessionError(" ".join(what.split()))


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(f"{name}: must be a whole number from {lo:,} to {hi:,}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{name}: must be text")
    return "".join(c if c.isprintable() else "?" for c in value)[:MAX_TEXT]


def _mapping(value: Any, name: str, keys: set[str], required: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(f"{name}: must be a group of settings")
    extra = sorted(str(k) for k in value if k not in keys)
    if extra:
        raise _fail(f"{name}: '{_short(extra[0])}' is not part of a session file"
                    f" (allowed: {', '.join(sorted(keys))})")
    missing = sorted(required - set(value))
    if missing:
        raise _fail(f"{name}: '{missing[0]}' is missing")
    return value


def _document(doc: Any, name: str) -> dict:
    if not isinstance(doc, dict):
        raise _fail(f"{name}: must be a scenario (a group of settings)")
    try:
        sc = validate(copy.deepcopy(doc), name)
        check_workload(sc, name)
    except ScenarioError as exc:
        raise _fail(plain_error(str(exc))) from None
    return doc


def _library_doc(source: str) -> dict | None:
    path = library_files().get(source)
    if path is None:
        return None
    try:
        return load(path).model_dump(mode="json")
    except ScenarioError:
        return None


def _entry(part: Any, name: str, documents: dict[str, dict], origin: str) -> tuple[Entry, Scenario]:
    part = _mapping(part, name, ENTRY_KEYS, {"document", "source"})
    ref = part["document"]
    if not isinstance(ref, str) or ref not in documents:
        raise _fail(f"{name}.document: must name one of the file's documents")
    source = _text(part["source"], f"{name}.source")
    changes = part.get("changes") or []
    if not isinstance(changes, list) or len(changes) > MAX_CHANGES:
        raise _fail(f"{name}.changes: must be a list of at most {MAX_CHANGES} changes")
    edits: dict[params.Path_, Any] = {}
    for i, ch in enumerate(changes):
        where = f"{name}.changes[{i}]"
        ch = _mapping(ch, where, {"path", "value"}, {"path", "value"})
        path = ch["path"]
        if (not isinstance(path, list) or not 1 <= len(path) <= MAX_PATH
                or not all(isinstance(p, str) and p for p in path)):
            raise _fail(f"{where}.path: must be a list of 1 to {MAX_PATH} setting names")
        base = path[:-1] if path[-1] in (params.SCALE, params.SUMMER, params.POSTS) else path
        try:
            get(documents[ref], tuple(base))
        except (KeyError, TypeError, IndexError):
            raise _fail(f"{where}.path: names a setting its scenario does not have") from None
        edits[tuple(path)] = ch["value"]
    if source.endswith(UPLOADED) or _library_doc(source) != documents[ref]:
        # only the library's own file, as it stands, may go by a library file's name
        source = source if source.endswith(UPLOADED) else f"{origin}{UPLOADED}"
    entry = Entry(copy.deepcopy(documents[ref]), source, edits, 0)
    try:
        doc = entry.doc()
    except Exception:  # noqa: BLE001 - a change naming no setting of its document
        raise _fail(f"{name}.changes: a change names a setting its scenario does not have") from None
    try:
        sc = validate(doc, name)
        check_workload(sc, name)
    except ScenarioError as exc:
        raise _fail(plain_error(str(exc))) from None
    return entry, sc


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(f"{name}: must be a date and time (YYYY-MM-DDTHH:MM:SS) or null")


def _results(part: Any, name: str, sc: Scenario, reps: int, seed: int) -> RunResults:
    part = _mapping(part, name, RESULT_KEYS, {"monthly_csv"})
    text = part["monthly_csv"]
    if not isinstance(text, str):
        raise _fail(f"{name}.monthly_csv: must be text (comma-separated values)")
    try:
        monthly = pd.read_csv(io.StringIO(text), dtype={"month": str})
    except Exception:  # noqa: BLE001 - any parse problem is the file's
        raise _fail(f"{name}.monthly_csv: cannot be read as comma-separated values") from None
    cols = list(monthly.columns)
    if (cols[:2] != ["rep", "month"] or any(c not in MEASURES for c in cols[2:])
            or len(set(cols)) != len(cols)):
        raise _fail(f"{name}.monthly_csv: its columns must be rep, month and the model's measures")
    values = monthly[cols[2:]]
    if not all(pd.api.types.is_numeric_dtype(values[c]) for c in values) or not all(
            math.isfinite(v) for v in values.to_numpy(dtype=float).ravel() if not math.isnan(v)):
        raise _fail(f"{name}.monthly_csv: every measure must be a finite number")
    if not pd.api.types.is_integer_dtype(monthly["rep"]) or set(monthly["rep"]) != set(range(reps)):
        raise _fail(f"{name}.monthly_csv: must hold replications 0 to {reps - 1} (the file's replications)")
    months = params.reported_months({"run": {"start": str(sc.run.start), "end": str(sc.run.end)}})
    if not all(isinstance(m, str) and MONTH.fullmatch(m) for m in monthly["month"]) or \
            set(monthly["month"]) != set(months):
        raise _fail(f"{name}.monthly_csv: its months must be the scenario's, {months[0]} to {months[-1]}")
    if monthly.duplicated(["rep", "month"]).any():
        raise _fail(f"{name}.monthly_csv: a replication's month appears twice")
    warnings = part.get("warnings") or []
    if not isinstance(warnings, list) or len(warnings) > MAX_WARNINGS:
        raise _fail(f"{name}.warnings: must be a list of at most {MAX_WARNINGS} lines")
    cleared = part.get("backlog_cleared") or [None] * reps
    if not isinstance(cleared, list) or len(cleared) != reps:
        raise _fail(f"{name}.backlog_cleared: must give one time (or null) for each of {reps} replications")
    outs = [RepOutput(r, monthly[monthly["rep"] == r].reset_index(drop=True), [], None,
                      _when(cleared[r], f"{name}.backlog_cleared[{r}]")) for r in range(reps)]
    res = gather(sc, seed, reps, outs)
    res.warnings = [_text(w, f"{name}.warnings") for w in warnings]
    return res


def loads(name: str, data: bytes) -> Session:
    """Read a session file as hostile input; SessionError (one line) on the first problem."""
    origin = upload_name(name)
    try:
        return _loads(data, origin)
    except SessionError as exc:
        raise SessionError(f"{origin}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the backstop: an upload never reaches a traceback
        raise SessionError(f"{origin}: cannot be read as a session ({type(exc).__name__})") from None


def _loads(data: bytes, origin: str) -> Session:
    try:
        text = state.upload_text(data, MAX_SESSION_BYTES)
    except state.UploadRefused as exc:
        raise _fail(str(exc)) from None
    try:
        body = safe_yaml.load(text)
    except yaml.YAMLError as exc:
        raise _fail(f"not a valid session file{safe_yaml.where(exc)}: {safe_yaml.problem(exc)}") from None
    body = _mapping(body, "session", TOP_KEYS, TOP_KEYS)
    if body["format"] != FORMAT or body["version"] != VERSION:
        raise _fail(f"format: not a session file of this simulator (format {FORMAT}, version {VERSION})")
    reps = _int(body["replications"], "replications", 2, runs.MAX_REPS)
    seed = _int(body["seed"], "seed", 0, MAX_SEED)
    docs = body["documents"]
    if not isinstance(docs, dict) or not 1 <= len(docs) <= MAX_SCENARIOS:
        raise _fail(f"documents: must hold 1 to {MAX_SCENARIOS} scenarios")
    documents = {str(k): _document(d, f"documents.{_short(str(k))}") for k, d in docs.items()}
    saved = body["saved"]
    if not isinstance(saved, list) or len(saved) >= MAX_SCENARIOS:
        raise _fail(f"saved: must be a list of at most {MAX_SCENARIOS - 1} scenarios")
    parts = [("work", body["work"]), *((f"saved[{i}]", p) for i, p in enumerate(saved))]
    entries: list[Entry] = []
    results: dict[str, RunResults] = {}
    for where, part in parts:
        entry, sc = _entry(part, where, documents, origin)
        entries.append(entry)
        if isinstance(part, dict) and part.get("results") is not None:
            results[runs.run_key(sc, seed, reps)] = _results(part["results"], f"{where}.results", sc,
                                                            reps, seed)
    names = [e.name for e in entries[1:]]
    if len(set(names)) != len(names):
        raise _fail("saved: two saved scenarios have the same name")
    return Session(entries[0], entries[1:], reps, seed, results)



def restore(sess: Session, source_name: str) -> str:
    """Make the opened session this browser session's: its scenarios (levers redrawn), its run
    settings, and its results kept for this session alone. A sentence saying what came back."""
    ss = st.session_state
    work = sess.work
    work.gen = state.next_gen()
    for e in sess.saved:
        e.gen = state.next_gen()
    ss.work, ss.saved = work, sess.saved
    ss.reps, ss.seed = sess.reps, sess.seed
    ss.restored = dict(sess.results)
    ss.restored_from = upload_name(source_name)
    ss.ran = None
    ss.comparison = None
    n = len(sess.results)
    return (f"Opened the session in {upload_name(source_name)}: '{work.name}' and {len(sess.saved)} saved"
            f" scenario{'s' if len(sess.saved) != 1 else ''}, with the results of {n}"
            f" ({sess.reps} replications, seed {sess.seed}).")


def session_results() -> dict[str, RunResults]:
    """The results this session can show: restored ones and the session's latest run."""
    ss = st.session_state
    found = dict(ss.get("restored") or {})
    if ss.get("ran") is not None:
        found[ss.ran.key] = ss.ran.res
    return found
