"""Parameter types that carry their own provenance.

Every number in a scenario is one of these: a value with its unit, the plausible range it
could take, where it came from (a seed table, a national statistic, a judgement with its
reasoning, or a calibration), and free-text source. The schema adds hard limits (a share is
between 0 and 1, a duration is positive) on top of the plausible range the file states.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
    """A number per calendar month ('YYYY-MM'), written as single months, steps, or both.

    `value` sets single months (a month not listed returns to the level around it); `steps`
    sets a level from a month on, kept until a later step (staffing that changes and stays
    changed). A month takes its own `value` entry if it has one, else the last step at or
    before it, else `default`: so `value` months are exceptions on top of the steps, which is
    also what an edit of `value` (the app's month table) means on a setting with steps.
    """

    value: dict[str, Num] = Field(default_factory=dict)
    default: Num
    range: tuple[Num, Num]
    steps: dict[str, Num] = Field(default_factory=dict)
    # the steps as sorted month numbers (year * 12 + month - 1) and their values, for `at`
    _step_table: tuple[tuple[int, ...], tuple[float, ...]] = PrivateAttr(default=((), ()))

    @field_validator("value", "steps", mode="before")
    @classmethod
    def _keys_are_text(cls, months: object) -> object:
        """A key read as a date or a number (`2023-08-01:`, `202308:`) is named as written."""
        if isinstance(months, dict):
            for key in months:
                if not isinstance(key, str):
                    raise ValueError(f"month key {key!s} is not a month in the form YYYY-MM"
                                     ' (write the month alone, in quotes, for example "2023-08")')
        return months

    @field_validator("value", "steps")
    @classmethod
    def _month_keys(cls, months: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        for key in months:
            if not MONTH_RE.fullmatch(key):
                one = "a month" if info.field_name == "value" else "a step's first month"
                raise ValueError(f"month key {key!r} is not {one} in the form YYYY-MM"
                                 ' (write it in quotes, for example "2023-08")')
        rng = info.data.get("range")  # declared before steps, so checked first when it is valid
        if info.field_name == "steps" and rng is not None and rng[0] <= rng[1]:
            lo, hi = rng
            for key, v in months.items():
                if not lo <= v <= hi:
                    raise ValueError(f"step {v} from {key} is outside its plausible range [{lo}, {hi}]")
        return months

    @model_validator(mode="after")
    def _months_and_range(self) -> Monthly:
        _check_range(self.range)
        lo, hi = self.range
        for key, v in self.value.items():
            if not lo <= v <= hi:
                raise ValueError(f"value {v} for {key} is outside its plausible range [{lo}, {hi}]")
        if not lo <= self.default <= hi:
            raise ValueError(f"default {self.default} is outside its plausible range [{lo}, {hi}]")
        ordered = sorted(self.steps.items())
        self._step_table = (tuple(_month_number(k) for k, _ in ordered), tuple(v for _, v in ordered))
        return self

    def at(self, year: int, month: int) -> float:
        """The value in one month: its own entry, else the last step at or before it, else default."""
        own = self.value.get(f"{year:04d}-{month:02d}")
        if own is not None:
            return own
        if not self.steps:  # a field, read faster than the private lookup below
            return self.default
        # read from the private store directly: pydantic's attribute path for it is slow
        months, values = self.__pydantic_private__["_step_table"]
        i = bisect.bisect_right(months, year * 12 + month - 1)
        return values[i - 1] if i else self.default

    def change_months(self) -> list[str]:
        """The months at which the value can differ from the month before: each month named in
        `value` or `steps` and the month after each `value` month (where the level around it
        returns). A check over every month needs only these, the month before the first of
        them, and `default`."""
        after = [_month_key(_month_number(k) + 1) for k in self.value]
        return sorted({*self.value, *self.steps, *after})

    def levels(self) -> list[float]:
        """Every value the setting can take in some month (default, single months and steps)."""
        return [self.default, *self.value.values(), *self.steps.values()]


def _month_number(key: str) -> int:
    """'YYYY-MM' as a count of months (year * 12 + month - 1), so months order and subtract."""
    return int(key[:4]) * 12 + int(key[5:7]) - 1


def _month_key(number: int) -> str:
    """A count of months (year * 12 + month - 1) as 'YYYY-MM'."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_value(node: Mapping, month: str, own: bool = True) -> float:
    """What a monthly setting in document form (a dict with value, default and maybe steps)
    takes in `month` ('YYYY-MM'), by the rule of `Monthly.at`.

    With `own=False` the month's own `value` entry is passed over: the value the month would
    take without it (the step or default around it), which an editor compares an edited month
    with to decide whether the month still needs an entry of its own."""
    values = node.get("value") or {}
    if own and month in values:
        return values[month]
    earlier = [k for k in (node.get("steps") or {}) if k <= month]  # 'YYYY-MM' sorts by date
    return node["steps"][max(earlier)] if earlier else node["default"]


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
            values = [*p.levels(), *p.range]
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


# A dated change's value: one number (a single setting or a monthly one), a profile's entries,
# or a set of named shares; and its plausible range in the same shape.
ChangeValue = Num | tuple[Num, ...] | dict[str, Num]
ChangeRange = tuple[Num, Num] | dict[str, tuple[Num, Num]]


class Change(Frozen):
    """A setting that takes a new value from a date, or moves to it evenly between two dates.

    `setting` is the setting's dotted path in the scenario ("ppn.quality",
    "staff.ps.establishment", "service.email_screen_minutes.mean"). From `from_date` the setting
    takes `value`; with `to_date` it moves in equal daily steps from the value it had on
    `from_date` to `value` on `to_date` (a ramp: training that takes hold over weeks). Whether
    the path exists, the dates lie in the run and the value fits the setting is checked against
    the whole scenario (sim.scenario.timeline).
    """

    setting: str = Field(min_length=1, max_length=200)
    from_date: Date
    to_date: Date | None = None
    value: ChangeValue
    range: ChangeRange
    unit: str = ""
    provenance: Provenance
    source: str = Field(min_length=3, description="seed and line, publication, or reasoning")
    note: str = ""

    @model_validator(mode="after")
    def _own_range(self) -> Change:
        if self.to_date is not None and self.to_date <= self.from_date:
            raise ValueError(f"to_date {self.to_date} must be after from_date {self.from_date}")
        values = self.value if isinstance(self.value, dict) else None
        if values is not None:
            if not isinstance(self.range, dict) or set(self.range) != set(values):
                raise ValueError(f"range must name the same shares as value ({sorted(values)})")
            pairs = [(f"{k}={v}", v, self.range[k]) for k, v in values.items()]
        elif isinstance(self.range, dict):
            raise ValueError("range is a set of named ranges but value is not a set of named shares")
        else:
            nums = self.value if isinstance(self.value, tuple) else (self.value,)
            pairs = [(f"{v}", v, self.range) for v in nums]
        for text, v, rng in pairs:
            _check_range(rng)
            if not rng[0] <= v <= rng[1]:
                raise ValueError(f"value {text} is outside its stated plausible range [{rng[0]}, {rng[1]}]")
        return self
