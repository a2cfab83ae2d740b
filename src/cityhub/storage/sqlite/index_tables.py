"""The query index tables of the SQLite store, kept in step by the store's own writes.

``entity_types`` (one row per entity type, clause 4.17 type selection) and ``entity_geo``
(one row per GeoProperty instance, clause 4.10: its quadtree cell, bounding box and GeoJSON)
are written in the same transaction as the entity rows they describe, so they can never
disagree with them. They used to be maintained by triggers; those re-parsed every stored
document with JSON1 and called a Python function four times per geometry for its bounding
box, which made a batch upsert 4–5× dearer than the entity rows alone. Here the rows come
from the entity dict the store already holds, and go in through one ``executemany`` per
table.

There is no string index: every extra B-tree a single-entity commit touches costs a page
write to the WAL, and an entity_strings table with its entity index doubled the cost of
creating one entity (270 → 600 µs). String equality prefilters on the document text instead
(query_sql.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from cityhub.storage.base import Entity
from cityhub.storage.sql.geo_bounds import bbox
from cityhub.storage.sql.geo_cells import cell_of_box

_GEO_PROPERTY = "GeoProperty"
_ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "@context"})


def geo_instances(entity: Entity) -> list[tuple[str, dict[str, Any]]]:
    """(attribute IRI, GeoJSON geometry) of every GeoProperty instance of the entity."""
    found = []
    for name, instances in entity.items():
        if name in _ENTITY_MEMBERS or not isinstance(instances, list):
            continue
        for instance in instances:
            if isinstance(instance, dict) and instance.get("type") == _GEO_PROPERTY:
                value = instance.get("value")
                if isinstance(value, dict):
                    found.append((name, value))
    return found


IndexedState = tuple[tuple[str, ...], list[tuple[str, dict[str, Any]]]]


def indexed_state(entity: Entity) -> IndexedState:
    """What the index tables hold for an entity: its types and its geometries."""
    return tuple(entity["type"]), geo_instances(entity)


def index_new(conn: sqlite3.Connection, tenant: str, entities: Iterable[Entity]) -> None:
    """Index rows of entities that have none yet (just inserted)."""
    type_rows: list[tuple[str, str, str]] = []
    geo_rows: list[tuple[str, str, str, dict[str, Any]]] = []
    for entity in entities:
        entity_id = entity["id"]
        type_rows.extend((tenant, iri, entity_id) for iri in dict.fromkeys(entity["type"]))
        geo_rows.extend(
            (tenant, entity_id, attr, geometry) for attr, geometry in geo_instances(entity)
        )
    if type_rows:
        conn.executemany(
            "INSERT OR IGNORE INTO entity_types (tenant, type, id) VALUES (?, ?, ?)", type_rows
        )
    if geo_rows:
        _insert_geo(conn, geo_rows)


def _insert_geo(
    conn: sqlite3.Connection, rows: Sequence[tuple[str, str, str, dict[str, Any]]]
) -> None:
    values = []
    for tenant, entity_id, attr, geometry in rows:
        minx, miny, maxx, maxy = bbox(geometry)
        cell = cell_of_box(minx, miny, maxx, maxy)
        geojson = orjson.dumps(geometry).decode()
        values.append((tenant, attr, cell, minx, miny, maxx, maxy, entity_id, geojson))
    conn.executemany(
        "INSERT INTO entity_geo (tenant, attr, cell, minx, miny, maxx, maxy, entity_id, geojson)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )


def unindex(conn: sqlite3.Connection, tenant: str, entity_ids: Sequence[str]) -> None:
    """Drop the index rows of the given entities (deleted, or about to be re-indexed)."""
    keys = [(tenant, entity_id) for entity_id in entity_ids]
    conn.executemany("DELETE FROM entity_types WHERE tenant = ? AND id = ?", keys)
    conn.executemany("DELETE FROM entity_geo WHERE tenant = ? AND entity_id = ?", keys)


def reindex(conn: sqlite3.Connection, tenant: str, entities: Sequence[Entity]) -> None:
    """Replace the index rows of updated entities (the last version of a repeated id)."""
    latest = {entity["id"]: entity for entity in entities}
    unindex(conn, tenant, list(latest))
    index_new(conn, tenant, latest.values())
