"""Queue the notifications a write transaction causes, inside that transaction (DESIGN rule 5).

The planner is the stores' commit hook. Before a transaction with change events commits, it
matches each event against the tenant's subscriptions and writes one outbox row per
(subscription, change) through the UnitOfWork, so a committed change always has its
notifications queued, even if the process dies right after the commit.

Compiled subscriptions are cached per tenant together with the tenant's subscription
version, which every change to a subscription bumps in its own transaction. Each write
transaction reads the version first and recompiles when it moved, so a subscription created
through any worker is matched by every worker from its next write on: the cache can lag
nothing that has committed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

from cityhub.events import DELETED
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import now_iso
from cityhub.notifications.matcher import CompiledSubscription, compile_subscription, trigger_of
from cityhub.storage.base import OutboxItem, UnitOfWork

log = logging.getLogger(__name__)


class ContextResolver(Protocol):
    """What notifications need from the context service: a TermMap for an @context value."""

    async def resolve(self, context: Any) -> TermMap: ...


class NotificationPlanner:
    """The commit hook of a store (storage/base.py CommitHook)."""

    def __init__(self, contexts: ContextResolver) -> None:
        self._contexts = contexts
        self._compiled: dict[str, tuple[int, list[CompiledSubscription]]] = {}

    def quiet_version(self, tenant: str) -> int | None:
        cached = self._compiled.get(tenant)
        if cached is None:
            return 0
        version, subscriptions = cached
        return None if subscriptions else version

    async def before_commit(self, tenant: str, uow: UnitOfWork) -> None:
        subscriptions = await self._current(tenant, uow)
        if not subscriptions:
            return
        now = datetime.now(UTC)
        live = [sub for sub in subscriptions if sub.live(now)]
        created_at = now_iso()
        items = []
        for event in uow.events:
            for sub in live:
                trigger = trigger_of(sub, event)
                if trigger is None:
                    continue
                payload = {"after": event.after}
                if (
                    event.kind == DELETED
                    or trigger == "attributeDeleted"
                    or sub.doc["notification"].get("showChanges")
                ):
                    payload["before"] = event.before
                items.append(OutboxItem(sub.id, trigger, event.entity_id, payload, created_at))
        await uow.add_notifications(items)

    async def _current(self, tenant: str, uow: UnitOfWork) -> list[CompiledSubscription]:
        version = await uow.subscriptions_version()
        cached = self._compiled.get(tenant)
        if cached is not None and cached[0] == version:
            return cached[1]
        compiled = []
        for doc in await uow.subscription_docs():
            try:
                tm = await self._contexts.resolve(doc.get("@context"))
                compiled.append(compile_subscription(tenant, doc, tm))
            except Exception:  # one broken subscription must not stop the city's writes
                log.exception("Subscription %s cannot be compiled; it is skipped", doc.get("id"))
        self._compiled[tenant] = (version, compiled)
        return compiled
