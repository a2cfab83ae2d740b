"""Tolerant readers of the values open-data feeds send (CATALOG: numbers as strings, empty
values as "", null or "-", local times without an offset, several coordinate encodings).

Each reader returns None for "no value" and raises RecordError, naming the field, for a
value that is present but wrong, so the record is dead-lettered rather than stored wrongly.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cityhub.ingest.feeds.records import RecordError

KST = timezone(timedelta(hours=9), "KST")  # Korea
JST = timezone(timedelta(hours=9), "JST")  # Japan
CST = timezone(timedelta(hours=8), "CST")  # China

_EMPTY = {"", "-", "--", "null", "NULL", "None"}


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() in _EMPTY)


def number(raw: Any, field: str) -> float | None:
    """A number sent as a JSON number or a string ("24", "32.3", "1,234"); None when empty."""
    if is_empty(raw):
        return None
    if isinstance(raw, bool):
        raise RecordError(f"{field}: {raw!r} is not a number")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().replace(",", ""))
        except ValueError:
            raise RecordError(f"{field}: {raw!r} is not a number") from None
    else:
        raise RecordError(f"{field}: {raw!r} is not a number")
    if not math.isfinite(value):
        raise RecordError(f"{field}: {raw!r} is not a finite number")
    return value


def integer(raw: Any, field: str) -> int | None:
    """A whole number ("24", 24, "24.0"); None when empty."""
    value = number(raw, field)
    if value is None:
        return None
    if not value.is_integer():
        raise RecordError(f"{field}: {raw!r} is not a whole number")
    return int(value)


def text(raw: Any, field: str) -> str | None:
    """A non-empty string with surrounding blanks removed; None when empty."""
    if is_empty(raw):
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    if not isinstance(raw, str):
        raise RecordError(f"{field}: {raw!r} is not text")
    return raw.strip()


def required(value: Any, field: str) -> Any:
    """``value`` itself, or RecordError when it is missing or empty."""
    if is_empty(value):
        raise RecordError(f"{field} is missing")
    return value


def iso(moment: datetime) -> str:
    """ISO 8601 with the moment's own offset, seconds precision (``2026-08-11T18:00:00+09:00``)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in NGSI-LD")
    return moment.isoformat(timespec="seconds")


def local_time(raw: Any, field: str, formats: tuple[str, ...], tz: timezone) -> str | None:
    """A local time written without an offset, in one of ``formats`` (strptime), as ISO 8601
    with ``tz``'s offset. ``24:00`` (and ``2400``) is read as 00:00 of the next day."""
    value = text(raw, field)
    if value is None:
        return None
    moment = _strptime(value, formats)
    if moment is None:
        # Hour 24 (a day's end, as Korean and Japanese sources write it) is not valid for
        # strptime: read it as 00 and move to the next day. Only when the plain read failed,
        # so "…152400" (15:24:00) stays what it is.
        rolled = re.sub(r"24(:?)00((?::?00)?)$", r"00\g<1>00\g<2>", value)
        if rolled != value:
            moment = _strptime(rolled, formats)
            if moment is not None:
                moment += timedelta(days=1)
    if moment is not None:
        return iso(moment.replace(tzinfo=tz))
    raise RecordError(f"{field}: {raw!r} is not a time in the form {formats[0]}")


def _strptime(value: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def aware_time(raw: Any, field: str) -> str | None:
    """An ISO 8601 time that carries its offset (``…+09:00`` or ``…Z``), normalised."""
    value = text(raw, field)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"{field}: {raw!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise RecordError(f"{field}: {raw!r} has no time zone offset")
    return iso(moment)


def epoch_time(raw: Any, field: str) -> str | None:
    """POSIX seconds (GTFS-Realtime) as ISO 8601 UTC; None for 0 or empty."""
    value = integer(raw, field)
    if not value:
        return None
    return iso(datetime.fromtimestamp(value, UTC)).replace("+00:00", "Z")


def lon_lat(lon: Any, lat: Any, field: str) -> tuple[float, float]:
    """WGS84 longitude and latitude, checked to be in range (out of range is a RecordError)."""
    x = number(lon, f"{field} longitude")
    y = number(lat, f"{field} latitude")
    if x is None or y is None:
        raise RecordError(f"{field}: coordinates are missing")
    if not -180.0 <= x <= 180.0:
        raise RecordError(f"{field}: longitude {x} is out of range")
    if not -90.0 <= y <= 90.0:
        raise RecordError(f"{field}: latitude {y} is out of range")
    return x, y
