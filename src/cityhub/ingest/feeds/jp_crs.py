"""Japanese plane-rectangular coordinates (平面直角座標系) → WGS84 longitude/latitude.

Municipal GIS exports of Japanese open data are often in one of the 19 plane-rectangular
systems (metres; JGD2011 EPSG:6669–6687, JGD2000 EPSG:2443–2461) — the Nanao shelter GeoJSON of
CATALOG §9 is in EPSG:6675 (zone VII). pyproj converts them; one Transformer per system is
built on first use and kept. Geographic JGD2011, JGD2000 and WGS84 differ by centimetres, so
their degrees are used as they are.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pyproj import Transformer

from cityhub.ingest.feeds.records import RecordError
from cityhub.ingest.feeds.values import lon_lat, number

_PLANE_RECTANGULAR = frozenset(range(6669, 6688)) | frozenset(range(2443, 2462))
_GEOGRAPHIC = frozenset({4326, 6668, 4612})


def epsg_code(name: Any) -> int | None:
    """The plane-rectangular EPSG code named by ``"EPSG:6675"``, ``"urn:ogc:def:crs:EPSG::6675"``
    or ``6675``; None for WGS84/JGD degrees (``CRS84``, 4326, 6668, 4612). RecordError for
    any other system."""
    value = str(name).strip()
    if re.search(r"CRS:?84$", value, re.IGNORECASE):
        return None
    match = re.fullmatch(r"(?:.*EPSG\D*)?(\d{4,5})", value, re.IGNORECASE)
    if match is None:
        raise RecordError(f"CRS {value!r} is not an EPSG code")
    code = int(match.group(1))
    if code in _GEOGRAPHIC:
        return None
    if code not in _PLANE_RECTANGULAR:
        raise RecordError(
            f"CRS EPSG:{code} is not supported (WGS84/JGD degrees or a Japanese "
            "plane-rectangular system EPSG:6669-6687, 2443-2461)"
        )
    return code


def crs_of_geojson(doc: dict[str, Any]) -> int | None:
    """The code named by a GeoJSON ``crs`` member (2008 GeoJSON, still written by GIS tools:
    ``{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6675"}}``)."""
    member = doc.get("crs")
    if not isinstance(member, dict) or not isinstance(member.get("properties"), dict):
        return None
    properties = member["properties"]
    named = properties.get("name", properties.get("code"))
    return None if named is None else epsg_code(named)


@cache
def _transformer(code: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{code}", "EPSG:4326", always_xy=True)


def to_wgs84(x: Any, y: Any, crs: int | None, field: str) -> tuple[float, float]:
    """WGS84 (lon, lat) from ``x``/``y`` — degrees when ``crs`` is None, else easting and
    northing in metres of that plane-rectangular system (GIS order, not the surveyors' X=north)."""
    if crs is None:
        return lon_lat(x, y, field)
    east, north = number(x, f"{field} x"), number(y, f"{field} y")
    if east is None or north is None:
        raise RecordError(f"{field}: coordinates are missing")
    lon, lat = _transformer(crs).transform(east, north)
    x_deg, y_deg = lon_lat(lon, lat, field)
    return round(x_deg, 7), round(y_deg, 7)
