"""The offline basemap around a city (issue 7: "an offline basemap good enough to orient:
coastlines, borders"): Natural Earth land, coastlines and borders from the world-atlas
TopoJSON (npm), cut to the city's surroundings on the hub, once per city.

Cutting on the server is what makes the first map fast: the browser receives one small
GeoJSON collection (50–150 kB) that MapLibre's worker parses, instead of downloading the
3.6 MB world and decoding it on a phone's or a software-rendered browser's few cores.

TopoJSON (https://github.com/topojson/topojson-specification): shapes are lists of arcs;
arcs are delta-encoded integer positions under a ``transform``; an arc used by one shape is
a coastline, by two a border between countries.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray

REACH_LON = 10.0  # degrees around the city's centre: about 1,000 km, enough to orient
REACH_LAT = 8.0
GRID = 1e-4  # coordinates kept to ~10 m: finer than the 1:10m data itself
# Detail falls with distance from the city, as it does on screen: within NEAR (~150 km, the
# whole view from the city zooms down to about 8) lines keep ~200 m, beyond it ~2 km, which
# is under a pixel at the zooms that show it (5–7). Seoul's cut went from 19,052 to 6,601
# vertices (388 -> 154 kB): MapLibre's single worker on a two-core machine parses and tiles
# it ahead of the city's own data, and the first map came ~0.2 s sooner.
NEAR_LON = 1.5
NEAR_LAT = 1.2
SIMPLIFY = 2e-3  # ~200 m: invisible at the zooms a city is looked at
SIMPLIFY_FAR = 2e-2  # ~2 km


@dataclass(frozen=True)
class Arc:
    line: NDArray[np.float64]  # (n, 2) lon/lat
    box: tuple[float, float, float, float]
    uses: int


def _decode_arcs(topology: dict[str, Any]) -> list[NDArray[np.float64]]:
    transform = topology.get("transform")
    arcs: list[NDArray[np.float64]] = []
    for raw in topology["arcs"]:
        points = np.asarray(raw, dtype=np.float64)[:, :2]
        if transform:
            points = np.cumsum(points, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(points)
    return arcs


def _arc_indexes(item: Any) -> list[int]:
    """Every arc index (negative ones complemented) in a shape's nested arc lists."""
    if isinstance(item, list):
        return [i for part in item for i in _arc_indexes(part)]
    return [item if item >= 0 else ~item]


class World:
    """The decoded world: arcs with their bounding boxes and use counts, and each shape's
    rings as arc references with the shape's bounding box."""

    def __init__(self, topology: dict[str, Any]) -> None:
        lines = _decode_arcs(topology)
        objects = topology["objects"]
        shapes_object = objects.get("countries") or objects["land"]
        self.has_borders = "countries" in objects
        geometries = (
            shapes_object["geometries"]
            if shapes_object.get("type") == "GeometryCollection"
            else [shapes_object]
        )
        uses = [0] * len(lines)
        self.shapes: list[tuple[dict[str, Any], tuple[float, float, float, float]]] = []
        boxes = [
            (
                float(line[:, 0].min()),
                float(line[:, 1].min()),
                float(line[:, 0].max()),
                float(line[:, 1].max()),
            )
            for line in lines
        ]
        for geometry in geometries:
            indexes = _arc_indexes(geometry.get("arcs", []))
            for i in indexes:
                uses[i] += 1
            if not indexes:
                continue
            self.shapes.append(
                (
                    geometry,
                    (
                        min(boxes[i][0] for i in indexes),
                        min(boxes[i][1] for i in indexes),
                        max(boxes[i][2] for i in indexes),
                        max(boxes[i][3] for i in indexes),
                    ),
                )
            )
        self.arcs = [Arc(line, box, n) for line, box, n in zip(lines, boxes, uses, strict=True)]

    def ring(self, refs: list[int]) -> NDArray[np.float64]:
        """A closed ring from its arcs (each arc's first point repeats the previous last)."""
        parts = []
        for k, ref in enumerate(refs):
            line = self.arcs[ref].line if ref >= 0 else self.arcs[~ref].line[::-1]
            parts.append(line if k == 0 else line[1:])
        return np.concatenate(parts)

    def polygons(self, geometry: dict[str, Any]) -> list[shapely.Polygon]:
        kind, arcs = geometry.get("type"), geometry.get("arcs", [])
        polygons = [arcs] if kind == "Polygon" else arcs if kind == "MultiPolygon" else []
        made = []
        for rings in polygons:
            coords = [self.ring(refs) for refs in rings]
            if len(coords[0]) >= 4:
                made.append(shapely.Polygon(coords[0], [c for c in coords[1:] if len(c) >= 4]))
        return made

    def around(self, center: tuple[float, float]) -> dict[str, Any]:
        """Land, coastlines and borders within reach of ``center`` as one FeatureCollection
        whose features say their ``kind`` (land, coast, border)."""
        lon, lat = center
        area = (lon - REACH_LON, lat - REACH_LAT, lon + REACH_LON, lat + REACH_LAT)
        near = (lon - NEAR_LON, lat - NEAR_LAT, lon + NEAR_LON, lat + NEAR_LAT)
        features: list[dict[str, Any]] = []

        def add(kind: str, geometry: shapely.Geometry) -> None:
            """The geometry in detail near the city and coarsely around that."""
            far = shapely.difference(shapely.clip_by_rect(geometry, *area), shapely.box(*near))
            _add(features, kind, shapely.clip_by_rect(geometry, *near), SIMPLIFY)
            _add(features, kind, far, SIMPLIFY_FAR)

        for geometry, box in self.shapes:
            if not _overlaps(box, area):
                continue
            for polygon in self.polygons(geometry):
                add("land", shapely.make_valid(polygon))
        for arc in self.arcs:
            if arc.uses == 0 or not _overlaps(arc.box, area):
                continue
            kind = "coast" if arc.uses == 1 or not self.has_borders else "border"
            add(kind, shapely.LineString(arc.line))
        return {"type": "FeatureCollection", "features": features}


def _overlaps(box: tuple[float, ...], area: tuple[float, ...]) -> bool:
    return not (box[2] < area[0] or box[0] > area[2] or box[3] < area[1] or box[1] > area[3])


def _add(
    features: list[dict[str, Any]], kind: str, geometry: shapely.Geometry, tolerance: float
) -> None:
    geometry = shapely.set_precision(shapely.simplify(geometry, tolerance), GRID)
    if geometry.is_empty:
        return
    if kind == "land":
        geometry = shapely.union_all(
            [g for g in shapely.get_parts(geometry) if isinstance(g, shapely.Polygon)]
        )
        if geometry.is_empty:
            return
    features.append(
        {"type": "Feature", "properties": {"kind": kind}, "geometry": _geojson(geometry)}
    )


def _geojson(geometry: shapely.Geometry) -> Any:
    return orjson.loads(shapely.to_geojson(geometry))


@dataclass(frozen=True)
class Cut:
    """One city's basemap, ready to send: the JSON, its gzip and an ETag."""

    body: bytes
    gzipped: bytes
    etag: str


class Basemaps:
    """The world read once (lazily, about half a second) and each city's cut kept."""

    def __init__(self, atlas: Path) -> None:
        self.atlas = atlas
        self._world: World | None = None
        self._cuts: dict[tuple[float, float], Cut] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.atlas.is_file()

    def around(self, center: tuple[float, float]) -> Cut:
        """The basemap around ``center`` (blocking: call it from a thread)."""
        key = (round(center[0], 4), round(center[1], 4))
        cut = self._cuts.get(key)
        if cut is not None:
            return cut
        with self._lock:
            cut = self._cuts.get(key)
            if cut is None:
                if self._world is None:
                    self._world = World(orjson.loads(self.atlas.read_bytes()))
                body = orjson.dumps(self._world.around(key))
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                cut = self._cuts[key] = Cut(body, gzip.compress(body, 6), etag)
        return cut
