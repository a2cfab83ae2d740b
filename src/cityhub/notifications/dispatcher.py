"""Deliver queued notifications: claim from the outbox, send, record, retry with backoff.

Every worker runs one dispatcher. It claims due rows continuously (a lease, so each row goes
to one worker at a time and comes back if that worker dies) into one in-memory queue per
subscription, bounded by ``max_pending``; a drain task per subscription sends its queue in
order while different subscriptions go out concurrently. Outcomes are recorded on the
subscription (``timesSent``, ``lastSuccess``, ``status`` …, clause 5.2.14), successes in
batches. A failed notification, and the ones queued behind it for the same subscription,
wait an exponential backoff (capped) and are tried again until they are older than the
retention setting. A slow endpoint holds only its own subscription's queue; writers never
wait for delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cityhub.model.values import now_iso
from cityhub.notifications.payload import Notification, build_notification, notification_context
from cityhub.notifications.periodic import PERIODIC_TRIGGER, PeriodicNotifier
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
        max_pending: int = 10_000,
        max_periodic_entities: int = 1000,
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
        self.max_pending = max_pending
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._queues: dict[tuple[str, str], list[PendingNotification]] = {}
        self._drains: set[asyncio.Task[None]] = set()
        self._delivered: list[tuple[PendingNotification, str]] = []
        self._held: dict[int, PendingNotification] = {}  # claimed rows in memory, by row id
        self._active_at = 0.0  # when rows were last claimed or recorded (time.monotonic)
        self.periodic = PeriodicNotifier(store, contexts, max_entities=max_periodic_entities)

    def start(self) -> None:
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._run(), name="notifications"),
                loop.create_task(self._record(), name="notification-records"),
                loop.create_task(self.periodic.run(), name="periodic-notifications"),
            ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, [*self._tasks, *self._drains]
        for task in [*tasks, *self._drains]:
            task.cancel()
        for task in [*tasks, *self._drains]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._flush()  # record what went out; unrecorded rows come back after the lease
        for transport in self.transports.values():
            await transport.aclose()

    def pending(self) -> int:
        """Notifications claimed by this worker and not sent yet."""
        return sum(len(queue) for queue in self._queues.values())

    async def _run(self) -> None:
        """Claim due notifications continuously; a slow endpoint holds only its own queue.

        Claimed rows join their subscription's queue; a drain task per subscription sends
        them in order. Claiming pauses while ``max_pending`` are waiting in memory."""
        while True:
            try:
                room = self.max_pending - self.pending()
                items = []
                if room > 0:
                    items = await self.store.claim_notifications(
                        min(self.batch, room), self.lease_seconds, time.time()
                    )
                if not items:
                    # Rows behind ones still being sent become claimable once those are
                    # recorded, with no commit to wake us: look again soon while busy.
                    busy = time.monotonic() - self._active_at < 2.0
                    await self.store.wait_for_notifications(0.05 if busy else self.poll_seconds)
                    continue
                self._active_at = time.monotonic()
                await self._enqueue(items)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep delivering; the rows come back when their lease ends
                log.exception("Notification dispatch failed; retrying")
                await asyncio.sleep(self.poll_seconds)

    async def _enqueue(self, items: Sequence[PendingNotification]) -> None:
        """Add claimed rows to their queues; start a drain for each new queue, with its
        subscription read in one query for the whole batch."""
        claimed = []
        for item in items:
            held = self._held.get(item.id)
            if held is not None:  # our own lease ran out and we claimed it again: keep one
                held.claimed_until = item.claimed_until
                continue
            self._held[item.id] = item
            claimed.append(item)
        items = claimed
        fresh = [
            key
            for key in dict.fromkeys((item.tenant, item.subscription_id) for item in items)
            if key not in self._queues
        ]
        docs = await self.store.subscriptions_by_key(fresh) if fresh else {}
        for item in items:
            key = (item.tenant, item.subscription_id)
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(item)  # its drain task is running and will reach it
                continue
            if key not in docs:  # deleted meanwhile: its rows went with it
                self._held.pop(item.id, None)
                continue
            self._queues[key] = [item]
            task = asyncio.get_running_loop().create_task(self._drain(key, docs[key]))
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)

    async def deliver(self, items: Sequence[PendingNotification]) -> None:
        """Send claimed notifications and record the outcomes (used by tests and tools)."""
        await self._enqueue(items)
        while self._drains:
            await asyncio.gather(*list(self._drains), return_exceptions=True)
        await self._flush()

    async def _record(self) -> None:
        """Record successes in batches: one transaction for many notifications."""
        while True:
            await asyncio.sleep(0.02)
            try:
                await self._flush()
            except asyncio.CancelledError:
                raise
            except Exception:  # the rows stay leased; the next flush tries again
                log.exception("Recording delivered notifications failed")

    async def _flush(self) -> None:
        done, self._delivered = self._delivered, []
        if done:
            try:
                await self.store.notifications_delivered(done)
            except BaseException:
                self._delivered[:0] = done
                raise
            for item, _ in done:
                self._held.pop(item.id, None)
            self._active_at = time.monotonic()

    async def _drain(self, key: tuple[str, str], sub: dict[str, Any]) -> None:
        try:
            async with self._slots:
                await self._send_queue(self._queues[key], sub)
        except asyncio.CancelledError:
            raise
        except Exception:  # the rows come back when their lease ends
            log.exception("Delivering notifications of subscription %s failed", key[1])
        finally:
            for item in self._queues.pop(key, []):
                self._held.pop(item.id, None)

    async def _send_queue(self, queue: list[PendingNotification], sub: dict[str, Any]) -> None:
        """Send a subscription's queue in order; it may grow while this runs."""
        tm = await self.contexts.resolve(notification_context(sub))
        endpoint = sub["notification"]["endpoint"]
        scheme = endpoint["uri"].split(":", 1)[0].lower()
        transport = self.transports.get(scheme)
        throttling = sub.get("throttling")
        # A send may take the endpoint's timeout: a lease shorter than that is renewed first,
        # so no other claim can take the row while it is on its way.
        needed = (endpoint.get("timeout") or 10_000) / 1000 + 5.0
        while queue:
            item = queue.pop(0)
            if not await self._still_ours(item, needed):
                continue
            notified_at = now_iso()
            if throttling and item.attempts == 1 and item.trigger != PERIODIC_TRIGGER:
                since = _iso(datetime.now(UTC) - timedelta(seconds=throttling))
                if not await self.store.pass_throttle(
                    item.tenant, item.subscription_id, notified_at, since
                ):  # inside the window (clause 5.2.12 throttling): not sent
                    await self.store.discard_notification(item)
                    continue
            if transport is None:
                problem: str | None = f"no transport for {scheme}:// endpoints"
            else:
                notification = build_notification(sub, item, tm, notified_at)
                problem = await transport.send(endpoint, notification)
            if problem is None:
                self._delivered.append((item, notified_at))
                continue
            log.info("Notification to %s failed: %s", endpoint["uri"], problem)
            retry_at = self._retry_at(item)
            await self.store.notification_failed(item, notified_at, retry_at)
            self._held.pop(item.id, None)
            while queue:  # rows claimed meanwhile wait too, in order
                rest, queue[:] = list(queue), []
                await self._postpone(rest, retry_at)
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
            for item in rest:
                self._held.pop(item.id, None)

    async def _still_ours(self, item: PendingNotification, needed: float) -> bool:
        """Whether the lease on ``item`` lasts ``needed`` more seconds, renewing it if not;
        False when another claim took the row meanwhile (it is theirs to send)."""
        now = time.time()
        if item.claimed_until - now >= needed:
            return True
        until = now + max(self.lease_seconds, needed)
        if await self.store.renew_notification(item, until):
            item.claimed_until = until
            return True
        self._held.pop(item.id, None)
        return False


def _iso(moment: datetime) -> str:
    """A UTC instant in the form now_iso() writes, so stored instants compare as text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
