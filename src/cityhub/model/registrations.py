"""Context Source Registrations (clause 5.2.9) as the hub stores them: validated, names expanded.

``parse_registration`` checks a Register Context Source body (clause 5.9.2) member by member
and returns the stored form; ``merge_registration`` applies a CsourceRegistrationFragment
(clause 5.9.3) and checks the result as a whole, so an update never leaves a registration a
create would refuse; ``render_registration`` gives one back in a requester's terms (clause
5.10.1).

Stored form (the distributed-operation planner reads it; keep these member names): the
members of clause 5.2.9 with

* ``information[*].entities[*].type``: entity type IRIs (a string, or a list when a list was
  given); ``information[*].propertyNames`` / ``relationshipNames``: attribute IRIs;
* ``mode`` always present (``inclusive`` when not given); ``operations`` only as given, and
  ``operationsExpanded`` always: the single operations it stands for, sorted (the default
  ``federationOps`` expanded when ``operations`` is absent);
* ``expiresAt`` and the TimeInterval members in the hub's DateTime form (UTC, ``Z``);
  ``scope`` as a list;
* Context Source Properties (members clause 5.2.9 does not define, which it allows) under
  their expanded IRIs with their values as given — core members never contain ``:``, these
  always do, like attributes of entities;
* ``@context``: the @context of the request that created the registration.

The status members (``status``, ``timesSent``, ``timesFailed``, ``lastSuccess``,
``lastFailure``) and ``createdAt``/``modifiedAt`` are read-only: the store keeps them beside
the document, and a body that carries them (one read back and sent again) has them ignored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.operations import AUXILIARY_OPERATIONS, DEFAULT_OPERATIONS, expand_operations
from cityhub.model.registration_members import (
    CORE_MEMBER_IRIS,
    MEMBER_PARSERS,
    REGISTRATION_TYPE,
)
from cityhub.model.values import check_name, parse_datetime, require_uri

Registration = dict[str, Any]

DEFAULT_MODE = "inclusive"
GEO_MEMBERS = ("location", "observationSpace", "operationSpace")

_CORE_IRIS = {iri: name for name, iri in CORE_MEMBER_IRIS.items()}
_READ_ONLY = frozenset(
    {
        "status",
        "timesSent",
        "timesFailed",
        "lastSuccess",
        "lastFailure",
        "createdAt",
        "modifiedAt",
        "deletedAt",
    }
)
_FIXED = frozenset({"id", "type", "information", "endpoint"})  # a fragment cannot remove them


@dataclass
class RegistrationStatus:
    """What distributed operations through a registration recorded (clause 5.2.9)."""

    times_sent: int = 0
    times_failed: int = 0
    last_success: str | None = None
    last_failure: str | None = None
    status: str | None = None  # "ok" | "failed" once an operation was attempted


def new_registration_id() -> str:
    return f"urn:ngsi-ld:ContextSourceRegistration:{uuid.uuid4()}"


def parse_registration(body: Any, tm: TermMap, context: Any, *, now: datetime) -> Registration:
    """A Register Context Source body (clause 5.9.2) as the stored form; an id is generated
    when the body has none. Raises BadRequestData naming the member and the problem."""
    if not isinstance(body, dict):
        raise BadRequestData("A context source registration must be a JSON object")
    if "type" not in body:
        raise BadRequestData("The registration has no type: it must be 'ContextSourceRegistration'")
    for member in ("information", "endpoint"):
        if member not in body:
            raise BadRequestData(f"The registration has no {member} member")
    reg: Registration = {
        "id": require_uri(body["id"], "Registration id") if "id" in body else None,
        "type": REGISTRATION_TYPE,
    }
    if reg["id"] is None:
        reg["id"] = new_registration_id()
    _apply_members(reg, body, tm)
    reg["@context"] = context
    _complete(reg)
    check_registration(reg, body, now=now)
    return reg


def merge_registration(
    stored: Registration, fragment: Any, tm: TermMap, *, now: datetime
) -> Registration:
    """Update Context Source Registration (clause 5.9.3): each member of the fragment replaces
    the stored one as a whole (``information`` too); ``null`` removes an optional member
    (``mode`` then returns to its default). The fragment may repeat the id and type but not
    change them; names in it expand with the update request's @context."""
    if not isinstance(fragment, dict):
        raise BadRequestData("A registration fragment must be a JSON object")
    changing = [n for n in fragment if n not in {"id", "type", "@context"} | _READ_ONLY]
    if not changing:
        raise BadRequestData("The registration fragment changes nothing")
    if "id" in fragment and fragment["id"] != stored["id"]:
        raise BadRequestData("The registration fragment may not change the registration id")
    merged = dict(stored)
    for name in [n for n, v in fragment.items() if v is None]:
        if name in _FIXED:
            raise BadRequestData(f"The registration member {name} cannot be removed")
        if name in MEMBER_PARSERS:
            merged.pop(name, None)
        elif name not in _READ_ONLY and name != "@context":
            merged.pop(_property_iri(name, tm), None)
    _apply_members(merged, {n: v for n, v in fragment.items() if v is not None}, tm)
    _complete(merged)
    check_registration(merged, fragment, now=now)
    return merged


def _apply_members(reg: Registration, body: dict[str, Any], tm: TermMap) -> None:
    """Check and store each member of ``body`` (a create body or an update fragment)."""
    for name, value in body.items():
        if name in _READ_ONLY or name in {"id", "@context"}:
            continue
        if value is None:
            raise BadRequestData(f"The registration member {name} cannot be null")
        parse = MEMBER_PARSERS.get(name)
        if parse is not None:
            reg[name] = parse(value, tm)
        else:
            reg[_property_iri(name, tm)] = value


def _property_iri(name: str, tm: TermMap) -> str:
    """A Context Source Property's IRI; one that names a core member would read back as it."""
    iri = tm.expand(check_name(name, "Context source property name"))
    if iri in _CORE_IRIS:
        raise BadRequestData(
            f"The registration member {name} names the core member {_CORE_IRIS[iri]}"
        )
    return iri


def _complete(reg: Registration) -> None:
    reg.setdefault("mode", DEFAULT_MODE)
    reg["operationsExpanded"] = expand_operations(reg.get("operations", DEFAULT_OPERATIONS))


def check_registration(reg: Registration, given: dict[str, Any], *, now: datetime) -> None:
    """Restrictions between members (clauses 5.2.9, 4.3.6) on a whole registration; ``given``
    is the body or fragment that produced it (expiresAt must be future when it is given)."""
    for member in ("information", "endpoint"):
        if member not in reg:
            raise BadRequestData(f"The registration has no {member} member")
    if given.get("expiresAt") is not None and registration_expired(reg, now):
        raise BadRequestData(f"expiresAt {reg['expiresAt']} is not in the future")
    mode = reg["mode"]
    if mode == "exclusive":
        _check_exclusive(reg["information"])
    if mode == "auxiliary" and "operations" in reg:
        beyond = sorted(set(reg["operationsExpanded"]) - AUXILIARY_OPERATIONS)
        if beyond:
            raise BadRequestData(
                "An auxiliary registration only serves retrieveEntity and queryEntity"
                f" (retrieveOps); its operations include {beyond[0]}"
            )


def _check_exclusive(information: list[dict[str, Any]]) -> None:
    """Clause 4.3.6.3: an exclusive registration relates to specific Attributes of a single
    Entity, so each RegistrationInfo names entity ids (no idPattern, no type-only group) and
    attribute names."""
    for index, info in enumerate(information):
        where = f"information[{index}]"
        if "entities" not in info:
            raise BadRequestData(f"An exclusive registration needs entities with ids in {where}")
        for number, entity in enumerate(info["entities"]):
            if "id" not in entity or "idPattern" in entity:
                raise BadRequestData(
                    f"An exclusive registration needs an entity id and no idPattern in"
                    f" {where}.entities[{number}]"
                )
        if "propertyNames" not in info and "relationshipNames" not in info:
            raise BadRequestData(
                f"An exclusive registration needs propertyNames or relationshipNames in {where}"
            )


# --- reading a stored registration -----------------------------------------------------


def entity_info_types(entity_info: dict[str, Any]) -> list[str]:
    """The type IRIs of a stored EntityInfo, always as a list."""
    types = entity_info["type"]
    return [types] if isinstance(types, str) else list(types)


def attribute_names(info: dict[str, Any]) -> set[str]:
    """The attribute IRIs a RegistrationInfo names (empty: it does not restrict them)."""
    return {*info.get("propertyNames", ()), *info.get("relationshipNames", ())}


def registration_expired(reg: Registration, now: datetime) -> bool:
    """Whether ``expiresAt`` has passed: the registration is then no longer valid."""
    return "expiresAt" in reg and parse_datetime(reg["expiresAt"], "expiresAt") <= now


def render_registration(
    reg: Registration,
    status: RegistrationStatus,
    tm: TermMap,
    *,
    sys_attrs: bool,
    created_at: str,
    modified_at: str,
) -> dict[str, Any]:
    """A stored registration in the requester's terms (clause 5.10.1), with the status
    members once a distributed operation was attempted and createdAt/modifiedAt with
    sysAttrs. ``operations`` shows its default (``federationOps``) when none was given."""
    out: dict[str, Any] = {}
    for name, value in reg.items():
        if name in {"@context", "operationsExpanded"}:
            continue
        if name == "information":
            value = [_render_info(info, tm) for info in value]
        elif ":" in name:
            name = tm.compact(name)
        out[name] = value
    out.setdefault("operations", list(DEFAULT_OPERATIONS))
    if status.status is not None:
        out["status"] = status.status
    if status.times_sent:
        out["timesSent"] = status.times_sent
    if status.times_failed:
        out["timesFailed"] = status.times_failed
    if status.last_success is not None:
        out["lastSuccess"] = status.last_success
    if status.last_failure is not None:
        out["lastFailure"] = status.last_failure
    if sys_attrs:
        out["createdAt"] = created_at
        out["modifiedAt"] = modified_at
    return out


def _render_info(info: dict[str, Any], tm: TermMap) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "entities" in info:
        out["entities"] = [_render_entity_info(entity, tm) for entity in info["entities"]]
    for member in ("propertyNames", "relationshipNames"):
        if member in info:
            out[member] = [tm.compact(iri) for iri in info[member]]
    return out


def _render_entity_info(entity: dict[str, Any], tm: TermMap) -> dict[str, Any]:
    out = {name: value for name, value in entity.items() if name != "type"}
    types = entity["type"]
    out["type"] = tm.compact(types) if isinstance(types, str) else [tm.compact(t) for t in types]
    return out
