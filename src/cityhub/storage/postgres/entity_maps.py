"""EntityMaps (clause 5.14) kept in the store, so that every worker pages through the same
map (Store protocol), through the pool."""

from __future__ import annotations

import asyncpg


class EntityMapRegistry:
    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError

    async def put_entity_map(
        self, tenant: str, map_id: str, expires_at: float, doc: str, now: float
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM entity_maps WHERE expires_at <= $1", now)
            await conn.execute(
                "INSERT INTO entity_maps (tenant, id, expires_at, doc) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (tenant, id) DO UPDATE"
                " SET expires_at = excluded.expires_at, doc = excluded.doc",
                tenant,
                map_id,
                expires_at,
                doc,
            )

    async def get_entity_map(self, tenant: str, map_id: str, now: float) -> str | None:
        doc = await self.pool.fetchval(
            "SELECT doc FROM entity_maps WHERE tenant = $1 AND id = $2 AND expires_at > $3",
            tenant,
            map_id,
            now,
        )
        return None if doc is None else str(doc)

    async def delete_entity_map(self, tenant: str, map_id: str) -> bool:
        status = await self.pool.execute(
            "DELETE FROM entity_maps WHERE tenant = $1 AND id = $2", tenant, map_id
        )
        return bool(status.endswith(" 1"))
