"""Geo-query relations between one stored geometry and a query geometry (clause 4.10).

The one implementation behind ``query.evaluate`` and SQLite's ``cityhub_geo_match``, and the
model PostgreSQL is held to: the OGC predicates (within, contains, intersects, equals,
disjoint, overlaps) on lon/lat as planar coordinates, as PostGIS ``geometry`` computes them;
``near`` distances in metres on the sphere of radius 6,371,008.77 m with great-circle edges,
as PostGIS ``geography`` computes them with ``use_spheroid = false``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.7714
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180

Vector = tuple[float, float, float]

# The same relations with the query geometry first, so that GEOS uses its prepared form.
_QUERY_FIRST = {
    "within": shapely.contains,  # stored within query  <=>  query contains stored
    "contains": shapely.within,  # stored contains query <=>  query within stored
    "intersects": shapely.intersects,
    "equals": shapely.equals,
    "disjoint": shapely.disjoint,
    "overlaps": shapely.overlaps,
}


def relates(
    georel: str,
    stored: BaseGeometry,
    query: BaseGeometry,
    max_distance: float | None = None,
    min_distance: float | None = None,
) -> bool:
    """Whether ``stored`` (an entity's geometry) relates to ``query`` as ``georel`` says."""
    if georel == "near":
        if max_distance is not None:
            return _distance_against(stored, query, max_distance) <= max_distance
        limit = min_distance or 0.0
        return _distance_against(stored, query, limit) >= limit
    return bool(_QUERY_FIRST[georel](query, stored))


def _distance_against(stored: BaseGeometry, query: BaseGeometry, limit: float) -> float:
    """The sphere distance, or an estimate that lies on the same side of ``limit`` as it.

    A local equirectangular projection around the query (longitudes scaled by the cosine of
    its latitude) is off by less than ``margin`` near the query, so an estimate clearly
    below or above the limit settles the comparison in GEOS; only candidates close to the
    limit pay for the exact great-circle computation.
    """
    lat, scale, squeezed = _projected(query)
    reach = math.degrees(limit / EARTH_RADIUS_M)
    if abs(lat) + reach < 80:
        margin = 0.005 + 2 * (limit / EARTH_RADIUS_M) * math.tan(math.radians(abs(lat) + reach))
        if margin < 0.05:
            estimate = METRES_PER_DEGREE * shapely.distance(
                shapely.transform(stored, lambda xy: xy * scale), squeezed
            )
            if estimate < limit * (1 - margin) or estimate > limit * (1 + margin):
                return float(estimate)
    return sphere_distance(stored, query)


# Prepared geometries are cached per thread: GEOS builds a prepared geometry's index lazily,
# on first use, and shapely releases the GIL while it does, so one prepared geometry used by
# two of SQLite's reader threads at once crashed the process (seen under 8 concurrent
# within-queries). Each thread gets its own copy.
_CACHE_SIZE = 256
_per_thread = threading.local()


def _thread_cache(name: str) -> dict[Any, Any]:
    cache: dict[Any, Any] | None = getattr(_per_thread, name, None)
    if cache is None or len(cache) >= _CACHE_SIZE:
        cache = {}
        setattr(_per_thread, name, cache)
    return cache


def _projected(query: BaseGeometry) -> tuple[float, tuple[float, float], BaseGeometry]:
    """The query's latitude, the projection's scale and the query projected (cached)."""
    cache = _thread_cache("projected")
    key = id(query)
    found = cache.get(key)
    if found is not None and found[0] is query:
        return found[1]
    lat = float(query.centroid.y)
    scale = (math.cos(math.radians(lat)), 1.0)
    squeezed = shapely.transform(query, lambda xy: xy * scale)
    shapely.prepare(squeezed)
    result = (lat, scale, squeezed)
    cache[key] = (query, result)  # the query kept alive, so its id is not reused meanwhile
    return result


def shape_of_json(text: str) -> BaseGeometry:
    """A query's GeoJSON geometry as a prepared shapely geometry (queries repeat: cached
    per thread)."""
    cache = _thread_cache("shapes")
    geometry = cache.get(text)
    if geometry is None:
        geometry = shapely.from_geojson(text)
        shapely.prepare(geometry)
        cache[text] = geometry
    return geometry


def stored_shape(text: str) -> BaseGeometry:
    """A stored GeoProperty value (GeoJSON text) as a shapely geometry."""
    return shapely.from_geojson(text)


def shape_of(geometry: dict[str, Any]) -> BaseGeometry:
    return shapely.from_geojson(orjson.dumps(geometry))


# --- distances on the sphere ---------------------------------------------------------


def _vector(lon: float, lat: float) -> Vector:
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def _cross(a: Vector, b: Vector) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: Vector, b: Vector) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _norm(a: Vector) -> float:
    return math.sqrt(_dot(a, a))


def _angle(a: Vector, b: Vector) -> float:
    return math.atan2(_norm(_cross(a, b)), _dot(a, b))


def _point_arc(p: Vector, a: Vector, b: Vector) -> float:
    """Angle from p to the shorter great-circle arc a–b."""
    normal = _cross(a, b)
    length = _norm(normal)
    if length < 1e-15:
        return min(_angle(p, a), _angle(p, b))
    n = (normal[0] / length, normal[1] / length, normal[2] / length)
    off = _dot(p, n)
    foot = (p[0] - off * n[0], p[1] - off * n[1], p[2] - off * n[2])
    if _dot(_cross(a, foot), n) >= 0 and _dot(_cross(foot, b), n) >= 0:
        return math.atan2(abs(off), _norm(foot))
    return min(_angle(p, a), _angle(p, b))


def _parts(geometry: BaseGeometry) -> Iterator[list[Vector]]:
    """Vertex chains: a point is a chain of one, a polygon one chain per ring."""
    for part in getattr(geometry, "geoms", [geometry]):
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            for ring in rings:
                yield [_vector(x, y) for x, y, *_ in ring.coords]
        elif part.geom_type in {"Point", "LineString", "LinearRing"}:
            yield [_vector(x, y) for x, y, *_ in part.coords]
        else:  # a GeometryCollection nested in a collection
            yield from _parts(part)


def _chain_distance(points: list[Vector], chain: list[Vector]) -> float:
    if len(chain) == 1:
        return min(_angle(p, chain[0]) for p in points)
    return min(_point_arc(p, chain[i], chain[i + 1]) for p in points for i in range(len(chain) - 1))


def point_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two points: ``sphere_distance`` of two Points,
    without building geometries (SQLite's near check for point GeoProperties)."""
    return _angle(_vector(lon1, lat1), _vector(lon2, lat2)) * EARTH_RADIUS_M


def sphere_distance(a: BaseGeometry, b: BaseGeometry) -> float:
    """Shortest distance in metres between two lon/lat geometries on the sphere; 0 when they
    intersect (a point inside a polygon, crossing lines)."""
    if shapely.intersects(a, b):
        return 0.0
    chains_a, chains_b = list(_parts(a)), list(_parts(b))
    best = math.inf
    for ca in chains_a:
        for cb in chains_b:
            best = min(best, _chain_distance(ca, cb), _chain_distance(cb, ca))
    return best * EARTH_RADIUS_M
