"""The demo cities (issue 6): Seoul and Tokyo replayed from the real samples through the feed
adapters, Beijing simulated; deterministic under a seed, every entity labelled and valid,
values varied within their bounds, a day of history on the first start, and ``cityhub demo``
serving the three tenants while they keep changing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cityhub.demo.replay import DemoReplay
from cityhub.demo.server import seed
from cityhub.demo.table import register_samples
from cityhub.hub import Hub
from tests.api.entity_requests import entity_url
from tests.scenarios.test_serve import cityhub_env, free_port
from tests.unit.feeds.hub_check import assert_hub_accepts

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
PARKING_LINK = (
    "<https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/"
    'context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


@pytest.fixture(scope="module")
def replay() -> DemoReplay:
    register_samples()
    return DemoReplay(7, NOW)


def test_demo_replay_is_deterministic_under_a_seed(replay: DemoReplay) -> None:
    again = DemoReplay(7, NOW)
    assert again.base == replay.base
    moment = NOW + timedelta(minutes=7)
    assert again.at(moment, every=True) == replay.at(moment, every=True)
    other = DemoReplay(8, NOW).at(moment, every=True)
    assert other != replay.at(moment, every=True)


def test_demo_has_three_cities_from_the_samples(replay: DemoReplay) -> None:
    assert replay.rejected == 0
    types = {tenant: Counter(e["type"] for e in es) for tenant, es in replay.base.items()}
    assert set(types) == {"seoul", "tokyo", "beijing"}
    # Seoul's citydata sample (one hotspot) as the adapter maps it.
    assert types["seoul"]["OffStreetParking"] + types["seoul"]["OnStreetParking"] == 12
    assert types["seoul"]["TrafficFlowObserved"] == 3
    # Tokyo: the 23 AMeDAS stations of Tokyo, the 28 Chiyoda evacuation sites, JMA alerts.
    assert types["tokyo"]["WeatherObserved"] == 23
    assert types["tokyo"]["PointOfInterest"] == 28
    assert types["tokyo"]["Alert"] > 0
    assert types["beijing"]["AirQualityObserved"] == 12


async def test_demo_entities_are_labelled_and_accepted_by_the_hub(replay: DemoReplay) -> None:
    for tenant, entities in replay.base.items():
        labels = {e["demoData"]["value"] for e in entities}
        assert labels <= ({"simulated"} if tenant == "beijing" else {"replayed", "varied"})
        assert await assert_hub_accepts(entities) == len(entities)
    assert all("simulated" in e["dataProvider"]["value"] for e in replay.base["beijing"])


def test_demo_replay_moves_sample_times_to_now(replay: DemoReplay) -> None:
    [weather] = [e for e in replay.base["seoul"] if e["type"] == "WeatherObserved"]
    observed = datetime.fromisoformat(weather["temperature"]["observedAt"])
    assert abs(observed - NOW) < timedelta(minutes=1)


def test_demo_variation_stays_within_bounds(replay: DemoReplay) -> None:
    for step in range(0, 2000, 7):
        moment = NOW + timedelta(seconds=10 * step)
        for entities in replay.at(moment, every=True).values():
            for e in entities:
                if "availableSpotNumber" in e and "totalSpotNumber" in e:
                    free = e["availableSpotNumber"]["value"]
                    assert 0 <= free <= e["totalSpotNumber"]["value"]
                if "averageVehicleSpeed" in e:
                    speed = e["averageVehicleSpeed"]["value"]
                    assert 3 <= speed <= 110
                    if "congested" in e and e["id"].startswith(
                        "urn:ngsi-ld:TrafficFlowObserved:CN"
                    ):
                        assert e["congested"]["value"] == (speed < 15)
                if "relativeHumidity" in e:
                    assert 0 <= e["relativeHumidity"]["value"] <= 1


def test_demo_ticks_change_each_entity_about_once_a_minute(replay: DemoReplay) -> None:
    seen: Counter[str] = Counter()
    for step in range(6):
        for entities in replay.at(NOW + timedelta(seconds=10 * step)).values():
            seen.update(e["id"] for e in entities)
    varying = sum(len(replay.varying(t)) for t in replay.base)
    assert len(seen) == varying and set(seen.values()) == {1}


async def test_demo_seed_writes_the_cities_with_a_day_of_history(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    register_samples()
    now = datetime.now(UTC).replace(microsecond=0)
    counts = await seed(hub, DemoReplay(3, now))
    assert counts == {"seoul": 32, "tokyo": 265, "beijing": 52}
    lot = "urn:ngsi-ld:OffStreetParking:CN-Beijing-sim:wangfujing"
    response = await client.get(
        f"/ngsi-ld/v1/temporal/entities/{lot}",
        params={
            "attrs": "availableSpotNumber",
            "timerel": "after",
            "timeAt": (now - timedelta(hours=25)).isoformat(),
            "lastN": "1000",
        },
        headers={"NGSILD-Tenant": "beijing", "Link": PARKING_LINK},
    )
    assert response.status_code == 200, response.text
    instances = response.json()["availableSpotNumber"]
    assert len(instances) == 24 * 4 + 1  # every 15 minutes for a day, up to now
    # A restart brings the cities up to date without touching what did not change.
    shelter = "urn:ngsi-ld:PointOfInterest:JP-GSI:E1310100005201"
    before = await client.get(
        entity_url(shelter), params={"options": "sysAttrs"}, headers={"NGSILD-Tenant": "tokyo"}
    )
    assert before.status_code == 200, before.text
    await seed(hub, DemoReplay(3, now))
    after = await client.get(
        entity_url(shelter), params={"options": "sysAttrs"}, headers={"NGSILD-Tenant": "tokyo"}
    )
    assert after.json()["modifiedAt"] == before.json()["modifiedAt"]


async def test_cityhub_demo_serves_the_three_cities_and_keeps_them_changing(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = cityhub_env(f"sqlite:///{tmp_path / 'demo.db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "cityhub", "demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if "Try:" in line:
                break
        assert any("tenant beijing" in line for line in banner), banner
        base = f"http://127.0.0.1:{port}/ngsi-ld/v1/entities"
        async with httpx.AsyncClient(timeout=10) as http:
            for tenant in ("seoul", "tokyo", "beijing"):
                response = await http.get(
                    base,
                    params={"type": "OffStreetParking,PointOfInterest", "count": "true"},
                    headers={"NGSILD-Tenant": tenant, "Link": PARKING_LINK},
                )
                assert response.status_code == 200, response.text

            async def latest_change() -> str:
                response = await http.get(
                    base,
                    params={"type": "OffStreetParking", "options": "sysAttrs", "limit": "100"},
                    headers={"NGSILD-Tenant": "beijing", "Link": PARKING_LINK},
                )
                return max(e["modifiedAt"] for e in response.json())

            first = await latest_change()
            for _ in range(60):  # a tick every 10 s: some lot changes within a minute
                await asyncio.sleep(1)
                if await latest_change() != first:
                    break
            assert await latest_change() != first
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_demo_alerts_are_issued_around_now(replay: DemoReplay) -> None:
    """Each sample file moves by its own offset (they come from different years)."""
    for tenant, entities in replay.base.items():
        for e in entities:
            if "dateIssued" in e:
                issued = datetime.fromisoformat(e["dateIssued"]["value"]["@value"])
                assert abs(issued - NOW) < timedelta(days=1), (tenant, e["id"], issued)
