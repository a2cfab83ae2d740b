"""SQL functions the SQLite backend registers on every connection.

The query compiler (``cityhub_regexp``, ``cityhub_instant``, ``cityhub_geo_match``) calls
them, so they run inside SQLite's query loop, next to the cell-range and JSON1 filters, and
never see rows the SQL has ruled out. Migrations use ``cityhub_bbox`` and ``cityhub_cell``
to index geometries stored before them.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from functools import lru_cache

import orjson

from cityhub.query.geometry import point_distance, relates, shape_of_json, stored_shape
from cityhub.query.instants import instant_micros
from cityhub.storage.sql.geo_bounds import bbox
from cityhub.storage.sql.geo_cells import cell_of_box


@lru_cache(maxsize=128)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regexp(pattern: str, text: object) -> bool:
    """``cityhub_regexp(pattern, text)``: Python ``re.search`` (q ``~=``, idPattern, scopeQ)."""
    return isinstance(text, str) and _compiled(pattern).search(text) is not None


_last_box = threading.local()  # writer and reader threads each keep their own


def bounding_box(geojson: str, index: int) -> float:
    """``cityhub_bbox(geojson, i)``: coordinate i of (min lon, min lat, max lon, max lat).

    Migrations ask for the four in a row: the last geometry's box is kept.
    """
    if getattr(_last_box, "text", None) != geojson:
        _last_box.box = bbox(orjson.loads(geojson))
        _last_box.text = geojson
    box: tuple[float, float, float, float] = _last_box.box
    return float(box[index])


def geo_match(georel: str, stored: str, query: str, distance: float | None, which: str) -> bool:
    """``cityhub_geo_match``: the exact check after the cell and box prefilter
    (query/geometry.py)."""
    return relates(
        georel,
        stored_shape(stored),
        shape_of_json(query),
        max_distance=distance if which == "max" else None,
        min_distance=distance if which == "min" else None,
    )


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("cityhub_regexp", 2, regexp, deterministic=True)
    conn.create_function("cityhub_instant", 1, instant_micros, deterministic=True)
    conn.create_function("cityhub_bbox", 2, bounding_box, deterministic=True)
    conn.create_function("cityhub_geo_match", 5, geo_match, deterministic=True)
    conn.create_function("cityhub_cell", 4, cell_of_box, deterministic=True)
    conn.create_function("cityhub_point_distance", 4, point_distance, deterministic=True)
