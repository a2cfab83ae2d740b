"""The members of a Context Source Registration (clause 5.2.9, with RegistrationInfo 5.2.10,
EntityInfo 5.2.8, TimeInterval 5.2.11, KeyValuePair 5.2.22, RegistrationManagementInfo
5.2.34), each checked and turned into its stored form by one parser (model/registrations.py
says what that form is). Each raises BadRequestData naming the member and the problem."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.core import NGSI_LD
from cityhub.jsonld.termmap import TermMap
from cityhub.model.operations import is_operation_name
from cityhub.model.values import (
    check_geometry,
    check_name,
    check_scope,
    format_datetime,
    parse_datetime,
    require_uri,
)
from cityhub.query.q import regex_problem
from cityhub.query.temporal import parse_duration

REGISTRATION_TYPE = "ContextSourceRegistration"
MODES = ("inclusive", "exclusive", "redirect", "auxiliary")
ENDPOINT_SCHEMES = ("http", "https")

_INFO_MEMBERS = frozenset({"entities", "propertyNames", "relationshipNames"})
_ENTITY_INFO_MEMBERS = frozenset({"id", "idPattern", "type"})
_MANAGEMENT_MEMBERS = frozenset({"localOnly", "cacheDuration", "timeout", "cooldown"})


def _type(value: Any, tm: TermMap) -> str:
    if not isinstance(value, str) or (
        value != REGISTRATION_TYPE and tm.expand(value) != NGSI_LD + REGISTRATION_TYPE
    ):
        raise BadRequestData(
            f"The registration type must be 'ContextSourceRegistration', got {value!r}"
        )
    return REGISTRATION_TYPE


def _text(member: str) -> Callable[[Any, TermMap], str]:
    def parse(value: Any, tm: TermMap) -> str:
        if not isinstance(value, str) or not value:
            raise BadRequestData(f"{member} must be a non-empty string, got {value!r}")
        return value

    return parse


def _information(value: Any, tm: TermMap) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("information must be a non-empty array of RegistrationInfo")
    infos = []
    for index, item in enumerate(value):
        where = f"information[{index}]"
        if not isinstance(item, dict):
            raise BadRequestData(f"{where} must be a RegistrationInfo object")
        unknown = sorted(set(item) - _INFO_MEMBERS)
        if unknown:
            raise BadRequestData(f"{where} has the unknown member {unknown[0]!r}")
        if not item:
            raise BadRequestData(f"{where} needs entities, propertyNames or relationshipNames")
        info: dict[str, Any] = {}
        if "entities" in item:
            info["entities"] = _entity_infos(item["entities"], tm, f"{where}.entities")
        for member in ("propertyNames", "relationshipNames"):
            if member in item:
                info[member] = _names(item[member], tm, f"{where}.{member}")
        infos.append(info)
    return infos


def _entity_infos(value: Any, tm: TermMap, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{where} must be a non-empty array of EntityInfo")
    infos = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise BadRequestData(f"{at} must be an EntityInfo object")
        unknown = sorted(set(item) - _ENTITY_INFO_MEMBERS)
        if unknown:
            raise BadRequestData(f"{at} has the unknown member {unknown[0]!r}")
        if "type" not in item:
            raise BadRequestData(f"{at} has no type")
        info: dict[str, Any] = {}
        if "id" in item:
            info["id"] = require_uri(item["id"], f"{at}.id")
        if "idPattern" in item:
            pattern = item["idPattern"]
            problem = "it is not a string" if not isinstance(pattern, str) else None
            problem = problem or ("it is empty" if not pattern else regex_problem(pattern))
            if problem:
                raise BadRequestData(f"{at}.idPattern is not a valid pattern: {problem}")
            info["idPattern"] = pattern
        info["type"] = _entity_types(item["type"], tm, f"{at}.type")
        infos.append(info)
    return infos


def _entity_types(value: Any, tm: TermMap, where: str) -> str | list[str]:
    if isinstance(value, str):
        return tm.expand(check_name(value, f"{where} entity type"))
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{where} must be an entity type or a non-empty array of them")
    return list(dict.fromkeys(tm.expand(check_name(t, f"{where} entity type")) for t in value))


def _names(value: Any, tm: TermMap, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{where} must be a non-empty array of attribute names")
    return list(dict.fromkeys(tm.expand(check_name(name, f"{where} name")) for name in value))


def _interval(member: str) -> Callable[[Any, TermMap], dict[str, str]]:
    def parse(value: Any, tm: TermMap) -> dict[str, str]:
        if not isinstance(value, dict):
            raise BadRequestData(f"{member} must be a TimeInterval object")
        unknown = sorted(set(value) - {"startAt", "endAt"})
        if unknown:
            raise BadRequestData(f"{member} has the unknown member {unknown[0]!r}")
        if "startAt" not in value:
            raise BadRequestData(f"{member} has no startAt")
        start = parse_datetime(value["startAt"], f"{member}.startAt")
        interval = {"startAt": format_datetime(start)}
        if "endAt" in value:
            end = parse_datetime(value["endAt"], f"{member}.endAt")
            if end <= start:
                raise BadRequestData(f"{member}.endAt must be after its startAt")
            interval["endAt"] = format_datetime(end)
        return interval

    return parse


def _geometry(member: str) -> Callable[[Any, TermMap], dict[str, Any]]:
    def parse(value: Any, tm: TermMap) -> dict[str, Any]:
        return check_geometry(value, member)

    return parse


def _instant(value: Any, tm: TermMap) -> str:
    return format_datetime(parse_datetime(value, "expiresAt"))


def _endpoint(value: Any, tm: TermMap) -> str:
    uri = require_uri(value, "endpoint")
    if uri.split(":", 1)[0].lower() not in ENDPOINT_SCHEMES:
        raise BadRequestData(f"endpoint must be an http or https URI, got {uri!r}")
    return uri


def _key_values(value: Any, tm: TermMap) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise BadRequestData("contextSourceInfo must be an array of key/value pairs")
    for index, pair in enumerate(value):
        if (
            not isinstance(pair, dict)
            or set(pair) != {"key", "value"}
            or not isinstance(pair["key"], str)
            or not pair["key"]
            or not isinstance(pair["value"], str)
        ):
            raise BadRequestData(
                f"contextSourceInfo[{index}] must be an object with a string key and a string value"
            )
    return [{"key": pair["key"], "value": pair["value"]} for pair in value]


def _scope(value: Any, tm: TermMap) -> list[str]:
    return check_scope(value)


def _mode(value: Any, tm: TermMap) -> str:
    if value not in MODES:
        raise BadRequestData(f"mode must be one of {', '.join(MODES)}, got {value!r}")
    return str(value)


def _operations(value: Any, tm: TermMap) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("operations must be a non-empty array of operation names")
    for name in value:
        if not is_operation_name(name):
            raise BadRequestData(
                f"operations: {name!r} is not an NGSI-LD operation or operation group"
            )
    return list(dict.fromkeys(value))


def _duration(member: str) -> Callable[[Any, TermMap], str]:
    def parse(value: Any, tm: TermMap) -> str:
        try:
            parse_duration(value)
        except BadRequestData:
            raise BadRequestData(
                f"{member} must be an ISO 8601 duration such as PT10S, got {value!r}"
            ) from None
        return str(value)

    return parse


def _positive(member: str, value: Any) -> float | int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise BadRequestData(f"{member} must be a positive number of milliseconds, got {value!r}")
    return value


def _management(value: Any, tm: TermMap) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestData("management must be a RegistrationManagementInfo object")
    unknown = sorted(set(value) - _MANAGEMENT_MEMBERS)
    if unknown:
        raise BadRequestData(f"management has the unknown member {unknown[0]!r}")
    info: dict[str, Any] = {}
    if "localOnly" in value:
        if not isinstance(value["localOnly"], bool):
            raise BadRequestData(
                f"management.localOnly must be true or false, got {value['localOnly']!r}"
            )
        info["localOnly"] = value["localOnly"]
    if "cacheDuration" in value:
        info["cacheDuration"] = _duration("management.cacheDuration")(value["cacheDuration"], tm)
    for member in ("timeout", "cooldown"):
        if member in value:
            info[member] = _positive(f"management.{member}", value[member])
    return info


MEMBER_PARSERS: dict[str, Callable[[Any, TermMap], Any]] = {
    "type": _type,
    "registrationName": _text("registrationName"),
    "description": _text("description"),
    "information": _information,
    "tenant": _text("tenant"),
    "observationInterval": _interval("observationInterval"),
    "managementInterval": _interval("managementInterval"),
    "location": _geometry("location"),
    "observationSpace": _geometry("observationSpace"),
    "operationSpace": _geometry("operationSpace"),
    "expiresAt": _instant,
    "endpoint": _endpoint,
    "contextSourceInfo": _key_values,
    "scope": _scope,
    "mode": _mode,
    "operations": _operations,
    "refreshRate": _duration("refreshRate"),
    "management": _management,
}

# The IRIs of the core members as the core @context defines them (clause 5.2.9 terms).
CORE_MEMBER_IRIS = {
    name: "http://purl.org/dc/terms/description" if name == "description" else NGSI_LD + name
    for name in (*MEMBER_PARSERS, "id")
}
