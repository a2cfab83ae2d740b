"""Temporal evolution rows on SQLite (migration 011): writes inside the caller's
transaction, reads on any connection. The SQL of reads is shared (storage/sql/temporal_sql.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from cityhub.model.history import EntityMark, HistoryRow
from cityhub.query.temporal import stored_micros as micros
from cityhub.storage.base import TemporalEntityRecord, TemporalInstance

_UPSERT_ENTITY = (
    "INSERT INTO temporal_entities (tenant, id, types, scopes, created_at, modified_at,"
    " deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET"
    " types = excluded.types, scopes = excluded.scopes, modified_at = excluded.modified_at,"
    " deleted_at = excluded.deleted_at"
)
_INSERT_INSTANCE = (
    "INSERT INTO attribute_instances (tenant, entity_id, attr, dataset_id, observed_at,"
    " created_at, modified_at, deleted_at, num, str, val, doc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
PRUNE_BATCH = 5_000


def _optional(text: str | None) -> int | None:
    return None if text is None else micros(text)


def instance_row(tenant: str, row: HistoryRow) -> tuple[Any, ...]:
    return (
        tenant,
        row.entity_id,
        row.attr,
        row.dataset_id,
        _optional(row.observed_at),
        micros(row.created_at),
        micros(row.modified_at),
        _optional(row.deleted_at),
        row.number,
        row.text,
        row.value,
        orjson.dumps(row.doc).decode(),
    )


def record(
    conn: sqlite3.Connection, tenant: str, marks: Sequence[EntityMark], rows: Sequence[HistoryRow]
) -> None:
    """Write entity records and instances (inside the caller's transaction)."""
    if marks:
        conn.executemany(
            _UPSERT_ENTITY,
            [
                (
                    tenant,
                    m.entity_id,
                    orjson.dumps(m.types).decode(),
                    orjson.dumps(m.scopes).decode() if m.scopes else None,
                    m.created_at,
                    m.modified_at,
                    m.deleted_at,
                )
                for m in marks
            ],
        )
    if rows:
        conn.executemany(_INSERT_INSTANCE, [instance_row(tenant, row) for row in rows])


def entity_record(row: Sequence[Any]) -> TemporalEntityRecord:
    return TemporalEntityRecord(
        entity_id=row[0],
        types=orjson.loads(row[1]),
        scopes=orjson.loads(row[2]) if row[2] else None,
        created_at=row[3],
        modified_at=row[4],
        deleted_at=row[5],
    )


def instance_of(row: Sequence[Any]) -> TemporalInstance:
    return TemporalInstance(
        entity_id=row[0],
        attr=row[1],
        number=row[2],
        dataset_id=row[3],
        time=row[4],
        created_at=row[5],
        modified_at=row[6],
        deleted_at=row[7],
        doc=orjson.loads(row[8]),
    )


def delete_entity_history(conn: sqlite3.Connection, tenant: str, entity_id: str) -> bool:
    conn.execute(
        "DELETE FROM attribute_instances WHERE tenant = ? AND entity_id = ?", (tenant, entity_id)
    )
    cursor = conn.execute(
        "DELETE FROM temporal_entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
    )
    return cursor.rowcount > 0


def delete_attribute_history(
    conn: sqlite3.Connection, tenant: str, entity_id: str, attr: str, dataset_id: str | None
) -> int:
    """Remove an attribute's instances: one dataset's ('' the default) or, with None, all."""
    sql = "DELETE FROM attribute_instances WHERE tenant = ? AND entity_id = ? AND attr = ?"
    args: tuple[Any, ...] = (tenant, entity_id, attr)
    if dataset_id is not None:
        sql += " AND dataset_id = ?"
        args += (dataset_id,)
    return conn.execute(sql, args).rowcount


def find_instance(
    conn: sqlite3.Connection, tenant: str, entity_id: str, attr: str, number: int
) -> tuple[str, int] | None:
    """(dataset_id, created_at µs) of one instance, or None."""
    row = conn.execute(
        "SELECT dataset_id, created_at FROM attribute_instances WHERE instance = ?"
        " AND tenant = ? AND entity_id = ? AND attr = ?",
        (number, tenant, entity_id, attr),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def replace_instance(conn: sqlite3.Connection, tenant: str, number: int, row: HistoryRow) -> None:
    """New content for an instance, keeping its number and createdAt (clause 5.6.14)."""
    values = instance_row(tenant, row)
    conn.execute(
        "UPDATE attribute_instances SET dataset_id = ?, observed_at = ?, modified_at = ?,"
        " deleted_at = ?, num = ?, str = ?, val = ?, doc = ? WHERE instance = ?",
        (*values[3:5], *values[6:], number),
    )


def delete_instance(
    conn: sqlite3.Connection, tenant: str, entity_id: str, attr: str, number: int
) -> bool:
    cursor = conn.execute(
        "DELETE FROM attribute_instances WHERE instance = ? AND tenant = ? AND entity_id = ?"
        " AND attr = ?",
        (number, tenant, entity_id, attr),
    )
    return cursor.rowcount > 0


def prune(conn: sqlite3.Connection, tenant: str, before: int, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` of the tenant's instances recorded before ``before`` (µs)."""
    return conn.execute(
        "DELETE FROM attribute_instances WHERE instance IN (SELECT instance FROM"
        " attribute_instances WHERE tenant = ? AND created_at < ? ORDER BY created_at"
        " LIMIT ?)",
        (tenant, before, limit),
    ).rowcount


def history_tenants(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT DISTINCT tenant FROM temporal_entities")]
