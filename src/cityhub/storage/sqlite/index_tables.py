"""The query index tables of the SQLite store, kept in step by the store's own writes.

``entity_types`` (one row per entity type, clause 4.17 type selection) and ``entity_geo``
(one row per GeoProperty instance, clause 4.10: its quadtree cell, bounding box and GeoJSON)
are written in the same transaction as the entity rows they describe, so they can never
disagree with them. They used to be maintained by triggers; those re-parsed every stored
document with JSON1 and called a Python function four times per geometry for its bounding
box, which made a batch upsert 4–5× dearer than the entity rows alone. Here the rows come
from the entity dict the store already holds, and go in through one ``executemany`` per
table.

The attribute value index is kept apart (value_rows.py): every B-tree page a single-entity
commit touches costs a page write to the WAL, and an entity's ~20 value rows sit at ~20
random places (written inline, they took creating one entity from 313 to 647 µs of CPU). A
write only queues the entity for the value indexer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from cityhub.model.attributes import ENTITY_MEMBERS
from cityhub.storage.base import Entity
from cityhub.storage.sql.geo_bounds import bbox
from cityhub.storage.sql.geo_cells import cell_of_box
from cityhub.storage.sqlite import value_rows

_GEO_PROPERTY = "GeoProperty"
_ENTITY_MEMBERS = ENTITY_MEMBERS | {"@context"}


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


class IndexedState(NamedTuple):
    """What the index tables hold for one entity."""

    types: tuple[str, ...]
    geometries: list[tuple[str, dict[str, Any]]]


def indexed_state(entity: Entity) -> IndexedState:
    """The index rows of an entity: its types and its geometries."""
    return IndexedState(tuple(entity["type"]), geo_instances(entity))


def stored_states(
    conn: sqlite3.Connection, tenant: str, entity_ids: Sequence[str]
) -> dict[str, IndexedState]:
    """The index rows of stored entities, from their stored documents (for the entities a
    transaction writes without having read them first)."""
    docs = value_rows.select_by_ids(
        conn, "SELECT id, doc FROM entities", "id", tenant, list(entity_ids)
    )
    return {entity_id: indexed_state(orjson.loads(doc)) for entity_id, doc in docs.items()}


Change = tuple[str, IndexedState | None, IndexedState | None]  # entity id, before, after


def apply(conn: sqlite3.Connection, tenant: str, changes: Iterable[Change]) -> None:
    """Bring the index rows from each entity's previous state (None: it had none) to its
    new one (None: it is gone), touching only the tables whose rows differ. (Callers queue
    every written entity for the value indexer themselves: value_rows.enqueue.)"""
    type_drops: list[tuple[str, str]] = []
    type_rows: list[tuple[str, str, str]] = []
    geo_drops: list[tuple[str, str]] = []
    geo_rows: list[tuple[str, str, str, dict[str, Any]]] = []
    for entity_id, before, after in changes:
        old = before or _NOTHING
        new = after or _NOTHING
        if old.types != new.types:
            if before is not None:
                type_drops.append((tenant, entity_id))
            type_rows.extend((tenant, iri, entity_id) for iri in dict.fromkeys(new.types))
        if old.geometries != new.geometries:
            if before is not None:
                geo_drops.append((tenant, entity_id))
            geo_rows.extend((tenant, entity_id, attr, g) for attr, g in new.geometries)
    if type_drops:
        conn.executemany("DELETE FROM entity_types WHERE tenant = ? AND id = ?", type_drops)
    if type_rows:
        conn.executemany(
            "INSERT OR IGNORE INTO entity_types (tenant, type, id) VALUES (?, ?, ?)", type_rows
        )
    if geo_drops:
        conn.executemany("DELETE FROM entity_geo WHERE tenant = ? AND entity_id = ?", geo_drops)
    if geo_rows:
        _insert_geo(conn, geo_rows)


_NOTHING = IndexedState((), [])


def index_new(conn: sqlite3.Connection, tenant: str, entities: Sequence[Entity]) -> None:
    """Index rows of entities that have none yet (just inserted), and their values queued."""
    apply(conn, tenant, ((e["id"], None, indexed_state(e)) for e in entities))
    value_rows.enqueue(conn, tenant, [e["id"] for e in entities])


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
