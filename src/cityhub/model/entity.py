"""Entities in the internal form, parsed from NGSI-LD input (clause 4.5.1, 5.2.4).

An entity is ``{"id", "type": [type IRIs], "scope"?: [...], "createdAt", "modifiedAt",
<attribute IRI>: [instances]}``; see ``attributes`` for instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import STRICT, Instance, ParseOptions, parse_attribute
from cityhub.model.values import check_name, check_scope, require_uri

Entity = dict[str, Any]
ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "deletedAt"})
IGNORED_MEMBERS = frozenset({"@context", "createdAt", "modifiedAt", "deletedAt"})


def attribute_items(container: dict[str, Any]) -> list[tuple[str, list[Instance]]]:
    """(IRI, instances) of the attributes (or sub-attributes) held in an entity or instance."""
    return [(key, value) for key, value in container.items() if ":" in key]


@dataclass
class Fragment:
    """Parsed input for a change: attributes by IRI, and entity members when present."""

    attributes: dict[str, list[Instance]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # IRI -> name as the client wrote it
    types: list[str] | None = None
    scope: list[str] | None = None
    scope_null: bool = False
    entity_id: str | None = None


def parse_types(raw: Any, tm: TermMap) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise BadRequestData("Entity type must not be empty")
    return list(dict.fromkeys(tm.expand(check_name(item, "Entity type")) for item in items))


def parse_fragment(
    raw: Any, tm: TermMap, options: ParseOptions = STRICT, *, what: str = "Body"
) -> Fragment:
    """Attributes plus optional id/type/scope, as carried by update and merge bodies."""
    if not isinstance(raw, dict):
        raise BadRequestData(f"{what} must be a JSON object")
    fragment = Fragment()
    for key, value in raw.items():
        if key in IGNORED_MEMBERS:
            continue
        if key == "id":
            fragment.entity_id = require_uri(value, "Entity id")
        elif key == "type":
            fragment.types = parse_types(value, tm)
        elif key == "scope":
            if options.allow_null and value == "urn:ngsi-ld:null":
                fragment.scope_null = True
            else:
                fragment.scope = check_scope(value)
        else:
            if key.startswith("@"):
                raise BadRequestData(f"{what} member {key!r} is not allowed in an entity")
            check_name(key)
            iri = tm.expand(key)
            if iri in fragment.attributes:
                raise BadRequestData(f"Attribute {key} appears twice under different names")
            fragment.attributes[iri] = parse_attribute(key, iri, value, tm, options)
            fragment.names[iri] = key
    return fragment


def parse_entity(raw: Any, tm: TermMap, *, what: str = "Entity") -> Entity:
    """A whole entity for create or replace; id and type are mandatory (clause 5.6.1)."""
    if not isinstance(raw, dict):
        raise BadRequestData(f"{what} must be a JSON object")
    if "id" not in raw:
        raise BadRequestData(f"{what} has no id")
    if "type" not in raw:
        raise BadRequestData(f"{what} {raw.get('id')!r} has no type")
    fragment = parse_fragment(raw, tm, what=what)
    return entity_from_fragment(fragment)


def entity_from_fragment(fragment: Fragment) -> Entity:
    if fragment.entity_id is None or fragment.types is None:
        raise BadRequestData("An entity needs both id and type")
    entity: Entity = {"id": fragment.entity_id, "type": fragment.types}
    if fragment.scope is not None:
        entity["scope"] = fragment.scope
    entity.update(fragment.attributes)
    return entity
