"""The figures of the panels beside the map (docs/dashboard.md, summary endpoint), computed
from the layers' feature properties. Pure, so the rules are tested on their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cityhub.dashboard.layers import SEVERITIES

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def active_alerts(alerts: Iterable[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Alerts still in force (no validTo, or validTo ahead), most severe first, then newest."""
    active = []
    for alert in alerts:
        valid_to = _time(alert.get("validTo"))
        if valid_to is not None and valid_to <= now:
            continue
        active.append(alert)
    issued_key = [
        (_time(a.get("issued")) or datetime.min.replace(tzinfo=now.tzinfo)) for a in active
    ]
    order = sorted(
        range(len(active)),
        key=lambda i: (-_RANK.get(str(active[i].get("severity")), -1), -issued_key[i].timestamp()),
    )
    return [active[i] for i in order]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def parking(lots: list[dict[str, Any]]) -> dict[str, Any]:
    """Lots with a live count; free and total summed over them."""
    counted = [p for p in lots if p.get("free") is not None and p.get("total")]
    free = sum(p["free"] for p in counted)
    total = sum(p["total"] for p in counted)
    return {
        "lots": len(lots),
        "counted": len(counted),
        "free": free,
        "total": total,
        "occupancy": round(1 - free / total, 3) if total else None,
    }


def traffic(segments: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of congested segments and the mean speed over segments with a speed."""
    speeds = [s["speed"] for s in segments if s.get("speed") is not None]
    known = [s for s in segments if s.get("level") is not None]
    congested = sum(1 for s in known if s.get("level") == 3)
    return {
        "segments": len(segments),
        "congested": congested,
        "congestedShare": round(congested / len(known), 3) if known else None,
        "averageSpeed": _mean(speeds),
    }


def air(stations: list[dict[str, Any]]) -> dict[str, Any]:
    pm25 = [s["pm25"] for s in stations if s.get("pm25") is not None]
    pm10 = [s["pm10"] for s in stations if s.get("pm10") is not None]
    worst = max(
        (s for s in stations if s.get("pm25") is not None), key=lambda s: s["pm25"], default=None
    )
    return {
        "stations": len(stations),
        "pm25": _mean(pm25),
        "pm10": _mean(pm10),
        "worst": None
        if worst is None
        else {k: worst.get(k) for k in ("id", "name", "pm25", "level")},
    }


def crowding(spots: list[dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
    """The busiest spots first (by level, then people)."""

    def busiest(spot: dict[str, Any]) -> tuple[float, float]:
        level = spot.get("level")
        return (-(level if level is not None else -1), -(spot.get("people") or 0))

    ranked = sorted(spots, key=busiest)
    return [
        {k: s.get(k) for k in ("id", "name", "people", "congested", "level")}
        for s in ranked[:limit]
    ]


def weather(stations: list[dict[str, Any]]) -> dict[str, Any]:
    def values(name: str) -> list[float]:
        return [s[name] for s in stations if s.get(name) is not None]

    humidity = values("humidity")
    return {
        "stations": len(stations),
        "temperature": _mean(values("temperature")),
        "humidity": round(sum(humidity) / len(humidity), 2) if humidity else None,
        "wind": _mean(values("wind")),
    }


def alert_counts(alerts: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for alert in alerts:
        severity = alert.get("severity")
        if severity in counts:
            counts[severity] += 1
    return counts
