"""The notification outbox of the SQLite store (statements run on the writer thread).

Rows are written in the transaction of the change that caused them; claiming sets a lease
(``claimed_until``) inside a ``BEGIN IMMEDIATE`` transaction, which serialises claimers of
every process on the file, so two never take the same row while its lease runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import orjson

from cityhub.storage.base import OutboxItem, PendingNotification


def add(conn: sqlite3.Connection, tenant: str, items: Sequence[OutboxItem], due: float) -> None:
    conn.executemany(
        "INSERT INTO notification_outbox (tenant, subscription_id, trigger, entity_id, payload,"
        " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                tenant,
                item.subscription_id,
                item.trigger,
                item.entity_id,
                orjson.dumps(item.payload).decode(),
                item.created_at,
                due,
            )
            for item in items
        ],
    )


def claim(
    conn: sqlite3.Connection, limit: int, lease_seconds: float, now: float
) -> list[PendingNotification]:
    rows = conn.execute(
        "UPDATE notification_outbox SET claimed_until = ?, attempts = attempts + 1"
        " WHERE id IN (SELECT id FROM notification_outbox WHERE next_attempt_at <= ?"
        " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?)"
        " RETURNING id, tenant, subscription_id, trigger, entity_id, payload, created_at,"
        " attempts",
        (now + lease_seconds, now, now, limit),
    ).fetchall()
    items = [
        PendingNotification(
            id=row[0],
            tenant=row[1],
            subscription_id=row[2],
            trigger=row[3],
            entity_id=row[4],
            payload=orjson.loads(row[5]),
            created_at=row[6],
            attempts=row[7],
        )
        for row in rows
    ]
    items.sort(key=lambda item: item.id)
    return items


def delivered(conn: sqlite3.Connection, item: PendingNotification, when: str) -> None:
    conn.execute("DELETE FROM notification_outbox WHERE id = ?", (item.id,))
    conn.execute(
        "UPDATE subscriptions SET times_sent = times_sent + 1, last_notification = ?,"
        " last_success = ?, last_status = 'ok' WHERE tenant = ? AND id = ?",
        (when, when, item.tenant, item.subscription_id),
    )


def failed(
    conn: sqlite3.Connection, item: PendingNotification, when: str, retry_at: float | None
) -> None:
    if retry_at is None:
        conn.execute("DELETE FROM notification_outbox WHERE id = ?", (item.id,))
    else:
        conn.execute(
            "UPDATE notification_outbox SET claimed_until = NULL, next_attempt_at = ? WHERE id = ?",
            (retry_at, item.id),
        )
    conn.execute(
        "UPDATE subscriptions SET times_sent = times_sent + 1, times_failed = times_failed + 1,"
        " last_notification = ?, last_failure = ?, last_status = 'failed'"
        " WHERE tenant = ? AND id = ?",
        (when, when, item.tenant, item.subscription_id),
    )


def release(conn: sqlite3.Connection, ids: Sequence[int], retry_at: float) -> None:
    conn.executemany(
        "UPDATE notification_outbox SET claimed_until = NULL, next_attempt_at = ?,"
        " attempts = attempts - 1 WHERE id = ?",
        [(retry_at, item_id) for item_id in ids],
    )
