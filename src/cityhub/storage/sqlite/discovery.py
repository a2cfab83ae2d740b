"""Discovery (clauses 5.7.5–5.7.10) in SQLite: entity types and attributes summarised by SQL.

Every function takes a reader connection and runs its statements in one read transaction, so
the figures of one answer come from one snapshot. Attributes are the members of an entity
document whose key is an IRI (holds ":"); each is an array of instances with a ``type``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from cityhub.storage.base import AttributeDetails, EntityTypeDetails

T = TypeVar("T")

# One row per attribute instance: (entity, attribute key/value, instance); non-arrays give none.
_INSTANCES = (
    " FROM entities e, json_each(e.doc) a,"
    " json_each(CASE WHEN a.type = 'array' THEN a.value ELSE '[]' END) i"
)
_ATTRIBUTE = " WHERE e.tenant = ? AND instr(a.key, ':') > 0"


def _snapshot(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    conn.execute("BEGIN")
    try:
        return fn()
    finally:
        conn.execute("COMMIT")  # read-only: nothing to undo, only the snapshot to release


def entity_types(conn: sqlite3.Connection, tenant: str) -> list[str]:
    """The type IRIs of the tenant's entities, in IRI order."""
    rows = conn.execute(
        "SELECT DISTINCT t.value FROM entities e, json_each(e.types) t"
        " WHERE e.tenant = ? ORDER BY 1",
        (tenant,),
    ).fetchall()
    return [row[0] for row in rows]


def attribute_names(conn: sqlite3.Connection, tenant: str) -> list[str]:
    """The attribute IRIs the tenant's entities hold, in IRI order."""
    rows = conn.execute(
        "SELECT DISTINCT a.key FROM entities e, json_each(e.doc) a"
        " WHERE e.tenant = ? AND instr(a.key, ':') > 0 ORDER BY 1",
        (tenant,),
    ).fetchall()
    return [row[0] for row in rows]


def entity_type_details(
    conn: sqlite3.Connection, tenant: str, type_iri: str | None = None
) -> list[EntityTypeDetails]:
    """Per entity type: how many entities have it and which attributes (and attribute
    types) they hold; only ``type_iri`` when given. In type IRI order."""
    only = " AND t.value = ?" if type_iri is not None else ""
    params: tuple[Any, ...] = (tenant, type_iri) if type_iri is not None else (tenant,)
    counts_sql = (
        "SELECT t.value, count(*) FROM entities e, json_each(e.types) t"
        f" WHERE e.tenant = ?{only} GROUP BY t.value ORDER BY t.value"
    )
    attrs_sql = (
        "SELECT DISTINCT t.value, a.key, json_extract(i.value, '$.type')"
        + _INSTANCES
        + ", json_each(e.types) t"
        + _ATTRIBUTE
        + only
        + " ORDER BY 1, 2, 3"
    )

    def work() -> list[EntityTypeDetails]:
        found = {
            row[0]: EntityTypeDetails(row[0], row[1], {})
            for row in conn.execute(counts_sql, params)
        }
        for type_, attr, kind in conn.execute(attrs_sql, params):
            kinds = found[type_].attributes.setdefault(attr, [])
            if kind is not None:
                kinds.append(kind)
        return list(found.values())

    return _snapshot(conn, work)


def attribute_details(
    conn: sqlite3.Connection, tenant: str, attr_iri: str | None = None
) -> list[AttributeDetails]:
    """Per attribute: its instances, their attribute types and the types of the entities
    holding it; only ``attr_iri`` when given. In attribute IRI order."""
    only = " AND a.key = ?" if attr_iri is not None else ""
    params: tuple[Any, ...] = (tenant, attr_iri) if attr_iri is not None else (tenant,)
    kinds_sql = (
        "SELECT a.key, json_extract(i.value, '$.type'), count(*)"
        + _INSTANCES
        + _ATTRIBUTE
        + only
        + " GROUP BY 1, 2 ORDER BY 1, 2"
    )
    types_sql = (
        "SELECT DISTINCT a.key, t.value FROM entities e, json_each(e.doc) a, json_each(e.types) t"
        f" WHERE e.tenant = ? AND instr(a.key, ':') > 0{only} ORDER BY 1, 2"
    )

    def work() -> list[AttributeDetails]:
        found: dict[str, AttributeDetails] = {}
        for attr, kind, count in conn.execute(kinds_sql, params):
            details = found.setdefault(attr, AttributeDetails(attr, 0, [], []))
            details.instance_count += count
            if kind is not None:
                details.attribute_types.append(kind)
        for attr, type_ in conn.execute(types_sql, params):
            if attr in found:
                found[attr].entity_types.append(type_)
        return list(found.values())

    return _snapshot(conn, work)
