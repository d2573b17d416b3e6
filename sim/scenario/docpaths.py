"""Reading and setting one setting of a scenario document by its path: the one way to do it.

(sim.scenario.paths adds `with_values`, which validates the result; it re-exports all of this.)

A scenario document is the dict form of `sim.scenario.schema.Scenario` (its `model_dump()`, or
a file as read). A setting's path names the keys from the top, as a dotted string
("staff.ps.establishment.default") or a tuple (("staff", "ps", "establishment", "default")); a
list in the document (the working weekdays, a range) is entered by a whole-number index
("calendar.working_weekdays.0"). Levers, sensitivity, calibration and the app's edits all set
their numbers through here, so a path means the same everywhere and a wrong one says so the same
way.

- `get(doc, path)`: the node at a path (itself, not a copy).
- `set_value(doc, path, value)` and `set_values(doc, {path: value, ...})`: a new document with
  the values set; the input document and the values given are left untouched.
- `assign(doc, path, value)`: set in place, for a document the caller owns (a copy it made,
  or a comment-keeping YAML document being written back).

A path that is not in the document raises `PathError` (a `ScenarioError`, and a `KeyError` so a
caller probing for an optional setting can catch it as one), naming the path, the first key
missing and the keys that exist there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any, TypeAlias

from sim.scenario.errors import ScenarioError

Key: TypeAlias = str | int
Path: TypeAlias = str | Sequence[Key]
"""A setting's path: "a.b.0.c" or ("a", "b", 0, "c")."""

_SHOWN_KEYS = 12  # the most existing keys a PathError lists


class PathError(ScenarioError, KeyError):
    """A path that is not in the document: which path, where it stops, and what is there."""

    __str__ = Exception.__str__  # a plain one-line message, not KeyError's quoted repr


def parts(path: Path) -> tuple[Key, ...]:
    """A path as a tuple of keys ("a.b.0" -> ("a", "b", "0"); a tuple is kept; "" -> ())."""
    if isinstance(path, str):
        return tuple(path.split(".")) if path else ()
    return tuple(path)


def dotted(path: Path) -> str:
    """A path as a dotted string, the way errors and labels show it."""
    return path if isinstance(path, str) else ".".join(str(k) for k in path)


def _missing(path: Path, keys: tuple[Key, ...], i: int, node: Any) -> PathError:
    where = dotted(keys[:i]) or "the top level"
    if isinstance(node, Mapping):
        names = [str(k) for k in node]
        shown = ", ".join(names[:_SHOWN_KEYS]) + (", ..." if len(names) > _SHOWN_KEYS else "")
        has = f"it has {shown}" if names else "it is empty"
        return PathError(f"no setting {dotted(path)}: {where} has no key {keys[i]!r} ({has})")
    if isinstance(node, Sequence) and not isinstance(node, str):
        return PathError(f"no setting {dotted(path)}: {where} is a list of {len(node)} entries and"
                         f" {keys[i]!r} is not an index from 0 to {len(node) - 1}")
    return PathError(f"no setting {dotted(path)}: {where} is a single value ({type(node).__name__}),"
                     f" with no key {keys[i]!r}")


def _child_key(node: Any, key: Key) -> Key | None:
    """The key or index of `node` that `key` names, or None if it names nothing there."""
    if isinstance(node, Mapping):
        if key in node:
            return key
        if isinstance(key, int) and str(key) in node:
            return str(key)
        return None
    if isinstance(node, Sequence) and not isinstance(node, str):
        try:
            index = int(key)
        except (TypeError, ValueError):
            return None
        if str(index) != str(key) or not 0 <= index < len(node):
            return None  # "-1", " 1" or past the end
        return index
    return None


def get(doc: Mapping, path: Path) -> Any:
    """The node at `path` in `doc` (the node itself: mutating it mutates the document).

    The empty path is the whole document.
    """
    keys = parts(path)
    node: Any = doc
    for i, key in enumerate(keys):
        k = _child_key(node, key)
        if k is None:
            raise _missing(path, keys, i, node)
        node = node[k]
    return node


def assign(doc: MutableMapping, path: Path, value: Any) -> None:
    """Set the setting at `path` to `value` in place; the path's parent must exist.

    Only an existing key of a mapping or an existing list entry can be set, so a misspelt path
    raises `PathError` here rather than adding a setting the schema would refuse later.
    """
    keys = parts(path)
    if not keys:
        raise PathError("an empty path names no setting")
    parent = get(doc, keys[:-1])
    k = _child_key(parent, keys[-1])
    if k is None:
        raise _missing(path, keys, len(keys) - 1, parent)
    if isinstance(parent, MutableMapping | MutableSequence):
        parent[k] = value
    else:  # a tuple (a range as dumped): replaced whole in its own parent
        items = list(parent)
        items[k] = value
        assign(doc, keys[:-1], type(parent)(items))


def set_values(doc: Mapping, values: Mapping[Path, Any] | Iterable[tuple[Path, Any]]) -> dict:
    """A new document with each path set to its value, in the order given.

    Neither `doc` nor the values are mutated or shared with the result (both are copied).
    """
    out = copy.deepcopy(dict(doc))
    items = values.items() if isinstance(values, Mapping) else values
    for path, value in items:
        assign(out, path, copy.deepcopy(value))
    return out


def set_value(doc: Mapping, path: Path, value: Any) -> dict:
    """A new document with the setting at `path` set to `value` (`doc` untouched)."""
    return set_values(doc, [(path, value)])


