"""Geo-queries (clause 4.10): georel, geometry, coordinates and geoproperty → ``GeoQuery``.

As query parameters of Query Entities (clause 5.7.2)::

    georel=near;maxDistance==2000&geometry=Point&coordinates=[126.97,37.56]

or as a GeoQuery object (clause 5.2.13) in a Query (POST /entityOperations/query, clause
5.2.23), where ``coordinates`` is a JSON array or a string holding one::

    {"georel": "within", "geometry": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}

georel (ABNF of clause 4.10): ``equals``, ``disjoint``, ``intersects``, ``within``,
``contains``, ``overlaps``, or ``near;maxDistance==N`` / ``near;minDistance==N`` with N a
non-negative number of metres (the distance may also come first: ``maxDistance==N;near``).
The geometry is a GeoJSON geometry (RFC 7946) in WGS84 longitude/latitude; Polygon rings are
closed and Polygons valid (no self-intersection). ``geoproperty`` stays the name as written;
``query.resolve`` expands it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
import shapely
from shapely.geometry import shape

from cityhub.errors import BadRequestData
from cityhub.model.values import check_geometry
from cityhub.query.ast import GEORELS, GeoQuery

QUERY_GEOMETRIES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
DISTANCES = ("maxDistance", "minDistance")
DEFAULT_GEOPROPERTY = "location"
_DISTANCE = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
_JSON_MEMBERS = frozenset({"georel", "geometry", "coordinates", "geoproperty"})


class GeoQueryError(BadRequestData):
    """A geo-query that is not valid; ``detail`` names the parameter and the problem."""


def parse_geo_query(
    georel: str | None,
    geometry: str | None,
    coordinates: str | None,
    geoproperty: str | None,
) -> GeoQuery | None:
    """The geo-query of a request's parameters (clause 4.10), None when there is none.

    Raises GeoQueryError (BadRequestData) when only some of georel, geometry and coordinates
    are present (naming the missing ones) or one of them is not valid. ``geoproperty``
    without a geo-query is ignored, as the spec's description of the parameter says.
    """
    given = {"georel": georel, "geometry": geometry, "coordinates": coordinates}
    if all(value is None for value in given.values()):
        return None
    if georel is None or geometry is None or coordinates is None:
        raise _missing(given, "A geo-query")
    return _build(georel, geometry, coordinates, geoproperty, prefix="")


def geo_query_from_json(obj: Any) -> GeoQuery:
    """The GeoQuery object of a Query or Subscription (clause 5.2.13) as a ``GeoQuery``.

    ``coordinates`` is a JSON array or a string holding one (clause 4.7.1). Raises
    GeoQueryError (BadRequestData) as ``parse_geo_query`` does, and for unknown members.
    """
    if not isinstance(obj, dict):
        raise GeoQueryError("geoQ must be a GeoQuery object")
    unknown = sorted(set(obj) - _JSON_MEMBERS)
    if unknown:
        raise GeoQueryError(f"geoQ has the unknown member {unknown[0]!r}")
    given = {name: obj.get(name) for name in ("georel", "geometry", "coordinates")}
    if any(value is None for value in given.values()):
        raise _missing(given, "geoQ")
    for name in ("georel", "geometry", "geoproperty"):
        if name in obj and not isinstance(obj[name], str):
            raise GeoQueryError(f"geoQ.{name} must be a string, got {obj[name]!r}")
    coordinates = obj["coordinates"]
    if not isinstance(coordinates, str | list):
        raise GeoQueryError(
            f"geoQ.coordinates must be a JSON array or a string holding one, got {coordinates!r}"
        )
    return _build(
        obj["georel"], obj["geometry"], coordinates, obj.get("geoproperty"), prefix="geoQ."
    )


def parse_georel(text: str, parameter: str = "georel") -> tuple[str, float | None, float | None]:
    """``near;maxDistance==2000`` → ("near", 2000.0, None) (clause 4.10).

    Returns the relation, the maximum and the minimum distance in metres; raises
    GeoQueryError naming the position and the problem.
    """

    def fail(message: str, at: int) -> GeoQueryError:
        return GeoQueryError(f"{parameter}: {message} at position {at}")

    if not text:
        raise GeoQueryError(f"{parameter} is empty")
    tokens: list[tuple[str, int]] = []
    offset = 0
    for token in text.split(";"):
        if not token:
            raise fail("expected a geo-relationship or a distance", offset)
        tokens.append((token, offset))
        offset += len(token) + 1
    relations = [index for index, (token, _) in enumerate(tokens) if "==" not in token]
    if not relations:
        raise fail("expected a geo-relationship such as near or within", 0)
    relation, at = tokens[relations[0]]
    if relation not in GEORELS:
        known = ", ".join(sorted(GEORELS))
        raise fail(f"unknown geo-relationship {relation!r}; expected one of {known}", at)
    arguments = tokens[: relations[0]] + tokens[relations[0] + 1 :]
    if relation != "near":
        if arguments:
            token, at = arguments[0]
            raise fail(f"{relation} takes no distance or other argument, got {token!r}", at)
        return relation, None, None
    if not arguments:
        raise fail("near needs maxDistance==N or minDistance==N", len(text))
    if len(arguments) > 1:
        raise fail("near takes exactly one of maxDistance==N and minDistance==N", arguments[1][1])
    token, at = arguments[0]
    key, equals, number = token.partition("==")
    if not equals or key not in DISTANCES:
        raise fail(f"expected maxDistance==N or minDistance==N, got {token!r}", at)
    number_at = at + len(key) + 2
    if not _DISTANCE.match(number) or not math.isfinite(float(number)):
        raise fail(f"{key} needs a non-negative number of metres, got {number!r}", number_at)
    distance = float(number)
    return ("near", distance, None) if key == "maxDistance" else ("near", None, distance)


def parse_geometry(geometry: str, coordinates: str | list[Any], prefix: str = "") -> dict[str, Any]:
    """A GeoJSON geometry from the geometry type name and the coordinates (clause 4.10).

    ``coordinates`` is the JSON text of the array (or the array itself). Raises
    GeoQueryError (BadRequestData) for unsupported types, JSON that is not an array of
    positions, positions outside longitude/latitude range, unclosed rings and invalid
    (self-intersecting) polygons.
    """
    if geometry not in QUERY_GEOMETRIES:
        known = ", ".join(sorted(QUERY_GEOMETRIES))
        raise GeoQueryError(
            f"{prefix}geometry: {geometry!r} is not a supported geometry; expected one of {known}"
        )
    where = prefix + "coordinates"
    if isinstance(coordinates, str):
        if not coordinates:
            raise GeoQueryError(f"{where} is empty")
        try:
            coords = orjson.loads(coordinates)
        except orjson.JSONDecodeError as exc:
            problem = f"{where}: not valid JSON ({exc.msg}) at position {exc.pos}"
            raise GeoQueryError(problem) from exc
    else:
        coords = coordinates
    if not isinstance(coords, list):
        raise GeoQueryError(f"{where}: must be a JSON array of positions, got {coords!r}")
    value: dict[str, Any] = {"type": geometry, "coordinates": coords}
    try:
        check_geometry(value, where=where)
    except BadRequestData as exc:
        raise GeoQueryError(exc.detail) from exc
    if geometry in {"Polygon", "MultiPolygon"}:
        # Predicates on a self-intersecting polygon have no defined answer, and GEOS may fail
        # on one: reject it here rather than in the database.
        reason = shapely.is_valid_reason(shape(value))
        if reason != "Valid Geometry":
            raise GeoQueryError(f"{where}: the {geometry} is not valid ({reason})")
    return value


def _missing(given: dict[str, Any], what: str) -> GeoQueryError:
    missing = [name for name, value in given.items() if value is None]
    names = " and ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return GeoQueryError(f"{what} needs georel, geometry and coordinates; {names} {verb} missing")


def _build(
    georel: str,
    geometry: str,
    coordinates: str | list[Any],
    geoproperty: str | None,
    prefix: str,
) -> GeoQuery:
    relation, max_distance, min_distance = parse_georel(georel, prefix + "georel")
    value = parse_geometry(geometry, coordinates, prefix)
    if geoproperty is None:
        geoproperty = DEFAULT_GEOPROPERTY
    elif not geoproperty:
        raise GeoQueryError(f"{prefix}geoproperty is empty")
    return GeoQuery(
        georel=relation,
        geometry=value,
        geoproperty=geoproperty,
        max_distance=max_distance,
        min_distance=min_distance,
    )


__all__ = [
    "DEFAULT_GEOPROPERTY",
    "QUERY_GEOMETRIES",
    "GeoQueryError",
    "geo_query_from_json",
    "parse_geo_query",
    "parse_geometry",
    "parse_georel",
]
