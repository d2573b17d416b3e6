"""Documents written from the code, so they cannot drift from it: the table of every setting of a
scenario (the app's assumptions table, docs/model.md 3.3) and the definitions of the measures
(docs/model.md 2.6).

A setting is named by its schema title (sim.scenario.schema.setting_title) and shown with the
value, unit, plausible range, provenance and source its scenario file gives; a measure by its
label, unit and definition in sim.measures.metrics. `python -m sim docs` rewrites the generated
sections of docs/model.md (between `<!-- generated: NAME (python -m sim docs) -->` and
`<!-- end generated -->`) from the baseline scenario, and `--check` says which is out of date.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sim.measures.metrics import (
    COMPARISON_DEFINITIONS,
    COMPARISON_MEASURES,
    DEFINITIONS,
    MEASURES,
    POOL_LABELS,
    POOL_MEASURES,
    SUMMABLE,
)
from sim.measures.posts import FTE_HOURS_A_MONTH
from sim.scenario.loading import LIBRARY, load
from sim.scenario.paths import PathError, get, parts
from sim.scenario.schema import (
    ASSESSMENT_OUTCOME_NAMES,
    CHANNEL_NAMES,
    CONCERN_SIZE_NAMES,
    OUTCOME_NAMES,
    SOURCE_NAMES,
    Scenario,
    setting_description,
    setting_title,
)

Path_ = tuple[str, ...]
MODEL_DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"
BASELINE = LIBRARY / "baseline.yaml"

# names of the keys of any shares, for a value shown without its path ("phone 0.05, email 0.03")
SHARE_KEY_NAMES = {**CHANNEL_NAMES, **SOURCE_NAMES, **OUTCOME_NAMES, **ASSESSMENT_OUTCOME_NAMES,
                   **CONCERN_SIZE_NAMES}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# the headings of the scenario's blocks, in the schema's order
GROUPS = {name: str(info.title) for name, info in Scenario.model_fields.items()
          if name not in ("name", "description")}
# units of the settings that are not sourced numbers (a sourced number states its own)
SETTING_UNITS = {("calendar", "working_weekdays"): "days", ("run", "seed"): "number",
                 ("run", "reps"): "replications", ("abandonment", "max_attempts"): "calls",
                 ("service", "ps_priority"): "order", ("calendar", "bank_holidays"): "calendar",
                 ("run", "start"): "date", ("run", "end"): "date"}


def _human(word: str) -> str:
    return word.replace("_", " ")


def settings(doc: Mapping, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every setting of a scenario document: each sourced parameter once (not its parts), the
    shape of each random duration, and every other leaf."""
    for key, val in doc.items():
        p = (*path, key)
        if p in (("name",), ("description",)):
            continue
        if p == ("changes",) and isinstance(val, list | tuple):
            yield from (((*p, str(i)), ch) for i, ch in enumerate(val))  # each dated change, sourced
        elif isinstance(val, Mapping) and "provenance" in val:
            yield p, val
        elif isinstance(val, Mapping) and "distribution" in val:
            yield (*p, "distribution"), val["distribution"]
            yield from settings({k: v for k, v in val.items() if k != "distribution"}, p)
        elif isinstance(val, Mapping):
            yield from settings(val, p)
        else:
            yield p, val


def number_text(v: Any) -> str:
    """A number as a reader expects it: thousands separated, no false precision."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def value_text(node: Any) -> str:
    """The value of a setting or sourced parameter in words and numbers."""
    if not isinstance(node, Mapping):
        if isinstance(node, list | tuple):
            return ", ".join(number_text(v) for v in node)
        return number_text(node)
    val = node.get("value")
    if isinstance(val, Mapping) and "default" in node:
        months = "; ".join(f"{m}: {number_text(v)}" for m, v in sorted(val.items()))
        steps = node.get("steps") or {}
        if steps:  # a level that changes from a month on: say when, or two files read alike
            levels = "; ".join(f"from {m}: {number_text(v)}" for m, v in sorted(steps.items()))
            return (f"{number_text(node['default'])} before {min(steps)}; {levels}"
                    + (f"; single months {months}" if months else ""))
        return f"{number_text(node['default'])} in any month not listed" + (f"; {months}" if months else "")
    if isinstance(val, Mapping):
        return ", ".join(f"{SHARE_KEY_NAMES.get(k, _human(k))} {number_text(v)}" for k, v in val.items())
    if isinstance(val, list | tuple):
        return ", ".join(number_text(v) for v in val)
    return number_text(val)


def range_text(node: Any) -> str:
    """The plausible range a sourced parameter states ("" for a setting without one)."""
    if not isinstance(node, Mapping) or "range" not in node:
        return ""
    rng = node["range"]
    if isinstance(rng, Mapping):
        return ", ".join(f"{SHARE_KEY_NAMES.get(k, _human(k))} {number_text(lo)} to {number_text(hi)}"
                         for k, (lo, hi) in rng.items())
    return f"{number_text(rng[0])} to {number_text(rng[1])}"


def setting_changes(original: Mapping, edited: Mapping) -> list[dict[str, str]]:
    """Every setting that differs between two scenario documents, by plain-English name (the
    app's list of changes and the board report's "what this scenario changes")."""
    rows = []
    if original.get("name") != edited.get("name"):
        rows.append({"setting": "Scenario name", "file value": str(original.get("name", "")),
                     "value used": str(edited.get("name", "")), "unit": ""})
    for path, node in settings(edited):
        try:
            before = get(original, path)
        except PathError:
            before = None
        a = value_text(before) if before is not None else ""
        b = value_text(node)
        if a != b:
            rows.append({"setting": title(edited, path), "file value": a, "value used": b,
                         "unit": _unit(edited, path, node)})
    return rows


def title(doc: Mapping, path: Path_) -> str:
    """A setting's plain-English name; a dated change's is its setting's with its dates."""
    if len(path) == 2 and path[0] == "changes":
        ch = get(doc, path)
        when = f"from {ch['from_date']}" + (f", moving evenly to it by {ch['to_date']}"
                                             if ch.get("to_date") else "")
        return f"{setting_title(parts(str(ch['setting'])))} ({ch['setting']}), {when}"
    return setting_title(path)


def _unit(doc: Mapping, path: Path_, node: Any) -> str:
    if not isinstance(node, Mapping):
        return SETTING_UNITS.get(path, "")
    if path[:1] == ("changes",) and not node.get("unit"):
        try:  # a dated change in its setting's unit unless it states its own
            return str(get(doc, parts(str(node["setting"]))).get("unit", ""))
        except (PathError, AttributeError):
            return ""
    return node.get("unit", "")


def _setting_value(path: Path_, node: Any) -> str:
    if path == ("calendar", "working_weekdays"):
        return ", ".join(WEEKDAYS[d] for d in node if 0 <= d < 7)
    if path == ("run", "seed"):
        return str(node)
    return value_text(node)


def parameter_rows(doc: Mapping) -> list[dict[str, str]]:
    """One row per setting: plain-English name, value, unit, plausible range, provenance, source."""
    rows = []
    for path, node in settings(doc):
        sourced = isinstance(node, Mapping)
        rows.append({
            "group": GROUPS.get(path[0], _human(path[0]).capitalize()),
            "setting": title(doc, path),
            "value": _setting_value(path, node),
            "unit": _unit(doc, path, node),
            "plausible range": range_text(node),
            "provenance": node.get("provenance", "") if sourced else "setting",
            "source": node.get("source", "") if sourced else "",
            "note": node.get("note", "") if sourced else "",
            "path": ".".join(path),
        })
    return rows


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell: one line, `|` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)]


def parameter_table(doc: Mapping) -> str:
    """docs/model.md 3.3: every setting of a scenario document, with its full source."""
    rows = parameter_rows(doc)
    counts = Counter(r["provenance"] for r in rows if r["provenance"] != "setting")
    order = ("reported", "national", "calibrated", "judgement")
    settings_only = sum(1 for r in rows if r["provenance"] == "setting")
    lines = [
        f"Of the {sum(counts.values())} sourced numbers in the baseline, "
        + f"{counts.get(order[0], 0)} are {order[0]}, "
        + ", ".join(f"{counts.get(p, 0)} {p}" for p in order[1:-1])
        + f" and {counts.get(order[-1], 0)} {order[-1]}"
        + f"; {settings_only} further settings (dates, switches, the shape of a random duration,"
        " the order of work) have provenance \"setting\" and no source. One row per setting, as in"
        " the app's assumptions table; a setting's name is its title in `sim/scenario/schema.py`,"
        " followed by what it means where the schema says; the source is the scenario file's, in"
        " full, with its note where it has one.",
        "",
    ]
    body = []
    for r in rows:
        desc = setting_description(tuple(r["path"].split(".")))
        name = f"{r['setting']} — {desc}" if desc else r["setting"]
        source = r["source"] + (f" Note: {r['note']}" if r["note"] else "")
        body.append([r["group"], f"{name} (`{r['path']}`)", r["value"], r["unit"], r["plausible range"],
                     r["provenance"], source or "–"])
    lines += _table(["group", "setting", "baseline", "unit", "plausible range", "provenance", "source"], body)
    return "\n".join(lines)


_SETTING_REF = re.compile(r"\{([a-z0-9_]+(?:\.[a-z0-9_]+)+)\}")


def _setting_ref(doc: Mapping, path: str) -> str:
    """A setting named in a measure's definition: its path and the baseline's value."""
    node = get(doc, tuple(path.split(".")))
    value = node.get("value") if isinstance(node, Mapping) else node
    if path.endswith("_hour") and isinstance(value, int | float):
        text = f"{int(value):02d}:{round(60 * (value - int(value))):02d}"
    elif isinstance(value, str):
        text = f"`{value}`"
    else:
        text = number_text(value)
    return f"`{path}` = {text}"


def measure_definitions(doc: Mapping) -> str:
    """docs/model.md 2.6: every measure's key, label, unit and exact definition (one row per
    measure; the measures of the staff pools one row per kind, `<pool>` in the key)."""
    def defined(text: str) -> str:
        return _SETTING_REF.sub(lambda m: _setting_ref(doc, m.group(1)), text)

    pool_keys = {f"{prefix}{p}" for prefix in POOL_MEASURES for p in POOL_LABELS}
    body = [[f"`{k}`", label, unit, defined(DEFINITIONS[k])] for k, (label, unit) in MEASURES.items()
            if k not in pool_keys]
    body += [[f"`{prefix}<pool>`", label.format(pool="<pool>"), unit, defined(text)]
             for prefix, (label, unit, text) in POOL_MEASURES.items()]
    pools = ", ".join(f"`{p}` ({name})" for p, name in POOL_LABELS.items())
    compared = [[f"`{k}`", label, unit, defined(COMPARISON_DEFINITIONS[k])]
                for k, (label, unit) in COMPARISON_MEASURES.items()]
    summed = ", ".join(f"`{k}`" for k in MEASURES if k in SUMMABLE and k not in pool_keys)
    return "\n".join([*_table(["measure", "label", "unit", "exact definition"], body), "",
                      f"Pools (`<pool>`): {pools}. In a definition, `a.b.c` = v is a scenario setting the"
                      " measure depends on, with its value in the baseline.", "",
                      "A comparison (`python -m sim compare`, the app's Compare page) adds, for each"
                      " scenario against the first (the reference), replication by replication:", "",
                      *_table(["measure", "label", "unit", "exact definition"], compared), "",
                      "Each is given per month, as a monthly average over the period (`all months`) and,"
                      " for the measures that add up, as a total over the period (`period total`: each"
                      " replication's months summed, then the mean and 95% interval across replications;"
                      f" the paired difference likewise). Those that add up: {summed},"
                      " `overtime_hours_<pool>` and the two above.", "",
                      f"One full-time post = {FTE_HOURS_A_MONTH.value:g} {FTE_HOURS_A_MONTH.unit}"
                      f" (range {FTE_HOURS_A_MONTH.range[0]:g} to {FTE_HOURS_A_MONTH.range[1]:g},"
                      f" {FTE_HOURS_A_MONTH.provenance}): {FTE_HOURS_A_MONTH.source}"
                      f" {FTE_HOURS_A_MONTH.note}"])


SECTIONS: dict[str, Callable[[Mapping], str]] = {"measures": measure_definitions,
                                                  "parameters": parameter_table}
_SECTION = re.compile(r"(<!-- generated: (\w+) \(python -m sim docs\) -->\n)(.*?)(<!-- end generated -->)",
                      re.S)


class DocumentError(ValueError):
    """A document that has lost a generated section's markers (one line naming it)."""


def baseline_doc() -> dict:
    """The baseline scenario as a document, read as the command line reads it."""
    return load(BASELINE).model_dump(mode="json")


def regenerated(text: str, doc: Mapping) -> str:
    """The text with every generated section rewritten from the code and `doc`."""
    found = [m.group(2) for m in _SECTION.finditer(text)]
    missing = [name for name in SECTIONS if name not in found]
    if missing:
        raise DocumentError(f"no generated section {missing[0]!r} (its markers are missing)")

    def one(m: re.Match) -> str:
        make = SECTIONS.get(m.group(2))
        return m.group(0) if make is None else f"{m.group(1)}{make(doc)}\n{m.group(4)}"

    return _SECTION.sub(one, text)


def stale_sections(text: str, doc: Mapping) -> list[str]:
    """The generated sections whose text differs from what the code writes now."""
    now = {m.group(2): m.group(3) for m in _SECTION.finditer(regenerated(text, doc))}
    was = {m.group(2): m.group(3) for m in _SECTION.finditer(text)}
    return [name for name in SECTIONS if was.get(name) != now.get(name)]


def check(path: Path = MODEL_DOC, doc: Mapping | None = None) -> list[str]:
    """The out-of-date generated sections of the document at `path` (none: it is current)."""
    return stale_sections(path.read_text(encoding="utf-8"), baseline_doc() if doc is None else doc)


def write(path: Path = MODEL_DOC, doc: Mapping | None = None) -> list[str]:
    """Rewrite the generated sections of the document at `path` in place; the sections changed.

    The new text goes to a temporary file beside it, renamed over it at the end, so the
    document is never left half-written.
    """
    text = path.read_text(encoding="utf-8")
    doc = baseline_doc() if doc is None else doc
    changed = stale_sections(text, doc)
    if not changed:
        return []
    new = regenerated(text, doc)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(new)
        os.chmod(tmp, path.stat().st_mode & 0o7777)  # keep the document's permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return changed
