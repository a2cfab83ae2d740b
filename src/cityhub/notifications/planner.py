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

from cityhub.events import DELETED, ChangeEvent
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import now_iso
from cityhub.notifications.matcher import (
    CompiledSubscription,
    attribute_changes,
    compile_subscription,
    event_keys,
    index_keys,
    trigger_of,
)
from cityhub.storage.base import OutboxItem, UnitOfWork

log = logging.getLogger(__name__)


class ContextResolver(Protocol):
    """What notifications need from the context service: a TermMap for an @context value."""

    async def resolve(self, context: Any) -> TermMap: ...


class NotificationPlanner:
    """The commit hook of a store (storage/base.py CommitHook)."""

    def __init__(self, contexts: ContextResolver) -> None:
        self._contexts = contexts
        self._compiled: dict[str, tuple[int, SubscriptionIndex]] = {}

    def quiet_version(self, tenant: str) -> int | None:
        cached = self._compiled.get(tenant)
        if cached is None:
            return 0
        version, index = cached
        return None if index.count else version

    async def before_commit(self, tenant: str, uow: UnitOfWork) -> None:
        index = await self._current(tenant, uow)
        if not index.count:
            return
        now = datetime.now(UTC)
        created_at = now_iso()
        items = []
        for event in uow.events:
            changes = attribute_changes(event.before, event.after)
            for sub in index.candidates(event):
                if not sub.live(now):
                    continue
                trigger = trigger_of(sub, event, changes)
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

    async def _current(self, tenant: str, uow: UnitOfWork) -> SubscriptionIndex:
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
        index = SubscriptionIndex(compiled)
        self._compiled[tenant] = (version, index)
        return index


class SubscriptionIndex:
    """A tenant's compiled subscriptions, found by the entity ids and types they select, so a
    change is matched against the few that can concern it rather than against all."""

    def __init__(self, subscriptions: list[CompiledSubscription]) -> None:
        self.count = len(subscriptions)
        self._by_key: dict[str, list[CompiledSubscription]] = {}
        self._always: list[CompiledSubscription] = []
        for sub in subscriptions:
            keys = index_keys(sub)
            if keys is None:
                self._always.append(sub)
            else:
                for key in dict.fromkeys(keys):
                    self._by_key.setdefault(key, []).append(sub)

    def candidates(self, event: ChangeEvent) -> list[CompiledSubscription]:
        found = {id(sub): sub for sub in self._always}
        for key in event_keys(event):
            for sub in self._by_key.get(key, ()):
                found[id(sub)] = sub
        return list(found.values())
