"""docs/model.md's parameter table (3.3) and measure definitions (2.6) are written by the code.

The committed document must be what `python -m sim docs` writes now; the table must hold every
setting of the baseline once; `--check` must notice a doctored copy and name the section. Tests
work on copies in a temporary folder: the real document is only read.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping

import pytest

from sim import cli
from sim.experiments import documents
from sim.measures.metrics import DEFINITIONS, MEASURES, POOL_MEASURES
from sim.scenario.schema import POOLS

ROW_PATH = re.compile(r"\(`([a-z0-9_.]+)`\) \|")


@pytest.fixture(scope="module")
def baseline() -> dict:
    return documents.baseline_doc()


@pytest.fixture
def copy(tmp_path):
    path = tmp_path / "model.md"
    shutil.copyfile(documents.MODEL_DOC, path)
    return path


def _sourced(node: object, path: tuple[str, ...] = ()) -> list[str]:
    """Every sourced number of a document (a mapping with provenance), found independently."""
    if not isinstance(node, Mapping):
        return []
    if "provenance" in node:
        return [".".join(path)]
    return [p for k, v in node.items() for p in _sourced(v, (*path, k))]


def test_committed_document_is_what_the_generator_writes(baseline):
    text = documents.MODEL_DOC.read_text(encoding="utf-8")
    assert documents.stale_sections(text, baseline) == [], "run: python -m sim docs"
    assert documents.regenerated(text, baseline) == text


def test_table_has_one_row_per_setting_of_the_baseline(baseline):
    table = documents.parameter_table(baseline)
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| group")]
    paths = [m.group(1) for line in rows for m in [ROW_PATH.search(line)] if m]
    assert len(paths) == len(rows)  # every row names its setting's path
    assert len(set(paths)) == len(paths)
    assert sorted(paths) == sorted(".".join(p) for p, _ in documents.settings(baseline))
    assert set(_sourced(baseline)) <= set(paths)
    assert len(_sourced(baseline)) > 100
    assert all(line.count(" | ") == 6 for line in rows)  # seven cells: no unescaped | in a source


def test_table_shows_the_baselines_values_and_sources(baseline):
    table = documents.parameter_table(baseline)
    quality = baseline["ppn"]["quality"]
    row = next(line for line in table.splitlines() if "(`ppn.quality`)" in line)
    assert "Quality of police protection notices" in row
    assert f"| {quality['value']:g} |" in row and quality["provenance"] in row
    assert " ".join(quality["source"].split()).replace("|", "\\|") in row


def test_every_measure_is_defined(baseline):
    assert list(DEFINITIONS) == list(MEASURES)
    assert all(text.strip() for text in DEFINITIONS.values())
    text = documents.measure_definitions(baseline)
    assert "{" not in text  # every setting a definition names is found in the baseline
    plain = [k for k in MEASURES if not any(k == f"{pre}{p}" for pre in POOL_MEASURES for p in POOLS)]
    for key in plain:
        assert f"| `{key}` | {MEASURES[key][0]} | {MEASURES[key][1]} |" in text
    for prefix in POOL_MEASURES:
        assert f"| `{prefix}<pool>` |" in text


def test_check_passes_on_a_current_copy(copy, capsys):
    assert cli.main(["docs", "--check", "--file", str(copy)]) == 0
    assert "current" in capsys.readouterr().out


@pytest.mark.parametrize(("section", "old", "new"), [
    ("parameters", "(`ppn.quality`) |", "(`ppn.quality`) | 0.99 |"),
    ("measures", "| `contacts` | Contacts received |", "| `contacts` | Contacts counted |"),
])
def test_check_fails_on_a_doctored_copy_and_names_the_section(copy, capsys, section, old, new):
    text = copy.read_text(encoding="utf-8")
    assert text.count(old) == 1
    copy.write_text(text.replace(old, new), encoding="utf-8")
    assert cli.main(["docs", "--check", "--file", str(copy)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"'{section}'" in err[0]
    other = ({"parameters", "measures"} - {section}).pop()
    assert f"'{other}'" not in err[0]


def test_docs_rewrites_only_the_generated_sections(copy, capsys):
    original = copy.read_text(encoding="utf-8")
    doctored = original.replace("| `contacts` | Contacts received |", "| `contacts` | stale |")
    heading = ("### 3.4 Assumptions and simplifications", "### 3.4 Assumptions (kept)")
    doctored = doctored.replace(*heading)
    copy.write_text(doctored, encoding="utf-8")
    assert cli.main(["docs", "--file", str(copy)]) == 0
    assert "measures" in capsys.readouterr().out
    assert copy.read_text(encoding="utf-8") == original.replace(*heading)  # the rest kept as it was
    assert [p.name for p in copy.parent.iterdir()] == ["model.md"]  # no temporary file left behind
    assert cli.main(["docs", "--check", "--file", str(copy)]) == 0


def test_a_document_without_the_markers_is_an_input_error(tmp_path, capsys):
    path = tmp_path / "model.md"
    path.write_text("# no generated sections\n", encoding="utf-8")
    assert cli.main(["docs", "--check", "--file", str(path)]) == cli.EXIT_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "measures" in err[0]
    assert path.read_text(encoding="utf-8") == "# no generated sections\n"
