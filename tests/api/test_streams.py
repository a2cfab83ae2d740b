"""The live feed: subscriptions with endpoint urn:cityhub:sse streamed as server-sent events
from GET /ngsi-ld/v1/subscriptions/{id}/stream (used by the dashboard).

The hub runs under a real uvicorn server on 127.0.0.1 (an in-process ASGI client cannot hold
a stream open); the test reads the event stream the way a browser's EventSource does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import uvicorn

from cityhub.app import create_app
from cityhub.hub import Hub
from tests.api.entity_requests import assert_problem
from tests.scenarios.test_serve import free_port

API = "/ngsi-ld/v1"
EX = "https://example.org/city/"


@pytest.fixture
async def served(hub: Hub) -> AsyncIterator[str]:
    """The hub's app under uvicorn on a free 127.0.0.1 port; its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(hub.settings, hub=hub),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True
    await asyncio.wait_for(task, 10)


async def feed_subscription(client: httpx.AsyncClient) -> str:
    sub_id = f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    body = {
        "id": sub_id,
        "type": "Subscription",
        "entities": [{"type": EX + "Parking"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": "urn:cityhub:sse"}},
    }
    response = await client.post(f"{API}/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return sub_id


def parking(n: int, spots: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Parking:{n}",
        "type": EX + "Parking",
        EX + "spots": {"type": "Property", "value": spots},
    }


async def read_events(
    stream: httpx.Response, count: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The next ``count`` SSE events (id, event, data) from an open stream."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with asyncio.timeout(timeout):
        async for line in stream.aiter_lines():
            if line == "":
                if "data" in current:
                    events.append(current)
                    if len(events) == count:
                        return events
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                current[field] = value.removeprefix(" ")
    raise AssertionError("the stream ended")


def stream_url(base: str, sub_id: str) -> str:
    return f"{base}{API}/subscriptions/{quote(sub_id, safe=':')}/stream"


async def test_stream_returns_each_notification_as_an_event(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        sub_id = await feed_subscription(client)
        async with client.stream("GET", stream_url(served, sub_id)) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            for n in (1, 2):
                response = await client.post(f"{API}/entities", json=parking(n, n))
                assert response.status_code == 201, response.text
            events = await read_events(stream, 2)
    assert [e["event"] for e in events] == ["notification", "notification"]
    notifications = [orjson.loads(e["data"]) for e in events]
    assert [n["subscriptionId"] for n in notifications] == [sub_id, sub_id]
    assert [n["data"][0]["id"] for n in notifications] == [
        "urn:ngsi-ld:Parking:1",
        "urn:ngsi-ld:Parking:2",
    ]
    assert int(events[0]["id"]) < int(events[1]["id"])


async def test_stream_resumes_after_last_event_id(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        sub_id = await feed_subscription(client)
        async with client.stream("GET", stream_url(served, sub_id)) as stream:
            await client.post(f"{API}/entities", json=parking(3, 1))
            [first] = await read_events(stream, 1)
        for n in (4, 5):  # while no browser is connected
            await client.post(f"{API}/entities", json=parking(n, 1))
        await asyncio.sleep(0.5)
        headers = {"Last-Event-ID": first["id"]}
        async with client.stream("GET", stream_url(served, sub_id), headers=headers) as stream:
            missed = await read_events(stream, 2)
    assert [orjson.loads(e["data"])["data"][0]["id"] for e in missed] == [
        "urn:ngsi-ld:Parking:4",
        "urn:ngsi-ld:Parking:5",
    ]


async def test_stream_returns_404_for_an_unknown_subscription(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        response = await client.get(stream_url(served, "urn:ngsi-ld:Subscription:none"))
    assert_problem(response, 404, "ResourceNotFound")


async def test_stream_returns_400_for_a_subscription_with_another_endpoint(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        body = {
            "id": "urn:ngsi-ld:Subscription:http",
            "type": "Subscription",
            "entities": [{"type": EX + "Parking"}],
            "notification": {"endpoint": {"uri": "http://127.0.0.1:9/x"}},
        }
        assert (await client.post(f"{API}/subscriptions", json=body)).status_code == 201
        response = await client.get(stream_url(served, body["id"]))
    assert_problem(response, 400, "BadRequestData")
