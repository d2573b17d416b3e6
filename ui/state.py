"""What one user's session holds: the scenario as loaded, their edits, and their results.

Session state is per browser session, so users never see each other's edits; finished runs
are kept in a shared cache keyed by the whole scenario (ui/runs.py), which is safe to share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from sim.experiments.runner import RunResults, check_workload
from sim.scenario.loading import LIBRARY, library_files, load, loads
from sim.scenario.paths import get
from sim.scenario.schema import MAX_FILE_BYTES, Scenario, ScenarioError, validate
from ui import params, runs

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = LIBRARY
BASELINE = SCENARIO_DIR / "baseline.yaml"
LEVER_PREFIX = "lever:"
MAX_SEED = 2**53 - 1  # the largest whole number a browser holds exactly


@dataclass
class Ran:
    """A finished run as the session shows it."""

    key: str
    res: RunResults
    doc: dict
    seconds: float
    from_cache: bool
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)


def scenario_files() -> dict[str, Path]:
    """Scenario files in scenarios/, the baseline first, by file name (no symlinks)."""
    return library_files()


def init() -> None:
    """Start a session on the baseline, with the app's default replications."""
    ss = st.session_state
    if "original" not in ss:
        sc = load(BASELINE)
        _set_original(sc.model_dump(mode="json"), BASELINE.name)
        ss.reps = runs.DEFAULT_REPS
        ss.page = "Results"
        ss.saved = {}
        ss.ran = None
        ss.comparison = None
        ss.upload_message = None


def _set_original(doc: dict, source: str) -> None:
    ss = st.session_state
    ss.original = doc
    ss.source = source
    ss.edits = {}
    ss.seed = min(int(doc["run"]["seed"]), MAX_SEED)
    for k in [k for k in ss if isinstance(k, str) and k.startswith(LEVER_PREFIX)]:
        del ss[k]


def load_file(name: str) -> str | None:
    """Load a scenario from scenarios/ into the session; an error message if it is refused."""
    path = scenario_files().get(name)
    if path is None:
        return f"{name}: no such scenario in scenarios/"
    try:
        sc = load(path)
    except ScenarioError as exc:
        return str(exc)
    _set_original(sc.model_dump(mode="json"), name)
    return None


def parse_upload(name: str, data: bytes) -> Scenario:
    """Check an uploaded scenario as the command line checks a file, with nothing on the server
    reachable from it.

    The upload's own name is shown only as printable text; the bytes are size-checked before
    they are decoded, decoded as UTF-8, and read by the one hardened YAML reader
    (sim.scenario.safe_yaml: nesting, aliases, value count, non-finite numbers, YAML 1.1 surprises);
    its `extends` may name only a library scenario by its bare name (sim.scenario.loading), and the
    validated scenario must pass the same workload check as every command. Every refusal is
    one line; no upload of any kind may raise anything else, so a last guard turns an
    unexpected exception into one line too (without the server's paths).
    """
    origin = upload_name(name)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{origin}: file is {len(data):,} bytes, larger than the"
                            f" {MAX_FILE_BYTES:,}-byte limit; it was not read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{origin}: not a text file (it is not UTF-8: byte {exc.start:,} cannot be"
                            " read); it was not read") from None
    try:
        sc = loads(text, origin, None)
        check_workload(sc, origin)
        return sc
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 - the backstop: an upload never reaches a traceback
        raise ScenarioError(f"{origin}: cannot be read ({type(exc).__name__})") from None


def upload_name(name: str) -> str:
    """The uploaded file's name as it may be shown: its last part, printable, at most 80 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    shown = "".join(c if c.isprintable() else "?" for c in base)[:80]
    return shown or "uploaded file"


def accept_upload(name: str, data: bytes) -> str | None:
    """Load an uploaded scenario into the session; on any problem leave everything as it was."""
    try:
        sc = parse_upload(name, data)
    except ScenarioError as exc:
        return str(exc)
    _set_original(sc.model_dump(mode="json"), f"{upload_name(name)} (uploaded)")
    return None


def edits() -> dict[params.Path_, Any]:
    return st.session_state.edits


def set_edit(path: params.Path_, value: Any) -> None:
    """Record a lever's value: kept only while it differs from the file's."""
    ss = st.session_state
    try:
        same = params.same(get(ss.original, path), value)
    except (KeyError, TypeError):
        same = False
    if path[-1] == params.SCALE:
        same = params.same(value, 1.0)
    elif path[-1] == params.SUMMER:
        same = params.same(value, 0.0)
    if same:
        ss.edits.pop(path, None)
    else:
        ss.edits[path] = value


def reset_edits() -> None:
    ss = st.session_state
    ss.edits = {}
    for k in [k for k in ss if isinstance(k, str) and k.startswith(LEVER_PREFIX)]:
        del ss[k]


def current_doc() -> dict:
    return params.apply_edits(st.session_state.original, st.session_state.edits)


def plain_doc() -> dict:
    """The document with edits but without the "% change" and "summer" adjustments on top."""
    ss = st.session_state
    return params.apply_edits(ss.original, {k: v for k, v in ss.edits.items()
                                            if k[-1] not in (params.SCALE, params.SUMMER)})


def current() -> tuple[dict, Scenario | None, str | None]:
    """The edited scenario: its document, the validated scenario (or None) and any error."""
    doc = current_doc()
    try:
        return doc, validate(doc, "edited scenario"), None
    except ScenarioError as exc:
        return doc, None, str(exc)


def to_yaml(doc: dict) -> str:
    """The scenario as a YAML file that loads again with `python -m sim check` or the app."""
    header = ("# Scenario saved from the front-door simulator app.\n"
              "# Every number carries its unit, plausible range and provenance; a value changed in\n"
              "# the app has provenance 'judgement' and a note giving the file's value.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
