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
from cityhub.storage.sql.outbox import tally


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


# A row waits while an earlier row of its subscription is held by a worker or waiting for a
# retry: each subscription's notifications go out in order, whichever workers claim them.
_AHEAD = (
    "SELECT 1 FROM notification_outbox b WHERE b.tenant = n.tenant"
    " AND b.subscription_id = n.subscription_id AND b.id < n.id"
    " AND (b.claimed_until >= ? OR b.next_attempt_at > ?)"
)


def claim(
    conn: sqlite3.Connection, limit: int, lease_seconds: float, now: float
) -> list[PendingNotification]:
    rows = conn.execute(
        "UPDATE notification_outbox SET claimed_until = ?, attempts = attempts + 1"
        " WHERE id IN (SELECT n.id FROM notification_outbox n WHERE n.next_attempt_at <= ?"
        " AND (n.claimed_until IS NULL OR n.claimed_until < ?) AND NOT EXISTS (" + _AHEAD + ")"
        " ORDER BY n.id LIMIT ?)"
        " RETURNING id, tenant, subscription_id, trigger, entity_id, payload, created_at,"
        " attempts, claimed_until",
        (now + lease_seconds, now, now, now, now, limit),
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
            claimed_until=row[8],
        )
        for row in rows
    ]
    items.sort(key=lambda item: item.id)
    return items


def delivered(conn: sqlite3.Connection, done: Sequence[tuple[PendingNotification, str]]) -> None:
    gone = []
    for item, when in done:
        cursor = conn.execute(
            "DELETE FROM notification_outbox WHERE id = ? AND claimed_until = ?",
            (item.id, item.claimed_until),
        )
        if cursor.rowcount:
            gone.append((item, when))
    conn.executemany(
        "UPDATE subscriptions SET times_sent = times_sent + ?, last_notification = ?,"
        " last_success = ?, last_status = 'ok' WHERE tenant = ? AND id = ?",
        [(n, last, last, tenant, sub_id) for (tenant, sub_id), (n, last) in tally(gone).items()],
    )


def renew(conn: sqlite3.Connection, item: PendingNotification, until: float) -> bool:
    cursor = conn.execute(
        "UPDATE notification_outbox SET claimed_until = ? WHERE id = ? AND claimed_until = ?",
        (until, item.id, item.claimed_until),
    )
    return cursor.rowcount > 0


def failed(
    conn: sqlite3.Connection, item: PendingNotification, when: str, retry_at: float | None
) -> None:
    if retry_at is None:
        cursor = conn.execute(
            "DELETE FROM notification_outbox WHERE id = ? AND claimed_until = ?",
            (item.id, item.claimed_until),
        )
    else:
        cursor = conn.execute(
            "UPDATE notification_outbox SET claimed_until = NULL, next_attempt_at = ?"
            " WHERE id = ? AND claimed_until = ?",
            (retry_at, item.id, item.claimed_until),
        )
    if not cursor.rowcount:
        return  # no longer ours: whoever holds it records the outcome
    conn.execute(
        "UPDATE subscriptions SET times_sent = times_sent + 1, times_failed = times_failed + 1,"
        " last_notification = ?, last_failure = ?, last_status = 'failed'"
        " WHERE tenant = ? AND id = ?",
        (when, when, item.tenant, item.subscription_id),
    )


def release(
    conn: sqlite3.Connection, items: Sequence[PendingNotification], retry_at: float
) -> None:
    conn.executemany(
        "UPDATE notification_outbox SET claimed_until = NULL, next_attempt_at = ?,"
        " attempts = attempts - 1 WHERE id = ? AND claimed_until = ?",
        [(retry_at, item.id, item.claimed_until) for item in items],
    )


def discard(conn: sqlite3.Connection, item: PendingNotification) -> None:
    conn.execute(
        "DELETE FROM notification_outbox WHERE id = ? AND claimed_until = ?",
        (item.id, item.claimed_until),
    )
