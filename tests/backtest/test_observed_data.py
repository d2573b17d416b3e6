"""Pin the transcription of the reported figures in calibration/.

calibration/observed_monthly.csv and calibration/observed_events.csv are copied by hand
from seed 003 (Bradford Children and Families Trust improvement plan progress report,
July to December 2023). These tests check the files' shape, and re-read the seed text so
that a mistyped number, a shifted month or a wrong line citation fails.

The seed text they read is calibration/seed_003_extract.txt (the lines the checks read, each
with its original line number), so they run on any clean clone. Where the seed documents
folder ../shared/seeds is present, the extract itself is checked against the seed: every line
identical to the seed's line of that number, and no other seed line that the checks would read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
CALIBRATION = REPO / "calibration"
MONTHLY_CSV = CALIBRATION / "observed_monthly.csv"
EVENTS_CSV = CALIBRATION / "observed_events.csv"
EXTRACT = CALIBRATION / "seed_003_extract.txt"
SEEDS = REPO.parent / "shared" / "seeds"
SEED_003 = SEEDS / "003_91ed9aa609e0591f.txt"
EXTRACT_LINE = re.compile(r"^(\d+)\t(.*)$")
REDACTED = "[name removed]"  # in the extract, stands for a person's name in the seed line

MONTHS = ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"]

COUNT_MEASURES = ["contacts", "contacts_ifd_table", "police_contacts", "police_info_advice"]
PERCENT_MEASURES = [
    "pct_police_info_advice",
    "pct_contacts_to_referral",
    "pct_completed_within_1wd",
    "pct_rereferral_12m",
    "pct_strategy_on_time",
    "pct_strategy_to_s47",
    "pct_assessments_45d",
    "pct_icpc_on_time",
    "pct_icpc_to_cp_plan",
]
MEASURES = COUNT_MEASURES + PERCENT_MEASURES

# Row labels of the "How will we know we have been successful?" tables in seed 003.
# Each row reads: label <TAB> Low|High <TAB> Jul 23 ... Dec 23.
SEED_TABLE_ROWS = {
    "contacts_ifd_table": "Reduction in the number of contacts",
    "pct_contacts_to_referral": "Reduced % in contacts resulting in a referral",
    "pct_completed_within_1wd": "Increase % of contacts to IFD completed within 1 working day",
    "pct_rereferral_12m": (
        "Reduced % of referrals which were opened within 12 months of the previous referral opening"
    ),
    "pct_strategy_on_time": "Increased % in timeliness of strategy meetings",
    "pct_strategy_to_s47": "% of strategy meetings resulting in S47 enquiries",
    "pct_assessments_45d": "Increased % of Assessments completed within 45 days",
    "pct_icpc_on_time": "Improved % timeliness of ICPC",
    "pct_icpc_to_cp_plan": (
        "Increased % of Initial Child Protection Conferences resulting in a Child Protection Plan"
    ),
}

# Police contacts table: month <TAB> All Contacts <TAB> Police <TAB> % <TAB> I&A number <TAB> I&A %
POLICE_ROW = re.compile(
    r"^(July|August|September|October|November|December)\t"
    r"(\d+)\t(\d+)\t(\d+(?:\.\d+)?)%\t(\d+)\t(\d+(?:\.\d+)?)%\s*$"
)
POLICE_MONTHS = {
    "July": "2023-07",
    "August": "2023-08",
    "September": "2023-09",
    "October": "2023-10",
    "November": "2023-11",
    "December": "2023-12",
}
TABLE_HEADER = "How will we know we have been successful?"
EXPECTED_HEADER_MONTHS = ["Jul 23", "Aug 23", "Sept 23", "Oct 23", "Nov 23", "Dec 23"]
NUMBER = re.compile(r"\d+(?:\.\d+)?")
LINE_REF = re.compile(r"\(line (\d+)\)")
WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def monthly() -> pd.DataFrame:
    return pd.read_csv(MONTHLY_CSV, dtype={"month": str})


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.read_csv(EVENTS_CSV)


@pytest.fixture(scope="module")
def wide(monthly: pd.DataFrame) -> pd.DataFrame:
    return monthly.pivot(index="month", columns="measure", values="value")


def read_extract() -> dict[int, str]:
    """The extract's lines of seed 003 by their line number in the seed ('#' lines are its header)."""
    path, lines = EXTRACT, {}
    for k, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.startswith("#") or not text.strip():
            continue
        m = EXTRACT_LINE.match(text)
        assert m, f"{path.name} line {k} is neither a comment nor 'number<TAB>text': {text[:80]!r}"
        n = int(m.group(1))
        assert n not in lines, f"{path.name}: seed line {n} given twice"
        assert not lines or n > max(lines), f"{path.name}: seed line {n} out of order"
        lines[n] = m.group(2)
    return lines


def parse_seed_monthly(seed_lines: dict[int, str]) -> dict[str, dict[str, float]]:
    """Every monthly figure of seed 003, parsed from its text: {measure: {month: value}}."""
    out: dict[str, dict[str, float]] = {}

    for measure, label in SEED_TABLE_ROWS.items():
        row = re.compile(r"^" + re.escape(label) + r"\t(?:Low|High)\t(.*)$")
        hits = [(n, m) for n, line in seed_lines.items() if (m := row.match(line))]
        assert len(hits) == 1, f"expected one seed row labelled {label!r}, found {len(hits)}"
        at, match = hits[0]
        values = [float(v) for v in NUMBER.findall(match.group(1))]
        assert len(values) == 6, f"{label!r}: expected 6 monthly values, got {values}"
        # The nearest table header above the row must list Jul 23 .. Dec 23 in order.
        above = [n for n, line in seed_lines.items() if n <= at and line.startswith(TABLE_HEADER)]
        assert above, f"no table header above the row labelled {label!r} (line {at})"
        header = seed_lines[max(above)]
        assert header.split("\t")[2:] == EXPECTED_HEADER_MONTHS, header
        out[measure] = dict(zip(MONTHS, values, strict=True))

    police_rows = [m for line in seed_lines.values() if (m := POLICE_ROW.match(line))]
    assert len(police_rows) == 6, f"expected 6 police table rows, found {len(police_rows)}"
    for col in (
        "contacts",
        "police_contacts",
        "pct_police_of_contacts",
        "police_info_advice",
        "pct_police_info_advice",
    ):
        out[col] = {}
    for m in police_rows:
        month = POLICE_MONTHS[m.group(1)]
        out["contacts"][month] = float(m.group(2))
        out["police_contacts"][month] = float(m.group(3))
        out["pct_police_of_contacts"][month] = float(m.group(4))
        out["police_info_advice"][month] = float(m.group(5))
        out["pct_police_info_advice"][month] = float(m.group(6))
    assert list(out["contacts"]) == MONTHS, "police table months out of order"
    return out


def cited(seed_lines: dict[int, str], n: int) -> str:
    assert n in seed_lines, f"seed 003 line {n} is cited but not in {EXTRACT.name}"
    return seed_lines[n]


@pytest.fixture(scope="module")
def seed_lines() -> dict[int, str]:
    return read_extract()


@pytest.fixture(scope="module")
def seed_monthly(seed_lines: dict[int, str]) -> dict[str, dict[str, float]]:
    return parse_seed_monthly(seed_lines)


@pytest.fixture(scope="module")
def full_seed() -> dict[int, str]:
    """All of seed 003 by line number, where the seed documents are beside the repository."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents folder not found at {SEEDS}; the extract is not re-checked")
    assert SEED_003.is_file(), f"seeds folder present but {SEED_003.name} is missing"
    return dict(enumerate(SEED_003.read_text(encoding="utf-8").splitlines(), start=1))


def _numbers_in(line: str) -> set[float]:
    found = {float(n) for n in NUMBER.findall(line.replace(",", ""))}
    words = re.findall(r"[a-z]+", line.lower())
    found.update(WORD_NUMBERS[w] for w in words if w in WORD_NUMBERS)
    return found


# --------------------------------------------------------------- (a) shape of the files


def test_monthly_columns(monthly: pd.DataFrame) -> None:
    assert list(monthly.columns) == ["month", "measure", "value", "unit", "source", "note"]


def test_monthly_has_every_measure_for_every_month(monthly: pd.DataFrame) -> None:
    assert sorted(monthly["measure"].unique()) == sorted(MEASURES)
    assert sorted(monthly["month"].unique()) == MONTHS
    assert not monthly.duplicated(["month", "measure"]).any()
    assert len(monthly) == len(MEASURES) * len(MONTHS)


def test_monthly_no_missing_values(monthly: pd.DataFrame) -> None:
    for col in ["month", "measure", "value", "unit", "source"]:
        assert monthly[col].notna().all(), f"missing {col}"
    assert pd.api.types.is_numeric_dtype(monthly["value"]), "values must be plain numbers"


def test_monthly_units(monthly: pd.DataFrame) -> None:
    units = monthly.groupby("measure")["unit"].unique()
    for m in COUNT_MEASURES:
        assert list(units[m]) == ["count"], m
    for m in PERCENT_MEASURES:
        assert list(units[m]) == ["percent"], m


def test_percentages_within_0_100(monthly: pd.DataFrame) -> None:
    pct = monthly[monthly["unit"] == "percent"]["value"]
    assert ((pct >= 0) & (pct <= 100)).all()


def test_counts_are_positive_whole_numbers(monthly: pd.DataFrame) -> None:
    counts = monthly[monthly["unit"] == "count"]["value"]
    assert (counts > 0).all()
    assert (counts == counts.round()).all()


def test_monthly_sources_cite_seed_003_and_a_line(monthly: pd.DataFrame) -> None:
    for src in monthly["source"]:
        assert src.startswith("seed 003"), src
        assert LINE_REF.search(src), f"no line reference in {src!r}"


def test_events_shape(events: pd.DataFrame) -> None:
    assert list(events.columns) == ["measure", "value", "unit", "period", "source", "note"]
    assert events["measure"].is_unique
    for col in ["measure", "unit", "period", "source", "note"]:
        assert events[col].notna().all(), f"missing {col}"
    numeric = events[events["unit"] != "date"]
    assert numeric["value"].notna().all()
    assert events.loc[events["unit"] == "date", "value"].isna().all()
    pct = numeric[numeric["unit"] == "percent"]["value"]
    assert ((pct >= 0) & (pct <= 1000)).all()


def test_events_key_figures(events: pd.DataFrame) -> None:
    v = events.set_index("measure")["value"]
    expected = {
        "review52_pct_increase_phone_contacts_partners": 156.6,
        "review52_pct_increase_email_referrals": 15,
        "review52_pct_reduction_contacts_to_referral": 5.8,
        "review52_pct_reduction_contacts_to_referral_peak": 21.9,
        "review52_pct_reduction_referrals_to_strategy_peak": 10.8,
        "review52_pct_increase_referrals_to_s47": 10.8,
        "review52_pct_reduction_single_assessments": 5,
        "review52_pct_reduction_single_assessments_peak": 26.5,
        "review26_pct_reduction_police_contacts_to_referral": 29,
        "review26_pct_reduction_all_contacts_to_referral": 16,
        "review26_expected_pct_reduction_referrals": 30,
        "pct_reduction_police_contacts_since_sep2023": 33,
        "da_hub_team_managers": 1,
        "da_hub_practice_supervisors": 1,
        "da_hub_social_workers": 4,
        "starters_apr_nov_2023": 47,
        "leavers_apr_nov_2023": 40,
        "cp_plans_started_6m_to_apr2023": 700,
        "cp_plans_previously_on_plan": 169,
        "pct_cp_plans_previously_on_plan": 24,
        "children_into_care_jan_jul_2023": 287,
    }
    for measure, value in expected.items():
        assert v[measure] == pytest.approx(value), measure
    periods = events.set_index("measure")["period"]
    assert periods["police_co_triage_start"] == "2024-01-22"


# ------------------------------------------------------ (b) values against the seed text


@pytest.mark.parametrize("measure", MEASURES)
def test_monthly_values_equal_seed(
    measure: str, wide: pd.DataFrame, seed_monthly: dict[str, dict[str, float]]
) -> None:
    csv_values = {m: float(wide.loc[m, measure]) for m in MONTHS}
    assert csv_values == seed_monthly[measure]


def test_contacts_is_police_table_total(
    wide: pd.DataFrame, seed_monthly: dict[str, dict[str, float]]
) -> None:
    # The two tables differ in Aug, Oct, Nov and Dec; `contacts` must be the police table's.
    police, ifd = seed_monthly["contacts"], seed_monthly["contacts_ifd_table"]
    differs = [m for m in MONTHS if police[m] != ifd[m]]
    assert differs == ["2023-08", "2023-10", "2023-11", "2023-12"]
    for m in differs:
        assert wide.loc[m, "contacts"] == seed_monthly["contacts"][m]
        assert wide.loc[m, "contacts_ifd_table"] == seed_monthly["contacts_ifd_table"][m]


def test_monthly_cited_lines_hold_the_values(monthly: pd.DataFrame, seed_lines: dict[int, str]) -> None:
    for row in monthly.itertuples():
        line_no = int(LINE_REF.search(row.source).group(1))
        line = cited(seed_lines, line_no)
        assert float(row.value) in _numbers_in(line), (
            f"{row.measure} {row.month}={row.value} not on seed 003 line {line_no}: {line[:120]!r}"
        )


def test_events_cited_lines_hold_the_values(events: pd.DataFrame, seed_lines: dict[int, str]) -> None:
    for row in events.itertuples():
        assert row.source.startswith("seed 003"), row.source
        ref = LINE_REF.search(row.source)
        assert ref, f"no line reference in {row.source!r}"
        line = cited(seed_lines, int(ref.group(1)))
        if row.unit == "date":
            continue
        assert float(row.value) in _numbers_in(line), (
            f"{row.measure}={row.value} not on seed 003 line {ref.group(1)}: {line[:120]!r}"
        )


def test_event_dates_on_cited_lines(events: pd.DataFrame, seed_lines: dict[int, str]) -> None:
    def line(measure: str) -> str:
        src = events.set_index("measure").loc[measure, "source"]
        return cited(seed_lines, int(LINE_REF.search(src).group(1)))

    assert "22nd of January 2024" in line("police_co_triage_start")
    assert "co-triage" in line("police_co_triage_start")
    assert "31st October 23" in line("ppn_joint_audit")
    assert "October/November 23" in line("ppn_training")
    assert "November 22" in line("conversations_approach_launch")


# ------------------------------------------- (b') the extract against the seed, where present


def test_extract_says_what_it_is_and_where_it_comes_from() -> None:
    header = " ".join(x.lstrip("# ") for x in EXTRACT.read_text(encoding="utf-8").splitlines()
                      if x.startswith("#"))
    for words in ("seed 003", SEED_003.name, "Bradford Children and Families Trust",
                  "improvement plan progress report", "original line number"):
        assert words in header, words


def test_extract_lines_are_the_seed_lines_of_those_numbers(full_seed: dict[int, str]) -> None:
    extract = read_extract()
    assert extract, f"{EXTRACT.name} holds no lines"
    for n, text in extract.items():
        assert n in full_seed, f"{EXTRACT.name}: line {n} is beyond the seed's {len(full_seed)} lines"
        # identical, except that each [name removed] stands for a name in the seed line
        pattern = ".+?".join(re.escape(part) for part in text.split(REDACTED))
        assert re.fullmatch(pattern, full_seed[n]), (
            f"line {n} differs from the seed:\n extract {text[:160]!r}\n seed    {full_seed[n][:160]!r}")


def test_seed_holds_no_other_line_the_checks_read(full_seed: dict[int, str]) -> None:
    """The whole seed parses to the same figures as the extract: no second row with a table's
    label, no seventh police row, no nearer table header was left out of the extract."""
    assert parse_seed_monthly(full_seed) == parse_seed_monthly(read_extract())


# ------------------------------------------------------------- (c) internal consistency


def test_police_info_advice_percentage_identity(wide: pd.DataFrame) -> None:
    computed = 100 * wide["police_info_advice"] / wide["police_contacts"]
    diff = (computed - wide["pct_police_info_advice"]).abs()
    assert (diff <= 0.01).all(), diff.to_dict()


def test_police_counts_nested(wide: pd.DataFrame) -> None:
    assert (wide["police_info_advice"] < wide["police_contacts"]).all()
    assert (wide["police_contacts"] < wide["contacts"]).all()


def test_police_share_of_contacts_plausible(wide: pd.DataFrame) -> None:
    share = 100 * wide["police_contacts"] / wide["contacts"]
    assert ((share > 20) & (share < 40)).all(), share.to_dict()


def test_police_share_matches_seed_percent_column(
    wide: pd.DataFrame, seed_monthly: dict[str, dict[str, float]]
) -> None:
    share = 100 * wide["police_contacts"] / wide["contacts"]
    for m in MONTHS:
        assert share[m] == pytest.approx(seed_monthly["pct_police_of_contacts"][m], abs=0.01), m


def test_contact_totals_of_the_two_tables_nearly_agree(wide: pd.DataFrame) -> None:
    diff = (wide["contacts"] - wide["contacts_ifd_table"]).abs()
    assert (diff <= 5).all(), diff.to_dict()


def test_33pct_fall_matches_police_contacts(wide: pd.DataFrame) -> None:
    police = wide["police_contacts"]
    fall = 100 * (1 - police["2023-12"] / police["2023-09"])
    assert round(fall) == 33
