"""Temporal queries (clauses 4.11, 5.2.21) and aggregation requests (clause 4.5.19).

Instants are microseconds since 1970-01-01T00:00Z (``query.instants``), the unit both stores
compare and bucket in. ``before`` is an exclusive bound, ``after`` an inclusive one and
``between`` the half-open ``[timeAt, endTimeAt)`` (clause 4.11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cityhub.errors import BadRequestData
from cityhub.model.values import format_datetime, parse_datetime
from cityhub.query.instants import datetime_micros, instant_micros

TIMERELS = frozenset({"before", "after", "between"})
TIME_PROPERTIES = ("observedAt", "createdAt", "modifiedAt", "deletedAt")
AGGREGATION_METHODS = (
    "totalCount",
    "distinctCount",
    "sum",
    "avg",
    "min",
    "max",
    "stddev",
    "sumsq",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BUCKETS = 100_000  # periods one aggregated answer may span (calendar durations)


@dataclass(frozen=True)
class TemporalQuery:
    """When (clause 5.2.21) and how many (lastN): the instances an answer holds.

    ``start``/``end`` are the half-open interval ``[start, end)`` in microseconds the timerel
    makes of timeAt/endTimeAt (None: unbounded); no timerel means the whole history.
    """

    timerel: str | None = None
    time_at: int | None = None
    end_time_at: int | None = None
    timeproperty: str = "observedAt"
    last_n: int | None = None

    @property
    def start(self) -> int | None:
        return self.time_at if self.timerel in {"after", "between"} else None

    @property
    def end(self) -> int | None:
        if self.timerel == "before":
            return self.time_at
        if self.timerel == "between":
            return self.end_time_at
        return None


def micros_of(moment: datetime) -> int:
    return datetime_micros(moment)


@lru_cache(maxsize=4096)
def stored_micros(text: str) -> int:
    """A stored DateTime text (normalized by the model) in microseconds since the epoch;
    cached, as a write's rows share their few timestamps."""
    value = instant_micros(text)
    if value is None:
        raise ValueError(f"not a DateTime: {text!r}")
    return value


def format_micros(micros: int) -> str:
    """An instant as the hub writes DateTimes (UTC, Z, fractions only as needed)."""
    return format_datetime(_EPOCH + timedelta(microseconds=micros))


def _instant(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    return micros_of(parse_datetime(text, name))


def parse_temporal_query(
    timerel: str | None,
    time_at: str | None,
    end_time_at: str | None,
    timeproperty: str | None,
    last_n: str | int | None,
    *,
    required: bool,
) -> TemporalQuery:
    """A TemporalQuery from its parameters; BadRequestData names the first problem.

    ``required``: Query Temporal Evolution of Entities (5.7.4) needs a timerel; Retrieve
    (5.7.3) does not.
    """
    if timerel is None:
        if required:
            raise BadRequestData("A temporal query needs timerel (before, after or between)")
        if time_at is not None or end_time_at is not None:
            raise BadRequestData("timeAt and endTimeAt need timerel")
    elif timerel not in TIMERELS:
        raise BadRequestData(f"timerel must be before, after or between, got {timerel!r}")
    start = _instant(time_at, "timeAt")
    end = _instant(end_time_at, "endTimeAt")
    if timerel is not None and start is None:
        raise BadRequestData(f"timerel={timerel} needs timeAt")
    if timerel == "between":
        if end is None:
            raise BadRequestData("timerel=between needs endTimeAt")
        if start is not None and end <= start:
            raise BadRequestData("endTimeAt must be after timeAt")
    elif end is not None:
        raise BadRequestData("endTimeAt is only allowed with timerel=between")
    prop = timeproperty or "observedAt"
    if prop not in TIME_PROPERTIES:
        raise BadRequestData(
            f"timeproperty must be observedAt, createdAt, modifiedAt or deletedAt, got {prop!r}"
        )
    return TemporalQuery(timerel, start, end, prop, _last_n(last_n))


def _last_n(raw: str | int | None) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit())
    ):
        raise BadRequestData(f"lastN must be a positive integer, got {raw!r}")
    value = int(raw)
    if value < 1:
        raise BadRequestData(f"lastN must be a positive integer, got {raw!r}")
    return value


_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration as whole calendar months plus a fixed number of microseconds
    (weeks, days, hours, minutes and seconds: a day is 24 h, as in UTC)."""

    months: int = 0
    micros: int = 0

    @property
    def zero(self) -> bool:
        return self.months == 0 and self.micros == 0

    def add_to(self, micros: int, times: int = 1) -> int:
        """``micros`` moved on by this duration ``times`` times (months clamp to the end of
        a shorter month: Jan 31 + P1M = Feb 28/29)."""
        if self.months == 0:
            return micros + self.micros * times
        moment = _EPOCH + timedelta(microseconds=micros)
        month_index = moment.year * 12 + moment.month - 1 + self.months * times
        year, month = divmod(month_index, 12)
        if not 1 <= year <= 9999:
            raise BadRequestData("aggrPeriodDuration reaches beyond the year 9999")
        day = min(moment.day, _days_in(year, month + 1))
        moved = moment.replace(year=year, month=month + 1, day=day)
        return micros_of(moved) + self.micros * times


def _days_in(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (datetime(year, month + 1, 1) - datetime(year, month, 1)).days


def parse_duration(text: str) -> Duration:
    """``PT15M``, ``P1D``, ``P1M``, ``P1W``, ``PT0.5S``, ``PT0S`` → Duration.

    Years and months must be whole (a fraction of a month has no fixed length).
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise BadRequestData(
            f"aggrPeriodDuration must be an ISO 8601 duration such as PT15M, got {text!r}"
        )
    years, months, weeks, days, hours, minutes, seconds = match.groups()
    for name, part in (("years", years), ("months", months)):
        if part is not None and "." in part:
            raise BadRequestData(f"aggrPeriodDuration: {name} must be whole, got {text!r}")
    total_months = int(years or 0) * 12 + int(months or 0)
    fixed = (
        float(weeks or 0) * 7 * 86_400
        + float(days or 0) * 86_400
        + float(hours or 0) * 3_600
        + float(minutes or 0) * 60
        + float(seconds or 0)
    )
    return Duration(total_months, round(fixed * 1_000_000))


@dataclass(frozen=True)
class Aggregation:
    """An aggregated temporal representation's request (clause 4.5.19): methods in the
    order asked, and the period each value covers (zero: the whole time range)."""

    methods: tuple[str, ...]
    period: Duration = Duration()


def parse_aggregation(methods: list[str] | None, duration: str | None) -> Aggregation:
    """BadRequestData when aggrMethods is missing or names an unknown method, or the
    duration is not one."""
    if not methods:
        raise BadRequestData("options=aggregatedValues needs aggrMethods")
    for method in methods:
        if method not in AGGREGATION_METHODS:
            raise BadRequestData(
                f"{method!r} is not an aggregation method (one of {', '.join(AGGREGATION_METHODS)})"
            )
    period = parse_duration(duration) if duration is not None else Duration()
    return Aggregation(tuple(dict.fromkeys(methods)), period)
