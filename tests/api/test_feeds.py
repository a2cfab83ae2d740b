"""The feed framework on SQLite and PostgreSQL: a run stores what a feed says, re-reading the
same observations changes nothing and adds no history, bad records are dead-lettered while the
rest is stored, fetching retries and honours conditional requests, scheduled feeds run once
per interval across workers, and ``/ingest/adapters`` and ``/ingest/feeds`` show them.
Feeds are served by a real HTTP server on 127.0.0.1 (tests/http_server.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from cityhub.hub import Hub
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.scheduler import FeedScheduler, feed_configs
from cityhub.settings import load_settings
from tests.api.entity_requests import entity_url
from tests.feeds_toy import ToyAdapter
from tests.http_server import ContextServer

TOY = "tests.feeds_toy:ToyAdapter"
TENANT = "toytown"
LINK_A = "urn:ngsi-ld:TrafficFlowObserved:toy:A"
LINK_B = "urn:ngsi-ld:TrafficFlowObserved:toy:B"


def readings(*rows: tuple[str, Any, str]) -> bytes:
    return orjson.dumps([{"link": link, "speed": speed, "t": t} for link, speed, t in rows])


FETCHED = datetime(2026, 11, 29, 0, 10, tzinfo=UTC)
T1 = "2026-11-29T09:00:00+09:00"
T2 = "2026-11-29T09:05:00+09:00"


async def history(client: httpx.AsyncClient, entity_id: str) -> list[Any]:
    response = await client.get(
        f"/ngsi-ld/v1/temporal/entities/{entity_id}",
        params={
            "attrs": "averageVehicleSpeed",
            "timerel": "after",
            "timeAt": "2000-01-01T00:00:00Z",
        },
        headers={"NGSILD-Tenant": TENANT, "Link": TRANSPORT_LINK},
    )
    assert response.status_code == 200, response.text
    instances = response.json().get("averageVehicleSpeed", [])
    return instances if isinstance(instances, list) else [instances]


TRANSPORT_LINK = (
    "<https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/"
    'context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


async def get(client: httpx.AsyncClient, entity_id: str, **params: str) -> httpx.Response:
    return await client.get(
        entity_url(entity_id),
        params=params,
        headers={"NGSILD-Tenant": TENANT, "Link": TRANSPORT_LINK},
    )


async def test_feed_run_stores_entities_with_their_smart_data_model_terms(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    items = ToyAdapter().parse(readings(("A", "42.5", T1), ("B", 30, T1)), fetched_at=FETCHED)
    report = await hub.feeds.store_items("toy", TENANT, items)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 0)
    response = await get(client, LINK_A, options="keyValues")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "TrafficFlowObserved"
    assert body["averageVehicleSpeed"] == 42.5
    # Compact under the model's own context, so the terms expanded to its IRIs.
    core = await client.get(entity_url(LINK_A), headers={"NGSILD-Tenant": TENANT})
    assert "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed" in core.json()


async def test_feed_rerun_of_the_same_observations_changes_nothing_and_adds_no_history(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    payload = readings(("A", 42.5, T1), ("B", 30, T1))
    adapter = ToyAdapter()
    await hub.feeds.store_items("toy", TENANT, adapter.parse(payload, fetched_at=FETCHED))
    before = (await get(client, LINK_A, options="sysAttrs")).json()
    again = await hub.feeds.store_items("toy", TENANT, adapter.parse(payload, fetched_at=FETCHED))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    after = (await get(client, LINK_A, options="sysAttrs")).json()
    assert after["modifiedAt"] == before["modifiedAt"]
    assert len(await history(client, LINK_A)) == 1


async def test_feed_run_updates_only_what_changed(hub: Hub, client: httpx.AsyncClient) -> None:
    adapter = ToyAdapter()
    first = readings(("A", 42.5, T1), ("B", 30, T1))
    await hub.feeds.store_items("toy", TENANT, adapter.parse(first, fetched_at=FETCHED))
    b_before = (await get(client, LINK_B, options="sysAttrs")).json()
    second = readings(("A", 20, T2), ("B", 30, T1))
    report = await hub.feeds.store_items("toy", TENANT, adapter.parse(second, fetched_at=FETCHED))
    assert (report.updated, report.unchanged) == (1, 1)
    assert [i["value"] for i in await history(client, LINK_A)] == [42.5, 20]
    b_after = (await get(client, LINK_B, options="sysAttrs")).json()
    assert b_after["modifiedAt"] == b_before["modifiedAt"]


async def test_feed_run_dead_letters_bad_records_and_stores_the_rest(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    payload = orjson.dumps(
        [
            {"link": "A", "speed": 42.5, "t": T1},
            {"link": "B", "speed": "fast", "t": T1},  # a string where a number belongs
            {"link": "C", "speed": 10},  # no time
            {"link": "D e", "speed": 10, "t": T1},  # an id the hub refuses (a space)
        ]
    )
    report = await hub.feeds.store_items(
        "toy", TENANT, ToyAdapter().parse(payload, fetched_at=FETCHED)
    )
    assert (report.created, report.rejected) == (1, 3)
    assert (await get(client, LINK_A)).status_code == 200
    response = await client.get("/ingest/deadLetters", headers={"NGSILD-Tenant": TENANT})
    letters = response.json()["deadLetters"]
    assert response.json()["count"] == 3
    by_source = {d["source"]: d for d in letters}
    assert by_source["feed:toy#[1]"]["reason"] == "speed: 'fast' is not a number"
    assert orjson.loads(by_source["feed:toy#[1]"]["raw"]) == {"link": "B", "speed": "fast", "t": T1}
    assert by_source["feed:toy#[2]"]["reason"] == "t is missing"
    refused = [d for d in letters if d["source"].startswith("feed:toy#urn:")]
    assert len(refused) == 1 and "D e" in refused[0]["raw"]


async def test_feed_run_keeps_two_observations_of_one_entity_in_one_payload(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    payload = readings(("A", 42.5, T1), ("A", 20, T2))
    report = await hub.feeds.store_items(
        "toy", TENANT, ToyAdapter().parse(payload, fetched_at=FETCHED)
    )
    assert (report.created, report.updated) == (1, 1)
    assert [i["value"] for i in await history(client, LINK_A)] == [42.5, 20]


async def test_feed_run_fetches_with_conditional_requests(hub: Hub) -> None:
    with ContextServer() as server:
        url = server.route(
            "/speeds.json", readings(("A", 42.5, T1)), content_type="application/json", etag='"v1"'
        )
        adapter = ToyAdapter({"url": url})
        fetcher = Fetcher(retries=0)
        try:
            first = await hub.feeds.run(adapter, fetcher, TENANT)
            second = await hub.feeds.run(adapter, fetcher, TENANT)
        finally:
            await fetcher.aclose()
        assert first.created == 1 and first.error is None
        assert (second.created, second.updated, second.unchanged) == (0, 0, 0)
        assert server.requests[1][1].get("If-None-Match") == '"v1"'


async def test_feed_run_reports_an_unreachable_feed_after_retrying_and_writes_nothing(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    with ContextServer() as server:
        url = server.route("/speeds.json", b"busy", status=503, content_type="text/plain")
        fetcher = Fetcher(retries=2, backoff=0.01)
        try:
            report = await hub.feeds.run(ToyAdapter({"url": url}), fetcher, TENANT)
        finally:
            await fetcher.aclose()
        assert server.hits("/speeds.json") == 3
    assert report.error is not None and "HTTP 503" in report.error
    assert hub.feeds.counters["toy"].failed_runs == 1
    response = await client.get("/ngsi-ld/v1/types", headers={"NGSILD-Tenant": TENANT})
    assert response.status_code == 404  # the tenant was never created


async def test_fetcher_masks_api_keys_in_errors() -> None:
    with ContextServer() as server:
        server.route("/api", b"no", status=401, content_type="text/plain")
        fetcher = Fetcher(retries=0, secrets=("s3cr3t",))
        try:
            with pytest.raises(FetchError) as caught:
                await fetcher.get(server.url("/api"), params={"serviceKey": "s3cr3t"})
        finally:
            await fetcher.aclose()
    assert "s3cr3t" not in str(caught.value) and "***" in str(caught.value)


async def test_feed_lease_is_taken_by_exactly_one_of_many_workers(hub: Hub) -> None:
    now = time.time()
    claims = await asyncio.gather(
        *(hub.store.claim_feed_run("toy@x", now, now + 60) for _ in range(8))
    )
    assert sum(claims) == 1
    assert not await hub.store.claim_feed_run("toy@x", now + 30, now + 90)
    assert await hub.store.claim_feed_run("toy@x", now + 61, now + 120)


async def test_scheduled_feed_runs_and_is_listed_with_its_last_run(
    hub: Hub, client: httpx.AsyncClient
) -> None:
    with ContextServer() as server:
        url = server.route(
            "/speeds.json", readings(("A", 42.5, T1)), content_type="application/json"
        )
        settings = load_settings(
            environ={},
            database_url=hub.settings.database_url,
            feeds=orjson.dumps([{"adapter": TOY, "interval": 1, "options": {"url": url}}]).decode(),
        )
        scheduler = FeedScheduler(settings, hub.feeds)
        hub.feed_scheduler = scheduler
        scheduler.start()
        try:
            for _ in range(100):
                if await hub.store.feed_run_reports():
                    break
                await asyncio.sleep(0.05)
        finally:
            await scheduler.stop()
            hub.feed_scheduler = None
        hub.feed_scheduler = scheduler  # listed as configured
        response = await client.get("/ingest/feeds")
        hub.feed_scheduler = None
    assert response.status_code == 200
    [feed] = response.json()
    assert (feed["name"], feed["adapter"], feed["tenant"]) == ("toy@toytown", "toy", TENANT)
    assert feed["lastRun"]["created"] == 1 and "error" not in feed["lastRun"]
    assert feed["counters"]["runs"] >= 1
    assert (await get(client, LINK_A)).status_code == 200


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "adapter"),
        ({"adapter": TOY, "interval": 0.1}, "interval"),
        ({"adapter": TOY, "options": []}, "options"),
        ({"adapter": TOY, "every": 5}, "unknown keys"),
    ],
)
def test_feed_configs_rejects_a_bad_feed_table(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        feed_configs([table])


async def test_list_adapters_returns_200_with_the_built_in_adapters(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/ingest/adapters")
    assert response.status_code == 200
    names = {a["name"] for a in response.json()}
    assert names  # every built-in adapter registers itself
    assert all(a["title"] for a in response.json())
