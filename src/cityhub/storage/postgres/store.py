"""PostgreSQL + PostGIS store on an asyncpg pool.

Writes lock the rows they read (``SELECT … FOR UPDATE``) so concurrent workers serialise per
entity; migrations run under an advisory lock so several workers can start at once.
One-statement operations (read by id, single-entity create) run on a few dedicated autocommit
connections beside the pool: asyncpg's pool acquire/release costs ~60 µs of CPU per use, as
much as half the statement itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
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
from cityhub.storage.postgres import discovery, feed, history, outbox
from cityhub.storage.postgres import subscriptions as subscription_rows
from cityhub.storage.postgres.entity_maps import EntityMapRegistry
from cityhub.storage.postgres.feed_runs import FeedRunRegistry
from cityhub.storage.postgres.iot import IotRegistry
from cityhub.storage.postgres.query_sql import PAGE_COLUMN, PostgresDialect
from cityhub.storage.postgres.registrations import CsourceRegistry
from cityhub.storage.postgres.temporal_store import HistoryReads, HistoryWrites
from cityhub.storage.sql.compiler import Params, compile_from
from cityhub.storage.sql.series import SeriesKey, SeriesNumbers
from cityhub.storage.sql.value_index import value_keys

log = logging.getLogger(__name__)

_MIGRATION_LOCK = 0x43_49_54_59  # "CITY": one advisory lock id for schema changes
_FAST_CONNECTIONS = 3  # dedicated connections for one-statement operations, beside the pool


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])  # binary jsonb is a version byte (1) and the JSON text


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary jsonb: orjson's bytes go out as they are (no str round trip) and a jsonb[]
    # parameter is sent element by element without text-array quoting.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + orjson.dumps(value),
        decoder=_jsonb_decode,
        schema="pg_catalog",
        format="binary",
    )
    await conn.set_type_codec(
        "json",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release reset query: every use ends its own transaction.

    asyncpg still rolls back a transaction left open (a use cancelled mid-COMMIT) before
    calling this; a test holds it to that.
    """


def _array_literal(items: Sequence[str]) -> str:
    """A text[] literal: ``["a", 'b"c']`` → ``{"a","b\\"c"}``, cast with ``::text[]`` in SQL.

    Arrays of arrays of different lengths cannot be bound, and a literal parsed by array_in
    costs the server far less per row than unpacking a JSON array in a subquery.
    """
    quoted = (item.replace("\\", "\\\\").replace('"', '\\"') for item in items)
    return '{"' + '","'.join(quoted) + '"}'


def _entity_columns(tenant: str, entities: Sequence[Entity]) -> tuple[list[Any], ...]:
    """Column arrays (id, types, scopes, created_at, modified_at, doc, value_strings,
    value_numbers) for unnest()."""
    ids, types, scopes, created, modified, strings, numbers = [], [], [], [], [], [], []
    for entity in entities:
        ids.append(entity["id"])
        types.append(_array_literal(entity["type"]))
        scope = entity.get("scope")
        scopes.append(_array_literal(scope) if scope else None)
        created.append(entity["createdAt"])
        modified.append(entity["modifiedAt"])
        held, listed = _value_columns(tenant, entity)
        strings.append("{" + ",".join(map(str, held)) + "}")  # text[] item, cast per row
        numbers.append(listed)
    return ids, types, scopes, created, modified, list(entities), strings, numbers


def _value_columns(tenant: str, entity: Entity) -> tuple[list[int], dict[str, list[float]]]:
    """The entity's value index columns (migration 009): string hashes, numbers grouped by
    attribute key."""
    numbers, strings = value_keys(tenant, entity)
    grouped: dict[str, list[float]] = {}
    for key, value in sorted(numbers):
        grouped.setdefault(str(key), []).append(value)
    return sorted(strings), grouped


# The history of a created entity, in create_one's statement (parameters $11-$21 are
# history.row_columns; the CTE "ins" holds a row when the entity was created).
# The history of a created entity, in create_one's statement: its record, its series
# (made, or found again for an entity re-created: "DO UPDATE" returns those too) and its
# instances joined to them by attribute. Parameters: $11 the attributes, $12-$21
# history.unnest_with_attr. The CTE "ins" holds a row when the entity was created.
_CREATE_HISTORY = (
    ", new_history AS (INSERT INTO temporal_entities (tenant, id, types, scopes, created_at,"
    " modified_at) SELECT $1, $2, $3::text[], $4::text[], $5, $6 FROM ins"
    " ON CONFLICT (tenant, id) DO UPDATE SET types = excluded.types, scopes = excluded.scopes,"
    " modified_at = excluded.modified_at, deleted_at = NULL)"
    ", new_series AS (INSERT INTO temporal_series (tenant, entity_id, attr)"
    " SELECT $1, $2, k.attr FROM unnest($11::text[]) AS k(attr) WHERE EXISTS (SELECT 1 FROM ins)"
    " ON CONFLICT (tenant, entity_id, attr) DO UPDATE SET attr = excluded.attr"
    " RETURNING id, attr)"
    ", new_instances AS (INSERT INTO attribute_instances (series, "
    + history.INSTANCE_COLUMNS
    + ") SELECT new_series.id, u."
    + history.INSTANCE_COLUMNS.replace(", ", ", u.")
    + " FROM "
    + history.unnest_with_attr(12)
    + " JOIN new_series ON new_series.attr = u.attr)"
)

_UNNEST = (
    " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],"
    " $8::text[], $9::jsonb[])"
    " AS u(id, types, scopes, created_at, modified_at, doc, value_strings, value_numbers)"
)


def _entity_of(text: str) -> Entity:
    """An entity from its stored JSON text (the doc_text column of migration 016: read
    instead of the jsonb, which PostgreSQL would print afresh on every read)."""
    entity: Entity = orjson.loads(text)
    return entity


async def _fill_value_columns(conn: asyncpg.Connection) -> None:
    """The value index columns of the rows stored before migration 009, in its transaction."""
    last: tuple[str, str] = ("", "")
    while True:
        rows = await conn.fetch(
            "SELECT tenant, id, doc FROM entities WHERE (tenant, id) > ($1, $2)"
            " ORDER BY tenant, id LIMIT 1000",
            *last,
        )
        if not rows:
            return
        columns = [(r["tenant"], r["id"], *_value_columns(r["tenant"], r["doc"])) for r in rows]
        await conn.executemany(
            "UPDATE entities SET value_strings = $3::bigint[], value_numbers = $4"
            " WHERE tenant = $1 AND id = $2",
            columns,
        )
        last = (rows[-1]["tenant"], rows[-1]["id"])


class PostgresUnitOfWork(HistoryWrites):
    """Statements of one write transaction on one pooled connection."""

    def __init__(self, conn: asyncpg.Connection, tenant: str, series: SeriesNumbers) -> None:
        self._conn = conn
        self._tenant = tenant
        self.events: list[ChangeEvent] = []
        self._known_series = series
        # History series this transaction created; the store knows them once it commits.
        self.series: dict[SeriesKey, int] = {}

    async def get(self, entity_id: str) -> Entity | None:
        text = await self._conn.fetchval(
            "SELECT doc_text FROM entities WHERE tenant = $1 AND id = $2 FOR UPDATE",
            self._tenant,
            entity_id,
        )
        return None if text is None else _entity_of(text)

    async def get_many(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        if not entity_ids:
            return {}
        # Joined to unnest() rather than "id = ANY($2)": for its first five runs on a
        # connection PostgreSQL plans with the values bound, and the planner estimates
        # "= ANY" element by element — 110-170 ms for a batch's 1,000 ids, where the join
        # plans in well under a millisecond (the statement runs in ~3 ms either way).
        rows = await self._conn.fetch(
            "SELECT e.id, e.doc_text FROM unnest($2::text[]) AS k(id)"
            " JOIN entities e ON e.tenant = $1 AND e.id = k.id ORDER BY e.id FOR UPDATE OF e",
            self._tenant,
            list(dict.fromkeys(entity_ids)),
        )
        return {row["id"]: _entity_of(row["doc_text"]) for row in rows}

    async def insert(self, entities: Sequence[Entity]) -> list[str]:
        if not entities:
            return []
        rows = await self._conn.fetch(
            "INSERT INTO entities (tenant, id, types, scopes, created_at, modified_at, doc,"
            " value_strings, value_numbers)"
            " SELECT $1, u.id, u.types::text[], u.scopes::text[], u.created_at, u.modified_at,"
            " u.doc, u.value_strings::bigint[], u.value_numbers"
            + _UNNEST
            + " ON CONFLICT (tenant, id) DO NOTHING RETURNING id",
            self._tenant,
            *_entity_columns(self._tenant, entities),
        )
        # A repeated id is inserted once (its first occurrence); later ones count as existing.
        inserted = {row["id"] for row in rows}
        existing = []
        for entity in entities:
            if entity["id"] in inserted:
                inserted.discard(entity["id"])
            else:
                existing.append(entity["id"])
        return existing

    async def update(self, entities: Sequence[Entity]) -> None:
        if not entities:
            return
        # One version per id, the last: UPDATE … FROM applies one arbitrary source row of an
        # id that repeats.
        latest = list({entity["id"]: entity for entity in entities}.values())
        await self._conn.execute(
            "UPDATE entities AS e SET types = u.types::text[], scopes = u.scopes::text[],"
            " created_at = u.created_at, modified_at = u.modified_at, doc = u.doc,"
            " value_strings = u.value_strings::bigint[], value_numbers = u.value_numbers"
            + _UNNEST
            + " WHERE e.tenant = $1 AND e.id = u.id",
            self._tenant,
            *_entity_columns(self._tenant, latest),
        )

    async def delete(self, entity_ids: Sequence[str]) -> list[str]:
        if not entity_ids:
            return []
        rows = await self._conn.fetch(
            "DELETE FROM entities e USING unnest($2::text[]) AS k(id)"
            " WHERE e.tenant = $1 AND e.id = k.id RETURNING e.id",  # unnest: as get_many
            self._tenant,
            list(entity_ids),
        )
        deleted = {row["id"] for row in rows}
        return [i for i in entity_ids if i in deleted]

    async def subscriptions_version(self) -> int:
        return await subscription_rows.version(self._conn, self._tenant)

    async def subscription_docs(self) -> list[dict[str, Any]]:
        return await subscription_rows.docs(self._conn, self._tenant)

    async def add_notifications(self, items: Sequence[OutboxItem]) -> None:
        if items:
            await outbox.add(self._conn, self._tenant, items, time.time())


class PostgresStore(HistoryReads, IotRegistry, FeedRunRegistry, CsourceRegistry, EntityMapRegistry):
    """The production store: PostgreSQL 15 + PostGIS 3 through an asyncpg pool."""

    backend = "postgres"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.pool_size = pool_size
        self.events = EventBus()
        self._pool: asyncpg.Pool | None = None
        self._known_tenants: set[str] = set()
        self._fast: list[asyncpg.Connection] = []  # every dedicated connection
        self._idle: list[asyncpg.Connection] = []  # those not running a statement now
        self._replacing: set[asyncio.Task[None]] = set()
        self.commit_hook: CommitHook | None = None
        self._outbox_signal = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._feed_waiters: set[asyncio.Event] = set()
        self.record_history = True
        self._partitions: set[str] = set()  # instance partitions known to exist
        self.series = SeriesNumbers()

    async def _ensure_partitions(self) -> None:
        """The partitions this month's (and, near its end, next month's) instances go to.
        Checked against a set: the statement runs when the month changes."""
        now = datetime.now(UTC)
        for moment in (now, now + timedelta(days=2)):
            name, _, _ = history.month_bounds(moment)
            if name not in self._partitions:
                async with self.pool.acquire() as conn:
                    await history.ensure_partition(conn, moment)
                self._partitions.add(name)

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "store is not open"
        return self._pool

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            init=_init_connection,
            reset=_no_reset,
        )
        for _ in range(_FAST_CONNECTIONS):
            await self._add_fast()

    async def _listen(self) -> None:
        """LISTEN on the outbox and feed channels: any worker's commits wake us."""
        if self._listener is None:
            self._listener = await asyncpg.connect(self.url)
            await self._listener.add_listener(outbox.CHANNEL, lambda *_: self._outbox_signal.set())
            await self._listener.add_listener(feed.CHANNEL, lambda *_: self._wake_feeds())

    async def close(self) -> None:
        for task in list(self._replacing):
            task.cancel()
        if self._listener is not None:
            self._listener.terminate()
            self._listener = None
        await self._close_fast()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _add_fast(self) -> None:
        conn = await asyncpg.connect(self.url)
        await _init_connection(conn)
        self._fast.append(conn)
        self._idle.append(conn)

    async def _close_fast(self) -> None:
        fast, self._fast, self._idle = self._fast, [], []
        for conn in fast:
            try:
                await conn.close(timeout=5)
            except Exception:  # a connection busy or broken at shutdown is simply dropped
                conn.terminate()

    def _retire(self, conn: asyncpg.Connection) -> None:
        """Drop a connection interrupted mid-statement and open a fresh one in its place."""
        conn.terminate()
        if conn in self._fast:
            self._fast.remove(conn)

        async def replace() -> None:
            try:
                await self._add_fast()
            except (OSError, asyncpg.PostgresError):
                log.warning("Could not reopen a PostgreSQL connection; using the pool instead")

        task = asyncio.get_running_loop().create_task(replace())
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        """One statement in its own implicit transaction, on a dedicated connection when one
        is free, else through the pool."""
        if not self._idle:
            return await self.pool.fetchval(sql, *args)
        conn = self._idle.pop()
        try:
            value = await conn.fetchval(sql, *args)
        except asyncpg.PostgresError:
            self._idle.append(conn)  # the server refused the statement; the session is idle
            raise
        except BaseException:
            self._retire(conn)  # cancelled or broken while the statement ran
            raise
        self._idle.append(conn)
        return value

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, sql in bundled_migrations("postgres"):
                if name in done:
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
                if name.startswith("009_"):
                    await _fill_value_columns(conn)
        if applied:
            # New types (PostGIS) appear after the migration: fresh connections see them.
            await self.pool.expire_connections()
            await self._close_fast()
            for _ in range(_FAST_CONNECTIONS):
                await self._add_fast()
        return applied

    @asynccontextmanager
    async def transaction(self, tenant: str) -> AsyncIterator[PostgresUnitOfWork]:
        await self._ensure_partitions()
        async with self.pool.acquire() as conn:
            uow = PostgresUnitOfWork(conn, tenant, self.series)
            async with conn.transaction():
                yield uow
                if self.commit_hook is not None and uow.events:
                    await self.commit_hook.before_commit(tenant, uow)
                if self.record_history and uow.events:
                    marks, rows = history_of(uow.events, now_iso())
                    await history.record(conn, tenant, marks, rows, self.series, uow.series)
                if tenant not in self._known_tenants:
                    await conn.execute(
                        "INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING", tenant
                    )
        self.series.learn(uow.series)
        self._known_tenants.add(tenant)
        await self.events.publish(uow.events)

    async def create_one(self, tenant: str, entity: Entity, event: ChangeEvent) -> bool:
        # One statement, so one round trip in an implicit transaction; the tenant row rides
        # along in a data-modifying CTE until this worker knows the tenant exists. With a
        # commit hook the insert happens only while the tenant's subscription version is the
        # one at which the hook knows it has no subscription; otherwise the full transaction
        # runs, with the hook.
        quiet = 0 if self.commit_hook is None else self.commit_hook.quiet_version(tenant)
        if quiet is None:
            return await self._create_in_transaction(tenant, entity, event)
        tenant_cte = (
            ", new_tenant AS (INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING)"
            if tenant not in self._known_tenants
            else ""
        )
        history_args: list[Any] = []
        history_cte = ""
        if self.record_history:
            await self._ensure_partitions()
            _, rows = creation(entity, entity["createdAt"])
            history_args = [sorted({row.attr for row in rows}), [row.attr for row in rows]]
            history_args += history.row_columns(rows)
            history_cte = _CREATE_HISTORY
        scope = entity.get("scope")
        outcome = await self._fetchval(
            "WITH v AS (SELECT coalesce(max(version), 0) AS version FROM subscription_versions"
            " WHERE tenant = $1)"
            + tenant_cte
            + ", ins AS (INSERT INTO entities (tenant, id, types, scopes, created_at,"
            " modified_at, doc, value_strings, value_numbers)"
            " SELECT $1, $2, $3::text[], $4::text[], $5, $6, $7, $9::bigint[], $10 FROM v"
            " WHERE v.version = $8 ON CONFLICT (tenant, id) DO NOTHING RETURNING 1)"
            + history_cte
            + " SELECT CASE WHEN (SELECT version FROM v) <> $8 THEN 'stale'"
            " WHEN EXISTS (SELECT 1 FROM ins) THEN 'created' ELSE 'exists' END",
            tenant,
            entity["id"],
            entity["type"],
            scope or None,
            entity["createdAt"],
            entity["modifiedAt"],
            entity,
            quiet,
            *_value_columns(tenant, entity),
            *history_args,
        )
        if outcome == "stale":
            return await self._create_in_transaction(tenant, entity, event)
        self._known_tenants.add(tenant)
        if outcome == "created":
            await self.events.publish([event])
        return outcome == "created"

    async def _create_in_transaction(self, tenant: str, entity: Entity, event: ChangeEvent) -> bool:
        async with self.transaction(tenant) as uow:
            if await uow.insert([entity]):
                return False
            uow.events.append(event)
        return True

    async def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._known_tenants:
            return True
        found = await self._fetchval("SELECT 1 FROM tenants WHERE name = $1", tenant)
        if found:
            self._known_tenants.add(tenant)
        return bool(found)

    async def tenants(self) -> list[str]:
        rows = await self.pool.fetch("SELECT name FROM tenants ORDER BY name")
        return [row["name"] for row in rows]

    async def types_version(self, tenant: str, types: list[str]) -> tuple[int, str]:
        row = await self.pool.fetchrow(
            "SELECT count(*), max(e.modified_at)::text FROM entity_types t JOIN entities e"
            " ON e.tenant = t.tenant AND e.id = t.id"
            " WHERE t.tenant = $1 AND t.type = ANY($2::text[])",
            tenant,
            types,
        )
        return int(row[0]), str(row[1] or "")

    async def get_entity(self, tenant: str, entity_id: str) -> Entity | None:
        text = await self._fetchval(
            "SELECT doc_text FROM entities WHERE tenant = $1 AND id = $2", tenant, entity_id
        )
        return None if text is None else _entity_of(text)

    async def get_entity_text(self, tenant: str, entity_id: str) -> bytes | None:
        text = await self._fetchval(
            "SELECT doc_text FROM entities WHERE tenant = $1 AND id = $2", tenant, entity_id
        )
        return None if text is None else str(text).encode()

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, count: bool = False, ids_only: bool = False
    ) -> QueryResult:
        """Query Entities (clause 5.7.2) in one SQL statement (storage/postgres/query_sql.py)."""
        params = Params("postgres")
        tenant_param = params.add(tenant)
        matching, order, counting = compile_from(
            query, PostgresDialect(params, tenant_param, tenant), tenant_param
        )
        filters = list(params.values)
        column = "json_build_object('id', e.id)::text" if ids_only else PAGE_COLUMN
        page_sql = (
            f"SELECT {column} {matching} ORDER BY {order}"
            f" LIMIT {params.add(query.limit + 1)} OFFSET {params.add(query.offset)}"
        )
        try:
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(page_sql, *params.values) if query.limit > 0 else []
                total = (
                    await conn.fetchval(f"SELECT count(*) {counting}", *filters) if count else None
                )
        except asyncpg.DataError as exc:
            # A value PostgreSQL refuses to evaluate, e.g. a regular expression that Python
            # accepts but PostgreSQL's ARE syntax does not (class 22, data exception).
            raise BadRequestData(f"The query cannot be evaluated: {exc}") from exc
        more = len(rows) > query.limit
        return QueryResult([row[0] for row in rows[: query.limit]], total, more)

    # --- @context registry -------------------------------------------------------------

    async def put_context(self, record: ContextRecord) -> None:
        await self.pool.execute(
            "INSERT INTO jsonld_contexts VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (local_id) DO UPDATE SET url = excluded.url, kind = excluded.kind,"
            " body = excluded.body",
            record.local_id,
            record.url,
            record.kind,
            record.body,
            record.created_at,
            record.last_usage,
            record.hits,
        )

    async def _select_contexts(self, where: str, *args: Any) -> list[ContextRecord]:
        rows = await self.pool.fetch(
            "SELECT local_id, url, kind, body, created_at, last_usage, hits FROM jsonld_contexts "
            + where,
            *args,
        )
        return [ContextRecord(*row) for row in rows]

    async def get_context(self, local_id: str) -> ContextRecord | None:
        found = await self._select_contexts("WHERE local_id = $1", local_id)
        return found[0] if found else None

    async def get_context_by_url(self, url: str) -> ContextRecord | None:
        found = await self._select_contexts("WHERE url = $1", url)
        return found[0] if found else None

    async def list_contexts(self, kind: str | None = None) -> list[ContextRecord]:
        if kind is None:
            return await self._select_contexts("ORDER BY created_at, local_id")
        return await self._select_contexts("WHERE kind = $1 ORDER BY created_at, local_id", kind)

    async def delete_context(self, local_id: str) -> bool:
        status = await self.pool.execute(
            "DELETE FROM jsonld_contexts WHERE local_id = $1", local_id
        )
        return bool(status.endswith(" 1"))

    async def touch_context(self, local_id: str, when: str) -> None:
        await self.pool.execute(
            "UPDATE jsonld_contexts SET last_usage = $2, hits = hits + 1 WHERE local_id = $1",
            local_id,
            when,
        )

    # --- subscriptions (clause 5.8), storage/postgres/subscriptions.py -------------------

    async def create_subscription(self, tenant: str, doc: dict[str, Any], now: str) -> bool:
        created = await subscription_rows.insert(self.pool, tenant, doc, now)
        if created:
            self._known_tenants.add(tenant)
        return created

    async def get_subscription(self, tenant: str, sub_id: str) -> SubscriptionRecord | None:
        return await subscription_rows.get(self.pool, tenant, sub_id)

    async def list_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> list[SubscriptionRecord]:
        return await subscription_rows.page(self.pool, tenant, limit, offset)

    async def count_subscriptions(self, tenant: str) -> int:
        return await subscription_rows.count(self.pool, tenant)

    async def replace_subscription(
        self, tenant: str, doc: dict[str, Any], now: str, expected_modified_at: str
    ) -> bool:
        return await subscription_rows.replace(self.pool, tenant, doc, now, expected_modified_at)

    async def delete_subscription(self, tenant: str, sub_id: str) -> bool:
        return await subscription_rows.delete(self.pool, tenant, sub_id)

    async def subscriptions_version(self, tenant: str) -> int:
        return await subscription_rows.version(self.pool, tenant)

    # --- notification outbox (storage/postgres/outbox.py) --------------------------------

    async def claim_notifications(
        self, limit: int, lease_seconds: float, now: float
    ) -> list[PendingNotification]:
        await self._listen()
        return await outbox.claim(self.pool, limit, lease_seconds, now)

    async def notifications_delivered(
        self, delivered: Sequence[tuple[PendingNotification, str]]
    ) -> None:
        if delivered:
            await outbox.delivered(self.pool, delivered)

    async def subscriptions_by_key(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        return await subscription_rows.by_key(self.pool, keys)

    async def notification_failed(
        self, item: PendingNotification, when: str, retry_at: float | None
    ) -> None:
        await outbox.failed(self.pool, item, when, retry_at)

    async def discard_notification(self, item: PendingNotification) -> None:
        await outbox.discard(self.pool, item)

    async def renew_notification(self, item: PendingNotification, until: float) -> bool:
        return await outbox.renew(self.pool, item, until)

    async def queue_notifications(self, tenant: str, items: Sequence[OutboxItem]) -> None:
        if items:
            async with self.pool.acquire() as conn, conn.transaction():
                await outbox.add(conn, tenant, items, time.time())

    async def pass_throttle(self, tenant: str, sub_id: str, now: str, since: str) -> bool:
        return await subscription_rows.pass_throttle(self.pool, tenant, sub_id, now, since)

    async def claim_periodic(self, now: float, limit: int) -> list[tuple[str, dict[str, Any]]]:
        return await subscription_rows.claim_periodic(self.pool, now, limit)

    def _wake_feeds(self) -> None:
        for waiter in self._feed_waiters:
            waiter.set()

    async def append_feed(
        self, tenant: str, sub_id: str, body: dict[str, Any], keep_seconds: float
    ) -> None:
        now = time.time()
        await feed.append(self.pool, tenant, sub_id, body, now, now - keep_seconds)

    async def newest_feed_id(self, tenant: str, sub_id: str) -> int:
        return await feed.newest(self.pool, tenant, sub_id)

    async def read_feed(
        self, tenant: str, sub_id: str, after: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        return await feed.read(self.pool, tenant, sub_id, after, limit)

    async def wait_for_feed(self, timeout: float) -> None:
        """Woken through LISTEN by the appends of every worker."""
        await self._listen()
        waiter = asyncio.Event()
        self._feed_waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), timeout)
        finally:
            self._feed_waiters.discard(waiter)

    async def release_notifications(
        self, items: Sequence[PendingNotification], retry_at: float
    ) -> None:
        await outbox.release(self.pool, items, retry_at)

    async def wait_for_notifications(self, timeout: float) -> None:
        await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox_signal.wait(), timeout)
        self._outbox_signal.clear()

    # --- discovery (clauses 5.7.5–5.7.10), one pooled connection (storage/postgres/discovery.py)

    async def entity_types(self, tenant: str) -> list[str]:
        async with self.pool.acquire() as conn:
            return await discovery.entity_types(conn, tenant)

    async def entity_type_details(
        self, tenant: str, type_iri: str | None = None
    ) -> list[discovery.EntityTypeDetails]:
        async with self.pool.acquire() as conn:
            return await discovery.entity_type_details(conn, tenant, type_iri)

    async def attribute_names(self, tenant: str) -> list[str]:
        async with self.pool.acquire() as conn:
            return await discovery.attribute_names(conn, tenant)

    async def attribute_details(
        self, tenant: str, attr_iri: str | None = None
    ) -> list[discovery.AttributeDetails]:
        async with self.pool.acquire() as conn:
            return await discovery.attribute_details(conn, tenant, attr_iri)
