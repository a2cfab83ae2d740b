"""Attributes in the hub's internal form, parsed and validated from NGSI-LD input.

Internal form (context-independent, stored as JSON): an attribute is a list of instances (one
per datasetId, clause 4.5.5); an instance is a dict of core members (``type``, ``value``,
``object``, ``languageMap``, ``vocab``, ``json``, ``valueList``, ``objectList``, ``observedAt``,
``unitCode``, ``datasetId``, ``objectType``, ``createdAt``, ``modifiedAt``) plus sub-attributes
keyed by their expanded IRI (always containing ``:``), each again a list of instances.
Property values are kept as given; entity types, attribute names, vocab values and objectType
are expanded through the request's @context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import (
    check_geometry,
    check_language_tag,
    check_name,
    is_language_tag,
    is_uri,
    looks_like_geometry,
    normalize_datetime,
    require_uri,
)

NGSI_NULL = "urn:ngsi-ld:null"

ATTRIBUTE_TYPES: dict[str, str] = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "JsonProperty": "json",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}
VALUE_MEMBERS = frozenset(ATTRIBUTE_TYPES.values())
SYSTEM_MEMBERS = frozenset({"createdAt", "modifiedAt", "deletedAt", "instanceId"})
METADATA_MEMBERS = frozenset({"observedAt", "unitCode", "datasetId", "objectType"})
CORE_MEMBERS = frozenset({"type", "lang", *VALUE_MEMBERS, *SYSTEM_MEMBERS, *METADATA_MEMBERS})
# Names whose default attribute type is GeoProperty (clause 4.7.1).
GEO_NAMES = frozenset(
    {
        "https://uri.etsi.org/ngsi-ld/location",
        "https://uri.etsi.org/ngsi-ld/observationSpace",
        "https://uri.etsi.org/ngsi-ld/operationSpace",
    }
)

Instance = dict[str, Any]
ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "deletedAt"})
IGNORED_MEMBERS = frozenset({"@context", "createdAt", "modifiedAt", "deletedAt"})
# Kinds whose values may not carry urn:ngsi-ld:null inside them outside merge fragments.
_NULL_CHECKED = frozenset({"Property", "LanguageProperty"})


@dataclass(frozen=True)
class ParseOptions:
    """What a parse accepts: ``allow_null`` lets merge/update carry urn:ngsi-ld:null deletions."""

    allow_null: bool = False


STRICT = ParseOptions()


def is_null_marker(raw: Any) -> bool:
    """urn:ngsi-ld:null as an attribute (bare, or as its value/object), meaning delete."""
    if raw == NGSI_NULL:
        return True
    if isinstance(raw, dict):
        for member in VALUE_MEMBERS:
            if member in raw:
                value = raw[member]
                return bool(value == NGSI_NULL or value == [NGSI_NULL])
    return False


def attribute_iri(name: Any, tm: TermMap, what: str = "Attribute name") -> str:
    """The IRI of an attribute name or type, checked (clause 4.6.2) the first time a TermMap
    sees it; later requests with the same @context find it in ``tm.checked_names``."""
    iri = tm.checked_names.get(name) if type(name) is str else None
    if iri is None:
        iri = tm.expand(check_name(name, what))
        # parse_fragment looks names up before entity members: never cache those.
        if name not in ENTITY_MEMBERS and name not in IGNORED_MEMBERS and name[0] != "@":
            tm.remember_name(name, iri)
    return iri


def parse_attribute(
    name: str, iri: str, raw: Any, tm: TermMap, options: ParseOptions = STRICT
) -> list[Instance]:
    """All instances of one attribute from its compacted (normalized or concise) form."""
    if type(raw) is dict:
        return [parse_instance(name, iri, raw, tm, options)]
    items = raw if isinstance(raw, list) and _is_instance_array(raw) else [raw]
    instances = [parse_instance(name, iri, item, tm, options) for item in items]
    seen: set[str | None] = set()
    for instance in instances:
        dataset = instance.get("datasetId")
        if dataset in seen:
            label = dataset or "the default instance"
            raise BadRequestData(f"Attribute {name} has {label} more than once")
        seen.add(dataset)
    return instances


def _is_instance_array(raw: list[Any]) -> bool:
    """An array of attribute objects (datasetIds) rather than a concise array value."""
    return bool(raw) and all(
        isinstance(item, dict) and ("type" in item or VALUE_MEMBERS & item.keys()) for item in raw
    )


_SCALARS = (str, int, float, bool)
# The common city-data shapes, checked without the general path: one value member with at most
# observedAt and unitCode beside it (no datasetId, objectType, lang or sub-attributes).
_FAST_MEMBERS = {
    "Property": frozenset({"type", "value", "observedAt", "unitCode"}),
    "GeoProperty": frozenset({"type", "value", "observedAt", "unitCode"}),
    "Relationship": frozenset({"type", "object", "observedAt", "unitCode"}),
    "LanguageProperty": frozenset({"type", "languageMap", "observedAt", "unitCode"}),
}


def fast_instance(name: str, raw: dict[str, Any]) -> Instance | None:
    """``raw`` parsed when it has one of the common shapes and is valid; None sends it to the
    general path, which then finds (and names) any problem itself."""
    kind = raw.get("type")
    allowed = _FAST_MEMBERS.get(kind) if type(kind) is str else None
    if allowed is None or not raw.keys() <= allowed:
        return None
    if kind == "Property":
        value = raw.get("value")
        vtype = type(value)
        if vtype in _SCALARS:
            if value == NGSI_NULL:
                return None
        elif isinstance(value, list):
            # Only members of JSON objects can hide urn:ngsi-ld:null (clause 5.5.4).
            if value == [NGSI_NULL]:
                return None
            for item in value:
                if type(item) not in _SCALARS:
                    return None
        elif isinstance(value, dict):
            if _holds_ngsi_null(value):
                return None
        else:
            return None
        instance: Instance = {"type": "Property", "value": value}
    elif kind == "Relationship":
        value = raw.get("object")
        if type(value) is not str or value == NGSI_NULL or not is_uri(value):
            return None
        instance = {"type": "Relationship", "object": value}
    elif kind == "GeoProperty":
        value = raw.get("value")
        if type(value) is not dict:
            return None
        instance = {"type": "GeoProperty", "value": check_geometry(value, f"Attribute {name}")}
    else:  # LanguageProperty
        value = raw.get("languageMap")
        if type(value) is not dict or not value:
            return None
        for tag, text in value.items():
            if type(text) is not str or text == NGSI_NULL or not is_language_tag(tag):
                return None
        instance = {"type": "LanguageProperty", "languageMap": value}
    if "observedAt" in raw:
        instance["observedAt"] = normalize_datetime(raw["observedAt"], f"{name}.observedAt")
    if "unitCode" in raw:
        unit = raw["unitCode"]
        if not isinstance(unit, str) or not unit:
            raise BadRequestData(f"{name}.unitCode must be a non-empty string")
        instance["unitCode"] = unit
    return instance


def parse_instance(
    name: str, iri: str, raw: Any, tm: TermMap, options: ParseOptions = STRICT
) -> Instance:
    """One attribute instance; raises BadRequestData naming the attribute and the problem."""
    if type(raw) is dict:
        fast = fast_instance(name, raw)
        if fast is not None:
            return fast
    return parse_general_instance(name, iri, raw, tm, options)


def parse_general_instance(
    name: str, iri: str, raw: Any, tm: TermMap, options: ParseOptions = STRICT
) -> Instance:
    """parse_instance without the fast path (for callers that tried ``fast_instance``)."""
    if raw is None:
        raise BadRequestData(f"Attribute {name} has a null value")
    if not isinstance(raw, dict):
        return _typed_value(name, "Property", raw, options)
    kind: Any = raw.get("type")
    if kind is None or looks_like_geometry(raw):  # concise forms (clause 4.5.2.3, 4.5.3.3)
        kind = _infer_type(name, iri, raw)
        if kind == "GeoProperty" and "value" not in raw:
            return _typed_value(name, kind, raw, options)
    if not isinstance(kind, str) or kind not in ATTRIBUTE_TYPES:
        raise BadRequestData(f"Attribute {name} has unknown type {kind!r}")
    value_member = ATTRIBUTE_TYPES[kind]
    if value_member not in raw:
        raise BadRequestData(f"Attribute {name} of type {kind} needs a {value_member!r} member")
    for member in VALUE_MEMBERS & raw.keys():
        if member != value_member:
            raise BadRequestData(f"Attribute {name} of type {kind} cannot have {member!r}")
    instance = _typed_value(name, kind, raw[value_member], options)
    if kind == "VocabProperty" and instance["vocab"] != NGSI_NULL:
        instance["vocab"] = _expand_names(instance["vocab"], tm, f"{name}.vocab")
    if "observedAt" in raw:
        instance["observedAt"] = normalize_datetime(raw["observedAt"], f"{name}.observedAt")
    if "unitCode" in raw:
        if not isinstance(raw["unitCode"], str) or not raw["unitCode"]:
            raise BadRequestData(f"{name}.unitCode must be a non-empty string")
        instance["unitCode"] = raw["unitCode"]
    if "datasetId" in raw:
        instance["datasetId"] = require_uri(raw["datasetId"], f"{name}.datasetId")
    if "objectType" in raw:
        if kind not in {"Relationship", "ListRelationship"}:
            raise BadRequestData(f"Attribute {name}: objectType belongs to relationships")
        instance["objectType"] = _expand_names(raw["objectType"], tm, f"{name}.objectType")
    if "lang" in raw and kind != "Property":
        raise BadRequestData(f"Attribute {name}: lang belongs to a Property")
    for key, sub_raw in raw.items():
        if key in CORE_MEMBERS or key == "@context":
            continue
        sub_iri = tm.checked_names.get(key) or attribute_iri(
            key, tm, f"Sub-attribute name in {name}"
        )
        instance[sub_iri] = parse_attribute(f"{name}.{key}", sub_iri, sub_raw, tm, options)
    return instance


def _infer_type(name: str, iri: str, raw: dict[str, Any]) -> str:
    """Concise input (clause 4.5.2.3): the type follows from the value member present."""
    if "value" in raw:
        return "GeoProperty" if looks_like_geometry(raw["value"]) else "Property"
    for kind, member in ATTRIBUTE_TYPES.items():
        if member in raw:
            return kind
    if looks_like_geometry(raw):
        return "GeoProperty"
    raise BadRequestData(
        f"Attribute {name} has no type and none of value, object, languageMap, vocab, json, "
        "valueList or objectList"
    )


def _typed_value(name: str, kind: str, value: Any, options: ParseOptions) -> Instance:
    """The value member of one instance, checked for its attribute type.

    urn:ngsi-ld:null is refused outside update and merge fragments (clause 5.5.4).
    """
    if value is None:
        raise BadRequestData(f"Attribute {name} has a null {ATTRIBUTE_TYPES[kind]}")
    if value == NGSI_NULL or value == [NGSI_NULL]:
        if options.allow_null:
            return {"type": kind, ATTRIBUTE_TYPES[kind]: value}
        raise BadRequestData(f"Attribute {name}: {NGSI_NULL} is only allowed in update fragments")
    if kind in _NULL_CHECKED and not options.allow_null and _holds_ngsi_null(value):
        raise BadRequestData(f"Attribute {name}: {NGSI_NULL} is only allowed in merge fragments")
    if kind == "Property":
        return {"type": kind, "value": value}
    if kind == "GeoProperty":
        return {"type": kind, "value": check_geometry(value, f"Attribute {name}")}
    if kind == "Relationship":
        objects = value if isinstance(value, list) else [value]
        if not objects:
            raise BadRequestData(f"Relationship {name} has an empty object")
        for target in objects:
            require_uri(target, f"Relationship {name} object")
        return {"type": kind, "object": value}
    if kind == "LanguageProperty":
        if not isinstance(value, dict) or not value:
            raise BadRequestData(f"LanguageProperty {name} needs a languageMap object")
        for tag, text in value.items():
            check_language_tag(tag, f"LanguageProperty {name}: ")
            texts = text if isinstance(text, list) else [text]
            if not all(isinstance(t, str) for t in texts):
                raise BadRequestData(f"LanguageProperty {name}: {tag} must map to strings")
        return {"type": kind, "languageMap": value}
    if kind == "VocabProperty":
        return {"type": kind, "vocab": value}  # expanded by the caller (needs the TermMap)
    if kind == "JsonProperty":
        if not isinstance(value, dict | list):
            raise BadRequestData(f"JsonProperty {name} needs a JSON object or array in json")
        return {"type": kind, "json": value}
    if kind == "ListProperty":
        if not isinstance(value, list):
            raise BadRequestData(f"ListProperty {name} needs an array in valueList")
        return {"type": kind, "valueList": value}
    # ListRelationship
    if not isinstance(value, list):
        raise BadRequestData(f"ListRelationship {name} needs an array in objectList")
    targets = []
    for item in value:
        target = item.get("object") if isinstance(item, dict) else item
        if not is_uri(target):
            raise BadRequestData(f"ListRelationship {name}: {target!r} is not a URI")
        targets.append({"object": target})
    return {"type": kind, "objectList": targets}


def _holds_ngsi_null(value: Any) -> bool:
    """urn:ngsi-ld:null as a member value of a JSON object inside a value (clause 5.5.4)."""
    if isinstance(value, dict):
        # The usual case: a flat object such as an address, settled without the stack.
        members = value.values()
        if NGSI_NULL in members:
            return True
        stack = [item for item in members if isinstance(item, dict | list)]
    elif isinstance(value, list):
        stack = [value]
    else:
        return False
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if NGSI_NULL in item.values():
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _expand_names(raw: Any, tm: TermMap, what: str) -> Any:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise BadRequestData(f"{what} must not be empty")
    expanded = [tm.expand(check_name(item, what)) for item in items]
    return expanded if isinstance(raw, list) else expanded[0]
