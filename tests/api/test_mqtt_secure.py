"""MQTT notifications with credentials and TLS (MQTT binding, clause 7.2): a Mosquitto broker
started by the test on 127.0.0.1 with a test CA, a TLS listener and a plain listener, both
requiring a user name and password from the endpoint URI.

The hub trusts the test CA through the ``notification_mqtt_ca_file`` setting.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiomqtt
import httpx
import orjson
import pytest

API = "/ngsi-ld/v1"
EX = "https://example.org/city/"
USER, PASSWORD = "hubuser", "s3cret:/@"  # characters that need escaping in a URI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    tls_port: int
    plain_port: int
    ca_file: Path

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A test CA, a server certificate for 127.0.0.1 and a Mosquitto with two listeners."""
    for tool in ("mosquitto", "mosquitto_passwd", "openssl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required for the MQTT TLS tests (Debian: mosquitto, openssl)")
    work = tmp_path_factory.mktemp("mosquitto")
    _run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=CityHub Test CA",
        cwd=work,
    )
    _run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=work,
    )
    (work / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _run(
        "openssl",
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=work,
    )
    _run("mosquitto_passwd", "-b", "-c", "passwd", USER, PASSWORD, cwd=work)
    tls_port, plain_port = free_port(), free_port()
    (work / "mosquitto.conf").write_text(
        "per_listener_settings true\n"
        "user root\n"
        f"listener {tls_port} 127.0.0.1\n"
        f"cafile {work / 'ca.crt'}\ncertfile {work / 'server.crt'}\n"
        f"keyfile {work / 'server.key'}\n"
        f"allow_anonymous false\npassword_file {work / 'passwd'}\n"
        f"listener {plain_port} 127.0.0.1\n"
        f"allow_anonymous false\npassword_file {work / 'passwd'}\n"
    )
    process = subprocess.Popen(
        ["mosquitto", "-c", str(work / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", plain_port), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", tls_port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("mosquitto did not start")
                time.sleep(0.05)
        yield Broker(tls_port, plain_port, work / "ca.crt")
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def settings_overrides(broker: Broker) -> dict[str, Any]:
    return {"notification_mqtt_ca_file": str(broker.ca_file)}


@pytest.fixture
async def listener(broker: Broker) -> AsyncIterator[tuple[aiomqtt.Client, str]]:
    topic = f"cityhub-test/{uuid.uuid4().hex}"
    async with aiomqtt.Client(
        "127.0.0.1",
        broker.tls_port,
        username=USER,
        password=PASSWORD,
        tls_context=broker.tls_context(),
    ) as client:
        await client.subscribe(topic, qos=1)
        yield client, topic


def quoted(text: str) -> str:
    return quote(text, safe="")


async def subscribe_and_create(client: httpx.AsyncClient, uri: str, version: str) -> str:
    sub_id = f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    body = {
        "id": sub_id,
        "type": "Subscription",
        "entities": [{"type": EX + "Parking"}],
        "notification": {
            "endpoint": {
                "uri": uri,
                "timeout": 3000,
                "notifierInfo": [
                    {"key": "MQTT-Version", "value": version},
                    {"key": "MQTT-QoS", "value": "1"},
                ],
            }
        },
    }
    assert (await client.post(f"{API}/subscriptions", json=body)).status_code == 201
    entity = {
        "id": f"urn:ngsi-ld:Parking:{uuid.uuid4().hex[:8]}",
        "type": EX + "Parking",
        EX + "spots": {"type": "Property", "value": 4},
    }
    assert (await client.post(f"{API}/entities", json=entity)).status_code == 201
    return sub_id


async def next_payload(mqtt: aiomqtt.Client) -> dict[str, Any]:
    async with asyncio.timeout(10):
        async for message in mqtt.messages:
            assert isinstance(message.payload, bytes)
            payload: dict[str, Any] = orjson.loads(message.payload)
            return payload
    raise AssertionError("no MQTT message")


async def status_of(client: httpx.AsyncClient, sub_id: str) -> dict[str, Any]:
    for _ in range(500):
        got: dict[str, Any] = (await client.get(f"{API}/subscriptions/{sub_id}")).json()
        if got["notification"].get("status"):
            return got["notification"]
        await asyncio.sleep(0.02)
    raise AssertionError("no delivery outcome recorded")


@pytest.mark.parametrize("version", ["mqtt3.1.1", "mqtt5.0"])
async def test_mqtts_endpoint_with_credentials_receives_the_notification(
    client: httpx.AsyncClient,
    broker: Broker,
    listener: tuple[aiomqtt.Client, str],
    version: str,
) -> None:
    mqtt, topic = listener
    uri = f"mqtts://{USER}:{quoted(PASSWORD)}@127.0.0.1:{broker.tls_port}/{topic}"
    sub_id = await subscribe_and_create(client, uri, version)
    payload = await next_payload(mqtt)
    assert payload["body"]["subscriptionId"] == sub_id
    assert (await status_of(client, sub_id))["status"] == "ok"


async def test_mqtt_endpoint_with_credentials_on_a_plain_listener_is_delivered(
    client: httpx.AsyncClient, broker: Broker, listener: tuple[aiomqtt.Client, str]
) -> None:
    mqtt, topic = listener
    uri = f"mqtt://{USER}:{quoted(PASSWORD)}@127.0.0.1:{broker.plain_port}/{topic}"
    sub_id = await subscribe_and_create(client, uri, "mqtt5.0")
    payload = await next_payload(mqtt)  # the listener is on the TLS side of the same broker
    assert payload["body"]["subscriptionId"] == sub_id


@pytest.mark.parametrize("credentials", ["", f"{USER}:wrong@"], ids=["anonymous", "wrong-password"])
async def test_mqtt_endpoint_refused_by_the_broker_fails_the_notification(
    client: httpx.AsyncClient, broker: Broker, credentials: str
) -> None:
    uri = f"mqtts://{credentials}127.0.0.1:{broker.tls_port}/cityhub-test/refused"
    sub_id = await subscribe_and_create(client, uri, "mqtt5.0")
    outcome = await status_of(client, sub_id)
    assert outcome["status"] == "failed"
    assert "lastFailure" in outcome
