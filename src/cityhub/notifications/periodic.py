"""Periodic notifications (``timeInterval``, clause 5.2.12): every interval, the entities that
match the subscription now, whether they changed or not; nothing when none matches.

Each worker polls for due subscriptions; claiming one moves its ``next_due`` on by its
interval in the same statement, so exactly one worker notifies each period. The matching
entities come from the store's query (the same SQL as Query Entities) and go into the outbox,
so delivery, retries and status work as for change notifications.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import UTC, datetime

from cityhub.model.values import now_iso
from cityhub.notifications.matcher import compile_subscription
from cityhub.notifications.planner import ContextResolver
from cityhub.storage.base import OutboxItem, Store

log = logging.getLogger(__name__)

PERIODIC_TRIGGER = "timeInterval"


class PeriodicNotifier:
    def __init__(
        self,
        store: Store,
        contexts: ContextResolver,
        *,
        max_entities: int,
        tick_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.contexts = contexts
        self.max_entities = max_entities
        self.tick_seconds = tick_seconds

    async def run(self) -> None:
        while True:
            try:
                for tenant, doc in await self.store.claim_periodic(time.time(), 100):
                    await self.queue(tenant, doc)
            except asyncio.CancelledError:
                raise
            except Exception:  # the next tick tries again
                log.exception("Periodic notifications failed")
            await asyncio.sleep(self.tick_seconds)

    async def queue(self, tenant: str, doc: dict[str, object]) -> None:
        """Queue one periodic notification of ``doc`` if it is active and anything matches."""
        tm = await self.contexts.resolve(doc.get("@context"))
        sub = compile_subscription(tenant, dict(doc), tm)
        if not sub.live(datetime.now(UTC)):
            return
        query = dataclasses.replace(sub.query, limit=self.max_entities, offset=0)
        result = await self.store.query_entities(tenant, query)
        if not result.entities:
            return
        item = OutboxItem(sub.id, PERIODIC_TRIGGER, "", {"entities": result.entities}, now_iso())
        await self.store.queue_notifications(tenant, [item])
