"""The live notification feed of the PostgreSQL store (storage migration 008).

Appending also sends ``pg_notify('cityhub_feed')``, which wakes the streams of every worker.
"""

from __future__ import annotations

from typing import Any

import asyncpg

CHANNEL = "cityhub_feed"


async def append(
    pool: asyncpg.Pool,
    tenant: str,
    sub_id: str,
    body: dict[str, Any],
    now: float,
    keep_after: float,
) -> None:
    await pool.execute(
        "WITH added AS (INSERT INTO notification_feed (tenant, subscription_id, body,"
        " created_at) VALUES ($1, $2, $3, $4)), old AS (DELETE FROM notification_feed"
        " WHERE tenant = $1 AND subscription_id = $2 AND created_at < $5)"
        " SELECT pg_notify($6, '')",
        tenant,
        sub_id,
        body,
        now,
        keep_after,
        CHANNEL,
    )


async def newest(pool: asyncpg.Pool, tenant: str, sub_id: str) -> int:
    """The id of the subscription's newest feed row (0 when none): a stream starts there."""
    found = await pool.fetchval(
        "SELECT max(id) FROM notification_feed WHERE tenant = $1 AND subscription_id = $2",
        tenant,
        sub_id,
    )
    return int(found or 0)


async def read(
    pool: asyncpg.Pool, tenant: str, sub_id: str, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    rows = await pool.fetch(
        "SELECT id, body FROM notification_feed WHERE tenant = $1 AND subscription_id = $2"
        " AND id > $3 ORDER BY id LIMIT $4",
        tenant,
        sub_id,
        after,
        limit,
    )
    return [(int(row["id"]), row["body"]) for row in rows]
