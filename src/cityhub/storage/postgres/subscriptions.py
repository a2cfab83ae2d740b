"""Subscription rows of the PostgreSQL store (clause 5.8), on a pooled connection."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from cityhub.storage.base import SubscriptionRecord

_COLUMNS = (
    "doc, created_at, modified_at, times_sent, times_failed, last_notification, last_success,"
    " last_failure, last_status"
)


_BUMP = (
    "bump AS (INSERT INTO subscription_versions (tenant, version) VALUES ($1, 1)"
    " ON CONFLICT (tenant) DO UPDATE SET version = subscription_versions.version + 1)"
)


async def version(conn: asyncpg.Connection | asyncpg.Pool, tenant: str) -> int:
    found = await conn.fetchval(
        "SELECT version FROM subscription_versions WHERE tenant = $1", tenant
    )
    return 0 if found is None else int(found)


async def docs(conn: asyncpg.Connection, tenant: str) -> list[dict[str, Any]]:
    """Every subscription document of the tenant (for matching)."""
    rows = await conn.fetch("SELECT doc FROM subscriptions WHERE tenant = $1", tenant)
    return [row["doc"] for row in rows]


def _record(row: asyncpg.Record) -> SubscriptionRecord:
    return SubscriptionRecord(*row)


def _next_due(doc: dict[str, Any]) -> float | None:
    """A periodic subscription's first notification is due at once; others have none."""
    return time.time() if "timeInterval" in doc else None


async def insert(pool: asyncpg.Pool, tenant: str, doc: dict[str, Any], now: str) -> bool:
    # The tenant row rides along in a data-modifying CTE: one statement, one transaction.
    created = await pool.fetchval(
        "WITH new_tenant AS (INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING), "
        + _BUMP
        + " INSERT INTO subscriptions (tenant, id, doc, created_at, modified_at, next_due)"
        " VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (tenant, id) DO NOTHING RETURNING true",
        tenant,
        doc["id"],
        doc,
        now,
        _next_due(doc),
    )
    return bool(created)


async def get(pool: asyncpg.Pool, tenant: str, sub_id: str) -> SubscriptionRecord | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant = $1 AND id = $2", tenant, sub_id
    )
    return None if row is None else _record(row)


async def page(
    pool: asyncpg.Pool, tenant: str, limit: int, offset: int
) -> list[SubscriptionRecord]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant = $1"
        " ORDER BY created_at, id LIMIT $2 OFFSET $3",
        tenant,
        limit,
        offset,
    )
    return [_record(row) for row in rows]


async def count(pool: asyncpg.Pool, tenant: str) -> int:
    total = await pool.fetchval("SELECT count(*) FROM subscriptions WHERE tenant = $1", tenant)
    return int(total)


async def replace(
    pool: asyncpg.Pool, tenant: str, doc: dict[str, Any], now: str, expected: str
) -> bool:
    status = await pool.execute(
        "WITH " + _BUMP + " UPDATE subscriptions SET doc = $3, modified_at = $4, next_due = $6"
        " WHERE tenant = $1 AND id = $2 AND modified_at = $5",
        tenant,
        doc["id"],
        doc,
        now,
        expected,
        _next_due(doc),
    )
    return bool(status.endswith(" 1"))


async def delete(pool: asyncpg.Pool, tenant: str, sub_id: str) -> bool:
    status = await pool.execute(
        "WITH " + _BUMP + ", pending AS (DELETE FROM notification_outbox"
        " WHERE tenant = $1 AND subscription_id = $2)"
        " DELETE FROM subscriptions WHERE tenant = $1 AND id = $2",
        tenant,
        sub_id,
    )
    return bool(status.endswith(" 1"))


async def pass_throttle(pool: asyncpg.Pool, tenant: str, sub_id: str, now: str, since: str) -> bool:
    """Take the subscription's throttling window if its last notification was at or before
    ``since``: exactly one caller passes per window, whichever worker it runs in."""
    status = await pool.execute(
        "UPDATE subscriptions SET last_notification = $3 WHERE tenant = $1 AND id = $2"
        " AND (last_notification IS NULL OR last_notification <= $4)",
        tenant,
        sub_id,
        now,
        since,
    )
    return bool(status.endswith(" 1"))


async def claim_periodic(
    pool: asyncpg.Pool, now: float, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """Periodic subscriptions whose notification is due, moved on by their interval; a
    subscription another worker is claiming is skipped."""
    rows = await pool.fetch(
        "UPDATE subscriptions s SET next_due = $1 + (s.doc->>'timeInterval')::float8"
        " FROM (SELECT tenant, id FROM subscriptions WHERE next_due <= $1 LIMIT $2"
        " FOR UPDATE SKIP LOCKED) due WHERE s.tenant = due.tenant AND s.id = due.id"
        " RETURNING s.tenant, s.doc",
        now,
        limit,
    )
    return [(row["tenant"], row["doc"]) for row in rows]


async def by_key(
    pool: asyncpg.Pool, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    unique = list(dict.fromkeys(keys))
    rows = await pool.fetch(
        "SELECT s.tenant, s.id, s.doc FROM subscriptions s"
        " JOIN unnest($1::text[], $2::text[]) AS k(tenant, id)"
        " ON s.tenant = k.tenant AND s.id = k.id",
        [tenant for tenant, _ in unique],
        [sub_id for _, sub_id in unique],
    )
    return {(row["tenant"], row["id"]): row["doc"] for row in rows}
