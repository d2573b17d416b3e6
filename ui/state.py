"""What one user's session holds: the scenario being worked on, the scenarios saved for
comparison, and their results.

A scenario in the session is an `Entry`: a document as read from a file (a library file or an
upload) and the user's own changes to it, kept apart so "what did I change?" always has an
exact answer. The session holds one entry being worked on (`work`) and a list of saved ones
(`saved`), each with its own changes; every action below touches exactly one of them.

| action                  | acts on              | after it                                              |
|-------------------------|----------------------|-------------------------------------------------------|
| Load a library file     | work                 | work is that file, no changes; its levers redrawn     |
| Upload, accepted        | work                 | work is the upload, no changes; its levers redrawn    |
| Upload, refused         | nothing              | everything as before; one line says why               |
| Undo every change       | work                 | work is its file again (name too); levers redrawn     |
| Move a lever, rename    | work                 | that one change recorded on work (or dropped if equal |
|                         |                      | to the file)                                          |
| Save for comparison     | saved (appends)      | a copy of work, under its name; refused if the name   |
|                         |                      | is held by another saved scenario or, for a changed   |
|                         |                      | scenario, by a library file                           |
| Add from the library    | saved (appends)      | the file, unchanged; refused only if already saved    |
| Rename a saved one      | that saved entry     | its name; refused if another saved one has the name   |
| Remove a saved one      | that saved entry     | gone from the list; work and the others untouched     |
| Open a saved one        | work                 | work is a copy of it (its changes kept); redrawn      |
| Open a session file     | work, saved, results | all replaced by the file's (ui/session.py); redrawn   |
| Open one, refused       | nothing              | everything as before; one line says why               |

"Redrawn" means the lever widgets get new keys (the entry's `gen`), so nothing a browser still
holds for the old widgets can come back as a change. A library file's name belongs to that file
alone: a changed scenario must be renamed before it is saved, so the library baseline can always
be added as the reference and a column headed "baseline" is always the library's baseline.

Session state is per browser session, so users never see each other's edits; finished runs
are kept in a shared cache keyed by the whole scenario (ui/runs.py), which is safe to share.
"""

from __future__ import annotations

import copy
import os
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
UPLOADED = " (uploaded)"


@dataclass
class Entry:
    """One scenario of the session: the document as read, where from, and the user's changes."""

    original: dict
    source: str                 # a library file name, or "<name> (uploaded)"
    edits: dict[params.Path_, Any] = field(default_factory=dict)
    gen: int = 0                # the lever widgets' generation (see the table above)

    def doc(self) -> dict:
        """The document with every change applied."""
        return params.apply_edits(self.original, self.edits)

    @property
    def name(self) -> str:
        return str(self.edits.get(("name",), self.original["name"]))

    @property
    def from_library(self) -> bool:
        return not self.source.endswith(UPLOADED)

    def changes(self) -> pd.DataFrame:
        return params.changes(self.original, self.doc())

    def copy(self, gen: int) -> Entry:
        return Entry(copy.deepcopy(self.original), self.source, copy.deepcopy(self.edits), gen)


@dataclass
class Ran:
    """A finished run as the session shows it: the results and what produced them."""

    key: str
    res: RunResults
    doc: dict
    seconds: float
    from_cache: bool
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""
    restored_from: str = ""   # the session file the results were opened from, if they were
    first_seconds: float | None = None  # when the first figures were shown, if before the end


def scenario_files() -> dict[str, Path]:
    """Scenario files in scenarios/, the baseline first, by file name (no symlinks)."""
    return library_files()


def library_names() -> set[str]:
    """The names library scenarios go by (a file without a name field takes its file's)."""
    return {Path(n).stem for n in scenario_files()}


def default_reps(doc: dict) -> int:
    """The replications the file suggests (`run.reps`, as the command line uses), unless the
    server sets FRONT_DOOR_REPS (tests run fewer)."""
    if os.environ.get("FRONT_DOOR_REPS"):
        return runs.DEFAULT_REPS
    return max(2, min(int(doc["run"]["reps"]), runs.MAX_REPS))


def init() -> None:
    """Start a session on the baseline, with its own replications and seed."""
    ss = st.session_state
    if "work" not in ss:
        ss.gen = 0
        ss.work = _entry(load(BASELINE).model_dump(mode="json"), BASELINE.name)
        ss.reps = default_reps(ss.work.original)
        ss.seed = min(int(ss.work.original["run"]["seed"]), MAX_SEED)
        ss.saved = []
        ss.ran = None
        ss.comparison = None
        ss.upload_message = None
        ss.save_message = None
        ss.restored = {}       # results opened from a session file: this session's alone
        ss.restored_from = ""
    # The replications and seed are sidebar widgets drawn after the page. Streamlit drops the
    # state of a widget a finished run did not draw unless the script set it, so a run that ends
    # before the sidebar (a page that stops early, a fragment's rerun) would put them back to
    # their lowest values; setting them here each run keeps them.
    ss.reps, ss.seed = ss.reps, ss.seed


def work() -> Entry:
    return st.session_state.work


def saved() -> list[Entry]:
    return st.session_state.saved


def next_gen() -> int:
    """A new generation for lever widgets' keys (see the table above)."""
    return _next_gen()


def _next_gen() -> int:
    ss = st.session_state
    ss.gen = int(ss.get("gen", 0)) + 1
    return ss.gen


def _entry(doc: dict, source: str) -> Entry:
    return Entry(doc, source, {}, _next_gen())


def _set_work(entry: Entry) -> None:
    """Make an entry the one worked on; the seed and replications follow its file."""
    ss = st.session_state
    ss.work = entry
    ss.seed = min(int(entry.original["run"]["seed"]), MAX_SEED)
    ss.reps = default_reps(entry.original)


def load_file(name: str) -> str | None:
    """Load a scenario from scenarios/ as the one worked on; an error message if it is refused."""
    path = scenario_files().get(name)
    if path is None:
        return f"{name}: no such scenario in scenarios/"
    try:
        sc = load(path)
    except ScenarioError as exc:
        return str(exc)
    _set_work(_entry(sc.model_dump(mode="json"), name))
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
    try:
        text = upload_text(data, MAX_FILE_BYTES)
    except UploadRefused as exc:
        raise ScenarioError(f"{origin}: {exc}") from None
    try:
        sc = loads(text, origin, None)
        check_workload(sc, origin)
        return sc
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 - the backstop: an upload never reaches a traceback
        raise ScenarioError(f"{origin}: cannot be read ({type(exc).__name__})") from None


# The validator's own phrases, as a service manager would say them (the field is named before them).
PLAIN_PHRASES = (
    (re.compile(r"Input should be a valid dictionary(?: or instance of \w+)?"),
     "must be a group of settings (indented lines under its name), not a single value"),
    (re.compile(r"Input should be a valid integer(?:, got a number with a fractional part)?"),
     "must be a whole number written in digits only (such as 20230701), with no decimal point or"
     " exponent"),
    (re.compile(r"Input should be a valid number(?:, unable to parse string as a number)?"),
     "must be a number"),
    (re.compile(r"Input should be a valid boolean(?:, unable to interpret input)?"), "must be true or false"),
    (re.compile(r"Input should be a valid date(?: or datetime)?(?:, [^;]*)?"),
     "must be a date written as YYYY-MM-DD"),
    (re.compile(r"Input should be a valid string"), "must be text"),
    (re.compile(r"Input should be a valid list"), "must be a list"),
    (re.compile(r"Input should be (greater|less) than( or equal to)? "),
     lambda m: f"must be {m.group(1)} than{m.group(2) or ''} "),
    (re.compile(r"Field required"), "is missing"),
    (re.compile(r"Extra inputs are not permitted"), "is not a setting a scenario can have"),
)


def plain_error(message: str) -> str:
    """A refusal in the words of the page: the validator's phrases replaced by plain ones."""
    for pattern, words in PLAIN_PHRASES:
        message = pattern.sub(words, message)
    return message


class UploadRefused(ValueError):
    """An uploaded file refused before it is read; the message is one line without its name."""


def upload_text(data: bytes, limit: int) -> str:
    """An upload's bytes as text, the first check of every upload (scenario or session file):
    refused if over `limit` bytes or not UTF-8, and then not read at all."""
    if len(data) > limit:
        raise UploadRefused(f"file is {len(data):,} bytes, larger than the {limit:,}-byte limit;"
                            " it was not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadRefused(f"not a text file (it is not UTF-8: byte {exc.start:,} cannot be read);"
                            " it was not read") from None


def upload_name(name: str) -> str:
    """The uploaded file's name as it may be shown: its last part, printable, at most 80 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    shown = "".join(c if c.isprintable() else "?" for c in base)[:80]
    return shown or "uploaded file"


def accept_upload(name: str, data: bytes) -> str | None:
    """Make an uploaded scenario the one worked on; on any problem leave everything as it was."""
    try:
        sc = parse_upload(name, data)
    except ScenarioError as exc:
        return plain_error(str(exc))
    _set_work(_entry(sc.model_dump(mode="json"), f"{upload_name(name)}{UPLOADED}"))
    return None


def edits() -> dict[params.Path_, Any]:
    return work().edits


def set_edit(path: params.Path_, value: Any, entry: Entry | None = None) -> None:
    """Record a lever's value on one entry (the one worked on unless named): kept only while it
    differs from the file's."""
    entry = entry or work()
    try:
        same = params.same(get(entry.original, path), value)
    except (KeyError, TypeError):
        same = False
    if path[-1] == params.SCALE:
        same = params.same(value, 1.0)
    elif path[-1] == params.SUMMER:
        same = params.same(value, 0.0)
    elif path[-1] == params.POSTS:
        same = params.posts_unchanged(value)
    if same:
        entry.edits.pop(path, None)
    else:
        entry.edits[path] = value


def reset_edits() -> None:
    """Undo every change to the one worked on; its levers are redrawn from the file."""
    w = work()
    w.edits = {}
    w.gen = _next_gen()


def current_doc() -> dict:
    return work().doc()


def plain_doc() -> dict:
    """The document with edits but without the adjustments on top ("% change", "summer", "whole
    posts from a month"), which the levers show as themselves rather than in the month tables."""
    w = work()
    return params.apply_edits(w.original, {k: v for k, v in w.edits.items()
                                           if k[-1] not in (params.SCALE, params.SUMMER, params.POSTS)})


def current() -> tuple[dict, Scenario | None, str | None]:
    """The scenario worked on: its document, the validated scenario (or None) and any error."""
    doc = current_doc()
    try:
        return doc, validate(doc, "edited scenario"), None
    except ScenarioError as exc:
        return doc, None, plain_error(str(exc))


# ---------------------------------------------------------------------------------------------
# the saved list


def _saved_named(name: str, besides: Entry | None = None) -> Entry | None:
    return next((e for e in saved() if e.name == name and e is not besides), None)


def name_refusal(entry: Entry, name: str, besides: Entry | None = None) -> str | None:
    """Why `entry` may not be saved under `name`, or None."""
    if not name.strip():
        return "A saved scenario needs a name."
    if name in library_names() and (entry.edits or not entry.from_library
                                    or Path(entry.source).stem != name):
        return (f"'{name}' is the name of a library scenario, and this one is not that file as it"
                " stands: give it a name of its own (above) and save again.")
    if _saved_named(name, besides) is not None:
        return f"A scenario called '{name}' is already saved: give this one another name and save again."
    return None


def save_work() -> str:
    """Append a copy of the one worked on to the saved list; a sentence saying what happened."""
    w = work()
    same = _saved_named(w.name)
    if same is not None and same.doc() == w.doc():
        return f"'{w.name}' is already saved, as it stands."
    why = name_refusal(w, w.name)
    if why:
        return why
    saved().append(w.copy(_next_gen()))
    return f"Saved '{w.name}' for comparison ({len(saved())} saved)."


def add_library(name: str) -> str:
    """Append a library file, unchanged, to the saved list."""
    path = scenario_files().get(name)
    if path is None:
        return f"{name}: no such scenario in scenarios/"
    try:
        entry = _entry(load(path).model_dump(mode="json"), name)
    except ScenarioError as exc:
        return str(exc)
    if _saved_named(entry.name) is not None:
        return f"'{entry.name}' is already saved."
    saved().append(entry)
    return f"Added '{entry.name}' from the library ({len(saved())} saved)."


def rename_saved(index: int, name: str) -> str:
    """Rename one saved scenario (the name is one of its changes)."""
    entry = saved()[index]
    name = name.strip()
    if name == entry.name:
        return f"'{name}' is unchanged."
    old = entry.name
    trial = entry.copy(entry.gen)
    set_edit(("name",), name, trial)
    why = name_refusal(trial, name, besides=entry)
    if why:
        return why
    set_edit(("name",), name, entry)
    return f"Renamed '{old}' to '{name}'."


def remove_saved(index: int) -> str:
    entry = saved().pop(index)
    return f"Removed '{entry.name}' from the saved scenarios ({len(saved())} left)."


def open_saved(index: int) -> None:
    """Work on a copy of a saved scenario (its changes kept); the saved one is not touched."""
    _set_work(saved()[index].copy(_next_gen()))


def to_yaml(doc: dict) -> str:
    """The scenario as a YAML file that loads again with `python -m sim check` or the app."""
    header = ("# Scenario saved from the front-door simulator app.\n"
              "# Every number carries its unit, plausible range and provenance; a value changed in\n"
              "# the app has provenance 'judgement' and a note giving the file's value.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
