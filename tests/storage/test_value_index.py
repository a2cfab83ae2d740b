"""The attribute value index follows every write path (storage/sql/value_index.py).

A q comparison on a top-level attribute (clause 4.9) only checks the entities the value
index names: a number or string the index lacks makes its entity vanish from the answer.
These tests write through each path of the Store / UnitOfWork contract and then ask the
store's own query for the old and the new values, over every place a target element can
sit (Property values and their arrays, languageMap texts, relationship objects, list
items, several datasetId instances), with each tenant's index apart.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import orjson
import pytest

from cityhub.events import CREATED, ChangeEvent
from cityhub.query.ast import And, Compare, EntityQuery, Expr, Path, Range, Uri
from cityhub.storage.base import DEFAULT_TENANT, Entity, Store
from cityhub.storage.sqlite.store import SqliteStore

T0 = "2024-05-01T00:00:00.000Z"
VOCAB = "https://smartdatamodels.org/dataModel.Parking/"
TYPE = VOCAB + "OffStreetParking"
FREE = VOCAB + "availableSpotNumber"
NAME = "https://schema.org/name"
STATUS = VOCAB + "status"
OWNER = VOCAB + "owner"
SENSORS = VOCAB + "refDevices"
READINGS = VOCAB + "readings"


def entity(entity_id: str, **attrs: list[dict[str, Any]]) -> Entity:
    doc: Entity = {"id": entity_id, "type": [TYPE], "createdAt": T0, "modifiedAt": T0}
    for key, instances in attrs.items():
        doc[{"free": FREE, "name": NAME, "status": STATUS, "owner": OWNER}.get(key, key)] = (
            instances
        )
    return doc


def prop(value: Any, **more: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, **more}]


def where(attr: str, op: str, value: Any) -> EntityQuery:
    return EntityQuery(q=Compare(Path((attr,)), op, value), limit=100)


async def ids_of(store: Store, query: EntityQuery, tenant: str = DEFAULT_TENANT) -> list[str]:
    """The answer, asked with the writes still queued for the index (SQLite) and again
    after the indexer took them: both must be the same."""
    answers = []
    for _ in range(2):
        result = await store.query_entities(tenant, query, count=True)
        assert result.total == len(result.entities)
        answers.append(sorted(e["id"] for e in result.entities))
        if isinstance(store, SqliteStore):
            await store.index_values()
    assert answers[0] == answers[1]
    return answers[0]


def sqlite_rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    assert isinstance(store, SqliteStore)
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_inserted_numbers_answer_every_comparison(store: Store, entity_id: str) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(42))])
    for op, value in [("==", 42), ("==", 42.0), (">=", 42), ("<=", 42), (">", 41.5), ("<", 43)]:
        assert await ids_of(store, where(FREE, op, value)) == [entity_id], (op, value)
    assert await ids_of(store, where(FREE, "==", Range(40, 50))) == [entity_id]
    assert await ids_of(store, where(FREE, "==", (1, 42, 99))) == [entity_id]
    for op, value in [("==", 41), (">", 42), ("<", 42), ("==", Range(43, 50))]:
        assert await ids_of(store, where(FREE, op, value)) == [], (op, value)


async def test_inserted_strings_are_found_in_every_place_a_value_can_sit(
    store: Store, entity_id: str
) -> None:
    doc = entity(
        entity_id,
        name=[{"type": "LanguageProperty", "languageMap": {"ja": "渋谷", "en": ["Shibuya", "S"]}}],
        status=prop(["open", "staffed"]),
        owner=[{"type": "Relationship", "object": "urn:ngsi-ld:Org:1"}],
        **{
            SENSORS: [
                {
                    "type": "ListRelationship",
                    "objectList": [
                        {"object": "urn:ngsi-ld:Dev:1"},
                        {"object": "urn:ngsi-ld:Dev:2"},
                    ],
                }
            ],
            READINGS: [{"type": "ListProperty", "valueList": [7, "high"]}],
        },
    )
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([doc])
    for attr, value in [
        (NAME, "渋谷"),
        (NAME, "Shibuya"),
        (NAME, "S"),
        (STATUS, "staffed"),
        (OWNER, Uri("urn:ngsi-ld:Org:1")),
        (SENSORS, Uri("urn:ngsi-ld:Dev:2")),
        (READINGS, "high"),
        (READINGS, 7),
    ]:
        assert await ids_of(store, where(attr, "==", value)) == [entity_id], (attr, value)
    assert await ids_of(store, where(NAME, "==", "Shinjuku")) == []
    assert await ids_of(store, where(STATUS, "==", "closed")) == []


async def test_create_one_indexes_the_values(store: Store, entity_id: str) -> None:
    event = ChangeEvent(DEFAULT_TENANT, CREATED, entity_id, None, None)
    assert await store.create_one(DEFAULT_TENANT, entity(entity_id, free=prop(3)), event)
    assert await ids_of(store, where(FREE, "==", 3)) == [entity_id]


@pytest.mark.parametrize("read_first", [True, False], ids=["read-then-update", "blind-update"])
async def test_update_moves_the_entity_to_its_new_values(
    store: Store, entity_id: str, read_first: bool
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(10), name=prop("Gate A"))])
    async with store.transaction(DEFAULT_TENANT) as uow:
        if read_first:
            assert await uow.get(entity_id) is not None
        await uow.update([entity(entity_id, free=prop(20), name=prop("Gate B"))])
    assert await ids_of(store, where(FREE, "==", 10)) == []
    assert await ids_of(store, where(FREE, "==", 20)) == [entity_id]
    assert await ids_of(store, where(FREE, "<=", 15)) == []
    assert await ids_of(store, where(NAME, "==", "Gate A")) == []
    assert await ids_of(store, where(NAME, "==", "Gate B")) == [entity_id]


async def test_repeated_updates_in_one_transaction_index_the_last_version(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(1))])
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.update([entity(entity_id, free=prop(2))])
        await uow.update([entity(entity_id, free=prop(3)), entity(entity_id, free=prop(4))])
    for old in (1, 2, 3):
        assert await ids_of(store, where(FREE, "==", old)) == []
    assert await ids_of(store, where(FREE, "==", 4)) == [entity_id]


async def test_insert_then_update_in_one_transaction(store: Store, entity_id: str) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(1))])
        await uow.update([entity(entity_id, free=prop(2))])
    assert await ids_of(store, where(FREE, "==", 1)) == []
    assert await ids_of(store, where(FREE, "==", 2)) == [entity_id]


async def test_each_dataset_instance_is_indexed_and_dropped_alone(
    store: Store, entity_id: str
) -> None:
    both = [
        {"type": "Property", "value": 5, "datasetId": "urn:ds:a"},
        {"type": "Property", "value": 9, "datasetId": "urn:ds:b"},
    ]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=both)])
    assert await ids_of(store, where(FREE, "==", 5)) == [entity_id]
    assert await ids_of(store, where(FREE, "==", 9)) == [entity_id]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.get(entity_id)
        await uow.update([entity(entity_id, free=both[1:])])
    assert await ids_of(store, where(FREE, "==", 5)) == []
    assert await ids_of(store, where(FREE, "==", 9)) == [entity_id]


async def test_one_value_in_two_attributes_survives_losing_one(
    store: Store, entity_id: str
) -> None:
    """Rows are per (attribute, value): dropping one attribute keeps the other's."""
    total = VOCAB + "totalSpotNumber"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(30), **{total: prop(30)})])
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.update([entity(entity_id, **{total: prop(30)})])
    assert await ids_of(store, where(FREE, "==", 30)) == []
    assert await ids_of(store, where(total, "==", 30)) == [entity_id]


@pytest.mark.parametrize("read_first", [True, False], ids=["read-then-delete", "blind-delete"])
async def test_deleted_entities_leave_value_answers(
    store: Store, entity_id: str, read_first: bool
) -> None:
    other = entity_id + ":other"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(7)), entity(other, free=prop(7))])
    async with store.transaction(DEFAULT_TENANT) as uow:
        if read_first:
            await uow.get(entity_id)
        assert await uow.delete([entity_id]) == [entity_id]
    assert await ids_of(store, where(FREE, "==", 7)) == [other]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(8))])  # the id again, a new value
    assert await ids_of(store, where(FREE, "==", 7)) == [other]
    assert await ids_of(store, where(FREE, "==", 8)) == [entity_id]


async def test_a_rolled_back_update_keeps_the_old_values(store: Store, entity_id: str) -> None:
    class Boom(Exception):
        pass

    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(1))])
    with pytest.raises(Boom):
        async with store.transaction(DEFAULT_TENANT) as uow:
            await uow.get(entity_id)
            await uow.update([entity(entity_id, free=prop(2))])
            raise Boom
    assert await ids_of(store, where(FREE, "==", 1)) == [entity_id]
    assert await ids_of(store, where(FREE, "==", 2)) == []


async def test_tenants_have_their_own_index(store: Store, entity_id: str) -> None:
    async with store.transaction("city-a") as uow:
        await uow.insert([entity(entity_id, free=prop(11), name=prop("North"))])
    async with store.transaction("city-b") as uow:
        await uow.insert([entity(entity_id, free=prop(12), name=prop("South"))])
    assert await ids_of(store, where(FREE, "==", 11), "city-a") == [entity_id]
    assert await ids_of(store, where(FREE, "==", 11), "city-b") == []
    assert await ids_of(store, where(NAME, "==", "South"), "city-b") == [entity_id]
    assert await ids_of(store, where(NAME, "==", "South"), "city-a") == []


async def test_large_integers_and_fractions_keep_their_order(store: Store, entity_id: str) -> None:
    """Bounds and values are doubles in the index: rounding must never lose a match."""
    big = 2**53 + 1
    rows = [(entity_id + ":big", big), (entity_id + ":frac", 0.1 + 0.2)]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(i, free=prop(v)) for i, v in rows])
    assert await ids_of(store, where(FREE, ">", 2**53)) == [entity_id + ":big"]
    assert await ids_of(store, where(FREE, "==", big)) == [entity_id + ":big"]
    assert await ids_of(store, where(FREE, "==", 2**53)) == []
    assert await ids_of(store, where(FREE, "==", Range(0.3, 1))) == [entity_id + ":frac"]
    assert await ids_of(store, where(FREE, "<=", 0.3)) == []


async def test_value_filters_combine_with_other_conditions(store: Store, entity_id: str) -> None:
    rows = [(entity_id + f":{n}", n) for n in range(10)]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(i, free=prop(v), name=prop(f"P{v % 2}")) for i, v in rows])
    q: Expr = And((Compare(Path((FREE,)), ">=", 4), Compare(Path((NAME,)), "==", "P1")))
    assert await ids_of(store, EntityQuery(q=q, limit=100)) == [
        entity_id + ":5",
        entity_id + ":7",
        entity_id + ":9",
    ]


async def test_sqlite_index_keeps_no_rows_of_gone_values(store: Store, entity_id: str) -> None:
    """Stale rows would not change answers (the exact check decides) but would pile up:
    after updates and a delete the indexer leaves exactly the live values' rows."""
    if not isinstance(store, SqliteStore):
        pytest.skip("the SQLite index's own tables")
    other = entity_id + ":other"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert(
            [entity(entity_id, free=prop(1), name=prop("A")), entity(other, free=prop(5))]
        )
    await store.index_values()
    for n in range(2, 5):
        async with store.transaction(DEFAULT_TENANT) as uow:
            await uow.update([entity(entity_id, free=prop(n), name=prop(f"A{n}"))])
        await store.index_values()
    assert sqlite_rows(store, "SELECT value, entity_id FROM entity_numbers ORDER BY value") == [
        (4.0, entity_id),
        (5.0, other),
    ]
    assert sqlite_rows(store, "SELECT count(*) FROM entity_strings") == [(1,)]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.delete([entity_id])
    await store.index_values()
    assert sqlite_rows(store, "SELECT entity_id FROM entity_numbers") == [(other,)]
    assert sqlite_rows(store, "SELECT count(*) FROM entity_strings") == [(0,)]
    assert sqlite_rows(store, "SELECT entity_id FROM entity_value_keys") == [(other,)]
    assert sqlite_rows(store, "SELECT count(*) FROM value_index_pending") == [(0,)]


async def test_sqlite_writes_are_indexed_without_being_asked(store: Store, entity_id: str) -> None:
    """The store drains the queue by itself shortly after a write."""
    if not isinstance(store, SqliteStore):
        pytest.skip("the SQLite index's own queue")
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, free=prop(1))])
    for _ in range(200):
        if sqlite_rows(store, "SELECT count(*) FROM value_index_pending") == [(0,)]:
            break
        await asyncio.sleep(0.01)
    assert sqlite_rows(store, "SELECT entity_id FROM entity_numbers") == [(entity_id,)]


async def test_postgres_migration_fills_the_value_columns_of_stored_rows(
    pg_store: Any,
) -> None:
    """Rows stored before migration 009 get their value columns in it, so value filters
    find them."""
    import os
    import uuid

    import asyncpg

    from cityhub.storage.migrations import bundled_migrations
    from cityhub.storage.postgres.store import PostgresStore

    if pg_store is None:
        pytest.skip("PostgreSQL is not reachable")
    admin_url = os.environ.get(
        "CITYHUB_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"cityhub_test_mig_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rpartition("/")[0] + "/" + name
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "CREATE TABLE schema_migrations"
                " (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            for migration, sql in bundled_migrations("postgres"):
                if migration >= "009":
                    break
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", migration)
            await conn.execute("INSERT INTO tenants (name) VALUES ('')")
            doc = entity("urn:ngsi-ld:P:old", free=prop(17), name=prop("Old Gate"))
            await conn.execute(
                "INSERT INTO entities (tenant, id, types, created_at, modified_at, doc)"
                " VALUES ('', $1, $2, $3, $3, $4::jsonb)",
                doc["id"],
                doc["type"],
                T0,
                orjson.dumps(doc).decode(),
            )
        finally:
            await conn.close()
        store = PostgresStore(url, pool_size=2)
        await store.open()
        try:
            applied = await store.migrate()
            assert applied[0].startswith("009_")
            assert await ids_of(store, where(FREE, "==", Range(10, 20))) == ["urn:ngsi-ld:P:old"]
            assert await ids_of(store, where(NAME, "==", "Old Gate")) == ["urn:ngsi-ld:P:old"]
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
