"""The notification outbox of the PostgreSQL store.

Rows are written in the transaction of the change that caused them, together with a
``pg_notify`` on ``cityhub_outbox`` that wakes the dispatcher of every worker at commit.
Claiming takes due rows with ``FOR UPDATE SKIP LOCKED`` and leases them (``claimed_until``),
so with N workers each row goes to one of them; if that worker dies, the lease runs out and
another delivers it. A row is claimed only when no earlier row of its subscription is held
or waiting for a retry, so each subscription's notifications keep their order across
workers.

The delivery bookkeeping (claims, leases, outcomes) commits without waiting for the WAL to
reach the disk (``synchronous_commit = off`` for those transactions only): it is visible to
every worker at once all the same, and a worker that dies loses nothing of it. Only a crash
of the PostgreSQL server itself can forget its last fraction of a second — a notification
then goes out again (receivers are idempotent), never missing, because the outbox row was
written durably with the change. Waiting on the disk for each claim and each outcome had
made them queue behind every write's own WAL flush (bench/notify.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from cityhub.storage.base import OutboxItem, PendingNotification

CHANNEL = "cityhub_outbox"


async def add(
    conn: asyncpg.Connection, tenant: str, items: Sequence[OutboxItem], due: float
) -> None:
    await conn.execute(
        "INSERT INTO notification_outbox (tenant, subscription_id, trigger, entity_id, payload,"
        " created_at, next_attempt_at)"
        " SELECT $1, u.subscription_id, u.trigger, u.entity_id, u.payload, u.created_at, $7"
        " FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[])"
        " AS u(subscription_id, trigger, entity_id, payload, created_at)",
        tenant,
        [item.subscription_id for item in items],
        [item.trigger for item in items],
        [item.entity_id for item in items],
        [item.payload for item in items],
        [item.created_at for item in items],
        due,
    )
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


@asynccontextmanager
async def bookkeeping(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction for delivery bookkeeping: committed without waiting for the disk."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit TO OFF")
        yield conn


async def claim(
    pool: asyncpg.Pool, limit: int, lease_seconds: float, now: float
) -> list[PendingNotification]:
    async with bookkeeping(pool) as conn:
        rows = await _claim(conn, limit, lease_seconds, now)
    items = [PendingNotification(*row) for row in rows]
    items.sort(key=lambda item: item.id)
    return items


async def _claim(
    conn: asyncpg.Connection, limit: int, lease_seconds: float, now: float
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "UPDATE notification_outbox o SET claimed_until = $1, attempts = o.attempts + 1"
        " FROM (SELECT n.id FROM notification_outbox n WHERE n.next_attempt_at <= $2"
        " AND (n.claimed_until IS NULL OR n.claimed_until < $2)"
        " AND NOT EXISTS (SELECT 1 FROM notification_outbox b WHERE b.tenant = n.tenant"
        " AND b.subscription_id = n.subscription_id AND b.id < n.id"
        " AND (b.claimed_until >= $2 OR b.next_attempt_at > $2))"
        # While one worker's claim of a subscription's rows is not committed, others see
        # those rows unclaimed: the transaction-scoped lock keeps them off that subscription.
        " AND pg_try_advisory_xact_lock(hashtextextended(n.tenant || '|' || n.subscription_id, 0))"
        " ORDER BY n.id LIMIT $3 FOR UPDATE SKIP LOCKED) due WHERE o.id = due.id"
        " RETURNING o.id, o.tenant, o.subscription_id, o.trigger, o.entity_id, o.payload,"
        " o.created_at, o.attempts, o.claimed_until",
        now + lease_seconds,
        now,
        limit,
    )
    return rows


async def delivered(pool: asyncpg.Pool, done: Sequence[tuple[PendingNotification, str]]) -> None:
    """Delete the delivered rows still leased to us and count them on their subscriptions."""
    async with bookkeeping(pool) as conn:
        await conn.execute(
            "WITH done AS (SELECT * FROM unnest($1::bigint[], $2::float8[], $3::text[])"
            " AS d(id, lease, sent_at)),"
            " gone AS (DELETE FROM notification_outbox o USING done"
            " WHERE o.id = done.id AND o.claimed_until = done.lease"
            " RETURNING o.tenant, o.subscription_id, done.sent_at),"
            " counts AS (SELECT tenant, subscription_id, count(*) AS n, max(sent_at) AS last"
            " FROM gone GROUP BY tenant, subscription_id)"
            " UPDATE subscriptions s SET times_sent = s.times_sent + c.n,"
            " last_notification = c.last, last_success = c.last, last_status = 'ok'"
            " FROM counts c WHERE s.tenant = c.tenant AND s.id = c.subscription_id",
            [item.id for item, _ in done],
            [item.claimed_until for item, _ in done],
            [when for _, when in done],
        )


async def renew(pool: asyncpg.Pool, item: PendingNotification, until: float) -> bool:
    async with bookkeeping(pool) as conn:
        status = await conn.execute(
            "UPDATE notification_outbox SET claimed_until = $2"
            " WHERE id = $1 AND claimed_until = $3",
            item.id,
            until,
            item.claimed_until,
        )
    return bool(status.endswith(" 1"))


async def failed(
    pool: asyncpg.Pool, item: PendingNotification, when: str, retry_at: float | None
) -> None:
    outcome = (
        "DELETE FROM notification_outbox WHERE id = $1 AND claimed_until = $6"
        " AND $5::float8 IS NULL RETURNING 1"
        if retry_at is None
        else "UPDATE notification_outbox SET claimed_until = NULL, next_attempt_at = $5"
        " WHERE id = $1 AND claimed_until = $6 RETURNING 1"
    )
    async with bookkeeping(pool) as conn:
        await conn.execute(
            f"WITH outcome AS ({outcome})"
            " UPDATE subscriptions SET times_sent = times_sent + 1,"
            " times_failed = times_failed + 1,"
            " last_notification = $2, last_failure = $2, last_status = 'failed'"
            " WHERE tenant = $3 AND id = $4 AND EXISTS (SELECT 1 FROM outcome)",
            item.id,
            when,
            item.tenant,
            item.subscription_id,
            retry_at,
            item.claimed_until,
        )


async def release(
    pool: asyncpg.Pool, items: Sequence[PendingNotification], retry_at: float
) -> None:
    async with bookkeeping(pool) as conn:
        await conn.execute(
            "UPDATE notification_outbox o SET claimed_until = NULL, next_attempt_at = $3,"
            " attempts = o.attempts - 1 FROM unnest($1::bigint[], $2::float8[]) AS r(id, lease)"
            " WHERE o.id = r.id AND o.claimed_until = r.lease",
            [item.id for item in items],
            [item.claimed_until for item in items],
            retry_at,
        )


async def discard(pool: asyncpg.Pool, item: PendingNotification) -> None:
    async with bookkeeping(pool) as conn:
        await conn.execute(
            "DELETE FROM notification_outbox WHERE id = $1 AND claimed_until = $2",
            item.id,
            item.claimed_until,
        )
