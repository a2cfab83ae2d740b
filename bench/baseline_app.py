"""Bare ASGI baseline for bench/entities.py: the same work as the hub with nothing in between.

Run by the benchmark under the same uvicorn settings as the hub (uvloop, httptools, same worker
count). ``BENCH_DATABASE_URL`` selects the store (``sqlite:///path`` or ``postgresql://…``);
the database already holds the hub's schema (migrated by the benchmark).

Routes (the hub's equivalents in brackets):

* ``GET /entities/{id}``  read one row with the raw driver, return its JSON document
  [GET /ngsi-ld/v1/entities/{id}]
* ``POST /entities``      parse the body, insert one equivalent row [POST /ngsi-ld/v1/entities]
* ``POST /batch``         parse an array of entities, COPY (PostgreSQL) or executemany (SQLite)
  the equivalent rows [POST /ngsi-ld/v1/entityOperations/upsert]
* ``GET /health``

SQLite calls run synchronously on the event loop: a lookup by primary key takes microseconds,
so this is the cheapest correct way to serve it, i.e. the physical limit the hub is held to.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import asyncpg
import orjson

from cityhub.storage.sqlite.functions import register as register_sqlite_functions

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

COLUMNS = ("tenant", "id", "types", "scopes", "created_at", "modified_at", "doc")
INSERT_SQLITE = (
    "INSERT INTO entities (tenant, id, types, scopes, created_at, modified_at, doc)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PG = (
    "INSERT INTO entities (tenant, id, types, scopes, created_at, modified_at, doc)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
)
JSON_HEADERS = [(b"content-type", b"application/json")]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Baseline:
    """One worker's database handle and the three operations."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_pg = url.startswith(("postgresql:", "postgres:"))
        self.sqlite: sqlite3.Connection | None = None
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if self.is_pg:
            # Same pool shape as the hub: 10 connections, no per-release reset query.
            self.pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=10, reset=_no_reset
            )
        else:
            path = self.url[len("sqlite:///") :]
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            register_sqlite_functions(conn)  # the hub's schema has triggers that call them
            self.sqlite = conn

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.sqlite is not None:
            self.sqlite.close()

    async def get(self, entity_id: str) -> bytes | None:
        if self.pool is not None:
            doc = await self.pool.fetchval(  # the stored text the hub reads (migration 016)
                "SELECT doc_text FROM entities WHERE tenant = $1 AND id = $2", "", entity_id
            )
            return None if doc is None else doc.encode()
        assert self.sqlite is not None
        row = self.sqlite.execute(
            "SELECT doc FROM entities WHERE tenant = ? AND id = ?", ("", entity_id)
        ).fetchone()
        return None if row is None else row[0].encode()

    def _row(self, entity: dict[str, Any], doc: str, now: str) -> tuple[Any, ...]:
        types = entity["type"] if isinstance(entity["type"], list) else [entity["type"]]
        return (
            "",
            entity["id"],
            types if self.is_pg else orjson.dumps(types).decode(),
            None,
            now,
            now,
            doc,
        )

    async def insert(self, body: bytes) -> None:
        entity = orjson.loads(body)
        row = self._row(entity, body.decode(), _now())
        if self.pool is not None:
            await self.pool.execute(INSERT_PG, *row)
            return
        assert self.sqlite is not None
        self.sqlite.execute(INSERT_SQLITE, row)

    async def insert_many(self, body: bytes) -> int:
        entities = orjson.loads(body)
        now = _now()
        rows = [self._row(e, orjson.dumps(e).decode(), now) for e in entities]
        if self.pool is not None:
            async with self.pool.acquire() as conn:
                await conn.copy_records_to_table("entities", records=rows, columns=COLUMNS)
            return len(rows)
        conn = self.sqlite
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(INSERT_SQLITE, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release reset query, as the hub does."""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes = b"", json: bool = False) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if json:
        headers.extend(JSON_HEADERS)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send, state: dict[str, Baseline]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            baseline = Baseline(os.environ["BENCH_DATABASE_URL"])
            await baseline.open()
            state["baseline"] = baseline
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if "baseline" in state:
                await state["baseline"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return


_STATE: dict[str, Baseline] = {}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The baseline ASGI application."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, _STATE)
        return
    baseline = _STATE["baseline"]
    method, path = scope["method"], scope["path"]
    if method == "GET" and path.startswith("/entities/"):
        doc = await baseline.get(unquote(path[len("/entities/") :]))
        if doc is None:
            await _respond(send, 404)
        else:
            await _respond(send, 200, doc, json=True)
    elif method == "POST" and path == "/entities":
        await baseline.insert(await _read_body(receive))
        await _respond(send, 201)
    elif method == "POST" and path == "/batch":
        count = await baseline.insert_many(await _read_body(receive))
        await _respond(send, 201, orjson.dumps({"inserted": count}), json=True)
    elif path == "/health":
        await _respond(send, 200, b'{"status":"ok"}', json=True)
    else:
        await _respond(send, 404)
