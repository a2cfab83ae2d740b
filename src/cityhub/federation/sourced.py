"""Entities as a context source sent them, read into the hub's internal form.

Sources answer in normalized form compacted with the request's own @context (the hub passes
its Link header on), so the request's TermMap reads them back losslessly. System times are
kept (``options=sysAttrs`` was asked) because merging prefers the most recent instance.
"""

from __future__ import annotations

from typing import Any

from cityhub.errors import NgsiLdError
from cityhub.jsonld.termmap import TermMap
from cityhub.model.entity import parse_entity
from cityhub.model.values import normalize_datetime

_TIMES = ("createdAt", "modifiedAt")


def _time(value: Any) -> str | None:
    try:
        return normalize_datetime(value, "modifiedAt") if isinstance(value, str) else None
    except NgsiLdError:
        return None


def read_entity(raw: Any, tm: TermMap) -> dict[str, Any] | None:
    """One source entity in internal form, or None when it is not a valid entity."""
    if not isinstance(raw, dict):
        return None
    try:
        entity = parse_entity(raw, tm, what="Source entity")
    except NgsiLdError:
        return None
    for key in _TIMES:
        stamp = _time(raw.get(key))
        if stamp:
            entity[key] = stamp
    for name, value in raw.items():
        if name in ("id", "type", "scope") or name.startswith("@"):
            continue
        instances = entity.get(tm.expand(name))
        if not instances:
            continue
        sent = value if isinstance(value, list) else [value]
        for instance, original in zip(instances, sent, strict=False):
            if isinstance(original, dict):
                for key in _TIMES:
                    stamp = _time(original.get(key))
                    if stamp:
                        instance[key] = stamp
    return entity
