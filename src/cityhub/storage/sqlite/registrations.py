"""Context source registrations, their subscriptions, the CsourceNotification outbox and the
hub's identity on SQLite (migration 014; clauses 5.9-5.11, 5.15).

Every write runs in one ``BEGIN IMMEDIATE`` transaction on the writer thread: it checks the
tenant's csource version against the one the caller computed with, changes its row, moves
the version and queues the notifications the caller computed, or changes nothing ("stale").
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from cityhub.model.values import now_iso
from cityhub.storage.base import (
    CsourceOutboxItem,
    PendingCsourceNotification,
    RegistrationRecord,
    SubscriptionRecord,
)

T = TypeVar("T")

_REG_COLUMNS = (
    "doc, created_at, modified_at, times_sent, times_failed, last_success, last_failure,"
    " last_status"
)
_SUB_COLUMNS = (
    "doc, created_at, modified_at, times_sent, times_failed, last_notification, last_success,"
    " last_failure, last_status"
)
_TABLES = {"registration": "csource_registrations", "subscription": "csource_subscriptions"}


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def current_version(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute(
        "SELECT version FROM csource_versions WHERE tenant = ?", (tenant,)
    ).fetchone()
    return 0 if row is None else int(row[0])


def _move_on(conn: sqlite3.Connection, tenant: str, notes: Sequence[CsourceOutboxItem]) -> None:
    conn.execute(
        "INSERT INTO csource_versions (tenant, version) VALUES (?, 1)"
        " ON CONFLICT (tenant) DO UPDATE SET version = version + 1",
        (tenant,),
    )
    due = time.time()
    conn.executemany(
        "INSERT INTO csource_outbox (tenant, subscription_id, payload, created_at,"
        " next_attempt_at) VALUES (?, ?, ?, ?, ?)",
        [(tenant, n.subscription_id, _dumps(n.payload), n.created_at, due) for n in notes],
    )


def insert(
    conn: sqlite3.Connection,
    kind: str,
    tenant: str,
    doc: dict[str, Any],
    now: str,
    expected: int,
    notes: Sequence[CsourceOutboxItem],
) -> str:
    if current_version(conn, tenant) != expected:
        return "stale"
    cursor = conn.execute(
        f"INSERT INTO {_TABLES[kind]} (tenant, id, doc, created_at, modified_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING",
        (tenant, doc["id"], _dumps(doc), now, now),
    )
    if not cursor.rowcount:
        return "exists"
    conn.execute(
        "INSERT INTO tenants (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (tenant, now),
    )
    _move_on(conn, tenant, notes)
    return "created"


def replace(
    conn: sqlite3.Connection,
    kind: str,
    tenant: str,
    doc: dict[str, Any],
    now: str,
    expected: int,
    notes: Sequence[CsourceOutboxItem],
) -> str:
    if current_version(conn, tenant) != expected:
        return "stale"
    cursor = conn.execute(
        f"UPDATE {_TABLES[kind]} SET doc = ?, modified_at = max(?, modified_at)"
        " WHERE tenant = ? AND id = ?",
        (_dumps(doc), now, tenant, doc["id"]),
    )
    if not cursor.rowcount:
        return "missing"
    _move_on(conn, tenant, notes)
    return "done"


def delete(
    conn: sqlite3.Connection,
    kind: str,
    tenant: str,
    item_id: str,
    expected: int,
    notes: Sequence[CsourceOutboxItem],
) -> str:
    if current_version(conn, tenant) != expected:
        return "stale"
    cursor = conn.execute(
        f"DELETE FROM {_TABLES[kind]} WHERE tenant = ? AND id = ?", (tenant, item_id)
    )
    if not cursor.rowcount:
        return "missing"
    if kind == "subscription":
        conn.execute(
            "DELETE FROM csource_outbox WHERE tenant = ? AND subscription_id = ?",
            (tenant, item_id),
        )
    _move_on(conn, tenant, notes)
    return "done"


def _registration(row: Sequence[Any]) -> RegistrationRecord:
    return RegistrationRecord(orjson.loads(row[0]), *row[1:])


def _subscription(row: Sequence[Any]) -> SubscriptionRecord:
    return SubscriptionRecord(orjson.loads(row[0]), *row[1:])


def get_registration(
    conn: sqlite3.Connection, tenant: str, reg_id: str
) -> RegistrationRecord | None:
    row = conn.execute(
        f"SELECT {_REG_COLUMNS} FROM csource_registrations WHERE tenant = ? AND id = ?",
        (tenant, reg_id),
    ).fetchone()
    return None if row is None else _registration(row)


def registration_records(conn: sqlite3.Connection, tenant: str) -> list[RegistrationRecord]:
    rows = conn.execute(
        f"SELECT {_REG_COLUMNS} FROM csource_registrations WHERE tenant = ?"
        " ORDER BY created_at, id",
        (tenant,),
    ).fetchall()
    return [_registration(row) for row in rows]


def record_outcome(conn: sqlite3.Connection, tenant: str, reg_id: str, ok: bool, when: str) -> None:
    if ok:
        sql = (
            "UPDATE csource_registrations SET times_sent = times_sent + 1, last_success = ?,"
            " last_status = 'ok' WHERE tenant = ? AND id = ?"
        )
    else:
        sql = (
            "UPDATE csource_registrations SET times_sent = times_sent + 1,"
            " times_failed = times_failed + 1, last_failure = ?, last_status = 'failed'"
            " WHERE tenant = ? AND id = ?"
        )
    conn.execute(sql, (when, tenant, reg_id))


def get_subscription(
    conn: sqlite3.Connection, tenant: str, sub_id: str
) -> SubscriptionRecord | None:
    row = conn.execute(
        f"SELECT {_SUB_COLUMNS} FROM csource_subscriptions WHERE tenant = ? AND id = ?",
        (tenant, sub_id),
    ).fetchone()
    return None if row is None else _subscription(row)


def subscription_page(
    conn: sqlite3.Connection, tenant: str, limit: int, offset: int
) -> list[SubscriptionRecord]:
    rows = conn.execute(
        f"SELECT {_SUB_COLUMNS} FROM csource_subscriptions WHERE tenant = ?"
        " ORDER BY created_at, id LIMIT ? OFFSET ?",
        (tenant, limit, offset),
    ).fetchall()
    return [_subscription(row) for row in rows]


def count_subscriptions(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM csource_subscriptions WHERE tenant = ?", (tenant,)
    ).fetchone()
    return int(row[0])


def subscription_docs(conn: sqlite3.Connection, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT doc FROM csource_subscriptions WHERE tenant = ? ORDER BY created_at, id",
        (tenant,),
    ).fetchall()
    return [orjson.loads(row[0]) for row in rows]


def claim(
    conn: sqlite3.Connection, limit: int, lease_seconds: float, now: float
) -> list[PendingCsourceNotification]:
    rows = conn.execute(
        "UPDATE csource_outbox SET claimed_until = ?, attempts = attempts + 1"
        " WHERE id IN (SELECT n.id FROM csource_outbox n WHERE n.next_attempt_at <= ?"
        " AND (n.claimed_until IS NULL OR n.claimed_until < ?)"
        " AND NOT EXISTS (SELECT 1 FROM csource_outbox b WHERE b.tenant = n.tenant"
        " AND b.subscription_id = n.subscription_id AND b.id < n.id)"
        " ORDER BY n.id LIMIT ?)"
        " RETURNING id, tenant, subscription_id, payload, created_at, attempts, claimed_until",
        (now + lease_seconds, now, now, limit),
    ).fetchall()
    items = []
    for row in sorted(rows):
        sub = conn.execute(
            "SELECT doc, last_notification FROM csource_subscriptions WHERE tenant = ? AND id = ?",
            (row[1], row[2]),
        ).fetchone()
        if sub is None:  # its subscription went; its rows went with it
            continue
        items.append(
            PendingCsourceNotification(
                row[0],
                row[1],
                row[2],
                orjson.loads(row[3]),
                row[4],
                row[5],
                row[6],
                orjson.loads(sub[0]),
                sub[1],
            )
        )
    return items


def done(
    conn: sqlite3.Connection,
    item: PendingCsourceNotification,
    when: str,
    ok: bool,
    retry_at: float | None,
) -> None:
    if ok or retry_at is None:
        cursor = conn.execute(
            "DELETE FROM csource_outbox WHERE id = ? AND claimed_until = ?",
            (item.id, item.claimed_until),
        )
    else:
        cursor = conn.execute(
            "UPDATE csource_outbox SET claimed_until = NULL, next_attempt_at = ?"
            " WHERE id = ? AND claimed_until = ?",
            (retry_at, item.id, item.claimed_until),
        )
    if not cursor.rowcount:
        return  # no longer ours: whoever holds it records the outcome
    if ok:
        sql = (
            "UPDATE csource_subscriptions SET times_sent = times_sent + 1,"
            " last_notification = ?, last_success = ?, last_status = 'ok'"
            " WHERE tenant = ? AND id = ?"
        )
    else:
        sql = (
            "UPDATE csource_subscriptions SET times_sent = times_sent + 1,"
            " times_failed = times_failed + 1, last_notification = ?, last_failure = ?,"
            " last_status = 'failed' WHERE tenant = ? AND id = ?"
        )
    conn.execute(sql, (when, when, item.tenant, item.subscription_id))


def postpone(conn: sqlite3.Connection, item: PendingCsourceNotification, until: float) -> None:
    conn.execute(
        "UPDATE csource_outbox SET claimed_until = NULL, next_attempt_at = ?,"
        " attempts = attempts - 1 WHERE id = ? AND claimed_until = ?",
        (until, item.id, item.claimed_until),
    )


def outbox_due(conn: sqlite3.Connection) -> float | None:
    row = conn.execute(
        "SELECT min(max(next_attempt_at, coalesce(claimed_until, 0))) FROM csource_outbox"
    ).fetchone()
    return None if row[0] is None else float(row[0])


def identity(conn: sqlite3.Connection, now: str) -> str:
    conn.execute(
        "INSERT INTO hub_identity (singleton, id, created_at) VALUES (1, ?, ?)"
        " ON CONFLICT (singleton) DO NOTHING",
        (f"urn:ngsi-ld:ContextSourceIdentity:{uuid.uuid4()}", now),
    )
    row = conn.execute("SELECT id FROM hub_identity WHERE singleton = 1").fetchone()
    return str(row[0])


class CsourceRegistry:
    """The store's registrations, registration subscriptions, their outbox and the hub's
    identity (Store protocol), on its connections."""

    async def _on_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def csource_version(self, tenant: str) -> int:
        return await self._on_reader(lambda conn: current_version(conn, tenant))

    async def insert_registration(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await self._write(
            lambda conn: insert(conn, "registration", tenant, doc, now, version, notes)
        )

    async def replace_registration(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await self._write(
            lambda conn: replace(conn, "registration", tenant, doc, now, version, notes)
        )

    async def delete_registration(
        self, tenant: str, reg_id: str, version: int, notes: Sequence[CsourceOutboxItem]
    ) -> str:
        return await self._write(
            lambda conn: delete(conn, "registration", tenant, reg_id, version, notes)
        )

    async def get_registration(self, tenant: str, reg_id: str) -> RegistrationRecord | None:
        return await self._on_reader(lambda conn: get_registration(conn, tenant, reg_id))

    async def registration_records(self, tenant: str) -> list[RegistrationRecord]:
        return await self._on_reader(lambda conn: registration_records(conn, tenant))

    async def registrations(self, tenant: str) -> list[dict[str, Any]]:
        return [record.doc for record in await self.registration_records(tenant)]

    async def record_registration_outcome(
        self, tenant: str, reg_id: str, ok: bool, when: str
    ) -> None:
        await self._write(lambda conn: record_outcome(conn, tenant, reg_id, ok, when))

    async def insert_csource_subscription(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await self._write(
            lambda conn: insert(conn, "subscription", tenant, doc, now, version, notes)
        )

    async def replace_csource_subscription(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await self._write(
            lambda conn: replace(conn, "subscription", tenant, doc, now, version, notes)
        )

    async def delete_csource_subscription(self, tenant: str, sub_id: str, version: int) -> str:
        return await self._write(
            lambda conn: delete(conn, "subscription", tenant, sub_id, version, ())
        )

    async def get_csource_subscription(self, tenant: str, sub_id: str) -> SubscriptionRecord | None:
        return await self._on_reader(lambda conn: get_subscription(conn, tenant, sub_id))

    async def list_csource_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> list[SubscriptionRecord]:
        return await self._on_reader(lambda conn: subscription_page(conn, tenant, limit, offset))

    async def count_csource_subscriptions(self, tenant: str) -> int:
        return await self._on_reader(lambda conn: count_subscriptions(conn, tenant))

    async def csource_subscription_docs(self, tenant: str) -> list[dict[str, Any]]:
        return await self._on_reader(lambda conn: subscription_docs(conn, tenant))

    async def claim_csource_notifications(
        self, limit: int, lease_seconds: float, now: float
    ) -> list[PendingCsourceNotification]:
        return await self._write(lambda conn: claim(conn, limit, lease_seconds, now))

    async def csource_notification_done(
        self, item: PendingCsourceNotification, when: str, ok: bool, retry_at: float | None
    ) -> None:
        await self._write(lambda conn: done(conn, item, when, ok, retry_at))

    async def postpone_csource_notification(
        self, item: PendingCsourceNotification, until: float
    ) -> None:
        await self._write(lambda conn: postpone(conn, item, until))

    async def csource_outbox_due(self) -> float | None:
        return await self._on_reader(outbox_due)

    async def source_identity(self) -> str:
        return await self._write(lambda conn: identity(conn, now_iso()))
