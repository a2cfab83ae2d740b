"""Moving a replayed sample to the present: every time in an entity moves by the same amount,
so intervals (observed → issued → valid until) stay as the source wrote them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

# ISO 8601 date-times with an offset or Z, as feed entities carry them (values.iso()).
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def parse_time(text: str) -> datetime | None:
    if not _TIME.match(text):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _format(moment: datetime, like: str) -> str:
    text = moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if like.endswith("Z") else text


def shifted(value: Any, delta: timedelta) -> Any:
    """``value`` with every date-time string in it moved by ``delta`` (offsets kept)."""
    if isinstance(value, str):
        moment = parse_time(value)
        return value if moment is None else _format(moment + delta, value)
    if isinstance(value, list):
        return [shifted(item, delta) for item in value]
    if isinstance(value, dict):
        return {key: shifted(item, delta) for key, item in value.items()}
    return value


ISSUE_TIMES = ("dateIssued", "dateObserved", "observationDateTime")


def _attribute_time(attribute: Any) -> datetime | None:
    value = attribute.get("value") if isinstance(attribute, dict) else None
    if isinstance(value, dict):
        value = value.get("@value")
    return parse_time(value) if isinstance(value, str) else None


def latest_observation(entities: list[dict[str, Any]]) -> datetime | None:
    """The moment a sample was taken, which the replay moves to now: the latest
    ``observedAt`` among the entities, else the latest issue/observation time they state
    (``dateIssued``, ``dateObserved``…), else the earliest time they name at all — so what
    was issued becomes "just now" and validity periods still lie ahead."""
    observed: list[datetime] = []
    stated: list[datetime] = []
    every: list[datetime] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str):
            moment = parse_time(value)
            if moment is not None:
                (observed if key == "observedAt" else every).append(moment)

    walk(entities)
    for entity in entities:
        for name in ISSUE_TIMES:
            moment = _attribute_time(entity.get(name))
            if moment is not None:
                stated.append(moment)
    if observed:
        return max(observed)
    if stated:
        return max(stated)
    return min(every) if every else None
