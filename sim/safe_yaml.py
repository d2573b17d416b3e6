"""A YAML loader for hand-edited and uploaded scenario files: safe, bounded and strict.

On top of PyYAML's safe loader (plain data only: no Python objects, nothing executed) it
refuses what would make a small file expensive or ambiguous:

* nesting deeper than MAX_DEPTH (a scenario is about ten levels deep; thousands of levels
  would exhaust the parser's recursion);
* more than MAX_ALIASES aliases, an alias that refers to its own anchor (a structure that
  contains itself) and aliases that would expand to more than MAX_EXPANDED_NODES nodes (the
  "billion laughs" pattern: a few lines that stand for millions of values);
* the same key twice in one mapping (YAML would silently keep the last one);
* values YAML cannot read as the type it gives them (a date of 30 February, `!!int abc`, an
  integer with thousands of digits).

Every refusal is a `yaml.YAMLError` with the line and column, so the caller's existing
"not valid YAML at line L, column C: ..." message covers it.

Where PyYAML has its libyaml binding (the published wheels do), documents are parsed in C,
about ten times faster: depth and aliases are then checked on libyaml's event stream before
any node is composed, so a deeply nested file never reaches the recursive composer. The
pure-Python loader below does the same checks while composing and is used otherwise.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 50
MAX_ALIASES = 1_000
MAX_EXPANDED_NODES = 1_000_000
MERGE_TAG = "tag:yaml.org,2002:merge"


class _Checks:
    """The checks made on composed nodes and while constructing values (both loaders)."""

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None and getattr(self, "_aliases", 1):
            size = expanded_size(node)
            if size > MAX_EXPANDED_NODES:
                raise ComposerError(None, None, f"its aliases expand to {size:,} values, more than"
                                    f" {MAX_EXPANDED_NODES:,}", node.start_mark)
        return node

    # -- constructing: duplicate keys and values that do not convert ------------------------------
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: dict[tuple[str, str], Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == MERGE_TAG:
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping", node.start_mark,
                        f"the key {key_node.value!r} appears twice (first at line"
                        f" {seen[key].line + 1}); YAML would silently keep only the last",
                        key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError) as exc:
            shown = node.value if isinstance(node, ScalarNode) else node.tag
            if isinstance(shown, str) and len(shown) > 40:
                shown = shown[:37] + "..."
            what = node.tag.rsplit(":", 1)[-1]
            raise ConstructorError(None, None, f"{shown!r} is not a valid {what} ({_one_line(exc)})",
                                   node.start_mark) from None


class BoundedSafeLoader(_Checks, yaml.SafeLoader):
    """yaml.SafeLoader with depth, alias, duplicate-key and conversion checks."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._open_anchors: set[str] = set()

    # -- composing: depth and aliases ------------------------------------------------------------
    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name) in one file",
                                    event.start_mark)
            if event.anchor in self._open_anchors:
                raise ComposerError(None, None, f"alias *{event.anchor} refers to the block that"
                                    " contains it (a value cannot contain itself)", event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(anchor)


CParser = getattr(yaml, "CSafeLoader", None)

if CParser is not None:

    class BoundedCSafeLoader(_Checks, CParser):  # type: ignore[valid-type,misc]
        """yaml.CSafeLoader with the same checks; depth and aliases by `check_events` first."""


def check_events(text: str) -> int:
    """Depth, alias count and self-containing aliases, from libyaml's (non-recursive) events.

    Returns the number of aliases (none: no expansion to measure)."""
    depth, aliases, open_anchors = 0, 0, []
    for event in yaml.parse(text, Loader=CParser):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name) in one file",
                                    event.start_mark)
            if event.anchor in open_anchors:
                raise ComposerError(None, None, f"alias *{event.anchor} refers to the block that"
                                    " contains it (a value cannot contain itself)", event.start_mark)
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                    event.start_mark)
            open_anchors.append(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            open_anchors.pop()
        elif isinstance(event, yaml.ScalarEvent) and depth + 1 > MAX_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                event.start_mark)
    return aliases


def expanded_size(root: Node) -> int:
    """How many nodes the document would have with every alias written out in full."""
    memo: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in memo:
            continue
        kids = _children(node)
        if children_done or not kids:
            memo[id(node)] = 1 + sum(memo[id(k)] for k in kids)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in memo)
    return memo[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def load(text: str) -> Any:
    """Parse one YAML document with the bounded loader; any refusal is a yaml.YAMLError."""
    try:
        if CParser is not None:
            aliases = check_events(text)
            loader: Any = BoundedCSafeLoader(text)
            loader._aliases = aliases
        else:
            loader = BoundedSafeLoader(text)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError) as exc:
        raise yaml.YAMLError(f"could not be read: {_one_line(exc)}") from None
    try:
        return loader.get_single_data()
    except yaml.YAMLError:
        raise
    except RecursionError:
        raise yaml.YAMLError(f"nested too deeply to read (more than {MAX_DEPTH} levels)") from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise yaml.YAMLError(f"could not be read: {_one_line(exc)}") from None
    finally:
        loader.dispose()
