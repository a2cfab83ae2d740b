"""IoT devices the way FIWARE IoT Agents provision them (service groups and devices), and
their measures as NGSI-LD attributes.

A **service group** has an API key (the first level of the devices' MQTT topics), an
entity type, attribute mappings ``{object_id, name, type, unitCode?}`` and static
attributes. A **device** has an id (the second topic level), the entity it feeds
(``entity_name``, default ``urn:ngsi-ld:<type>:<device_id>``) and mappings of its own,
which win over the group's. A measure ``{"s": "42.5"}`` then becomes the entity's
attribute ``averageVehicleSpeed`` (Property 42.5, ``observedAt`` the payload's
``TimeInstant`` or the time of receipt). Pure functions: BadRequestData names what is
wrong, with the attribute, so a bad message can be dead-lettered with its reason.
"""

from __future__ import annotations

import re
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.model.values import check_name, is_uri, normalize_datetime

# IoT Agent attribute types and what they make of a measured value.
NUMBER_TYPES = frozenset({"Number", "Float", "Integer"})
TEXT_TYPES = frozenset({"Text", "String"})
GEO_TYPES = frozenset({"geo:point", "geo:json"})
ATTRIBUTE_TYPES = (
    NUMBER_TYPES
    | TEXT_TYPES
    | GEO_TYPES
    | {
        "Boolean",
        "DateTime",
        "Property",
        "Relationship",
    }
)
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")  # an MQTT topic level without wildcards
TIME_INSTANT = "TimeInstant"


def _text(raw: dict[str, Any], name: str, what: str, *, required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{what} needs {name} (a non-empty string)")
    return value


def _key(raw: dict[str, Any], name: str, what: str) -> str:
    value = _text(raw, name, what)
    assert value is not None
    if not _KEY.match(value):
        raise BadRequestData(
            f"{what}: {name} {value!r} must be 1-64 letters, digits, '_', '-' or '.'"
        )
    return value


def _mappings(raw: Any, what: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequestData(f"{what}: attributes must be an array")
    found: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadRequestData(f"{what}: each attribute must be an object")
        name = check_name(_text(item, "name", f"{what} attribute"))
        object_id = _text(item, "object_id", f"{what} attribute {name}", required=False) or name
        kind = item.get("type", "Property")
        if kind not in ATTRIBUTE_TYPES:
            raise BadRequestData(
                f"{what} attribute {name}: type must be one of {', '.join(sorted(ATTRIBUTE_TYPES))}"
            )
        mapping = {"object_id": object_id, "name": name, "type": kind}
        if "unitCode" in item:
            mapping["unitCode"] = _text(item, "unitCode", f"{what} attribute {name}")
        found.append(mapping)
    return found


def _statics(raw: Any, what: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequestData(f"{what}: static_attributes must be an array")
    found = []
    for item in raw:
        if not isinstance(item, dict) or "value" not in item:
            raise BadRequestData(f"{what}: each static attribute needs name and value")
        name = check_name(_text(item, "name", f"{what} static attribute"))
        kind = item.get("type", "Property")
        if kind not in ATTRIBUTE_TYPES:
            raise BadRequestData(f"{what} static attribute {name}: unknown type {kind!r}")
        found.append({"name": name, "type": kind, "value": item["value"]})
    return found


def parse_service(raw: Any) -> dict[str, Any]:
    """A service group as provisioned (POST /iot/services item)."""
    if not isinstance(raw, dict):
        raise BadRequestData("Each service must be an object")
    apikey = _key(raw, "apikey", "A service")
    what = f"Service {apikey}"
    entity_type = check_name(_text(raw, "entity_type", what), "entity_type")
    context = raw.get("context")
    if context is not None and not (isinstance(context, str) and is_uri(context)):
        raise BadRequestData(f"{what}: context must be the URL of a JSON-LD @context")
    explicit = raw.get("explicitAttrs", False)
    if not isinstance(explicit, bool):
        raise BadRequestData(f"{what}: explicitAttrs must be true or false")
    service = {
        "apikey": apikey,
        "entity_type": entity_type,
        "attributes": _mappings(raw.get("attributes"), what),
        "static_attributes": _statics(raw.get("static_attributes"), what),
        "explicitAttrs": explicit,
    }
    if context is not None:
        service["context"] = context
    return service


def parse_device(raw: Any, service: dict[str, Any]) -> dict[str, Any]:
    """A device as provisioned (POST /iot/devices item), in ``service``'s group."""
    if not isinstance(raw, dict):
        raise BadRequestData("Each device must be an object")
    device_id = _key(raw, "device_id", "A device")
    what = f"Device {device_id}"
    entity_type = raw.get("entity_type", service["entity_type"])
    check_name(entity_type, "entity_type")
    entity_name = raw.get("entity_name") or f"urn:ngsi-ld:{entity_type}:{device_id}"
    if not is_uri(entity_name):
        raise BadRequestData(f"{what}: entity_name must be a URI, got {entity_name!r}")
    return {
        "device_id": device_id,
        "apikey": service["apikey"],
        "entity_name": entity_name,
        "entity_type": entity_type,
        "attributes": _mappings(raw.get("attributes"), what),
        "static_attributes": _statics(raw.get("static_attributes"), what),
    }


def _number(name: str, kind: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise BadRequestData(f"{name}: {value!r} is not a number")
    if isinstance(value, int | float):
        number: int | float = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadRequestData(f"{name}: {value!r} is not a number") from None
    else:
        raise BadRequestData(f"{name}: {value!r} is not a number")
    if number != number or number in (float("inf"), float("-inf")):
        raise BadRequestData(f"{name}: {value!r} is not a finite number")
    if kind == "Integer":
        if float(number) != int(number):
            raise BadRequestData(f"{name}: {value!r} is not an integer")
        return int(number)
    return number


def _point(name: str, value: Any) -> dict[str, Any]:
    """``"lat, lon"`` (IoT Agent geo:point) → a GeoJSON Point."""
    try:
        lat_text, lon_text = str(value).split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise BadRequestData(f"{name}: {value!r} is not 'latitude, longitude'") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadRequestData(f"{name}: coordinates {value!r} are out of range")
    return {"type": "Point", "coordinates": [lon, lat]}


def attribute(name: str, kind: str, value: Any, observed_at: str | None) -> dict[str, Any]:
    """One NGSI-LD attribute (normalized) of a measured or static value."""
    out: dict[str, Any]
    if kind in NUMBER_TYPES:
        out = {"type": "Property", "value": _number(name, kind, value)}
    elif kind == "Boolean":
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}:
            value = value.lower() in {"true", "1"}
        if not isinstance(value, bool):
            raise BadRequestData(f"{name}: {value!r} is not a boolean")
        out = {"type": "Property", "value": value}
    elif kind in TEXT_TYPES:
        out = {"type": "Property", "value": value if isinstance(value, str) else str(value)}
    elif kind == "DateTime":
        out = {"type": "Property", "value": normalize_datetime(value, name)}
    elif kind == "geo:point":
        out = {"type": "GeoProperty", "value": _point(name, value)}
    elif kind == "geo:json":
        out = {"type": "GeoProperty", "value": value}
    elif kind == "Relationship":
        if not is_uri(value):
            raise BadRequestData(f"{name}: {value!r} is not a URI")
        out = {"type": "Relationship", "object": value}
    else:
        if value is None:
            raise BadRequestData(f"{name}: a measure cannot be null")
        out = {"type": "Property", "value": value}
    if observed_at is not None:
        out["observedAt"] = observed_at
    return out


def entity_of(device: dict[str, Any], service: dict[str, Any]) -> dict[str, Any]:
    """The entity a device feeds, with its static attributes (made when it is provisioned)."""
    entity: dict[str, Any] = {"id": device["entity_name"], "type": device["entity_type"]}
    for item in [*service["static_attributes"], *device["static_attributes"]]:
        entity[item["name"]] = attribute(item["name"], item["type"], item["value"], None)
    return entity


def measures_fragment(
    device: dict[str, Any],
    service: dict[str, Any],
    measures: dict[str, Any],
    received_at: str,
) -> dict[str, Any]:
    """The entity fragment (id, type, measured attributes) of one message's measures.

    Mappings of the device win over the group's; a measure without one keeps its object_id
    as attribute name (a Property) unless the group has ``explicitAttrs``.
    """
    mappings = {m["object_id"]: m for m in service["attributes"]}
    mappings.update({m["object_id"]: m for m in device["attributes"]})
    stamp = measures.get(TIME_INSTANT)
    observed = normalize_datetime(stamp, TIME_INSTANT) if stamp is not None else received_at
    fragment: dict[str, Any] = {"id": device["entity_name"], "type": device["entity_type"]}
    for object_id, value in measures.items():
        if object_id == TIME_INSTANT:
            continue
        mapping = mappings.get(object_id)
        if mapping is None:
            if service["explicitAttrs"]:
                continue
            mapping = {"name": check_name(object_id, "Measure name"), "type": "Property"}
        attr = attribute(mapping["name"], mapping["type"], value, observed)
        if "unitCode" in mapping:
            attr["unitCode"] = mapping["unitCode"]
        fragment[mapping["name"]] = attr
    if len(fragment) == 2:
        raise BadRequestData("The message holds no measure of a provisioned attribute")
    return fragment
