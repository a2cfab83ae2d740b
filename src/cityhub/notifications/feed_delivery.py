"""The hub's own live feed as a notification endpoint (``urn:cityhub:sse``).

A subscription whose endpoint is ``urn:cityhub:sse`` has its notifications appended to the
store's feed table instead of sent anywhere; ``GET /ngsi-ld/v1/subscriptions/{id}/stream``
streams them to browsers as server-sent events (api/streams.py). Going through the outbox
like every other endpoint, they get the same guarantees: queued with the change, delivered
once per change whichever worker handles it, and a browser that reconnects with
``Last-Event-ID`` misses nothing still within the feed's retention.
"""

from __future__ import annotations

from typing import Any

from cityhub.model.subscriptions import SSE_ENDPOINT
from cityhub.notifications.payload import Notification
from cityhub.storage.base import Store


class FeedDelivery:
    def __init__(self, store: Store, keep_seconds: float) -> None:
        self.store = store
        self.keep_seconds = keep_seconds

    async def send(self, endpoint: dict[str, Any], notification: Notification) -> str | None:
        if endpoint["uri"] != SSE_ENDPOINT:
            return f"no transport for {endpoint['uri']}"
        await self.store.append_feed(
            notification.tenant,
            notification.body["subscriptionId"],
            notification.body,
            self.keep_seconds,
        )
        return None

    async def aclose(self) -> None:
        """Nothing to close: the feed lives in the store."""
