"""Entities in the internal form, parsed from NGSI-LD input (clause 4.5.1, 5.2.4).

An entity is ``{"id", "type": [type IRIs], "scope"?: [...], "createdAt", "modifiedAt",
<attribute IRI>: [instances]}``; see ``attributes`` for instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import (
    IGNORED_MEMBERS,
    STRICT,
    Instance,
    ParseOptions,
    attribute_iri,
    fast_instance,
    parse_attribute,
    parse_general_instance,
)
from cityhub.model.values import check_scope, require_uri

Entity = dict[str, Any]


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
    if type(raw) is str:
        iri = tm.checked_names.get(raw)
        if iri is not None:
            return [iri]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise BadRequestData("Entity type must not be empty")
    return list(dict.fromkeys(_type_iri(item, tm) for item in items))


def _type_iri(item: Any, tm: TermMap) -> str:
    iri = tm.checked_names.get(item) if type(item) is str else None
    return iri if iri is not None else attribute_iri(item, tm, "Entity type")


def parse_fragment(
    raw: Any, tm: TermMap, options: ParseOptions = STRICT, *, what: str = "Body"
) -> Fragment:
    """Attributes plus optional id/type/scope, as carried by update and merge bodies."""
    if not isinstance(raw, dict):
        raise BadRequestData(f"{what} must be a JSON object")
    fragment = Fragment()
    attributes, names = fragment.attributes, fragment.names
    # Attribute names already validated with this TermMap; never id, type, scope or @-members.
    known = tm.checked_names
    for key, value in raw.items():
        iri = known.get(key)
        if iri is None:
            if key in IGNORED_MEMBERS:
                continue
            if key == "id":
                fragment.entity_id = require_uri(value, "Entity id")
                continue
            if key == "type":
                fragment.types = parse_types(value, tm)
                continue
            if key == "scope":
                if options.allow_null and value == "urn:ngsi-ld:null":
                    fragment.scope_null = True
                else:
                    fragment.scope = check_scope(value)
                continue
            if key.startswith("@"):
                raise BadRequestData(f"{what} member {key!r} is not allowed in an entity")
            iri = attribute_iri(key, tm)
        if iri in attributes:
            raise BadRequestData(f"Attribute {key} appears twice under different names")
        # One instance in a common shape (most city data) skips the general path's calls.
        fast = fast_instance(key, value) if type(value) is dict else None
        if fast is not None:
            attributes[iri] = [fast]
        elif type(value) is dict:
            attributes[iri] = [parse_general_instance(key, iri, value, tm, options)]
        else:
            attributes[iri] = parse_attribute(key, iri, value, tm, options)
        names[iri] = key
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
