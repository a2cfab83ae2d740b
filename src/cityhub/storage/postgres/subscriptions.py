"""Subscription rows of the PostgreSQL store (clause 5.8), on a pooled connection."""

from __future__ import annotations

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


async def insert(pool: asyncpg.Pool, tenant: str, doc: dict[str, Any], now: str) -> bool:
    # The tenant row rides along in a data-modifying CTE: one statement, one transaction.
    created = await pool.fetchval(
        "WITH new_tenant AS (INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING), "
        + _BUMP
        + " INSERT INTO subscriptions (tenant, id, doc, created_at, modified_at)"
        " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (tenant, id) DO NOTHING RETURNING true",
        tenant,
        doc["id"],
        doc,
        now,
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
        "WITH " + _BUMP + " UPDATE subscriptions SET doc = $3, modified_at = $4"
        " WHERE tenant = $1 AND id = $2 AND modified_at = $5",
        tenant,
        doc["id"],
        doc,
        now,
        expected,
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
