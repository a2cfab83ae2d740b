"""Query Entities through the hub's HTTP API, each query beside its own SQL run bare.

    .venv/bin/python -m bench.query [--store sqlite|postgres|both] [--entities 100000]
                                    [--duration 10] [--concurrency 8] [--limit 100]

For each store a fresh database (a new SQLite file, or a PostgreSQL database created and
dropped here) is migrated, ``cityhub serve`` starts on a free 127.0.0.1 port and receives
``--entities`` city entities (bench/query_data.py: traffic flows on road LineStrings, car
parks with multilingual names, air-quality stations, alerts with Polygons, over Seoul, Tokyo
and Beijing) through ``POST /ngsi-ld/v1/entityOperations/upsert`` in batches of 1,000. Then
each query is measured with wrk (``--concurrency`` connections, p50/p95/p99 from wrk's
histogram through a Lua ``done`` hook, req/s) on two servers in turn, under the same uvicorn
settings:

* the hub: ``GET /ngsi-ld/v1/entities?…`` (``POST /entityOperations/query`` for the last one)
* the baseline (bench/query_baseline.py): plain ASGI running, on the hub's own database, the
  statements the hub's store runs for that query (compiled here with
  ``cityhub.storage.sql.compiler`` and the store's dialect, exactly as
  ``SqliteStore.query_entities`` / ``PostgresStore.query_entities`` build them) with the raw
  driver (sqlite3 / asyncpg), answering the stored documents as a JSON array.

Queries (limit ``--limit`` on each): by type; type + numeric q range; type + string equality on
a LanguageProperty; near;maxDistance==1000 around a point; within a district polygon;
type + q + geo; count=true; and the type + q + geo query as a POST Query body.

Targets (issue 3): the hub's p95 <= 50 ms for queries returning <= 100 entities, and the hub's
req/s >= 60 % of the baseline's. Before measuring, each query's answer is checked: the hub and
the baseline must return the same entity ids, and totals (count=true) must match the count
computed in Python from the generated entities where the query has no geo part (geo totals
are compared between the two stores at the end instead). After the table come the query
plans: EXPLAIN ANALYZE on PostgreSQL (after VACUUM ANALYZE of the loaded tables, as
autovacuum would reach soon after a bulk load) and EXPLAIN QUERY PLAN on SQLite (no ANALYZE:
the hub never runs one), each with the statement's own time. The load generator shares the
machine's cores with the server, for hub and baseline alike. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as a file: make ``bench`` importable like ``-m bench.query`` does
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
import orjson

from bench.entities import (
    DEFAULT_PG,
    HUB_API,
    VENV_BIN,
    Server,
    cpu_seconds,
    ensure_wrk,
    free_port,
    fresh_database,
    start_server,
    stop_server,
    uvicorn_flags,
)
from bench.query_data import QUERIES, BenchQuery, batch
from cityhub.jsonld.resolver import ContextResolver
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import EntityQuery, EntitySelector
from cityhub.query.geo import geo_query_from_json, parse_geo_query
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_geo, resolve_q, resolve_types
from cityhub.query.types import parse_type_expression
from cityhub.storage.postgres.query_sql import PAGE_COLUMN as POSTGRES_PAGE_COLUMN
from cityhub.storage.postgres.query_sql import PostgresDialect
from cityhub.storage.sql.compiler import Params, compile_from
from cityhub.storage.sqlite.functions import register as register_sqlite_functions
from cityhub.storage.sqlite.query_sql import PAGE_COLUMN as SQLITE_PAGE_COLUMN
from cityhub.storage.sqlite.query_sql import SqliteDialect

BATCH_SIZE = 1_000
P95_TARGET_MS = 50.0
RATIO_TARGET = 0.60
SMALL_RESULT = 100  # the p95 target holds for queries returning at most this many entities
JSON_HEADERS = {"Content-Type": "application/json"}


# --- the queries as the hub sees them ------------------------------------------------------


def slug(q: BenchQuery) -> str:
    return re.sub(r"[^a-z0-9]+", "-", q.name.lower()).strip("-")


def entity_query(q: BenchQuery, tm: TermMap, limit: int) -> EntityQuery:
    """The EntityQuery the hub's API builds for ``q`` (api/queries.py), names resolved
    through the core @context."""
    if q.body is not None:
        body = q.body
        selectors = tuple(
            EntitySelector(types=resolve_types(parse_type_expression(s["type"]), tm))
            for s in body.get("entities", [])
        )
        geo = geo_query_from_json(body["geoQ"]) if "geoQ" in body else None
        return EntityQuery(
            selectors=selectors or None,
            q=resolve_q(parse_q(body["q"]), tm) if "q" in body else None,
            geo=resolve_geo(geo, tm) if geo is not None else None,
            limit=limit,
        )
    p = q.params
    geo = parse_geo_query(p.get("georel"), p.get("geometry"), p.get("coordinates"), None)
    return EntityQuery(
        types=resolve_types(parse_type_expression(p["type"]), tm) if "type" in p else None,
        q=resolve_q(parse_q(p["q"]), tm) if "q" in p else None,
        geo=resolve_geo(geo, tm) if geo is not None else None,
        limit=limit,
    )


def statements(store: str, query: EntityQuery, count: bool) -> dict[str, Any]:
    """The page and count statements of ``query``, built as the store's query_entities does."""
    params = Params("sqlite" if store == "sqlite" else "postgres")
    tenant = params.add("")
    dialect: Any = (
        SqliteDialect(tenant, params, "")
        if store == "sqlite"
        else PostgresDialect(params, tenant, "")
    )
    matching, order, counting = compile_from(query, dialect, tenant)
    column = SQLITE_PAGE_COLUMN if store == "sqlite" else POSTGRES_PAGE_COLUMN
    filters = list(params.values)
    sql = (
        f"SELECT {column} {matching} ORDER BY {order}"
        f" LIMIT {params.add(query.limit + 1)} OFFSET {params.add(query.offset)}"
    )
    return {
        "sql": sql,
        "params": params.values,
        "count_sql": f"SELECT count(*) {counting}" if count else None,
        "count_params": filters,
        "limit": query.limit,
    }


# --- loading ------------------------------------------------------------------------------


async def _load(url: str, args: argparse.Namespace) -> tuple[float, int, dict[str, int]]:
    """Upsert the data set in batches; (seconds, failed batches, expected totals by query)."""
    pending = collections.deque(range((args.entities + BATCH_SIZE - 1) // BATCH_SIZE))
    expected = {q.name: 0 for q in QUERIES if q.expect is not None}
    tests = [(q.name, q.expect) for q in QUERIES if q.expect is not None]
    failed = 0

    async def client() -> None:
        nonlocal failed
        async with httpx.AsyncClient(timeout=600) as http:
            while pending:
                items = batch(args.seed, pending.popleft(), BATCH_SIZE, args.entities)
                for name, test in tests:
                    expected[name] += sum(1 for e in items if test(e))
                response = await http.post(url, content=orjson.dumps(items), headers=JSON_HEADERS)
                if response.status_code not in {200, 201, 204}:
                    failed += 1
                    if failed == 1:
                        print(f"  batch failed: {response.status_code} {response.text[:300]}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.load_clients)))
    return time.perf_counter() - began, failed, expected


async def _vacuum(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE) entities, entity_geo, entity_types")
    finally:
        await conn.close()


# --- wrk ----------------------------------------------------------------------------------

LUA = """
wrk.method = "{method}"
{body}
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Load:
    """One wrk run: latency percentiles in ms, throughput, failures."""

    p50: float
    p95: float
    p99: float
    rps: float
    requests: int
    bad: int
    seconds: float

    def ms(self, value: float, width: int) -> str:
        """A latency, or ``>5000`` when no request finished within the run."""
        text = f">{1e3 * self.seconds:.0f}" if math.isinf(value) else f"{value:.1f}"
        return text.rjust(width)

    def note(self) -> str:
        if not self.requests:
            return f"no request finished within {self.seconds:g} s ({self.bad} bad)"
        return (
            f"p50 {self.ms(self.p50, 7)} ms  p95 {self.ms(self.p95, 7)} ms"
            f"  p99 {self.ms(self.p99, 7)} ms  {self.rps:8,.1f} req/s"
            f"  ({self.requests} req, {self.bad} bad)"
        )


def lua_script(workdir: Path, q: BenchQuery, tag: str) -> Path:
    body = "" if q.body is None else f"wrk.body = [==[{orjson.dumps(q.body).decode()}]==]"
    path = workdir / f"{tag}.lua"
    path.write_text(
        LUA.format(method="GET" if q.body is None else "POST", body=body), encoding="utf-8"
    )
    return path


def run_wrk(wrk: str, url: str, seconds: float, args: argparse.Namespace, script: Path) -> Load:
    argv = [
        wrk,
        f"-t{min(args.wrk_threads, args.concurrency)}",
        f"-c{args.concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    run = subprocess.run(argv, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(
            f"wrk failed ({run.returncode}): {run.stderr[-1000:]} {run.stdout[-500:]}"
        )
    out = run.stdout
    found = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk printed no summary: {out[-1000:]}")
    p50, p95, p99, requests, duration, status, errors = (int(g) for g in found.groups())
    rate = requests / (duration / 1e6)
    if requests == 0:  # none finished within the run: no latency to report
        return Load(math.inf, math.inf, math.inf, rate, 0, status + errors, seconds)
    return Load(p50 / 1e3, p95 / 1e3, p99 / 1e3, rate, requests, status + errors, seconds)


# --- one store ----------------------------------------------------------------------------


@dataclass
class Side:
    label: str
    server: Server
    database: str | None

    def cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.server.proc.pid, self.database)


@dataclass
class Row:
    query: str
    store: str
    returned: int
    total: int | None
    hub: Load
    base: Load
    hub_cpu_us: float
    base_cpu_us: float
    problems: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.hub.rps / self.base.rps if self.base.rps else math.nan

    @property
    def p95_applies(self) -> bool:
        return self.returned <= SMALL_RESULT

    @property
    def met(self) -> bool:
        p95_ok = not self.p95_applies or self.hub.p95 <= P95_TARGET_MS
        ratio_ok = self.ratio >= RATIO_TARGET  # False when nothing finished (nan)
        clean = not self.problems and not self.hub.bad and self.hub.requests > 0
        return p95_ok and ratio_ok and clean


def _ids(body: Any) -> list[str]:
    return [item.get("id") for item in body] if isinstance(body, list) else []


def check(
    q: BenchQuery, hub: str, base: str, expected: dict[str, int], limit: int
) -> tuple[int, int | None, list[str]]:
    """(entities returned, total matching, problems) of one query on hub and baseline."""
    problems: list[str] = []
    with httpx.Client(timeout=120) as http:

        def ask(url: str) -> httpx.Response:
            if q.body is None:
                return http.get(url)
            return http.post(url, content=orjson.dumps(q.body), headers=JSON_HEADERS)

        page = ask(hub)
        counted = ask(hub + "&count=true") if not q.count else page
        answer = ask(base)
    if page.status_code != 200:
        problems.append(f"hub answered {page.status_code}: {page.text[:300]}")
        return 0, None, problems
    if answer.status_code != 200:
        problems.append(f"baseline answered {answer.status_code}: {answer.text[:300]}")
    hub_ids, base_ids = _ids(page.json()), _ids(orjson.loads(answer.content))
    if hub_ids != base_ids:
        problems.append(
            f"hub and baseline differ: {len(hub_ids)} vs {len(base_ids)} entities,"
            f" first hub {hub_ids[:2]}, first baseline {base_ids[:2]}"
        )
    raw_total = counted.headers.get("NGSILD-Results-Count")
    total = int(raw_total) if raw_total is not None else None
    if total is None:
        problems.append("hub sent no NGSILD-Results-Count for count=true")
    base_total = answer.headers.get("x-total-count")
    if q.count and base_total is not None and total is not None and int(base_total) != total:
        problems.append(f"count: hub {total}, baseline {base_total}")
    if q.name in expected and total is not None and total != expected[q.name]:
        problems.append(f"count: hub {total}, expected {expected[q.name]} from the data")
    if total is not None and len(hub_ids) != min(total, limit):
        problems.append(f"page: {len(hub_ids)} entities of {total} matching")
    return len(hub_ids), total, problems


def settle(side: Side, limit: float = 180.0) -> None:
    """Wait until the server is idle: requests wrk gave up on may still be running."""
    deadline = time.monotonic() + limit
    last = sum(side.cpu())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(side.cpu())
        if now - last < 0.02:
            return
        last = now


def measure(
    side: Side, url: str, script: Path, wrk: str, args: argparse.Namespace
) -> tuple[Load, float]:
    """(load figures, server CPU µs per request) of one query on one side."""
    run_wrk(wrk, url, min(2.0, args.duration), args, script)  # warm caches and plans
    settle(side)
    before = side.cpu()
    result = run_wrk(wrk, url, args.duration, args, script)
    after = side.cpu()
    settle(side)
    py_us, db_us = (
        (a - b) * 1e6 / result.requests if result.requests else math.nan
        for a, b in zip(after, before, strict=True)
    )
    split = f" (python {_cpu(py_us)} + database {_cpu(db_us)})" if side.database else ""
    cpu = _cpu(py_us + db_us)
    print(f"    {side.label:<8} {result.note()}  CPU {cpu} µs each{split}", flush=True)
    return result, py_us + db_us


def bench_store(store: str, args: argparse.Namespace, wrk: str) -> tuple[list[Row], str]:
    """Rows of the table and the query-plan report of one store."""
    print(f"== {store}: {args.entities:,} entities, {args.concurrency} connections", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"cityhub-bench-query-{store}-"))
    servers: list[Server] = []
    tm = ContextResolver(allow_hosts="").core
    try:
        with fresh_database(store, "query", args.pg_url, workdir, args.keep) as url:
            hub_port = free_port()
            hub = start_server(
                "hub",
                [
                    *(str(VENV_BIN / "cityhub"), "serve", "--host", "127.0.0.1"),
                    *("--port", str(hub_port), "--workers", str(args.workers)),
                ],
                {
                    "CITYHUB_DATABASE_URL": url,
                    "CITYHUB_LOG_LEVEL": "warning",
                    "CITYHUB_CONTEXT_ALLOW_HOSTS": "",
                },
                hub_port,
                workdir / "hub.log",
            )
            servers.append(hub)
            seconds, failed, expected = asyncio.run(
                _load(f"{hub.base}{HUB_API}/entityOperations/upsert", args)
            )
            print(
                f"  loaded {args.entities:,} entities in {seconds:.1f} s"
                f" ({args.entities / seconds:,.0f}/s, {failed} failed batches)",
                flush=True,
            )
            if store == "postgres":
                asyncio.run(_vacuum(url))
            compiled = {
                slug(q): statements(store, entity_query(q, tm, args.limit), q.count)
                for q in QUERIES
            }
            query_file = workdir / "queries.json"
            query_file.write_bytes(orjson.dumps(compiled))
            base_port = free_port()
            base = start_server(
                "baseline",
                [
                    *(str(VENV_BIN / "python"), "-m", "uvicorn", "bench.query_baseline:app"),
                    *("--host", "127.0.0.1", "--port", str(base_port)),
                    *uvicorn_flags(args.workers),
                ],
                {
                    "BENCH_DATABASE_URL": url,
                    "BENCH_QUERY_FILE": str(query_file),
                    "BENCH_SQLITE_THREADS": str(args.sqlite_threads),
                },
                base_port,
                workdir / "baseline.log",
            )
            servers.append(base)
            database = url.rpartition("/")[2] if store == "postgres" else None
            hub_side = Side("hub", hub, database)
            base_side = Side("baseline", base, database)
            rows = []
            for q in QUERIES:
                if args.only and not any(part in slug(q) for part in args.only):
                    continue
                hub_url = f"{hub.base}{HUB_API}{q.path(args.limit)}"
                base_url = f"{base.base}/q/{slug(q)}"
                returned, total, problems = check(q, hub_url, base_url, expected, args.limit)
                print(f"  {q.name}: {returned} returned of {total} matching", flush=True)
                for problem in problems:
                    print(f"    PROBLEM {problem}", flush=True)
                script = lua_script(workdir, q, slug(q) + uuid.uuid4().hex[:6])
                # Hub and baseline alternate, so load from elsewhere on the box hits both alike.
                best: dict[str, tuple[Load, float]] = {}
                for _ in range(args.rounds):
                    for side, url_ in ((hub_side, hub_url), (base_side, base_url)):
                        load, cpu_us = measure(side, url_, script, wrk, args)
                        if side.label not in best or load.rps > best[side.label][0].rps:
                            best[side.label] = (load, cpu_us)
                (hub_load, hub_cpu), (base_load, base_cpu) = best["hub"], best["baseline"]
                row = Row(q.name, store, returned, total, hub_load, base_load, hub_cpu, base_cpu)
                row.problems = problems
                rows.append(row)
            for server in servers:
                stop_server(server)
            report = plans(store, url, compiled, args)
    finally:
        for server in servers:
            stop_server(server)
        if args.keep and store == "sqlite":
            print(f"  kept {workdir} (the SQLite database and the servers' logs)", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows, report


# --- query plans --------------------------------------------------------------------------


def plans(
    store: str, url: str, compiled: dict[str, dict[str, Any]], args: argparse.Namespace
) -> str:
    """EXPLAIN ANALYZE (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite) of every statement."""
    lines = [f"== query plans, {store} ({args.entities:,} entities)"]
    chosen = [q for q in QUERIES if not args.only or any(part in slug(q) for part in args.only)]
    if store == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :])
        register_sqlite_functions(conn)
        try:
            for q in chosen:
                lines += _sqlite_plans(conn, q, compiled[slug(q)], args.show_sql)
        finally:
            conn.close()
    else:
        lines += asyncio.run(_pg_plans(url, chosen, compiled, args.show_sql))
    width = args.plan_width
    return "\n".join(
        line[: width - 1] + "…" if 0 < width < len(line) and "   SQL " not in line else line
        for line in lines
    )


def _statement_pairs(c: dict[str, Any]) -> list[tuple[str, str, list[Any]]]:
    pairs = [("page", c["sql"], c["params"])]
    if c["count_sql"] is not None:
        pairs.append(("count", c["count_sql"], c["count_params"]))
    return pairs


def _sqlite_plans(
    conn: sqlite3.Connection, q: BenchQuery, c: dict[str, Any], show_sql: bool
) -> list[str]:
    lines = []
    for part, sql, params in _statement_pairs(c):
        times: list[float] = []
        while len(times) < 3 and sum(times) < 1.0:
            began = time.perf_counter()
            conn.execute(sql, params).fetchall()
            times.append(time.perf_counter() - began)
        lines.append(f"-- {q.name} ({part}): {1e3 * statistics.median(times):.1f} ms in process")
        if show_sql:
            lines.append(f"   SQL {sql}")
        depth: dict[int, int] = {0: 0}
        for node, parent, _unused, detail in conn.execute("EXPLAIN QUERY PLAN " + sql, params):
            depth[node] = depth.get(parent, 0) + 1
            lines.append("   " + "  " * depth[node] + detail)
    return lines


def _literal(value: Any) -> str:
    """A bind value as SQL text, for EXECUTE of a prepared statement."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        kind = "bigint" if all(isinstance(v, int) for v in value) else "text"
        return "ARRAY[" + ",".join(_literal(v) for v in value) + f"]::{kind}[]"
    if isinstance(value, dict):
        return "'" + orjson.dumps(value).decode().replace("'", "''") + "'"
    return "'" + str(value).replace("'", "''") + "'"


async def _pg_plans(
    url: str, chosen: list[BenchQuery], compiled: dict[str, dict[str, Any]], show_sql: bool
) -> list[str]:
    """The plan each statement runs with once the hub's prepared statement is warm: asyncpg
    prepares every statement, and after five executions PostgreSQL may switch to a generic
    plan (plan_cache_mode=auto), so EXPLAIN ANALYZE EXECUTE follows six executions."""
    conn = await asyncpg.connect(url)
    lines = []
    try:
        for q in chosen:
            for part, sql, params in _statement_pairs(compiled[slug(q)]):
                await conn.execute(f"PREPARE bench_plan AS {sql}")
                values = ", ".join(_literal(v) for v in params)
                for _ in range(6):
                    await conn.execute(f"EXECUTE bench_plan({values})")
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan({values})")
                await conn.execute("DEALLOCATE bench_plan")
                lines.append(f"-- {q.name} ({part}), warm prepared statement")
                if show_sql:
                    lines.append(f"   SQL {sql}")
                lines += ["   " + row[0] for row in rows]
    finally:
        await conn.close()
    return lines


# --- report -------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    head = (
        f"{'query':<16} {'store':<8} {'rows':>12} | {'hub p50':>7} {'p95':>7} {'req/s':>7} |"
        f" {'base p50':>8} {'p95':>7} {'req/s':>7} | {'ratio':>5} {'p95<=50':>7} {'>=60%':>5}"
        f" {'met':<3} | {'CPU µs hub':>10} {'base':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        shown = f"{r.returned}/{r.total if r.total is not None else '?'}"
        p95_ok = ("yes" if r.hub.p95 <= P95_TARGET_MS else "NO") if r.p95_applies else "n/a"
        ratio_ok = "n/a" if math.isnan(r.ratio) else "yes" if r.ratio >= RATIO_TARGET else "NO"
        ratio = "  n/a" if math.isnan(r.ratio) else f"{100 * r.ratio:4.0f}%"
        print(
            f"{r.query:<16} {r.store:<8} {shown:>12} | {r.hub.ms(r.hub.p50, 7)}"
            f" {r.hub.ms(r.hub.p95, 7)} {r.hub.rps:7.1f} | {r.base.ms(r.base.p50, 8)}"
            f" {r.base.ms(r.base.p95, 7)} {r.base.rps:7.1f} | {ratio} {p95_ok:>7}"
            f" {ratio_ok:>5} {'yes' if r.met else 'NO':<3} | {_cpu(r.hub_cpu_us):>10}"
            f" {_cpu(r.base_cpu_us):>7}"
        )


def _cpu(us: float) -> str:
    return "-" if math.isnan(us) else f"{us:,.0f}"


def cross_check(rows: list[Row]) -> list[str]:
    """Totals that differ between the stores (one of them answers wrongly)."""
    by_query: dict[str, dict[str, int | None]] = collections.defaultdict(dict)
    for r in rows:
        by_query[r.query][r.store] = r.total
    return [
        f"{query}: " + ", ".join(f"{store} {total}" for store, total in totals.items())
        for query, totals in by_query.items()
        if len(totals) > 1 and len(set(totals.values())) > 1
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--entities", type=int, default=100_000, help="entities loaded")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    parser.add_argument("--limit", type=int, default=100, help="limit of every query")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, both servers")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated entities")
    parser.add_argument("--load-clients", type=int, default=2, help="concurrent batch POSTs")
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs; best counts")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (cores shared)")
    parser.add_argument(
        "--sqlite-threads",
        type=int,
        default=4,
        help="baseline reader threads on SQLite (the hub's sqlite_readers); 0 runs on the loop",
    )
    parser.add_argument(
        "--only", nargs="+", help="run only queries whose slug contains one of these words"
    )
    parser.add_argument("--show-sql", action="store_true", help="print each statement's SQL")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (SQLite: its directory) afterwards"
    )
    parser.add_argument(
        "--plan-width", type=int, default=160, help="cut plan lines to this width; 0 keeps all"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("CITYHUB_BENCH_PG_URL", DEFAULT_PG),
        help="PostgreSQL admin URL; the benchmark database is created and dropped on its server",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    wrk = ensure_wrk()
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    rows: list[Row] = []
    reports = []
    for store in stores:
        store_rows, report = bench_store(store, args, wrk)
        rows += store_rows
        reports.append(report)
    print()
    print(
        f"{args.entities:,} entities, limit {args.limit}, {args.concurrency} connections,"
        f" {args.duration:g} s per wrk run, {args.workers} worker(s); latency in ms"
    )
    print_table(rows)
    print(
        f"Targets: hub p95 <= {P95_TARGET_MS:.0f} ms when <= {SMALL_RESULT} entities return,"
        f" hub req/s >= {100 * RATIO_TARGET:.0f} % of the baseline (same SQL, raw driver)."
    )
    print("rows: entities returned / total matching (count=true). CPU µs: server CPU per request")
    print("(all its processes, plus PostgreSQL backends of the database).")
    problems = [f"{r.store} {r.query}: {p}" for r in rows for p in r.problems]
    problems += [f"stores disagree, {d}" for d in cross_check(rows)]
    if problems:
        print("\nProblems:")
        for problem in problems:
            print(f"  {problem}")
    for report in reports:
        print()
        print(report)


if __name__ == "__main__":
    main()
