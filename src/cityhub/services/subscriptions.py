"""Subscription management (clause 5.8): create, retrieve, query, update, delete.

Parsing and the member rules live in model/subscriptions.py; this service adds what needs the
store: ids that must be new, subscriptions that must exist, tenants, pagination limits, and
updates that never overwrite one another (optimistic concurrency on ``modified_at``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cityhub.errors import AlreadyExists, BadRequestData, ResourceNotFound, TooManyResults
from cityhub.jsonld.termmap import TermMap
from cityhub.model.subscriptions import merge_fragment, parse_subscription
from cityhub.model.values import now_iso, require_uri
from cityhub.notifications.planner import ContextResolver
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import Store, SubscriptionRecord

_UPDATE_ATTEMPTS = 20


class SubscriptionService:
    def __init__(self, store: Store, contexts: ContextResolver, *, max_limit: int) -> None:
        self.store = store
        self.contexts = contexts
        self.max_limit = max_limit

    async def _check_context(self, doc: dict[str, Any]) -> None:
        """Notifications must be able to use ``jsonldContext``: fetched now, so an
        unreachable one is LdContextNotAvailable at once rather than failures later."""
        if "jsonldContext" in doc:
            await self.contexts.resolve(doc["jsonldContext"])

    async def create(self, tenant: str, body: Any, tm: TermMap, context: Any) -> str:
        """Create Subscription (5.8.1): the new id; AlreadyExists (409) for a used id,
        LdContextNotAvailable when ``jsonldContext`` cannot be fetched."""
        doc = parse_subscription(body, tm, context, now=datetime.now(UTC))
        await self._check_context(doc)
        if not await self.store.create_subscription(tenant, doc, now_iso()):
            raise AlreadyExists(f"Subscription {doc['id']} already exists")
        return str(doc["id"])

    async def retrieve(self, tenant: str, sub_id: str) -> SubscriptionRecord:
        """Retrieve Subscription (5.8.3); ResourceNotFound (404) when there is none."""
        require_uri(sub_id, "Subscription id")
        await require_tenant(self.store, tenant)
        record = await self.store.get_subscription(tenant, sub_id)
        if record is None:
            raise ResourceNotFound(f"Subscription {sub_id} does not exist")
        return record

    async def query(
        self, tenant: str, *, limit: int, offset: int, count: bool
    ) -> tuple[list[SubscriptionRecord], int | None]:
        """Query Subscriptions (5.8.4): one page, oldest first, and the total when counted."""
        if limit == 0 and not count:
            raise BadRequestData("limit=0 is only allowed together with count=true")
        if limit > self.max_limit:
            raise TooManyResults(f"limit {limit} is above this hub's maximum of {self.max_limit}")
        await require_tenant(self.store, tenant)
        records = await self.store.list_subscriptions(tenant, limit, offset) if limit else []
        total = await self.store.count_subscriptions(tenant) if count else None
        return records, total

    async def update(self, tenant: str, sub_id: str, fragment: Any, tm: TermMap) -> None:
        """Update Subscription (5.8.2); ResourceNotFound (404) when there is none.

        The fragment is merged into the state just read and stored only if nobody changed the
        subscription in between; otherwise the merge starts again from the newer state.
        """
        for _ in range(_UPDATE_ATTEMPTS):
            record = await self.retrieve(tenant, sub_id)
            doc = merge_fragment(record.doc, fragment, tm, now=datetime.now(UTC))
            if doc.get("jsonldContext") != record.doc.get("jsonldContext"):
                await self._check_context(doc)
            modified = max(now_iso(), _after(record.modified_at))
            if await self.store.replace_subscription(tenant, doc, modified, record.modified_at):
                return
        raise BadRequestData(f"Subscription {sub_id} is being updated by others; try again")

    async def delete(self, tenant: str, sub_id: str) -> None:
        """Delete Subscription (5.8.5); ResourceNotFound (404) when there is none."""
        require_uri(sub_id, "Subscription id")
        await require_tenant(self.store, tenant)
        if not await self.store.delete_subscription(tenant, sub_id):
            raise ResourceNotFound(f"Subscription {sub_id} does not exist")


def _after(moment: str) -> str:
    """A modifiedAt strictly after ``moment`` (clocks of several workers may disagree)."""
    later = datetime.fromisoformat(moment.removesuffix("Z")) + timedelta(microseconds=1)
    return later.isoformat(timespec="microseconds") + "Z"
