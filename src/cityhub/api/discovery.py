"""Discovery endpoints: /types, /types/{type}, /attributes, /attributes/{attrId}
(clauses 5.7.5–5.7.10).

Names go out compacted with the request's @context (Link header) and come in through the path
as short names or full IRIs, expanded with the same @context. Lists are in name order.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.common import hub_of, read_context, tenant_headers, tenant_of
from cityhub.api.negotiation import JSON, JSON_LD, RequestContext, json_response, negotiate
from cityhub.api.params import flag
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import check_name
from cityhub.storage.base import AttributeDetails, EntityTypeDetails

_MEDIA = (JSON, JSON_LD)


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
    ``local``; the operations ask no Context Sources, so local=true changes nothing)."""
    tenant = tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    flag(request, "local")
    return tenant, media, ctx, tm


def _respond(body: Any, tenant: str, media: str, ctx: RequestContext) -> Response:
    return json_response(
        body,
        media=media,
        context=ctx.value,
        context_url=ctx.value if isinstance(ctx.value, str) else None,
        headers=tenant_headers(tenant),
    )


async def retrieve_entity_types(request: Request) -> Response:
    """GET /types — Retrieve Available Entity Types (5.7.5), or their details with
    details=true (5.7.6): an EntityTypeList, or an array of EntityType."""
    tenant, media, ctx, tm = await _begin(request)
    discovery = hub_of(request).discovery
    body: Any
    if flag(request, "details"):
        found = await discovery.retrieve_entity_type_details(tenant)
        body = sorted((entity_type(d, tm) for d in found), key=lambda t: t["typeName"])
    else:
        iris = await discovery.retrieve_entity_types(tenant)
        body = {
            "id": _list_id("EntityTypeList"),
            "type": "EntityTypeList",
            "typeList": sorted(tm.compact(iri) for iri in iris),
        }
    return _respond(body, tenant, media, ctx)


async def retrieve_entity_type_info(request: Request) -> Response:
    """GET /types/{type} — Retrieve Available Entity Type Information (5.7.7); 404 when no
    entity has the type."""
    tenant, media, ctx, tm = await _begin(request)
    type_iri = tm.expand(check_name(request.path_params["type"], "Entity type"))
    details = await hub_of(request).discovery.retrieve_entity_type_info(tenant, type_iri)
    return _respond(entity_type_info(details, tm), tenant, media, ctx)


async def retrieve_attributes(request: Request) -> Response:
    """GET /attributes — Retrieve Available Attributes (5.7.8), or their details with
    details=true (5.7.9): an AttributeList, or an array of Attribute."""
    tenant, media, ctx, tm = await _begin(request)
    discovery = hub_of(request).discovery
    body: Any
    if flag(request, "details"):
        found = await discovery.retrieve_attribute_details(tenant)
        body = sorted((attribute(d, tm) for d in found), key=lambda a: a["attributeName"])
    else:
        iris = await discovery.retrieve_attributes(tenant)
        body = {
            "id": _list_id("AttributeList"),
            "type": "AttributeList",
            "attributeList": sorted(tm.compact(iri) for iri in iris),
        }
    return _respond(body, tenant, media, ctx)


async def retrieve_attribute_info(request: Request) -> Response:
    """GET /attributes/{attrId} — Retrieve Available Attribute Information (5.7.10); 404 when
    no entity holds the attribute."""
    tenant, media, ctx, tm = await _begin(request)
    attr_iri = tm.expand(check_name(request.path_params["attr_id"]))
    details = await hub_of(request).discovery.retrieve_attribute_info(tenant, attr_iri)
    return _respond(attribute(details, tm), tenant, media, ctx)


def routes() -> list[Route]:
    # A full IRI in the path may hold "/" (escaped or not): the parameter is the rest of it.
    return [
        Route("/types", retrieve_entity_types, methods=["GET"]),
        Route("/types/{type:path}", retrieve_entity_type_info, methods=["GET"]),
        Route("/attributes", retrieve_attributes, methods=["GET"]),
        Route("/attributes/{attr_id:path}", retrieve_attribute_info, methods=["GET"]),
    ]
