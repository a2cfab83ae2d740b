"""Subscription endpoints: /subscriptions and /subscriptions/{subscriptionId} (clause 5.8).

Subscriptions come in with the request's @context (Link header or body) and go out compacted
with the @context of the request reading them, like entities.
"""

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
from cityhub.api.negotiation import JSON, JSON_LD, empty_response, json_response, negotiate
from cityhub.api.params import flag, integer_param, options, page_links
from cityhub.jsonld.termmap import TermMap
from cityhub.model.subscriptions import DeliveryStatus, render_subscription
from cityhub.storage.base import SubscriptionRecord

_MEDIA = (JSON, JSON_LD)
PATH = "/ngsi-ld/v1/subscriptions"


def delivery_of(record: SubscriptionRecord) -> DeliveryStatus:
    """The status members a stored (entity or registration) subscription shows (5.2.12)."""
    return DeliveryStatus(
        record.times_sent,
        record.times_failed,
        record.last_notification,
        record.last_success,
        record.last_failure,
        record.last_status,
    )


def _rendered(record: SubscriptionRecord, tm: TermMap, sys_attrs: bool) -> dict[str, Any]:
    return render_subscription(
        record.doc,
        delivery_of(record),
        tm,
        now=datetime.now(UTC),
        sys_attrs=sys_attrs,
        created_at=record.created_at,
        modified_at=record.modified_at,
    )


async def create_subscription(request: Request) -> Response:
    """POST /subscriptions — Create Subscription (5.8.1): 201 with Location."""
    hub, tenant = hub_of(request), tenant_of(request)
    flag(request, "local")
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    sub_id = await hub.subscriptions.create(tenant, data.body, tm, data.context.value)
    headers = {"Location": f"{PATH}/{quote(sub_id, safe=':')}", **tenant_headers(tenant)}
    return empty_response(201, headers)


async def query_subscriptions(request: Request) -> Response:
    """GET /subscriptions — Query Subscriptions (5.8.4), oldest first, with count and Link
    headers to the previous and next pages."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    sys_attrs = "sysAttrs" in options(request, {"sysAttrs"})
    flag(request, "local")
    count = flag(request, "count")
    limit = integer_param(request, "limit", hub.settings.query_default_limit)
    offset = integer_param(request, "offset", 0)
    records, total = await hub.subscriptions.query(tenant, limit=limit, offset=offset, count=count)
    headers = tenant_headers(tenant)
    if total is not None:
        headers["NGSILD-Results-Count"] = str(total)
    more = total > offset + len(records) if total is not None else len(records) == limit
    links = page_links(request, limit, offset, more, media)
    if links:
        headers["Link"] = links
    body = [_rendered(record, tm, sys_attrs) for record in records]
    return _respond(body, media, ctx.value, headers)


def _respond(body: Any, media: str, context: Any, headers: dict[str, str]) -> Response:
    return json_response(
        body,
        media=media,
        context=context,
        context_url=context if isinstance(context, str) else None,
        headers=headers,
    )


async def retrieve_subscription(request: Request) -> Response:
    """GET /subscriptions/{subscriptionId} — Retrieve Subscription (5.8.3)."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    sys_attrs = "sysAttrs" in options(request, {"sysAttrs"})
    flag(request, "local")
    record = await hub.subscriptions.retrieve(tenant, request.path_params["sub_id"])
    return _respond(_rendered(record, tm, sys_attrs), media, ctx.value, tenant_headers(tenant))


async def update_subscription(request: Request) -> Response:
    """PATCH /subscriptions/{subscriptionId} — Update Subscription (5.8.2): 204."""
    hub, tenant = hub_of(request), tenant_of(request)
    flag(request, "local")
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    await hub.subscriptions.update(tenant, request.path_params["sub_id"], data.body, tm)
    return empty_response(204, tenant_headers(tenant))


async def delete_subscription(request: Request) -> Response:
    """DELETE /subscriptions/{subscriptionId} — Delete Subscription (5.8.5): 204."""
    hub, tenant = hub_of(request), tenant_of(request)
    flag(request, "local")
    await hub.subscriptions.delete(tenant, request.path_params["sub_id"])
    return empty_response(204, tenant_headers(tenant))


def routes() -> list[Route]:
    return [
        Route("/subscriptions", create_subscription, methods=["POST"]),
        Route("/subscriptions", query_subscriptions, methods=["GET"]),
        Route("/subscriptions/{sub_id:path}", retrieve_subscription, methods=["GET"]),
        Route("/subscriptions/{sub_id:path}", update_subscription, methods=["PATCH"]),
        Route("/subscriptions/{sub_id:path}", delete_subscription, methods=["DELETE"]),
    ]
