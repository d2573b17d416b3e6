"""A scenario or document with settings set by path, validated: `with_values`.

The path functions themselves (`parts`, `dotted`, `get`, `assign`, `set_value`, `set_values`,
`PathError`) are in sim.scenario.docpaths, which the schema's own checks use too; they are
re-exported here so a caller needs one import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.scenario.docpaths import (
    Key,
    Path,
    PathError,
    assign,
    dotted,
    get,
    parts,
    set_value,
    set_values,
)
from sim.scenario.schema import Scenario, validate

__all__ = ["Key", "Path", "PathError", "assign", "dotted", "get", "parts", "set_value",
           "set_values", "with_values"]


def _describe(values: Mapping[Path, Any]) -> str:
    text = ", ".join(f"{dotted(p)} = {v!r}" for p, v in values.items())
    return text if len(text) <= 120 else text[:117] + "..."


def with_values(scenario: Scenario | Mapping, values: Mapping[Path, Any],
                origin: str | None = None) -> Scenario:
    """The scenario (or document) with each path set to its value, validated.

    A bad path or a value the schema refuses raises one `ScenarioError` line; it starts with
    `origin`, by default the scenario's name and the values set ("baseline with a.b = 1: ...").
    """
    doc = scenario.model_dump(mode="python") if isinstance(scenario, Scenario) else scenario
    name = doc.get("name", "scenario")
    origin = origin if origin is not None else f"{name} with {_describe(values)}"
    try:
        new = set_values(doc, values)
    except PathError as exc:
        raise PathError(f"{origin}: {exc}") from None
    return validate(new, origin)
