"""Every setting a user can change is named in plain English, once, in the schema.

The app's labels (ui.params.label), the command line and docs/model.md all read the titles of
sim.scenario.schema's fields and the names beside its key sets; these tests say that every
settable path of the baseline reaches a title there (never a variable name), that names are
distinct where a reader sees them side by side, and that a few names a user knows stay put.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import UnionType
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from sim.experiments.levers import LEVERS
from sim.measures.metrics import MEASURES, POOL_LABELS
from sim.scenario import schema
from sim.scenario.loading import load
from sim.scenario.params import Duration
from sim.scenario.schema import Scenario, setting_title
from ui import charts, params
from ui.state import BASELINE


@pytest.fixture(scope="module")
def doc() -> dict:
    return load(BASELINE).model_dump(mode="json")


def settable_paths(doc: Mapping) -> list[tuple[str, ...]]:
    """What a user can set: each setting the assumptions table lists, each share of a set of
    shares (the sensitivity table names them one by one) and each random duration as a whole."""
    out: list[tuple[str, ...]] = []
    for path, node in params.walk(doc):
        out.append(path)
        if path[-1] == "distribution" and path[:-1] not in out:
            out.append(path[:-1])
        if isinstance(node, Mapping) and isinstance(node.get("value"), Mapping) and "default" not in node:
            out.extend((*path, k) for k in node["value"])
    return out


def _unwrap(annotation: Any) -> Any:
    args = get_args(annotation)
    if isinstance(annotation, UnionType):  # an optional block: X | None
        return next(a for a in args if a is not type(None))
    return args[0] if args and hasattr(annotation, "__metadata__") else annotation


def schema_steps(path: tuple[str, ...]) -> list[tuple[str, str]]:
    """Along a path, what names each step: ("title", text) for a schema field, ("key", text) for
    a key named by its key set, ("part", text) for a part of a random duration."""
    steps: list[tuple[str, str]] = []
    node: Any = Scenario
    names: Mapping[str, str] = {}
    share_names: Mapping[str, str] = {}
    for seg in path:
        if get_origin(node) is dict:
            steps.append(("key", names.get(seg, "")))
            node, names, share_names = _unwrap(get_args(node)[1]), share_names, {}
        elif node is Duration:
            steps.append(("part", schema.DURATION_PART_NAMES.get(seg, "")))
            node = None
        elif isinstance(node, type) and issubclass(node, BaseModel) and seg in node.model_fields:
            info = node.model_fields[seg]
            steps.append(("title", info.title or ""))
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            names, share_names = extra.get("key_names", {}), extra.get("share_names", {})
            node = _unwrap(info.annotation)
        else:  # a share of a set of shares, or a key of a mapping of numbers
            steps.append(("key", names.get(seg, "")))
            node = None
    return steps


def test_every_settable_path_is_named_by_the_schema(doc):
    paths = settable_paths(doc)
    assert len(paths) > 200
    unnamed = [(p, s) for p in paths for s in schema_steps(p) if not s[1].strip()]
    assert not unnamed, unnamed[:5]
    for p in paths:
        assert params.label(p) == setting_title(p)
        assert "_" not in params.label(p), p  # a variable name leaked into a label


def test_titles_are_unique_among_siblings():
    seen: set[type] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        titles = [info.title for info in model.model_fields.values()]
        assert len(set(titles)) == len(titles), (model.__name__, titles)
        for info in model.model_fields.values():
            for t in (info.annotation, *get_args(info.annotation)):
                t = _unwrap(t)
                if isinstance(t, type) and issubclass(t, BaseModel) and t.__module__ == schema.__name__:
                    visit(t)

    visit(Scenario)
    assert schema.StaffPool in seen and schema.ReturnShares in seen


def test_labels_of_settable_paths_are_unique(doc):
    paths = settable_paths(doc)
    labels = [params.label(p) for p in paths]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    assert not dupes


@pytest.mark.parametrize(("keys", "names"), [
    (schema.SOURCES, schema.SOURCE_NAMES), (schema.CHANNELS, schema.CHANNEL_NAMES),
    (schema.ARRIVAL_PROFILES, schema.ARRIVAL_PROFILE_NAMES), (schema.OUTCOMES, schema.OUTCOME_NAMES),
    (schema.WRITTEN_STREAMS, schema.WRITTEN_STREAM_NAMES), (schema.POOLS, schema.POOL_NAMES),
    (schema.POOLS, schema.POOL_SHORT_NAMES), (schema.POOLS, schema.POOL_WORK_NAMES),
    (schema.POOLS, schema.POOL_WORK_TEXT), (schema.POOLS, schema.POOL_POST_NAMES),
    (schema.PS_TASKS, schema.PS_TASK_NAMES),
    (schema.ASSESSMENT_OUTCOMES, schema.ASSESSMENT_OUTCOME_NAMES),
    (schema.CONCERN_SIZES, schema.CONCERN_SIZE_NAMES),
    (schema.RETURN_CATEGORIES, schema.RETURN_CATEGORY_NAMES),
])
def test_each_key_set_has_one_name_per_key(keys, names):
    assert tuple(names) == tuple(keys)
    assert all(v.strip() for v in names.values())
    assert len(set(names.values())) == len(names)


@pytest.mark.parametrize(("path", "expected"), [
    (("ppn", "quality"), "Quality of police protection notices"),
    (("run", "start"), "First reported day"),
    (("staff", "csw", "establishment"), "Consultant social workers: posts"),
    (("downstream", "strategy_meetings", "chairs", "productive_share"),
     "Strategy meeting chairs: share of on-duty time free for this work"),
    (("service", "conversation_minutes", "mean"), "Length of a phone conversation: average"),
    (("demand", "partner_phone_share", "other_agency"), "Share of other agencies contacts made by phone"),
    (("demand", "profiles", "ppn", "hour"), "Police protection notices: pattern over the day"),
    (("outcomes", "written", "police_other", "nfa"),
     "Outcomes of written contacts from other police contacts (calls and emails): no further action"),
    (("children", "returns", "cp_plan", "return_share"),
     "After a child protection plan: share of families who come back"),
    (("demand", "police_channels", "ppn_domestic"), "How police contacts arrive: domestic-abuse PPNs"),
    (("backlog", "emails_unread"), "Open at the start: emailed contacts unread"),
])
def test_labels_a_user_sees(path, expected):
    assert params.label(path) == expected


def test_groups_follow_the_schema():
    assert list(params.GROUPS) == [k for k in Scenario.model_fields if k not in ("name", "description")]
    assert params.GROUPS["backlog"] == "Work open at the start"


def test_pool_names_are_shared():
    assert POOL_LABELS is schema.POOL_SHORT_NAMES
    assert charts.POOL_WORK is schema.POOL_WORK_NAMES
    assert MEASURES["util_ps"][0] == f"Utilisation of {schema.POOL_SHORT_NAMES['ps']}"
    assert params.ROLES is schema.POOL_NAMES
    assert LEVERS["csw_posts"].label == schema.POOL_POST_NAMES["csw"]
