"""The October-December story: its interval rule, its config checks, and its scenario files'
citations of the seed lines (issue "change over time", item 2)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sim.experiments.story import CHI2_1_95, CONFIG, load_story, profile
from sim.scenario.loading import load
from sim.scenario.schema import ScenarioError
from tests.helpers import ROOT

EXTRACT = ROOT / "calibration" / "seed_003_extract.txt"
STORY_FILES = ("as_reported_2023.yaml", "as_reported_2023_capacity.yaml")


def test_the_interval_holds_the_values_whose_best_score_is_within_chi2_of_the_best():
    grid = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3], "b": [0, 1, 0, 1, 0, 1],
                         "score": [10.0, 9.0, 5.0, 6.0, 5.0 + CHI2_1_95 - 0.01, 30.0]})
    (lo, hi), pinned = profile(grid, "a")
    assert (lo, hi) == (2, 3) and pinned  # a=1's best, 9.0, is more than 3.84 above 5.0
    (lo, hi), pinned = profile(grid, "b")
    assert (lo, hi) == (0, 1) and not pinned  # both values of b fit: not pinned


def test_the_story_config_loads_and_a_bad_one_is_refused_in_one_line(tmp_path):
    cfg = load_story(CONFIG)
    assert cfg.months == ("2023-10", "2023-11", "2023-12")  # fitted only to October-December
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.read_text("utf-8").replace("reps: 6", "reps: 1"), "utf-8")
    with pytest.raises(ScenarioError, match=r"^story config .*: reps: Input should be greater"):
        load_story(bad)
    big = tmp_path / "big.yaml"
    big.write_text(CONFIG.read_text("utf-8").replace("values: [0.4, 0.5, 0.6, 0.7, 0.8]",
                                                     "values: [" + ", ".join(["0.5"] * 40) + "]", 1),
                   "utf-8")
    with pytest.raises(ScenarioError, match=r"readings 'better practice': 280 grid points; at most 200"):
        load_story(big)


def _extract() -> dict[int, str]:
    out = {}
    for line in EXTRACT.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            n, text = line.split("\t", 1)
            out[int(n)] = text
    return out


@pytest.mark.parametrize("name", STORY_FILES)
def test_each_dated_change_cites_a_seed_line_that_says_what_it_quotes(name):
    sc = load(ROOT / "scenarios" / name)
    lines = _extract()
    assert sc.changes
    for ch in sc.changes:
        assert ch.provenance == "calibrated" and "fitted to October-December" in ch.note
        cited = re.search(r'seed 003 line (\d+): "([^"]+)"', " ".join(ch.source.split()))
        assert cited, ch.source
        n, quote = int(cited.group(1)), cited.group(2)
        assert n in lines, f"line {n} is not in the seed extract"
        assert " ".join(lines[n].split()).find(quote[:60]) >= 0, (n, quote)


def test_the_story_section_replaces_its_old_self_and_leaves_the_rest_of_the_report():
    from sim.experiments.report import SECTION, section_of, with_section

    report = "# Report\n\nheld-out validation\n"
    one = f"{SECTION[0]}\nfirst\n{SECTION[1]}"
    two = f"{SECTION[0]}\nsecond\n{SECTION[1]}"
    once = with_section(report, one)
    assert once.startswith(report.rstrip("\n")) and section_of(once) == one
    twice = with_section(once + "\nafter\n", two)
    assert section_of(twice) == two and "first" not in twice
    assert twice.count(SECTION[0]) == 1 and "held-out validation" in twice and "after" in twice


def test_the_library_files_hold_the_sizes_the_last_fit_found_best():
    cfg = load_story(CONFIG)
    grid = pd.read_csv(ROOT / "calibration" / "october_december_grid.csv")
    for reading in cfg.readings:
        sc = load((CONFIG.parent / reading.scenario).resolve())
        rows = grid[grid["reading"] == reading.name]
        best = rows.loc[rows["score"].idxmin()]
        for f in reading.free:
            ch = sc.changes[f.change]
            column = ch.setting + (" from" if f.field == "from_date" else "")
            held = getattr(ch, f.field)
            if f.field == "value":
                assert held == pytest.approx(float(best[column])), (reading.name, column)
            else:
                assert str(held) == str(best[column]), (reading.name, column)
