"""`cityhub serve` and `cityhub migrate` as real processes, on SQLite and on PostgreSQL.

Each server is started the way an operator starts it (``python -m cityhub serve --workers 2``)
on a free port of 127.0.0.1, over a fresh database: a temporary SQLite file, or a PostgreSQL
database created for the module and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from cityhub.storage.migrations import bundled_migrations

BACKENDS = ["sqlite", "postgres"]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
ENTITIES = "/ngsi-ld/v1/entities"
CITY = "https://uri.etsi.org/ngsi-ld/default-context/"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cityhub_env(database_url: str) -> dict[str, str]:
    """The caller's environment without any CITYHUB_* setting, plus the database URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYHUB_")}
    env["CITYHUB_DATABASE_URL"] = database_url
    env["CITYHUB_LOG_LEVEL"] = "warning"
    return env


def run_cityhub(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cityhub", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Server:
    """One ``cityhub serve`` process tree and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return "\n".join(
            f"--- {name}:\n" + (self.log_dir / name).read_text(errors="replace")
            for name in ("stdout.txt", "stderr.txt")
        )

    def workers(self) -> list[int]:
        """Pids of the worker processes (children of the serving process)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) != self.process.pid:
                continue
            try:
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            # Workers are spawned by multiprocessing; skip its resource tracker.
            if b"spawn_main" in cmdline:
                children.append(int(stat.parent.name))
        return children

    def worker_of(self, client_port: int) -> int | None:
        """The worker pid holding the server side of our connection from ``client_port``."""
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            cols = line.split()
            local, remote = cols[1], cols[2]
            if int(local.split(":")[1], 16) == self.port and (
                int(remote.split(":")[1], 16) == client_port
            ):
                inode = cols[9]
        if inode is None:
            return None
        for pid in self.workers():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        return None

    async def wait_healthy(self) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as http:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"cityhub serve exited with {self.process.returncode}\n" + self.output()
                    )
                try:
                    response = await http.get("/health")
                    if response.status_code == 200:
                        body: dict[str, Any] = response.json()
                        return body
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    pytest.fail("cityhub serve did not answer /health in time\n" + self.output())
                await asyncio.sleep(0.1)

    async def stop(self) -> int:
        """SIGTERM, then the exit status (killing the tree only if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            for pid in self.workers():
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()
            pytest.fail("cityhub serve did not stop on SIGTERM\n" + self.output())


def start_server(
    database_url: str,
    log_dir: Path,
    *,
    workers: int = 2,
    config: Path | None = None,
    port: int | None = None,
) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "cityhub"]
    if config is not None:
        args += ["--config", str(config)]
    args += ["serve", "--host", "127.0.0.1", "--workers", str(workers)]
    if port is not None:
        args += ["--port", str(port)]
    with open(log_dir / "stdout.txt", "wb") as out, open(log_dir / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            args, env=cityhub_env(database_url), cwd=log_dir, stdout=out, stderr=err
        )
    return Server(process, port or 0, log_dir)


# --- databases ------------------------------------------------------------------------


class FreshDatabases:
    """Creates empty databases of either backend and drops the PostgreSQL ones at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.admin_url = os.environ.get("CITYHUB_TEST_DATABASE_URL", DEFAULT_PG)
        self.created: list[str] = []

    async def new(self, backend: str) -> str:
        name = f"cityhub_serve_{uuid.uuid4().hex[:10]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        try:
            admin = await asyncpg.connect(self.admin_url, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            if os.environ.get("CITYHUB_TEST_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
            pytest.skip("PostgreSQL is not reachable (set CITYHUB_TEST_DATABASE_URL)")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self.created.append(name)
        return self.admin_url.rpartition("/")[0] + "/" + name

    async def sessions(self, url: str) -> int:
        """Open connections to the database: PostgreSQL sessions, or a SQLite WAL file that
        only the last connection to close removes."""
        if url.startswith("sqlite:///"):
            return int(Path(url.removeprefix("sqlite:///") + "-wal").exists())
        admin = await asyncpg.connect(self.admin_url, timeout=5)
        try:
            count: int = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                url.rpartition("/")[2],
            )
            return count
        finally:
            await admin.close()

    async def drop_all(self) -> None:
        if not self.created:
            return
        admin = await asyncpg.connect(self.admin_url, timeout=5)
        try:
            for name in self.created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="module")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FreshDatabases]:
    fresh = FreshDatabases(tmp_path_factory.mktemp("serve-db"))
    yield fresh
    await fresh.drop_all()


@pytest.fixture(scope="module", params=BACKENDS)
async def server(
    request: pytest.FixtureRequest,
    databases: FreshDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Server]:
    """``cityhub serve --workers 2`` over a fresh database, shared by the module's tests."""
    url = await databases.new(request.param)
    running = start_server(url, tmp_path_factory.mktemp("serve"), port=free_port())
    try:
        health = await running.wait_healthy()
        assert health["store"] == request.param
        yield running
    finally:
        await running.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'hub.db'}"


# --- helpers --------------------------------------------------------------------------


def entity_url(entity_id: str, *rest: str) -> str:
    return "/".join([ENTITIES, quote(entity_id, safe=":"), *rest])


def new_entity_id(kind: str = "OffStreetParking") -> str:
    return f"urn:ngsi-ld:{kind}:{uuid.uuid4().hex[:12]}"


async def one_client_per_worker(server: Server) -> dict[int, httpx.AsyncClient]:
    """A keep-alive client pinned to each worker (connections are spread by the kernel).

    A worker listed among the processes may still be in its lifespan startup (opening the
    store), and uvicorn accepts nothing on its socket until that ends, so this keeps trying,
    pausing after each miss, until START_TIMEOUT rather than for a fixed number of
    connections: on a loaded CI machine 200 back-to-back connections once all went to the
    three workers already up."""
    wanted = len(server.workers())
    pinned: dict[int, httpx.AsyncClient] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while loop.time() < deadline:
        http = httpx.AsyncClient(
            base_url=server.base_url, timeout=30, limits=httpx.Limits(max_connections=1)
        )
        response = await http.get("/health")
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        pid = server.worker_of(client_port)
        if pid is not None and pid not in pinned:
            pinned[pid] = http
            if len(pinned) == wanted:
                return pinned
        else:
            await http.aclose()
            await asyncio.sleep(0.02)
    for http in pinned.values():
        await http.aclose()
    pytest.fail(f"could not reach each of {wanted} workers; got {sorted(pinned)}")


# --- tests ----------------------------------------------------------------------------


async def test_serve_runs_two_workers(server: Server) -> None:
    assert len(server.workers()) == 2


async def test_create_entity_returns_201_and_every_worker_reads_it(server: Server) -> None:
    clients = await one_client_per_worker(server)
    try:
        writers = list(clients)
        for writer in writers:
            entity_id = new_entity_id()
            body = {
                "id": entity_id,
                "type": "OffStreetParking",
                "name": {"type": "Property", "value": "강남 주차장 · 駐車場 · 停车场"},
                "availableSpotNumber": {"type": "Property", "value": 12},
            }
            created = await clients[writer].post(ENTITIES, json=body)
            assert created.status_code == 201, created.text
            for reader in writers:
                got = await clients[reader].get(entity_url(entity_id))
                assert got.status_code == 200, (reader, got.text)
                assert got.json() == body
            # The writer's id is taken for every worker.
            for reader in writers:
                again = await clients[reader].post(ENTITIES, json=body)
                assert again.status_code == 409, again.text
    finally:
        for http in clients.values():
            await http.aclose()


async def test_merge_entity_returns_204_when_200_concurrent_writers_touch_one_entity(
    server: Server,
) -> None:
    entity_id = new_entity_id("Counter")
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as http:
        created = await http.post(ENTITIES, json={"id": entity_id, "type": "Counter"})
        assert created.status_code == 201, created.text

        async def write(n: int) -> int:
            attribute = {f"attr{n:03}": {"type": "Property", "value": n}}
            if n % 2:
                response = await http.patch(entity_url(entity_id), json=attribute)
            else:
                response = await http.post(entity_url(entity_id, "attrs"), json=attribute)
            return response.status_code

        statuses = await asyncio.gather(*(write(n) for n in range(200)))
        got = await http.get(entity_url(entity_id))
    assert statuses == [204] * 200, server.output()
    assert got.status_code == 200
    body = got.json()
    assert sorted(k for k in body if k.startswith("attr")) == [f"attr{n:03}" for n in range(200)]
    assert all(body[f"attr{n:03}"]["value"] == n for n in range(200))


async def test_create_entity_returns_201_for_each_of_200_concurrent_creates(
    server: Server,
) -> None:
    prefix = new_entity_id("Spot")
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as http:

        async def create(n: int) -> int:
            body = {"id": f"{prefix}:{n}", "type": "ParkingSpot"}
            return (await http.post(ENTITIES, json=body)).status_code

        statuses = await asyncio.gather(*(create(n) for n in range(200)))
        reads = await asyncio.gather(*(http.get(entity_url(f"{prefix}:{n}")) for n in range(200)))
    assert statuses == [201] * 200, server.output()
    assert [r.status_code for r in reads] == [200] * 200


@pytest.mark.parametrize("backend", BACKENDS)
async def test_serve_stops_cleanly_on_sigterm(
    backend: str, databases: FreshDatabases, tmp_path: Path
) -> None:
    url = await databases.new(backend)
    running = start_server(url, tmp_path / "logs", port=free_port())
    try:
        await running.wait_healthy()
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            created = await http.post(ENTITIES, json={"id": new_entity_id(), "type": "T"})
            assert created.status_code == 201
        workers = running.workers()
        assert len(workers) == 2
    finally:
        status = await running.stop()
    assert status == 0, running.output()
    assert "Traceback" not in running.output()
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", running.port)) != 0
    # Every worker closed its store: no session is left on the database.
    assert await databases.sessions(url) == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrate_command_applies_migrations_once(
    backend: str, databases: FreshDatabases, tmp_path: Path
) -> None:
    env = cityhub_env(await databases.new(backend))
    first = run_cityhub("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    names = [name for name, _ in bundled_migrations(backend)]
    assert names[0] == "001_init"
    assert first.stdout.strip() == "applied: " + ", ".join(names)
    second = run_cityhub("migrate", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "schema is up to date"


async def test_serve_listens_on_the_port_of_its_config_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "cityhub.toml"
    config.write_text(f'[cityhub]\nport = {port}\nhost = "127.0.0.1"\n', encoding="utf-8")
    running = start_server(sqlite_url, tmp_path / "logs", workers=1, config=config)
    running.port = port
    try:
        health = await running.wait_healthy()
        assert health["store"] == "sqlite"
    finally:
        status = await running.stop()
    # One worker runs inside the serving process; uvicorn re-raises SIGTERM after its
    # graceful shutdown, so the process reports death by that signal.
    assert status in (0, -signal.SIGTERM), running.output()
    assert f"http://127.0.0.1:{port}/ngsi-ld/v1" in running.output()
