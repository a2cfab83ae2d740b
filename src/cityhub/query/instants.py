"""Date-time strings as instants, the one definition q comparisons use (clause 4.9).

q compares a DateTime literal with attribute values that are date-time strings. Which strings
count is fixed here, narrowly enough that PostgreSQL's ``cityhub_instant`` SQL function (see
the postgres migrations) recognises exactly the same ones: ``YYYY-MM-DDTHH:MM[:SS[.f{1,6}]]``
(hours 00–23, no leap second) with ``Z``, ``±HH:MM`` up to ±15:59, or no offset (UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

DATETIME_PATTERN = (
    r"^\d{4}-[01]\d-[0-3]\dT([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?"
    r"(Z|[+-](0\d|1[0-5]):[0-5]\d)?$"
)
_DATETIME = re.compile(DATETIME_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant_micros(text: object) -> int | None:
    """Microseconds since 1970-01-01T00:00Z of a date-time string, or None if it is not one.

    >>> instant_micros("1970-01-01T09:00:00.5+09:00")
    500000
    """
    if not isinstance(text, str) or _DATETIME.match(text) is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def datetime_micros(moment: datetime) -> int:
    """A q DateTime literal (naive = UTC) in the same unit."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
