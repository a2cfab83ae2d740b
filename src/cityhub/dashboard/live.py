"""Live changes for the dashboard: server-sent events of changed features.

Browsers' EventSource cannot send the NGSILD-Tenant header, so the dashboard asks
``/dashboard/api/cities/{tenant}/live``: the hub keeps one subscription per city (id
``urn:ngsi-ld:Subscription:cityhub-dashboard``, endpoint ``urn:cityhub:sse``, every
dashboard type, every trigger) and turns each notification into the features it changed,
read afresh from the store so they look exactly like the layer endpoint's. A reconnecting
browser sends ``Last-Event-ID`` and gets what it missed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from cityhub.dashboard.data import DashboardData
from cityhub.dashboard.i18n import data_preference
from cityhub.dashboard.layers import LAYERS, feature
from cityhub.dashboard.reader import Reader
from cityhub.errors import AlreadyExists, ResourceNotFound
from cityhub.model.subscriptions import SSE_ENDPOINT

SUBSCRIPTION_ID = "urn:ngsi-ld:Subscription:cityhub-dashboard"
TRIGGERS = [
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
]
KEEP_ALIVE_SECONDS = 15.0
WAKE_SECONDS = 0.25


async def ensure_subscription(data: DashboardData, tenant: str) -> None:
    """The city's dashboard subscription, made on first use (by any worker)."""
    hub = data.hub
    try:
        await hub.subscriptions.retrieve(tenant, SUBSCRIPTION_ID)
        return
    except ResourceNotFound:
        pass
    types: list[str] = []
    for layer in LAYERS:
        tm = await data.termmap(layer.context)
        types.extend(tm.expand(t) for t in layer.types)
    body = {
        "id": SUBSCRIPTION_ID,
        "type": "Subscription",
        "description": "CityHub dashboard live feed",
        "entities": [{"type": t} for t in dict.fromkeys(types)],
        "notificationTrigger": TRIGGERS,
        "notification": {"endpoint": {"uri": SSE_ENDPOINT}},
    }
    with contextlib.suppress(AlreadyExists):  # another worker made it meanwhile
        await hub.subscriptions.create(tenant, body, hub.contexts.resolver.core, None)


async def changed_features(
    data: DashboardData, tenant: str, notification: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    """The events one notification makes: a Feature per changed entity on a layer, or
    ``{"id", "deleted": true}`` for one that is gone."""
    pref = data_preference(language, tenant)
    out: list[dict[str, Any]] = []
    for item in notification.get("data", []):
        entity_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(entity_id, str):
            continue
        entity = await data.hub.store.get_entity(tenant, entity_id)
        if entity is None:
            out.append({"id": entity_id, "deleted": True})
            continue
        for layer in LAYERS:
            tm = await data.termmap(layer.context)
            if any(tm.expand(t) in entity["type"] for t in layer.types):
                found = feature(layer, Reader(entity, tm, {}), pref)
                if found is not None:
                    out.append(found)
                break
    return out


async def events(
    data: DashboardData,
    tenant: str,
    language: str,
    after: int | None,
    disconnected: Any,
) -> AsyncIterator[bytes]:
    """The SSE byte stream (``disconnected``: an async callable telling when to stop)."""
    store = data.hub.store
    position = after if after is not None else await store.newest_feed_id(tenant, SUBSCRIPTION_ID)
    yield b"retry: 2000\n\n"
    quiet_since = time.monotonic()
    while True:
        rows = await store.read_feed(tenant, SUBSCRIPTION_ID, position, 100)
        for row_id, body in rows:
            position = row_id
            for change in await changed_features(data, tenant, body, language):
                yield b"id: %d\nevent: change\ndata: %s\n\n" % (row_id, orjson.dumps(change))
            quiet_since = time.monotonic()
        if rows:
            continue
        if await disconnected():
            return
        if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
            yield b": keep-alive\n\n"
            quiet_since = time.monotonic()
        await store.wait_for_feed(WAKE_SECONDS)
