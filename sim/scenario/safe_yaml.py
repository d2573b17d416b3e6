"""The one YAML reader for everything a user can hand the simulator: scenario files (command line
and app uploads), the files they extend, and calibration settings.

Why its own reader: PyYAML's loaders build documents recursively (deep nesting ends in a
RecursionError), let a value contain itself (`a: &a [*a]` is a list inside itself, which any
later walk over the document recurses on for ever), expand a few lines of aliases into millions
of values, and read YAML 1.1, where `1:20` is the number 80, `0x10` is 16, `010` is 8, `yes` is
true and `1e7` is text. Their limits also differ between PyYAML and libyaml versions.

So this module takes only the parser's *event stream* (libyaml's where installed, PyYAML's own
otherwise; neither recurses) and builds plain Python values from it in a loop, with its own
limits, which hold whatever version is installed:

* at most MAX_CHARS characters, MAX_DEPTH levels of nesting, MAX_VALUES values (counting every
  alias as the values it stands for) and MAX_ALIASES aliases;
* an alias may not refer to the block it is inside (no value contains itself), nor to an anchor
  not yet defined; an anchor is defined once;
* the same key twice in one mapping is refused (YAML would silently keep the last), and a key is
  a plain value, never a mapping or list;
* plain values are read by YAML 1.2's rules, and anything YAML 1.1 would read differently is
  refused with a hint: `yes/no/on/off` (write true or false), base-60 `1:20`, `0x`/`0o`/`0b`
  and leading-zero numbers (write decimal), so no reader can take a file to mean something other
  than what this one took it to mean. `1e7` and `5e1` are numbers; `.nan`, `.inf` and numbers too
  large for a float are refused (every number must be finite); numbers longer than
  MAX_NUMBER_CHARS are refused before conversion;
* only plain data: the tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp`,
  `!!map` and `!!seq`; anything else (`!!python/object`, `!!set`, local tags) is refused.

Every refusal is a `Refused` (a `yaml.MarkedYAMLError`) whose `problem` is one line, whose
`problem_mark` gives the line and column and whose `path` names the setting being read; parser
errors are passed on the same way, with libyaml's own nesting limit in this module's words.
Nothing else escapes `load`.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.nodes import ScalarNode

MAX_CHARS = 1_000_000       # a scenario file is about 60,000; the baseline is the largest
MAX_DEPTH = 20              # a scenario nests about eight levels (downstream.x.y.value.month)
MAX_VALUES = 100_000        # a scenario holds a few thousand values
MAX_ALIASES = 1_000
MAX_NUMBER_CHARS = 100      # the longest number a scenario needs is a seed of 20 digits

YAML_TAG = "tag:yaml.org,2002:"
PLAIN_SCALAR_TAGS = {f"{YAML_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
MAP_TAGS = {None, "!", f"{YAML_TAG}map"}
SEQ_TAGS = {None, "!", f"{YAML_TAG}seq"}
MERGE_KEY = "<<"

_INT = re.compile(r"[-+]?(0|[1-9](_?[0-9])*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9](_?[0-9])*|[0-9](_?[0-9])*(\.([0-9](_?[0-9])*)?)?)([eE][-+]?[0-9]+)?")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_BASED = re.compile(r"[-+]?0[xXoObB][0-9a-fA-F_]*")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")
_NUMBERISH = re.compile(r"[-+]?[0-9_.]+([eE][-+]?[0-9_]+)?")
_NON_FINITE = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_TRUE, _FALSE = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}
_NULL = {"", "~", "null", "Null", "NULL"}
_YAML11_BOOL = {"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"}
_TIMESTAMP = SafeConstructor.timestamp_regexp
# characters YAML does not allow in a file (YAML 1.2, 5.1), found before parsing so that the
# refusal has a line whichever parser is installed (PyYAML's own gives only an offset)
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Refused(yaml.MarkedYAMLError):
    """A document this reader will not build: `problem` says why in one line, at `problem_mark`."""

    def __init__(self, problem: str, mark: Mark | None, path: str = "") -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.path = path  # the dotted setting being read ("run.seed"), where known


def where(exc: yaml.YAMLError) -> str:
    """' at line L, column C' for an error that has a position (empty otherwise)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def problem(exc: yaml.YAMLError) -> str:
    """The error's reason on one line."""
    text = getattr(exc, "problem", None) or next(iter(str(exc).splitlines()), "")
    return " ".join(str(text).split()) or type(exc).__name__


@dataclass
class _Open:
    """A mapping or sequence being built: what it holds so far and what it must still check."""

    value: dict | list
    anchor: str | None
    mark: Mark
    size: int = 1
    key: Any = None
    has_key: bool = False
    key_mark: Mark | None = None
    merging: bool = False
    merges: list[dict] = field(default_factory=list)
    keys: dict[Any, Mark] = field(default_factory=dict)


_NO_KEY = object()


class _Builder:
    """Builds one document from parser events, in a loop, checking every limit as it goes."""

    def __init__(self) -> None:
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.values = 0
        self.aliases = 0
        self.documents = 0
        self.result: Any = None

    def feed(self, ev: yaml.Event) -> None:
        mark = ev.start_mark
        if isinstance(ev, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise Refused("more than one document (a second '---'); a file holds one scenario", mark)
        elif isinstance(ev, yaml.ScalarEvent):
            self._count(1, mark)
            value = scalar(ev)
            self._anchor(ev.anchor, value, 1, mark)
            self._attach(value, 1, mark, is_merge_key=ev.value == MERGE_KEY and ev.implicit[0]
                         and not ev.style and ev.tag is None)
        elif isinstance(ev, yaml.AliasEvent):
            self._alias(ev, mark)
        elif isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            is_map = isinstance(ev, yaml.MappingStartEvent)
            if ev.tag not in (MAP_TAGS if is_map else SEQ_TAGS):
                raise Refused(f"the tag {_tag(ev.tag)} is not allowed (a scenario file holds plain mappings,"
                              " lists and values)", mark)
            if len(self.stack) >= MAX_DEPTH:
                raise Refused(f"nested more than {MAX_DEPTH} levels deep (a scenario needs about eight)",
                              mark)
            if ev.anchor is not None and ev.anchor in self.anchors | {o.anchor: 0 for o in self.stack}:
                raise Refused(f"the anchor &{ev.anchor} is defined twice", mark)
            self._count(1, mark)
            self.stack.append(_Open({} if is_map else [], ev.anchor, mark))
        elif isinstance(ev, yaml.CollectionEndEvent):
            done = self.stack.pop()
            value = done.value
            if isinstance(value, dict) and done.merges:
                merged: dict = {}
                for src in reversed(done.merges):  # the first merged mapping wins, own keys over all
                    merged.update(src)
                merged.update(value)
                value = merged
            self._anchor(done.anchor, value, done.size, done.mark)
            self._attach(value, done.size, done.mark)

    def path(self) -> str:
        """The dotted path of the value being read: the keys and list positions above it."""
        parts = []
        for frame in self.stack:
            if isinstance(frame.value, list):
                parts.append(str(len(frame.value)))
            elif frame.has_key:
                parts.append(_key_text(frame.key))
        return ".".join(parts)

    # -- limits ------------------------------------------------------------------------------------
    def _count(self, n: int, mark: Mark) -> None:
        self.values += n
        for frame in self.stack:
            frame.size += n
        if self.values > MAX_VALUES:
            how = " with its aliases (*name) expanded" if self.aliases else ""
            raise Refused(f"it holds more than {MAX_VALUES:,} values{how} (a scenario holds a few"
                          " thousand)", mark)

    def _anchor(self, anchor: str | None, value: Any, size: int, mark: Mark) -> None:
        if anchor is None:
            return
        if anchor in self.anchors:
            raise Refused(f"the anchor &{anchor} is defined twice", mark)
        self.anchors[anchor] = (value, size)

    def _alias(self, ev: yaml.AliasEvent, mark: Mark) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise Refused(f"more than {MAX_ALIASES:,} aliases (*name) in one file", mark)
        if any(o.anchor == ev.anchor for o in self.stack):
            raise Refused(f"the alias *{ev.anchor} refers to the block that contains it (a value cannot"
                          " contain itself)", mark)
        if ev.anchor not in self.anchors:
            raise Refused(f"the alias *{ev.anchor} refers to no anchor &{ev.anchor} above it", mark)
        value, size = self.anchors[ev.anchor]
        self._count(size, mark)
        self._attach(copy.deepcopy(value), size, mark)

    # -- putting a finished value in its place -----------------------------------------------------
    def _attach(self, value: Any, size: int, mark: Mark, is_merge_key: bool = False) -> None:
        if not self.stack:
            self.result = value
            return
        parent = self.stack[-1]
        if isinstance(parent.value, list):
            parent.value.append(value)
            return
        if not parent.has_key:
            if isinstance(value, dict | list):
                raise Refused("a key must be a plain value, not a mapping or a list", mark)
            if not is_merge_key and value in parent.keys:
                first = parent.keys[value].line + 1
                raise Refused(f"the key {value!r} appears twice (first at line {first}); YAML would"
                              " silently keep only the last", mark, ".".join(filter(None, [self.path(),
                                                                                           str(value)])))
            parent.key, parent.has_key, parent.key_mark, parent.merging = value, True, mark, is_merge_key
            if not is_merge_key:
                parent.keys[value] = mark
            return
        if parent.merging:
            sources = value if isinstance(value, list) else [value]
            if not sources or not all(isinstance(s, dict) for s in sources):
                raise Refused("a merge (<<) takes a mapping or a list of mappings", mark)
            parent.merges.extend(sources)
        else:
            parent.value[parent.key] = value
        parent.key, parent.has_key, parent.merging = _NO_KEY, False, False


def scalar(ev: yaml.ScalarEvent) -> Any:
    """The value of one scalar by YAML 1.2's rules, refusing what YAML 1.1 would read otherwise."""
    text, mark, tag = ev.value, ev.start_mark, ev.tag
    if tag is not None and tag != "!" and tag not in PLAIN_SCALAR_TAGS:
        raise Refused(f"the tag {_tag(tag)} is not allowed (a scenario file holds plain values only)", mark)
    if tag in (None, "!"):
        if tag == "!" or not ev.implicit[0] or ev.style:
            return text  # quoted (or '!'): always text
        return _plain(text, mark)
    kind = tag.removeprefix(YAML_TAG)
    if kind == "str":
        return text
    value = _plain(text.strip(), mark, explicit=kind)
    ok = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
          "bool": lambda v: isinstance(v, bool), "null": lambda v: v is None,
          "timestamp": lambda v: hasattr(v, "year")}[kind]
    if not ok(value):
        raise Refused(f"{_short(text)!r} is not a valid {kind}", mark)
    return float(value) if kind == "float" else value


def _key_text(key: Any, most: int = 40) -> str:
    """A key as it is named in a message: as written when it is plain printable text, else quoted
    with its control characters escaped, so a refusal stays on one line whatever the key holds."""
    text = key if isinstance(key, str) and key and key.isprintable() else repr(key)
    return text if len(text) <= most else text[:most - 3] + "..."


def _plain(text: str, mark: Mark, explicit: str | None = None) -> Any:
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _YAML11_BOOL:
        raise Refused(f"{text!r} is read as true/false by some YAML readers and as text by others: write"
                      " true or false, or put it in quotes if it is text", mark)
    if _NON_FINITE.fullmatch(text):
        raise Refused(f"{text!r} is not a finite number (every number must be finite)", mark)
    if len(text) > MAX_NUMBER_CHARS and _NUMBERISH.fullmatch(text):
        raise Refused(f"a number of {len(text):,} characters (an integer or decimal of more than"
                      f" {MAX_NUMBER_CHARS} is out of all proportion)", mark)
    if _BASED.fullmatch(text):
        raise Refused(f"{text!r}: write numbers in decimal (YAML readers differ on 0x, 0o and 0b);"
                      " put it in quotes if it is text", mark)
    if _LEADING_ZERO.fullmatch(text):
        raise Refused(f"{text!r}: a number with a leading zero is octal to some YAML readers; write it"
                      " without the zero, or put it in quotes if it is text", mark)
    if _INT.fullmatch(text):
        return int(text.replace("_", ""))
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        value = float(text.replace("_", ""))
        if not math.isfinite(value):
            raise Refused(f"{_short(text)!r} is too large for a number (every number must be finite)",
                          mark)
        return value
    if _SEXAGESIMAL.fullmatch(text):
        raise Refused(f"{text!r} is a base-60 number to some YAML readers (1:20 is 80); put it in"
                      " quotes if it is text", mark)
    if _TIMESTAMP.fullmatch(text):
        try:
            return SafeConstructor().construct_yaml_timestamp(ScalarNode(f"{YAML_TAG}timestamp", text))
        except (ValueError, TypeError, OverflowError) as exc:
            raise Refused(f"{text!r} is not a valid date ({' '.join(str(exc).split())})", mark) from None
    if explicit:
        raise Refused(f"{_short(text)!r} is not a valid {explicit}", mark)
    return text


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix(YAML_TAG) if tag.startswith(YAML_TAG) else tag


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str, parser: type | None = None) -> Any:
    """Read one YAML document into plain values; any refusal is a `Refused` with a line.

    `parser` is the event source (default libyaml's where installed); the tests pass both."""
    if not isinstance(text, str):
        raise Refused(f"expected text, got {type(text).__name__}", None)
    if len(text) > MAX_CHARS:
        raise Refused(f"{len(text):,} characters, more than the {MAX_CHARS:,} a file may hold", None)
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        at = bad.start()
        line = text.count("\n", 0, at)
        mark = Mark("<text>", at, line, at - (text.rfind("\n", 0, at) + 1), None, None)
        raise Refused(f"the character {bad.group()!r} is not allowed in a YAML file (control characters"
                      " must be written as escapes inside double quotes)", mark)
    builder = _Builder()
    parser = None
    try:
        parser = (parser or _PARSER)(text)
        while parser.check_event():
            builder.feed(parser.get_event())
    except Refused as exc:
        exc.path = exc.path or builder.path()
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        why = problem(exc)
        if "nesting" in why or "depth" in why:  # libyaml's own limit, in this module's words
            why = f"nested more than {MAX_DEPTH} levels deep (a scenario needs about eight)"
        raise Refused(why, mark) from None  # no setting named: a syntax error's line is what is sure
    except (yaml.YAMLError, ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise Refused(f"could not be read ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})",
                      None) from None
    finally:
        if parser is not None:
            parser.dispose()
    return builder.result
