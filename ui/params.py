"""Every setting of a scenario in plain English, and edits applied to a scenario document.

A scenario document is the dict form of `sim.scenario.schema.Scenario` (its `model_dump(mode="json")`).
The app never edits it in place: it keeps the document as loaded plus a mapping of edits
(path -> new value), so "what did I change?" always has an exact answer, the changes can be
reset, and the assumptions table and workbook can say what was changed and from what.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.experiments import documents
from sim.scenario.params import month_value
from sim.scenario.paths import PathError, assign, get
from sim.scenario.schema import POOL_NAMES, SOURCE_NAMES, WRITTEN_STREAM_NAMES, setting_title

Path_ = tuple[str, ...]

# The app's names for the pieces of a scenario (never shown as variable names): the schema's,
# written once in sim.scenario.schema beside the key sets and fields they name.
ROLES = POOL_NAMES
SOURCES = SOURCE_NAMES
STREAMS = WRITTEN_STREAM_NAMES
WEEKDAYS = documents.WEEKDAYS
SHARE_KEY_NAMES = documents.SHARE_KEY_NAMES
GROUPS = documents.GROUPS
SETTING_UNITS = documents.SETTING_UNITS


def label(path: Path_) -> str:
    """Plain-English name of a setting, from its path in the scenario (the schema's titles)."""
    return setting_title(path)


# ---------------------------------------------------------------------------------------------
# reading and writing a document by path


# (`get` and `assign` are sim.scenario.paths', the one way every part of the project walks a path)


def sourced_parent(doc: Mapping, path: Path_) -> Path_ | None:
    """The nearest enclosing parameter (a mapping with provenance) of a path, if any."""
    for n in range(len(path), 0, -1):
        node = get(doc, path[:n])
        if isinstance(node, Mapping) and "provenance" in node:
            return tuple(path[:n])
    return None


SCALE = "*scale"      # multiply a monthly count (default and every listed month) by a factor
SUMMER = "*summer"    # add to a monthly share in July and August of every year in the run
POSTS = "*posts"      # whole posts added to (or taken from) a role from one month to another:
                      # {"change": -2, "from": "2023-08", "to": "2023-12"}


def run_months(doc: Mapping) -> list[str]:
    """Every calendar month the run simulates, warm-up and run-on included (YYYY-MM)."""
    start = pd.Timestamp(doc["run"]["start"]) - pd.Timedelta(days=float(doc["run"]["warmup_days"]["value"]))
    end = pd.Timestamp(doc["run"]["end"]) + pd.Timedelta(days=float(doc["run"]["cooldown_days"]["value"]))
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def reported_months(doc: Mapping) -> list[str]:
    """The months whose measures are reported (the run's start to end)."""
    return [p.strftime("%Y-%m") for p in pd.period_range(pd.Timestamp(doc["run"]["start"]),
                                                         pd.Timestamp(doc["run"]["end"]), freq="M")]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def apply_edits(original: Mapping, edits: Mapping[Path_, Any]) -> dict:
    """The document with every edit applied; changed parameters are marked as set in the app.

    A changed number can no longer claim to be "reported" or "calibrated": its provenance
    becomes "judgement" and its note says what the file held, so the assumptions table and the
    downloaded YAML stay honest about what the user set.
    """
    doc = copy.deepcopy(dict(original))
    special = []
    for path, value in edits.items():
        if path[-1] in (SCALE, SUMMER, POSTS):
            special.append((path, value))
            continue
        try:
            old = get(original, path)
        except PathError:
            continue
        if same(old, value):
            continue
        assign(doc, path, copy.deepcopy(value))
        _mark(doc, original, path, old)
    for path, value in special:
        node_path = path[:-1]
        try:
            node = get(doc, node_path)
        except PathError:
            continue
        if path[-1] == SCALE and not same(value, 1.0):
            node["default"] = round(node["default"] * value, 6)
            node["value"] = {m: round(v * value, 6) for m, v in node["value"].items()}
            node["steps"] = {m: round(v * value, 6) for m, v in (node.get("steps") or {}).items()}
            _mark(doc, original, node_path, f"x{value:g} of the file's values")
        elif path[-1] == SUMMER and not same(value, 0.0):
            months = [m for m in run_months(doc) if m[5:] in ("07", "08")]
            node["value"] = {**node["value"],
                             **{m: round(month_value(node, m) + value, 6)
                                for m in months}}
            _mark(doc, original, node_path, f"+{value:g} in July and August")
        elif path[-1] == POSTS and not posts_unchanged(value):
            months = [m for m in reported_months(doc) if value["from"] <= m <= value["to"]]
            node["value"] = {**node["value"],
                             **{m: round(month_value(node, m) + value["change"], 6)
                                for m in months}}
            _mark(doc, original, node_path,
                  f"{value['change']:+g} posts from {value['from']} to {value['to']}")
    return doc


def posts_unchanged(value: Any) -> bool:
    """A "whole posts from month X to month Y" change that changes nothing (no posts, or no months)."""
    return (not isinstance(value, Mapping) or same(value.get("change", 0), 0)
            or value.get("from", "") > value.get("to", ""))


def _mark(doc: dict, original: Mapping, path: Path_, old: Any) -> None:
    parent = sourced_parent(doc, path)
    if parent is None:
        return
    node = get(doc, parent)
    was = get(original, parent).get("provenance")
    if isinstance(old, dict):
        old = json.dumps(old) if old else "none listed"
    prior = node.get("note", "")
    change = f"changed in the app (file: {old}, {was})"
    node["note"] = change if not prior or "changed in the app" in prior else f"{change}; {prior}"
    node["provenance"] = "judgement"


def changes(original: Mapping, edited: Mapping) -> pd.DataFrame:
    """Every setting that differs between two documents, by plain-English name."""
    return pd.DataFrame(documents.setting_changes(original, edited),
                        columns=["setting", "file value", "value used", "unit"])


# ---------------------------------------------------------------------------------------------
# the assumptions table


# one definition of a setting's value, range and row, shared with docs/model.md 3.3
walk = documents.settings
_value_of = documents.value_text
_range_of = documents.range_text


PROVENANCE_WORDS = {
    "reported": "reported by the service",
    "national": "national statistic",
    "judgement": "judgement",
    "calibrated": "fitted to the reported months",
    "setting": "model setting",
}


def assumptions(doc: Mapping) -> pd.DataFrame:
    """One row per setting: plain-English name, value, unit, plausible range, provenance, source."""
    table = pd.DataFrame(documents.parameter_rows(doc))
    for col in ("source", "note"):
        if col in table:
            table[col] = table[col].map(lambda v: plain_source(v) if isinstance(v, str) else v)
    return table


# The public documents the scenario files cite by their number in shared/seeds/, named as a
# reader knows them (the files' own comments say which is which).
SEED_DOCUMENTS = {"003": "the Trust's report for July to December 2023"}
_SEED = re.compile(r"\bseeds? (\d{3})\b")


def plain_source(text: str) -> str:
    """A source as a reader can follow it: "seed 003" becomes the document's name."""
    return _SEED.sub(lambda m: SEED_DOCUMENTS.get(m.group(1), f"public document {m.group(1)}"), text)
