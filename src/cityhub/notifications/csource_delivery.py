"""Deliver queued CsourceNotifications (clause 5.3.2) over HTTP, with retries.

Registration changes, and registration subscriptions when created or updated, queue their
notifications in the transaction that makes the change (the store's csource outbox, DESIGN
rule 5). A notifier drains that outbox: it claims due rows (a lease, and only the oldest row
of each subscription, so each subscription's notifications go out in order and to one worker
at a time), sends each, records the outcome on its subscription (``timesSent``,
``lastSuccess``, ``status`` …) and makes a failed one due again after an exponential backoff
until it is older than the retention. A throttled subscription's next row waits out the
throttling period instead of being dropped: a registration that no longer matches must still
be told.

The drain runs while rows are queued and ends when the outbox is empty; each write that
queues rows starts it again (``kick``), and a new notifier starts one at once, so what a
previous process left queued goes out on a hub's first registration request. It is not the
entity dispatcher (notifications/dispatcher.py), whose delivery bookkeeping is bound to the
entity subscriptions' table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from cityhub.model.csource_subscriptions import csource_notification, notification_id
from cityhub.model.values import now_iso
from cityhub.notifications.dispatcher import Transport
from cityhub.notifications.http_delivery import HttpDelivery
from cityhub.notifications.payload import (
    CONTEXT_REL,
    JSON,
    JSON_LD,
    Notification,
    notification_context,
)
from cityhub.notifications.planner import ContextResolver
from cityhub.storage.base import PendingCsourceNotification, Store

log = logging.getLogger(__name__)


class CsourceNotifier:
    def __init__(
        self,
        store: Store,
        contexts: ContextResolver,
        *,
        transport: Transport | None = None,
        batch: int = 100,
        lease_seconds: float = 60.0,
        retry_base_seconds: float = 0.5,
        retry_max_seconds: float = 60.0,
        retention_seconds: float = 86_400.0,
    ) -> None:
        self.store = store
        self.contexts = contexts
        self.transport: Transport = transport or HttpDelivery()
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.retention_seconds = retention_seconds
        self._task: asyncio.Task[None] | None = None
        self._kicked = False

    def kick(self) -> None:
        """Notifications may have been queued: drain the outbox (again) soon."""
        self._kicked = True
        if self._task is None or self._task.done():
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._drain(), name="csource-notifications")

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox is drained (or ``timeout`` passes)."""
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.transport.aclose()

    async def _drain(self) -> None:
        while True:
            self._kicked = False
            try:
                items = await self.store.claim_csource_notifications(
                    self.batch, self.lease_seconds, time.time()
                )
                if items:
                    await asyncio.gather(*(self._send(item) for item in items))
                    continue
                if self._kicked:
                    continue
                due = await self.store.csource_outbox_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the rows stay queued; the next write starts a drain again
                log.exception("Delivering registration notifications failed")
                return
            if due is None:
                if self._kicked:
                    continue
                return
            await asyncio.sleep(min(max(due - time.time(), 0.02), 1.0))

    async def _send(self, item: PendingCsourceNotification) -> None:
        sub = item.subscription
        throttling = sub.get("throttling")
        if throttling and item.last_notification:
            free_at = _epoch(item.last_notification) + throttling
            if time.time() < free_at:  # clause 5.2.12 throttling: wait for the period's end
                await self.store.postpone_csource_notification(item, free_at)
                return
        notified_at = now_iso()
        try:
            notification = await self._notification(item, notified_at)
            problem = await self.transport.send(sub["notification"]["endpoint"], notification)
        except Exception as exc:  # e.g. the subscription's jsonldContext cannot be fetched
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            await self.store.csource_notification_done(item, notified_at, True, None)
            return
        log.info("Registration notification to %s failed: %s", sub["id"], problem)
        await self.store.csource_notification_done(item, notified_at, False, self._retry_at(item))

    async def _notification(
        self, item: PendingCsourceNotification, notified_at: str
    ) -> Notification:
        sub = item.subscription
        context = notification_context(sub)
        tm = await self.contexts.resolve(context)
        body: dict[str, Any] = csource_notification(
            sub,
            item.payload,
            tm,
            notification_id=notification_id(item.tenant, item.id),
            notified_at=notified_at,
        )
        endpoint = sub["notification"]["endpoint"]
        accept = endpoint.get("accept", JSON)
        headers: dict[str, str] = {}
        if accept == JSON_LD:  # each registration carries the @context, as entities do
            body["data"] = [{**reg, "@context": context} for reg in body["data"]]
        elif isinstance(context, str):
            headers["Link"] = f'<{context}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'
        else:  # an inline context has no URL to link to: it travels in the body
            body["@context"] = context
        if item.tenant:
            headers["NGSILD-Tenant"] = item.tenant
        for pair in endpoint.get("receiverInfo", []):
            headers[pair["key"]] = pair["value"]
        return Notification(body, accept, headers, item.tenant)

    def _retry_at(self, item: PendingCsourceNotification) -> float | None:
        """When to try again after ``item.attempts`` failures; None once past retention."""
        if time.time() - _epoch(item.created_at) > self.retention_seconds:
            return None
        delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (item.attempts - 1))
        return time.time() + delay


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.removesuffix("Z")).replace(tzinfo=UTC).timestamp()
