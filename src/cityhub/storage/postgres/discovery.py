"""Discovery (clauses 5.7.5–5.7.10) in PostgreSQL: entity types and attributes summarised by SQL.

Every function takes a connection and runs its statements in one read-only REPEATABLE READ
transaction, so the figures of one answer come from one snapshot. Names are sorted in Python
by code point, as SQLite sorts them, whatever the database's collation. Attributes are the members
of an entity document whose key is an IRI (holds ":"); each is an array of instances with a
``type``. A type filter goes through the GIN index on ``types`` (``types @> ARRAY[…]``).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from cityhub.storage.base import AttributeDetails, EntityTypeDetails

# One row per attribute instance: (entity, attribute key/value, instance); non-arrays give none.
_INSTANCES = (
    " FROM entities e CROSS JOIN LATERAL jsonb_each(e.doc) a"
    " CROSS JOIN LATERAL jsonb_array_elements("
    "CASE WHEN jsonb_typeof(a.value) = 'array' THEN a.value ELSE '[]'::jsonb END) i"
)


async def entity_types(conn: asyncpg.Connection, tenant: str) -> list[str]:
    """The type IRIs of the tenant's entities, in IRI order."""
    rows = await conn.fetch(
        "SELECT DISTINCT t FROM entities e CROSS JOIN LATERAL unnest(e.types) t"
        " WHERE e.tenant = $1",
        tenant,
    )
    return sorted(row[0] for row in rows)


async def attribute_names(conn: asyncpg.Connection, tenant: str) -> list[str]:
    """The attribute IRIs the tenant's entities hold, in IRI order."""
    rows = await conn.fetch(
        "SELECT DISTINCT a FROM entities e CROSS JOIN LATERAL jsonb_object_keys(e.doc) a"
        " WHERE e.tenant = $1 AND strpos(a, ':') > 0",
        tenant,
    )
    return sorted(row[0] for row in rows)


async def entity_type_details(
    conn: asyncpg.Connection, tenant: str, type_iri: str | None = None
) -> list[EntityTypeDetails]:
    """Per entity type: how many entities have it and which attributes (and attribute
    types) they hold; only ``type_iri`` when given. In type IRI order."""
    only = " AND e.types @> ARRAY[$2::text] AND t = $2" if type_iri is not None else ""
    args: tuple[Any, ...] = (tenant, type_iri) if type_iri is not None else (tenant,)
    counts_sql = (
        "SELECT t, count(*) FROM entities e CROSS JOIN LATERAL unnest(e.types) t"
        f" WHERE e.tenant = $1{only} GROUP BY t"
    )
    attrs_sql = (
        "SELECT DISTINCT t, a.key, i ->> 'type'"
        + _INSTANCES
        + " CROSS JOIN LATERAL unnest(e.types) t"
        + f" WHERE e.tenant = $1 AND strpos(a.key, ':') > 0{only}"
    )
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        counts = await conn.fetch(counts_sql, *args)
        attrs = await conn.fetch(attrs_sql, *args)
    found = {row[0]: EntityTypeDetails(row[0], row[1], {}) for row in counts}
    for type_, attr, kind in attrs:
        kinds = found[type_].attributes.setdefault(attr, [])
        if kind is not None:
            kinds.append(kind)
    result = [found[key] for key in sorted(found)]
    for details in result:
        details.attributes = {a: sorted(details.attributes[a]) for a in sorted(details.attributes)}
    return result


async def attribute_details(
    conn: asyncpg.Connection, tenant: str, attr_iri: str | None = None
) -> list[AttributeDetails]:
    """Per attribute: its instances, their attribute types and the types of the entities
    holding it; only ``attr_iri`` when given. In attribute IRI order."""
    args: tuple[Any, ...] = (tenant, attr_iri) if attr_iri is not None else (tenant,)
    kinds_sql = (
        "SELECT a.key, i ->> 'type', count(*)"
        + _INSTANCES
        + " WHERE e.tenant = $1 AND strpos(a.key, ':') > 0"
        + (" AND e.doc ? $2 AND a.key = $2" if attr_iri is not None else "")
        + " GROUP BY 1, 2"
    )
    types_sql = (
        "SELECT DISTINCT a, t FROM entities e CROSS JOIN LATERAL jsonb_object_keys(e.doc) a"
        " CROSS JOIN LATERAL unnest(e.types) t WHERE e.tenant = $1 AND strpos(a, ':') > 0"
        + (" AND e.doc ? $2 AND a = $2" if attr_iri is not None else "")
    )
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        kinds = await conn.fetch(kinds_sql, *args)
        types = await conn.fetch(types_sql, *args)
    found: dict[str, AttributeDetails] = {}
    for attr, kind, count in kinds:
        details = found.setdefault(attr, AttributeDetails(attr, 0, [], []))
        details.instance_count += count
        if kind is not None:
            details.attribute_types.append(kind)
    for attr, type_ in types:
        if attr in found:
            found[attr].entity_types.append(type_)
    result = [found[key] for key in sorted(found)]
    for details in result:
        details.attribute_types.sort()
        details.entity_types.sort()
    return result
