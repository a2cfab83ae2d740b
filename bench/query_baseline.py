"""Bare ASGI baseline for bench/query.py: the hub's query SQL run with the raw driver.

``BENCH_DATABASE_URL`` is the hub's own database (``sqlite:///path`` or ``postgresql://…``),
already loaded; ``BENCH_QUERY_FILE`` a JSON file ``{slug: {"sql", "params", "count_sql",
"count_params"}}`` holding, for each benchmark query, the statements the hub's store runs for
it (compiled by ``cityhub.storage.sql.compiler`` in bench/query.py, exactly as
``SqliteStore.query_entities`` / ``PostgresStore.query_entities`` build them).

``GET`` or ``POST /q/{slug}`` runs the page statement (and the count statement when the query
has count=true) and answers the stored documents as a JSON array, with ``X-Total-Count`` when
counted; the request body, if any, is read and ignored. No parsing, no @context, no rendering:
the physical limit the hub is held to.

The SQLite side runs the statements on ``BENCH_SQLITE_THREADS`` reader threads (default 4, the
hub's ``sqlite_readers``), each with its own connection: a query here takes milliseconds, and
sqlite3 releases the GIL while it steps, so threads overlap where the loop alone could not.
``BENCH_SQLITE_THREADS=0`` runs them on the event loop instead. PostgreSQL uses a pool of 10
connections without the per-release reset query, as the hub does.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import orjson

from cityhub.storage.sqlite.functions import register as register_sqlite_functions

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Statements = dict[str, Any]


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA query_only=ON")
    register_sqlite_functions(conn)  # the compiled SQL calls cityhub_geo_match and others
    return conn


class QueryBaseline:
    """One worker's database handle and the compiled statements."""

    def __init__(self, url: str, queries: dict[str, Statements], sqlite_threads: int) -> None:
        self.url = url
        self.queries = queries
        self.is_pg = url.startswith(("postgresql:", "postgres:"))
        self.pool: asyncpg.Pool | None = None
        self.sqlite_threads = sqlite_threads
        self.executor: ThreadPoolExecutor | None = None
        self.local = threading.local()
        self.conns: list[sqlite3.Connection] = []
        self.inline: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self.is_pg:
            self.pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=10, reset=_no_reset, init=_json_params
            )
            return
        path = self.url[len("sqlite:///") :]
        if self.sqlite_threads > 0:
            self.executor = ThreadPoolExecutor(self.sqlite_threads, "baseline-reader")
        else:
            self.inline = _sqlite_connect(path)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        for conn in [*self.conns, *([self.inline] if self.inline else [])]:
            conn.close()

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = _sqlite_connect(self.url[len("sqlite:///") :])
            self.local.conn = conn
            self.conns.append(conn)
        return conn

    def _sqlite_run(
        self, q: Statements, conn: sqlite3.Connection
    ) -> tuple[list[bytes], int | None]:
        docs = [row[0] for row in conn.execute(q["sql"], q["params"])]
        total = None
        if q["count_sql"] is not None:
            total = conn.execute(q["count_sql"], q["count_params"]).fetchone()[0]
        return docs, total

    async def run(self, slug: str) -> tuple[bytes, int | None] | None:
        q = self.queries.get(slug)
        if q is None:
            return None
        limit = q["limit"]
        if self.pool is not None:
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(q["sql"], *q["params"])
                total = None
                if q["count_sql"] is not None:
                    total = await conn.fetchval(q["count_sql"], *q["count_params"])
            docs = [row[0] for row in rows]  # jsonb arrives as its JSON text
        elif self.executor is not None:
            docs, total = await asyncio.get_running_loop().run_in_executor(
                self.executor, lambda: self._sqlite_run(q, self._reader())
            )
        else:
            assert self.inline is not None
            docs, total = self._sqlite_run(q, self.inline)
        body = (
            b"[" + b",".join(d.encode() if isinstance(d, str) else d for d in docs[:limit]) + b"]"
        )
        return body, total


async def _json_params(conn: asyncpg.Connection) -> None:
    """jsonb parameters (the value index's bounds) bound from their JSON-decoded values, as
    the hub's pool binds them."""
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=lambda text: text,
        schema="pg_catalog",
    )


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release reset query, as the hub does."""


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if not message.get("more_body"):
            return


async def _respond(send: Send, status: int, body: bytes, total: int | None = None) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    if total is not None:
        headers.append((b"x-total-count", str(total).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_STATE: dict[str, QueryBaseline] = {}


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            with open(os.environ["BENCH_QUERY_FILE"], "rb") as file:
                queries = orjson.loads(file.read())
            threads = int(os.environ.get("BENCH_SQLITE_THREADS", "4"))
            baseline = QueryBaseline(os.environ["BENCH_DATABASE_URL"], queries, threads)
            await baseline.open()
            _STATE["baseline"] = baseline
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if "baseline" in _STATE:
                await _STATE["baseline"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The baseline ASGI application."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/health":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    if scope["method"] == "POST":
        await _drain(receive)
    found = await _STATE["baseline"].run(path[3:]) if path.startswith("/q/") else None
    if found is None:
        await _respond(send, 404, b"[]")
    else:
        await _respond(send, 200, *found)
