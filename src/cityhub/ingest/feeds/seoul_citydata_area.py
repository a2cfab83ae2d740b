"""The hotspot area a ``citydata`` response describes, and its coordinate encodings.

CATALOG §1: the response names the area (``AREA_CD`` POIxxx, ``AREA_NM``) but has no polygon
(that needs Seoul's boundary file of the 121 hotspots). Area-level entities (crowd, weather,
air quality, the area's average road speed) are therefore placed at the **centroid of the
response's own coordinates**: the mean of the distinct facility points it lists (road link
vertices, car parks, stations, bike docks, chargers). It is an approximation of the area's
middle, stable from one response to the next; with no coordinates at all, location is left
out. Coordinates come as ``"lon_lat"``, ``"lon_lat|lon_lat|…"`` or separate X (lon) / Y (lat)
fields, as strings or numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cityhub.ingest.feeds.kr_openapi import SEOUL_PROVIDER, quiet_text, rows
from cityhub.ingest.feeds.ngsi import Attribute, point, prop
from cityhub.ingest.feeds.records import RecordError
from cityhub.ingest.feeds.values import lon_lat, text

SOURCE = "https://data.seoul.go.kr/dataList/OA-21285/F/1/datasetView.do"
_AREA_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
# Blocks listing facilities, with their longitude and latitude fields.
_POINT_BLOCKS = (
    ("PRK_STTS", "LNG", "LAT"),
    ("SUB_STTS", "SUB_STN_X", "SUB_STN_Y"),
    ("BUS_STN_STTS", "BUS_STN_X", "BUS_STN_Y"),
    ("SBIKE_STTS", "SBIKE_X", "SBIKE_Y"),
    ("CHARGER_STTS", "STAT_X", "STAT_Y"),
)


@dataclass(frozen=True)
class Area:
    code: str | None  # AREA_CD, None when the response lacks a usable one
    name: str | None  # AREA_NM (Korean)
    centre: tuple[float, float] | None  # see the module docstring

    def id_part(self) -> str:
        if self.code is None:
            raise RecordError("AREA_CD is missing: area-level entities cannot be named")
        return self.code

    def location(self) -> Attribute | None:
        return None if self.centre is None else point(*self.centre)


def read_area(citydata: dict[str, Any], first: dict[str, Any] | None = None) -> Area:
    """The area of a CITYDATA block (or of a citydata_ppltn record, ``first``)."""
    sources = [source for source in (citydata, first) if isinstance(source, dict)]
    code = next((c for s in sources if (c := quiet_text(s.get("AREA_CD")))), None)
    name = next((n for s in sources if (n := quiet_text(s.get("AREA_NM")))), None)
    if code is not None and not _AREA_CODE.match(code):
        code = None
    return Area(code, name, centroid(area_points(citydata)))


def common() -> dict[str, Attribute | None]:
    """dataProvider and source, the same on every citydata entity."""
    return {"dataProvider": prop(SEOUL_PROVIDER), "source": prop(SOURCE)}


def xy(raw: Any, field: str) -> tuple[float, float]:
    """``"126.97_37.57"`` (longitude first)."""
    value = text(raw, field)
    if value is None:
        raise RecordError(f"{field}: coordinates are missing")
    lon, separator, lat = value.partition("_")
    if not separator:
        raise RecordError(f"{field}: {value!r} is not lon_lat")
    return lon_lat(lon, lat, field)


def xy_list(raw: Any, field: str) -> list[tuple[float, float]]:
    """``"lon_lat|lon_lat|…"``; empty when the field is empty."""
    value = text(raw, field)
    if value is None:
        return []
    return [xy(part, field) for part in value.split("|") if part.strip()]


def line(vertices: list[tuple[float, float]]) -> dict[str, Any] | None:
    """A GeoJSON LineString, or None with fewer than two distinct vertices."""
    if len(set(vertices)) < 2:
        return None
    return {"type": "LineString", "coordinates": [[lon, lat] for lon, lat in vertices]}


def centroid(points: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    """Mean of the distinct points, rounded to 1e-6 degree (~0.1 m) so it is stable."""
    distinct = list(dict.fromkeys(points))
    if not distinct:
        return None
    lon = sum(p[0] for p in distinct) / len(distinct)
    lat = sum(p[1] for p in distinct) / len(distinct)
    return round(lon, 6), round(lat, 6)


def road_points(citydata: dict[str, Any]) -> list[tuple[float, float]]:
    """Vertices of the road links (a link whose geometry is broken is left out)."""
    block = citydata.get("ROAD_TRAFFIC_STTS")
    links = rows(block.get("ROAD_TRAFFIC_STTS")) if isinstance(block, dict) else []
    found: list[tuple[float, float]] = []
    for link in links:
        if isinstance(link, dict):
            try:
                found.extend(xy_list(link.get("XYLIST"), "XYLIST"))
            except RecordError:
                continue
    return found


def area_points(citydata: dict[str, Any]) -> list[tuple[float, float]]:
    """Every usable facility coordinate in the response (bad ones are rejected elsewhere)."""
    found = road_points(citydata)
    for block, lon_field, lat_field in _POINT_BLOCKS:
        for record in rows(citydata.get(block)):
            if not isinstance(record, dict):
                continue
            try:
                found.append(lon_lat(record.get(lon_field), record.get(lat_field), block))
            except RecordError:
                continue
    return found
