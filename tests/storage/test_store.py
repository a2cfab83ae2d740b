"""The Store / UnitOfWork contract (storage/base.py), run on SQLite and on PostgreSQL.

Every test talks to a real, migrated, empty store (the ``store`` fixture) and checks what a
caller of the protocol sees: ids returned, documents read back, tenants, events, isolation.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from cityhub.events import CREATED, DELETED, UPDATED, ChangeEvent
from cityhub.storage.base import DEFAULT_TENANT, ContextRecord, Entity, Store

T0 = "2024-05-01T00:00:00.000Z"
T1 = "2024-05-02T00:00:00.000Z"
NGSI = "https://uri.etsi.org/ngsi-ld/"


def make_entity(entity_id: str, **attrs: Any) -> Entity:
    """An entity in the hub's internal expanded form, as services hand it to the store."""
    entity: Entity = {
        "id": entity_id,
        "type": ["https://smartdatamodels.org/dataModel.Parking/OffStreetParking"],
        "createdAt": T0,
        "modifiedAt": T0,
    }
    entity.update(attrs)
    return entity


def prop(value: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value}]


class Recorder:
    """An event listener that also reads what the store shows when the events arrive."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches: list[list[ChangeEvent]] = []
        self.seen: list[Entity | None] = []

    async def __call__(self, events: list[ChangeEvent]) -> None:
        self.batches.append(events)
        for event in events:
            self.seen.append(await self.store.get_entity(event.tenant, event.entity_id))

    @property
    def events(self) -> list[ChangeEvent]:
        return [event for batch in self.batches for event in batch]


@pytest.fixture
def recorder(store: Store) -> Any:
    listener = Recorder(store)
    store.events.subscribe(listener)
    yield listener
    store.events.unsubscribe(listener)


class Boom(Exception):
    pass


# --- UnitOfWork: insert / get / update / delete ------------------------------------------


async def test_insert_returns_ids_that_existed_and_keeps_the_stored_document(
    store: Store, entity_id: str
) -> None:
    original = make_entity(entity_id, **{NGSI + "name": prop("first")})
    other = make_entity(entity_id + ":b")
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.insert([original]) == []
    async with store.transaction(DEFAULT_TENANT) as uow:
        clash = make_entity(entity_id, **{NGSI + "name": prop("second")})
        assert await uow.insert([clash, other]) == [entity_id]
    assert await store.get_entity(DEFAULT_TENANT, entity_id) == original
    assert await store.get_entity(DEFAULT_TENANT, other["id"]) == other


async def test_insert_reports_duplicates_within_one_call(store: Store, entity_id: str) -> None:
    first = make_entity(entity_id, **{NGSI + "n": prop(1)})
    second = make_entity(entity_id, **{NGSI + "n": prop(2)})
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.insert([first, second]) == [entity_id]
    assert await store.get_entity(DEFAULT_TENANT, entity_id) == first


async def test_unit_of_work_sees_its_own_inserts_and_deletes_of_ids_it_found_missing(
    store: Store, entity_id: str
) -> None:
    first = make_entity(entity_id, **{NGSI + "n": prop(1)})
    second = make_entity(entity_id, **{NGSI + "n": prop(2)})
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.get_many([entity_id]) == {}
        assert await uow.insert([first]) == []
        assert await uow.insert([second]) == [entity_id]
        assert await uow.get(entity_id) == first
        assert await uow.delete([entity_id]) == [entity_id]
        assert await uow.insert([second]) == []
        assert await uow.insert([first]) == [entity_id]
    assert await store.get_entity(DEFAULT_TENANT, entity_id) == second


async def test_insert_with_empty_list_returns_empty(store: Store) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.insert([]) == []
        assert await uow.get_many([]) == {}
        assert await uow.delete([]) == []
        await uow.update([])


async def test_unit_of_work_get_returns_entity_or_none(store: Store, entity_id: str) -> None:
    entity = make_entity(entity_id, **{NGSI + "n": prop(1)})
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity])
        assert await uow.get(entity_id) == entity  # own uncommitted write is visible
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.get(entity_id) == entity
        assert await uow.get(entity_id + ":missing") is None


async def test_unit_of_work_get_many_returns_only_existing(store: Store, entity_id: str) -> None:
    entities = [make_entity(f"{entity_id}:{i}", **{NGSI + "n": prop(i)}) for i in range(3)]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert(entities)
    wanted = [f"{entity_id}:2", f"{entity_id}:missing", f"{entity_id}:0", f"{entity_id}:2"]
    async with store.transaction(DEFAULT_TENANT) as uow:
        found = await uow.get_many(wanted)
    assert found == {entities[0]["id"]: entities[0], entities[2]["id"]: entities[2]}


async def test_unit_of_work_get_many_reads_more_ids_than_one_statement_binds(
    store: Store, entity_id: str
) -> None:
    entities = [make_entity(f"{entity_id}:{i:04}") for i in range(1200)]
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.insert(entities) == []
    async with store.transaction(DEFAULT_TENANT) as uow:
        found = await uow.get_many([e["id"] for e in entities])
    assert found == {e["id"]: e for e in entities}


async def test_unit_of_work_update_stores_new_state(store: Store, entity_id: str) -> None:
    entity = make_entity(entity_id, **{NGSI + "n": prop(1)}, scope=["/Madrid"])
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity])
    async with store.transaction(DEFAULT_TENANT) as uow:
        current = await uow.get(entity_id)
        assert current is not None
        new = copy.deepcopy(current)
        new[NGSI + "n"] = prop(2)
        new["type"] = [*new["type"], "https://example.org/Extra"]
        del new["scope"]
        new["modifiedAt"] = T1
        await uow.update([new])
    assert await store.get_entity(DEFAULT_TENANT, entity_id) == new


async def test_unit_of_work_update_of_missing_entity_creates_nothing(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.update([make_entity(entity_id)])
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is None


async def test_unit_of_work_delete_returns_deleted_ids(store: Store, entity_id: str) -> None:
    ids = [f"{entity_id}:{i}" for i in range(3)]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(i) for i in ids])
    async with store.transaction(DEFAULT_TENANT) as uow:
        deleted = await uow.delete([ids[2], f"{entity_id}:missing", ids[0]])
    assert deleted == [ids[2], ids[0]]
    assert await store.get_entity(DEFAULT_TENANT, ids[0]) is None
    assert await store.get_entity(DEFAULT_TENANT, ids[1]) is not None
    assert await store.get_entity(DEFAULT_TENANT, ids[2]) is None


async def test_get_entity_returns_none_when_missing(store: Store, entity_id: str) -> None:
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is None


# --- transactions: rollback, visibility, events -------------------------------------------


async def test_transaction_rolls_back_everything_when_block_raises(
    store: Store, entity_id: str, recorder: Recorder
) -> None:
    kept = make_entity(entity_id + ":kept", **{NGSI + "n": prop(1)})
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([kept])
    recorder.batches.clear()

    with pytest.raises(Boom):
        async with store.transaction("rollback-city") as uow:
            await uow.insert([make_entity(entity_id)])
            uow.events.append(ChangeEvent("rollback-city", CREATED, entity_id, None, {}))
            raise Boom
    with pytest.raises(Boom):
        async with store.transaction(DEFAULT_TENANT) as uow:
            changed = copy.deepcopy(kept)
            changed[NGSI + "n"] = prop(2)
            await uow.update([changed])
            await uow.insert([make_entity(entity_id + ":new")])
            assert await uow.delete([entity_id + ":kept"]) == [entity_id + ":kept"]
            uow.events.append(ChangeEvent(DEFAULT_TENANT, UPDATED, kept["id"], kept, changed))
            raise Boom

    assert await store.get_entity("rollback-city", entity_id) is None
    assert not await store.tenant_exists("rollback-city")
    assert "rollback-city" not in await store.tenants()
    assert await store.get_entity(DEFAULT_TENANT, kept["id"]) == kept
    assert await store.get_entity(DEFAULT_TENANT, entity_id + ":new") is None
    assert recorder.events == []


async def test_transaction_is_usable_again_after_a_rollback(store: Store, entity_id: str) -> None:
    for _ in range(3):
        with pytest.raises(Boom):
            async with store.transaction(DEFAULT_TENANT) as uow:
                await uow.insert([make_entity(entity_id)])
                raise Boom
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.insert([make_entity(entity_id)]) == []
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is not None


async def test_transaction_rolls_back_when_its_task_is_cancelled(
    store: Store, entity_id: str, recorder: Recorder
) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with store.transaction("cancelled-city") as uow:
            await uow.insert([make_entity(entity_id)])
            uow.events.append(ChangeEvent("cancelled-city", CREATED, entity_id, None, {}))
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await store.get_entity("cancelled-city", entity_id) is None
    assert not await store.tenant_exists("cancelled-city")
    async with store.transaction("cancelled-city") as uow:  # the write lock was released
        assert await uow.insert([make_entity(entity_id)]) == []
    assert await store.get_entity("cancelled-city", entity_id) is not None
    assert recorder.events == []


async def test_transaction_cancelled_while_waiting_for_a_lock_leaves_no_lock_behind(
    store: Store, entity_id: str
) -> None:
    """A request cancelled while another worker holds the lock must not keep the lock later."""
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(entity_id)])
    other = _second_store(store)
    await other.open()
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with other.transaction(DEFAULT_TENANT) as uow:
            await uow.get(entity_id)
            holding.set()
            await release.wait()

    async def wait_for_lock() -> None:
        async with store.transaction(DEFAULT_TENANT) as uow:
            await uow.get(entity_id)
            await uow.insert([make_entity(entity_id + ":from-cancelled")])

    try:
        holder = asyncio.create_task(hold())
        await holding.wait()
        waiter = asyncio.create_task(wait_for_lock())
        await asyncio.sleep(0.2)  # let the waiter reach the lock; the checks below hold anyway
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        await holder
        async with asyncio.timeout(10):  # a leaked lock would block these for the busy timeout
            async with other.transaction(DEFAULT_TENANT) as uow:
                assert await uow.insert([make_entity(entity_id + ":other")]) == []
            async with store.transaction(DEFAULT_TENANT) as uow:
                assert await uow.insert([make_entity(entity_id + ":store")]) == []
    finally:
        await other.close()
    assert await store.get_entity(DEFAULT_TENANT, entity_id + ":from-cancelled") is None
    assert await store.get_entity(DEFAULT_TENANT, entity_id + ":other") is not None


async def test_pool_rolls_back_a_connection_released_inside_a_transaction(store: Store) -> None:
    """A pooled connection left in a transaction (a cancelled COMMIT) is clean when reused."""
    from cityhub.storage.postgres.store import PostgresStore

    if not isinstance(store, PostgresStore):
        pytest.skip("connection pool of the PostgreSQL store")
    async with store.pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO tenants (name) VALUES ('leaked')")
    held = [await store.pool.acquire() for _ in range(store.pool_size)]
    try:
        assert [conn.is_in_transaction() for conn in held] == [False] * len(held)
    finally:
        for conn in held:
            await store.pool.release(conn)
    assert not await store.tenant_exists("leaked")
    async with store.transaction("fresh") as uow:
        await uow.insert([make_entity("urn:ngsi-ld:T:1")])
    assert await store.tenants() == ["fresh"]


async def test_transaction_writes_are_invisible_to_readers_until_commit(
    store: Store, entity_id: str
) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(entity_id)])
        assert await store.get_entity(DEFAULT_TENANT, entity_id) is None
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is not None


async def test_events_are_published_after_commit_in_order(
    store: Store, entity_id: str, recorder: Recorder
) -> None:
    a = make_entity(entity_id + ":a", **{NGSI + "n": prop(1)})
    b = make_entity(entity_id + ":b")
    a2 = {**a, NGSI + "n": prop(2), "modifiedAt": T1}
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([a, b])
        uow.events.append(ChangeEvent(DEFAULT_TENANT, CREATED, a["id"], None, a))
        uow.events.append(ChangeEvent(DEFAULT_TENANT, CREATED, b["id"], None, b))
        assert recorder.events == []  # nothing is published inside the transaction
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.update([a2])
        uow.events.append(ChangeEvent(DEFAULT_TENANT, UPDATED, a["id"], a, a2))
        assert len(recorder.events) == 2
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.delete([b["id"]])
        uow.events.append(ChangeEvent(DEFAULT_TENANT, DELETED, b["id"], b, None))

    assert [(e.kind, e.entity_id) for e in recorder.events] == [
        (CREATED, a["id"]),
        (CREATED, b["id"]),
        (UPDATED, a["id"]),
        (DELETED, b["id"]),
    ]
    assert [len(batch) for batch in recorder.batches] == [2, 1, 1]
    # Each listener ran after the commit: it already read the committed state.
    assert recorder.seen == [a, b, a2, None]


async def test_events_are_published_when_a_listener_fails(
    store: Store, entity_id: str, recorder: Recorder
) -> None:
    async def failing(events: list[ChangeEvent]) -> None:
        raise RuntimeError("listener bug")

    store.events.subscribe(failing)
    try:
        async with store.transaction(DEFAULT_TENANT) as uow:
            await uow.insert([make_entity(entity_id)])
            uow.events.append(ChangeEvent(DEFAULT_TENANT, CREATED, entity_id, None, {}))
    finally:
        store.events.unsubscribe(failing)
    assert [e.entity_id for e in recorder.events] == [entity_id]
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is not None


# --- tenants --------------------------------------------------------------------------


async def test_tenants_keep_entities_with_the_same_id_apart(store: Store, entity_id: str) -> None:
    seoul = make_entity(entity_id, **{NGSI + "city": prop("서울")})
    tokyo = make_entity(entity_id, **{NGSI + "city": prop("東京")})
    async with store.transaction("seoul") as uow:
        assert await uow.insert([seoul]) == []
    async with store.transaction("tokyo") as uow:
        assert await uow.insert([tokyo]) == []
        assert await uow.get(entity_id) == tokyo
    assert await store.get_entity("seoul", entity_id) == seoul
    assert await store.get_entity("tokyo", entity_id) == tokyo
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is None

    async with store.transaction("seoul") as uow:
        assert await uow.delete([entity_id]) == [entity_id]
    assert await store.get_entity("seoul", entity_id) is None
    assert await store.get_entity("tokyo", entity_id) == tokyo


async def test_tenant_exists_after_first_committed_write(store: Store, entity_id: str) -> None:
    assert not await store.tenant_exists("busan")
    assert await store.tenants() == []
    async with store.transaction("busan") as uow:
        await uow.insert([make_entity(entity_id)])
    async with store.transaction("osaka") as uow:
        await uow.insert([make_entity(entity_id)])
    async with store.transaction("busan") as uow:
        await uow.insert([make_entity(entity_id + ":2")])
    assert await store.tenant_exists("busan")
    assert await store.tenant_exists("osaka")
    assert not await store.tenant_exists("shanghai")
    assert await store.tenants() == ["busan", "osaka"]


async def test_tenant_created_by_one_store_is_seen_by_another(store: Store, entity_id: str) -> None:
    """A second worker process (a second Store on the same database) sees new tenants."""
    other = _second_store(store)
    await other.open()
    try:
        assert not await other.tenant_exists("kyoto")
        async with store.transaction("kyoto") as uow:
            await uow.insert([make_entity(entity_id)])
        assert await other.tenant_exists("kyoto")
        assert await other.get_entity("kyoto", entity_id) is not None
    finally:
        await other.close()


def _second_store(store: Store) -> Store:
    from cityhub.storage.postgres.store import PostgresStore
    from cityhub.storage.sqlite.store import SqliteStore

    if isinstance(store, PostgresStore):
        return PostgresStore(store.url, pool_size=2)
    assert isinstance(store, SqliteStore)
    return SqliteStore(f"sqlite:///{store.path}", readers=1)


# --- @context registry ----------------------------------------------------------------


def _context(local_id: str, kind: str, created_at: str, **body: Any) -> ContextRecord:
    return ContextRecord(
        local_id=local_id,
        url=f"http://127.0.0.1/ngsi-ld/v1/jsonldContexts/{local_id}",
        kind=kind,
        body={"@context": body or {"name": "https://schema.org/name"}},
        created_at=created_at,
    )


async def test_context_registry_put_and_get_by_id_and_url(store: Store) -> None:
    record = _context("ctx1", "hosted", T0, 名前="https://example.org/名前")
    await store.put_context(record)
    assert await store.get_context("ctx1") == record
    assert await store.get_context_by_url(record.url) == record
    assert await store.get_context("nope") is None
    assert await store.get_context_by_url("http://127.0.0.1/nope") is None


async def test_context_registry_put_replaces_body_and_keeps_usage(store: Store) -> None:
    await store.put_context(_context("ctx1", "cached", T0))
    await store.touch_context("ctx1", T1)
    replacement = _context("ctx1", "cached", "2030-01-01T00:00:00Z", other="https://x.org/o")
    await store.put_context(replacement)
    got = await store.get_context("ctx1")
    assert got is not None
    assert got.body == replacement.body
    assert (got.created_at, got.last_usage, got.hits) == (T0, T1, 1)


async def test_context_registry_list_filters_by_kind_in_creation_order(store: Store) -> None:
    records = [
        _context("c", "hosted", "2024-01-03T00:00:00Z"),
        _context("a", "cached", "2024-01-01T00:00:00Z"),
        _context("b", "hosted", "2024-01-02T00:00:00Z"),
        _context("d", "implicitlyCreated", "2024-01-02T00:00:00Z"),
    ]
    for record in records:
        await store.put_context(record)
    assert [r.local_id for r in await store.list_contexts()] == ["a", "b", "d", "c"]
    assert [r.local_id for r in await store.list_contexts("hosted")] == ["b", "c"]
    assert [r.local_id for r in await store.list_contexts("cached")] == ["a"]
    assert [r.local_id for r in await store.list_contexts("implicitlyCreated")] == ["d"]
    assert await store.list_contexts("unknown") == []


async def test_context_registry_delete_returns_whether_it_existed(store: Store) -> None:
    await store.put_context(_context("ctx1", "hosted", T0))
    assert await store.delete_context("ctx1") is True
    assert await store.delete_context("ctx1") is False
    assert await store.get_context("ctx1") is None
    assert await store.list_contexts() == []


async def test_context_registry_touch_counts_hits_and_records_last_usage(store: Store) -> None:
    await store.put_context(_context("ctx1", "hosted", T0))
    await store.put_context(_context("ctx2", "hosted", T0))
    await store.touch_context("ctx1", T0)
    await store.touch_context("ctx1", T1)
    await store.touch_context("missing", T1)
    one, two = await store.get_context("ctx1"), await store.get_context("ctx2")
    assert one is not None and two is not None
    assert (one.hits, one.last_usage) == (2, T1)
    assert (two.hits, two.last_usage) == (0, None)


async def test_context_registry_touches_from_many_tasks_all_count(store: Store) -> None:
    await store.put_context(_context("ctx1", "hosted", T0))
    await asyncio.gather(*(store.touch_context("ctx1", T1) for _ in range(40)))
    got = await store.get_context("ctx1")
    assert got is not None and got.hits == 40


# --- migrations -----------------------------------------------------------------------


async def test_migrate_applies_nothing_the_second_time(store: Store, entity_id: str) -> None:
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(entity_id)])
    assert await store.migrate() == []
    assert await store.migrate() == []
    assert await store.get_entity(DEFAULT_TENANT, entity_id) is not None


async def test_migrate_keeps_entities_stored_under_the_first_sqlite_schema(tmp_path: Any) -> None:
    import sqlite3

    from cityhub.storage.migrations import bundled_migrations
    from cityhub.storage.sqlite.store import SqliteStore, _entity_row

    path = tmp_path / "old.db"
    entity = make_entity("urn:ngsi-ld:T:old", **{NGSI + "n": prop("kept")}, scope=["/Old"])
    (first, sql), *later = bundled_migrations("sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(sql)
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (first, T0))
    conn.execute("INSERT INTO tenants VALUES ('old', ?)", (T0,))
    conn.execute("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", _entity_row("old", entity))
    conn.close()
    store = SqliteStore(f"sqlite:///{path}")
    await store.open()
    try:
        assert await store.migrate() == [name for name, _ in later]
        assert await store.get_entity("old", entity["id"]) == entity
        assert await store.tenant_exists("old")
        duplicate = make_entity(entity["id"])
        event = ChangeEvent("old", CREATED, entity["id"], None, duplicate)
        assert await store.create_one("old", duplicate, event) is False
    finally:
        await store.close()


async def test_migrate_on_a_fresh_sqlite_file_applies_all_then_nothing(tmp_path: Any) -> None:
    from cityhub.storage.migrations import bundled_migrations
    from cityhub.storage.sqlite.store import SqliteStore

    fresh = SqliteStore(f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}")
    await fresh.open()
    try:
        names = [name for name, _ in bundled_migrations("sqlite")]
        assert names and await fresh.migrate() == names
        assert await fresh.migrate() == []
    finally:
        await fresh.close()


async def test_migrate_from_several_stores_at_once_applies_each_migration_once(
    tmp_path: Any,
) -> None:
    from cityhub.storage.migrations import bundled_migrations
    from cityhub.storage.sqlite.store import SqliteStore

    url = f"sqlite:///{tmp_path / 'race.db'}"
    stores = [SqliteStore(url) for _ in range(4)]
    for each in stores:
        await each.open()
    try:
        results = await asyncio.gather(*(each.migrate() for each in stores))
    finally:
        for each in stores:
            await each.close()
    applied = sorted(name for result in results for name in result)
    assert applied == [name for name, _ in bundled_migrations("sqlite")]


# --- documents round-trip exactly -----------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = {"leaf": ["끝", 0.5, None, True]}
    for level in range(depth):
        value = {f"level{level}": [value, level]} if level % 2 else {f"level{level}": value}
    return value


DOCUMENTS: dict[str, dict[str, Any]] = {
    "unicode": {
        NGSI + "name": [
            {
                "type": "LanguageProperty",
                "languageMap": {
                    "ko": "서울특별시 강남구 주차장",
                    "ja": "東京都千代田区の駐車場",
                    "zh-Hans": "北京市朝阳区停车场",
                    "en": "Car park",
                },
            }
        ],
        "https://example.org/説明": prop('絵文字 🚗🅿️ and combining é, RTL שלום, \t\n"\\'),
        "https://example.org/주소": prop({"도로명": "테헤란로 152", "우편번호": "06236"}),
    },
    "numbers": {
        NGSI + "values": prop(
            [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 0.1, -2.5e-300, 1.7976931348623157e308, 1e21]
        ),
        NGSI + "empty": prop({"list": [], "object": {}, "string": "", "null": None}),
    },
    "deep": {"https://example.org/tree": prop(_nested(120))},
    "large": {
        f"https://example.org/attr{i}": [
            {
                "type": "Property",
                "value": {"reading": i, "text": "측정값 " * 50, "series": list(range(100))},
                "observedAt": T0,
            }
        ]
        for i in range(400)
    },
}


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
async def test_entity_document_round_trips_exactly(store: Store, entity_id: str, kind: str) -> None:
    entity = make_entity(entity_id, **copy.deepcopy(DOCUMENTS[kind]))
    async with store.transaction("문서-ドキュメント") as uow:
        await uow.insert([entity])
    assert await store.get_entity("문서-ドキュメント", entity_id) == entity
    async with store.transaction("문서-ドキュメント") as uow:
        got = await uow.get(entity_id)
        assert got == entity
        assert await uow.get_many([entity_id]) == {entity_id: entity}
        assert got is not None
        got["modifiedAt"] = T1
        await uow.update([got])
    assert await store.get_entity("문서-ドキュメント", entity_id) == {**entity, "modifiedAt": T1}


async def test_entity_with_unicode_id_and_type_round_trips(store: Store) -> None:
    entity_id = "urn:ngsi-ld:駐車場:서울-北京-1"
    entity = make_entity(entity_id)
    entity["type"] = ["https://example.org/停车场", "https://example.org/주차장"]
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([entity])
    assert await store.get_entity(DEFAULT_TENANT, entity_id) == entity
    async with store.transaction(DEFAULT_TENANT) as uow:
        assert await uow.delete([entity_id]) == [entity_id]


# --- concurrency ----------------------------------------------------------------------


async def test_transaction_serialises_read_modify_write_from_many_tasks(
    store: Store, entity_id: str
) -> None:
    counter = NGSI + "counter"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(entity_id, **{counter: prop([])})])

    async def append(n: int) -> None:
        async with store.transaction(DEFAULT_TENANT) as uow:
            current = await uow.get(entity_id)
            assert current is not None
            await asyncio.sleep(0)  # give every other task the chance to interleave here
            current[counter][0]["value"] = [*current[counter][0]["value"], n]
            await uow.update([current])

    await asyncio.gather(*(append(n) for n in range(50)))
    final = await store.get_entity(DEFAULT_TENANT, entity_id)
    assert final is not None
    assert sorted(final[counter][0]["value"]) == list(range(50))


async def test_transaction_serialises_batches_over_overlapping_entities(
    store: Store, entity_id: str
) -> None:
    """Batches lock their entities in any order without deadlocking or losing updates."""
    ids = [f"{entity_id}:{i}" for i in range(4)]
    counter = NGSI + "counter"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(i, **{counter: prop(0)}) for i in ids])

    async def bump(n: int) -> None:
        chosen = ids[n % 4 :] + ids[: n % 4]  # every task asks in a different order
        chosen = chosen[:3] if n % 2 else list(reversed(chosen[:3]))
        async with store.transaction(DEFAULT_TENANT) as uow:
            current = await uow.get_many(chosen)
            await asyncio.sleep(0)
            for entity in current.values():
                entity[counter][0]["value"] += 1
            await uow.update(list(current.values()))

    await asyncio.gather(*(bump(n) for n in range(40)))
    total = 0
    for i in ids:
        entity = await store.get_entity(DEFAULT_TENANT, i)
        assert entity is not None
        total += entity[counter][0]["value"]
    assert total == 40 * 3


async def test_insert_of_one_id_from_many_tasks_stores_exactly_one(
    store: Store, entity_id: str
) -> None:
    async def create(n: int) -> bool:
        async with store.transaction(DEFAULT_TENANT) as uow:
            entity = make_entity(entity_id, **{NGSI + "n": prop(n)})
            return await uow.insert([entity]) == []

    created = await asyncio.gather(*(create(n) for n in range(20)))
    assert created.count(True) == 1
    winner = created.index(True)
    stored = await store.get_entity(DEFAULT_TENANT, entity_id)
    assert stored is not None and stored[NGSI + "n"] == prop(winner)


async def test_transaction_serialises_updates_from_two_stores_on_one_database(
    store: Store, entity_id: str
) -> None:
    """Two worker processes share one database: their read-modify-writes must not collide."""
    counter = NGSI + "counter"
    async with store.transaction(DEFAULT_TENANT) as uow:
        await uow.insert([make_entity(entity_id, **{counter: prop([])})])
    other = _second_store(store)
    await other.open()

    async def append(target: Store, n: int) -> None:
        async with target.transaction(DEFAULT_TENANT) as uow:
            current = await uow.get(entity_id)
            assert current is not None
            await asyncio.sleep(0)
            current[counter][0]["value"] = [*current[counter][0]["value"], n]
            await uow.update([current])

    try:
        await asyncio.gather(*(append(store if n % 2 else other, n) for n in range(30)))
    finally:
        await other.close()
    final = await store.get_entity(DEFAULT_TENANT, entity_id)
    assert final is not None
    assert sorted(final[counter][0]["value"]) == list(range(30))


# --- create_one: the single-entity create fast path ----------------------------------------


async def test_create_one_stores_entity_creates_tenant_and_publishes_after_commit(
    store: Store, entity_id: str, recorder: Recorder
) -> None:
    entity = make_entity(entity_id, **{NGSI + "name": prop("서울 시청")}, scope=["/Seoul"])
    event = ChangeEvent("create-one", CREATED, entity_id, None, entity)
    assert await store.create_one("create-one", entity, event) is True
    assert await store.get_entity("create-one", entity_id) == entity
    assert await store.tenant_exists("create-one")
    assert recorder.events == [event]
    assert recorder.seen == [entity]  # the listener already reads the committed state


async def test_create_one_returns_false_and_keeps_the_stored_entity_when_id_exists(
    store: Store, entity_id: str, recorder: Recorder
) -> None:
    first = make_entity(entity_id, **{NGSI + "n": prop(1)})
    second = make_entity(entity_id, **{NGSI + "n": prop(2)})
    assert await store.create_one(
        DEFAULT_TENANT, first, ChangeEvent("", CREATED, entity_id, None, first)
    )
    created = await store.create_one(
        DEFAULT_TENANT, second, ChangeEvent("", CREATED, entity_id, None, second)
    )
    assert created is False
    assert await store.get_entity(DEFAULT_TENANT, entity_id) == first
    assert len(recorder.events) == 1


async def test_create_one_of_the_same_id_concurrently_stores_exactly_one(
    store: Store, entity_id: str
) -> None:
    entities = [make_entity(entity_id, **{NGSI + "n": prop(i)}) for i in range(10)]
    results = await asyncio.gather(
        *(
            store.create_one("race", e, ChangeEvent("race", CREATED, entity_id, None, e))
            for e in entities
        )
    )
    assert sorted(results) == [False] * 9 + [True]
    stored = await store.get_entity("race", entity_id)
    assert stored == entities[results.index(True)]


@pytest.mark.parametrize("tenant_known", [False, True])
async def test_create_one_waits_for_another_process_holding_the_sqlite_write_lock(
    store: Store, entity_id: str, tenant_known: bool
) -> None:
    if store.backend != "sqlite":
        pytest.skip("the write lock of another process is an SQLite matter")
    import sqlite3

    if tenant_known:  # then the create is a single statement, not BEGIN … COMMIT
        first = make_entity(entity_id + ":first")
        assert await store.create_one("", first, ChangeEvent("", CREATED, first["id"], None, first))
    other = sqlite3.connect(store.path, isolation_level=None)  # type: ignore[attr-defined]
    other.execute("BEGIN IMMEDIATE")  # like another worker in the middle of a write
    entity = make_entity(entity_id)
    task = asyncio.create_task(
        store.create_one("", entity, ChangeEvent("", CREATED, entity_id, None, entity))
    )
    await asyncio.sleep(0.2)
    assert not task.done()  # it waits (off the event loop) instead of failing
    assert await store.get_entity("", entity_id) is None  # reads go on meanwhile
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(task, 30) is True
    assert await store.get_entity("", entity_id) == entity


async def test_create_one_cancelled_mid_statement_on_postgres_leaves_no_row(
    store: Store, entity_id: str
) -> None:
    """A create waiting on another transaction's uncommitted row of the same id, then
    cancelled, writes nothing, and the connection it ran on is replaced."""
    if store.backend != "postgres":
        pytest.skip("row locks of PostgreSQL")
    held = make_entity(entity_id, **{NGSI + "n": prop("held")})
    rival = make_entity(entity_id, **{NGSI + "n": prop("rival")})
    async with store.transaction("") as uow:
        await uow.insert([held])
        task = asyncio.create_task(
            store.create_one("", rival, ChangeEvent("", CREATED, entity_id, None, rival))
        )
        await asyncio.sleep(0.3)
        assert not task.done()  # blocked on the uncommitted row
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await store.get_entity("", entity_id) == held
    for n in range(8):
        other = make_entity(f"{entity_id}:{n}")
        assert await store.create_one("", other, ChangeEvent("", CREATED, other["id"], None, other))
        assert await store.get_entity("", other["id"]) == other


@pytest.mark.parametrize(
    "types, scope",
    [
        (["https://example.org/A"], None),
        (["https://example.org/A", "https://example.org/B"], ["/Seoul", "/Seoul/Jongno"]),
        (['https://example.org/q"uote', "https://example.org/back\\slash"], ["/a,b", "/{c}"]),
        (["https://example.org/NULL"], ["NULL", " spaced "]),
    ],
)
async def test_types_and_scopes_columns_hold_the_entity_values(
    store: Store, entity_id: str, types: list[str], scope: list[str] | None
) -> None:
    """The columns that filters will read hold exactly the document's types and scopes, after
    insert, create_one and update."""
    entity = make_entity(entity_id, type=types, **({"scope": scope} if scope else {}))
    other = {**entity, "id": entity_id + ":one"}
    async with store.transaction("") as uow:
        await uow.insert([entity])
    assert await store.create_one("", other, ChangeEvent("", CREATED, other["id"], None, other))
    assert await _columns(store, entity_id) == (types, scope)
    assert await _columns(store, other["id"]) == (types, scope)
    changed = {**entity, "type": [*types, "https://example.org/Z"], "scope": ["/New"]}
    async with store.transaction("") as uow:
        await uow.update([changed])
    assert await _columns(store, entity_id) == ([*types, "https://example.org/Z"], ["/New"])
    assert await store.get_entity("", entity_id) == changed


async def _columns(store: Store, entity_id: str) -> tuple[list[str], list[str] | None]:
    from cityhub.storage.postgres.store import PostgresStore

    if isinstance(store, PostgresStore):
        row = await store.pool.fetchrow(
            "SELECT types, scopes FROM entities WHERE tenant = '' AND id = $1", entity_id
        )
        assert row is not None
        return list(row["types"]), None if row["scopes"] is None else list(row["scopes"])
    import json
    import sqlite3

    conn = sqlite3.connect(store.path)  # type: ignore[attr-defined]
    try:
        found = conn.execute(
            "SELECT types, scopes FROM entities WHERE tenant = '' AND id = ?", (entity_id,)
        ).fetchone()
    finally:
        conn.close()
    return json.loads(found[0]), None if found[1] is None else json.loads(found[1])


async def test_types_version_changes_with_every_create_update_and_delete_of_those_types(
    store: Store,
) -> None:
    parking = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"
    other = "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved"
    empty = await store.types_version("seoul", [parking])
    assert empty == (0, "")
    async with store.transaction("seoul") as uow:
        await uow.insert([make_entity("urn:ngsi-ld:P:1"), make_entity("urn:ngsi-ld:P:2")])
    created = await store.types_version("seoul", [parking])
    assert created[0] == 2 and created[1].startswith("2024-05-01")
    assert await store.types_version("seoul", [parking]) == created  # unchanged: same
    async with store.transaction("seoul") as uow:
        later = make_entity("urn:ngsi-ld:P:1", **{NGSI + "free": prop(3)})
        later["modifiedAt"] = T1
        await uow.update([later])
    updated = await store.types_version("seoul", [parking])
    assert updated[0] == 2 and updated != created
    async with store.transaction("seoul") as uow:
        await uow.delete(["urn:ngsi-ld:P:2"])
    deleted = await store.types_version("seoul", [parking])
    assert deleted[0] == 1 and deleted != updated
    # Other types and other tenants do not move it.
    road = make_entity("urn:ngsi-ld:R:1")
    road["type"] = [other]
    async with store.transaction("seoul") as uow:
        await uow.insert([road])
    async with store.transaction("tokyo") as uow:
        await uow.insert([make_entity("urn:ngsi-ld:P:9")])
    assert await store.types_version("seoul", [parking]) == deleted
    assert (await store.types_version("seoul", [parking, other]))[0] == 2
