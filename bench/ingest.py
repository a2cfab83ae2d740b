"""MQTT device measures into the hub, at increasing rates, beside the batch upsert baseline.

    .venv/bin/python -m bench.ingest [--store sqlite|postgres|both] [--devices 1000]
                                     [--rates 500 1000 2000 4000] [--seconds 5]

For each store a fresh database is migrated and ``cityhub serve`` starts on a free
127.0.0.1 port with ``CITYHUB_IOT_MQTT_URL`` at the local Mosquitto (history on, the
default). A service group and ``--devices`` devices are provisioned through ``/iot``. Then,
for each rate, a paho-mqtt publisher (its own network thread, QoS 1) sends
``{"s": <speed>, "t": <publish time, µs>}`` on ``/<apikey>/<device>/attrs`` round-robin
over the devices for ``--seconds``; the hub maps ``t`` to a Number attribute. Once the hub
has taken every message (or 30 s passed) the figures come from the database itself:

* sustained measures/s: stored measures over the time from the first publish to the last
  one stored;
* publish-to-stored latency p50/p99: each instance's recording time (``created_at`` of the
  history row) minus the ``t`` it carries (one machine, one clock);
* delivered/published.

Baseline: the same measures, as entity fragments, through ``POST /entityOperations/upsert
?options=update`` in batches of 500 by 4 clients as fast as they go (measures/s) — the
write path the agent itself uses, without MQTT. Target (issue 6): >= 2,000 measures/s
sustained on PostgreSQL with p99 <= 200 ms. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

if not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
import orjson
import paho.mqtt.client as paho

from bench.entities import (
    DEFAULT_PG,
    HUB_API,
    VENV_BIN,
    free_port,
    fresh_database,
    start_server,
    stop_server,
)

BROKER = ("127.0.0.1", 1883)
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
TYPE = "TrafficFlowObserved"
TARGET_RATE = 2000
TARGET_P99_MS = 200.0


def provision(base: str, apikey: str, devices: int) -> None:
    service = {
        "apikey": apikey,
        "entity_type": TYPE,
        "attributes": [
            {"object_id": "s", "name": "averageVehicleSpeed", "type": "Number", "unitCode": "KMH"},
            {"object_id": "t", "name": "publishedAt", "type": "Integer"},
        ],
    }
    with httpx.Client(base_url=base, timeout=120) as http:
        response = http.post("/iot/services", json={"services": [service]})
        response.raise_for_status()
        for first in range(0, devices, 500):
            batch = [
                {"device_id": f"dev{n:05d}", "apikey": apikey}
                for n in range(first, min(first + 500, devices))
            ]
            http.post("/iot/devices", json={"devices": batch}).raise_for_status()


def publish(apikey: str, devices: int, rate: int, seconds: float, tag: int) -> int:
    """Publish at ``rate`` messages/s for ``seconds``; returns how many were sent."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(*BROKER)
    client.loop_start()
    total = int(rate * seconds)
    began = time.perf_counter()
    infos = []
    for n in range(total):
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        device = f"dev{n % devices:05d}"
        payload = orjson.dumps({"s": (n * 7 + tag) % 120, "t": time.time_ns() // 1000})
        infos.append(client.publish(f"/{apikey}/{device}/attrs", payload, qos=1))
    for info in infos:
        info.wait_for_publish(30)
    client.loop_stop()
    client.disconnect()
    return total


async def _recorded(url: str, since: int) -> list[tuple[int, int]]:
    """(recorded µs, published µs) of every publishedAt instance recorded after ``since``."""
    sql = (
        "SELECT a.created_at, CAST(a.num AS BIGINT) FROM temporal_series s JOIN"
        " attribute_instances a ON a.series = s.id WHERE s.attr = {p} AND a.created_at > {q}"
    )
    attr = DEFAULT + "publishedAt"
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            rows = conn.execute(sql.format(p="?", q="?"), (attr, since)).fetchall()
        finally:
            conn.close()
        return [(int(r[0]), int(r[1])) for r in rows]
    pg = await asyncpg.connect(url)
    try:
        found = await pg.fetch(sql.format(p="$1", q="$2"), attr, since)
    finally:
        await pg.close()
    return [(int(r[0]), int(r[1])) for r in found]


def measure_rate(url: str, apikey: str, devices: int, rate: int, seconds: float) -> str:
    since = time.time_ns() // 1000
    sent = publish(apikey, devices, rate, seconds, rate)
    deadline = time.monotonic() + 30
    rows: list[tuple[int, int]] = []
    while time.monotonic() < deadline:
        rows = asyncio.run(_recorded(url, since))
        if len(rows) >= sent:
            break
        time.sleep(0.5)
    if not rows:
        return f"  {rate:>6}/s: nothing stored"
    latencies = sorted((recorded - published) / 1000 for recorded, published in rows)
    first = min(published for _, published in rows)
    last = max(recorded for recorded, _ in rows)
    sustained = len(rows) / max((last - first) / 1e6, 1e-6)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)]
    return (
        f"  {rate:>6}/s offered: sustained {sustained:8,.0f}/s, p50 {p50:7.1f} ms,"
        f" p99 {p99:8.1f} ms, delivered {len(rows):,}/{sent:,}"
    )


def baseline(base: str, devices: int, total: int) -> float:
    """Measures/s through batch upsert (update) of the same fragments, 500 a request."""

    def body(first: int) -> bytes:
        return orjson.dumps(
            [
                {
                    "id": f"urn:ngsi-ld:{TYPE}:dev{(first + i) % devices:05d}",
                    "type": TYPE,
                    "averageVehicleSpeed": {"type": "Property", "value": i % 120},
                    "publishedAt": {"type": "Property", "value": time.time_ns() // 1000},
                }
                for i in range(500)
            ]
        )

    bodies = [body(first) for first in range(0, total, 500)]

    async def run() -> None:
        queue = list(reversed(bodies))

        async def worker() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=120) as http:
                while queue:
                    response = await http.post(
                        f"{HUB_API}/entityOperations/upsert",
                        params={"options": "update"},
                        content=queue.pop(),
                        headers={"Content-Type": "application/json"},
                    )
                    response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(4)))

    began = time.perf_counter()
    asyncio.run(run())
    return len(bodies) * 500 / (time.perf_counter() - began)


def bench_store(store: str, args: argparse.Namespace) -> None:
    print(f"== {store}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"cityhub-bench-ingest-{store}-"))
    with fresh_database(store, "ingest", args.pg_url, workdir) as url:
        port = free_port()
        server = start_server(
            "hub",
            [str(VENV_BIN / "cityhub"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            {
                "CITYHUB_DATABASE_URL": url,
                "CITYHUB_LOG_LEVEL": "warning",
                "CITYHUB_CONTEXT_ALLOW_HOSTS": "",
                "CITYHUB_IOT_MQTT_URL": f"mqtt://{BROKER[0]}:{BROKER[1]}",
            },
            port,
            workdir / "hub.log",
        )
        try:
            apikey = f"bench{uuid.uuid4().hex[:8]}"
            provision(server.base, apikey, args.devices)
            time.sleep(1.0)  # the agent's subscription is in place well before this
            for rate in args.rates:
                line = measure_rate(url, apikey, args.devices, rate, args.seconds)
                print(line, flush=True)
            base_rate = baseline(server.base, args.devices, max(args.rates) * int(args.seconds))
            print(f"  baseline: batch upsert of the same measures {base_rate:8,.0f}/s", flush=True)
            target = f">= {TARGET_RATE:,}/s sustained, p99 <= {TARGET_P99_MS:.0f} ms"
            print(f"  target (PostgreSQL): {target}", flush=True)
        finally:
            stop_server(server)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rates", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    for store in ["sqlite", "postgres"] if args.store == "both" else [args.store]:
        bench_store(store, args)


if __name__ == "__main__":
    main()
