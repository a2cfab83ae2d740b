"""Notifications over MQTT (MQTT binding, clause 7.2) through the real Mosquitto broker on
127.0.0.1:1883: MQTT 3.1.1 and 5.0, QoS 0, 1 and 2, the metadata/body envelope, the topic
from the endpoint's path, and the subscription status once the broker took the message."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiomqtt
import httpx
import orjson
import pytest

from cityhub.notifications.mqtt_delivery import MqttDelivery, broker_and_topic
from cityhub.notifications.payload import Notification
from tests.http_server import ContextServer

BROKER = ("127.0.0.1", 1883)
API = "/ngsi-ld/v1"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"context_allow_hosts": "127.0.0.1"}


@pytest.fixture
def ctx() -> Iterator[str]:
    with ContextServer() as server:
        yield server.route("/city.jsonld", {"@context": {"Parking": EX + "Parking"}})


@pytest.fixture
async def listener() -> AsyncIterator[tuple[aiomqtt.Client, str]]:
    """A client subscribed to a fresh topic on the broker."""
    topic = f"cityhub-test/{uuid.uuid4().hex}"
    async with aiomqtt.Client(*BROKER) as client:
        await client.subscribe(topic, qos=2)
        yield client, topic


async def next_message(client: aiomqtt.Client, timeout: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            payload: dict[str, Any] = orjson.loads(message.payload)
            return payload
    raise AssertionError("no MQTT message")


@pytest.mark.parametrize("version", [None, "mqtt3.1.1", "mqtt5.0"])
@pytest.mark.parametrize("qos", [None, "1", "2"])
async def test_mqtt_endpoint_receives_the_notification_in_an_envelope(
    client: httpx.AsyncClient,
    ctx: str,
    listener: tuple[aiomqtt.Client, str],
    version: str | None,
    qos: str | None,
) -> None:
    mqtt, topic = listener
    info = [{"key": "MQTT-Version", "value": version}] if version else []
    info += [{"key": "MQTT-QoS", "value": qos}] if qos else []
    sub_id = f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    endpoint: dict[str, Any] = {
        "uri": f"mqtt://{BROKER[0]}:{BROKER[1]}/{topic}",
        "receiverInfo": [{"key": "test-receiver-key", "value": "test-receiver-info"}],
    }
    if info:
        endpoint["notifierInfo"] = info
    headers = {"Link": f'<{ctx}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}
    body = {
        "id": sub_id,
        "type": "Subscription",
        "entities": [{"type": "Parking"}],
        "notification": {"endpoint": endpoint},
    }
    response = await client.post(f"{API}/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    entity = {
        "id": "urn:ngsi-ld:Parking:mqtt",
        "type": "Parking",
        "spots": {"type": "Property", "value": 3},
    }
    response = await client.post(f"{API}/entities", json=entity, headers=headers)
    assert response.status_code == 201, response.text
    message = await next_message(mqtt)
    assert message["metadata"]["Content-Type"] == "application/json"
    assert message["metadata"]["Link"].startswith(f"<{ctx}>")
    assert message["metadata"]["test-receiver-key"] == "test-receiver-info"
    assert message["body"]["type"] == "Notification"
    assert message["body"]["subscriptionId"] == sub_id
    assert message["body"]["data"][0]["id"] == entity["id"]
    assert message["body"]["data"][0]["type"] == "Parking"
    for _ in range(200):
        got = (await client.get(f"{API}/subscriptions/{sub_id}")).json()["notification"]
        if got.get("status"):
            break
        await asyncio.sleep(0.02)
    assert got["status"] == "ok"
    assert got["timesSent"] == 1


async def test_an_unreachable_broker_fails_the_notification(
    client: httpx.AsyncClient, ctx: str
) -> None:
    sub_id = f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    body = {
        "id": sub_id,
        "type": "Subscription",
        "entities": [{"type": EX + "Parking"}],
        "notification": {"endpoint": {"uri": "mqtt://127.0.0.1:9/nowhere", "timeout": 500}},
    }
    assert (await client.post(f"{API}/subscriptions", json=body)).status_code == 201
    entity = {
        "id": "urn:ngsi-ld:Parking:nobroker",
        "type": EX + "Parking",
        "spots": {"type": "Property", "value": 3},
    }
    assert (await client.post(f"{API}/entities", json=entity)).status_code == 201
    for _ in range(500):
        got = (await client.get(f"{API}/subscriptions/{sub_id}")).json()["notification"]
        if got.get("status"):
            break
        await asyncio.sleep(0.02)
    assert got["status"] == "failed"
    assert "lastFailure" in got


async def test_the_broker_connection_sends_each_publish_at_once(
    listener: tuple[aiomqtt.Client, str],
) -> None:
    """The hub's connection to a broker has Nagle's algorithm off (TCP_NODELAY): at QoS 0
    the broker sends nothing back, so with it on a notification waits for a delayed ACK."""
    client, topic = listener
    delivery = MqttDelivery()
    endpoint = {"uri": f"mqtt://{BROKER[0]}:{BROKER[1]}/{topic}"}
    notification = Notification({"id": "urn:ngsi-ld:Notification:1"}, "application/json", {})
    try:
        assert await delivery.send(endpoint, notification) is None
        message = await next_message(client)
        assert message["body"]["id"] == "urn:ngsi-ld:Notification:1"
        broker, _, _ = broker_and_topic(endpoint)
        sock = delivery._clients[broker]._client.socket()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        await delivery.aclose()
