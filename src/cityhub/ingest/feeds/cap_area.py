"""CAP ``<area>`` shapes → one GeoJSON geometry (CAP 1.2 §3.2.4; CATALOG §13).

CAP writes points latitude first (``"lat,lon"``, WGS84); GeoJSON longitude first. Every
``<polygon>`` of a message (translations repeat them: duplicates are dropped) becomes one
Polygon, or a MultiPolygon when there are several — a point "in the warned area" must match
any of them in a geoQ. Circles (``"lat,lon radius"``, km) have no GeoJSON form: with no
polygon, the first circle's centre is the Point and its radius ``data.radius``; every other
circle goes to ``data.circles`` as ``{"center": [lon, lat], "radius": km}``.
"""

from __future__ import annotations

from typing import Any

from cityhub.ingest.feeds.records import RecordError
from cityhub.ingest.feeds.values import lon_lat, number


def _pair(text: str, field: str) -> tuple[float, float]:
    """A CAP "lat,lon" pair (latitude first, WGS84) as (lon, lat)."""
    lat, comma, lon = text.partition(",")
    if not comma:
        raise RecordError(f"{field}: {text!r} is not a lat,lon pair")
    return lon_lat(lon, lat, field)


def polygon_ring(text: str) -> list[list[float]]:
    """A CAP polygon ("lat,lon lat,lon …") as a closed GeoJSON ring of [lon, lat]."""
    ring = [list(_pair(p, "polygon")) for p in text.split()]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(ring) < 4:
        raise RecordError(f"polygon {text!r} has fewer than 3 distinct points")
    return ring


def circle(text: str) -> tuple[list[float], float]:
    """A CAP circle ("lat,lon radius", radius in km) as ([lon, lat], radius)."""
    parts = text.split()
    if len(parts) != 2:
        raise RecordError(f"circle {text!r} is not 'lat,lon radius'")
    radius = number(parts[1], "circle radius")
    if radius is None or radius < 0:
        raise RecordError(f"circle {text!r} has no valid radius")
    return list(_pair(parts[0], "circle")), radius


def area_geometry(
    polygons: list[str], circles: list[str], data: dict[str, Any]
) -> dict[str, Any] | None:
    """The geometry of a message's areas; circle facts are added to ``data``."""
    rings: dict[str, list[list[float]]] = {}
    for text in polygons:
        ring = polygon_ring(text)
        rings.setdefault(repr(ring), ring)
    shapes = list({repr(found): found for found in map(circle, circles)}.values())
    if rings:
        if shapes:
            data["circles"] = [{"center": c, "radius": r} for c, r in shapes]
        coordinates = [[ring] for ring in rings.values()]
        if len(coordinates) == 1:
            return {"type": "Polygon", "coordinates": coordinates[0]}
        return {"type": "MultiPolygon", "coordinates": coordinates}
    if not shapes:
        return None
    center, radius = shapes[0]
    data["radius"] = radius
    if len(shapes) > 1:
        data["circles"] = [{"center": c, "radius": r} for c, r in shapes[1:]]
    return {"type": "Point", "coordinates": center}
