"""What one user's session holds: the scenario as loaded, their edits, and their results.

Session state is per browser session, so users never see each other's edits; finished runs
are kept in a shared cache keyed by the whole scenario (ui/runs.py), which is safe to share.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import yaml

from sim.runner import RunResults
from sim.scenario import MAX_FILE_BYTES, Scenario, ScenarioError, load, loads, validate
from ui import params, runs

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "scenarios"
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
    """Scenario files in scenarios/, the baseline first, by file name."""
    files = sorted(SCENARIO_DIR.glob("*.yaml"), key=lambda p: (p.name != "baseline.yaml", p.name))
    return {p.name: p for p in files}


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


# Limits on an uploaded file's shape, checked on the YAML event stream before anything is built
# from it. A scenario holds a few thousand values nested about six deep; the limits leave ample
# room for that and refuse alias bombs ("billion laughs"), absurd nesting and giant numbers.
MAX_NESTING = 16
MAX_VALUES = 100_000
MAX_NUMBER_CHARS = 100
_NUMBERISH = re.compile(r"[-+]?[0-9_.]+([eE][-+]?[0-9_]+)?")


def check_shape(text: str, origin: str) -> None:
    """Refuse, with one line, YAML whose expansion, nesting or numbers are out of all proportion.

    Counts every value as the aliases (`*name`) would expand it, without building it, so an
    alias bomb is refused after a few events. Malformed YAML is left to the scenario loader,
    which names the line and the problem.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: dict[str, int] = {}
    stack: list[list] = []  # per open mapping or sequence: [values inside, anchor]
    values = 0
    aliases = 0

    def add(n: int, line: int) -> None:
        nonlocal values
        values += n
        for frame in stack:
            frame[0] += n
        if values > MAX_VALUES:
            how = (f"its aliases (*name) expand it to more than {MAX_VALUES:,} values" if aliases
                   else f"it holds more than {MAX_VALUES:,} values")
            raise ScenarioError(f"{origin}: {how} by line {line} (a scenario holds a few thousand);"
                                " it was not read")

    try:
        for ev in yaml.parse(text, Loader=loader):
            line = ev.start_mark.line + 1 if ev.start_mark is not None else 0
            if isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_NESTING:
                    raise ScenarioError(f"{origin}: settings are nested more than {MAX_NESTING} levels deep"
                                        f" at line {line} (a scenario needs about six); it was not read")
                add(1, line)
                stack.append([1, ev.anchor])
            elif isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                n, anchor = stack.pop()
                if anchor:
                    sizes[anchor] = n
            elif isinstance(ev, yaml.ScalarEvent):
                v = ev.value
                if (ev.implicit[0] and len(v) > MAX_NUMBER_CHARS and _NUMBERISH.fullmatch(v)):
                    raise ScenarioError(f"{origin}: a number of {len(v):,} characters at line {line};"
                                        " it was not read")
                add(1, line)
                if ev.anchor:
                    sizes[ev.anchor] = 1
            elif isinstance(ev, yaml.AliasEvent):
                aliases += 1
                add(sizes.get(ev.anchor, 1), line)
    except yaml.YAMLError:
        return  # the loader gives the precise message


def _finite(node: Any, path: tuple[str, ...], origin: str) -> None:
    """Refuse NaN and infinity anywhere in the file, naming where."""
    if isinstance(node, float) and not math.isfinite(node):
        where = ".".join(path) or "(top level)"
        raise ScenarioError(f"{origin}: {where}: got {node}; every number must be finite"
                            " (not NaN or infinity)")
    if isinstance(node, dict):
        for k, v in node.items():
            _finite(k, path, origin)
            _finite(v, (*path, str(k)), origin)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _finite(v, (*path, str(i)), origin)


def parse_upload(name: str, data: bytes) -> Scenario:
    """Check an uploaded scenario as the command line does, and more strictly.

    Refused, with one line naming the problem, before the file is turned into anything: files
    over the size limit, text that is not UTF-8, YAML whose aliases expand beyond reason (an
    alias bomb), absurd nesting and giant numbers. Then, after the safe YAML loader has read it:
    NaN or infinity anywhere, and an `extends:` that names anything but a scenario file in
    scenarios/ (an upload must not make the server read its other files). Nothing in an upload
    is ever executed: the safe loader builds only plain data.
    """
    origin = Path(name).name or "uploaded file"
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{origin}: file is {len(data):,} bytes, larger than the"
                            f" {MAX_FILE_BYTES:,}-byte limit; it was not read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{origin}: not a text file (it is not UTF-8: byte {exc.start:,} cannot be"
                            " read); it was not read") from None
    check_shape(text, origin)
    try:
        head = yaml.safe_load(text)
    except yaml.YAMLError:
        head = None  # loads below gives the precise message
    except (ValueError, RecursionError) as exc:  # a backstop: no upload may raise anything else
        raise ScenarioError(f"{origin}: cannot be read ({str(exc).splitlines()[0][:120]})") from None
    _finite(head, (), origin)
    if isinstance(head, dict) and "extends" in head:
        parent = head["extends"]
        allowed = scenario_files()
        if not isinstance(parent, str) or parent not in allowed:
            raise ScenarioError(f"{origin}: extends: {parent!r} must name a scenario file in scenarios/"
                                f" ({', '.join(allowed)})")
    try:
        return loads(text, origin, SCENARIO_DIR)
    except ScenarioError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        raise ScenarioError(f"{origin}: cannot be read ({str(exc).splitlines()[0][:120]})") from None


def accept_upload(name: str, data: bytes) -> str | None:
    """Load an uploaded scenario into the session; on any problem leave everything as it was."""
    try:
        sc = parse_upload(name, data)
    except ScenarioError as exc:
        return str(exc)
    _set_original(sc.model_dump(mode="json"), f"{Path(name).name} (uploaded)")
    return None


def edits() -> dict[params.Path_, Any]:
    return st.session_state.edits


def set_edit(path: params.Path_, value: Any) -> None:
    """Record a lever's value: kept only while it differs from the file's."""
    ss = st.session_state
    try:
        same = params.same(params.get(ss.original, path), value)
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
