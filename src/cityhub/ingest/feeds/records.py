"""What a feed parser yields, and the loop that keeps one bad record from spoiling a batch.

An **entity** is an NGSI-LD entity in normalized form with compact terms and its own
``@context`` member (a list of context URLs, see ``contexts.py``) — exactly what a client
would POST as ``application/ld+json`` (clause 5.6.1). A **Rejected** record carries the
reason and its raw input so the runner can dead-letter it (issue 6: bad data never hurts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson


class RecordError(ValueError):
    """One record of a payload cannot be mapped; the message is the reason shown to operators."""


@dataclass(frozen=True)
class Rejected:
    """A record (or a whole payload) that could not be mapped."""

    reason: str
    raw: str  # the record's own input text (JSON or XML), not the whole payload
    where: str = ""  # where in the payload, e.g. "PRK_STTS[3]"


Entity = dict[str, Any]
Item = Entity | Rejected


def raw_text(record: Any) -> str:
    """A record's input as text for a dead letter: strings as they are, the rest as JSON."""
    if isinstance(record, bytes):
        return record.decode("utf-8", errors="replace")
    if isinstance(record, str):
        return record
    try:
        return orjson.dumps(record, default=str).decode()
    except TypeError:
        return repr(record)


def map_records(
    records: Iterable[tuple[str, Any]],
    build: Callable[[Any], Entity | list[Entity] | None],
    *,
    raw: Callable[[Any], str] = raw_text,
) -> list[Item]:
    """Apply ``build`` to each ``(where, record)``; a record it cannot map (RecordError, or a
    missing key, a wrong type or a bad number) becomes a Rejected and the others go on.
    ``build`` returns one entity, several, or None for a record that is rightly skipped."""
    items: list[Item] = []
    for where, record in records:
        try:
            built = build(record)
        except (RecordError, KeyError, TypeError, ValueError, IndexError) as exc:
            reason = str(exc) if isinstance(exc, RecordError) else f"{type(exc).__name__}: {exc}"
            items.append(Rejected(reason, raw(record), where))
            continue
        if built is None:
            continue
        items.extend(built if isinstance(built, list) else [built])
    return items
