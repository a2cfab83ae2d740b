"""Discovery endpoints: /types, /types/{type}, /attributes, /attributes/{attrId}
(clauses 5.7.5–5.7.10).

Names go out compacted with the request's @context (Link header) and come in through the path
as short names or full IRIs, expanded with the same @context. Lists are in name order.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.common import hub_of, read_context, tenant_headers, tenant_of
from cityhub.api.federated import caller, forward_of, warning_headers
from cityhub.api.negotiation import JSON, JSON_LD, RequestContext, json_response, negotiate
from cityhub.api.params import flag
from cityhub.errors import NonexistentTenant, ResourceNotFound
from cityhub.federation.discovery import (
    SourcesSaid,
    ask,
    attribute_iris,
    merge_attribute_details,
    merge_type_details,
    type_iris,
)
from cityhub.federation.sharing import NotShared
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import check_name
from cityhub.storage.base import AttributeDetails, EntityTypeDetails

_MEDIA = (JSON, JSON_LD)
T = TypeVar("T")


def _list_id(kind: str) -> str:
    """A fresh id for an EntityTypeList or AttributeList: ``urn:ngsi-ld:AttributeList:<uuid>``."""
    return f"urn:ngsi-ld:{kind}:{uuid.uuid4()}"


def entity_type(details: EntityTypeDetails, tm: TermMap) -> dict[str, Any]:
    """An EntityType (clause 5.2.25)."""
    return {
        "id": details.type_iri,
        "type": "EntityType",
        "typeName": tm.compact(details.type_iri),
        "attributeNames": sorted(tm.compact(iri) for iri in details.attributes),
    }


def entity_type_info(details: EntityTypeDetails, tm: TermMap) -> dict[str, Any]:
    """An EntityTypeInfo (clause 5.2.26): attributeDetails are Attributes with their types."""
    attributes = [
        {
            "id": iri,
            "type": "Attribute",
            "attributeName": tm.compact(iri),
            "attributeTypes": kinds,
        }
        for iri, kinds in details.attributes.items()
    ]
    return {
        "id": details.type_iri,
        "type": "EntityTypeInfo",
        "typeName": tm.compact(details.type_iri),
        "entityCount": details.entity_count,
        "attributeDetails": sorted(attributes, key=lambda a: a["attributeName"]),
    }


def attribute(details: AttributeDetails, tm: TermMap) -> dict[str, Any]:
    """An Attribute (clause 5.2.28); attributeCount counts attribute instances."""
    return {
        "id": details.attribute_iri,
        "type": "Attribute",
        "attributeName": tm.compact(details.attribute_iri),
        "attributeCount": details.instance_count,
        "attributeTypes": details.attribute_types,
        "typeNames": sorted(tm.compact(iri) for iri in details.entity_types),
    }


async def _begin(request: Request) -> tuple[str, str, RequestContext, TermMap]:
    """Tenant, response media type and @context of a discovery request (400 for a bad
    ``local``, which keeps the question from the registered context sources)."""
    tenant = tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    flag(request, "local")
    return tenant, media, ctx, tm


async def _sources(request: Request, tenant: str, operation: str, path: str) -> SourcesSaid:
    """What the matching context sources answer to the same question (clause 4.3.6)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k == "details"]
    return await ask(
        hub_of(request).federation, tenant, operation, path, forward_of(request), params
    )


async def _local(call: Awaitable[T], fallback: T, sources: SourcesSaid) -> T:
    """The local answer; when sources answered, a tenant or item unknown here is none."""
    try:
        return await call
    except (NonexistentTenant, ResourceNotFound):
        if not sources.bodies:
            raise
        return fallback


def _shared_types(request: Request, found: list[EntityTypeDetails]) -> list[EntityTypeDetails]:
    """Type details as the caller may see them: a partner hub (federation/sharing.py) sees
    only its shared types, with only their shared attributes."""
    partner = caller(request)
    if partner is None:
        return found
    shown = []
    for details in found:
        if details.type_iri not in partner.types:
            continue
        allowed = partner.shared_attributes([details.type_iri])
        attributes = {
            iri: kinds
            for iri, kinds in details.attributes.items()
            if allowed is None or iri in allowed
        }
        shown.append(EntityTypeDetails(details.type_iri, details.entity_count, attributes))
    return shown


def _respond(
    body: Any, tenant: str, media: str, ctx: RequestContext, warnings: list[str] | None = None
) -> Response:
    return json_response(
        body,
        media=media,
        context=ctx.value,
        context_url=ctx.value if isinstance(ctx.value, str) else None,
        headers={**tenant_headers(tenant), **warning_headers(warnings or [])},
    )


async def retrieve_entity_types(request: Request) -> Response:
    """GET /types — Retrieve Available Entity Types (5.7.5), or their details with
    details=true (5.7.6): an EntityTypeList, or an array of EntityType."""
    tenant, media, ctx, tm = await _begin(request)
    discovery = hub_of(request).discovery
    body: Any
    if flag(request, "details"):
        said = await _sources(request, tenant, "retrieveEntityTypeDetails", "types")
        found = await _local(discovery.retrieve_entity_type_details(tenant), [], said)
        found = _shared_types(request, merge_type_details(found, said.bodies, tm))
        body = sorted((entity_type(d, tm) for d in found), key=lambda t: t["typeName"])
    else:
        said = await _sources(request, tenant, "retrieveEntityTypes", "types")
        iris = set(await _local(discovery.retrieve_entity_types(tenant), [], said))
        iris |= type_iris(said.bodies, tm)
        partner = caller(request)
        if partner is not None:
            iris &= partner.types
        body = {
            "id": _list_id("EntityTypeList"),
            "type": "EntityTypeList",
            "typeList": sorted(tm.compact(iri) for iri in iris),
        }
    return _respond(body, tenant, media, ctx, said.warnings)


async def retrieve_entity_type_info(request: Request) -> Response:
    """GET /types/{type} — Retrieve Available Entity Type Information (5.7.7); 404 when no
    entity has the type."""
    tenant, media, ctx, tm = await _begin(request)
    type_iri = tm.expand(check_name(request.path_params["type"], "Entity type"))
    said = await _sources(
        request, tenant, "retrieveEntityTypeInfo", f"types/{quote(type_iri, safe='')}"
    )
    local = await _local(
        hub_of(request).discovery.retrieve_entity_type_info(tenant, type_iri), None, said
    )
    merged = _shared_types(request, merge_type_details([local] if local else [], said.bodies, tm))
    details = next((d for d in merged if d.type_iri == type_iri), None)
    if details is None:
        raise ResourceNotFound(f"No entity of type {type_iri} here or at its sources")
    return _respond(entity_type_info(details, tm), tenant, media, ctx, said.warnings)


async def retrieve_attributes(request: Request) -> Response:
    """GET /attributes — Retrieve Available Attributes (5.7.8), or their details with
    details=true (5.7.9): an AttributeList, or an array of Attribute."""
    tenant, media, ctx, tm = await _begin(request)
    discovery = hub_of(request).discovery
    body: Any
    partner = caller(request)
    if partner is not None:
        if flag(request, "details"):
            raise NotShared("Attribute details (counts across every type) are not shared")
        shown = _shared_types(request, await discovery.retrieve_entity_type_details(tenant))
        names = {iri for details in shown for iri in details.attributes}
        body = {
            "id": _list_id("AttributeList"),
            "type": "AttributeList",
            "attributeList": sorted(tm.compact(iri) for iri in names),
        }
        return _respond(body, tenant, media, ctx)
    if flag(request, "details"):
        said = await _sources(request, tenant, "retrieveAttrTypeDetails", "attributes")
        found = await _local(discovery.retrieve_attribute_details(tenant), [], said)
        found = merge_attribute_details(found, said.bodies, tm)
        body = sorted((attribute(d, tm) for d in found), key=lambda a: a["attributeName"])
    else:
        said = await _sources(request, tenant, "retrieveAttrTypes", "attributes")
        iris = set(await _local(discovery.retrieve_attributes(tenant), [], said))
        iris |= attribute_iris(said.bodies, tm)
        body = {
            "id": _list_id("AttributeList"),
            "type": "AttributeList",
            "attributeList": sorted(tm.compact(iri) for iri in iris),
        }
    return _respond(body, tenant, media, ctx, said.warnings)


async def retrieve_attribute_info(request: Request) -> Response:
    """GET /attributes/{attrId} — Retrieve Available Attribute Information (5.7.10); 404 when
    no entity holds the attribute."""
    tenant, media, ctx, tm = await _begin(request)
    if caller(request) is not None:
        raise NotShared("Attribute details (counts across every type) are not shared")
    attr_iri = tm.expand(check_name(request.path_params["attr_id"]))
    said = await _sources(
        request, tenant, "retrieveAttrTypeInfo", f"attributes/{quote(attr_iri, safe='')}"
    )
    local = await _local(
        hub_of(request).discovery.retrieve_attribute_info(tenant, attr_iri), None, said
    )
    found = merge_attribute_details([local] if local else [], said.bodies, tm)
    details = next((d for d in found if d.attribute_iri == attr_iri), None)
    if details is None:
        raise ResourceNotFound(f"No entity has attribute {attr_iri} here or at its sources")
    return _respond(attribute(details, tm), tenant, media, ctx, said.warnings)


def routes() -> list[Route]:
    # A full IRI in the path may hold "/" (escaped or not): the parameter is the rest of it.
    return [
        Route("/types", retrieve_entity_types, methods=["GET"]),
        Route("/types/{type:path}", retrieve_entity_type_info, methods=["GET"]),
        Route("/attributes", retrieve_attributes, methods=["GET"]),
        Route("/attributes/{attr_id:path}", retrieve_attribute_info, methods=["GET"]),
    ]
