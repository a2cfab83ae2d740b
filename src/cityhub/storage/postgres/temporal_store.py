"""The temporal evolution's part of the PostgreSQL store (storage/postgres/history.py for
the rows, storage/sql/temporal_sql.py for the reads): mixins of the unit of work and the
store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from cityhub.errors import BadRequestData
from cityhub.model.history import (
    AggregateRow,
    EntityMark,
    HistoryRow,
    TemporalEntityRecord,
    TemporalInstance,
)
from cityhub.query.ast import EntityQuery
from cityhub.query.temporal import TemporalQuery
from cityhub.storage.postgres import history
from cityhub.storage.postgres.temporal_query_sql import PostgresTemporalDialect
from cityhub.storage.sql import temporal_sql
from cityhub.storage.sql.compiler import Params
from cityhub.storage.sql.series import SeriesKey, SeriesNumbers

_SERIES_OF = "SELECT id FROM temporal_series WHERE tenant = $1 AND entity_id = $2 AND attr = $3"


class HistoryWrites:
    """Temporal provision inside a write transaction (clauses 5.6.11-5.6.16)."""

    _conn: asyncpg.Connection
    _tenant: str
    _known_series: SeriesNumbers
    series: dict[SeriesKey, int]  # series this transaction made

    async def temporal_entity(self, entity_id: str) -> TemporalEntityRecord | None:
        row = await self._conn.fetchrow(
            "SELECT id, types, scopes, created_at, modified_at, deleted_at"
            " FROM temporal_entities WHERE tenant = $1 AND id = $2 FOR UPDATE",
            self._tenant,
            entity_id,
        )
        return None if row is None else history.entity_record(row)

    async def add_history(self, marks: Sequence[EntityMark], rows: Sequence[HistoryRow]) -> None:
        await history.record(self._conn, self._tenant, marks, rows, self._known_series, self.series)

    async def delete_history(self, entity_id: str) -> bool:
        await self._conn.execute(
            "DELETE FROM attribute_instances WHERE series IN (SELECT id FROM temporal_series"
            " WHERE tenant = $1 AND entity_id = $2)",
            self._tenant,
            entity_id,
        )
        status = await self._conn.execute(
            "DELETE FROM temporal_entities WHERE tenant = $1 AND id = $2", self._tenant, entity_id
        )
        return bool(status != "DELETE 0")

    async def delete_attribute_history(
        self, entity_id: str, attr: str, dataset_id: str | None
    ) -> int:
        sql = f"DELETE FROM attribute_instances WHERE series = ({_SERIES_OF})"
        args: list[Any] = [self._tenant, entity_id, attr]
        if dataset_id is not None:
            sql += " AND dataset_id = $4"
            args.append(dataset_id)
        status = await self._conn.execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1])

    async def find_instance(self, entity_id: str, attr: str, number: int) -> tuple[str, int] | None:
        row = await self._conn.fetchrow(
            "SELECT dataset_id, created_at FROM attribute_instances"
            f" WHERE series = ({_SERIES_OF}) AND instance = $4 FOR UPDATE",
            self._tenant,
            entity_id,
            attr,
            number,
        )
        return None if row is None else (row[0], row[1])

    async def replace_instance(self, number: int, row: HistoryRow) -> None:
        columns = [column[0] for column in history.row_columns([row])]
        await self._conn.execute(
            "UPDATE attribute_instances SET dataset_id = $2, observed_at = $3,"
            " modified_at = $4, deleted_at = $5, num = $6, str = $7, val = $8, doc = $9"
            " WHERE instance = $1",
            number,
            columns[0],
            columns[1],
            *columns[3:],
        )

    async def delete_instance(self, entity_id: str, attr: str, number: int) -> bool:
        status = await self._conn.execute(
            f"DELETE FROM attribute_instances WHERE series = ({_SERIES_OF}) AND instance = $4",
            self._tenant,
            entity_id,
            attr,
            number,
        )
        return bool(status != "DELETE 0")


class HistoryReads:
    """Temporal consumption (clauses 5.7.3, 5.7.4) and retention, outside transactions."""

    _partitions: set[str]

    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError

    def _temporal_dialect(self, tenant: str) -> PostgresTemporalDialect:
        params = Params("postgres")
        return PostgresTemporalDialect(params, params.add(tenant), tenant)

    async def _read_rows(self, sql: str, values: Sequence[Any]) -> list[asyncpg.Record]:
        try:
            rows: list[asyncpg.Record] = await self.pool.fetch(sql, *values)
        except asyncpg.DataError as exc:
            raise BadRequestData(f"The query cannot be evaluated: {exc}") from exc
        return rows

    async def temporal_entity(self, tenant: str, entity_id: str) -> TemporalEntityRecord | None:
        dialect = self._temporal_dialect(tenant)
        sql = temporal_sql.entity_by_id(entity_id, dialect)
        rows = await self._read_rows(sql, dialect.params.values)
        return history.entity_record(rows[0]) if rows else None

    async def temporal_page(
        self, tenant: str, query: EntityQuery, tq: TemporalQuery, *, count: bool = False
    ) -> tuple[list[TemporalEntityRecord], int | None, bool]:
        dialect = self._temporal_dialect(tenant)
        page, counting, counted = temporal_sql.entity_page(query, tq, dialect)
        values = dialect.params.values
        rows = await self._read_rows(page, values) if query.limit > 0 else []
        total = None
        if count:
            total = (await self._read_rows(counting, values[:counted]))[0][0]
        records = [history.entity_record(row) for row in rows[: query.limit]]
        return records, total, len(rows) > query.limit

    async def temporal_instances(
        self,
        tenant: str,
        entity_ids: Sequence[str],
        attrs: frozenset[str] | None,
        datasets: frozenset[str] | None,
        tq: TemporalQuery,
        per_attribute: int,
    ) -> list[TemporalInstance]:
        if not entity_ids:
            return []
        dialect = self._temporal_dialect(tenant)
        sql = temporal_sql.instances(entity_ids, attrs, datasets, tq, per_attribute, dialect)
        rows = await self._read_rows(sql, dialect.params.values)
        return [history.instance_of(row) for row in rows]

    async def temporal_span(
        self,
        tenant: str,
        entity_ids: Sequence[str],
        attrs: frozenset[str] | None,
        tq: TemporalQuery,
    ) -> tuple[int | None, int | None]:
        dialect = self._temporal_dialect(tenant)
        sql = temporal_sql.time_span(entity_ids, attrs, tq, dialect)
        row = (await self._read_rows(sql, dialect.params.values))[0]
        return row[0], row[1]

    async def temporal_aggregates(
        self,
        tenant: str,
        entity_ids: Sequence[str],
        attrs: frozenset[str] | None,
        datasets: frozenset[str] | None,
        tq: TemporalQuery,
        origin: int | None,
        period_micros: int | None,
        bounds: Sequence[int] | None,
    ) -> list[AggregateRow]:
        if not entity_ids:
            return []
        dialect = self._temporal_dialect(tenant)
        sql = temporal_sql.aggregates(
            entity_ids, attrs, datasets, tq, origin, period_micros, bounds, dialect
        )
        rows = await self._read_rows(sql, dialect.params.values)
        return [AggregateRow(*row) for row in rows]

    async def history_tenants(self) -> list[str]:
        rows = await self.pool.fetch("SELECT DISTINCT tenant FROM temporal_entities")
        return [row[0] for row in rows]

    async def prune_history(self, tenant: str, before: int) -> int:
        removed = 0
        while True:
            status = await self.pool.execute(
                "WITH doomed AS (SELECT tableoid, ctid FROM attribute_instances"
                " WHERE created_at < $2 AND series IN (SELECT id FROM temporal_series"
                " WHERE tenant = $1) LIMIT $3)"
                " DELETE FROM attribute_instances a USING doomed d"
                " WHERE a.tableoid = d.tableoid AND a.ctid = d.ctid",
                tenant,
                before,
                history.PRUNE_BATCH,
            )
            taken = int(status.rsplit(" ", 1)[-1])
            removed += taken
            if taken < history.PRUNE_BATCH:
                return removed

    async def drop_history_before(self, before: int) -> int:
        async with self.pool.acquire() as conn:
            dropped = await history.drop_partitions_before(conn, before)
        if dropped:
            self._partitions.clear()  # made again by the next write that needs one
        return dropped
