"""Temporal queries and history's cost on ingestion, each figure beside its baseline.

    .venv/bin/python -m bench.temporal [--store sqlite|postgres|both] [--entities 1000]
                                       [--instances 1000] [--requests 200]

For each store a fresh database is migrated and ``cityhub serve`` starts on a free
127.0.0.1 port. ``--entities`` TrafficFlowObserved entities receive ``--instances``
averageVehicleSpeed observations each (5 minutes apart from 2026-11-01T00:00Z: 1,000 of
them span 3.5 days) through ``POST /ngsi-ld/v1/temporal/entities``, 4 clients at once.

Then each query runs ``--requests`` times, one at a time, through the hub's HTTP API and,
as its baseline, the SQL statements the hub's store runs for it (built here with
``cityhub.storage.sql.temporal_sql`` and the store's dialect, as the store builds them)
through the raw driver (sqlite3 / asyncpg) in this process; p50 and p95 of each:

* lastN=10 of one entity's speed (no time range)
* one day of one entity's speed, raw (288 instances)
* one day of one entity's speed in 15-minute avg/min/max periods (96 periods)
* the speed of 100 entities over one hour, aggregated avg/min/max (a query by type)

Entities are picked at random (seeded). Target (issue 5): p95 <= 100 ms each on PostgreSQL.

Ingestion: two more hubs on fresh databases, one with ``CITYHUB_TEMPORAL_HISTORY=false``,
each receive the same ``--upserts`` entity updates (new speed and observedAt each) through
``POST /entityOperations/upsert`` in batches of 1,000, 4 clients at once, ``--ingest-runs``
times each, alternating; the figure is the median of updates per second with history and
without (target: history costs <= 30 %).
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
import orjson

from bench.entities import (
    DEFAULT_PG,
    HUB_API,
    VENV_BIN,
    Server,
    free_port,
    fresh_database,
    start_server,
    stop_server,
)
from cityhub.query.ast import EntityQuery, TypeName
from cityhub.query.temporal import TemporalQuery, micros_of
from cityhub.storage.postgres.temporal_query_sql import PostgresTemporalDialect
from cityhub.storage.sql import temporal_sql
from cityhub.storage.sql.compiler import Params
from cityhub.storage.sqlite.functions import register as register_sqlite_functions
from cityhub.storage.sqlite.temporal_query_sql import SqliteTemporalDialect

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
TYPE = "TrafficFlowObserved"
SPEED = "averageVehicleSpeed"
START = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
TARGET_MS = 100.0
HISTORY_COST_TARGET = 0.30
CLIENTS = 4


def entity_id(n: int) -> str:
    return f"urn:ngsi-ld:{TYPE}:bench-{n:05d}"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def speed(n: int, k: int) -> float:
    return round(40 + 25 * math.sin((k + n) / 48 * math.pi) + (k * 7919 + n) % 11 - 5, 1)


def temporal_body(n: int, instances: int) -> bytes:
    return orjson.dumps(
        {
            "id": entity_id(n),
            "type": TYPE,
            SPEED: [
                {
                    "type": "Property",
                    "value": speed(n, k),
                    "unitCode": "KMH",
                    "observedAt": iso(START + k * STEP),
                }
                for k in range(instances)
            ],
        }
    )


async def _in_parallel(jobs: list[Callable[[httpx.AsyncClient], Awaitable[None]]]) -> None:
    queue = list(reversed(jobs))

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            while queue:
                await queue.pop()(client)

    await asyncio.gather(*(worker() for _ in range(CLIENTS)))


def load(base: str, entities: int, instances: int) -> float:
    """Create every entity's temporal evolution; seconds taken."""

    def job(n: int) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        async def post(client: httpx.AsyncClient) -> None:
            response = await client.post(
                f"{base}{HUB_API}/temporal/entities",
                content=temporal_body(n, instances),
                headers={"Content-Type": "application/json"},
            )
            if response.status_code not in (201, 204):
                raise RuntimeError(f"load: {response.status_code} {response.text[:300]}")

        return post

    began = time.perf_counter()
    asyncio.run(_in_parallel([job(n) for n in range(entities)]))
    return time.perf_counter() - began


# --- the measured queries -----------------------------------------------------------------


class Case:
    """One query: its HTTP request and the store's SQL statements for the baseline."""

    def __init__(
        self,
        name: str,
        url: Callable[[int], tuple[str, dict[str, str]]],
        statements: Callable[[int, str], list[tuple[str, list[Any]]]],
        check: Callable[[Any], None],
    ) -> None:
        self.name = name
        self.url = url
        self.statements = statements
        self.check = check


def _dialect(store: str) -> Any:
    if store == "sqlite":
        params = Params("sqlite")
        return SqliteTemporalDialect(params.add(""), params, "")
    params = Params("postgres")
    return PostgresTemporalDialect(params, params.add(""), "")


def _statement(store: str, build: Callable[[Any], str]) -> tuple[str, list[Any]]:
    dialect = _dialect(store)
    sql = build(dialect)
    return sql, list(dialect.params.values)


def _in_range(instances: int, start: datetime, end: datetime) -> list[int]:
    return [k for k in range(instances) if start <= START + k * STEP < end]


def cases(entities: int, instances: int) -> list[Case]:
    attrs = frozenset({DEFAULT + SPEED})
    day = START + timedelta(days=1)
    day_q = TemporalQuery("between", micros_of(day), micros_of(day + timedelta(days=1)))
    hour = day + timedelta(hours=9)
    hour_q = TemporalQuery("between", micros_of(hour), micros_of(hour + timedelta(hours=1)))
    last_q = TemporalQuery(last_n=10)
    between = {"timerel": "between", "timeAt": iso(day), "endTimeAt": iso(day + timedelta(days=1))}

    def retrieve(params: dict[str, str]) -> Callable[[int], tuple[str, dict[str, str]]]:
        return lambda n: (f"{HUB_API}/temporal/entities/{entity_id(n)}", {"attrs": SPEED, **params})

    def head(store: str, n: int) -> tuple[str, list[Any]]:
        return _statement(store, lambda d: temporal_sql.entity_by_id(entity_id(n), d))

    def count(expected: int) -> Callable[[Any], None]:
        def check(body: Any) -> None:
            found = body.get(SPEED, [])
            got = len(found) if isinstance(found, list) else -1
            if got != expected:
                raise AssertionError(f"expected {expected} instances, got {got}")

        return check

    def periods(expected: int) -> Callable[[Any], None]:
        def check(body: Any) -> None:
            got = len(body.get(SPEED, {}).get("avg", []))
            if got != expected:
                raise AssertionError(f"expected {expected} periods, got {got}")

        return check

    in_day = _in_range(instances, day, day + timedelta(days=1))
    in_hour = _in_range(instances, hour, hour + timedelta(hours=1))

    def many(body: Any) -> None:
        expected = min(100, entities) if in_hour else 0
        if len(body) != expected or any(len(e[SPEED]["avg"]) != 1 for e in body):
            raise AssertionError(f"expected {expected} entities with one period each")

    aggregated = {"options": "aggregatedValues", "aggrMethods": "avg,min,max"}
    by_type = EntityQuery(types=TypeName(DEFAULT + TYPE), attrs=attrs, limit=100)
    return [
        Case(
            "lastN=10, one entity",
            retrieve({"lastN": "10"}),
            lambda n, s: [
                head(s, n),
                _statement(
                    s, lambda d: temporal_sql.instances([entity_id(n)], attrs, None, last_q, 10, d)
                ),
            ],
            count(min(10, instances)),
        ),
        Case(
            "one day raw, one entity",
            retrieve(between),
            lambda n, s: [
                head(s, n),
                _statement(
                    s, lambda d: temporal_sql.instances([entity_id(n)], attrs, None, day_q, 1001, d)
                ),
            ],
            count(len(in_day)),
        ),
        Case(
            "one day, 15-min avg/min/max",
            retrieve({**between, **aggregated, "aggrPeriodDuration": "PT15M"}),
            lambda n, s: [
                head(s, n),
                _statement(
                    s,
                    lambda d: temporal_sql.aggregates(
                        [entity_id(n)],
                        attrs,
                        None,
                        day_q,
                        day_q.time_at,
                        900_000_000,
                        None,
                        d,
                    ),
                ),
            ],
            periods(len({k // 3 for k in in_day})),
        ),
        Case(
            "100 entities, 1 h aggregated",
            lambda n: (
                f"{HUB_API}/temporal/entities",
                {
                    "type": TYPE,
                    "attrs": SPEED,
                    "timerel": "between",
                    "timeAt": iso(hour),
                    "endTimeAt": iso(hour + timedelta(hours=1)),
                    "limit": "100",
                    **aggregated,
                },
            ),
            lambda n, s: [
                _statement(s, lambda d: temporal_sql.entity_page(by_type, hour_q, d)[0]),
                _statement(
                    s,
                    lambda d: temporal_sql.aggregates(
                        [entity_id(i) for i in range(min(100, entities))],
                        attrs,
                        None,
                        hour_q,
                        None,
                        None,
                        None,
                        d,
                    ),
                ),
            ],
            many,
        ),
    ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


async def time_hub(base: str, case: Case, picks: list[int]) -> list[float]:
    samples = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for n in picks:
            path, params = case.url(n)
            began = time.perf_counter()
            response = await client.get(path, params=params)
            samples.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{case.name}: {response.status_code} {response.text[:300]}")
        case.check(response.json())
    return samples


async def time_raw(store: str, url: str, case: Case, picks: list[int]) -> list[float]:
    samples = []
    if store == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :])
        register_sqlite_functions(conn)
        for n in picks:
            statements = case.statements(n, store)
            began = time.perf_counter()
            for sql, values in statements:
                conn.execute(sql, values).fetchall()
            samples.append((time.perf_counter() - began) * 1000)
        conn.close()
        return samples
    pg = await asyncpg.connect(url)
    try:
        for n in picks:
            statements = case.statements(n, store)
            began = time.perf_counter()
            for sql, values in statements:
                await pg.fetch(sql, *values)
            samples.append((time.perf_counter() - began) * 1000)
    finally:
        await pg.close()
    return samples


# --- ingestion ---------------------------------------------------------------------------------


def upsert_rate(base: str, entities: int, updates: int) -> float:
    """Entity updates per second through batch upsert (1,000 per request)."""
    rounds = max(1, updates // entities)

    def job(k: int, first: int) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
        body = orjson.dumps(
            [
                {
                    "id": entity_id(n),
                    "type": TYPE,
                    SPEED: {
                        "type": "Property",
                        "value": speed(n, k),
                        "observedAt": iso(START + k * STEP),
                    },
                }
                for n in range(first, min(first + 1000, entities))
            ]
        )

        async def post(client: httpx.AsyncClient) -> None:
            response = await client.post(
                f"{base}{HUB_API}/entityOperations/upsert",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            if response.status_code not in (201, 204):
                raise RuntimeError(f"upsert: {response.status_code} {response.text[:300]}")

        return post

    asyncio.run(_in_parallel([job(0, first) for first in range(0, entities, 1000)]))  # create
    began = time.perf_counter()
    jobs = [job(k, first) for k in range(1, rounds + 1) for first in range(0, entities, 1000)]
    asyncio.run(_in_parallel(jobs))
    return rounds * entities / (time.perf_counter() - began)


def serve(url: str, workdir: Path, name: str, history: bool = True) -> Server:
    port = free_port()
    return start_server(
        name,
        [str(VENV_BIN / "cityhub"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        {
            "CITYHUB_DATABASE_URL": url,
            "CITYHUB_LOG_LEVEL": "warning",
            "CITYHUB_CONTEXT_ALLOW_HOSTS": "",
            "CITYHUB_TEMPORAL_HISTORY": "true" if history else "false",
        },
        port,
        workdir / f"{name}.log",
    )


def bench_store(store: str, args: argparse.Namespace) -> None:
    print(f"== {store}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"cityhub-bench-temporal-{store}-"))
    with fresh_database(store, "temporal", args.pg_url, workdir) as url:
        hub = serve(url, workdir, "hub")
        try:
            took = load(hub.base, args.entities, args.instances)
            total = args.entities * args.instances
            print(f"  loaded {total:,} instances in {took:.1f} s ({total / took:,.0f}/s)")
            if store == "postgres":
                asyncio.run(_analyze(url))
            rng = random.Random(5)
            print(f"  {'query':32} {'hub p50':>9} {'hub p95':>9} {'SQL p50':>9} {'SQL p95':>9}")
            for case in cases(args.entities, args.instances):
                picks = [rng.randrange(args.entities) for _ in range(args.requests)]
                hub_ms = percentiles(asyncio.run(time_hub(hub.base, case, picks)))
                raw_ms = percentiles(asyncio.run(time_raw(store, url, case, picks)))
                verdict = ""
                if store == "postgres":
                    verdict = "✔" if hub_ms[1] <= TARGET_MS else "✘"
                print(
                    f"  {case.name:32} {hub_ms[0]:8.2f}ms {hub_ms[1]:8.2f}ms"
                    f" {raw_ms[0]:8.2f}ms {raw_ms[1]:8.2f}ms {verdict}",
                    flush=True,
                )
        finally:
            stop_server(hub)
    # Runs alternate (on, off, on, off, …), each on a fresh database, and each mode's median
    # counts: one run's figure moves by ±20 % on this shared machine.
    rates: dict[bool, list[float]] = {True: [], False: []}
    for turn in range(args.ingest_runs):
        for history in (True, False):
            tag = f"{'on' if history else 'off'}{turn}"
            with fresh_database(store, f"ingest_{tag}", args.pg_url, workdir) as url:
                server = serve(url, workdir, f"ingest-{tag}", history)
                try:
                    rates[history].append(upsert_rate(server.base, args.entities, args.upserts))
                finally:
                    stop_server(server)
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    cost = 1 - on / off
    verdict = "✔" if cost <= HISTORY_COST_TARGET else "✘"
    runs = ", ".join(f"{a:,.0f}/{b:,.0f}" for a, b in zip(rates[True], rates[False], strict=True))
    print(
        f"  upsert updates/s (median of {args.ingest_runs} runs each, on/off: {runs}):"
        f" history on {on:,.0f}, off {off:,.0f} -> history costs {cost:.0%}"
        f" (target <= {HISTORY_COST_TARGET:.0%}) {verdict}",
        flush=True,
    )


async def _analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE attribute_instances")
        await conn.execute("VACUUM ANALYZE temporal_entities")
    finally:
        await conn.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--upserts", type=int, default=50_000)
    parser.add_argument("--ingest-runs", type=int, default=3)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    for store in stores:
        bench_store(store, args)


if __name__ == "__main__":
    main()
