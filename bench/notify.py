"""End-to-end notification latency: an update's request to its notification's receipt.

    .venv/bin/python bench/notify.py [--store sqlite|postgres|both] [--rates 100 500 1000]
                                     [--duration 5] [--subscriptions 1000] [--workers 1]
                                     [--profile DIR]

For each store a hub (``cityhub serve``) runs on a fresh database with 1,000 traffic-flow
entities and 1,000 subscriptions, one per entity, mixing the filters a city uses:
watchedAttributes, a q range, a geo-query (near 500 m of the sensor) and all three together.
Half notify an HTTP receiver, half an MQTT topic on the local Mosquitto (127.0.0.1:1883).
Updates (PATCH …/attrs, stamped with the time they are sent) go out at a steady rate to
random entities; each must produce exactly one notification. The receivers record receipt
times; the figure is p50/p99 of receipt − send, and delivered/expected. The HTTP receiver
and the MQTT subscriber each run in a process of their own, and updates are sent with
aiohttp: a single Python process doing all three saturated its core at 500/s, and the
figures were then the load generator's own queueing, not the hub's.

Baseline, in the same run: the same payloads sent at the same rate straight to the same
HTTP receiver and through the same MQTT broker, with no hub in between — what the transport
itself costs. Target (issue 4): at 500 updates/s, p99 <= 100 ms and 100 % delivered.
``--profile DIR`` samples the hub with py-spy at each rate (collapsed stacks and a summary
of where its time goes, as bench/entities.py does). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as a file: make ``bench`` importable like ``-m bench.notify`` does
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import aiomqtt
import httpx
import orjson

from bench.entities import (
    DEFAULT_PG,
    VENV_BIN,
    Server,
    free_port,
    fresh_database,
    profiling,
    start_server,
    stop_server,
)

API = "/ngsi-ld/v1"
BROKER = ("127.0.0.1", 1883)
SCHEMA = "https://smartdatamodels.org/dataModel.Transportation/"
CITIES = {"seoul": (126.978, 37.5665), "tokyo": (139.6917, 35.6895), "beijing": (116.4074, 39.9042)}
FILTERS = ("watched", "q", "geo", "all")


def sensor(n: int) -> dict[str, Any]:
    city = list(CITIES)[n % 3]
    lon, lat = CITIES[city]
    rng = random.Random(n)
    return {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:{city}:{n:05d}",
        "type": SCHEMA + "TrafficFlowObserved",
        SCHEMA + "intensity": {"type": "Property", "value": rng.randint(0, 2000)},
        SCHEMA + "averageVehicleSpeed": {"type": "Property", "value": 40, "unitCode": "KMH"},
        SCHEMA + "sentAt": {"type": "Property", "value": 0.0},
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [lon + rng.uniform(-0.1, 0.1), lat + rng.uniform(-0.1, 0.1)],
            },
        },
    }


def subscription(n: int, entity: dict[str, Any], endpoint: str) -> dict[str, Any]:
    kind = FILTERS[n % len(FILTERS)]
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Subscription:bench:{n:05d}",
        "type": "Subscription",
        "entities": [{"type": entity["type"], "id": entity["id"]}],
        "notification": {
            "format": "keyValues",
            "attributes": [SCHEMA + "sentAt", SCHEMA + "averageVehicleSpeed"],
            "endpoint": {"uri": endpoint},
        },
    }
    if kind in ("watched", "all"):
        body["watchedAttributes"] = [SCHEMA + "sentAt"]
    if kind in ("q", "all"):
        body["q"] = f"{SCHEMA}averageVehicleSpeed>=0;{SCHEMA}averageVehicleSpeed<200"
    if kind in ("geo", "all"):
        body["geoQ"] = {
            "georel": "near;maxDistance==500",
            "geometry": "Point",
            "coordinates": entity["location"]["value"]["coordinates"],
        }
    return body


# --- receivers ------------------------------------------------------------------------------


@dataclass
class Receipts:
    """Latency (s) of each notification received, by entity id and sentAt."""

    latencies: list[float] = field(default_factory=list)
    seen: set[tuple[str, float]] = field(default_factory=set)
    duplicates: int = 0

    def record(self, payload: dict[str, Any], now: float) -> None:
        for entity in payload.get("data", []):
            sent = entity.get("sentAt", entity.get(SCHEMA + "sentAt"))  # core context: IRIs
            if not isinstance(sent, float | int) or sent <= 0:
                continue
            key = (entity.get("id", ""), float(sent))
            if key in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(key)
            self.latencies.append(now - float(sent))


class HttpReceiver:
    """A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) answering 204."""

    def __init__(self, receipts: Receipts, port: int) -> None:
        self.receipts = receipts
        self.server: asyncio.base_events.Server | None = None
        self.port = port

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=512)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                self.receipts.record(orjson.loads(body), time.time())
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            return  # the receiver is stopping
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def mqtt_listener(topic: str, receipts: Receipts, ready: asyncio.Event) -> None:
    async with aiomqtt.Client(*BROKER, max_queued_incoming_messages=0) as client:
        await client.subscribe(topic + "/#", qos=0)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            receipts.record(orjson.loads(message.payload)["body"], time.time())


def _receiver_main(kind: str, port: int, topic: str, conn: Any) -> None:
    """A receiver process: receives notifications, answers the parent's commands."""

    async def run() -> None:
        receipts = Receipts()
        receiver = None
        listener = None
        if kind == "http":
            receiver = HttpReceiver(receipts, port)
            await receiver.start()
        else:
            ready = asyncio.Event()
            listener = asyncio.create_task(mqtt_listener(topic, receipts, ready))
            await ready.wait()
        conn.send("ready")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "count":
                conn.send(len(receipts.latencies))
            elif command == "take":
                conn.send(list(receipts.latencies))
                receipts.latencies.clear()
            elif command == "clear":
                receipts.latencies.clear()
                conn.send("ok")
            else:
                break
        if listener is not None:
            listener.cancel()
        if receiver is not None:
            await receiver.stop()

    asyncio.run(run())


class ReceiverProcess:
    """An HTTP receiver or an MQTT subscriber in a process of its own."""

    def __init__(self, kind: str, topic: str = "") -> None:
        self.kind = kind
        self.port = free_port()
        parent, child = multiprocessing.Pipe()
        self.conn = parent
        self.process = multiprocessing.get_context("spawn").Process(
            target=_receiver_main, args=(kind, self.port, topic, child), daemon=True
        )

    async def start(self) -> None:
        self.process.start()
        answer = await asyncio.to_thread(self.conn.recv)
        assert answer == "ready", answer

    def _ask(self, command: str) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    def clear(self) -> None:
        self._ask("clear")

    def take(self) -> list[float]:
        latencies: list[float] = self._ask("take")
        return latencies

    async def drain(self, expected: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self._ask("count") < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()


# --- load -----------------------------------------------------------------------------------


async def steady(rate: int, seconds: float, send: Any, concurrency: int = 64) -> int:
    """Call ``send(i)`` ``rate`` times a second for ``seconds``; the number sent."""
    total = int(rate * seconds)
    slots = asyncio.Semaphore(concurrency)
    start = time.perf_counter()
    tasks = []

    async def one(i: int) -> None:
        async with slots:
            await send(i)

    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return total


def summary(latencies: list[float]) -> tuple[float, float]:
    if not latencies:
        return math.nan, math.nan
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


@dataclass
class Row:
    store: str
    rate: int
    transport: str
    p50: float
    p99: float
    delivered: int
    expected: int
    base_p50: float
    base_p99: float
    base_delivered: int

    def ok(self) -> bool:
        return self.rate != 500 or (self.p99 <= 100 and self.delivered >= self.expected)


async def run_store(store: str, url: str, args: argparse.Namespace) -> list[Row]:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="cityhub-notify-"))
    hub: Server = start_server(
        "hub",
        [
            str(VENV_BIN / "cityhub"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        {
            "CITYHUB_DATABASE_URL": url,
            "CITYHUB_LOG_LEVEL": "warning",
            "CITYHUB_CONTEXT_ALLOW_HOSTS": "",
        },
        port,
        workdir / "hub.log",
    )
    rows: list[Row] = []
    topic = f"cityhub-bench/{uuid.uuid4().hex}"
    receiver = ReceiverProcess("http")
    subscriber = ReceiverProcess("mqtt", topic)
    await asyncio.gather(receiver.start(), subscriber.start())
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(base_url=hub.base, limits=limits, timeout=30) as client:
            entities = [sensor(n) for n in range(args.subscriptions)]
            for start in range(0, len(entities), 500):
                response = await client.post(
                    f"{API}/entityOperations/upsert", json=entities[start : start + 500]
                )
                response.raise_for_status()
            transports: dict[str, str] = {}
            for n, entity in enumerate(entities):
                if n % 2:
                    endpoint = f"http://127.0.0.1:{receiver.port}/notify"
                    transports[entity["id"]] = "http"
                else:
                    endpoint = f"mqtt://{BROKER[0]}:{BROKER[1]}/{topic}/{n}"
                    transports[entity["id"]] = "mqtt"
                response = await client.post(
                    f"{API}/subscriptions", json=subscription(n, entity, endpoint)
                )
                response.raise_for_status()

            async def measure(rate: int, run: argparse.Namespace) -> list[Row]:
                return await measure_rate(
                    store,
                    rate,
                    run,
                    client,
                    entities,
                    transports,
                    receiver,
                    subscriber,
                    topic,
                    hub,
                )

            if args.warmup > 0:  # connections, statement caches, history series: a warm hub
                print(f"  warm-up: 100/s for {args.warmup:g} s (not counted)", flush=True)
                await measure(
                    100,
                    argparse.Namespace(**{**vars(args), "duration": args.warmup, "profile": None}),
                )
            for rate in args.rates:
                rows.extend(await measure(rate, args))
    finally:
        receiver.stop()
        subscriber.stop()
        stop_server(hub)
    return rows


async def measure_rate(
    store: str,
    rate: int,
    args: argparse.Namespace,
    client: httpx.AsyncClient,
    entities: list[dict[str, Any]],
    transports: dict[str, str],
    receiver: ReceiverProcess,
    subscriber: ReceiverProcess,
    topic: str,
    server: Server,
) -> list[Row]:
    rng = random.Random(rate)
    profile = args.profile / f"{store}-{rate}.txt" if args.profile else None
    expected = {"http": 0, "mqtt": 0}
    receiver.clear()
    subscriber.clear()
    base_url = str(client.base_url).rstrip("/")
    answered: list[float] = []
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def update(i: int) -> None:
            entity = entities[rng.randrange(len(entities))]
            body = {SCHEMA + "sentAt": {"type": "Property", "value": time.time()}}
            url = f"{base_url}{API}/entities/{entity['id']}/attrs"
            headers = {"Content-Type": "application/json"}
            started = time.time()
            async with session.patch(url, data=orjson.dumps(body), headers=headers) as response:
                await response.read()
                answered.append(time.time() - started)
                if response.status == 204:
                    expected[transports[entity["id"]]] += 1

        with profiling(server, profile, args.duration):
            await steady(rate, args.duration, update)
    await receiver.drain(expected["http"])
    await subscriber.drain(expected["mqtt"])
    hub = {"http": receiver.take(), "mqtt": subscriber.take()}
    a50, a99 = summary(answered)
    print(f"  {store} {rate}/s PATCH answered: p50 {a50:.1f} ms p99 {a99:.1f} ms", flush=True)
    base = await baseline(rate, args, receiver, subscriber, topic)
    rows = []
    for transport in ("http", "mqtt"):
        p50, p99 = summary(hub[transport])
        b50, b99 = summary(base[transport][0])
        rows.append(
            Row(
                store,
                rate,
                transport,
                p50,
                p99,
                len(hub[transport]),
                expected[transport],
                b50,
                b99,
                base[transport][1],
            )
        )
        print(
            f"  {store} {rate}/s {transport}: p50 {p50:.1f} ms p99 {p99:.1f} ms "
            f"{len(hub[transport])}/{expected[transport]} | baseline p50 {b50:.1f} "
            f"p99 {b99:.1f}",
            flush=True,
        )
    return rows


async def baseline(
    rate: int,
    args: argparse.Namespace,
    receiver: ReceiverProcess,
    subscriber: ReceiverProcess,
    topic: str,
) -> dict[str, tuple[list[float], int]]:
    """The same notifications at the same rate, straight over each transport."""
    out: dict[str, tuple[list[float], int]] = {}
    receiver.clear()
    subscriber.clear()

    def payload(i: int) -> bytes:
        data = {
            "id": f"urn:ngsi-ld:Baseline:{rate}:{i}",
            "type": "TrafficFlowObserved",
            "sentAt": time.time(),
            "averageVehicleSpeed": 40,
        }
        return orjson.dumps(
            {
                "id": f"urn:ngsi-ld:Notification:{i}",
                "type": "Notification",
                "subscriptionId": "urn:x",
                "notifiedAt": "",
                "data": [data],
            }
        )

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        url = f"http://127.0.0.1:{receiver.port}/notify"

        async def post(i: int) -> None:
            headers = {"Content-Type": "application/json"}
            async with session.post(url, data=payload(i), headers=headers) as response:
                await response.read()

        sent = await steady(rate // 2 or 1, args.duration, post)
    await receiver.drain(sent)
    out["http"] = (receiver.take(), sent)
    async with aiomqtt.Client(*BROKER) as mqtt:

        async def publish(i: int) -> None:
            message = orjson.dumps({"metadata": {}, "body": orjson.loads(payload(i))})
            await mqtt.publish(f"{topic}/baseline", message, qos=0)

        sent = await steady(rate // 2 or 1, args.duration, publish)
        await subscriber.drain(sent)
    out["mqtt"] = (subscriber.take(), sent)
    return out


def print_table(rows: list[Row]) -> None:
    print(
        "\nstore     rate/s transport   p50 ms   p99 ms  delivered/expected"
        "   baseline p50   p99 ms  target"
    )
    print("-" * 98)
    for r in rows:
        target = "p99<=100ms, 100%" if r.rate == 500 else ""
        mark = ("ok" if r.ok() else "NO") if target else ""
        print(
            f"{r.store:<9} {r.rate:>6} {r.transport:<9} {r.p50:>8.1f} {r.p99:>8.1f}"
            f"  {r.delivered:>8}/{r.expected:<8} {r.base_p50:>12.1f} {r.base_p99:>8.1f}"
            f"  {target} {mark}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per rate")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds at 100/s first")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--profile", type=Path, help="directory for py-spy profiles of the hub at each rate"
    )
    args = parser.parse_args(argv)
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    rows: list[Row] = []
    for store in stores:
        print(f"== {store}: {args.subscriptions} subscriptions, workers {args.workers}", flush=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"cityhub-notify-{store}-"))
        with fresh_database(store, "notify", args.pg_url, workdir) as url:
            rows.extend(asyncio.run(run_store(store, url, args)))
    print_table(rows)


if __name__ == "__main__":
    main()
