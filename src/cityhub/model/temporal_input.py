"""Temporal representations as input (clauses 5.6.11, 5.6.12, 5.6.14): an entity whose
attributes each hold one instance or an array of instances, several of them possibly of the
same datasetId (one per point in time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import (
    IGNORED_MEMBERS,
    VALUE_MEMBERS,
    Instance,
    attribute_iri,
    parse_instance,
)
from cityhub.model.entity import parse_types
from cityhub.model.values import check_scope, require_uri


@dataclass
class TemporalFragment:
    """Instances by attribute IRI, in the order given, and the entity members present."""

    attributes: dict[str, list[Instance]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    entity_id: str | None = None
    types: list[str] | None = None
    scope: list[str] | None = None


def _items(raw: Any) -> list[Any]:
    if (
        isinstance(raw, list)
        and raw
        and all(
            isinstance(item, dict) and ("type" in item or VALUE_MEMBERS & item.keys())
            for item in raw
        )
    ):
        return raw
    return [raw]


def parse_instances(name: str, iri: str, raw: Any, tm: TermMap) -> list[Instance]:
    """Every instance of one attribute of a temporal representation."""
    if isinstance(raw, list) and not raw:
        raise BadRequestData(f"Attribute {name} has no instance")
    return [parse_instance(name, iri, item, tm) for item in _items(raw)]


def parse_temporal_fragment(raw: Any, tm: TermMap, *, what: str = "Body") -> TemporalFragment:
    """BadRequestData names the first problem."""
    if not isinstance(raw, dict):
        raise BadRequestData(f"{what} must be a JSON object")
    fragment = TemporalFragment()
    for key, value in raw.items():
        if key in IGNORED_MEMBERS:
            continue
        if key == "id":
            fragment.entity_id = require_uri(value, "Entity id")
        elif key == "type":
            fragment.types = parse_types(value, tm)
        elif key == "scope":
            fragment.scope = check_scope(value)
        elif key.startswith("@"):
            raise BadRequestData(f"{what} member {key!r} is not allowed in an entity")
        else:
            iri = attribute_iri(key, tm)
            if iri in fragment.attributes:
                raise BadRequestData(f"Attribute {key} appears twice under different names")
            fragment.attributes[iri] = parse_instances(key, iri, value, tm)
            fragment.names[iri] = key
    return fragment


def parse_replacement_instance(name: str, iri: str, raw: Any, tm: TermMap) -> Instance:
    """The body of Modify Attribute Instance (5.6.14): the instance itself, an array of
    exactly one, or a fragment ``{name: instance | [instance]}``."""
    if isinstance(raw, dict) and len(raw) == 1 and not (raw.keys() & {"type", *VALUE_MEMBERS}):
        ((key, inner),) = raw.items()
        if attribute_iri(key, tm) != iri:
            raise BadRequestData(f"The body names attribute {key}, not {name}")
        raw = inner
    if isinstance(raw, list):
        if len(raw) != 1:
            raise BadRequestData("The body must hold exactly one attribute instance")
        raw = raw[0]
    return parse_instance(name, iri, raw, tm)
