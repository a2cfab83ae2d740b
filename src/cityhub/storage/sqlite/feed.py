"""The live notification feed of the SQLite store (storage migration 008)."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson


def append(
    conn: sqlite3.Connection,
    tenant: str,
    sub_id: str,
    body: dict[str, Any],
    now: float,
    keep_after: float,
) -> None:
    conn.execute(
        "INSERT INTO notification_feed (tenant, subscription_id, body, created_at)"
        " VALUES (?, ?, ?, ?)",
        (tenant, sub_id, orjson.dumps(body).decode(), now),
    )
    conn.execute(
        "DELETE FROM notification_feed WHERE tenant = ? AND subscription_id = ? AND created_at < ?",
        (tenant, sub_id, keep_after),
    )


def newest(conn: sqlite3.Connection, tenant: str, sub_id: str) -> int:
    """The id of the subscription's newest feed row (0 when none): a stream starts there."""
    row = conn.execute(
        "SELECT max(id) FROM notification_feed WHERE tenant = ? AND subscription_id = ?",
        (tenant, sub_id),
    ).fetchone()
    return int(row[0] or 0)


def read(
    conn: sqlite3.Connection, tenant: str, sub_id: str, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    rows = conn.execute(
        "SELECT id, body FROM notification_feed WHERE tenant = ? AND subscription_id = ?"
        " AND id > ? ORDER BY id LIMIT ?",
        (tenant, sub_id, after, limit),
    ).fetchall()
    return [(int(row[0]), orjson.loads(row[1])) for row in rows]
