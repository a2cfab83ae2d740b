"""Registration subscription endpoints: /csourceSubscriptions and
/csourceSubscriptions/{subscriptionId} (clause 5.11), shaped like /subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
from cityhub.api.params import flag, integer_param, options, page_links
from cityhub.api.subscriptions import delivery_of
from cityhub.jsonld.termmap import TermMap
from cityhub.model.csource_subscriptions import render_csource_subscription
from cityhub.storage.base import SubscriptionRecord

_MEDIA = (JSON, JSON_LD)
PATH = "/ngsi-ld/v1/csourceSubscriptions"


def _rendered(record: SubscriptionRecord, tm: TermMap, sys_attrs: bool) -> dict[str, Any]:
    return render_csource_subscription(
        record.doc,
        delivery_of(record),
        tm,
        now=datetime.now(UTC),
        sys_attrs=sys_attrs,
        created_at=record.created_at,
        modified_at=record.modified_at,
    )


async def create_csource_subscription(request: Request) -> Response:
    """POST /csourceSubscriptions — Create Context Source Registration Subscription
    (5.11.2): 201 with Location."""
    tenant = tenant_of(request)
    flag(request, "local")
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    service = csources_of(hub_of(request)).subscriptions
    sub_id = await service.create(tenant, data.body, tm, data.context.value)
    headers = {"Location": f"{PATH}/{quote(sub_id, safe=':')}", **tenant_headers(tenant)}
    return empty_response(201, headers)


async def query_csource_subscriptions(request: Request) -> Response:
    """GET /csourceSubscriptions — Query Context Source Registration Subscriptions
    (5.11.5), oldest first, with count and Link headers to the previous and next pages."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    sys_attrs = "sysAttrs" in options(request, {"sysAttrs"})
    flag(request, "local")
    count = flag(request, "count")
    limit = integer_param(request, "limit", hub.settings.query_default_limit)
    offset = integer_param(request, "offset", 0)
    service = csources_of(hub).subscriptions
    records, total = await service.query(tenant, limit=limit, offset=offset, count=count)
    headers = tenant_headers(tenant)
    if total is not None:
        headers["NGSILD-Results-Count"] = str(total)
    more = total > offset + len(records) if total is not None else len(records) == limit
    links = page_links(request, limit, offset, more, media)
    if links:
        headers["Link"] = links
    body = [_rendered(record, tm, sys_attrs) for record in records]
    return respond(body, media, ctx.value, headers)


async def retrieve_csource_subscription(request: Request) -> Response:
    """GET /csourceSubscriptions/{subscriptionId} — Retrieve Context Source Registration
    Subscription (5.11.4)."""
    tenant = tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    sys_attrs = "sysAttrs" in options(request, {"sysAttrs"})
    flag(request, "local")
    service = csources_of(hub_of(request)).subscriptions
    record = await service.retrieve(tenant, request.path_params["sub_id"])
    return respond(_rendered(record, tm, sys_attrs), media, ctx.value, tenant_headers(tenant))


async def update_csource_subscription(request: Request) -> Response:
    """PATCH /csourceSubscriptions/{subscriptionId} — Update Context Source Registration
    Subscription (5.11.3): 204."""
    tenant = tenant_of(request)
    flag(request, "local")
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    service = csources_of(hub_of(request)).subscriptions
    await service.update(tenant, request.path_params["sub_id"], data.body, tm)
    return empty_response(204, tenant_headers(tenant))


async def delete_csource_subscription(request: Request) -> Response:
    """DELETE /csourceSubscriptions/{subscriptionId} — Delete Context Source Registration
    Subscription (5.11.6): 204."""
    tenant = tenant_of(request)
    flag(request, "local")
    service = csources_of(hub_of(request)).subscriptions
    await service.delete(tenant, request.path_params["sub_id"])
    return empty_response(204, tenant_headers(tenant))


def routes() -> list[Route]:
    item = "/csourceSubscriptions/{sub_id:path}"
    return [
        Route("/csourceSubscriptions", create_csource_subscription, methods=["POST"]),
        Route("/csourceSubscriptions", query_csource_subscriptions, methods=["GET"]),
        Route(item, retrieve_csource_subscription, methods=["GET"]),
        Route(item, update_csource_subscription, methods=["PATCH"]),
        Route(item, delete_csource_subscription, methods=["DELETE"]),
    ]
