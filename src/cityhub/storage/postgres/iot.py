"""IoT provisioning and dead letters on PostgreSQL (migration 011)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from cityhub.storage.base import DeadLetter


async def put_service(
    conn: asyncpg.Connection, tenant: str, service: dict[str, Any], now: str
) -> bool:
    status = await conn.execute(
        "INSERT INTO iot_services (apikey, tenant, doc, created_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (apikey) DO NOTHING",
        service["apikey"],
        tenant,
        service,
        now,
    )
    return bool(status != "INSERT 0 0")


async def services(conn: asyncpg.Connection, tenant: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT doc FROM iot_services WHERE tenant = $1 ORDER BY apikey", tenant
    )
    return [row[0] for row in rows]


async def service(conn: asyncpg.Connection, apikey: str) -> tuple[str, dict[str, Any]] | None:
    row = await conn.fetchrow("SELECT tenant, doc FROM iot_services WHERE apikey = $1", apikey)
    return None if row is None else (row[0], row[1])


async def delete_service(conn: asyncpg.Connection, tenant: str, apikey: str) -> bool:
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM iot_devices WHERE apikey = $1 AND tenant = $2", apikey, tenant
        )
        status = await conn.execute(
            "DELETE FROM iot_services WHERE apikey = $1 AND tenant = $2", apikey, tenant
        )
    return bool(status != "DELETE 0")


async def put_devices(
    conn: asyncpg.Connection, tenant: str, devices: Sequence[dict[str, Any]], now: str
) -> list[str]:
    """Insert every device, or none: the ids that exist already in the tenant."""
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT device_id FROM iot_devices WHERE tenant = $1 AND device_id = ANY($2::text[])",
            tenant,
            [d["device_id"] for d in devices],
        )
        taken = {row[0] for row in rows}
        if not taken:
            await conn.executemany(
                "INSERT INTO iot_devices (apikey, device_id, tenant, doc, created_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                [(d["apikey"], d["device_id"], tenant, d, now) for d in devices],
            )
    return [d["device_id"] for d in devices if d["device_id"] in taken]


async def device(
    conn: asyncpg.Connection, apikey: str, device_id: str
) -> tuple[str, dict[str, Any]] | None:
    row = await conn.fetchrow(
        "SELECT tenant, doc FROM iot_devices WHERE apikey = $1 AND device_id = $2",
        apikey,
        device_id,
    )
    return None if row is None else (row[0], row[1])


async def device_of(conn: asyncpg.Connection, tenant: str, device_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await conn.fetchval(
        "SELECT doc FROM iot_devices WHERE tenant = $1 AND device_id = $2", tenant, device_id
    )
    return doc


async def devices(
    conn: asyncpg.Connection, tenant: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT doc FROM iot_devices WHERE tenant = $1 ORDER BY device_id LIMIT $2 OFFSET $3",
        tenant,
        limit,
        offset,
    )
    return [row[0] for row in rows]


async def count_devices(conn: asyncpg.Connection, tenant: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM iot_devices WHERE tenant = $1", tenant))


async def delete_device(conn: asyncpg.Connection, tenant: str, device_id: str) -> bool:
    status = await conn.execute(
        "DELETE FROM iot_devices WHERE tenant = $1 AND device_id = $2", tenant, device_id
    )
    return bool(status != "DELETE 0")


async def add_dead_letters(conn: asyncpg.Connection, items: Sequence[DeadLetter]) -> None:
    await conn.executemany(
        "INSERT INTO dead_letters (tenant, source, reason, raw, received_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(d.tenant, d.source, d.reason, d.raw, d.received_at) for d in items],
    )


async def dead_letters(
    conn: asyncpg.Connection, tenant: str, limit: int, offset: int
) -> list[DeadLetter]:
    rows = await conn.fetch(
        "SELECT id, tenant, source, reason, raw, received_at FROM dead_letters"
        " WHERE tenant = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
        tenant,
        limit,
        offset,
    )
    return [DeadLetter(r[1], r[2], r[3], r[4], r[5], r[0]) for r in rows]


async def count_dead_letters(conn: asyncpg.Connection, tenant: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM dead_letters WHERE tenant = $1", tenant))


class IotRegistry:
    """The store's IoT provisioning and dead letters (Store protocol), through its pool."""

    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError

    async def put_iot_service(self, tenant: str, service_doc: dict[str, Any], now: str) -> bool:
        async with self.pool.acquire() as conn:
            return await put_service(conn, tenant, service_doc, now)

    async def iot_services(self, tenant: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await services(conn, tenant)

    async def iot_service(self, apikey: str) -> tuple[str, dict[str, Any]] | None:
        async with self.pool.acquire() as conn:
            return await service(conn, apikey)

    async def delete_iot_service(self, tenant: str, apikey: str) -> bool:
        async with self.pool.acquire() as conn:
            return await delete_service(conn, tenant, apikey)

    async def put_iot_devices(
        self, tenant: str, items: Sequence[dict[str, Any]], now: str
    ) -> list[str]:
        async with self.pool.acquire() as conn:
            return await put_devices(conn, tenant, items, now)

    async def iot_device(self, apikey: str, device_id: str) -> tuple[str, dict[str, Any]] | None:
        async with self.pool.acquire() as conn:
            return await device(conn, apikey, device_id)

    async def iot_device_of(self, tenant: str, device_id: str) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn:
            return await device_of(conn, tenant, device_id)

    async def iot_devices(self, tenant: str, limit: int, offset: int) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await devices(conn, tenant, limit, offset)

    async def count_iot_devices(self, tenant: str) -> int:
        async with self.pool.acquire() as conn:
            return await count_devices(conn, tenant)

    async def delete_iot_device(self, tenant: str, device_id: str) -> bool:
        async with self.pool.acquire() as conn:
            return await delete_device(conn, tenant, device_id)

    async def add_dead_letters(self, items: Sequence[DeadLetter]) -> None:
        if items:
            async with self.pool.acquire() as conn:
                await add_dead_letters(conn, items)

    async def dead_letters(self, tenant: str, limit: int, offset: int) -> list[DeadLetter]:
        async with self.pool.acquire() as conn:
            return await dead_letters(conn, tenant, limit, offset)

    async def count_dead_letters(self, tenant: str) -> int:
        async with self.pool.acquire() as conn:
            return await count_dead_letters(conn, tenant)
