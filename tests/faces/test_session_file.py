"""The session file read back as it was written, and a file's claims not taken on trust."""

from __future__ import annotations

import json

from sim.scenario.loading import load
from tests.helpers import BASELINE
from ui import session
from ui.state import UPLOADED, Entry

SEED = 31_337


def baseline_entry(**edits) -> Entry:
    return Entry(load(BASELINE).model_dump(mode="json"), "baseline.yaml",
                 {tuple(k.split("__")): v for k, v in edits.items()}, 0)


def test_texts_that_look_like_numbers_or_yes_come_back_as_text() -> None:
    """YAML would read 1e5 as a number and no as false; the file keeps them text."""
    work = baseline_entry(name="1e5")
    saved = [baseline_entry(name="no", description="2023-07-01")]
    data, left_out = session.dump(work, saved, 4, SEED, {})
    back = session.loads("s.json", data)
    assert left_out == []
    assert back.work.name == "1e5" and back.saved[0].name == "no"
    assert back.saved[0].doc()["description"] == "2023-07-01"
    assert back.work.doc() == work.doc() and back.saved[0].doc() == saved[0].doc()
    assert (back.reps, back.seed, back.results) == (4, SEED, {})


def test_a_changed_document_cannot_pass_for_the_library_file() -> None:
    """A file saying its scenario is the library's baseline.yaml while holding another document is
    opened as an upload, so the library's name stays the library file's (issue 16, fault 2)."""
    data, _ = session.dump(baseline_entry(), [], 4, SEED, {})
    body = json.loads(data)
    doc = next(iter(body["documents"].values()))
    doc["staff"]["ps"]["establishment"]["default"] = 12.0
    back = session.loads("other.json", json.dumps(body).encode("utf-8"))
    assert back.work.source == f"other.json{UPLOADED}" and not back.work.from_library
    untouched = session.loads("same.json", data)
    assert untouched.work.source == "baseline.yaml" and untouched.work.from_library
