"""Notifications survive crashes and are shared by workers: real `cityhub serve` processes.

A change and the notifications it causes commit in one transaction (the outbox); every worker
delivers from that outbox under a lease. These tests hold the hub to what that design
promises, with real processes and a real receiver on 127.0.0.1:

* a notification committed before the hub is killed (SIGKILL of the whole process group) is
  delivered after a restart on the same database, SQLite or PostgreSQL, and an idempotent
  receiver (one that drops a repeated Notification ``id``) accepts it exactly once, also when
  the worker died in the middle of sending it;
* with ``--workers 4`` on PostgreSQL every change is notified exactly once, and a subscription
  created through one worker notifies the writes every worker takes next.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from tests.receivers import NotificationReceiver, Received, _Handler
from tests.scenarios.test_serve import (
    BACKENDS,
    ENTITIES,
    FreshDatabases,
    Server,
    cityhub_env,
    entity_url,
    free_port,
    one_client_per_worker,
)

SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
LEASE = 2.0
CRASH_SETTINGS = {
    "CITYHUB_NOTIFICATION_LEASE": str(LEASE),
    "CITYHUB_NOTIFICATION_RETRY_MAX": "1",
}
WAIT = 30.0  # longest any single wait may take before the test fails
SETTLE = 3.0  # how long to keep listening for a repeat that must not come


# --- a hub that can be crashed --------------------------------------------------------


def launch(
    database_url: str,
    log_dir: Path,
    *,
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> Server:
    """``cityhub serve`` in a session (process group) of its own, so that one SIGKILL takes
    the serving process and all its workers at once, as a crash of the machine's hub would.
    (tests/scenarios/test_serve.py's start_server shares the test runner's group and takes
    no extra settings.)"""
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [sys.executable, "-m", "cityhub", "serve", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--workers", str(workers)]
    env = {**cityhub_env(database_url), **(settings or {})}
    with open(log_dir / "stdout.txt", "wb") as out, open(log_dir / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            args, env=env, cwd=log_dir, stdout=out, stderr=err, start_new_session=True
        )
    return Server(process, port, log_dir)


def crash(server: Server) -> None:
    """SIGKILL the server's whole process group: no shutdown code runs anywhere."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=WAIT)


async def shut_down(server: Server) -> None:
    """Stop the server if it still runs, then kill whatever is left of its group."""
    try:
        if server.process.poll() is None:
            await server.stop()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        if server.process.poll() is None:
            server.process.wait(timeout=WAIT)


async def until(
    check: Callable[[], bool | Awaitable[bool]],
    what: str,
    server: Server | None = None,
    timeout: float = WAIT,
) -> None:
    """Poll ``check`` until it holds; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            logs = "\n" + server.output() if server is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{logs}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def fresh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FreshDatabases]:
    databases = FreshDatabases(tmp_path_factory.mktemp("durability-db"))
    try:
        yield databases
    finally:
        await databases.drop_all()


# --- a slow receiver -----------------------------------------------------------------


class _SlowHandler(_Handler):
    """Records the request at once, then keeps it ``delay`` seconds before answering."""

    def do_POST(self) -> None:
        owner = self.server.owner
        assert isinstance(owner, SlowReceiver)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, delay = owner.status, owner.delay
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        with owner.lock:
            owner.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
            )
            owner.arrived_at.append(time.time())
        time.sleep(delay)
        # The sender may be dead by now: the receiver has done its part either way.
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()


class SlowReceiver(NotificationReceiver):
    """A NotificationReceiver that keeps each request ``delay`` seconds before it answers
    (a slow endpoint), and notes when each request arrived (seconds since the epoch)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.arrived_at: list[float] = []
        self._server.RequestHandlerClass = _SlowHandler


# --- API helpers ----------------------------------------------------------------------


async def subscribe(http: httpx.AsyncClient, uri: str) -> str:
    """A subscription to every Parking, notifying ``uri`` on the default triggers."""
    sub_id = f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    body = {
        "id": sub_id,
        "type": "Subscription",
        "entities": [{"type": "Parking"}],
        "notification": {"endpoint": {"uri": uri}},
    }
    response = await http.post(SUBSCRIPTIONS, json=body)
    assert response.status_code == 201, response.text
    return sub_id


async def subscription_notification(http: httpx.AsyncClient, sub_id: str) -> dict[str, Any]:
    """The subscription's ``notification`` member with its status (clause 5.2.14)."""
    response = await http.get(f"{SUBSCRIPTIONS}/{quote(sub_id, safe=':')}")
    assert response.status_code == 200, response.text
    return dict(response.json()["notification"])


async def create_parking(http: httpx.AsyncClient, entity_id: str, spots: int) -> None:
    body = {"id": entity_id, "type": "Parking", "spots": {"type": "Property", "value": spots}}
    response = await http.post(ENTITIES, json=body)
    assert response.status_code == 201, response.text


async def set_spots(http: httpx.AsyncClient, entity_id: str, spots: int) -> None:
    response = await http.patch(
        entity_url(entity_id, "attrs"), json={"spots": {"type": "Property", "value": spots}}
    )
    assert response.status_code == 204, response.text


def change_of(received: Received) -> tuple[str, int]:
    """(entity id, spots) of the change a notification reports."""
    [entity] = received.body["data"]
    return entity["id"], entity["spots"]["value"]


def new_parking_id() -> str:
    return f"urn:ngsi-ld:Parking:{uuid.uuid4().hex[:12]}"


async def outbox_rows(database_url: str) -> list[dict[str, Any]]:
    """The notification_outbox rows, read straight from the store (no hub running)."""
    columns = "id, subscription_id, entity_id, attempts, next_attempt_at, claimed_until"
    query = f"SELECT {columns} FROM notification_outbox ORDER BY id"
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            cursor = conn.execute(query)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            conn.close()
    pg = await asyncpg.connect(database_url, timeout=5)
    try:
        return [dict(row) for row in await pg.fetch(query)]
    finally:
        await pg.close()


# --- a crash between commit and delivery ----------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_notification_queued_before_a_crash_is_delivered_once_after_restart(
    backend: str, fresh: FreshDatabases, tmp_path: Path
) -> None:
    """A committed change has its notification queued in the same transaction, so a hub
    killed (SIGKILL, workers included) before delivering it delivers it after a restart on
    the same database. Every attempt carries the same Notification ``id``, so an idempotent
    receiver sees exactly one notification for the change, and exactly one 2xx delivery
    happens: the row leaves the outbox once the receiver accepted it."""
    url = await fresh.new(backend)
    entity_id = new_parking_id()
    with NotificationReceiver() as receiver:
        receiver.status = 500
        first = launch(url, tmp_path / "first", settings=CRASH_SETTINGS)
        try:
            await first.wait_healthy()
            async with httpx.AsyncClient(base_url=first.base_url, timeout=10) as http:
                sub_id = await subscribe(http, receiver.url("/notify"))
                await create_parking(http, entity_id, 7)
                await until(lambda: len(receiver.received) >= 1, "a first attempt", first)

                async def failure_recorded() -> bool:
                    status = await subscription_notification(http, sub_id)
                    return status.get("status") == "failed"

                # The 500 is on record: the notification is back in the outbox, waiting.
                await until(failure_recorded, "the failed attempt to be recorded", first)
            crash(first)
        finally:
            await shut_down(first)
        attempts_before = len(receiver.received)
        assert all(r.status == 500 for r in receiver.received)
        [queued] = await outbox_rows(url)
        assert (queued["subscription_id"], queued["entity_id"]) == (sub_id, entity_id)
        assert queued["attempts"] >= 1

        receiver.status = 200
        second = launch(url, tmp_path / "second", settings=CRASH_SETTINGS)
        try:
            await second.wait_healthy()
            await until(lambda: len(receiver.accepted()) >= 1, "the redelivery", second)
            await asyncio.sleep(SETTLE)
            async with httpx.AsyncClient(base_url=second.base_url, timeout=10) as http:
                status = await subscription_notification(http, sub_id)
            rows_after = await outbox_rows(url)
        finally:
            await shut_down(second)

    accepted = receiver.accepted()
    assert len(accepted) == 1, [(r.status, r.body.get("id")) for r in receiver.received]
    [delivered] = accepted
    assert delivered.body["subscriptionId"] == sub_id
    assert change_of(delivered) == (entity_id, 7)
    # Every attempt, before and after the crash, is the same notification.
    assert {r.body["id"] for r in receiver.received} == {delivered.body["id"]}
    assert len(receiver.received) > attempts_before
    assert rows_after == []
    assert status["status"] == "ok", status
    assert status["timesFailed"] >= 1
    assert status["lastSuccess"] >= status["lastFailure"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_notification_in_flight_when_the_worker_dies_is_redelivered_with_the_same_id(
    backend: str, fresh: FreshDatabases, tmp_path: Path
) -> None:
    """A worker killed while it is sending a notification (slow receiver) leaves the row
    claimed; it is not lost: when the lease (notification_lease) runs out, the restarted
    hub claims it again and delivers it. The repeat carries the Notification ``id`` of the
    interrupted attempt, so an idempotent receiver keeps exactly one notification."""
    url = await fresh.new(backend)
    entity_id = new_parking_id()
    with SlowReceiver(delay=3.0) as receiver:
        first = launch(url, tmp_path / "first", settings=CRASH_SETTINGS)
        try:
            await first.wait_healthy()
            async with httpx.AsyncClient(base_url=first.base_url, timeout=10) as http:
                sub_id = await subscribe(http, receiver.url("/notify"))
                await create_parking(http, entity_id, 3)
            await until(lambda: len(receiver.received) >= 1, "the slow delivery", first)
            crash(first)  # while the receiver still holds the request
        finally:
            await shut_down(first)
        receiver.delay = 0.0
        assert len(receiver.received) == 1
        [in_flight] = receiver.received
        [claimed] = await outbox_rows(url)
        assert (claimed["subscription_id"], claimed["entity_id"]) == (sub_id, entity_id)
        assert claimed["claimed_until"] is not None, claimed

        second = launch(url, tmp_path / "second", settings=CRASH_SETTINGS)
        try:
            await second.wait_healthy()
            await until(lambda: len(receiver.received) >= 2, "the redelivery", second)
            await asyncio.sleep(SETTLE)
            rows_after = await outbox_rows(url)
        finally:
            await shut_down(second)

    # Not taken back before the dead worker's lease ran out.
    assert receiver.arrived_at[1] >= claimed["claimed_until"]
    assert len(receiver.received) == 2, [r.body.get("id") for r in receiver.received]
    assert {r.body["id"] for r in receiver.received} == {in_flight.body["id"]}
    assert {change_of(r) for r in receiver.received} == {(entity_id, 3)}
    assert rows_after == []


# --- N workers, one truth -------------------------------------------------------------


async def test_four_workers_notify_every_change_exactly_once_and_share_new_subscriptions(
    fresh: FreshDatabases, tmp_path: Path
) -> None:
    """With ``--workers 4`` on PostgreSQL the outbox is claimed with FOR UPDATE SKIP LOCKED,
    so 200 changes written through all four workers are each notified exactly once: as many
    notifications as changes, no Notification ``id`` twice, no (entity, value) twice. A
    subscription is the hub's, not a worker's: created through one worker, it notifies the
    writes every worker (and any new connection) takes right after its 201."""
    url = await fresh.new("postgres")
    with NotificationReceiver() as receiver:
        server = launch(url, tmp_path / "logs", workers=4)
        try:
            await server.wait_healthy()
            await until(lambda: len(server.workers()) == 4, "four workers", server)
            clients = await one_client_per_worker(server)
            try:
                pids = sorted(clients)
                first_sub = await subscribe(clients[pids[0]], receiver.url("/first"))

                # 100 entities, each created through one worker and updated through the next.
                expected: set[tuple[str, int]] = set()

                async def create_then_update(n: int) -> None:
                    entity_id = f"urn:ngsi-ld:Parking:many-{n:03}"
                    await create_parking(clients[pids[n % 4]], entity_id, n)
                    await set_spots(clients[pids[(n + 1) % 4]], entity_id, 1000 + n)

                for n in range(100):
                    expected |= {(f"urn:ngsi-ld:Parking:many-{n:03}", v) for v in (n, 1000 + n)}
                await asyncio.gather(*(create_then_update(n) for n in range(100)))

                def first_count() -> int:
                    return sum(r.path == "/first" for r in receiver.accepted())

                await until(lambda: first_count() >= 200, "200 notifications", server)
                await asyncio.sleep(SETTLE)
                first = [r for r in receiver.accepted() if r.path == "/first"]
                assert len(first) == 200, len(first)
                assert len({r.body["id"] for r in first}) == 200
                changes = [change_of(r) for r in first]
                assert len(set(changes)) == 200
                assert set(changes) == expected
                # One subscription's notifications keep their order across workers: each
                # entity's creation (value n) arrives before its update (value 1000 + n).
                arrival = {change: index for index, change in enumerate(changes)}
                late = [
                    c for c in changes if c[1] < 1000 and arrival[(c[0], c[1] + 1000)] < arrival[c]
                ]
                assert not late, late[:5]
                status = await subscription_notification(clients[pids[3]], first_sub)
                assert status["timesSent"] == 200, status
                assert status["status"] == "ok"

                # A second subscription, created through one worker, then writes through
                # every worker and through brand-new connections right after its 201.
                second_sub = await subscribe(clients[pids[1]], receiver.url("/second"))

                async def on_new_connection(entity_id: str) -> None:
                    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                        await create_parking(http, entity_id, 1)

                late = [new_parking_id() for _ in range(8)]
                await asyncio.gather(
                    *(
                        create_parking(clients[pid], eid, 1)
                        for pid, eid in zip(pids, late[:4], strict=True)
                    ),
                    *(on_new_connection(eid) for eid in late[4:]),
                )

                def second_count() -> int:
                    return sum(r.path == "/second" for r in receiver.accepted())

                await until(lambda: second_count() >= 8, "8 notifications", server)
                await until(lambda: first_count() >= 208, "208 notifications", server)
                await asyncio.sleep(SETTLE)
            finally:
                for http in clients.values():
                    await http.aclose()
        finally:
            await shut_down(server)

    second = [r for r in receiver.accepted() if r.path == "/second"]
    assert {r.body["subscriptionId"] for r in second} == {second_sub}
    assert sorted(change_of(r)[0] for r in second) == sorted(late)
    assert len({r.body["id"] for r in second}) == 8
    first = [r for r in receiver.accepted() if r.path == "/first"]
    assert len(first) == 208
    assert len({r.body["id"] for r in first}) == 208
    assert sorted(c for c in map(change_of, first) if c[0] in late) == sorted(
        (eid, 1) for eid in late
    )
    assert all(r.status == 200 for r in receiver.received)
