"""Context Source Registration Subscription management (clause 5.11): create, retrieve,
query, update, delete.

Parsing lives in model/csource_subscriptions.py. Creating a subscription, and updating one,
queues a first notification (``newlyMatching``) with every registration that then matches it,
if any; later registration changes notify through services/registrations.py. Writes follow
the tenant's csource version like registration writes do, so a subscription created while a
registration changes is told about that registration exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cityhub.errors import AlreadyExists, BadRequestData, Conflict, ResourceNotFound, TooManyResults
from cityhub.jsonld.termmap import TermMap
from cityhub.model.csource_subscriptions import (
    NEWLY_MATCHING,
    compile_csource_subscription,
    merge_csource_fragment,
    parse_csource_subscription,
    relevant_part,
)
from cityhub.model.registration_match import registration_matches
from cityhub.model.subscriptions import Subscription
from cityhub.model.values import now_iso, require_uri
from cityhub.notifications.csource_delivery import CsourceNotifier
from cityhub.notifications.planner import ContextResolver
from cityhub.services.registrations import WRITE_ATTEMPTS, later_than
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import CsourceOutboxItem, Store, SubscriptionRecord


class CsourceSubscriptionService:
    def __init__(
        self, store: Store, contexts: ContextResolver, notifier: CsourceNotifier, *, max_limit: int
    ) -> None:
        self.store = store
        self.contexts = contexts
        self.notifier = notifier
        self.max_limit = max_limit

    async def create(self, tenant: str, body: Any, tm: TermMap, context: Any) -> str:
        """Create Context Source Registration Subscription (5.11.2): the new id.
        AlreadyExists (409) for a used id, LdContextNotAvailable when ``jsonldContext``
        cannot be fetched, OperationNotSupported (422) for a periodic one."""
        doc = parse_csource_subscription(body, tm, context, now=datetime.now(UTC))
        if "jsonldContext" in doc:
            await self.contexts.resolve(doc["jsonldContext"])
        for _ in range(WRITE_ATTEMPTS):
            version = await self.store.csource_version(tenant)
            notes = await self._first_notification(tenant, doc, tm)
            outcome = await self.store.insert_csource_subscription(
                tenant, doc, now_iso(), version, notes
            )
            if outcome == "exists":
                raise AlreadyExists(f"Subscription {doc['id']} already exists")
            if outcome == "created":
                if notes:
                    self.notifier.kick()
                return str(doc["id"])
        raise Conflict(f"Subscription {doc['id']} could not be created: retry")

    async def retrieve(self, tenant: str, sub_id: str) -> SubscriptionRecord:
        """Retrieve Context Source Registration Subscription (5.11.4); ResourceNotFound."""
        require_uri(sub_id, "Subscription id")
        await require_tenant(self.store, tenant)
        record = await self.store.get_csource_subscription(tenant, sub_id)
        if record is None:
            raise ResourceNotFound(f"Subscription {sub_id} does not exist")
        return record

    async def query(
        self, tenant: str, *, limit: int, offset: int, count: bool
    ) -> tuple[list[SubscriptionRecord], int | None]:
        """Query Context Source Registration Subscriptions (5.11.5): one page, oldest
        first, and the total when counted."""
        if limit == 0 and not count:
            raise BadRequestData("limit=0 is only allowed together with count=true")
        if limit > self.max_limit:
            raise TooManyResults(f"limit {limit} is above this hub's maximum of {self.max_limit}")
        await require_tenant(self.store, tenant)
        records = (
            await self.store.list_csource_subscriptions(tenant, limit, offset) if limit else []
        )
        total = await self.store.count_csource_subscriptions(tenant) if count else None
        return records, total

    async def update(self, tenant: str, sub_id: str, fragment: Any, tm: TermMap) -> None:
        """Update Context Source Registration Subscription (5.11.3); ResourceNotFound (404).
        The subscription is then told every registration that matches it now."""
        for _ in range(WRITE_ATTEMPTS):
            version = await self.store.csource_version(tenant)
            record = await self.retrieve(tenant, sub_id)
            doc = merge_csource_fragment(record.doc, fragment, tm, now=datetime.now(UTC))
            if "jsonldContext" in doc and doc["jsonldContext"] != record.doc.get("jsonldContext"):
                await self.contexts.resolve(doc["jsonldContext"])
            own_tm = await self.contexts.resolve(doc.get("@context"))
            notes = await self._first_notification(tenant, doc, own_tm)
            now = max(now_iso(), later_than(record.modified_at))
            outcome = await self.store.replace_csource_subscription(
                tenant, doc, now, version, notes
            )
            if outcome == "missing":
                raise ResourceNotFound(f"Subscription {sub_id} does not exist")
            if outcome == "done":
                if notes:
                    self.notifier.kick()
                return
        raise Conflict(f"Subscription {sub_id} is being changed by others: retry")

    async def delete(self, tenant: str, sub_id: str) -> None:
        """Delete Context Source Registration Subscription (5.11.6); ResourceNotFound."""
        require_uri(sub_id, "Subscription id")
        await require_tenant(self.store, tenant)
        for _ in range(WRITE_ATTEMPTS):
            version = await self.store.csource_version(tenant)
            outcome = await self.store.delete_csource_subscription(tenant, sub_id, version)
            if outcome == "missing":
                raise ResourceNotFound(f"Subscription {sub_id} does not exist")
            if outcome == "done":
                return
        raise Conflict(f"Subscription {sub_id} is being changed by others: retry")

    async def _first_notification(
        self, tenant: str, doc: Subscription, tm: TermMap
    ) -> list[CsourceOutboxItem]:
        """``newlyMatching`` with every registration matching ``doc`` now (none: nothing)."""
        sub = compile_csource_subscription(doc, tm)
        if not sub.live(datetime.now(UTC)):
            return []
        matching = [
            {
                "doc": relevant_part(record.doc, sub.filter),
                "createdAt": record.created_at,
                "modifiedAt": record.modified_at,
            }
            for record in await self.store.registration_records(tenant)
            if registration_matches(record.doc, sub.filter)
        ]
        if not matching:
            return []
        payload = {"triggerReason": NEWLY_MATCHING, "registrations": matching}
        return [CsourceOutboxItem(sub.id, payload, now_iso())]
