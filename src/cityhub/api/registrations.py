"""Context source endpoints: /csourceRegistrations (clauses 5.9, 5.10), /csourceSubscriptions
(clause 5.11, api/csource_subscriptions.py) and /info/sourceIdentity (clause 5.15).

Registrations come in with the request's @context (Link header or body) and go out compacted
with the @context of the request reading them, like entities and subscriptions.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api import csource_subscriptions
from cityhub.api.common import (
    hub_of,
    json_input,
    read_context,
    tenant_headers,
    tenant_of,
    termmap_for,
)
from cityhub.api.csources import csources_of, respond
from cityhub.api.negotiation import JSON, JSON_LD, empty_response, negotiate
from cityhub.api.params import flag, integer_param, list_param, options, page_links
from cityhub.api.queries import query_from_params
from cityhub.errors import BadRequestData
from cityhub.jsonld.core import CORE_CONTEXT_URL
from cityhub.jsonld.termmap import TermMap
from cityhub.model.registration_match import RegistrationFilter
from cityhub.model.registrations import RegistrationStatus, render_registration
from cityhub.model.values import check_name
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_q
from cityhub.query.temporal import parse_temporal_query
from cityhub.storage.base import RegistrationRecord

_MEDIA = (JSON, JSON_LD)
PATH = "/ngsi-ld/v1/csourceRegistrations"
# Query Context Source Registrations needs something to match (clause 5.10.2).
_SELECTING = (
    "type",
    "id",
    "idPattern",
    "attrs",
    "q",
    "csf",
    "georel",
    "geometry",
    "coordinates",
    "scopeQ",
    "timerel",
)


def _rendered(record: RegistrationRecord, tm: TermMap, sys_attrs: bool) -> dict[str, Any]:
    status = RegistrationStatus(
        record.times_sent,
        record.times_failed,
        record.last_success,
        record.last_failure,
        record.last_status,
    )
    return render_registration(
        record.doc,
        status,
        tm,
        sys_attrs=sys_attrs,
        created_at=record.created_at,
        modified_at=record.modified_at,
    )


async def create_registration(request: Request) -> Response:
    """POST /csourceRegistrations — Register Context Source (5.9.2): 201 with Location."""
    tenant = tenant_of(request)
    flag(request, "local")
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    service = csources_of(hub_of(request)).registrations
    reg_id = await service.create(tenant, data.body, tm, data.context.value)
    headers = {"Location": f"{PATH}/{quote(reg_id, safe=':')}", **tenant_headers(tenant)}
    return empty_response(201, headers)


def registration_filter(request: Request, tm: TermMap) -> RegistrationFilter:
    """What a Query Context Source Registrations request asks for (clause 5.10.2)."""
    params = request.query_params
    if not any(name in params for name in _SELECTING):
        raise BadRequestData(
            "Query Context Source Registrations needs at least one of type, id, idPattern,"
            " attrs, q, csf, geoQ, scopeQ, timerel"
        )
    attrs = list_param(request, "attrs")
    expanded = frozenset(tm.expand(check_name(a)) for a in attrs) if attrs is not None else None
    query = query_from_params(request, tm, expanded)
    properties = [query.q] if query.q is not None else []
    if "csf" in params:
        properties.append(resolve_q(parse_q(params["csf"], "csf"), tm, "csf"))
    temporal = parse_temporal_query(
        params.get("timerel"),
        params.get("timeAt"),
        params.get("endTimeAt"),
        params.get("timeproperty"),
        None,
        required=False,
    )
    return RegistrationFilter(
        types=query.types,
        ids=query.ids,
        id_pattern=query.id_pattern,
        attrs=query.attrs,
        properties=tuple(properties),
        scope=query.scope,
        geo=query.geo,
        temporal=temporal if temporal.timerel is not None else None,
    )


async def query_registrations(request: Request) -> Response:
    """GET /csourceRegistrations — Query Context Source Registrations (5.10.2), oldest first,
    with count and Link headers to the previous and next pages."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    sys_attrs = "sysAttrs" in options(request, {"sysAttrs"})
    flag(request, "local")
    count = flag(request, "count")
    flt = registration_filter(request, tm)
    limit = integer_param(request, "limit", hub.settings.query_default_limit)
    offset = integer_param(request, "offset", 0)
    service = csources_of(hub).registrations
    records, total, more = await service.query(tenant, flt, limit=limit, offset=offset, count=count)
    headers = tenant_headers(tenant)
    if total is not None:
        headers["NGSILD-Results-Count"] = str(total)
    links = page_links(request, limit, offset, more, media)
    if links:
        headers["Link"] = links
    body = [_rendered(record, tm, sys_attrs) for record in records]
    return respond(body, media, ctx.value, headers)


async def retrieve_registration(request: Request) -> Response:
    """GET /csourceRegistrations/{registrationId} — Retrieve Context Source Registration
    (5.10.1)."""
    tenant = tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    sys_attrs = "sysAttrs" in options(request, {"sysAttrs"})
    flag(request, "local")
    service = csources_of(hub_of(request)).registrations
    record = await service.retrieve(tenant, request.path_params["reg_id"])
    return respond(_rendered(record, tm, sys_attrs), media, ctx.value, tenant_headers(tenant))


async def update_registration(request: Request) -> Response:
    """PATCH /csourceRegistrations/{registrationId} — Update Context Source Registration
    (5.9.3): 204."""
    tenant = tenant_of(request)
    flag(request, "local")
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    service = csources_of(hub_of(request)).registrations
    await service.update(tenant, request.path_params["reg_id"], data.body, tm)
    return empty_response(204, tenant_headers(tenant))


async def delete_registration(request: Request) -> Response:
    """DELETE /csourceRegistrations/{registrationId} — Delete Context Source Registration
    (5.9.4): 204."""
    tenant = tenant_of(request)
    flag(request, "local")
    service = csources_of(hub_of(request)).registrations
    await service.delete(tenant, request.path_params["reg_id"])
    return empty_response(204, tenant_headers(tenant))


async def retrieve_source_identity(request: Request) -> Response:
    """GET /info/sourceIdentity — Retrieve Context Source Identity Information (5.15.1)."""
    tenant = tenant_of(request)
    media = negotiate(request, _MEDIA)
    identity = await csources_of(hub_of(request)).identity.identity(tenant)
    return respond(identity, media, CORE_CONTEXT_URL, tenant_headers(tenant))


def routes() -> list[Route]:
    return [
        Route("/csourceRegistrations", create_registration, methods=["POST"]),
        Route("/csourceRegistrations", query_registrations, methods=["GET"]),
        Route("/csourceRegistrations/{reg_id:path}", retrieve_registration, methods=["GET"]),
        Route("/csourceRegistrations/{reg_id:path}", update_registration, methods=["PATCH"]),
        Route("/csourceRegistrations/{reg_id:path}", delete_registration, methods=["DELETE"]),
        *csource_subscriptions.routes(),
        Route("/info/sourceIdentity", retrieve_source_identity, methods=["GET"]),
    ]
