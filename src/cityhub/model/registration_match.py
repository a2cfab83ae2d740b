"""Which registrations a discovery query or a registration subscription concerns (clauses
5.10.2, 5.11.7, 5.12), and which registrations may not coexist (clause 4.3.6.3).

A registration describes what a context source *may* provide, so matching is about overlap,
not about values:

* Entities: a RegistrationInfo without ``entities`` covers every entity. An EntityInfo
  matches a type selection when its types satisfy it (clause 4.17 on the EntityInfo's types);
  requested ids when its ``id`` is one of them, its ``idPattern`` matches one, or it names
  neither (a type-only group); a requested ``idPattern`` when its ``id`` matches the pattern,
  or it has an ``idPattern`` (two patterns may always overlap) or neither.
* Attributes: a RegistrationInfo without propertyNames/relationshipNames covers every
  attribute; otherwise one of the requested names must be among them. Entities and
  attributes must match in the same RegistrationInfo.
* ``q`` and ``csf`` are matched against the Context Source Properties: every member of the
  registration (``endpoint``, ``mode``, ``registrationName``, …, and the members clause 5.2.9
  leaves to the registrant) seen as a Property under its IRI, through the in-memory
  evaluator of entity queries (query/evaluate.py).
* ``scopeQ`` against the registration's ``scope``; a geo-query against its ``location``,
  ``observationSpace`` or ``operationSpace`` (``geoproperty``, ``location`` by default); a
  registration without that member does not match.
* Without a temporal query only registrations without ``observationInterval`` and
  ``managementInterval`` match (they provide latest information); with one, the interval the
  timeproperty selects (observedAt: observationInterval; createdAt, modifiedAt, deletedAt:
  managementInterval) must overlap the query's range.

Registrations are few per tenant, so the service filters a tenant's list in memory with these
rules rather than compiling them to SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cityhub.jsonld.core import NGSI_LD
from cityhub.model.registration_members import CORE_MEMBER_IRIS, REGISTRATION_TYPE
from cityhub.model.registrations import (
    GEO_MEMBERS,
    Registration,
    attribute_names,
    entity_info_types,
)
from cityhub.query.ast import EntitySelector, Expr, GeoQuery, ScopeExpr, TypeExpr
from cityhub.query.evaluate import matches_geo, matches_q, matches_scope, matches_types
from cityhub.query.temporal import TemporalQuery, stored_micros

_NOT_PROPERTIES = frozenset({"id", "type", "@context", "information", "operationsExpanded"})
_GEO_IRIS = {NGSI_LD + name: name for name in GEO_MEMBERS}


@dataclass(frozen=True)
class RegistrationFilter:
    """What a discovery query (clause 5.10.2) or a registration subscription (clause 5.11)
    asks of registrations; names are IRIs. Every field ANDs with the others. A subscription's
    ``entities`` become ``selectors`` (any of them may match) and a query's type, id and
    idPattern one selector: ``selectors``, when given, replaces the three."""

    types: TypeExpr | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    selectors: tuple[EntitySelector, ...] | None = None
    attrs: frozenset[str] | None = None
    properties: tuple[Expr, ...] = ()  # q and csf
    scope: ScopeExpr | None = None
    geo: GeoQuery | None = None
    temporal: TemporalQuery | None = None


def registration_matches(reg: Registration, flt: RegistrationFilter) -> bool:
    """Whether ``reg`` may provide something ``flt`` asks for (see the module docstring)."""
    if not any(_info_matches(info, flt) for info in reg["information"]):
        return False
    if flt.properties:
        entity = property_entity(reg)
        if not all(matches_q(entity, expr) for expr in flt.properties):
            return False
    if flt.scope is not None and not matches_scope({"scope": reg.get("scope")}, flt.scope):
        return False
    if flt.geo is not None and not _geo_matches(reg, flt.geo):
        return False
    return _time_matches(reg, flt.temporal)


def _info_matches(info: dict[str, Any], flt: RegistrationFilter) -> bool:
    if flt.attrs is not None:
        names = attribute_names(info)
        if names and not names & flt.attrs:
            return False
    if "entities" not in info:
        return True
    selectors = flt.selectors
    if selectors is None:
        selectors = (EntitySelector(flt.types, flt.ids, flt.id_pattern),)
    return any(
        _entity_info_matches(entity, selector)
        for entity in info["entities"]
        for selector in selectors
    )


def _entity_info_matches(entity: dict[str, Any], selector: EntitySelector) -> bool:
    if selector.types is not None and not matches_types(
        {"type": entity_info_types(entity)}, selector.types
    ):
        return False
    if selector.ids is not None:
        if "id" in entity:
            if entity["id"] not in selector.ids:
                return False
        elif "idPattern" in entity:
            pattern = re.compile(entity["idPattern"])
            if not any(pattern.search(entity_id) for entity_id in selector.ids):
                return False
    if selector.id_pattern is not None and "id" in entity:
        return re.search(selector.id_pattern, entity["id"]) is not None
    return True


def property_entity(reg: Registration) -> dict[str, Any]:
    """The registration as an entity whose Properties are its members (for q and csf): core
    members under their core @context IRIs, Context Source Properties under theirs."""
    entity: dict[str, Any] = {"id": reg["id"], "type": [NGSI_LD + REGISTRATION_TYPE]}
    for name, value in reg.items():
        if name in _NOT_PROPERTIES:
            continue
        iri = name if ":" in name else CORE_MEMBER_IRIS.get(name, NGSI_LD + name)
        entity[iri] = [{"type": "Property", "value": value}]
    return entity


def _geo_matches(reg: Registration, geo: GeoQuery) -> bool:
    member = _GEO_IRIS.get(geo.geoproperty)
    if member is None or member not in reg:
        return False
    entity = {geo.geoproperty: [{"type": "GeoProperty", "value": reg[member]}]}
    return matches_geo(entity, geo)


def _time_matches(reg: Registration, temporal: TemporalQuery | None) -> bool:
    if temporal is None or temporal.timerel is None:
        return "observationInterval" not in reg and "managementInterval" not in reg
    member = (
        "observationInterval" if temporal.timeproperty == "observedAt" else "managementInterval"
    )
    interval = reg.get(member)
    if interval is None:
        return False
    start = stored_micros(interval["startAt"])
    end = stored_micros(interval["endAt"]) if "endAt" in interval else None
    if temporal.end is not None and start >= temporal.end:
        return False
    return end is None or temporal.start is None or temporal.start < end


# --- proxied registrations that may not coexist (clause 4.3.6.3) -----------------------


def proxied_conflict(reg: Registration, others: Iterable[Registration]) -> Registration | None:
    """A registration ``reg`` may not coexist with, or None.

    Clause 4.3.6.3: once an exclusive registration exists, no further exclusive or redirect
    registration can be created for that same combination of entity id and attributes; an
    exclusive registration is likewise refused where an exclusive or redirect one already
    covers its entity and attributes. Redirect registrations may overlap each other.
    """
    mode = reg["mode"]
    for other in others:
        if other["id"] == reg["id"]:
            continue
        if mode == "exclusive" and other["mode"] in {"exclusive", "redirect"}:
            if _covers_exclusive(other, reg):
                return other
        elif mode == "redirect" and other["mode"] == "exclusive" and _covers_exclusive(reg, other):
            return other
    return None


def _covers_exclusive(other: Registration, exclusive: Registration) -> bool:
    """Whether ``other`` covers an (entity id, attribute) pair of the exclusive registration."""
    for info in exclusive["information"]:
        names = attribute_names(info)
        for other_info in other["information"]:
            other_names = attribute_names(other_info)
            if other_names and not names & other_names:
                continue
            if "entities" not in other_info:
                return True
            for entity in info["entities"]:
                types = set(entity_info_types(entity))
                if any(_covers_entity(o, entity["id"], types) for o in other_info["entities"]):
                    return True
    return False


def _covers_entity(other: dict[str, Any], entity_id: str, types: set[str]) -> bool:
    if "id" in other:
        return bool(other["id"] == entity_id)
    if not types & set(entity_info_types(other)):
        return False
    return "idPattern" not in other or re.search(other["idPattern"], entity_id) is not None
