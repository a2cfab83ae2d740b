"""The temporal evolution's part of the SQLite store (storage/sqlite/history.py for the
rows, storage/sql/temporal_sql.py for the reads): mixins of the unit of work and the store,
which provide the connection helpers they use."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

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
from cityhub.storage.sql import temporal_sql
from cityhub.storage.sql.compiler import Params
from cityhub.storage.sql.series import SeriesKey, SeriesNumbers
from cityhub.storage.sqlite import history
from cityhub.storage.sqlite.temporal_query_sql import SqliteTemporalDialect

T = TypeVar("T")


class HistoryWrites:
    """Temporal provision inside a write transaction (clauses 5.6.11-5.6.16)."""

    _tenant: str
    series: dict[SeriesKey, int]  # series this transaction made

    def _known_series(self) -> SeriesNumbers:
        raise NotImplementedError

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def temporal_entity(self, entity_id: str) -> TemporalEntityRecord | None:
        tenant = self._tenant
        row = await self._run(
            lambda conn: conn.execute(
                "SELECT id, types, scopes, created_at, modified_at, deleted_at"
                " FROM temporal_entities WHERE tenant = ? AND id = ?",
                (tenant, entity_id),
            ).fetchone()
        )
        return None if row is None else history.entity_record(row)

    async def add_history(self, marks: Sequence[EntityMark], rows: Sequence[HistoryRow]) -> None:
        tenant, known, pending = self._tenant, self._known_series(), self.series
        await self._run(lambda conn: history.record(conn, tenant, marks, rows, known, pending))

    async def delete_history(self, entity_id: str) -> bool:
        tenant = self._tenant
        return await self._run(lambda conn: history.delete_entity_history(conn, tenant, entity_id))

    async def delete_attribute_history(
        self, entity_id: str, attr: str, dataset_id: str | None
    ) -> int:
        tenant = self._tenant
        return await self._run(
            lambda conn: history.delete_attribute_history(conn, tenant, entity_id, attr, dataset_id)
        )

    async def find_instance(self, entity_id: str, attr: str, number: int) -> tuple[str, int] | None:
        tenant = self._tenant
        return await self._run(
            lambda conn: history.find_instance(conn, tenant, entity_id, attr, number)
        )

    async def replace_instance(self, number: int, row: HistoryRow) -> None:
        await self._run(lambda conn: history.replace_instance(conn, number, row))

    async def delete_instance(self, entity_id: str, attr: str, number: int) -> bool:
        tenant = self._tenant
        return await self._run(
            lambda conn: history.delete_instance(conn, tenant, entity_id, attr, number)
        )


class HistoryReads:
    """Temporal consumption (clauses 5.7.3, 5.7.4) and retention, outside transactions."""

    def _inline_reader(self) -> sqlite3.Connection:
        raise NotImplementedError

    async def _on_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def _temporal_dialect(self, tenant: str) -> SqliteTemporalDialect:
        params = Params("sqlite")
        return SqliteTemporalDialect(params.add(tenant), params, tenant)

    async def _read_rows(self, sql: str, values: list[Any]) -> list[Any]:
        def work(conn: sqlite3.Connection) -> list[Any]:
            try:
                return conn.execute(sql, values).fetchall()
            except sqlite3.OperationalError as exc:
                if "user-defined function raised exception" not in str(exc):
                    raise
                raise BadRequestData(f"The query cannot be evaluated: {exc}") from exc

        return await self._on_reader(work)

    async def temporal_entity(self, tenant: str, entity_id: str) -> TemporalEntityRecord | None:
        dialect = self._temporal_dialect(tenant)
        sql = temporal_sql.entity_by_id(entity_id, dialect)
        row = self._inline_reader().execute(sql, dialect.params.values).fetchone()
        return None if row is None else history.entity_record(row)

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
        return await self._on_reader(history.history_tenants)

    async def prune_history(self, tenant: str, before: int) -> int:
        removed = 0
        while True:
            taken = await self._write(lambda conn: history.prune(conn, tenant, before))
            removed += taken
            if taken < history.PRUNE_BATCH:
                return removed

    async def drop_history_before(self, before: int) -> int:
        return 0  # one table: prune_history removes rows
