"""SQLite store: WAL, one writer connection on its own thread, a pool of reader threads.

Writes serialise on an asyncio lock and a ``BEGIN IMMEDIATE`` transaction (which also
serialises several worker processes on one file, through SQLite's own lock). Readers never
block on the writer thanks to WAL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import orjson

from cityhub.errors import BadRequestData
from cityhub.events import ChangeEvent, EventBus
from cityhub.model.history import creation, history_of
from cityhub.model.values import now_iso
from cityhub.query.ast import EntityQuery
from cityhub.storage.base import (
    CommitHook,
    ContextRecord,
    Entity,
    OutboxItem,
    PendingNotification,
    QueryResult,
    SubscriptionRecord,
)
from cityhub.storage.migrations import bundled_migrations
from cityhub.storage.sql.compiler import Params, compile_from
from cityhub.storage.sql.series import SeriesKey, SeriesNumbers
from cityhub.storage.sqlite import discovery, feed, history, index_tables, outbox, value_rows
from cityhub.storage.sqlite import subscriptions as subscription_rows
from cityhub.storage.sqlite.entity_maps import EntityMapRegistry
from cityhub.storage.sqlite.feed_runs import FeedRunRegistry
from cityhub.storage.sqlite.functions import register as register_functions
from cityhub.storage.sqlite.iot import IotRegistry
from cityhub.storage.sqlite.query_sql import PAGE_COLUMN, SqliteDialect
from cityhub.storage.sqlite.registrations import CsourceRegistry
from cityhub.storage.sqlite.temporal_store import HistoryReads, HistoryWrites

T = TypeVar("T")
log = logging.getLogger(__name__)
VALUE_INDEX_DELAY = 0.1  # seconds from a write to the value indexer's batch (value_rows)
MMAP_BYTES = 1 << 30
INLINE_QUERY_STEP = 500  # SQLite VM instructions between two looks at the clock
INLINE_QUERY_SECONDS = 0.0005  # an inline query's time before it moves to a reader thread
SLOW_QUERIES_KEPT = 1024
CACHE_KIB = 64 * 1024


def sqlite_path(url: str) -> str:
    """``sqlite:///relative.db`` or ``sqlite:////absolute.db`` → a file path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"SQLite URL must look like sqlite:///path.db, got {url!r}")
    return url[len("sqlite:///") :]


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    # Takes effect only when the file is new: 8 kB pages keep whole entity documents (2–8 kB
    # in expanded form) on the table's leaf pages instead of in overflow chains.
    conn.execute("PRAGMA page_size=8192")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    # Reads map the file instead of copying pages through read(): a 100-entity page of a
    # query reads in half the time (0.25 -> 0.11 ms at 100k entities). 64 MiB of page cache
    # (the default is 2 MiB) keeps the index B-trees' inner pages and recently written leaves
    # in memory, where index rows land at random places.
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    register_functions(conn)
    return conn


def _statements(script: str) -> list[str]:
    """A migration script's statements (trigger bodies hold semicolons of their own)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        not line.strip() or line.strip().startswith("--") for line in pending.splitlines()
    ):
        raise ValueError(f"Incomplete SQL statement in migration: {pending[:80]!r}")
    return statements


def _begin(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Open the write transaction if this connection has none yet.

    Taking the write lock together with the first statement saves a thread hop; the lock is
    still held before anything is read, so reads inside a transaction are locked reads.
    """
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    return conn


def _rollback(conn: sqlite3.Connection) -> None:
    # The transaction may never have begun (nothing ran, or BEGIN itself failed).
    if conn.in_transaction:
        conn.execute("ROLLBACK")


_INSERT = (
    "INSERT INTO entities (tenant, id, types, scopes, created_at, modified_at, doc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING"
)


def _existing_ids(conn: sqlite3.Connection, tenant: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id FROM entities WHERE tenant = ? AND id IN ({marks})", (tenant, *chunk)
        )
        found.update(row[0] for row in rows)
    return found


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _row_entity(doc: str | bytes) -> Entity:
    entity: Entity = orjson.loads(doc)
    return entity


def _entity_row(tenant: str, entity: Entity) -> tuple[Any, ...]:
    scopes = entity.get("scope")
    return (
        tenant,
        entity["id"],
        orjson.dumps(entity["type"]).decode(),
        orjson.dumps(scopes).decode() if scopes else None,
        entity["createdAt"],
        entity["modifiedAt"],
        orjson.dumps(entity).decode(),
    )


class SqliteUnitOfWork(HistoryWrites):
    """Statements of one write transaction, each run on the writer thread."""

    def __init__(self, store: SqliteStore, tenant: str) -> None:
        self._store = store
        self._tenant = tenant
        self.events: list[ChangeEvent] = []
        # Ids this transaction has seen missing; it holds the write lock, so they stay missing
        # until it inserts them, and an insert need not look them up again.
        self._absent: set[str] = set()
        # What the index tables hold for entities this transaction has read or written, so an
        # update touches only the index rows that change (index_tables.apply).
        self._indexed: dict[str, index_tables.IndexedState] = {}
        # The tenant's subscription version, read with the transaction's first statement when
        # a commit hook will ask for it (the write lock keeps it fixed until commit), and the
        # notifications to insert with the commit: two thread hops fewer per write.
        self._version: int | None = None
        self.outbox: list[OutboxItem] = []
        self.wrote_entities = False  # the value indexer has entities to take (value_rows)
        # History series this transaction created; the store knows them once it commits.
        self.series: dict[SeriesKey, int] = {}
        # Updates wait for the transaction's next hop to the writer thread (the commit's, in
        # the common read-modify-write): one hop fewer per write, and the write lock is held
        # that much shorter. Any later statement of the transaction runs them first.
        self.pending: list[Callable[[sqlite3.Connection], None]] = []

    def _known_series(self) -> SeriesNumbers:
        return self._store.series

    def run_pending(self, conn: sqlite3.Connection) -> None:
        """The deferred updates, in order (on the writer thread, inside the transaction)."""
        pending, self.pending = self.pending, []
        for work in pending:
            work(conn)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self.pending:
            then = fn

            def fn(conn: sqlite3.Connection) -> T:
                self.run_pending(conn)
                return then(conn)

        if self._version is not None or self._store.commit_hook is None:
            return await self._store._on_writer(lambda conn: fn(_begin(conn)))
        tenant = self._tenant

        def first(conn: sqlite3.Connection) -> tuple[T, int]:
            result = fn(_begin(conn))
            return result, subscription_rows.version(conn, tenant)

        result, self._version = await self._store._on_writer(first)
        return result

    async def get(self, entity_id: str) -> Entity | None:
        found = await self.get_many([entity_id])
        return found.get(entity_id)

    async def get_many(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        tenant = self._tenant
        ids = list(dict.fromkeys(entity_ids))

        def work(conn: sqlite3.Connection) -> dict[str, Entity]:
            found: dict[str, Entity] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT id, doc FROM entities WHERE tenant = ? AND id IN ({marks})",
                    (tenant, *chunk),
                ).fetchall()
                found.update((row[0], _row_entity(row[1])) for row in rows)
            return found

        if not ids:
            return {}
        found = await self._run(work)
        self._absent.update(i for i in ids if i not in found)
        for entity_id, entity in found.items():
            self._indexed[entity_id] = index_tables.indexed_state(entity)
        return found

    async def insert(self, entities: Sequence[Entity]) -> list[str]:
        rows = [_entity_row(self._tenant, entity) for entity in entities]
        tenant = self._tenant
        absent = self._absent
        inserted: dict[str, index_tables.IndexedState] = {}

        def work(conn: sqlite3.Connection) -> list[str]:
            # The write lock is held (BEGIN IMMEDIATE), so the ids found here stay the only
            # existing ones and the rest go in through one executemany.
            unknown = [i for i in dict.fromkeys(row[1] for row in rows) if i not in absent]
            taken = _existing_ids(conn, tenant, unknown)
            existing: list[str] = []
            new: list[tuple[Any, ...]] = []
            for row, entity in zip(rows, entities, strict=True):
                if row[1] in taken:
                    existing.append(row[1])
                else:
                    taken.add(row[1])  # a repeated id goes in once; later ones exist
                    new.append(row)
                    inserted[row[1]] = index_tables.indexed_state(entity)
            absent.difference_update(row[1] for row in new)  # before: a failure may be midway
            conn.executemany(_INSERT, new)
            index_tables.apply(conn, tenant, ((i, None, st) for i, st in inserted.items()))
            value_rows.enqueue(conn, tenant, list(inserted))
            return existing

        self.wrote_entities = True

        if not rows:
            return []
        existing = await self._run(work)
        self._indexed.update(inserted)
        return existing

    async def update(self, entities: Sequence[Entity]) -> None:
        rows = [_entity_row(self._tenant, entity) for entity in entities]
        params = [(r[2], r[3], r[4], r[5], r[6], r[0], r[1]) for r in rows]
        tenant = self._tenant
        states = {entity["id"]: index_tables.indexed_state(entity) for entity in entities}
        known = self._indexed
        indexed = {i: known[i] for i in states if i in known}  # as of now: the work may wait

        def work(conn: sqlite3.Connection) -> None:
            before = dict(indexed)
            unread = [i for i in states if i not in indexed]
            if unread:  # written without being read first: the stored rows say what is indexed
                before.update(index_tables.stored_states(conn, tenant, unread))
            conn.executemany(
                "UPDATE entities SET types = ?, scopes = ?, created_at = ?, modified_at = ?,"
                " doc = ? WHERE tenant = ? AND id = ?",
                params,
            )
            index_tables.apply(
                conn,
                tenant,
                (
                    (i, before[i], state)
                    for i, state in states.items()
                    if i in before and before[i] != state  # an id not stored updated nothing
                ),
            )
            value_rows.enqueue(conn, tenant, [i for i in states if i in before])

        if params:
            self.wrote_entities = True
            self.pending.append(work)
            self._indexed.update(states)

    async def delete(self, entity_ids: Sequence[str]) -> list[str]:
        tenant = self._tenant
        ids = list(entity_ids)

        known = self._indexed

        def work(conn: sqlite3.Connection) -> list[str]:
            before = {i: known[i] for i in ids if i in known}
            unread = [i for i in ids if i not in known]
            if unread:
                before.update(index_tables.stored_states(conn, tenant, unread))
            deleted = []
            for entity_id in ids:
                cursor = conn.execute(
                    "DELETE FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
                )
                if cursor.rowcount:
                    deleted.append(entity_id)
            index_tables.apply(conn, tenant, ((i, before[i], None) for i in deleted if i in before))
            value_rows.enqueue(conn, tenant, deleted)
            return deleted

        if not ids:
            return []
        self.wrote_entities = True
        deleted = await self._run(work)
        self._absent.update(deleted)
        for entity_id in deleted:
            self._indexed.pop(entity_id, None)
        return deleted

    async def subscriptions_version(self) -> int:
        if self._version is None:
            tenant = self._tenant
            self._version = await self._store._on_writer(
                lambda conn: subscription_rows.version(_begin(conn), tenant)
            )
        return self._version

    async def subscription_docs(self) -> list[dict[str, Any]]:
        tenant = self._tenant
        return await self._run(lambda conn: subscription_rows.docs(conn, tenant))

    async def add_notifications(self, items: Sequence[OutboxItem]) -> None:
        """Queued with the commit, in the same hop to the writer thread."""
        self.outbox.extend(items)


class SqliteStore(HistoryReads, IotRegistry, FeedRunRegistry, CsourceRegistry, EntityMapRegistry):
    """The embedded store (DESIGN: one writer, pooled readers, WAL, events after commit)."""

    backend = "sqlite"

    def __init__(self, url: str, *, readers: int = 4) -> None:
        self.path = sqlite_path(url)
        self.events = EventBus()
        self._readers = max(1, readers)
        self._writer_pool: ThreadPoolExecutor | None = None
        self._reader_pool: ThreadPoolExecutor | None = None
        self._writer: sqlite3.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._inline: sqlite3.Connection | None = None
        self._inline_write: sqlite3.Connection | None = None
        self._known_tenants: set[str] = set()
        self.commit_hook: CommitHook | None = None
        # Set when this process queued notifications; other processes on the file are seen
        # by polling (wait_for_notifications' timeout).
        self._outbox_signal = asyncio.Event()
        self._feed_waiters: set[asyncio.Event] = set()
        self._value_indexer: asyncio.Task[None] | None = None
        # Query texts (one per query shape: values are bound) whose last inline run overran
        # INLINE_QUERY_SECONDS: they skip the inline attempt and its wasted half millisecond.
        self._slow_queries: set[str] = set()
        self.record_history = True
        self.series = SeriesNumbers()

    async def open(self) -> None:
        if self.path not in {"", ":memory:"}:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader_pool = ThreadPoolExecutor(self._readers, thread_name_prefix="sqlite-reader")
        self._writer = await asyncio.get_running_loop().run_in_executor(
            self._writer_pool, _connect, self.path
        )
        # Primary-key reads run on the event loop itself: in WAL mode a reader never waits for
        # a writer, and a lookup costs a few µs where a hop to a thread costs ~100 µs of CPU.
        self._inline = _connect(self.path)
        self._inline.execute("PRAGMA query_only=ON")
        self._inline_write = _connect(self.path)
        self._inline_write.execute("PRAGMA busy_timeout=0")

    def _index_values_soon(self) -> None:
        """Have the value indexer take what writes queued, shortly (value_rows)."""
        if self._value_indexer is None or self._value_indexer.done():
            self._value_indexer = asyncio.get_running_loop().create_task(self._index_later())

    async def _index_later(self) -> None:
        await asyncio.sleep(VALUE_INDEX_DELAY)
        try:
            await self.index_values()
        except Exception:  # the queue stays; the next write tries again
            log.exception("value index: queued entities stay queued")

    async def index_values(self) -> None:
        """Move every entity queued for the value index into it, one batch per write
        transaction (other writers get the lock between batches)."""

        def batch(conn: sqlite3.Connection) -> int:
            _begin(conn)
            try:
                taken = value_rows.drain(conn)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            return taken

        while True:
            async with self._write_lock:
                if self._writer is None:
                    return
                taken = await self._on_writer(batch)
            if taken < value_rows.DRAIN_BATCH:
                return

    async def close(self) -> None:
        indexer, self._value_indexer = self._value_indexer, None
        if indexer is not None and not indexer.done():
            indexer.cancel()
            with suppress(asyncio.CancelledError):
                await indexer
        if self._writer is not None:
            await self._on_writer(lambda conn: conn.close())
            self._writer = None
        for conn in self._reader_conns:
            conn.close()
        self._reader_conns.clear()
        for inline in (self._inline, self._inline_write):
            if inline is not None:
                inline.close()
        self._inline = self._inline_write = None
        for pool in (self._writer_pool, self._reader_pool):
            if pool is not None:
                pool.shutdown(wait=True)
        self._writer_pool = self._reader_pool = None

    async def _on_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._writer
        assert conn is not None, "store is not open"
        return await asyncio.get_running_loop().run_in_executor(self._writer_pool, fn, conn)

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            self._reader_conns.append(conn)
        return conn

    async def _on_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._reader_pool, lambda: fn(self._reader())
        )

    async def migrate(self) -> list[str]:
        migrations = bundled_migrations("sqlite")

        def work(conn: sqlite3.Connection) -> list[str]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations"
                    " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
                applied = []
                for name, sql in migrations:
                    if name in done:
                        continue
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, now_iso()))
                    applied.append(name)
                conn.execute("COMMIT")
                return applied
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        async with self._write_lock:
            applied = await self._on_writer(work)
        self._index_values_soon()  # what migration 010 queued, or a crash left queued
        return applied

    @asynccontextmanager
    async def transaction(self, tenant: str) -> AsyncIterator[SqliteUnitOfWork]:
        uow = SqliteUnitOfWork(self, tenant)
        register = tenant not in self._known_tenants
        recording = self.record_history

        def commit(conn: sqlite3.Connection) -> None:
            _begin(conn)
            uow.run_pending(conn)
            if recording and uow.events:
                marks, rows = history_of(uow.events, now_iso())
                history.record(conn, tenant, marks, rows, self.series, uow.series)
            if uow.outbox:
                outbox.add(conn, tenant, uow.outbox, time.time())
            if register:
                conn.execute(
                    "INSERT INTO tenants (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (tenant, now_iso()),
                )
            conn.execute("COMMIT")

        async with self._write_lock:
            try:
                yield uow
                if self.commit_hook is not None and uow.events:
                    await self.commit_hook.before_commit(tenant, uow)
                await self._on_writer(commit)
            except BaseException:
                # Queued behind any statement still running on the writer thread (even one
                # whose task was cancelled), so it always ends the transaction that began.
                await asyncio.shield(self._on_writer(_rollback))
                raise
        self._known_tenants.add(tenant)
        self.series.learn(uow.series)
        if uow.outbox:
            self._outbox_signal.set()
        if uow.wrote_entities:
            self._index_values_soon()
        await self.events.publish(uow.events)

    def _inline_reader(self) -> sqlite3.Connection:
        conn = self._inline
        assert conn is not None, "store is not open"
        return conn

    async def create_one(self, tenant: str, entity: Entity, event: ChangeEvent) -> bool:
        row = _entity_row(tenant, entity)
        register = tenant not in self._known_tenants
        recording = self.record_history
        made: dict[SeriesKey, int] = {}

        def work(conn: sqlite3.Connection, *, begun: bool = False) -> bool:
            if not begun:
                _begin(conn)
            try:
                created = conn.execute(_INSERT, row).rowcount > 0
                if created:
                    index_tables.index_new(conn, tenant, [entity])
                    if recording:
                        marks, rows = creation(entity, entity["createdAt"])
                        history.record(conn, tenant, marks, rows, self.series, made)
                if register:
                    conn.execute(
                        "INSERT INTO tenants (name, created_at) VALUES (?, ?)"
                        " ON CONFLICT DO NOTHING",
                        (tenant, now_iso()),
                    )
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            return created

        async with self._write_lock:
            # A short transaction runs inline on the loop unless another process holds the
            # write lock; then it waits for it on the writer thread. Either way it skips the
            # commit hook only when the hook knows the tenant has no subscription.
            if self._try_begin_inline():
                conn = self._inline_writer()
                # (_quiet ends the transaction itself when the answer is no)
                created = work(conn, begun=True) if self._quiet(conn, tenant) else None
            else:
                created = await self._on_writer(
                    lambda conn: work(conn) if self._quiet(_begin(conn), tenant) else None
                )
        if created is None:  # subscriptions may match: the full transaction path
            return await self._create_in_transaction(tenant, entity, event)
        self._known_tenants.add(tenant)
        if created:
            self.series.learn(made)
            self._index_values_soon()
            await self.events.publish([event])
        return created

    def _quiet(self, conn: sqlite3.Connection, tenant: str) -> bool:
        """Inside a write transaction: whether no subscription can be told of a change."""
        hook = self.commit_hook
        if hook is None:
            return True
        try:
            quiet = hook.quiet_version(tenant) == subscription_rows.version(conn, tenant)
        except BaseException:
            _rollback(conn)
            raise
        if not quiet:
            _rollback(conn)
        return quiet

    async def _create_in_transaction(self, tenant: str, entity: Entity, event: ChangeEvent) -> bool:
        async with self.transaction(tenant) as uow:
            if await uow.insert([entity]):
                return False
            uow.events.append(event)
        return True

    def _inline_writer(self) -> sqlite3.Connection:
        conn = self._inline_write
        assert conn is not None, "store is not open"
        return conn

    def _try_begin_inline(self) -> bool:
        """Take the write lock on the event loop without waiting (busy_timeout 0).

        A short single-entity transaction then runs inline: a few tens of µs, where a hop to
        the writer thread costs ~100–300 µs of CPU and queues requests behind the GIL. When
        another worker process holds the lock, the caller waits on the writer thread instead,
        so the loop never blocks on a lock. Callers hold ``_write_lock``.
        """
        try:
            self._inline_writer().execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                return False
            raise
        return True

    async def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._known_tenants:
            return True
        row = (
            self._inline_reader()
            .execute("SELECT 1 FROM tenants WHERE name = ?", (tenant,))
            .fetchone()
        )
        if row is not None:
            self._known_tenants.add(tenant)
        return row is not None

    async def tenants(self) -> list[str]:
        rows = await self._on_reader(
            lambda conn: conn.execute("SELECT name FROM tenants ORDER BY name").fetchall()
        )
        return [row[0] for row in rows]

    async def types_version(self, tenant: str, types: list[str]) -> tuple[int, str]:
        marks = ", ".join("?" * len(types))
        sql = (
            "SELECT count(*), max(e.modified_at) FROM entity_types t JOIN entities e"
            " ON e.tenant = t.tenant AND e.id = t.id"
            f" WHERE t.tenant = ? AND t.type IN ({marks})"
        )
        row = await self._on_reader(lambda conn: conn.execute(sql, (tenant, *types)).fetchone())
        return int(row[0]), str(row[1] or "")

    async def get_entity(self, tenant: str, entity_id: str) -> Entity | None:
        row = (
            self._inline_reader()
            .execute("SELECT doc FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id))
            .fetchone()
        )
        return None if row is None else _row_entity(row[0])

    async def get_entity_text(self, tenant: str, entity_id: str) -> bytes | None:
        row = (
            self._inline_reader()
            .execute(
                "SELECT CAST(doc AS BLOB) FROM entities WHERE tenant = ? AND id = ?",
                (tenant, entity_id),
            )
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, count: bool = False, ids_only: bool = False
    ) -> QueryResult:
        """Query Entities (clause 5.7.2) in SQL on a reader thread (storage/sqlite/query_sql.py)."""
        params = Params("sqlite")
        tenant_param = params.add(tenant)
        matching, order, counting = compile_from(
            query, SqliteDialect(tenant_param, params, tenant), tenant_param
        )
        column = "json_object('id', e.id)" if ids_only else PAGE_COLUMN
        page_sql = (
            f"SELECT {column} {matching} ORDER BY {order}"
            f" LIMIT {params.add(query.limit + 1)} OFFSET {params.add(query.offset)}"
        )
        values = params.values

        def work(conn: sqlite3.Connection) -> QueryResult:
            try:
                docs = conn.execute(page_sql, values).fetchall() if query.limit > 0 else []
                total = None
                if count:
                    total = conn.execute(f"SELECT count(*) {counting}", values[:-2]).fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "user-defined function raised exception" not in str(exc):
                    raise
                # A registered function (geometry check, regex) could not evaluate a value.
                raise BadRequestData(f"The query cannot be evaluated: {exc}") from exc
            more = len(docs) > query.limit
            return QueryResult([row[0] for row in docs[: query.limit]], total, more)

        if page_sql in self._slow_queries:  # overran last time: straight to a reader thread
            return await self._on_reader(lambda conn: self._timed(page_sql, work, conn))
        inline = self._inline_reader()
        deadline = time.perf_counter() + INLINE_QUERY_SECONDS
        interrupted = False

        def over_budget() -> bool:
            nonlocal interrupted
            interrupted = time.perf_counter() > deadline
            return interrupted

        # A query first runs on the loop itself, as primary-key reads do: most pages cost
        # less than the hop to a reader thread (~100 µs of CPU, and GIL hand-offs with the
        # other readers). SQLite interrupts it once it has run for INLINE_QUERY_SECONDS, and
        # it runs again on a reader thread: a long query never stalls the loop for long,
        # and runs beside the others there (SQLite releases the GIL).
        inline.set_progress_handler(over_budget, INLINE_QUERY_STEP)
        try:
            return work(inline)
        except sqlite3.OperationalError:
            if not interrupted:
                raise
        finally:
            inline.set_progress_handler(None, 0)
        if len(self._slow_queries) >= SLOW_QUERIES_KEPT:
            self._slow_queries.clear()
        self._slow_queries.add(page_sql)
        return await self._on_reader(work)

    def _timed(
        self, sql: str, work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection
    ) -> T:
        """Run a query known to have overrun inline; one that no longer does may run inline
        again next time."""
        began = time.perf_counter()
        result = work(conn)
        if time.perf_counter() - began < INLINE_QUERY_SECONDS:
            self._slow_queries.discard(sql)
        return result

    # --- @context registry -------------------------------------------------------------

    async def put_context(self, record: ContextRecord) -> None:
        row = (
            record.local_id,
            record.url,
            record.kind,
            orjson.dumps(record.body).decode(),
            record.created_at,
            record.last_usage,
            record.hits,
        )

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO jsonld_contexts VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (local_id) DO UPDATE SET url = excluded.url, kind = excluded.kind,"
                " body = excluded.body",
                row,
            )

        async with self._write_lock:
            await self._on_writer(work)

    async def _select_contexts(self, where: str, params: tuple[Any, ...]) -> list[ContextRecord]:
        sql = (
            "SELECT local_id, url, kind, body, created_at, last_usage, hits FROM jsonld_contexts "
            + where
        )
        rows = await self._on_reader(lambda conn: conn.execute(sql, params).fetchall())
        return [ContextRecord(r[0], r[1], r[2], orjson.loads(r[3]), r[4], r[5], r[6]) for r in rows]

    async def get_context(self, local_id: str) -> ContextRecord | None:
        found = await self._select_contexts("WHERE local_id = ?", (local_id,))
        return found[0] if found else None

    async def get_context_by_url(self, url: str) -> ContextRecord | None:
        found = await self._select_contexts("WHERE url = ?", (url,))
        return found[0] if found else None

    async def list_contexts(self, kind: str | None = None) -> list[ContextRecord]:
        if kind is None:
            return await self._select_contexts("ORDER BY created_at, local_id", ())
        return await self._select_contexts("WHERE kind = ? ORDER BY created_at, local_id", (kind,))

    async def delete_context(self, local_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute("DELETE FROM jsonld_contexts WHERE local_id = ?", (local_id,))
            return cursor.rowcount > 0

        async with self._write_lock:
            return await self._on_writer(work)

    async def touch_context(self, local_id: str, when: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE jsonld_contexts SET last_usage = ?, hits = hits + 1 WHERE local_id = ?",
                (when, local_id),
            )

        async with self._write_lock:
            await self._on_writer(work)

    # --- subscriptions (clause 5.8), storage/sqlite/subscriptions.py ---------------------

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """One short write transaction on the writer thread."""

        def work(conn: sqlite3.Connection) -> T:
            _begin(conn)
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            return result

        async with self._write_lock:
            return await self._on_writer(work)

    async def create_subscription(self, tenant: str, doc: dict[str, Any], now: str) -> bool:
        created = await self._write(lambda conn: subscription_rows.insert(conn, tenant, doc, now))
        if created:
            self._known_tenants.add(tenant)
        return created

    async def get_subscription(self, tenant: str, sub_id: str) -> SubscriptionRecord | None:
        return await self._on_reader(lambda conn: subscription_rows.get(conn, tenant, sub_id))

    async def list_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> list[SubscriptionRecord]:
        return await self._on_reader(
            lambda conn: subscription_rows.page(conn, tenant, limit, offset)
        )

    async def count_subscriptions(self, tenant: str) -> int:
        return await self._on_reader(lambda conn: subscription_rows.count(conn, tenant))

    async def replace_subscription(
        self, tenant: str, doc: dict[str, Any], now: str, expected_modified_at: str
    ) -> bool:
        return await self._write(
            lambda conn: subscription_rows.replace(conn, tenant, doc, now, expected_modified_at)
        )

    async def delete_subscription(self, tenant: str, sub_id: str) -> bool:
        return await self._write(lambda conn: subscription_rows.delete(conn, tenant, sub_id))

    async def subscriptions_version(self, tenant: str) -> int:
        return await self._on_reader(lambda conn: subscription_rows.version(conn, tenant))

    # --- notification outbox (storage/sqlite/outbox.py) ----------------------------------

    async def claim_notifications(
        self, limit: int, lease_seconds: float, now: float
    ) -> list[PendingNotification]:
        return await self._write(lambda conn: outbox.claim(conn, limit, lease_seconds, now))

    async def notifications_delivered(
        self, delivered: Sequence[tuple[PendingNotification, str]]
    ) -> None:
        if delivered:
            await self._write(lambda conn: outbox.delivered(conn, delivered))

    async def subscriptions_by_key(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        return await self._on_reader(lambda conn: subscription_rows.by_key(conn, keys))

    async def notification_failed(
        self, item: PendingNotification, when: str, retry_at: float | None
    ) -> None:
        await self._write(lambda conn: outbox.failed(conn, item, when, retry_at))

    async def discard_notification(self, item: PendingNotification) -> None:
        await self._write(lambda conn: outbox.discard(conn, item))

    async def renew_notification(self, item: PendingNotification, until: float) -> bool:
        return await self._write(lambda conn: outbox.renew(conn, item, until))

    async def queue_notifications(self, tenant: str, items: Sequence[OutboxItem]) -> None:
        if items:
            due = time.time()
            await self._write(lambda conn: outbox.add(conn, tenant, items, due))
            self._outbox_signal.set()

    async def pass_throttle(self, tenant: str, sub_id: str, now: str, since: str) -> bool:
        return await self._write(
            lambda conn: subscription_rows.pass_throttle(conn, tenant, sub_id, now, since)
        )

    async def claim_periodic(self, now: float, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return await self._write(lambda conn: subscription_rows.claim_periodic(conn, now, limit))

    async def append_feed(
        self, tenant: str, sub_id: str, body: dict[str, Any], keep_seconds: float
    ) -> None:
        now = time.time()
        await self._write(
            lambda conn: feed.append(conn, tenant, sub_id, body, now, now - keep_seconds)
        )
        for waiter in self._feed_waiters:
            waiter.set()

    async def newest_feed_id(self, tenant: str, sub_id: str) -> int:
        return await self._on_reader(lambda conn: feed.newest(conn, tenant, sub_id))

    async def read_feed(
        self, tenant: str, sub_id: str, after: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        return await self._on_reader(lambda conn: feed.read(conn, tenant, sub_id, after, limit))

    async def wait_for_feed(self, timeout: float) -> None:
        """Woken by this process's appends; other processes' are seen on the timeout."""
        waiter = asyncio.Event()
        self._feed_waiters.add(waiter)
        try:
            with suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), timeout)
        finally:
            self._feed_waiters.discard(waiter)

    async def release_notifications(
        self, items: Sequence[PendingNotification], retry_at: float
    ) -> None:
        await self._write(lambda conn: outbox.release(conn, items, retry_at))

    async def wait_for_notifications(self, timeout: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._outbox_signal.wait(), timeout)
        self._outbox_signal.clear()

    # --- discovery (clauses 5.7.5–5.7.10), on a reader thread (storage/sqlite/discovery.py) ---

    async def entity_types(self, tenant: str) -> list[str]:
        return await self._on_reader(lambda conn: discovery.entity_types(conn, tenant))

    async def entity_type_details(
        self, tenant: str, type_iri: str | None = None
    ) -> list[discovery.EntityTypeDetails]:
        return await self._on_reader(
            lambda conn: discovery.entity_type_details(conn, tenant, type_iri)
        )

    async def attribute_names(self, tenant: str) -> list[str]:
        return await self._on_reader(lambda conn: discovery.attribute_names(conn, tenant))

    async def attribute_details(
        self, tenant: str, attr_iri: str | None = None
    ) -> list[discovery.AttributeDetails]:
        return await self._on_reader(
            lambda conn: discovery.attribute_details(conn, tenant, attr_iri)
        )
