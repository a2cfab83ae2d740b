"""Bounding boxes that every geoQ match must touch: the prefilter of the SQLite store."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from cityhub.query.ast import GeoQuery

# The sphere PostGIS geography uses when told not to use the spheroid (mean WGS84 radius).
EARTH_RADIUS_M = 6_371_008.7714


def positions(geometry: dict[str, Any]) -> Iterator[tuple[float, float]]:
    """Every (lon, lat) of a GeoJSON geometry."""
    if geometry.get("type") == "GeometryCollection":
        for member in geometry.get("geometries", []):
            yield from positions(member)
        return

    def walk(node: Any) -> Iterator[tuple[float, float]]:
        if node and isinstance(node[0], int | float):
            yield float(node[0]), float(node[1])
        else:
            for item in node:
                yield from walk(item)

    yield from walk(geometry.get("coordinates") or [])


def bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat)."""
    xs, ys = zip(*positions(geometry), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def query_bounds(geo: GeoQuery) -> tuple[float, float, float, float] | None:
    """The box an entity's geometry must intersect to match, or None when no box bounds
    the answer (``disjoint``, ``near;minDistance``)."""
    if geo.georel == "disjoint" or (geo.georel == "near" and geo.max_distance is None):
        return None
    minx, miny, maxx, maxy = bbox(geo.geometry)
    if geo.georel != "near" or geo.max_distance is None:
        return minx, miny, maxx, maxy
    angle = geo.max_distance / EARTH_RADIUS_M  # the distance as an angle at the centre
    margin = math.degrees(angle) * 1.001 + 1e-9
    steepest = math.cos(math.radians(max(abs(miny), abs(maxy))))
    if miny - margin <= -90 or maxy + margin >= 90 or math.sin(angle) >= steepest:
        return -180.0, max(miny - margin, -90.0), 180.0, min(maxy + margin, 90.0)
    # The farthest longitude reached from latitude φ at angular distance a: asin(sin a / cos φ).
    dlon = math.degrees(math.asin(math.sin(angle) / steepest)) * 1.001 + 1e-9
    if minx - dlon <= -180 or maxx + dlon >= 180:
        return -180.0, miny - margin, 180.0, maxy + margin
    return minx - dlon, miny - margin, maxx + dlon, maxy + margin
