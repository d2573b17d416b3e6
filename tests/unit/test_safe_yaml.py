"""The one hardened YAML reader (sim/safe_yaml.py): the same values and the same refusals, each
with a line, whichever parser (libyaml or PyYAML's own) produces the events."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario import safe_yaml
from tests.helpers import ROOT

PARSERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if getattr(yaml, "CSafeLoader", None) is not None:
    PARSERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))

SHIPPED = [*sorted((ROOT / "scenarios").glob("*.yaml")), ROOT / "calibration" / "calibration.yaml"]


def refusal(text: str, parser) -> safe_yaml.Refused:
    with pytest.raises(safe_yaml.Refused) as err:
        safe_yaml.load(text, parser)
    exc = err.value
    assert "\n" not in safe_yaml.problem(exc)
    return exc


@pytest.mark.parametrize("parser", PARSERS)
def test_shipped_files_read_as_pyyaml_reads_them(parser):
    # every file the project ships has none of YAML 1.1's surprises, so both readings agree
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        assert safe_yaml.load(text, parser) == yaml.load(text, Loader=yaml.SafeLoader), path


YAML11 = {
    "reps: 1:20\n": "base-60",
    "a: 190:20:30.15\n": "base-60",
    "a: 0x10\n": "decimal",
    "a: 0o17\n": "decimal",
    "a: 0b101\n": "decimal",
    "a: 010\n": "leading zero",
    "on_duty: yes\n": "write true or false",
    "a: Off\n": "write true or false",
    "a: .nan\n": "finite",
    "a: -.inf\n": "finite",
    "a: 1e999\n": "finite",
    "a: !!float .nan\n": "finite",
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("text", list(YAML11))
def test_yaml_1_1_surprises_are_refused_at_their_line_with_a_hint(text, parser):
    exc = refusal("name: x\n" + text, parser)
    assert YAML11[text] in safe_yaml.problem(exc)
    assert safe_yaml.where(exc).startswith(" at line 2,")


@pytest.mark.parametrize("parser", PARSERS)
def test_numbers_dates_and_text_read_by_yaml_1_2_rules(parser):
    doc = safe_yaml.load(
        "a: 1e7\nb: 5e1\nc: -2.5E-3\nd: .5\ne: 1_000\nf: +3\ng: 0\nh: '0x10'\ni: \"yes\"\nj: 2023-07-01\n"
        "k: true\nl: ~\nm: 1.2.3\nn: !!str 12\no: !!int '7'\np: !!float 2\nq: [1,\t2]\n", parser)
    assert doc == {"a": 1e7, "b": 50.0, "c": -0.0025, "d": 0.5, "e": 1000, "f": 3, "g": 0, "h": "0x10",
                   "i": "yes", "j": dt.date(2023, 7, 1), "k": True, "l": None, "m": "1.2.3", "n": "12",
                   "o": 7, "p": 2.0, "q": [1, 2]}
    assert type(doc["p"]) is float and type(doc["e"]) is int


HOSTILE = {
    "11-byte self-reference": ("a: &a [*a]\n", "cannot contain itself", 1),
    "self-reference in a mapping": ("a: &a\n  b: *a\n", "cannot contain itself", 2),
    "undefined alias": ("a: *nowhere\n", "no anchor", 1),
    "anchor twice": ("a: &x 1\nb: &x 2\n", "defined twice", 2),
    "flow nesting beyond libyaml's own limit": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "levels deep", 1),
    "block nesting": ("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 60)) + " " * 60 + "c: 1\n",
                      "levels deep", safe_yaml.MAX_DEPTH + 1),
    "alias bomb": ("".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 10) + "]\n"
                           for i in range(9)), "expanded", 5),  # l4 stands for 111,111 values
    "too many values": ("a: [" + ",".join(["1"] * (safe_yaml.MAX_VALUES + 1)) + "]\n", "more than", 1),
    "many aliases": ("a: &x 1\nb: [" + ", ".join(["*x"] * 1500) + "]\n", "aliases", 2),
    "duplicate key": ("run: 1\nname: x\nrun: 2\n", "appears twice", 3),
    "a list as a key": ("? [a, b]\n: 1\n", "plain value", 1),
    "two documents": ("a: 1\n---\nb: 2\n", "more than one document", 2),
    "impossible date": ("run:\n  start: 2023-02-30\n", "not a valid date", 2),
    "bad int tag": ("a: !!int twelve\n", "not a valid int", 1),
    "python object": ("a: !!python/object/apply:os.system ['true']\n", "not allowed", 1),
    "set tag": ("a: !!set {x}\n", "not allowed", 1),
    "local tag": ("a: !thing 1\n", "not allowed", 1),
    "huge integer": ("a: " + "9" * 5000 + "\n", "a number of 5,000 characters", 1),
    "merge of a scalar": ("a: {<<: 1}\n", "merge", 1),
    "tab indentation": ("a:\n\tb: 1\n", "", 2),
    "control character": ("a: \x07\n", "", 1),
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_documents_are_refused_quickly_with_their_line(name, parser):
    text, words, line = HOSTILE[name]
    t0 = time.perf_counter()
    exc = refusal(text, parser)
    assert time.perf_counter() - t0 < 2
    assert words in safe_yaml.problem(exc)
    assert safe_yaml.where(exc).startswith(f" at line {line},"), safe_yaml.where(exc)


@pytest.mark.parametrize("parser", PARSERS)
def test_aliases_and_merges_give_independent_copies(parser):
    doc = safe_yaml.load("a: &x {b: [1]}\nc: *x\nd: {<<: *x, e: 2}\nf: {<<: [{g: 1}, {g: 2, h: 3}], h: 4}\n",
                         parser)
    assert doc == {"a": {"b": [1]}, "c": {"b": [1]}, "d": {"b": [1], "e": 2}, "f": {"g": 1, "h": 4}}
    doc["c"]["b"].append(2)
    assert doc["a"] == {"b": [1]}  # a later edit of one never changes the other


# -- any document at all: it loads, or it is refused with a line --------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("ab1 0.e-:,[]{}&*!?|>'\"#~\n\t\\x<") + ["\u00e9", "\x00"]),
                  max_size=80)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(text=YAMLISH)
def test_any_document_loads_or_is_refused_with_a_line_number(text):
    for parser in [p.values[0] for p in PARSERS]:
        try:
            doc = safe_yaml.load(text, parser)
        except safe_yaml.Refused as exc:
            # a position wherever the text has one (the parser's or this reader's)
            assert exc.problem_mark is not None, (text, exc)
            assert "\n" not in safe_yaml.problem(exc)
            continue
        _acyclic_and_finite(doc)


def _acyclic_and_finite(doc: object) -> None:
    stack, seen = [doc], set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            assert id(node) not in seen  # no value shared or inside itself
            seen.add(id(node))
            stack.extend(node.values() if isinstance(node, dict) else node)
        elif isinstance(node, float):
            assert node == node and abs(node) != float("inf")


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("key", ["\n\n", "a\tb", "\x1b[31mred", "x" * 200])
def test_a_key_that_is_not_plain_text_is_named_escaped_on_one_line(key, parser):
    # found by the fuzzer: a refusal under such a key printed the key's line breaks as they were
    text = yaml.safe_dump({key: None}).replace("null", ".Inf")
    with pytest.raises(safe_yaml.Refused) as err:
        safe_yaml.load(text, parser)
    named = err.value.path
    assert named and named.isprintable() and len(named) <= 40
    assert "\x1b" not in named
