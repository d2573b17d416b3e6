"""Parameter types that carry their own provenance.

Every number in a scenario is one of these: a value with its unit, the plausible range it
could take, where it came from (a seed table, a national statistic, a judgement with its
reasoning, or a calibration), and free-text source. The schema adds hard limits (a share is
between 0 and 1, a duration is positive) on top of the plausible range the file states.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Frozen(BaseModel):
    """Base for every scenario block: immutable, strict types, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Numbers must be numbers in the file: "3" or true is refused rather than quietly converted.
Num = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Provenance = Literal["reported", "national", "judgement", "calibrated"]


class _Sourced(Frozen):
    unit: str = Field(min_length=1)
    provenance: Provenance
    source: str = Field(min_length=3, description="seed and table, publication, or reasoning")
    note: str = ""


def _check_range(rng: tuple[float, float]) -> None:
    lo, hi = rng
    if lo > hi:
        raise ValueError(f"range [{lo}, {hi}] has its low end above its high end")


class Scalar(_Sourced):
    """One number with unit, plausible range and provenance."""

    value: Num
    range: tuple[Num, Num]

    @model_validator(mode="after")
    def _in_range(self) -> Scalar:
        _check_range(self.range)
        lo, hi = self.range
        if not lo <= self.value <= hi:
            raise ValueError(f"value {self.value} is outside its stated plausible range [{lo}, {hi}]")
        return self


class Monthly(_Sourced):
    """A number per calendar month ('YYYY-MM'); months not listed take `default`."""

    value: dict[str, Num]
    default: Num
    range: tuple[Num, Num]

    @model_validator(mode="after")
    def _months_and_range(self) -> Monthly:
        _check_range(self.range)
        lo, hi = self.range
        for key, v in self.value.items():
            if not MONTH_RE.match(key):
                raise ValueError(f"month key {key!r} is not a month in the form YYYY-MM")
            if not lo <= v <= hi:
                raise ValueError(f"value {v} for {key} is outside its plausible range [{lo}, {hi}]")
        if not lo <= self.default <= hi:
            raise ValueError(f"default {self.default} is outside its plausible range [{lo}, {hi}]")
        return self

    def at(self, year: int, month: int) -> float:
        return self.value.get(f"{year:04d}-{month:02d}", self.default)


class Vector(_Sourced):
    """A fixed-length profile (weekday or hour-of-day weights); range applies to each entry."""

    value: tuple[Num, ...]
    range: tuple[Num, Num]

    @model_validator(mode="after")
    def _entries(self) -> Vector:
        _check_range(self.range)
        lo, hi = self.range
        bad = [v for v in self.value if not lo <= v <= hi]
        if bad:
            raise ValueError(f"entries {bad} are outside the plausible range [{lo}, {hi}]")
        if sum(self.value) <= 0:
            raise ValueError("a profile needs at least one positive weight")
        return self


class Shares(_Sourced):
    """Named shares that sum to 1, each with its own plausible range."""

    value: dict[str, Num]
    range: dict[str, tuple[Num, Num]]

    @model_validator(mode="after")
    def _sum_to_one(self) -> Shares:
        if set(self.range) != set(self.value):
            raise ValueError(
                f"range must name the same shares as value ({sorted(self.value)}),"
                f" got {sorted(self.range)}"
            )
        for key, v in self.value.items():
            _check_range(self.range[key])
            lo, hi = self.range[key]
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"range [{lo}, {hi}] for share {key} must lie between 0 and 1")
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"share {key}={v} is not between 0 and 1")
            if not lo <= v <= hi:
                raise ValueError(f"share {key}={v} is outside its plausible range [{lo}, {hi}]")
        total = sum(self.value.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"shares {dict(self.value)} sum to {total:.6g}; they must sum to 1")
        return self


def _not_a_number(v):
    """Refuse a number where a date is meant (pydantic would read it as seconds since 1970)."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        raise ValueError(f"{v!r} is a number; write a date as YYYY-MM-DD")
    return v


Date = Annotated[date, BeforeValidator(_not_a_number)]
MAX_DURATION = 1e6  # minutes or hours: about two years in minutes; no task is longer
MAX_CV = 10.0


class DateParam(Frozen):
    value: Date
    provenance: Provenance
    source: str = Field(min_length=3)
    note: str = ""


class Duration(Frozen):
    """A random duration: its distribution, mean and coefficient of variation."""

    distribution: Literal["lognormal", "exponential", "fixed"]
    mean: Scalar
    cv: Scalar

    @model_validator(mode="after")
    def _positive(self) -> Duration:
        if self.mean.value <= 0:
            raise ValueError(f"mean {self.mean.value} must be above 0")
        for what, p, hi in (("mean", self.mean, MAX_DURATION), ("cv", self.cv, MAX_CV)):
            bad = [v for v in (p.value, *p.range) if not 0 <= v <= hi]
            if bad:
                raise ValueError(f"{what} {bad[0]} is not allowed: a duration's {what} and its range"
                                 f" must be between 0 and {hi:g}")
        if self.distribution == "exponential" and not math.isclose(self.cv.value, 1.0):
            raise ValueError(f"an exponential duration has cv 1, got {self.cv.value}")
        return self


def _limits(lo: float, hi: float, what: str) -> Callable:
    """Hard limits the schema itself imposes, checked on value and plausible range alike."""

    def check(p):
        if isinstance(p, Scalar | Vector):
            values = [p.value] if isinstance(p, Scalar) else list(p.value)
            values += list(p.range)
        elif isinstance(p, Monthly):
            values = [*p.value.values(), p.default, *p.range]
        else:  # pragma: no cover - only used on the types above
            values = []
        for v in values:
            if not lo <= v <= hi:
                raise ValueError(f"{v} is not allowed: {what} must be between {lo} and {hi}")
        return p

    return check


ShareScalar = Annotated[Scalar, AfterValidator(_limits(0.0, 1.0, "a share"))]
PositiveScalar = Annotated[Scalar, AfterValidator(_limits(0.0, 1e7, "a non-negative amount"))]
HourScalar = Annotated[Scalar, AfterValidator(_limits(0.0, 24.0, "an hour of the day"))]
CountMonthly = Annotated[Monthly, AfterValidator(_limits(0.0, 1e7, "a count"))]
ShareMonthly = Annotated[Monthly, AfterValidator(_limits(0.0, 1.0, "a share"))]
WeightVector = Annotated[Vector, AfterValidator(_limits(0.0, 1e6, "a weight"))]

# Meetings or conferences one chair holds in a working day. A strategy meeting takes about an
# hour and an initial conference 1.5-2 hours with preparation and recording around them (the
# baseline's judgements; its plausible ranges are 1-4 and 1-3 a day), so 12 (one an hour
# through a 12-hour day) is already beyond any chair's day; the limit keeps a slip of the pen
# (1e7 a day) from being read as a service.
MAX_SESSIONS_PER_CHAIR_PER_DAY = 12.0
SessionsPerDayScalar = Annotated[Scalar, AfterValidator(
    _limits(0.0, MAX_SESSIONS_PER_CHAIR_PER_DAY, "meetings a chair holds in a working day"))]
