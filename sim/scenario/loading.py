"""Reading scenario files: the hardened YAML reader, `extends`, and one-line errors.

A scenario file may `extends:` another by its bare file name (one beside it, or in the
library `scenarios/`; in either place also in its `calibrated/` folder, which holds the
calibration overlays: the settings `python -m sim calibrate` fitted, in a file of their own
that the hand-edited scenario extends, so that calibrating never rewrites the hand-edited
file) and then state only what it changes; the two are deep-merged before
validation, so the result is checked as a whole (`deep_merge`: nested mappings merge key by
key, lists and single values replace, and an empty mapping replaces too, so `value: {}` on a
monthly setting clears the base file's months and leaves only its `default`). Nothing a file
says can make the simulator open a file elsewhere (no paths, `..`, absolute paths or
symlinks), and no message quotes a file the user did not name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import safe_yaml
from sim.scenario.changes import check_dates
from sim.scenario.schema import MAX_FILE_BYTES, Scenario, ScenarioError, validate


def deep_merge(base: dict, override: dict) -> dict:
    """Override wins; nested mappings merge key by key; lists and scalars are replaced.

    An empty mapping replaces what the base holds rather than merging nothing into it: it is
    how a file says "none" (`value: {}` on a monthly setting drops every month the base file
    set, so only `default` is left), and merged key by key it would silently say nothing.
    """
    out = dict(base)
    for key, val in override.items():
        if isinstance(val, dict) and val and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], val)
        else:
            out[key] = val
    return out


def ordered_like(doc: Any, like: Any) -> Any:
    """`doc` with each mapping's keys in the order `like` has them (keys `like` lacks after)."""
    if not isinstance(doc, dict):
        return doc
    like = like if isinstance(like, dict) else {}
    keys = [k for k in like if k in doc] + [k for k in doc if k not in like]
    return {k: ordered_like(doc[k], like.get(k)) for k in keys}


LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
# the folder, beside a scenario file or in the library, of the calibration overlays (files
# holding only calibrated settings, named <scenario>.calibrated.yaml); not scenarios to list
OVERLAYS = "calibrated"
OVERLAY_SUFFIX = ".calibrated.yaml"
MAX_EXTENDS = 10  # a chain of files extending one another; the library needs two
_BARE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def library_files() -> dict[str, Path]:
    """The scenario library (scenarios/*.yaml), by file name: regular files only, no symlinks."""
    found = {}
    with os.scandir(LIBRARY) as entries:
        for entry in entries:
            if entry.name.endswith(".yaml") and entry.is_file(follow_symlinks=False):
                found[entry.name] = LIBRARY / entry.name
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != "baseline.yaml", kv[0])))


def _extends_target(parent: object, origin: str, base_dir: Path | None) -> Path:
    """The file an `extends:` names: a bare file name, found by listing a folder, never by
    joining what the file says onto a path.

    Only a bare name is accepted (`baseline` or `baseline.yaml`; no folder, `..`, absolute
    path, NUL or control character). It is looked up among the regular files (not symlinks) of
    the extending file's own folder, then of the library; with no folder (an upload), the
    library alone. So nothing a file says can make the simulator open a file elsewhere."""
    if not isinstance(parent, str) or not _BARE_NAME.fullmatch(parent):
        shown = _printable(parent)
        raise ScenarioError(f"{origin}: extends: got {shown}; it must be the bare name of a scenario file"
                            " (for example baseline.yaml), with no folder, '..' or path")
    name = parent if parent.endswith(".yaml") else f"{parent}.yaml"
    for folder in _extends_folders(base_dir):
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name == name and entry.is_file(follow_symlinks=False):
                        return Path(folder) / entry.name
        except OSError:
            continue
    allowed = ", ".join(library_files())
    where = "beside it or in the library" if base_dir is not None else "in the library"
    raise ScenarioError(f"{origin}: extends: {name} is not a scenario file {where}, nor in their"
                        f" {OVERLAYS}/ folders (symlinks are not followed); the library has {allowed}")


def _extends_folders(base_dir: Path | None) -> list[Path]:
    """Where an `extends:` name is looked for, in order: the extending file's folder and its
    calibration overlays' folder, then the library's two (the library's alone for an upload).
    A `calibrated` that is a symlink, or not a folder, is passed over."""
    out = []
    for folder in ([base_dir] if base_dir is not None else []) + [LIBRARY]:
        out.append(Path(folder))
        try:
            with os.scandir(folder) as entries:
                out += [Path(folder) / e.name for e in entries
                        if e.name == OVERLAYS and e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
    return out


def extends_target(path: Path) -> Path | None:
    """The file a scenario file's `extends:` names (found as loading finds it), or None."""
    origin = str(path)
    doc = parse_yaml(read_text(path, origin), origin)
    if not isinstance(doc, dict) or "extends" not in doc:
        return None
    return _extends_target(doc["extends"], origin, path.parent)


def _printable(value: object, most: int = 60) -> str:
    """A value from a user's file, safe to print on one line: control characters escaped."""
    shown = repr(value)
    return shown if len(shown) <= most else shown[:most - 3] + "..."


def read_text(path: Path, origin: str) -> str:
    """A file's text, refused before it is read whole if it is over the size limit."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{origin}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{origin}: file is larger than the {MAX_FILE_BYTES:,}-byte limit;"
                            " it was not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{origin}: not a text file (it is not UTF-8: byte {exc.start:,} cannot be"
                            " read)") from None


def parse_yaml(text: str, origin: str) -> Any:
    """The hardened YAML reader (sim.scenario.safe_yaml), its refusal as one ScenarioError line."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ScenarioError(f"{origin}: file is larger than the {MAX_FILE_BYTES:,}-byte limit;"
                            " it was not read")
    try:
        return safe_yaml.load(text)
    except yaml.YAMLError as exc:
        setting = f"{exc.path}: " if getattr(exc, "path", "") else ""
        raise ScenarioError(f"{origin}: {setting}not valid YAML{safe_yaml.where(exc)}:"
                            f" {safe_yaml.problem(exc)}") from None


def read_document(text: str, origin: str = "<text>", base_dir: Path | None = None,
                  _seen: tuple[str, ...] = ()) -> dict:
    """Parse YAML text with the hardened reader and resolve `extends`, without validating.

    `base_dir` is the folder of the file the text came from (its `extends` may name a file
    beside it); None for text that came from no folder (an upload): it may extend only a
    library scenario. A file it extends is named in messages by its file name alone, after the
    file that extends it ("child.yaml: extends baseline.yaml: ...")."""
    doc = parse_yaml(text, origin)
    if not isinstance(doc, dict):
        raise ScenarioError(
            f"{origin}: a scenario must be a mapping of settings, got {type(doc).__name__}"
        )
    if "extends" not in doc:
        return doc
    parent = doc.pop("extends")
    path = _extends_target(parent, origin, base_dir)
    key = str(path)
    if key in _seen:
        raise ScenarioError(f"{origin}: extends: {path.name} makes a loop (it is already being extended)")
    if len(_seen) >= MAX_EXTENDS:
        raise ScenarioError(f"{origin}: extends: {path.name} would make a chain of more than"
                            f" {MAX_EXTENDS} files extending one another")
    within = f"{origin}: extends {path.name}"
    base = read_document(read_text(path, within), within, path.parent, (*_seen, key))
    merged = deep_merge(base, doc)
    if path.name.endswith(OVERLAY_SUFFIX):
        # a calibration overlay only fills in fitted numbers: the scenario keeps the layout
        # (the order of its pools, streams and settings) of the file that extends the overlay
        merged = ordered_like(merged, doc)
    return merged


def loads(text: str, origin: str = "<uploaded>", base_dir: Path | None = None) -> Scenario:
    """A scenario from text; with no `base_dir` it may extend only a library scenario."""
    sc = validate(read_document(text, origin, base_dir), origin)
    check_dates(sc, origin)
    return sc


def load(path: str | Path) -> Scenario:
    """A scenario file the user named (command line); `extends` may name a file beside it."""
    path = Path(path)
    if "\x00" in str(path):
        raise ScenarioError(f"{_printable(str(path))}: not a file name (it holds a NUL character)")
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder; give a scenario file (.yaml) in it")
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file")
    origin = str(path)
    if path.name.endswith(OVERLAY_SUFFIX):
        of = path.name.removesuffix(OVERLAY_SUFFIX) + ".yaml"
        raise ScenarioError(f"{path}: a calibration overlay (the settings `python -m sim calibrate`"
                            f" fitted, which {of} extends), not a scenario on its own; give {of}")
    doc = read_document(read_text(path, origin), origin, path.parent, (str(path.parent / path.name),))
    sc = validate(doc, origin)
    check_dates(sc, origin)
    return sc
