"""IoT provisioning and dead letters on SQLite (migration 012); each function runs on the
connection it is given, inside the caller's transaction for writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from cityhub.storage.base import DeadLetter

T = TypeVar("T")


def put_service(conn: sqlite3.Connection, tenant: str, service: dict[str, Any], now: str) -> bool:
    cursor = conn.execute(
        "INSERT INTO iot_services (apikey, tenant, doc, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (apikey) DO NOTHING",
        (service["apikey"], tenant, orjson.dumps(service).decode(), now),
    )
    return cursor.rowcount > 0


def services(conn: sqlite3.Connection, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT doc FROM iot_services WHERE tenant = ? ORDER BY apikey", (tenant,)
    ).fetchall()
    return [orjson.loads(row[0]) for row in rows]


def service(conn: sqlite3.Connection, apikey: str) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute(
        "SELECT tenant, doc FROM iot_services WHERE apikey = ?", (apikey,)
    ).fetchone()
    return None if row is None else (row[0], orjson.loads(row[1]))


def delete_service(conn: sqlite3.Connection, tenant: str, apikey: str) -> bool:
    conn.execute("DELETE FROM iot_devices WHERE apikey = ? AND tenant = ?", (apikey, tenant))
    cursor = conn.execute(
        "DELETE FROM iot_services WHERE apikey = ? AND tenant = ?", (apikey, tenant)
    )
    return cursor.rowcount > 0


def put_devices(
    conn: sqlite3.Connection, tenant: str, devices: Sequence[dict[str, Any]], now: str
) -> list[str]:
    """Insert every device, or none: the ids that exist already in the tenant."""
    taken = [
        d["device_id"]
        for d in devices
        if conn.execute(
            "SELECT 1 FROM iot_devices WHERE tenant = ? AND device_id = ?",
            (tenant, d["device_id"]),
        ).fetchone()
    ]
    if not taken:
        conn.executemany(
            "INSERT INTO iot_devices (apikey, device_id, tenant, doc, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(d["apikey"], d["device_id"], tenant, orjson.dumps(d).decode(), now) for d in devices],
        )
    return taken


def device(
    conn: sqlite3.Connection, apikey: str, device_id: str
) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute(
        "SELECT tenant, doc FROM iot_devices WHERE apikey = ? AND device_id = ?",
        (apikey, device_id),
    ).fetchone()
    return None if row is None else (row[0], orjson.loads(row[1]))


def device_of(conn: sqlite3.Connection, tenant: str, device_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM iot_devices WHERE tenant = ? AND device_id = ?", (tenant, device_id)
    ).fetchone()
    return None if row is None else dict(orjson.loads(row[0]))


def devices(conn: sqlite3.Connection, tenant: str, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT doc FROM iot_devices WHERE tenant = ? ORDER BY device_id LIMIT ? OFFSET ?",
        (tenant, limit, offset),
    ).fetchall()
    return [orjson.loads(row[0]) for row in rows]


def count_devices(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute("SELECT count(*) FROM iot_devices WHERE tenant = ?", (tenant,)).fetchone()
    return int(row[0])


def delete_device(conn: sqlite3.Connection, tenant: str, device_id: str) -> bool:
    cursor = conn.execute(
        "DELETE FROM iot_devices WHERE tenant = ? AND device_id = ?", (tenant, device_id)
    )
    return cursor.rowcount > 0


def add_dead_letters(conn: sqlite3.Connection, items: Sequence[DeadLetter]) -> None:
    conn.executemany(
        "INSERT INTO dead_letters (tenant, source, reason, raw, received_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(d.tenant, d.source, d.reason, d.raw, d.received_at) for d in items],
    )


def dead_letters(
    conn: sqlite3.Connection, tenant: str, limit: int, offset: int
) -> list[DeadLetter]:
    rows = conn.execute(
        "SELECT id, tenant, source, reason, raw, received_at FROM dead_letters"
        " WHERE tenant = ? ORDER BY id DESC LIMIT ? OFFSET ?",
        (tenant, limit, offset),
    ).fetchall()
    return [DeadLetter(r[1], r[2], r[3], r[4], r[5], r[0]) for r in rows]


def count_dead_letters(conn: sqlite3.Connection, tenant: str) -> int:
    row = conn.execute("SELECT count(*) FROM dead_letters WHERE tenant = ?", (tenant,)).fetchone()
    return int(row[0])


class IotRegistry:
    """The store's IoT provisioning and dead letters (Store protocol), on its connections."""

    async def _on_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def put_iot_service(self, tenant: str, service: dict[str, Any], now: str) -> bool:
        return await self._write(lambda conn: put_service(conn, tenant, service, now))

    async def iot_services(self, tenant: str) -> list[dict[str, Any]]:
        return await self._on_reader(lambda conn: services(conn, tenant))

    async def iot_service(self, apikey: str) -> tuple[str, dict[str, Any]] | None:
        return await self._on_reader(lambda conn: service(conn, apikey))

    async def delete_iot_service(self, tenant: str, apikey: str) -> bool:
        return await self._write(lambda conn: delete_service(conn, tenant, apikey))

    async def put_iot_devices(
        self, tenant: str, items: Sequence[dict[str, Any]], now: str
    ) -> list[str]:
        return await self._write(lambda conn: put_devices(conn, tenant, items, now))

    async def iot_device(self, apikey: str, device_id: str) -> tuple[str, dict[str, Any]] | None:
        return await self._on_reader(lambda conn: device(conn, apikey, device_id))

    async def iot_device_of(self, tenant: str, device_id: str) -> dict[str, Any] | None:
        return await self._on_reader(lambda conn: device_of(conn, tenant, device_id))

    async def iot_devices(self, tenant: str, limit: int, offset: int) -> list[dict[str, Any]]:
        return await self._on_reader(lambda conn: devices(conn, tenant, limit, offset))

    async def count_iot_devices(self, tenant: str) -> int:
        return await self._on_reader(lambda conn: count_devices(conn, tenant))

    async def delete_iot_device(self, tenant: str, device_id: str) -> bool:
        return await self._write(lambda conn: delete_device(conn, tenant, device_id))

    async def add_dead_letters(self, items: Sequence[DeadLetter]) -> None:
        if items:
            await self._write(lambda conn: add_dead_letters(conn, items))

    async def dead_letters(self, tenant: str, limit: int, offset: int) -> list[DeadLetter]:
        return await self._on_reader(lambda conn: dead_letters(conn, tenant, limit, offset))

    async def count_dead_letters(self, tenant: str) -> int:
        return await self._on_reader(lambda conn: count_dead_letters(conn, tenant))
