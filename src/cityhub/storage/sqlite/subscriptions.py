"""Subscription rows of the SQLite store (clause 5.8): statements run on a store thread."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import orjson

from cityhub.storage.base import SubscriptionRecord

_COLUMNS = (
    "doc, created_at, modified_at, times_sent, times_failed, last_notification, last_success,"
    " last_failure, last_status"
)


_BUMP = (
    "INSERT INTO subscription_versions (tenant, version) VALUES (?, 1)"
    " ON CONFLICT (tenant) DO UPDATE SET version = version + 1"
)


def bump_version(conn: sqlite3.Connection, tenant: str) -> None:
    """Tell every worker that the tenant's subscriptions changed (same transaction)."""
    conn.execute(_BUMP, (tenant,))


def version(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute(
        "SELECT version FROM subscription_versions WHERE tenant = ?", (tenant,)
    ).fetchone()
    return 0 if row is None else int(row[0])


def docs(conn: sqlite3.Connection, tenant: str) -> list[dict[str, Any]]:
    """Every subscription document of the tenant (for matching)."""
    rows = conn.execute("SELECT doc FROM subscriptions WHERE tenant = ?", (tenant,)).fetchall()
    return [orjson.loads(row[0]) for row in rows]


def _record(row: tuple[Any, ...]) -> SubscriptionRecord:
    return SubscriptionRecord(orjson.loads(row[0]), *row[1:])


def _next_due(doc: dict[str, Any]) -> float | None:
    """A periodic subscription's first notification is due at once; others have none."""
    return time.time() if "timeInterval" in doc else None


def insert(conn: sqlite3.Connection, tenant: str, doc: dict[str, Any], now: str) -> bool:
    cursor = conn.execute(
        "INSERT INTO subscriptions (tenant, id, doc, created_at, modified_at, next_due)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING",
        (tenant, doc["id"], orjson.dumps(doc).decode(), now, now, _next_due(doc)),
    )
    if cursor.rowcount:
        conn.execute(
            "INSERT INTO tenants (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (tenant, now),
        )
        bump_version(conn, tenant)
    return cursor.rowcount > 0


def get(conn: sqlite3.Connection, tenant: str, sub_id: str) -> SubscriptionRecord | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, sub_id)
    ).fetchone()
    return None if row is None else _record(row)


def page(
    conn: sqlite3.Connection, tenant: str, limit: int, offset: int
) -> list[SubscriptionRecord]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE tenant = ?"
        " ORDER BY created_at, id LIMIT ? OFFSET ?",
        (tenant, limit, offset),
    ).fetchall()
    return [_record(row) for row in rows]


def count(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute("SELECT count(*) FROM subscriptions WHERE tenant = ?", (tenant,)).fetchone()
    return int(row[0])


def replace(
    conn: sqlite3.Connection, tenant: str, doc: dict[str, Any], now: str, expected: str
) -> bool:
    cursor = conn.execute(
        "UPDATE subscriptions SET doc = ?, modified_at = ?, next_due = ?"
        " WHERE tenant = ? AND id = ? AND modified_at = ?",
        (orjson.dumps(doc).decode(), now, _next_due(doc), tenant, doc["id"], expected),
    )
    if cursor.rowcount:
        bump_version(conn, tenant)
    return cursor.rowcount > 0


def delete(conn: sqlite3.Connection, tenant: str, sub_id: str) -> bool:
    cursor = conn.execute("DELETE FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, sub_id))
    if cursor.rowcount:
        bump_version(conn, tenant)
        conn.execute(
            "DELETE FROM notification_outbox WHERE tenant = ? AND subscription_id = ?",
            (tenant, sub_id),
        )
    return cursor.rowcount > 0


def pass_throttle(conn: sqlite3.Connection, tenant: str, sub_id: str, now: str, since: str) -> bool:
    """Take the subscription's throttling window if its last notification was at or before
    ``since``: exactly one caller passes per window, whichever worker it runs in."""
    cursor = conn.execute(
        "UPDATE subscriptions SET last_notification = ? WHERE tenant = ? AND id = ?"
        " AND (last_notification IS NULL OR last_notification <= ?)",
        (now, tenant, sub_id, since),
    )
    return cursor.rowcount > 0


def claim_periodic(
    conn: sqlite3.Connection, now: float, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """Periodic subscriptions whose notification is due, moved on by their interval."""
    rows = conn.execute(
        "UPDATE subscriptions SET next_due = ? + json_extract(doc, '$.timeInterval')"
        " WHERE rowid IN (SELECT rowid FROM subscriptions WHERE next_due <= ? LIMIT ?)"
        " RETURNING tenant, doc",
        (now, now, limit),
    ).fetchall()
    return [(row[0], orjson.loads(row[1])) for row in rows]


def by_key(
    conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for tenant, sub_id in dict.fromkeys(keys):
        row = conn.execute(
            "SELECT doc FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, sub_id)
        ).fetchone()
        if row is not None:
            found[(tenant, sub_id)] = orjson.loads(row[0])
    return found
