"""The store's query index (entity types and GeoProperty geometries) follows every write path.

Type and geo selections (clauses 4.17, 4.10) are answered from index tables the stores keep
beside the entity rows. These tests write through each path of the Store / UnitOfWork
contract and then ask the store's own query, so an index row that is missing, stale or
duplicated shows up as a wrong answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cityhub.events import CREATED, ChangeEvent
from cityhub.query.ast import EntityQuery, GeoQuery, TypeName
from cityhub.storage.base import DEFAULT_TENANT, Entity, Store

T0 = "2024-05-01T00:00:00.000Z"
NGSI = "https://uri.etsi.org/ngsi-ld/"
LOCATION = NGSI + "location"
PARKING = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"
STATION = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
SEOUL = (126.9780, 37.5665)
TOKYO = (139.6917, 35.6895)


def point(lon_lat: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(lon_lat)}


def entity(
    entity_id: str, types: list[str], where: tuple[float, float] | None, **attrs: Any
) -> Entity:
    doc: Entity = {"id": entity_id, "type": types, "createdAt": T0, "modifiedAt": T0}
    if where is not None:
        doc[LOCATION] = [{"type": "GeoProperty", "value": point(where)}]
    doc.update(attrs)
    return doc


async def ids_of(store: Store, query: EntityQuery) -> list[str]:
    result = await store.query_entities(DEFAULT_TENANT, query, count=True)
    assert result.total == len(result.entities)
    return sorted(e["id"] for e in result.entities)


def near(lon_lat: tuple[float, float]) -> EntityQuery:
    geo = GeoQuery("near", point(lon_lat), geoproperty=LOCATION, max_distance=1000.0)
    return EntityQuery(geo=geo, limit=100)


def of_type(iri: str) -> EntityQuery:
    return EntityQuery(types=TypeName(iri), limit=100)


async def test_inserted_entities_are_found_by_type_and_geometry(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING, STATION], SEOUL)])
    assert await ids_of(store, of_type(PARKING)) == [entity_id]
    assert await ids_of(store, of_type(STATION)) == [entity_id]
    assert await ids_of(store, near(SEOUL)) == [entity_id]
    assert await ids_of(store, near(TOKYO)) == []


async def test_create_one_indexes_the_entity(store: Store, entity_id: str) -> None:
    event = ChangeEvent(DEFAULT_TENANT, CREATED, entity_id, None, None)
    assert await store.create_one(DEFAULT_TENANT, entity(entity_id, [PARKING], TOKYO), event)
    assert not await store.create_one(DEFAULT_TENANT, entity(entity_id, [STATION], SEOUL), event)
    assert await ids_of(store, of_type(PARKING)) == [entity_id]
    assert await ids_of(store, of_type(STATION)) == []
    assert await ids_of(store, near(TOKYO)) == [entity_id]
    assert await ids_of(store, near(SEOUL)) == []


@pytest.mark.parametrize("read_first", [True, False], ids=["read-then-update", "blind-update"])
async def test_update_moves_the_entity_to_its_new_types_and_place(
    store: Store, entity_id: str, read_first: bool
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING], SEOUL)])
    async with store.transaction(DEFAULT_TENANT) as uow:
        if read_first:
            assert await uow.get(entity_id) is not None
        await uow.update([entity(entity_id, [STATION], TOKYO)])
    assert await ids_of(store, of_type(PARKING)) == []
    assert await ids_of(store, of_type(STATION)) == [entity_id]
    assert await ids_of(store, near(SEOUL)) == []
    assert await ids_of(store, near(TOKYO)) == [entity_id]


async def test_update_that_keeps_types_and_place_keeps_one_index_row_each(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING], SEOUL)])
    for n in range(3):
        async with store.transaction(DEFAULT_TENANT) as uow:
            found = await uow.get(entity_id)
            assert found is not None
            found[NGSI + "availableSpotNumber"] = [{"type": "Property", "value": n}]
            await uow.update([found])
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.update([entity(entity_id, [PARKING], SEOUL)])  # blind, same index rows
    assert await ids_of(store, of_type(PARKING)) == [entity_id]
    assert await ids_of(store, near(SEOUL)) == [entity_id]


async def test_update_of_one_id_twice_in_a_call_indexes_the_last_version(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING], SEOUL)])
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.update([entity(entity_id, [STATION], TOKYO), entity(entity_id, [STATION], SEOUL)])
    assert await ids_of(store, near(TOKYO)) == []
    assert await ids_of(store, near(SEOUL)) == [entity_id]
    assert await ids_of(store, of_type(STATION)) == [entity_id]


async def test_removing_the_geoproperty_removes_the_entity_from_geo_answers(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING], SEOUL)])
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.get(entity_id)
        await uow.update([entity(entity_id, [PARKING], None)])
    assert await ids_of(store, near(SEOUL)) == []
    assert await ids_of(store, of_type(PARKING)) == [entity_id]


async def test_several_geoproperty_instances_are_each_indexed(store: Store, entity_id: str) -> None:
    instances = [
        {"type": "GeoProperty", "value": point(SEOUL), "datasetId": "urn:ds:seoul"},
        {"type": "GeoProperty", "value": point(TOKYO), "datasetId": "urn:ds:tokyo"},
    ]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING], None, **{LOCATION: instances})])
    assert await ids_of(store, near(SEOUL)) == [entity_id]
    assert await ids_of(store, near(TOKYO)) == [entity_id]


async def test_deleted_entities_leave_type_and_geo_answers(store: Store, entity_id: str) -> None:
    other = entity_id + ":other"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id, [PARKING], SEOUL), entity(other, [PARKING], SEOUL)])
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.delete([entity_id]) == [entity_id]
    assert await ids_of(store, of_type(PARKING)) == [other]
    assert await ids_of(store, near(SEOUL)) == [other]


async def test_a_rolled_back_insert_leaves_no_index_rows(store: Store, entity_id: str) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.transaction(DEFAULT_TENANT) as uow:
            await uow.insert([entity(entity_id, [PARKING], SEOUL)])
            raise Boom
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(entity_id + ":kept", [STATION], TOKYO)])
    assert await ids_of(store, of_type(PARKING)) == []
    assert await ids_of(store, near(SEOUL)) == []
    assert await ids_of(store, near(TOKYO)) == [entity_id + ":kept"]


async def test_sqlite_migration_keeps_geometries_indexed_under_triggers(tmp_path: Any) -> None:
    """Entities written while triggers kept the R*Tree (migrations 003–005) are still found
    by type, place and name after migration 006 moved indexing into the store (and 009 added
    the string index)."""
    import sqlite3

    from cityhub.storage.migrations import bundled_migrations
    from cityhub.storage.sqlite.functions import register
    from cityhub.storage.sqlite.store import SqliteStore, _entity_row, _statements

    path = tmp_path / "triggers.db"
    conn = sqlite3.connect(path, isolation_level=None)
    register(conn)
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    later = []
    for name, sql in bundled_migrations("sqlite"):
        if name >= "006":
            later.append(name)
            continue
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, T0))
    conn.execute("INSERT INTO tenants VALUES (?, ?)", (DEFAULT_TENANT, T0))
    rows = [
        _entity_row(
            DEFAULT_TENANT,
            entity("urn:ngsi-ld:P:seoul", [PARKING], SEOUL, **language(ko="시청", en="City Hall")),
        ),
        _entity_row(DEFAULT_TENANT, entity("urn:ngsi-ld:S:tokyo", [STATION], TOKYO)),
    ]
    conn.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    store = SqliteStore(f"sqlite:///{path}")
    await store.open()
    try:
        assert await store.migrate() == later
        assert await ids_of(store, near(SEOUL)) == ["urn:ngsi-ld:P:seoul"]
        assert await ids_of(store, near(TOKYO)) == ["urn:ngsi-ld:S:tokyo"]
        assert await ids_of(store, of_type(STATION)) == ["urn:ngsi-ld:S:tokyo"]
        assert await ids_of(store, named("시청")) == ["urn:ngsi-ld:P:seoul"]
        await store.index_values()  # migration 010 queued the stored entities
        assert await ids_of(store, named("시청")) == ["urn:ngsi-ld:P:seoul"]
        assert await ids_of(store, named("City Hall")) == ["urn:ngsi-ld:P:seoul"]
        async with store.transaction(DEFAULT_TENANT) as uow:
            await uow.delete(["urn:ngsi-ld:P:seoul"])
        assert await ids_of(store, near(SEOUL)) == []
    finally:
        await store.close()


NAME = "https://smartdatamodels.org/name"
REF = "https://smartdatamodels.org/refParkingSite"


def named(text: str) -> EntityQuery:
    from cityhub.query.q import parse_q

    return EntityQuery(q=parse_q(f'{NAME}=="{text}"'), limit=100)


def prop(value: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value}]


def language(**texts: str) -> dict[str, Any]:
    return {NAME: [{"type": "LanguageProperty", "languageMap": texts}]}


async def test_string_equality_follows_inserts_updates_and_deletes(
    store: Store, entity_id: str
) -> None:
    event = ChangeEvent(DEFAULT_TENANT, CREATED, entity_id, None, None)
    created = entity(entity_id, [PARKING], None, **language(ko="강남역", en="Gangnam Station"))
    assert await store.create_one(DEFAULT_TENANT, created, event)
    other = entity_id + ":2"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity(other, [PARKING], None, **{NAME: prop("Gangnam Station")})])
    assert await ids_of(store, named("Gangnam Station")) == sorted([entity_id, other])
    assert await ids_of(store, named("강남역")) == [entity_id]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.get(entity_id)
        await uow.update([entity(entity_id, [PARKING], None, **language(en="Yeoksam"))])
    assert await ids_of(store, named("Gangnam Station")) == [other]
    assert await ids_of(store, named("강남역")) == []
    assert await ids_of(store, named("Yeoksam")) == [entity_id]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.delete([other])
    assert await ids_of(store, named("Gangnam Station")) == []


async def test_string_equality_matches_relationship_objects_and_list_elements(
    store: Store, entity_id: str
) -> None:
    from cityhub.query.q import parse_q

    doc = entity(
        entity_id,
        [PARKING],
        None,
        **{
            REF: [{"type": "Relationship", "object": "urn:ngsi-ld:ParkingSite:1"}],
            NAME: prop(["north gate", "south gate"]),
        },
    )
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([doc])
    by_ref = EntityQuery(q=parse_q(f"{REF}==urn:ngsi-ld:ParkingSite:1"), limit=10)
    assert await ids_of(store, by_ref) == [entity_id]
    assert await ids_of(store, named("south gate")) == [entity_id]
    assert await ids_of(store, named("gate")) == []


async def test_concurrent_geo_queries_with_one_query_geometry_all_answer(store: Store) -> None:
    """Several reader threads check geometries against the same (cached, prepared) query
    geometry at once; each must answer, and answer alike (a prepared geometry shared by
    threads once crashed the SQLite hub under concurrent within-queries)."""
    lon, lat = TOKYO
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert(
            [
                entity(
                    f"urn:ngsi-ld:P:grid:{i}",
                    [PARKING],
                    (lon + (i % 30) * 1e-3, lat + (i // 30) * 1e-3),
                )
                for i in range(900)
            ]
        )
    ring = [
        [lon - 1e-4, lat - 1e-4],
        [lon + 0.0151, lat - 1e-4],
        [lon + 0.0151, lat + 0.0151],
        [lon - 1e-4, lat + 0.0151],
        [lon - 1e-4, lat - 1e-4],
    ]
    geo = GeoQuery("within", {"type": "Polygon", "coordinates": [ring]}, geoproperty=LOCATION)
    query = EntityQuery(geo=geo, limit=1000)
    results = await asyncio.gather(
        *(store.query_entities(DEFAULT_TENANT, query) for _ in range(24))
    )
    counts = {len(result.entities) for result in results}
    assert counts == {16 * 16}
