"""The service's reported monthly figures (calibration/observed_monthly.csv), if present."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

OBSERVED_CSV = Path(__file__).resolve().parents[2] / "calibration" / "observed_monthly.csv"


@lru_cache(maxsize=1)
def observed_monthly() -> pd.DataFrame:
    """Wide table: one row per month, one column per reported measure (empty if absent)."""
    if not OBSERVED_CSV.is_file():
        return pd.DataFrame()
    long = pd.read_csv(OBSERVED_CSV, dtype={"month": str})
    return long.pivot(index="month", columns="measure", values="value")
