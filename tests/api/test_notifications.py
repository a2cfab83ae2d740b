"""Notifications (clauses 5.3.1, 5.8.6, 5.11) delivered over HTTP to a real receiver.

Each test subscribes a receiver on 127.0.0.1, changes entities through the API and checks
what the receiver got: which changes notify (entities, watchedAttributes, q, geoQ, triggers,
isActive), the Notification's members and headers, the rendering the subscription asks for,
and the status the subscription records. Absence is checked by a later change that does
notify: notifications of one subscription arrive in order, so anything the earlier change
caused would have come first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.http_server import ContextServer
from tests.receivers import NotificationReceiver, Received

API = "/ngsi-ld/v1"
SUBSCRIPTIONS = f"{API}/subscriptions"
ENTITIES = f"{API}/entities"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"
CONTEXT = {
    "Parking": EX + "Parking",
    "Sensor": EX + "Sensor",
    "spots": EX + "spots",
    "name": EX + "name",
    "status": EX + "status",
    "owner": EX + "owner",
}
SEOUL = [126.978, 37.5665]
TOKYO = [139.6917, 35.6895]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "context_allow_hosts": "127.0.0.1",
        "context_fetch_timeout": 2.0,
        "notification_retry_max": 1.0,
    }


@pytest.fixture
def ctx(ctx_server: ContextServer) -> str:
    return ctx_server.route("/city.jsonld", {"@context": CONTEXT})


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as server:
        yield server


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def parking(n: int, spots: int = 5, where: list[float] = SEOUL, **extra: Any) -> dict[str, Any]:
    body = {
        "id": f"urn:ngsi-ld:Parking:{n}",
        "type": "Parking",
        "spots": {"type": "Property", "value": spots},
        "name": {"type": "Property", "value": f"Lot {n}"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": where}},
    }
    body.update(extra)
    return body


async def subscribe(
    client: httpx.AsyncClient,
    ctx: str,
    uri: str,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> str:
    notification = members.pop("notification", {})
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Subscription:{uuid.uuid4()}",
        "type": "Subscription",
        "entities": [{"type": "Parking"}],
        "notification": {
            **notification,
            "endpoint": {"uri": uri, **notification.get("endpoint", {})},
        },
        **members,
    }
    response = await client.post(SUBSCRIPTIONS, json=body, headers={**link(ctx), **(headers or {})})
    assert response.status_code == 201, response.text
    return str(body["id"])


async def write(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    ctx: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> None:
    response = await client.request(
        method, url, json=body, headers={**link(ctx), **(headers or {})}
    )
    assert response.status_code in (201, 204), response.text


def entity_url(entity_id: str) -> str:
    return f"{ENTITIES}/{quote(entity_id, safe=':')}"


def data_of(received: Received) -> dict[str, Any]:
    [entity] = received.body["data"]
    return dict(entity)


async def subscription_status(
    client: httpx.AsyncClient, sub_id: str, expected: str | None = None
) -> dict[str, Any]:
    """The subscription's notification member; with ``expected``, once its status is that
    (outcomes are recorded shortly after delivery, in batches)."""
    for _ in range(250):
        response = await client.get(f"{SUBSCRIPTIONS}/{quote(sub_id, safe=':')}")
        assert response.status_code == 200, response.text
        notification = dict(response.json()["notification"])
        if expected is None or notification.get("status") == expected:
            return notification
        await asyncio.sleep(0.02)
    raise AssertionError(f"subscription status never became {expected}: {notification}")


# --- what a notification holds -----------------------------------------------------------


async def test_create_entity_notifies_with_a_notification_in_the_subscriptions_terms(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    sub_id = await subscribe(client, ctx, receiver.url("/n"), watchedAttributes=["spots"])
    await write(client, "POST", ENTITIES, ctx, parking(1))
    [received] = await receiver.wait_for(1)
    body = received.body
    assert body["type"] == "Notification"
    assert body["id"].startswith("urn:ngsi-ld:Notification:")
    assert body["subscriptionId"] == sub_id
    datetime.fromisoformat(body["notifiedAt"])
    assert set(body) == {"id", "type", "subscriptionId", "notifiedAt", "data"}
    assert data_of(received) == {
        "id": "urn:ngsi-ld:Parking:1",
        "type": "Parking",
        "spots": {"type": "Property", "value": 5},
        "name": {"type": "Property", "value": "Lot 1"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": SEOUL}},
    }
    assert received.headers["content-type"] == "application/json"
    assert received.headers["link"] == f'<{ctx}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'
    status = await subscription_status(client, sub_id, "ok")
    assert status["timesSent"] == 1
    assert status["lastSuccess"] == status["lastNotification"]
    assert "lastFailure" not in status


async def test_notification_format_attributes_and_sys_attrs_follow_the_subscription(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        notification={"format": "concise", "attributes": ["spots"], "sysAttrs": True},
    )
    await write(client, "POST", ENTITIES, ctx, parking(2, spots=7))
    [received] = await receiver.wait_for(1)
    data = data_of(received)
    assert (data["id"], data["type"], data["spots"]["value"]) == (
        "urn:ngsi-ld:Parking:2",
        "Parking",
        7,
    )
    assert set(data) == {"id", "type", "spots", "createdAt", "modifiedAt"}


async def test_json_ld_notifications_carry_the_context_in_each_entity_and_no_link(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        notification={"format": "concise", "endpoint": {"accept": JSON_LD}},
    )
    await write(client, "POST", ENTITIES, ctx, parking(3))
    [received] = await receiver.wait_for(1)
    assert received.headers["content-type"] == JSON_LD
    assert "link" not in received.headers
    data = data_of(received)
    assert data["@context"] == ctx
    assert data["spots"] == 5


async def test_jsonld_context_of_the_subscription_compacts_the_notification(
    client: httpx.AsyncClient, ctx: str, ctx_server: ContextServer, receiver: NotificationReceiver
) -> None:
    other = ctx_server.route(
        "/other.jsonld", {"@context": {"plätze": EX + "spots", "Lot": EX + "Parking"}}
    )
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        jsonldContext=other,
        notification={"format": "keyValues", "attributes": ["spots"]},
    )
    await write(client, "POST", ENTITIES, ctx, parking(4))
    [received] = await receiver.wait_for(1)
    assert data_of(received) == {"id": "urn:ngsi-ld:Parking:4", "type": "Lot", "plätze": 5}
    assert received.headers["link"].startswith(f"<{other}>")


async def test_receiver_info_becomes_headers_and_the_tenant_is_named(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    tenant = {"NGSILD-Tenant": f"notify-{uuid.uuid4().hex[:6]}"}
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        tenant,
        notification={"endpoint": {"receiverInfo": [{"key": "X-City", "value": "Seoul"}]}},
    )
    await write(client, "POST", ENTITIES, ctx, parking(5), tenant)
    [received] = await receiver.wait_for(1)
    assert received.headers["x-city"] == "Seoul"
    assert received.headers["ngsild-tenant"] == tenant["NGSILD-Tenant"]


# --- which changes notify ----------------------------------------------------------------


async def test_only_changes_of_watched_attributes_notify(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await write(client, "POST", ENTITIES, ctx, parking(6))
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        watchedAttributes=["spots"],
        notification={"format": "keyValues"},
    )
    url = entity_url("urn:ngsi-ld:Parking:6") + "/attrs"
    await write(client, "PATCH", url, ctx, {"name": {"type": "Property", "value": "Renamed"}})
    await write(client, "PATCH", url, ctx, {"spots": {"type": "Property", "value": 1}})
    [received] = await receiver.wait_for(1)
    assert data_of(received)["spots"] == 1
    assert data_of(received)["name"] == "Renamed"
    assert len(receiver.accepted()) == 1


async def test_q_and_geo_q_decide_which_entities_notify(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        q="spots<3",
        geoQ={"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": SEOUL},
        notification={"format": "keyValues", "attributes": ["spots"]},
    )
    await write(client, "POST", ENTITIES, ctx, parking(7, spots=10))  # q fails
    await write(client, "POST", ENTITIES, ctx, parking(8, spots=1, where=TOKYO))  # geo fails
    await write(client, "POST", ENTITIES, ctx, parking(9, spots=2))
    [received] = await receiver.wait_for(1)
    assert data_of(received)["id"] == "urn:ngsi-ld:Parking:9"
    assert len(receiver.accepted()) == 1


async def test_entities_of_other_types_do_not_notify(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await subscribe(client, ctx, receiver.url("/n"))
    sensor = {
        "id": "urn:ngsi-ld:Sensor:1",
        "type": "Sensor",
        "spots": {"type": "Property", "value": 1},
    }
    await write(client, "POST", ENTITIES, ctx, sensor)
    await write(client, "POST", ENTITIES, ctx, parking(10))
    [received] = await receiver.wait_for(1)
    assert data_of(received)["id"] == "urn:ngsi-ld:Parking:10"


async def test_entity_deleted_trigger_sends_id_type_and_deleted_at(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await write(client, "POST", ENTITIES, ctx, parking(11))
    await subscribe(client, ctx, receiver.url("/n"), notificationTrigger=["entityDeleted"])
    await write(client, "DELETE", entity_url("urn:ngsi-ld:Parking:11"), ctx)
    [received] = await receiver.wait_for(1)
    data = data_of(received)
    assert set(data) == {"id", "type", "deletedAt"}
    assert data["type"] == "Parking"
    datetime.fromisoformat(data["deletedAt"])


async def test_attribute_deleted_trigger_sends_the_attribute_as_ngsi_ld_null(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await write(client, "POST", ENTITIES, ctx, parking(12))
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        notificationTrigger=["attributeDeleted"],
        notification={"format": "keyValues"},
    )
    await write(client, "DELETE", entity_url("urn:ngsi-ld:Parking:12") + "/attrs/name", ctx)
    [received] = await receiver.wait_for(1)
    assert data_of(received)["name"] == "urn:ngsi-ld:null"
    assert data_of(received)["spots"] == 5


async def test_show_changes_adds_the_previous_value(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await write(client, "POST", ENTITIES, ctx, parking(13))
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        watchedAttributes=["spots"],
        notification={"showChanges": True},
    )
    url = entity_url("urn:ngsi-ld:Parking:13") + "/attrs"
    await write(client, "PATCH", url, ctx, {"spots": {"type": "Property", "value": 9}})
    [received] = await receiver.wait_for(1)
    data = data_of(received)
    assert data["spots"]["value"] == 9
    assert data["spots"]["previousValue"] == 5
    assert "previousValue" not in data["name"]


async def test_paused_and_deleted_subscriptions_do_not_notify(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    paused = await subscribe(client, ctx, receiver.url("/paused"), isActive=False)
    gone = await subscribe(client, ctx, receiver.url("/gone"))
    response = await client.delete(f"{SUBSCRIPTIONS}/{quote(gone, safe=':')}")
    assert response.status_code == 204
    await subscribe(client, ctx, receiver.url("/live"))
    await write(client, "POST", ENTITIES, ctx, parking(14))
    [received] = await receiver.wait_for(1)
    assert received.path == "/live"
    response = await client.patch(
        f"{SUBSCRIPTIONS}/{quote(paused, safe=':')}", json={"isActive": True}
    )
    assert response.status_code == 204
    await write(
        client,
        "PATCH",
        entity_url("urn:ngsi-ld:Parking:14") + "/attrs",
        ctx,
        {"spots": {"type": "Property", "value": 0}},
    )
    received_all = await receiver.wait_for(3)
    assert sorted(r.path for r in received_all[1:]) == ["/live", "/paused"]


async def test_batch_upsert_notifies_every_matching_entity(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await subscribe(client, ctx, receiver.url("/n"), notification={"format": "keyValues"})
    batch = [parking(n) for n in range(100, 150)]
    response = await client.post(f"{API}/entityOperations/upsert", json=batch, headers=link(ctx))
    assert response.status_code in (201, 204), response.text
    received = await receiver.wait_for(50)
    assert sorted(data_of(r)["id"] for r in received) == sorted(e["id"] for e in batch)


# --- failures, retries, recovery ---------------------------------------------------------


async def test_a_failing_receiver_gets_the_notification_once_it_recovers(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    receiver.status = 500
    sub_id = await subscribe(client, ctx, receiver.url("/n"))
    await write(client, "POST", ENTITIES, ctx, parking(15))
    for _ in range(500):
        if len(receiver.received) >= 2:
            break
        await asyncio.sleep(0.02)
    status = await subscription_status(client, sub_id, "failed")
    assert status["timesFailed"] >= 1
    assert "lastFailure" in status
    receiver.status = 200
    [delivered] = await receiver.wait_for(1)
    assert all(r.body["id"] == delivered.body["id"] for r in receiver.received)  # one id
    assert data_of(delivered)["id"] == "urn:ngsi-ld:Parking:15"
    status = await subscription_status(client, sub_id, "ok")
    assert status["lastSuccess"] >= status["lastFailure"]


async def test_a_refused_connection_is_a_failure_and_does_not_block_other_subscriptions(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    dead = await subscribe(client, ctx, "http://127.0.0.1:9/refused")
    await subscribe(client, ctx, receiver.url("/n"))
    await write(client, "POST", ENTITIES, ctx, parking(16))
    await receiver.wait_for(1)
    for _ in range(500):
        status = await subscription_status(client, dead)
        if status.get("status") == "failed":
            break
        await asyncio.sleep(0.02)
    assert status["status"] == "failed"


# --- throttling, periodic notifications, deleted subscriptions ---------------------------


async def test_throttling_suppresses_notifications_inside_the_window(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await write(client, "POST", ENTITIES, ctx, parking(20))
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        throttling=1.5,
        watchedAttributes=["spots"],
        notification={"format": "keyValues", "attributes": ["spots"]},
    )
    url = entity_url("urn:ngsi-ld:Parking:20") + "/attrs"
    for value in (1, 2, 3):
        await write(client, "PATCH", url, ctx, {"spots": {"type": "Property", "value": value}})
    [first] = await receiver.wait_for(1)
    assert data_of(first)["spots"] == 1
    await asyncio.sleep(1.7)
    await write(client, "PATCH", url, ctx, {"spots": {"type": "Property", "value": 4}})
    received = await receiver.wait_for(2)
    assert [data_of(r)["spots"] for r in received] == [1, 4]
    await asyncio.sleep(0.3)
    assert len(receiver.accepted()) == 2


async def test_periodic_subscription_notifies_every_matching_entity_each_interval(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await write(client, "POST", ENTITIES, ctx, parking(21, spots=1))
    await write(client, "POST", ENTITIES, ctx, parking(22, spots=9))
    await subscribe(
        client,
        ctx,
        receiver.url("/n"),
        timeInterval=1,
        q="spots<5",
        notification={"format": "keyValues", "attributes": ["spots"]},
    )
    received = await receiver.wait_for(2, timeout=10)
    for notification in received:
        assert notification.body["data"] == [
            {"id": "urn:ngsi-ld:Parking:21", "type": "Parking", "spots": 1}
        ]
    first, second = (datetime.fromisoformat(r.body["notifiedAt"]) for r in received)
    assert (second - first).total_seconds() >= 0.8


async def test_periodic_subscription_sends_nothing_when_nothing_matches(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    await subscribe(client, ctx, receiver.url("/none"), timeInterval=1, q="spots<0")
    await subscribe(client, ctx, receiver.url("/sentinel"), timeInterval=1)
    await write(client, "POST", ENTITIES, ctx, parking(23))
    received = await receiver.wait_for(2, timeout=10)
    assert {r.path for r in receiver.accepted()} == {"/sentinel"}
    assert received


async def test_a_deleted_subscription_stops_notifying_at_once(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    gone = await subscribe(client, ctx, receiver.url("/gone"))
    await write(client, "POST", ENTITIES, ctx, parking(24))
    await receiver.wait_for(1)
    response = await client.delete(f"{SUBSCRIPTIONS}/{quote(gone, safe=':')}")
    assert response.status_code == 204
    url = entity_url("urn:ngsi-ld:Parking:24") + "/attrs"
    await write(client, "PATCH", url, ctx, {"spots": {"type": "Property", "value": 0}})
    await subscribe(client, ctx, receiver.url("/sentinel"))
    await write(client, "PATCH", url, ctx, {"spots": {"type": "Property", "value": 1}})
    received = await receiver.wait_for(2)
    assert [r.path for r in received] == ["/gone", "/sentinel"]
    await asyncio.sleep(0.3)
    assert len(receiver.accepted()) == 2


async def test_a_hanging_endpoint_does_not_hold_back_other_subscriptions(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    with NotificationReceiver(hold=True) as hanging:
        await subscribe(client, ctx, hanging.url("/slow"))
        await subscribe(client, ctx, receiver.url("/fast"))
        await write(client, "POST", ENTITIES, ctx, parking(25))
        await write(client, "POST", ENTITIES, ctx, parking(26))
        for _ in range(500):
            if hanging.holding:
                break
            await asyncio.sleep(0.02)
        assert hanging.holding == 1  # the hanging endpoint holds the first notification…
        received = await receiver.wait_for(2)  # …while the other subscription gets both
        assert sorted(data_of(r)["id"] for r in received) == [
            "urn:ngsi-ld:Parking:25",
            "urn:ngsi-ld:Parking:26",
        ]
        assert hanging.holding == 1  # the second waits behind the first, in order
        hanging.release.set()
        delivered = await hanging.wait_for(2)
        assert [data_of(r)["id"] for r in delivered] == [
            "urn:ngsi-ld:Parking:25",
            "urn:ngsi-ld:Parking:26",
        ]
