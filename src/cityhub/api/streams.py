"""Live notification feed: ``GET /ngsi-ld/v1/subscriptions/{id}/stream`` (server-sent events).

For subscriptions whose endpoint is ``urn:cityhub:sse`` (notifications/feed_delivery.py):
each notification is one event (``id`` = its feed position, ``event: notification``,
``data`` = the Notification JSON). A browser's EventSource reconnects with
``Last-Event-ID`` and gets what it missed; a new stream starts with what arrives next. A
comment line every 15 s keeps proxies from closing an idle stream. This is a CityHub
extension of the NGSI-LD API, used by the dashboard.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cityhub.api.common import hub_of, tenant_headers, tenant_of
from cityhub.errors import BadRequestData
from cityhub.model.subscriptions import SSE_ENDPOINT

KEEP_ALIVE_SECONDS = 15.0
WAKE_SECONDS = 1.0


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadRequestData(f"Last-Event-ID must be a feed position, got {raw!r}")
    return int(raw)


async def stream_notifications(request: Request) -> Response:
    """The subscription's notifications as server-sent events (404 for an unknown one, 400
    when its endpoint is not the live feed)."""
    hub, tenant = hub_of(request), tenant_of(request)
    sub_id = request.path_params["sub_id"]
    record = await hub.subscriptions.retrieve(tenant, sub_id)
    if record.doc["notification"]["endpoint"]["uri"] != SSE_ENDPOINT:
        raise BadRequestData(
            f"Subscription {sub_id} notifies another endpoint; streams serve those whose"
            f" endpoint is {SSE_ENDPOINT}"
        )
    store = hub.store
    after = _last_event_id(request)
    if after is None:
        after = await store.newest_feed_id(tenant, sub_id)

    async def events() -> AsyncIterator[bytes]:
        position = after
        yield b"retry: 2000\n\n"
        quiet_since = time.monotonic()
        while True:
            rows = await store.read_feed(tenant, sub_id, position, 100)
            for row_id, body in rows:
                position = row_id
                yield b"id: %d\nevent: notification\ndata: %s\n\n" % (row_id, orjson.dumps(body))
                quiet_since = time.monotonic()
            if rows:
                continue
            if await request.is_disconnected():
                return
            if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            # Woken by appends (of any worker on PostgreSQL); the timeout also catches other
            # processes' appends on SQLite.
            await store.wait_for_feed(WAKE_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **tenant_headers(tenant)}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def routes() -> list[Route]:
    return [
        Route("/subscriptions/{sub_id:path}/stream", stream_notifications, methods=["GET"]),
    ]
