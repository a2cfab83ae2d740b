"""Validation of the scalar shapes NGSI-LD prescribes: URIs, DateTimes, language tags,
GeoJSON geometries (clauses 4.6, 4.7, 5.2.2)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from cityhub.errors import BadRequestData

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
# Characters clause 4.6.2 forbids in names: they break q, attrs and URL paths.
_FORBIDDEN_NAME_CHARS = re.compile(r"[\s<>\"'=;()\[\]{}\\&?,|!~%^`]|[\x00-\x1f\x7f]")
_SCOPE = re.compile(r"^/[^/#+\s]+(/[^/#+\s]+)*$")

GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


def is_uri(text: Any) -> bool:
    return isinstance(text, str) and bool(_URI.match(text))


def require_uri(text: Any, what: str) -> str:
    if not is_uri(text):
        raise BadRequestData(f"{what} must be a URI, got {text!r}")
    return str(text)


def check_name(name: Any, what: str = "Attribute name") -> str:
    """Attribute names and types: non-empty strings without characters the APIs reserve."""
    if not isinstance(name, str) or not name:
        raise BadRequestData(f"{what} must be a non-empty string, got {name!r}")
    if _URI.match(name) and "//" in name:
        return name  # a full IRI: its own syntax is checked by the URI pattern
    bad = _FORBIDDEN_NAME_CHARS.search(name)
    if bad:
        raise BadRequestData(f"{what} {name!r} contains the forbidden character {bad.group()!r}")
    return name


def check_scope(scope: Any) -> list[str]:
    """Entity scope (clause 4.18): a scope string or an array of them, like /Seoul/Jongno."""
    items = scope if isinstance(scope, list) else [scope]
    if not items:
        raise BadRequestData("scope must not be empty")
    for item in items:
        if not isinstance(item, str) or not _SCOPE.match(item):
            raise BadRequestData(f"scope {item!r} is not a valid scope such as /City/District")
    return list(dict.fromkeys(items))


def parse_datetime(text: Any, what: str) -> datetime:
    """An ISO 8601 DateTime (clause 4.6.3); a missing offset means UTC.

    Raises BadRequestData, also when the offset moves the instant outside years 1-9999.
    """
    if not isinstance(text, str) or "T" not in text:
        raise BadRequestData(f"{what} must be an ISO 8601 DateTime, got {text!r}")
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BadRequestData(f"{what} must be an ISO 8601 DateTime, got {text!r}") from exc


def format_datetime(moment: datetime) -> str:
    """UTC with Z; fractions only as precise as needed (ms or µs), so inputs round-trip.

    Years always have four digits (``0999-01-01T00:00:00Z``), as ISO 8601 requires.
    """
    moment = moment.astimezone(UTC)
    base = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    micro = moment.microsecond
    if micro == 0:
        return base + "Z"
    if micro % 1000 == 0:
        return f"{base}.{micro // 1000:03d}Z"
    return f"{base}.{micro:06d}Z"


# Devices report the same observedAt for many attributes and entities: each distinct text is
# parsed once (the cache starts again when full, so it follows the current timestamps).
_normalized: dict[str, str] = {}
_NORMALIZED_LIMIT = 4096


def normalize_datetime(text: Any, what: str) -> str:
    """``text`` as format_datetime writes it; BadRequestData when it is not a DateTime."""
    if type(text) is str:
        known = _normalized.get(text)
        if known is not None:
            return known
    result = format_datetime(parse_datetime(text, what))
    if len(_normalized) >= _NORMALIZED_LIMIT:
        _normalized.clear()
    _normalized[text] = result
    return result


def now_iso() -> str:
    """The current time as stored in createdAt/modifiedAt (always microseconds)."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# The same few language tags arrive again and again: each is matched once.
_language_tags: set[str] = {"@none"}
_LANGUAGE_TAGS_LIMIT = 1024


def is_language_tag(tag: Any) -> bool:
    """A BCP 47 language tag or @none (clause 4.5.18)."""
    if not isinstance(tag, str):
        return False
    if tag in _language_tags:
        return True
    if _LANGUAGE_TAG.match(tag) is None:
        return False
    if len(_language_tags) < _LANGUAGE_TAGS_LIMIT:
        _language_tags.add(tag)
    return True


def check_language_tag(tag: Any, where: str = "") -> str:
    """A BCP 47 language tag or @none (clause 4.5.18); ``where`` prefixes the error detail."""
    if is_language_tag(tag):
        return str(tag)
    raise BadRequestData(f"{where}{tag!r} is not a valid language tag (BCP 47)")


def _check_position(position: Any, where: str) -> None:
    if not isinstance(position, list) or not 2 <= len(position) <= 3:
        raise BadRequestData(f"{where}: a position is an array of 2 or 3 numbers")
    for number in position:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise BadRequestData(f"{where}: coordinates must be numbers, got {number!r}")
        if not math.isfinite(number):
            raise BadRequestData(f"{where}: coordinates must be finite numbers")
    lon, lat = position[0], position[1]
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise BadRequestData(f"{where}: position {position} is outside longitude/latitude range")


def _check_positions(positions: Any, minimum: int, where: str) -> None:
    if not isinstance(positions, list) or len(positions) < minimum:
        raise BadRequestData(f"{where}: needs an array of at least {minimum} positions")
    for position in positions:
        _check_position(position, where)


def _check_polygon(rings: Any, where: str) -> None:
    if not isinstance(rings, list) or not rings:
        raise BadRequestData(f"{where}: a Polygon is an array of linear rings")
    for ring in rings:
        _check_positions(ring, 4, where + " ring")
        if ring[0] != ring[-1]:
            raise BadRequestData(f"{where}: the linear ring is not closed (first != last)")


def check_geometry(value: Any, where: str) -> dict[str, Any]:
    """A GeoJSON geometry (RFC 7946 clause 3.1) with WGS84 longitude/latitude positions."""
    if not isinstance(value, dict):
        raise BadRequestData(f"{where}: a GeoProperty value must be a GeoJSON geometry object")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in GEOMETRY_TYPES:
        raise BadRequestData(f"{where}: {kind!r} is not a GeoJSON geometry type")
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list):
            raise BadRequestData(f"{where}: a GeometryCollection needs a geometries array")
        for member in members:
            check_geometry(member, where)
        return value
    coords = value.get("coordinates")
    if kind == "Point":
        if type(coords) is list and len(coords) == 2:
            lon, lat = coords
            # Plain in-range floats (the usual case); NaN fails the comparisons and anything
            # else goes to the full check, which names the problem.
            if (
                type(lon) is float
                and type(lat) is float
                and -180 <= lon <= 180
                and -90 <= lat <= 90
            ):
                return value
        _check_position(coords, where)
    elif kind == "MultiPoint":
        _check_positions(coords, 1, where)
    elif kind == "LineString":
        _check_positions(coords, 2, where)
    elif kind == "MultiLineString":
        if not isinstance(coords, list) or not coords:
            raise BadRequestData(f"{where}: a MultiLineString is an array of line strings")
        for line in coords:
            _check_positions(line, 2, where)
    elif kind == "Polygon":
        _check_polygon(coords, where)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise BadRequestData(f"{where}: a MultiPolygon is an array of polygons")
        for polygon in coords:
            _check_polygon(polygon, where)
    return value


def looks_like_geometry(value: Any) -> bool:
    """Concise input: a bare GeoJSON geometry denotes a GeoProperty (clause 4.5.3.3)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and value["type"] in GEOMETRY_TYPES
        and ("coordinates" in value or "geometries" in value)
    )
