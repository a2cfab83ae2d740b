"""Which context source registrations a request concerns (clause 4.3.6.2, 5.2.9).

Pure functions over stored registrations (model/registrations.py: entity types, property
and relationship names as IRIs; ``operationsExpanded`` the single operations it serves).
A registration matches when it is in force (not expired),
serves the operation, and one of its RegistrationInfos covers the request: an EntityInfo
whose type the request names (or any, when the request names none) and whose id/idPattern
fits the request's ids, and attribute names that meet the request's (no names on either
side means all); and, when it says where its entities are (``location``) and the request
has a geoQ on ``location``, that area can hold a match (``area_fits``): a query near Seoul
is not sent to the Tokyo hub.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
import shapely

from cityhub.model.registrations import entity_info_types
from cityhub.query.ast import EntityQuery, GeoQuery, TypeAll, TypeAny, TypeExpr, TypeName
from cityhub.query.geometry import shape_of_json, sphere_distance

LOCATION_NAMES = frozenset({"location", "https://uri.etsi.org/ngsi-ld/location"})
# georels an entity can only satisfy where its geometry meets the query's
_MEETING = frozenset({"within", "intersects", "contains", "overlaps", "equals"})

Registration = dict[str, Any]


def type_names(expr: TypeExpr | None) -> frozenset[str] | None:
    """Every type IRI a type expression mentions (None: the request names no type)."""
    if expr is None:
        return None
    if isinstance(expr, TypeName):
        return frozenset({expr.name})
    names: set[str] = set()
    items: Iterable[TypeExpr] = expr.items if isinstance(expr, TypeAll | TypeAny) else ()
    for item in items:
        names |= type_names(item) or frozenset()
    return frozenset(names)


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def in_force(registration: Registration, now: datetime) -> bool:
    """Not expired (expiresAt). (managementInterval and observationInterval say which times
    the source holds data for — temporal queries' business — not when to ask it.)"""
    expires = _time(registration.get("expiresAt"))
    return expires is None or expires > now


def serves(registration: Registration, operation: str) -> bool:
    operations = registration.get("operationsExpanded")
    return not operations or operation in operations


def _entity_fits(
    info: dict[str, Any], types: frozenset[str] | None, ids: tuple[str, ...] | None
) -> bool:
    if types is not None and not set(entity_info_types(info)) & types:
        return False
    if ids is None:
        return True
    if "id" in info:
        return info["id"] in ids
    pattern = info.get("idPattern")
    if isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error:
            return False
        return any(compiled.search(entity_id) for entity_id in ids)  # as idPattern queries do
    return True


def covers(
    registration: Registration,
    types: frozenset[str] | None,
    ids: tuple[str, ...] | None,
    attrs: frozenset[str] | None,
) -> bool:
    for info in registration.get("information") or []:
        entities = info.get("entities") or []
        if entities and not any(_entity_fits(e, types, ids) for e in entities):
            continue
        names = set(info.get("propertyNames") or []) | set(info.get("relationshipNames") or [])
        if attrs and names and not (names & attrs):
            continue
        return True
    return False


def area_fits(registration: Registration, geo: GeoQuery | None) -> bool:
    """Whether a source registered for an area (clause 5.2.9 ``location``: where the
    registered entities are) can hold entities that meet a geoQ on ``location``. A point
    within ``maxDistance`` must be that near the area; within, intersects, contains,
    overlaps and equals need the query's geometry to meet the area. ``disjoint`` and
    ``minDistance`` can match anywhere, so they never rule a source out."""
    area = registration.get("location")
    if geo is None or not isinstance(area, dict) or geo.geoproperty not in LOCATION_NAMES:
        return True
    try:
        region = shape_of_json(orjson.dumps(area, option=orjson.OPT_SORT_KEYS).decode())
        target = shape_of_json(orjson.dumps(geo.geometry, option=orjson.OPT_SORT_KEYS).decode())
    except (shapely.errors.ShapelyError, ValueError):
        return True  # an area the hub cannot read never hides a source
    if geo.georel == "near" and geo.max_distance is not None:
        return sphere_distance(region, target) <= geo.max_distance
    if geo.georel in _MEETING:
        return bool(shapely.intersects(region, target))
    return True


def matching(
    registrations: Iterable[Registration],
    operation: str,
    query: EntityQuery | None,
    now: datetime,
    *,
    entity_id: str | None = None,
    types: frozenset[str] | None = None,
) -> list[Registration]:
    """The registrations a request for ``operation`` goes to, in a stable order (by id)."""
    geo = None
    if query is not None:
        geo = query.geo
        types = type_names(query.types)
        ids = query.ids
        attrs = query.attrs
        if query.selectors:
            types = frozenset().union(
                *(type_names(s.types) or frozenset() for s in query.selectors)
            )
    else:
        ids = (entity_id,) if entity_id else None
        attrs = None
    found = [
        r
        for r in registrations
        if in_force(r, now)
        and serves(r, operation)
        and covers(r, types, ids, attrs)
        and area_fits(r, geo)
    ]
    return sorted(found, key=lambda r: str(r.get("id")))


def registered_types(registration: Registration) -> frozenset[str]:
    """The entity types a registration names (empty: any)."""
    return frozenset(
        t
        for info in registration.get("information") or []
        for e in info.get("entities") or []
        for t in entity_info_types(e)
    )
