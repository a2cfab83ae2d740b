"""Context source registrations, their subscriptions, the CsourceNotification outbox and the
hub's identity on PostgreSQL (migration 013; clauses 5.9-5.11, 5.15).

Every write is one transaction that locks the tenant's csource version row, compares it with
the version the caller computed at, changes its row, moves the version and queues the
notifications the caller computed, or changes nothing ("stale"). Claims lease rows with
``FOR UPDATE SKIP LOCKED`` as the entity outbox does (storage/postgres/outbox.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from cityhub.model.values import now_iso
from cityhub.storage.base import (
    CsourceOutboxItem,
    PendingCsourceNotification,
    RegistrationRecord,
    SubscriptionRecord,
)

_REG_COLUMNS = (
    "doc, created_at, modified_at, times_sent, times_failed, last_success, last_failure,"
    " last_status"
)
_SUB_COLUMNS = (
    "doc, created_at, modified_at, times_sent, times_failed, last_notification, last_success,"
    " last_failure, last_status"
)
_TABLES = {"registration": "csource_registrations", "subscription": "csource_subscriptions"}


async def _locked_version(conn: asyncpg.Connection, tenant: str) -> int:
    """The tenant's version, its row locked until commit (made at 0 when missing)."""
    await conn.execute(
        "INSERT INTO csource_versions (tenant, version) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        tenant,
    )
    found = await conn.fetchval(
        "SELECT version FROM csource_versions WHERE tenant = $1 FOR UPDATE", tenant
    )
    return int(found)


async def _move_on(
    conn: asyncpg.Connection, tenant: str, notes: Sequence[CsourceOutboxItem]
) -> None:
    await conn.execute(
        "UPDATE csource_versions SET version = version + 1 WHERE tenant = $1", tenant
    )
    if notes:
        await conn.executemany(
            "INSERT INTO csource_outbox (tenant, subscription_id, payload, created_at,"
            " next_attempt_at) VALUES ($1, $2, $3, $4, $5)",
            [(tenant, n.subscription_id, n.payload, n.created_at, time.time()) for n in notes],
        )


async def insert(
    pool: asyncpg.Pool,
    kind: str,
    tenant: str,
    doc: dict[str, Any],
    now: str,
    expected: int,
    notes: Sequence[CsourceOutboxItem],
) -> str:
    async with pool.acquire() as conn, conn.transaction():
        if await _locked_version(conn, tenant) != expected:
            return "stale"
        created = await conn.fetchval(
            f"INSERT INTO {_TABLES[kind]} (tenant, id, doc, created_at, modified_at)"
            " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (tenant, id) DO NOTHING RETURNING true",
            tenant,
            doc["id"],
            doc,
            now,
        )
        if not created:
            return "exists"
        await conn.execute("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING", tenant)
        await _move_on(conn, tenant, notes)
        return "created"


async def replace(
    pool: asyncpg.Pool,
    kind: str,
    tenant: str,
    doc: dict[str, Any],
    now: str,
    expected: int,
    notes: Sequence[CsourceOutboxItem],
) -> str:
    async with pool.acquire() as conn, conn.transaction():
        if await _locked_version(conn, tenant) != expected:
            return "stale"
        status = await conn.execute(
            f"UPDATE {_TABLES[kind]} SET doc = $3, modified_at = GREATEST($4, modified_at)"
            " WHERE tenant = $1 AND id = $2",
            tenant,
            doc["id"],
            doc,
            now,
        )
        if status.endswith(" 0"):
            return "missing"
        await _move_on(conn, tenant, notes)
        return "done"


async def delete(
    pool: asyncpg.Pool,
    kind: str,
    tenant: str,
    item_id: str,
    expected: int,
    notes: Sequence[CsourceOutboxItem],
) -> str:
    async with pool.acquire() as conn, conn.transaction():
        if await _locked_version(conn, tenant) != expected:
            return "stale"
        status = await conn.execute(
            f"DELETE FROM {_TABLES[kind]} WHERE tenant = $1 AND id = $2", tenant, item_id
        )
        if status.endswith(" 0"):
            return "missing"
        if kind == "subscription":
            await conn.execute(
                "DELETE FROM csource_outbox WHERE tenant = $1 AND subscription_id = $2",
                tenant,
                item_id,
            )
        await _move_on(conn, tenant, notes)
        return "done"


async def claim(
    pool: asyncpg.Pool, limit: int, lease_seconds: float, now: float
) -> list[PendingCsourceNotification]:
    rows = await pool.fetch(
        "WITH claimed AS (UPDATE csource_outbox o SET claimed_until = $1,"
        " attempts = o.attempts + 1"
        " FROM (SELECT n.id FROM csource_outbox n WHERE n.next_attempt_at <= $2"
        " AND (n.claimed_until IS NULL OR n.claimed_until < $2)"
        " AND NOT EXISTS (SELECT 1 FROM csource_outbox b WHERE b.tenant = n.tenant"
        " AND b.subscription_id = n.subscription_id AND b.id < n.id)"
        # Another worker's uncommitted claim of the subscription keeps this one off it.
        " AND pg_try_advisory_xact_lock(hashtextextended('csource|' || n.tenant || '|'"
        " || n.subscription_id, 0))"
        " ORDER BY n.id LIMIT $3 FOR UPDATE SKIP LOCKED) due WHERE o.id = due.id"
        " RETURNING o.id, o.tenant, o.subscription_id, o.payload, o.created_at, o.attempts,"
        " o.claimed_until)"
        " SELECT c.*, s.doc AS subscription, s.last_notification FROM claimed c"
        " JOIN csource_subscriptions s ON s.tenant = c.tenant AND s.id = c.subscription_id"
        " ORDER BY c.id",
        now + lease_seconds,
        now,
        limit,
    )
    return [PendingCsourceNotification(*row) for row in rows]


async def done(
    pool: asyncpg.Pool,
    item: PendingCsourceNotification,
    when: str,
    ok: bool,
    retry_at: float | None,
) -> None:
    args: list[Any] = [item.tenant, item.subscription_id, item.id, item.claimed_until, when]
    if ok or retry_at is None:
        change = "DELETE FROM csource_outbox WHERE id = $3 AND claimed_until = $4 RETURNING 1"
    else:
        change = (
            "UPDATE csource_outbox SET claimed_until = NULL, next_attempt_at = $6"
            " WHERE id = $3 AND claimed_until = $4 RETURNING 1"
        )
        args.append(retry_at)
    if ok:
        record = (
            "times_sent = times_sent + 1, last_notification = $5, last_success = $5,"
            " last_status = 'ok'"
        )
    else:
        record = (
            "times_sent = times_sent + 1, times_failed = times_failed + 1,"
            " last_notification = $5, last_failure = $5, last_status = 'failed'"
        )
    await pool.execute(
        f"WITH gone AS ({change}) UPDATE csource_subscriptions SET {record}"
        " WHERE tenant = $1 AND id = $2 AND EXISTS (SELECT 1 FROM gone)",
        *args,
    )


class CsourceRegistry:
    """The store's registrations, registration subscriptions, their outbox and the hub's
    identity (Store protocol), through the pool."""

    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError

    async def csource_version(self, tenant: str) -> int:
        found = await self.pool.fetchval(
            "SELECT version FROM csource_versions WHERE tenant = $1", tenant
        )
        return 0 if found is None else int(found)

    async def insert_registration(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await insert(self.pool, "registration", tenant, doc, now, version, notes)

    async def replace_registration(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await replace(self.pool, "registration", tenant, doc, now, version, notes)

    async def delete_registration(
        self, tenant: str, reg_id: str, version: int, notes: Sequence[CsourceOutboxItem]
    ) -> str:
        return await delete(self.pool, "registration", tenant, reg_id, version, notes)

    async def get_registration(self, tenant: str, reg_id: str) -> RegistrationRecord | None:
        row = await self.pool.fetchrow(
            f"SELECT {_REG_COLUMNS} FROM csource_registrations WHERE tenant = $1 AND id = $2",
            tenant,
            reg_id,
        )
        return None if row is None else RegistrationRecord(*row)

    async def registration_records(self, tenant: str) -> list[RegistrationRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_REG_COLUMNS} FROM csource_registrations WHERE tenant = $1"
            " ORDER BY created_at, id",
            tenant,
        )
        return [RegistrationRecord(*row) for row in rows]

    async def registrations(self, tenant: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT doc FROM csource_registrations WHERE tenant = $1 ORDER BY created_at, id",
            tenant,
        )
        return [row["doc"] for row in rows]

    async def record_registration_outcome(
        self, tenant: str, reg_id: str, ok: bool, when: str
    ) -> None:
        if ok:
            record = "times_sent = times_sent + 1, last_success = $3, last_status = 'ok'"
        else:
            record = (
                "times_sent = times_sent + 1, times_failed = times_failed + 1,"
                " last_failure = $3, last_status = 'failed'"
            )
        await self.pool.execute(
            f"UPDATE csource_registrations SET {record} WHERE tenant = $1 AND id = $2",
            tenant,
            reg_id,
            when,
        )

    async def insert_csource_subscription(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await insert(self.pool, "subscription", tenant, doc, now, version, notes)

    async def replace_csource_subscription(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        return await replace(self.pool, "subscription", tenant, doc, now, version, notes)

    async def delete_csource_subscription(self, tenant: str, sub_id: str, version: int) -> str:
        return await delete(self.pool, "subscription", tenant, sub_id, version, ())

    async def get_csource_subscription(self, tenant: str, sub_id: str) -> SubscriptionRecord | None:
        row = await self.pool.fetchrow(
            f"SELECT {_SUB_COLUMNS} FROM csource_subscriptions WHERE tenant = $1 AND id = $2",
            tenant,
            sub_id,
        )
        return None if row is None else SubscriptionRecord(*row)

    async def list_csource_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> list[SubscriptionRecord]:
        rows = await self.pool.fetch(
            f"SELECT {_SUB_COLUMNS} FROM csource_subscriptions WHERE tenant = $1"
            " ORDER BY created_at, id LIMIT $2 OFFSET $3",
            tenant,
            limit,
            offset,
        )
        return [SubscriptionRecord(*row) for row in rows]

    async def count_csource_subscriptions(self, tenant: str) -> int:
        total = await self.pool.fetchval(
            "SELECT count(*) FROM csource_subscriptions WHERE tenant = $1", tenant
        )
        return int(total)

    async def csource_subscription_docs(self, tenant: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT doc FROM csource_subscriptions WHERE tenant = $1 ORDER BY created_at, id",
            tenant,
        )
        return [row["doc"] for row in rows]

    async def claim_csource_notifications(
        self, limit: int, lease_seconds: float, now: float
    ) -> list[PendingCsourceNotification]:
        return await claim(self.pool, limit, lease_seconds, now)

    async def csource_notification_done(
        self, item: PendingCsourceNotification, when: str, ok: bool, retry_at: float | None
    ) -> None:
        await done(self.pool, item, when, ok, retry_at)

    async def postpone_csource_notification(
        self, item: PendingCsourceNotification, until: float
    ) -> None:
        await self.pool.execute(
            "UPDATE csource_outbox SET claimed_until = NULL, next_attempt_at = $3,"
            " attempts = attempts - 1 WHERE id = $1 AND claimed_until = $2",
            item.id,
            item.claimed_until,
            until,
        )

    async def csource_outbox_due(self) -> float | None:
        found = await self.pool.fetchval(
            "SELECT min(GREATEST(next_attempt_at, coalesce(claimed_until, 0))) FROM csource_outbox"
        )
        return None if found is None else float(found)

    async def source_identity(self) -> str:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO hub_identity (singleton, id, created_at) VALUES (1, $1, $2)"
                " ON CONFLICT (singleton) DO NOTHING",
                f"urn:ngsi-ld:ContextSourceIdentity:{uuid.uuid4()}",
                now_iso(),
            )
            found = await conn.fetchval("SELECT id FROM hub_identity WHERE singleton = 1")
        return str(found)
