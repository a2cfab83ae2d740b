"""Deliver queued notifications: claim from the outbox, send, record, retry with backoff.

Every worker runs one dispatcher. It claims due rows (a lease, so each row goes to one worker
at a time and comes back if that worker dies), sends each subscription's notifications in
order while different subscriptions go out concurrently, and records the outcome on the
subscription (``timesSent``, ``lastSuccess``, ``status`` …, clause 5.2.14). A failed
notification, and the ones queued behind it for the same subscription, wait an exponential
backoff (capped) and are tried again until they are older than the retention setting. A
slow endpoint holds only its own subscription's queue; writers never wait for delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from cityhub.model.values import now_iso
from cityhub.notifications.payload import Notification, build_notification, notification_context
from cityhub.notifications.planner import ContextResolver
from cityhub.storage.base import PendingNotification, Store

log = logging.getLogger(__name__)


class Transport(Protocol):
    async def send(self, endpoint: dict[str, Any], notification: Notification) -> str | None:
        """None on success, else a description of the failure."""
        ...

    async def aclose(self) -> None: ...


class Dispatcher:
    def __init__(
        self,
        store: Store,
        contexts: ContextResolver,
        transports: dict[str, Transport],
        *,
        batch: int = 200,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        retry_base_seconds: float = 0.5,
        retry_max_seconds: float = 60.0,
        retention_seconds: float = 86_400.0,
        concurrency: int = 64,
    ) -> None:
        self.store = store
        self.contexts = contexts
        self.transports = transports
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.retention_seconds = retention_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="notifications")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for transport in self.transports.values():
            await transport.aclose()

    async def _run(self) -> None:
        while True:
            try:
                items = await self.store.claim_notifications(
                    self.batch, self.lease_seconds, time.time()
                )
                if not items:
                    await self.store.wait_for_notifications(self.poll_seconds)
                    continue
                await self.deliver(items)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep delivering; the rows come back when their lease ends
                log.exception("Notification dispatch failed; retrying")
                await asyncio.sleep(self.poll_seconds)

    async def deliver(self, items: Sequence[PendingNotification]) -> None:
        """Send claimed notifications: in order per subscription, subscriptions in parallel."""
        queues: dict[tuple[str, str], list[PendingNotification]] = {}
        for item in items:
            queues.setdefault((item.tenant, item.subscription_id), []).append(item)
        await asyncio.gather(*(self._deliver_queue(queue) for queue in queues.values()))

    async def _deliver_queue(self, queue: list[PendingNotification]) -> None:
        async with self._slots:
            first = queue[0]
            record = await self.store.get_subscription(first.tenant, first.subscription_id)
            if record is None:  # deleted meanwhile (its rows went with it)
                return
            sub = record.doc
            tm = await self.contexts.resolve(notification_context(sub))
            endpoint = sub["notification"]["endpoint"]
            scheme = endpoint["uri"].split(":", 1)[0].lower()
            transport = self.transports.get(scheme)
            for index, item in enumerate(queue):
                notified_at = now_iso()
                if transport is None:
                    problem: str | None = f"no transport for {scheme}:// endpoints"
                else:
                    notification = build_notification(sub, item, tm, notified_at)
                    problem = await transport.send(endpoint, notification)
                if problem is None:
                    await self.store.notification_delivered(item, notified_at)
                    continue
                log.info("Notification to %s failed: %s", endpoint["uri"], problem)
                retry_at = self._retry_at(item)
                await self.store.notification_failed(item, notified_at, retry_at)
                await self._postpone(queue[index + 1 :], retry_at)
                return

    def _retry_at(self, item: PendingNotification) -> float | None:
        """When to try again after ``item.attempts`` failures; None once past retention."""
        created = datetime.fromisoformat(item.created_at.removesuffix("Z")).replace(tzinfo=UTC)
        if time.time() - created.timestamp() > self.retention_seconds:
            return None
        delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (item.attempts - 1))
        return time.time() + delay

    async def _postpone(self, rest: Sequence[PendingNotification], retry_at: float | None) -> None:
        """Notifications queued behind a failed one wait with it, keeping their order."""
        if rest:
            await self.store.release_notifications(rest, retry_at or time.time())
