"""Devices publishing measures through the real Mosquitto broker on 127.0.0.1:1883 (FIWARE
IoT Agent JSON topics) into the hub, on SQLite and PostgreSQL: measures become attribute
updates with observedAt and unitCode and land in the history; bad messages go to the dead
letters with their reason while the rest is stored; autoprovisioning by setting."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiomqtt
import httpx
import pytest

from cityhub.hub import Hub
from tests.api.entity_requests import entity_url

BROKER = ("127.0.0.1", 1883)
TYPE = "TrafficFlowObserved"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"iot_mqtt_url": f"mqtt://{BROKER[0]}:{BROKER[1]}"}


@pytest.fixture
async def device(client: httpx.AsyncClient, hub: Hub) -> tuple[str, str]:
    """(apikey, device id) of a provisioned device, the agent subscribed."""
    assert hub.device_agent is not None
    await asyncio.wait_for(hub.device_agent.subscribed.wait(), 10)
    apikey, device_id = f"k{uuid.uuid4().hex[:10]}", f"d{uuid.uuid4().hex[:8]}"
    service = {
        "apikey": apikey,
        "entity_type": TYPE,
        "attributes": [
            {"object_id": "s", "name": "averageVehicleSpeed", "type": "Number", "unitCode": "KMH"},
            {"object_id": "c", "name": "congested", "type": "Boolean"},
            {"object_id": "p", "name": "position", "type": "geo:point"},
        ],
    }
    assert (await client.post("/iot/services", json={"services": [service]})).status_code == 201
    body = {"devices": [{"device_id": device_id, "apikey": apikey}]}
    assert (await client.post("/iot/devices", json=body)).status_code == 201
    return apikey, device_id


async def publish(*messages: tuple[str, bytes]) -> None:
    async with aiomqtt.Client(*BROKER) as mqtt:
        for topic, payload in messages:
            await mqtt.publish(topic, payload, qos=1)


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Poll ``check`` (an async callable returning a value or None) until it answers."""
    async with asyncio.timeout(timeout):
        while True:
            found = await check()
            if found is not None:
                return found
            await asyncio.sleep(0.05)


async def attribute(client: httpx.AsyncClient, entity_id: str, name: str, value: Any) -> Any:
    async def check() -> Any:
        body = (await client.get(entity_url(entity_id))).json()
        attr = body.get(name)
        return attr if attr and attr.get("value") == value else None

    return await eventually(check)


async def dead_letters(client: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    async def check() -> Any:
        found = (await client.get("/ingest/deadLetters", params={"limit": "100"})).json()
        return found["deadLetters"] if found["count"] >= count else None

    letters: list[dict[str, Any]] = await eventually(check)
    return letters


async def test_measures_become_attribute_updates_with_observed_at_and_history(
    client: httpx.AsyncClient, device: tuple[str, str]
) -> None:
    apikey, device_id = device
    entity_id = f"urn:ngsi-ld:{TYPE}:{device_id}"
    await publish(
        (
            f"/{apikey}/{device_id}/attrs",
            b'{"s": "42.5", "TimeInstant": "2026-11-29T10:00:00+09:00"}',
        ),
        (f"/json/{apikey}/{device_id}/attrs/c", b"true"),
        (f"/{apikey}/{device_id}/attrs", b'{"s": 17, "p": "37.57, 126.98"}'),
    )
    speed = await attribute(client, entity_id, "averageVehicleSpeed", 17)
    assert speed["unitCode"] == "KMH"
    congested = await attribute(client, entity_id, "congested", True)
    assert congested["type"] == "Property"
    position = await attribute(
        client, entity_id, "position", {"type": "Point", "coordinates": [126.98, 37.57]}
    )
    assert position["type"] == "GeoProperty"
    history = await client.get(
        f"/ngsi-ld/v1/temporal/entities/{entity_id}",
        params={"attrs": "averageVehicleSpeed", "options": "temporalValues"},
    )
    values = history.json()["averageVehicleSpeed"]["values"]
    assert values[0] == [42.5, "2026-11-29T01:00:00Z"]  # TimeInstant, in UTC
    assert [v[0] for v in values] == [42.5, 17]


async def test_bad_messages_are_dead_lettered_and_the_rest_is_stored(
    client: httpx.AsyncClient, device: tuple[str, str]
) -> None:
    apikey, device_id = device
    entity_id = f"urn:ngsi-ld:{TYPE}:{device_id}"
    bad = [
        (f"/{apikey}/{device_id}/attrs", b"not json", "not JSON"),
        (f"/{apikey}/{device_id}/attrs", b'{"s": "fast"}', "'fast' is not a number"),
        (f"/{apikey}/{device_id}/attrs", b'{"p": "95, 10"}', "out of range"),
        (f"/{apikey}/{device_id}/attrs", b'{"s": 1, "TimeInstant": "yesterday"}', "TimeInstant"),
        (f"/{apikey}/unknown-device/attrs", b'{"s": 1}', "not provisioned"),
        (f"/{apikey}/{device_id}/attrs", b"[1, 2]", "JSON object"),
    ]
    await publish(
        (f"/{apikey}/{device_id}/attrs", b'{"s": 30}'),
        *[(topic, payload) for topic, payload, _ in bad],
        (f"/{apikey}/{device_id}/attrs", b'{"s": 31}'),
    )
    await attribute(client, entity_id, "averageVehicleSpeed", 31)
    letters = await dead_letters(client, len(bad))
    reasons = {(letter["raw"], letter["source"]): letter["reason"] for letter in letters}
    for topic, payload, reason in bad:
        assert reason in reasons[(payload.decode(), f"mqtt:{topic}")]
    history = await client.get(
        f"/ngsi-ld/v1/temporal/entities/{entity_id}",
        params={"attrs": "averageVehicleSpeed", "options": "temporalValues"},
    )
    assert [v[0] for v in history.json()["averageVehicleSpeed"]["values"]] == [30, 31]
    about = (await client.get("/iot/about")).json()["mqtt"]
    assert about["connected"] is True and about["deadLettered"] >= len(bad)


class TestAutoprovision:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"iot_mqtt_url": f"mqtt://{BROKER[0]}:{BROKER[1]}", "iot_autoprovision": True}

    async def test_a_new_device_of_a_known_apikey_is_provisioned_on_its_first_message(
        self, client: httpx.AsyncClient, device: tuple[str, str]
    ) -> None:
        apikey, _ = device
        newcomer = f"n{uuid.uuid4().hex[:8]}"
        await publish((f"/{apikey}/{newcomer}/attrs", b'{"s": 55}'))
        await attribute(client, f"urn:ngsi-ld:{TYPE}:{newcomer}", "averageVehicleSpeed", 55)
        assert (await client.get(f"/iot/devices/{newcomer}")).status_code == 200
