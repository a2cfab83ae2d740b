"""Where the hub's time goes: GET, POST and batch upsert driven in process, under cProfile.

    .venv/bin/python -m bench.hotpaths [--store sqlite|postgres|both] [-n 5000] [--top 25]

The ASGI app is called directly (no HTTP server, no sockets) on uvloop, one request at a time,
so the figures are the hub's own CPU per operation: framework, parsing, rendering and the
store, without uvicorn and the load generator. Then micro-measurements of the building blocks
the profile points at, each beside the cheapest alternative, to size the proposals.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import shutil
import sqlite3
import tempfile
import time
import timeit
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import uvloop

from bench.entities import DEFAULT_PG, ID_PREFIX, SEED_ID, parking_entity, with_database
from cityhub.api.body import check_structure, json_depth
from cityhub.app import create_app
from cityhub.hub import Hub
from cityhub.model.values import check_name
from cityhub.settings import load_settings

Call = Callable[[], Awaitable[int]]


def asgi_call(app: Any, method: str, path: str, body: bytes = b"") -> Call:
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"application/json")]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]

    async def call() -> int:
        status = 0
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 1026),
            "state": {},
        }
        await app(scope, receive, send)
        return status

    return call


async def timed(name: str, make: Callable[[int], Call], n: int, profile: cProfile.Profile) -> None:
    for i in range(min(200, n)):  # warm caches, prepared statements, the context's TermMap
        await make(-1 - i)()
    calls = [make(i) for i in range(n)]
    cpu, wall = time.process_time(), time.perf_counter()
    statuses = set()
    for call in calls:
        statuses.add(await call())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"  {name:<28} {cpu * 1e6 / n:8.0f} µs CPU, {wall * 1e6 / n:8.0f} µs wall each;"
        f" statuses {sorted(statuses)}"
    )
    profile.enable()
    for call in [make(n + i) for i in range(n)]:
        await call()
    profile.disable()


def show(profile: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("\n".join("    " + line[:150] for line in lines[start:]))


async def run_store(store: str, n: int, batches: int, top: int, pg_admin: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cityhub-hotpaths-"))
    name = f"cityhub_hotpaths_{uuid.uuid4().hex[:8]}"
    if store == "postgres":
        admin = await asyncpg.connect(pg_admin)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(pg_admin, name)
    else:
        url = f"sqlite:///{workdir / 'hub.db'}"
    settings = load_settings(environ={}, database_url=url, context_allow_hosts="")
    hub = Hub(settings)
    app = create_app(settings, hub)
    await hub.open()
    try:
        post = asgi_call(
            app, "POST", "/ngsi-ld/v1/entities", orjson.dumps(parking_entity(SEED_ID, 1))
        )
        assert await post() == 201
        print(f"== {store}: {n} requests each, in process")
        for label, make in (
            (
                "GET /entities/{id}",
                lambda i: asgi_call(app, "GET", f"/ngsi-ld/v1/entities/{SEED_ID}"),
            ),
            (
                "POST /entities",
                lambda i: asgi_call(
                    app,
                    "POST",
                    "/ngsi-ld/v1/entities",
                    orjson.dumps(parking_entity(f"{ID_PREFIX}p{i}", i)),
                ),
            ),
        ):
            profile = cProfile.Profile()
            await timed(label, make, n, profile)
            print(f"  cProfile {label}, top by own time:")
            show(profile, top)

        def batch(i: int) -> Call:
            items = [parking_entity(f"{ID_PREFIX}b{i}-{k}", k) for k in range(1000)]
            return asgi_call(
                app, "POST", "/ngsi-ld/v1/entityOperations/upsert", orjson.dumps(items)
            )

        profile = cProfile.Profile()
        await timed("upsert 1,000 (per request)", batch, batches, profile)
        print("  cProfile batch upsert, top by own time:")
        show(profile, top)
    finally:
        await hub.close()
        if store == "postgres":
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        shutil.rmtree(workdir, ignore_errors=True)


async def building_blocks() -> None:
    """The costs the proposals rest on, each beside the cheaper alternative."""
    print("== building blocks")
    body = orjson.dumps([parking_entity(f"{ID_PREFIX}x{k}", k) for k in range(1000)])
    parsed = orjson.loads(body)
    number = 20
    loads = timeit.timeit(lambda: orjson.loads(body), number=number) / number
    depth = timeit.timeit(lambda: json_depth(parsed, 32), number=number) / number
    print(f"  orjson.loads 1,000 entities      {loads * 1e3:7.2f} ms")
    checked = timeit.timeit(lambda: check_structure(body, parsed, 32), number=number) / number
    print(f"  json_depth on them               {depth * 1e3:7.2f} ms")
    print(f"  check_structure (the raw bytes)  {checked * 1e3:7.2f} ms")
    names = ["availableSpotNumber", "totalSpotNumber", "occupancy", "category", "location"]
    n = 100_000
    check = timeit.timeit(lambda: [check_name(x) for x in names], number=n // 5) / n
    known = frozenset(names)
    cached = timeit.timeit(lambda: [x in known for x in names], number=n // 5) / n
    print(
        f"  check_name per name              {check * 1e6:7.2f} µs (set lookup {cached * 1e6:.2f})"
    )

    pool = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, doc TEXT)")
    conn.execute("INSERT INTO t VALUES ('a', ?)", (body[:2000].decode(errors="ignore"),))

    def lookup() -> Any:
        return conn.execute("SELECT doc FROM t WHERE id = ?", ("a",)).fetchone()

    n = 5000
    start = time.process_time()
    for _ in range(n):
        await loop.run_in_executor(pool, lookup)
    hop = (time.process_time() - start) / n
    start = time.process_time()
    for _ in range(n):
        lookup()
    inline = (time.process_time() - start) / n
    print(f"  SQLite PK lookup via thread hop  {hop * 1e6:7.1f} µs CPU (inline {inline * 1e6:.1f})")
    pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("-n", type=int, default=3000, help="single-entity requests per profile")
    parser.add_argument("--batches", type=int, default=10, help="1,000-entity upserts")
    parser.add_argument("--top", type=int, default=22)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]

    async def run() -> None:
        for store in stores:
            await run_store(store, args.n, args.batches, args.top, args.pg_url)
        await building_blocks()

    uvloop.run(run())


if __name__ == "__main__":
    main()
