"""The map layers: which Smart Data Model types each shows, with which @context, and the
properties of their features (docs/dashboard.md, layer endpoint).

``level`` is each feature's colour class, 0 (good, free-flowing, low) to 3 (bad, congested,
critical), so the front end colours every layer the same way and states the level in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cityhub.dashboard.reader import Reader
from cityhub.ingest.feeds import contexts

SEVERITIES = ("informational", "low", "medium", "high", "critical")
_SEVERITY_LEVEL = {"informational": 0, "low": 0, "medium": 1, "high": 2, "critical": 3}


def _bands(value: float | None, limits: tuple[float, float, float]) -> int | None:
    """0–3 by rising thresholds (value < limits[0] → 0 …)."""
    if value is None:
        return None
    return sum(value >= limit for limit in limits)


def _traffic(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    speed = r.number("averageVehicleSpeed")
    congested = r.boolean("congested")
    band = _bands(speed, (15.0, 25.0, 40.0))  # km/h: under 15 is congested in Seoul's terms
    level = 3 if congested else (None if band is None else 3 - band)
    return {"speed": speed, "congested": congested, "level": level}


def _hazards(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    severity = r.value("severity")
    return {
        "severity": severity,
        "category": r.value("category"),
        "subCategory": r.value("subCategory"),
        "description": r.text("description", pref),
        "issued": r.value("dateIssued"),
        "validTo": r.value("validTo"),
        "area": r.text("areaServed", pref),
        "level": _SEVERITY_LEVEL.get(severity) if isinstance(severity, str) else None,
    }


def _spaces(free: float | None, total: float | None) -> dict[str, Any]:
    occupancy = None
    if free is not None and total:
        occupancy = max(0.0, min(1.0, 1 - free / total))
    return {
        "free": free,
        "total": total,
        "occupancy": occupancy,
        "level": _bands(occupancy, (0.5, 0.8, 0.95)),
    }


def _parking(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    free = r.number("availableSpotNumber")
    total = r.number("totalSpotNumber")
    if free is None and total is not None and r.number("occupiedSpotNumber") is not None:
        free = total - (r.number("occupiedSpotNumber") or 0.0)
    return _spaces(free, total)


def _air(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    pm25 = r.number("pm25")
    return {
        "pm25": pm25,
        "pm10": r.number("pm10"),
        "aqi": r.number("airQualityIndex"),
        "airLevel": r.text("airQualityLevel", pref),
        # Korean PM2.5 grades (µg/m³): good ≤15, moderate ≤35, unhealthy ≤75, very unhealthy.
        "level": _bands(pm25, (16.0, 36.0, 76.0)),
    }


def _crowding(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    congested = r.boolean("congested")
    ordinal = r.number("congestionLevel")  # Seoul: 1 여유 … 4 붐빔
    if ordinal is not None and 1 <= ordinal <= 4:
        level: int | None = int(ordinal) - 1
    else:
        level = None if congested is None else (2 if congested else 0)
    return {"people": r.number("peopleCount"), "congested": congested, "level": level}


def _shelters(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    hazards = r.value("hazardTypes")
    capacity = r.number("capacity")
    occupancy = r.number("occupancy")
    share = occupancy / capacity if occupancy is not None and capacity else None
    return {
        "capacity": capacity,
        "occupancy": occupancy,
        "hazards": hazards if isinstance(hazards, list) else [],
        "level": _bands(share, (0.5, 0.8, 0.95)) if share is not None else 0,
    }


def _ev(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    return _spaces(r.number("availableCapacity"), r.number("capacity"))


def _weather(r: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    temperature = r.number("temperature")
    return {
        "temperature": temperature,
        "humidity": r.number("relativeHumidity"),
        "wind": r.number("windSpeed"),
        "precipitation": r.number("precipitation"),
        "level": None,
    }


@dataclass(frozen=True)
class Layer:
    id: str
    types: tuple[str, ...]
    context: tuple[str, ...]
    geometry: str  # what the front end draws: point, line or area
    fields: Callable[[Reader, tuple[str, ...]], dict[str, Any]]


LAYERS: tuple[Layer, ...] = (
    Layer("traffic", ("TrafficFlowObserved",), tuple(contexts.TRANSPORTATION), "line", _traffic),
    Layer("hazards", ("Alert",), tuple(contexts.ALERT), "area", _hazards),
    Layer(
        "parking",
        ("OffStreetParking", "OnStreetParking"),
        tuple(contexts.PARKING),
        "point",
        _parking,
    ),
    Layer("air", ("AirQualityObserved",), tuple(contexts.ENVIRONMENT), "point", _air),
    Layer("crowding", ("CrowdFlowObserved",), tuple(contexts.TRANSPORTATION), "point", _crowding),
    Layer("shelters", ("PointOfInterest",), tuple(contexts.POINT_OF_INTEREST), "point", _shelters),
    Layer("ev", ("EVChargingStation",), tuple(contexts.TRANSPORTATION), "point", _ev),
    Layer("weather", ("WeatherObserved",), tuple(contexts.WEATHER), "point", _weather),
)
BY_ID = {layer.id: layer for layer in LAYERS}
BY_TYPE = {t: layer for layer in LAYERS for t in layer.types}


def feature(layer: Layer, reader: Reader, pref: tuple[str, ...]) -> dict[str, Any] | None:
    """The GeoJSON Feature of an entity on a layer; None when it has no location."""
    geometry = reader.geometry()
    if geometry is None:
        return None
    return {
        "type": "Feature",
        "id": reader.entity["id"],
        "geometry": geometry,
        "properties": properties(layer, reader, pref),
    }


def properties(layer: Layer, reader: Reader, pref: tuple[str, ...]) -> dict[str, Any]:
    demo = reader.value("demoData")
    return {
        "id": reader.entity["id"],
        "type": reader.short_type(),
        "layer": layer.id,
        "name": reader.text("name", pref) or reader.entity["id"].rsplit(":", 1)[-1],
        "observedAt": reader.observed_at(),
        "demoData": demo if isinstance(demo, str) else None,
        **layer.fields(reader, pref),
    }
