"""Entity API throughput of the hub, each figure beside a bare baseline measured in the same run.

    .venv/bin/python bench/entities.py [--store sqlite|postgres|both] [--workers 1 2]
                                       [--duration 10] [--quick] [--profile DIR]
                                       [--no-history]

For each store and worker count the hub (``cityhub serve``) and the baseline
(``bench/baseline_app.py``, plain ASGI + the raw driver) run in turn under the same uvicorn
settings (uvloop, httptools, same workers), each on its own fresh database (a new SQLite file,
or a PostgreSQL database created and dropped here) that the hub's migrations create:

* GET one entity by id, 32 connections (wrk)           baseline: raw SELECT, return the row
* POST one ~10-attribute OffStreetParking, unique ids   baseline: one raw INSERT of the row
  (wrk + a Lua script), 32 connections
* upsert 100k entities, 1,000 per POST                  baseline: COPY (asyncpg
  /ngsi-ld/v1/entityOperations/upsert (asyncio client)  copy_records_to_table) on PostgreSQL,
                                                         executemany on SQLite, one per POST

Targets: GET >= 70 % of baseline, POST >= 50 %, batch >= 50 %. The load generator shares the
machine's cores with the server, for hub and baseline alike. Only 127.0.0.1 is contacted.
``--profile DIR`` also samples the hub with py-spy during each hub phase and writes collapsed
stacks plus a summary of where the time goes (the figures of a profiled run are a bit lower).
``--no-history`` runs the hub with ``temporal_history`` off: each write then skips its
temporal record (clause 4.5.6), which is most of what a write costs beyond the entity row.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from cityhub.settings import load_settings
from cityhub.storage import create_store
from cityhub.storage.sqlite.functions import register as register_sqlite_functions

ROOT = Path(__file__).resolve().parents[1]

VENV_BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECTIONS = 32
BATCH_SIZE = 1_000
TARGETS = {"GET entity": 0.70, "POST entity": 0.50, "batch upsert": 0.50}
SEED_ID = "urn:ngsi-ld:OffStreetParking:bench-seed"
HUB_API = "/ngsi-ld/v1"
ID_PREFIX = "urn:ngsi-ld:OffStreetParking:"


# --- the entity ---------------------------------------------------------------------------


def parking_entity(entity_id: str, n: int = 0) -> dict[str, Any]:
    """A realistic OffStreetParking (Smart Data Models) with 11 attributes, core @context."""
    return {
        "id": entity_id,
        "type": "OffStreetParking",
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"en": f"Car park {n}", "ja": f"駐車場 {n}", "ko": f"주차장 {n}"},
        },
        "availableSpotNumber": {
            "type": "Property",
            "value": n % 414,
            "observedAt": "2026-08-11T09:00:00Z",
        },
        "totalSpotNumber": {"type": "Property", "value": 414},
        "occupancy": {"type": "Property", "value": 0.68, "unitCode": "C62"},
        "category": {"type": "Property", "value": ["underground", "public", "feeCharged"]},
        "allowedVehicleType": {"type": "Property", "value": ["car", "motorcycle"]},
        "address": {
            "type": "Property",
            "value": {
                "streetAddress": "Rua de Fernandes Tomas",
                "addressLocality": "Porto",
                "addressCountry": "PT",
            },
        },
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [-8.6096 + n * 1e-6, 41.1506]},
        },
        "maximumParkingDuration": {"type": "Property", "value": "PT8H"},
        "status": {"type": "Property", "value": "open"},
        "refParkingSite": {"type": "Relationship", "object": "urn:ngsi-ld:ParkingSite:porto-P2"},
    }


# --- processes and databases --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    base: str
    log: Path


def start_server(name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(server.base + "/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"{name} did not become healthy: {log.read_text(errors='replace')[-2000:]}")


def stop_server(server: Server) -> None:
    """SIGINT to the server's own process group (uvicorn shuts down gracefully), then KILL."""
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGKILL, 5)):
        if server.proc.poll() is not None:
            return
        try:
            os.killpg(server.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue


def uvicorn_flags(workers: int) -> list[str]:
    """What ``cityhub serve`` passes to uvicorn, so the baseline runs under the same server."""
    return [
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--workers",
        str(workers),
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]


def with_database(url: str, name: str) -> str:
    return url.rpartition("/")[0] + "/" + name


@contextmanager
def fresh_database(
    store: str, tag: str, pg_admin: str, workdir: Path, keep: bool = False
) -> Iterator[str]:
    """A new, empty, migrated database (SQLite file or PostgreSQL database), removed after
    unless ``keep``."""
    if store == "sqlite":
        url = f"sqlite:///{workdir / f'{tag}.db'}"
        asyncio.run(_migrate(url))
        yield url
        return
    name = f"cityhub_bench_{tag}_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(pg_admin, name)
        asyncio.run(_migrate(url))
        yield url
    finally:
        if keep:
            print(f"  kept the PostgreSQL database {name}", flush=True)
        else:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    store = create_store(load_settings(environ={}, database_url=url))
    await store.open()
    try:
        await store.migrate()
    finally:
        await store.close()


async def copy_seed_row(source: str, target: str) -> None:
    """Put the hub's stored row of the seed entity into the baseline's database, unchanged."""
    if source.startswith("sqlite"):
        import sqlite3

        src = sqlite3.connect(source[len("sqlite:///") :])
        row = src.execute("SELECT * FROM entities WHERE tenant = '' AND id = ?", (SEED_ID,))
        values = row.fetchone()
        src.close()
        dst = sqlite3.connect(target[len("sqlite:///") :])
        register_sqlite_functions(dst)  # migrations and queries call them
        with dst:
            dst.execute("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        dst.close()
        return
    src_conn = await asyncpg.connect(source)
    record = await src_conn.fetchrow(
        "SELECT tenant, id, types, scopes, created_at, modified_at, doc::text FROM entities"
        " WHERE tenant = '' AND id = $1",
        SEED_ID,
    )
    await src_conn.close()
    dst_conn = await asyncpg.connect(target)
    await dst_conn.execute(
        "INSERT INTO entities VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)", *record
    )
    await dst_conn.close()


# --- load generators ----------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is required: install it with `apt-get install -y wrk` (Debian/Ubuntu)")
    return found


LUA_POST = """
local head = [==[{head}]==]
local tail = [==[{tail}]==]
local counter = 0
local nthreads = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, head .. "{prefix}" .. tid .. "-" .. counter .. tail)
end
"""


@dataclass
class WrkResult:
    rps: float
    requests: int
    bad: int
    latency: str

    def note(self) -> str:
        return f"{self.rps:,.0f} req/s ({self.requests} req, {self.bad} bad, p50 {self.latency})"


def run_wrk(wrk: str, url: str, seconds: float, threads: int, script: Path | None) -> WrkResult:
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if script is not None:
        argv += ["-s", str(script)]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        bad += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        bad += sum(int(n) for n in found.groups())
    p50 = re.search(r"50%\s+(\S+)", out)
    return WrkResult(rps, requests, bad, p50.group(1) if p50 else "?")


def post_script(workdir: Path, prefix: str) -> Path:
    body = orjson.dumps(parking_entity("@@ID@@", 7)).decode()
    head, tail = body.split("@@ID@@")
    path = workdir / f"post-{prefix}.lua"
    path.write_text(
        LUA_POST.format(head=head, tail=tail, prefix=ID_PREFIX + prefix), encoding="utf-8"
    )
    return path


async def _batches(url: str, total: int, clients: int, prefix: str) -> tuple[float, int]:
    """POST ``total`` entities in bodies of BATCH_SIZE from ``clients`` concurrent connections;
    returns (seconds, failed requests)."""
    batches = collections.deque(range(0, total, BATCH_SIZE))
    failed = 0

    async def client() -> None:
        nonlocal failed
        async with httpx.AsyncClient(timeout=300) as http:
            while batches:
                start = batches.popleft()
                body = orjson.dumps(
                    [
                        parking_entity(f"urn:ngsi-ld:OffStreetParking:{prefix}-{i}", i)
                        for i in range(start, min(start + BATCH_SIZE, total))
                    ]
                )
                response = await http.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                if response.status_code not in {200, 201, 204}:
                    failed += 1
                    if failed == 1:
                        print(f"  batch failed: {response.status_code} {response.text[:300]}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began, failed


def run_batch(url: str, total: int, clients: int, prefix: str) -> tuple[float, int]:
    """(entities/s, failed requests) of one run."""
    seconds, failed = asyncio.run(_batches(url, total, clients, prefix))
    return total / seconds, failed


# --- profiling ----------------------------------------------------------------------------


@contextmanager
def profiling(server: Server, out: Path | None, seconds: float) -> Iterator[None]:
    """py-spy samples the server (and its worker processes) while the block runs."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if spy is None:
        sys.exit("--profile needs py-spy: .venv/bin/pip install py-spy")
    proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.proc.pid),
            "--subprocesses",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            "200",
            "--duration",
            str(int(seconds)),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        try:
            proc.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if out.exists():
            out.with_suffix(".summary.txt").write_text(summarize(out), encoding="utf-8")


_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    found = _FRAME.match(frame.strip())
    if not found:
        return frame.strip()
    file = found.group("file")
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{found.group('func')} ({file})"


def _area(frame: str) -> str:
    text = frame
    for area in (
        "cityhub/api",
        "cityhub/model",
        "cityhub/services",
        "cityhub/storage",
        "cityhub/jsonld",
        "starlette",
        "uvicorn",
        "asyncpg",
        "httptools",
        "uvloop",
        "asyncio",
        "concurrent/futures",
        "threading",
        "sqlite3",
        "orjson",
    ):
        if area in text:
            return area
    return "other"


def summarize(raw: Path, top: int = 25) -> str:
    """Self and inclusive sample shares per function, and self share per area."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    areas: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[_short(frames[-1])] += count
        areas[_area(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            inclusive[name] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples", "", "self share by area:"]
    lines += [f"  {100 * c / total:5.1f}%  {a}" for a, c in areas.most_common()]
    lines += ["", "top self:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines += ["", "top inclusive:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


# --- one store, one worker count ----------------------------------------------------------


# --- CPU accounting -----------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def cpu_seconds(root: int, database: str | None) -> tuple[float, float]:
    """CPU used so far by a server and its worker processes, and (PostgreSQL) by the backends
    serving ``database``, whose command line names it."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    backends = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        stat = _proc_stat(pid)
        if stat is None:
            continue
        parents[pid], cpu[pid] = stat
        if database:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and database.encode() in cmdline:
                backends += stat[1]
    total = 0.0
    for pid, seconds in cpu.items():
        walk, hops = pid, 0
        while walk not in (0, 1) and walk != root and hops < 64:
            walk, hops = parents.get(walk, 0), hops + 1
        if walk == root:
            total += seconds
    return total, backends


# --- one store, one worker count ----------------------------------------------------------


@dataclass
class Row:
    metric: str
    store: str
    workers: int
    hub: float
    baseline: float
    hub_cpu_us: float
    baseline_cpu_us: float

    @property
    def ratio(self) -> float:
        return self.hub / self.baseline if self.baseline else 0.0

    @property
    def unit(self) -> str:
        return "entities/s" if self.metric == "batch upsert" else "req/s"


@dataclass
class Side:
    """One server under test (hub or baseline) and its three URLs."""

    label: str
    server: Server
    database: str | None  # PostgreSQL database name, for the backends' CPU
    get_url: str
    post_url: str
    batch_url: str

    def cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.server.proc.pid, self.database)


def measure(
    side: Side,
    metric: str,
    args: argparse.Namespace,
    wrk: str,
    workdir: Path,
    profile: Path | None,
) -> tuple[float, float]:
    """(throughput, server CPU µs per request or entity) of one metric on one side; a run with
    failed requests scores 0."""
    warm = min(2.0, args.duration)
    tag = uuid.uuid4().hex[:6]
    if metric == "GET entity":
        run_wrk(wrk, side.get_url, warm, args.wrk_threads, None)
        before = side.cpu()
        with profiling(side.server, profile, args.duration):
            result = run_wrk(wrk, side.get_url, args.duration, args.wrk_threads, None)
        rate, done, bad, note = result.rps, result.requests, result.bad, result.note()
    elif metric == "POST entity":
        run_wrk(wrk, side.post_url, warm, args.wrk_threads, post_script(workdir, f"w{tag}-"))
        script = post_script(workdir, f"m{tag}-")
        before = side.cpu()
        with profiling(side.server, profile, args.duration):
            result = run_wrk(wrk, side.post_url, args.duration, args.wrk_threads, script)
        rate, done, bad, note = result.rps, result.requests, result.bad, result.note()
    else:
        run_batch(side.batch_url, BATCH_SIZE * args.batch_clients, args.batch_clients, f"w{tag}")
        before = side.cpu()
        expected = args.entities / 20_000 + 5  # generous: the profiler stops on its own
        with profiling(side.server, profile, expected):
            rate, bad = run_batch(side.batch_url, args.entities, args.batch_clients, f"b{tag}")
        done = args.entities
        note = f"{rate:,.0f} entities/s ({bad} failed batches)"
    after = side.cpu()
    py_us, db_us = ((a - b) * 1e6 / max(done, 1) for a, b in zip(after, before, strict=True))
    cpu_us = py_us + db_us
    split = f" (python {py_us:,.0f} + database {db_us:,.0f})" if side.database else ""
    print(f"  {side.label:<8} {metric:<12} {note}; CPU {cpu_us:,.0f} µs each{split}", flush=True)
    return (rate if bad == 0 else 0.0), cpu_us


def bench_store(store: str, workers: int, args: argparse.Namespace, wrk: str) -> list[Row]:
    print(f"== {store}, {workers} worker(s)", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"cityhub-bench-{store}-"))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    try:
        with (
            fresh_database(store, "hub", args.pg_url, workdir) as hub_url,
            fresh_database(store, "base", args.pg_url, workdir) as base_url,
        ):
            hub_port, base_port = free_port(), free_port()
            hub = start_server(
                "hub",
                [
                    str(VENV_BIN / "cityhub"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(hub_port),
                    "--workers",
                    str(workers),
                ],
                {
                    "CITYHUB_DATABASE_URL": hub_url,
                    "CITYHUB_LOG_LEVEL": "warning",
                    "CITYHUB_CONTEXT_ALLOW_HOSTS": "",
                    "CITYHUB_TEMPORAL_HISTORY": "false" if args.no_history else "true",
                },
                hub_port,
                workdir / "hub.log",
            )
            servers.append(hub)
            created = httpx.post(
                f"{hub.base}{HUB_API}/entities",
                content=orjson.dumps(parking_entity(SEED_ID, 1)),
                headers={"Content-Type": "application/json"},
            )
            if created.status_code != 201:
                raise RuntimeError(f"seed POST: {created.status_code} {created.text[:300]}")
            asyncio.run(copy_seed_row(hub_url, base_url))
            base = start_server(
                "baseline",
                [
                    str(VENV_BIN / "python"),
                    "-m",
                    "uvicorn",
                    "bench.baseline_app:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(base_port),
                    *uvicorn_flags(workers),
                ],
                {"BENCH_DATABASE_URL": base_url},
                base_port,
                workdir / "baseline.log",
            )
            servers.append(base)
            pg = store == "postgres"
            sides = [
                Side(
                    "hub",
                    hub,
                    hub_url.rpartition("/")[2] if pg else None,
                    f"{hub.base}{HUB_API}/entities/{SEED_ID}",
                    f"{hub.base}{HUB_API}/entities",
                    f"{hub.base}{HUB_API}/entityOperations/upsert",
                ),
                Side(
                    "baseline",
                    base,
                    base_url.rpartition("/")[2] if pg else None,
                    f"{base.base}/entities/{SEED_ID}",
                    f"{base.base}/entities",
                    f"{base.base}/batch",
                ),
            ]
            for side in sides:
                check = httpx.get(side.get_url, timeout=5)
                if check.status_code != 200:
                    raise RuntimeError(f"{side.label}: GET seed: {check.status_code} {check.text}")
            rows = []
            for metric in args.metrics:
                # Hub and baseline alternate, so load from elsewhere on the box hits both alike.
                best: dict[str, tuple[float, float]] = {}
                for _ in range(args.rounds):
                    for side in sides:
                        profile = None
                        if args.profile and side.label == "hub" and side.label not in best:
                            name = f"{store}-w{workers}-{metric.split()[0].lower()}.txt"
                            profile = args.profile / name
                        rate, cpu_us = measure(side, metric, args, wrk, workdir, profile)
                        if side.label not in best or rate > best[side.label][0]:
                            best[side.label] = (rate, cpu_us)
                (hub_rate, hub_cpu), (base_rate, base_cpu) = best["hub"], best["baseline"]
                rows.append(Row(metric, store, workers, hub_rate, base_rate, hub_cpu, base_cpu))
            for server in servers:
                stop_server(server)
    finally:
        for server in servers:
            stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def print_table(rows: list[Row], write: Callable[[str], None] = print) -> None:
    head = (
        f"{'metric':<13} {'store':<9} {'w':>2} {'hub':>9} {'baseline':>9} {'unit':<10} "
        f"{'ratio':>6} {'target':>6} {'ok':<3} {'CPU µs hub':>10} {'baseline':>8}"
    )
    write(head)
    write("-" * len(head))
    for r in rows:
        target = TARGETS[r.metric]
        verdict = "yes" if r.ratio >= target else "NO"
        write(
            f"{r.metric:<13} {r.store:<9} {r.workers:>2} {r.hub:>9,.0f} {r.baseline:>9,.0f} "
            f"{r.unit:<10} {100 * r.ratio:>5.0f}% {100 * target:>5.0f}% {verdict:<3} "
            f"{r.hub_cpu_us:>10,.0f} {r.baseline_cpu_us:>8,.0f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="uvicorn worker processes; several values run one after another",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--entities", type=int, default=100_000, help="entities per batch run")
    parser.add_argument("--batch-clients", type=int, default=2, help="concurrent batch POSTs")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (cores shared)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs; best counts")
    parser.add_argument(
        "--only",
        choices=["get", "post", "batch"],
        nargs="+",
        help="measure only these metrics (default: all three)",
    )
    parser.add_argument("--quick", action="store_true", help="3 s runs and 20k entities")
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="run the hub with temporal_history off (what the temporal record costs a write)",
    )
    parser.add_argument("--profile", type=Path, help="directory for py-spy profiles of the hub")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("CITYHUB_BENCH_PG_URL", DEFAULT_PG),
        help="PostgreSQL admin URL; benchmark databases are created and dropped on its server",
    )
    args = parser.parse_args(argv)
    names = {"get": "GET entity", "post": "POST entity", "batch": "batch upsert"}
    args.metrics = [m for m in TARGETS if not args.only or m in {names[o] for o in args.only}]
    if args.quick:
        args.duration = min(args.duration, 3.0)
        args.entities = min(args.entities, 20_000)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    wrk = ensure_wrk()
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    rows: list[Row] = []
    for store in stores:
        for workers in args.workers:
            rows.extend(bench_store(store, workers, args, wrk))
    print()
    print(
        f"{CONNECTIONS} connections, {args.duration:g} s per wrk run, batch "
        f"{args.entities:,} entities in POSTs of {BATCH_SIZE} from {args.batch_clients} clients"
        + (", hub with temporal_history off" if args.no_history else "")
    )
    print_table(rows)
    print("CPU µs: server CPU (all its processes, plus PostgreSQL backends of its database)")
    print("per request or per entity; other load on the machine does not inflate it much.")
    if args.profile:
        print(f"\nprofiles: {args.profile}/*.summary.txt (collapsed stacks beside them)")


if __name__ == "__main__":
    main()
