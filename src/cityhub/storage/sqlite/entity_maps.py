"""EntityMaps (clause 5.14) kept in the store, so that every worker pages through the same
map (Store protocol), on SQLite's one writer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class EntityMapRegistry:
    async def _on_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def put_entity_map(
        self, tenant: str, map_id: str, expires_at: float, doc: str, now: float
    ) -> None:
        def put(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM entity_maps WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO entity_maps (tenant, id, expires_at, doc) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (tenant, id) DO UPDATE"
                " SET expires_at = excluded.expires_at, doc = excluded.doc",
                (tenant, map_id, expires_at, doc),
            )

        await self._write(put)

    async def get_entity_map(self, tenant: str, map_id: str, now: float) -> str | None:
        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT doc FROM entity_maps WHERE tenant = ? AND id = ? AND expires_at > ?",
                (tenant, map_id, now),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._on_reader(get)

    async def delete_entity_map(self, tenant: str, map_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM entity_maps WHERE tenant = ? AND id = ?", (tenant, map_id)
            )
            return cursor.rowcount > 0

        return await self._write(delete)
