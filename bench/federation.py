"""A regional query over three city hubs against the same query on one hub holding all of it.

    .venv/bin/python bench/federation.py [--per-city 30000] [--requests 300] [--concurrency 8]

Five ``cityhub serve`` processes on 127.0.0.1, each on its own SQLite file in a temporary
folder: three city hubs with ``--per-city`` OffStreetParking entities each (tenant = city),
one regional hub that registered the three (inclusive registrations, federationOps, each
with its city's area as ``location``), and one
single hub holding all the entities in one tenant (the baseline: the same query answered
without federation). Each query runs ``--requests`` times from ``--concurrency`` clients:

* q:   type=OffStreetParking&q=availableSpotNumber>=90&limit=20
* geo: type=OffStreetParking&georel=near;maxDistance==2000&geometry=Point&coordinates=…&limit=20
* page: type=OffStreetParking&limit=100&offset=300

It prints p50/p95 latency and requests/s for the single-hub answer, the federated answer
(every request asks the cities) and the federated answer of a second regional hub whose
registrations carry ``management.cacheDuration`` = PT1S (clause 5.2.34: a question asked
again within a second is answered from the city's previous answer), and the ratios of the
p95s. Target: federated p95 ≤ 2 × single-hub p95. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.federation.hubs import PARKING_CTX, Hub, link, load, register, start_hub
from tests.scenarios.test_serve import FreshDatabases

CITIES = {"seoul": (126.978, 37.566), "tokyo": (139.767, 35.681), "beijing": (116.397, 39.908)}
PARKING_LINK = link(PARKING_CTX)
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


def lots(city: str, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{city}")
    lon, lat = CITIES[city]
    return [
        {
            "id": f"urn:ngsi-ld:OffStreetParking:{city}:{n:06d}",
            "type": "OffStreetParking",
            "availableSpotNumber": {
                "type": "Property",
                "value": rng.randint(0, 100),
                "observedAt": "2026-11-29T09:00:00Z",
            },
            "totalSpotNumber": {"type": "Property", "value": 100},
            "location": {
                "type": "GeoProperty",
                "value": {
                    "type": "Point",
                    "coordinates": [lon + rng.uniform(-0.2, 0.2), lat + rng.uniform(-0.2, 0.2)],
                },
            },
            "@context": [PARKING_CTX, CORE],
        }
        for n in range(count)
    ]


def area(city: str) -> dict[str, Any]:
    """The registration's ``location``: the box the city's entities are in (a city hub
    registers its area, so geo-queries elsewhere are not sent to it)."""
    lon, lat = CITIES[city]
    west, south, east, north = lon - 0.25, lat - 0.25, lon + 0.25, lat + 0.25
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"location": {"type": "Polygon", "coordinates": [ring]}}


CACHE_DURATION = "PT1S"

QUERIES = {
    "q": {"type": "OffStreetParking", "q": "availableSpotNumber>=90", "limit": "20"},
    "geo": {
        "type": "OffStreetParking",
        "georel": "near;maxDistance==2000",
        "geometry": "Point",
        "coordinates": "[139.767,35.681]",
        "limit": "20",
    },
    "page": {"type": "OffStreetParking", "limit": "100", "offset": "300"},
}


async def measure(
    base: str, tenant: str, params: dict[str, str], requests: int, concurrency: int
) -> tuple[float, float, float, int]:
    """p50 ms, p95 ms, requests/s and the ids of the first answer (for a sanity check)."""
    latencies: list[float] = []
    headers = {"Link": PARKING_LINK}
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:
        first = await http.get("/ngsi-ld/v1/entities", params=params)
        assert first.status_code == 200, first.text
        assert "NGSILD-Warning" not in first.headers, first.headers["NGSILD-Warning"]
        found = len(first.json())
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                response = await http.get("/ngsi-ld/v1/entities", params=params)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    return statistics.median(latencies) * 1000, p95 * 1000, requests / elapsed, found


async def run(per_city: int, requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cityhub-fed-bench-") as folder:
        tmp = Path(folder)
        databases = FreshDatabases(tmp)
        hubs: list[Hub] = []
        try:
            region = await start_hub("region", await databases.new("sqlite"), tmp)
            cached = await start_hub("cached", await databases.new("sqlite"), tmp)
            single = await start_hub("single", await databases.new("sqlite"), tmp)
            hubs += [region, cached, single]
            loading = time.perf_counter()
            for city in CITIES:
                hub = await start_hub(city, await databases.new("sqlite"), tmp)
                hubs.append(hub)
                entities = lots(city, per_city, 7)
                await asyncio.gather(load(hub, city, entities), load(single, "all", entities))
                await register(region, hub, city, ["OffStreetParking"], extra=area(city))
                keep = {**area(city), "management": {"cacheDuration": CACHE_DURATION}}
                await register(cached, hub, city, ["OffStreetParking"], extra=keep)
            print(
                f"loaded {3 * per_city:,} entities into the city hubs and the single hub "
                f"in {time.perf_counter() - loading:.0f} s"
            )
            print(
                f"\n{'query':<6} {'answer':<10} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}"
                f" {'found':>6}"
            )
            answers = (("single", single, "all"), ("federated", region, ""), ("cached", cached, ""))
            for name, params in QUERIES.items():
                figures = {}
                for label, hub, tenant in answers:
                    p50, p95, rate, found = await measure(
                        hub.url, tenant, params, requests, concurrency
                    )
                    figures[label] = p95
                    print(f"{name:<6} {label:<10} {p50:8.1f} {p95:8.1f} {rate:8.0f} {found:6d}")
                for label in ("federated", "cached"):
                    ratio = figures[label] / figures["single"]
                    verdict = "meets" if ratio <= 2 else "misses"
                    print(
                        f"{name:<6} {label} p95 = {ratio:.2f} x single-hub p95"
                        f" ({verdict} the 2x target)"
                    )
        finally:
            for hub in hubs:
                await hub.server.stop()
            await databases.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-city", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.per_city, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
