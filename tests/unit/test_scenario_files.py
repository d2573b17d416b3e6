"""The scenario library as files a service manager edits by hand: every scenario loads, every
file reads at 100 columns with long texts folded, and the baseline's calibrated numbers live in
its calibration overlay, which the hand-edited file extends (issue "the house", item 8)."""

from __future__ import annotations

import os

import pytest
import yaml

from sim.experiments.calibrate import CONFIG, load_config
from sim.scenario import safe_yaml
from sim.scenario.loading import LIBRARY, OVERLAY_SUFFIX, OVERLAYS, library_files, load, loads
from sim.scenario.paths import get
from sim.scenario.schema import ScenarioError
from tests.helpers import BASELINE

PARSERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if getattr(yaml, "CSafeLoader", None) is not None:
    PARSERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))

OVERLAY_FILES = sorted((LIBRARY / OVERLAYS).glob(f"*{OVERLAY_SUFFIX}"))
FILES = [*library_files().values(), *OVERLAY_FILES]
WIDTH = 100
FITTED_KEYS = {"value", "default", "provenance", "source", "note"}


@pytest.mark.parametrize("path", list(library_files().values()), ids=lambda p: p.stem)
def test_every_library_scenario_loads(path):
    sc = load(path)
    assert sc.name and sc.run.start <= sc.run.end


def test_the_library_lists_scenarios_only_not_the_calibration_overlays():
    assert OVERLAY_FILES, "the baseline's calibration overlay is missing"
    assert not any(name.endswith(OVERLAY_SUFFIX) for name in library_files())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_reads_at_100_columns(path):
    long = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > WIDTH]
    assert not long, f"{path.name}: lines {long} are longer than {WIDTH} characters"


@pytest.mark.parametrize("parser", PARSERS)
def test_every_file_reads_as_pyyaml_reads_it(parser):
    """Folded texts and wrapped lists included, the hardened reader and PyYAML agree."""
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        assert safe_yaml.load(text, parser) == yaml.load(text, Loader=yaml.SafeLoader), path


@pytest.mark.parametrize("parser", PARSERS)
def test_a_folded_source_is_one_line_of_text(parser):
    text = ("source: >-\n  seed 003, police contacts table: July-December 2023;\n"
            "  other months # not a comment\n  2024) take the mean.\nnext: 1\n")
    assert safe_yaml.load(text, parser) == {
        "source": "seed 003, police contacts table: July-December 2023; other months # not a comment"
                  " 2024) take the mean.", "next": 1}


# --- the calibration overlay -------------------------------------------------------------------

def _fitted_paths() -> list[str]:
    cfg = load_config(CONFIG)
    params = (*cfg.free_parameters, *cfg.downstream_parameters)
    return [t for p in params for t in ([p.path] if p.path else p.paths)]


def _sourced(node, path=""):
    """Every setting (a mapping with a provenance) in a document, by its dotted path."""
    if isinstance(node, dict):
        if "provenance" in node:
            yield path, node
            return
        for k, v in node.items():
            yield from _sourced(v, f"{path}.{k}" if path else str(k))


def test_the_overlay_holds_only_the_calibrated_numbers_of_the_calibrated_settings():
    overlay = safe_yaml.load(OVERLAY_FILES[0].read_text(encoding="utf-8"))
    settings = dict(_sourced(overlay))
    assert sorted(settings) == sorted(_fitted_paths())
    for path, node in settings.items():
        assert set(node) <= FITTED_KEYS, path
        assert node["provenance"] == "calibrated" and "python -m sim calibrate" in node["source"], path


def test_the_hand_edited_baseline_states_no_calibrated_number():
    own = safe_yaml.load(BASELINE.read_text(encoding="utf-8"))
    assert own["extends"] == OVERLAY_FILES[0].name
    cfg = load_config(CONFIG)
    for p in (*cfg.free_parameters, *cfg.downstream_parameters):
        fitted = "default" if p.kind == "monthly_default" else "value"
        for path in [p.path] if p.path else p.paths:
            node = get(own, path)
            assert not set(node) & {fitted, "provenance", "source", "note"}, path
            assert {"range", "unit"} <= set(node), path  # what the hand-edited file keeps


def test_every_calibrated_setting_of_the_baseline_comes_from_the_overlay():
    doc = load(BASELINE).model_dump(mode="python")
    calibrated = sorted(p for p, node in _sourced(doc) if node["provenance"] == "calibrated")
    assert calibrated == sorted(_fitted_paths())


def test_scenarios_extending_the_baseline_have_its_calibrated_numbers():
    base = load(BASELINE)
    for name in ("channel_shift", "baseline_2024", "police_cotriage", "staffing_minus2"):
        sc = load(LIBRARY / f"{name}.yaml")
        assert sc.outcomes.written == base.outcomes.written, name
        assert sc.staff["ps"].establishment == base.staff["ps"].establishment, name
        assert sc.children.returns == base.children.returns, name
    assert loads("extends: baseline\n", "upload.yaml") == base


def test_a_copy_of_the_baseline_elsewhere_extends_the_librarys_overlay(tmp_path):
    copy = tmp_path / "baseline.yaml"
    copy.write_bytes(BASELINE.read_bytes())
    assert load(copy) == load(BASELINE)


def _overlay_with_other_posts() -> tuple[str, float]:
    """The library's overlay with its practice supervisor establishment moved two posts off the
    calibrated value (read from the overlay, so it holds whatever the calibration last wrote)."""
    doc = safe_yaml.load(OVERLAY_FILES[0].read_text(encoding="utf-8"))
    node = doc["staff"]["ps"]["establishment"]
    other = node["default"] + 2.0
    node["default"] = other
    return yaml.safe_dump(doc, sort_keys=False, width=WIDTH), other


def test_an_overlay_beside_a_copy_is_used_before_the_librarys(tmp_path):
    (tmp_path / OVERLAYS).mkdir()
    (tmp_path / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    text, other = _overlay_with_other_posts()
    assert load(BASELINE).staff["ps"].establishment.default != other
    (tmp_path / OVERLAYS / OVERLAY_FILES[0].name).write_text(text, encoding="utf-8")
    assert load(tmp_path / "baseline.yaml").staff["ps"].establishment.default == other


def test_a_calibrated_folder_that_is_a_symlink_is_passed_over(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    text, other = _overlay_with_other_posts()
    (elsewhere / OVERLAY_FILES[0].name).write_text(text, encoding="utf-8")
    here = tmp_path / "here"
    here.mkdir()
    (here / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    os.symlink(elsewhere, here / OVERLAYS)
    assert load(here / "baseline.yaml") == load(BASELINE)  # the library's overlay, not the linked one
    # the linked overlay is one a plain folder would have used (so the check above can fail)
    plain = tmp_path / "plain"
    (plain / OVERLAYS).mkdir(parents=True)
    (plain / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    (plain / OVERLAYS / OVERLAY_FILES[0].name).write_text(text, encoding="utf-8")
    assert load(plain / "baseline.yaml").staff["ps"].establishment.default == other


def test_the_overlay_named_as_a_scenario_says_which_file_to_give():
    with pytest.raises(ScenarioError) as err:
        load(OVERLAY_FILES[0])
    msg = str(err.value)
    assert "\n" not in msg and "calibration overlay" in msg and "give baseline.yaml" in msg
