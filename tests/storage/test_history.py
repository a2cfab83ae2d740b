"""The temporal evolution follows every write path of the store (model/history.py) and
retention removes what is old, on SQLite and PostgreSQL.

History rows are written in the transaction of the change: the single-statement create,
the unit of work's insert/update/delete, a rolled-back transaction (nothing recorded), and
a store told not to record. Retention deletes by recording time per tenant; PostgreSQL also
drops whole monthly partitions.
"""

from __future__ import annotations

import time

import pytest

from cityhub.events import CREATED, DELETED, UPDATED, ChangeEvent
from cityhub.model.history import changed_rows, instance_number
from cityhub.model.values import now_iso
from cityhub.query.temporal import TemporalQuery, stored_micros
from cityhub.storage.base import Entity, Store
from cityhub.storage.postgres.store import PostgresStore

SPEED = "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed"
NAME = "https://schema.org/name"
TYPE = "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved"
ANYTIME = TemporalQuery(timeproperty="createdAt")
OBSERVED = TemporalQuery(timeproperty="observedAt")


def flow(
    entity_id: str,
    speed: float,
    at: str,
    stamp: str,
    name_stamp: str = "2026-01-01T00:00:00.000000Z",
) -> Entity:
    return {
        "id": entity_id,
        "type": [TYPE],
        "createdAt": "2026-01-01T00:00:00.000000Z",
        "modifiedAt": stamp,
        SPEED: [
            {
                "type": "Property",
                "value": speed,
                "observedAt": at,
                "createdAt": "2026-01-01T00:00:00.000000Z",
                "modifiedAt": stamp,
            }
        ],
        NAME: [
            {
                "type": "Property",
                "value": "Gangnam-daero",
                "createdAt": "2026-01-01T00:00:00.000000Z",
                "modifiedAt": name_stamp,
            }
        ],
    }


async def history(store: Store, entity_id: str, tenant: str = "") -> list[tuple[str, object]]:
    found = await store.temporal_instances(tenant, [entity_id], None, None, ANYTIME, 1000)
    return [(i.attr, i.doc.get("value")) for i in found]


async def test_create_one_records_every_instance(store: Store) -> None:
    doc = flow("urn:ngsi-ld:T:1", 50.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    assert await store.create_one("", doc, ChangeEvent("", CREATED, doc["id"], None, doc))
    assert sorted(await history(store, doc["id"])) == [(NAME, "Gangnam-daero"), (SPEED, 50.0)]
    record = await store.temporal_entity("", doc["id"])
    assert record is not None and record.types == [TYPE] and record.deleted_at is None


async def test_update_records_only_changed_instances_and_delete_keeps_history(
    store: Store,
) -> None:
    first = flow("urn:ngsi-ld:T:2", 50.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    second = flow("urn:ngsi-ld:T:2", 42.5, "2026-01-01T00:15:00Z", "2026-01-01T00:15:00.000000Z")
    async with store.transaction("") as uow:
        await uow.insert([first])
        uow.events.append(ChangeEvent("", CREATED, first["id"], None, first))
    async with store.transaction("") as uow:
        await uow.update([second])
        uow.events.append(ChangeEvent("", UPDATED, first["id"], first, second))
    async with store.transaction("") as uow:
        await uow.delete([first["id"]])
        uow.events.append(ChangeEvent("", DELETED, first["id"], second, None))
    rows = await history(store, first["id"])
    # name recorded once (never changed), speed twice, then a tombstone for each attribute
    assert sorted(rows, key=str) == sorted(
        [
            (NAME, "Gangnam-daero"),
            (SPEED, 50.0),
            (SPEED, 42.5),
            (NAME, "urn:ngsi-ld:null"),
            (SPEED, "urn:ngsi-ld:null"),
        ],
        key=str,
    )
    record = await store.temporal_entity("", first["id"])
    assert record is not None and record.deleted_at is not None


async def test_rolled_back_transaction_records_nothing(store: Store) -> None:
    doc = flow("urn:ngsi-ld:T:3", 1.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    with pytest.raises(RuntimeError):
        async with store.transaction("") as uow:
            await uow.insert([doc])
            uow.events.append(ChangeEvent("", CREATED, doc["id"], None, doc))
            raise RuntimeError("abort")
    assert await store.temporal_entity("", doc["id"]) is None
    assert await history(store, doc["id"]) == []


async def test_store_told_not_to_record_keeps_no_history(store: Store) -> None:
    store.record_history = False
    try:
        doc = flow("urn:ngsi-ld:T:4", 1.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
        await store.create_one("", doc, ChangeEvent("", CREATED, doc["id"], None, doc))
        async with store.transaction("") as uow:
            await uow.delete([doc["id"]])
            uow.events.append(ChangeEvent("", DELETED, doc["id"], doc, None))
    finally:
        store.record_history = True
    assert await store.temporal_entity("", doc["id"]) is None


async def test_prune_removes_only_old_instances_of_its_tenant(store: Store) -> None:
    for tenant in ("", "osaka"):
        for minute, speed in ((0, 10.0), (30, 20.0)):
            stamp = f"2026-01-01T00:{minute:02d}:00.000000Z"
            doc = flow(f"urn:ngsi-ld:T:{minute}", speed, stamp, stamp, stamp)
            async with store.transaction(tenant) as uow:
                await uow.insert([doc])
                uow.events.append(ChangeEvent(tenant, CREATED, doc["id"], None, doc))
    cutoff = stored_micros("2026-01-01T00:10:00Z")
    assert await store.prune_history("", cutoff) == 2  # speed and name of T:0
    assert await history(store, "urn:ngsi-ld:T:0") == []
    assert len(await history(store, "urn:ngsi-ld:T:30")) == 2
    assert len(await history(store, "urn:ngsi-ld:T:0", "osaka")) == 2
    assert sorted(await store.history_tenants()) == ["", "osaka"]


async def test_postgres_drops_whole_months_of_history(store: Store) -> None:
    if not isinstance(store, PostgresStore):
        pytest.skip("partitions are PostgreSQL's")
    now = now_iso()  # recorded now: this month's partition, not the default one
    doc = flow("urn:ngsi-ld:T:5", 1.0, "2026-01-01T00:00:00Z", now, now)
    await store.create_one("", doc, ChangeEvent("", CREATED, doc["id"], None, doc))
    assert await history(store, doc["id"])
    # Nothing ends before the epoch; every partition ends before a time far ahead.
    assert await store.drop_history_before(0) == 0
    far = int((time.time() + 400 * 86_400) * 1_000_000)
    assert await store.drop_history_before(far) >= 1
    assert await history(store, doc["id"]) == []
    # The next write makes this month's partition again.
    again = flow("urn:ngsi-ld:T:6", 2.0, "2026-01-01T00:00:00Z", now, now)
    await store.create_one("", again, ChangeEvent("", CREATED, again["id"], None, again))
    assert await history(store, again["id"])


def test_changed_rows_tombstones_a_removed_dataset_instance() -> None:
    before = flow("urn:ngsi-ld:T:7", 1.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    before[SPEED].append(
        {
            "type": "Property",
            "value": 3.0,
            "datasetId": "urn:ngsi-ld:Dataset:radar",
            "modifiedAt": "x",
        }
    )
    after = {**before, SPEED: before[SPEED][:1]}
    rows = changed_rows(before, after, "2026-01-02T00:00:00Z")
    assert [(r.attr, r.dataset_id, r.deleted_at) for r in rows] == [
        (SPEED, "urn:ngsi-ld:Dataset:radar", "2026-01-02T00:00:00Z")
    ]


def test_instance_number_reads_only_this_hubs_instance_ids() -> None:
    assert instance_number("urn:ngsi-ld:Instance:42") == 42
    assert instance_number("urn:ngsi-ld:Instance:x") is None
    assert instance_number("urn:uuid:1") is None


async def test_series_made_by_a_rolled_back_transaction_are_not_remembered(store: Store) -> None:
    doomed = flow("urn:ngsi-ld:T:8", 1.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    with pytest.raises(RuntimeError):
        async with store.transaction("") as uow:
            await uow.insert([doomed])
            uow.events.append(ChangeEvent("", CREATED, doomed["id"], None, doomed))
            await uow.add_history([], changed_rows(None, doomed, "2026-01-01T00:00:00Z"))
            raise RuntimeError("abort")
    # Another entity takes the numbers the rolled-back series had; then the first comes.
    other = flow("urn:ngsi-ld:T:9", 2.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    for doc in (other, doomed):
        async with store.transaction("") as uow:
            await uow.insert([doc])
            uow.events.append(ChangeEvent("", CREATED, doc["id"], None, doc))
    assert sorted(await history(store, doomed["id"])) == [(NAME, "Gangnam-daero"), (SPEED, 1.0)]
    assert sorted(await history(store, other["id"])) == [(NAME, "Gangnam-daero"), (SPEED, 2.0)]


async def test_series_stored_but_not_remembered_are_found_again(store: Store) -> None:
    """A store that has forgotten the series numbers it knew (another worker made them, or
    its bounded map was cleared) finds an entity's stored series and adds only the missing
    ones: an entity deleted and created again with one attribute more keeps one series per
    attribute, holding the instances of both lives, and a second entity's stay its own."""
    first = flow("urn:ngsi-ld:T:10", 1.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    second = flow("urn:ngsi-ld:T:11", 2.0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z")
    for doc in (first, second):
        assert await store.create_one("", doc, ChangeEvent("", CREATED, doc["id"], None, doc))
    async with store.transaction("") as uow:
        assert await uow.delete([first["id"]]) == [first["id"]]
        uow.events.append(ChangeEvent("", DELETED, first["id"], first, None))
    store.series.known.clear()  # type: ignore[attr-defined]
    again = flow("urn:ngsi-ld:T:10", 3.0, "2026-01-02T00:00:00Z", "2026-01-02T00:00:00.000000Z")
    again["https://schema.org/description"] = [
        {
            "type": "Property",
            "value": "again",
            "createdAt": again["createdAt"],
            "modifiedAt": again["modifiedAt"],
        }
    ]
    assert await store.create_one("", again, ChangeEvent("", CREATED, again["id"], None, again))
    values = await history(store, first["id"])
    # the first life's value, its deletion's tombstone, the second life's value
    assert sorted(str(v) for a, v in values if a == SPEED) == ["1.0", "3.0", "urn:ngsi-ld:null"]
    assert [v for a, v in values if a == "https://schema.org/description"] == ["again"]
    assert sorted(await history(store, second["id"])) == [(NAME, "Gangnam-daero"), (SPEED, 2.0)]


async def test_a_large_transactions_history_is_recorded_whole(store: Store) -> None:
    """A transaction recording many instances at once (a batch; PostgreSQL copies 64 or
    more in with COPY) records every one with its value, observedAt and series."""
    docs = [
        flow(
            f"urn:ngsi-ld:T:big{i}", float(i), f"2026-01-01T00:{i:02d}:00Z", "2026-01-01T00:00:00Z"
        )
        for i in range(40)
    ]
    async with store.transaction("") as uow:
        assert await uow.insert(docs) == []
        uow.events.extend(ChangeEvent("", CREATED, d["id"], None, d) for d in docs)
    found = await store.temporal_instances("", [d["id"] for d in docs], None, None, ANYTIME, 1000)
    assert len(found) == 80
    speeds = {
        i.entity_id: (i.doc.get("value"), i.doc.get("observedAt")) for i in found if i.attr == SPEED
    }
    assert speeds == {
        f"urn:ngsi-ld:T:big{i}": (float(i), f"2026-01-01T00:{i:02d}:00Z") for i in range(40)
    }
    assert {i.doc.get("value") for i in found if i.attr == NAME} == {"Gangnam-daero"}
    # The columns, not only the documents: each instance's time columns as recorded.
    observed = await store.temporal_instances(
        "", [d["id"] for d in docs], frozenset({SPEED}), None, OBSERVED, 1000
    )
    assert sorted((i.entity_id, i.time) for i in observed) == sorted(
        (f"urn:ngsi-ld:T:big{i}", stored_micros(f"2026-01-01T00:{i:02d}:00Z")) for i in range(40)
    )
    created = stored_micros("2026-01-01T00:00:00Z")
    assert {(i.created_at, i.modified_at, i.deleted_at, i.dataset_id) for i in found} == {
        (created, created, None, "")
    }
