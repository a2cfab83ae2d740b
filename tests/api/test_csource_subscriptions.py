"""Context Source Registration Subscriptions through the HTTP API (clauses 5.11.2-5.11.7) and
the CsourceNotifications they receive (clause 5.3.2) on a real HTTP receiver.

A subscription is told, over HTTP, when a registration it concerns is created or starts to
match (``newlyMatching``), changes and still matches (``updated``), or changes so that it no
longer matches or is deleted (``noLongerMatching``); on creation (and update) it is first
told every registration that already matches. Deliveries are counted on the subscription.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from cityhub.api.csources import close_csources, csources_of
from cityhub.hub import Hub
from tests.api.entity_requests import assert_problem
from tests.http_server import ContextServer
from tests.receivers import NotificationReceiver, Received

SUBSCRIPTIONS = "/ngsi-ld/v1/csourceSubscriptions"
REGISTRATIONS = "/ngsi-ld/v1/csourceRegistrations"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"
CONTEXT = {"Vehicle": EX + "Vehicle", "Bus": EX + "Bus", "speed": EX + "speed", "tier": EX + "tier"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"context_allow_hosts": "127.0.0.1", "context_fetch_timeout": 2.0, "query_max_limit": 50}


@pytest.fixture(autouse=True)
async def _stop_delivery(hub: Hub) -> AsyncIterator[None]:
    yield
    await close_csources(hub)


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


@pytest.fixture
def ctx(ctx_server: ContextServer) -> str:
    return ctx_server.route("/city.jsonld", {"@context": CONTEXT})


@pytest.fixture
def receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as server:
        yield server


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def sub_url(sub_id: str) -> str:
    return f"{SUBSCRIPTIONS}/{quote(sub_id, safe=':')}"


def reg_url(reg_id: str) -> str:
    return f"{REGISTRATIONS}/{quote(reg_id, safe=':')}"


def subscription(uri: str = "http://127.0.0.1:9/notify", **members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Subscription:{uuid.uuid4()}",
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": uri, "accept": "application/json"}},
    }
    body.update(members)
    return {name: value for name, value in body.items() if value is not None}


def registration(entity_type: str = "Vehicle", **members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:ContextSourceRegistration:{uuid.uuid4()}",
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": entity_type}], "propertyNames": ["speed"]}],
        "endpoint": "http://seoul.example.org",
    }
    body.update(members)
    return body


async def post(client: httpx.AsyncClient, path: str, body: Any, ctx: str) -> None:
    response = await client.post(path, json=body, headers=link(ctx))
    assert response.status_code == 201, response.text


async def fetch(client: httpx.AsyncClient, sub_id: str, ctx: str, **params: str) -> Any:
    response = await client.get(sub_url(sub_id), headers=link(ctx), params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def settled(hub: Hub) -> None:
    """Wait until every queued notification was attempted."""
    await csources_of(hub).notifier.idle()


def reasons(received: list[Received]) -> list[tuple[str, list[str]]]:
    return [(r.body["triggerReason"], [reg["id"] for reg in r.body["data"]]) for r in received]


# --- Create, retrieve, query, update, delete (5.11.2-5.11.6) ----------------------------


async def test_create_csource_subscription_returns_201_and_retrieve_shows_it(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription(watchedAttributes=["speed"], csf="tier>1", subscriptionName="Vehicles")
    response = await client.post(SUBSCRIPTIONS, json=body, headers=link(ctx))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == sub_url(body["id"])
    got = await fetch(client, body["id"], ctx)
    assert got["entities"] == [{"type": "Vehicle"}]
    assert got["watchedAttributes"] == ["speed"]
    assert got["csf"] == "tier>1"
    assert got["subscriptionName"] == "Vehicles"
    assert got["status"] == "active"
    assert "notificationTrigger" not in got
    assert got["notification"]["endpoint"] == body["notification"]["endpoint"]
    with_times = await fetch(client, body["id"], ctx, options="sysAttrs")
    assert with_times["createdAt"] == with_times["modifiedAt"]


async def test_query_csource_subscriptions_returns_200_with_a_page_and_a_count(
    client: httpx.AsyncClient, ctx: str
) -> None:
    ids = []
    for _ in range(3):
        body = subscription()
        await post(client, SUBSCRIPTIONS, body, ctx)
        ids.append(body["id"])
    response = await client.get(
        SUBSCRIPTIONS, params={"limit": "2", "count": "true"}, headers=link(ctx)
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == ids[:2]
    assert response.headers["NGSILD-Results-Count"] == "3"
    assert 'rel="next"' in response.headers["Link"]
    entity_subscriptions = await client.get("/ngsi-ld/v1/subscriptions", params={"count": "true"})
    assert entity_subscriptions.headers["NGSILD-Results-Count"] == "0"  # kept apart


async def test_update_csource_subscription_returns_204_and_it_changes(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription()
    await post(client, SUBSCRIPTIONS, body, ctx)
    fragment = {
        "entities": [{"type": "Bus"}],
        "temporalQ": {"timerel": "after", "timeAt": "2026-01-01T00:00:00Z"},
        "isActive": False,
    }
    response = await client.patch(sub_url(body["id"]), json=fragment, headers=link(ctx))
    assert response.status_code == 204, response.text
    got = await fetch(client, body["id"], ctx)
    assert got["entities"] == [{"type": "Bus"}]
    assert got["temporalQ"] == fragment["temporalQ"]
    assert got["status"] == "paused"


async def test_delete_csource_subscription_returns_204_and_it_is_gone(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription()
    await post(client, SUBSCRIPTIONS, body, ctx)
    assert (await client.delete(sub_url(body["id"]))).status_code == 204
    assert_problem(await client.get(sub_url(body["id"])), 404, "ResourceNotFound")
    assert_problem(await client.delete(sub_url(body["id"])), 404, "ResourceNotFound")


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("no notification", subscription(notification=None)),
    ("no entities nor watchedAttributes", subscription(entities=None)),
    ("notificationTrigger", subscription(notificationTrigger=["entityCreated"])),
    ("mqtt endpoint", subscription(uri="mqtt://127.0.0.1:1883/csr")),
    ("bad temporalQ", subscription(temporalQ={"timerel": "before"})),
    ("bad csf", subscription(csf="tier>")),
    ("past expiresAt", subscription(expiresAt="2001-01-01T00:00:00Z")),
    ("wrong type", subscription(type="ContextSourceRegistration")),
]


@pytest.mark.parametrize("case", [body for _, body in INVALID], ids=[name for name, _ in INVALID])
async def test_create_csource_subscription_returns_400_and_writes_nothing_when_invalid(
    client: httpx.AsyncClient, ctx: str, case: dict[str, Any]
) -> None:
    response = await client.post(SUBSCRIPTIONS, json=case, headers=link(ctx))
    assert_problem(response, 400, "BadRequestData")
    listed = await client.get(SUBSCRIPTIONS, params={"count": "true"})
    assert listed.headers["NGSILD-Results-Count"] == "0"


async def test_create_csource_subscription_returns_409_when_the_id_is_taken(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription(subscriptionName="first")
    await post(client, SUBSCRIPTIONS, body, ctx)
    again = subscription(id=body["id"], subscriptionName="second")
    assert_problem(await client.post(SUBSCRIPTIONS, json=again), 409, "AlreadyExists")
    assert (await fetch(client, body["id"], ctx))["subscriptionName"] == "first"


async def test_create_csource_subscription_returns_422_when_it_is_periodic(
    client: httpx.AsyncClient, ctx: str
) -> None:
    response = await client.post(SUBSCRIPTIONS, json=subscription(timeInterval=60))
    assert_problem(response, 422, "OperationNotSupported")


async def test_create_csource_subscription_returns_504_when_its_jsonld_context_is_missing(
    client: httpx.AsyncClient, ctx_server: ContextServer
) -> None:
    missing = ctx_server.route("/gone.jsonld", {"error": "gone"}, status=404)
    response = await client.post(SUBSCRIPTIONS, json=subscription(jsonldContext=missing))
    assert_problem(response, 504, "LdContextNotAvailable")


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "urn:ngsi-ld:Subscription:none", 404, "ResourceNotFound"),
        ("PATCH", "urn:ngsi-ld:Subscription:none", 404, "ResourceNotFound"),
        ("DELETE", "urn:ngsi-ld:Subscription:none", 404, "ResourceNotFound"),
        ("GET", "no-uri", 400, "BadRequestData"),
    ],
)
async def test_csource_subscription_returns_an_error_for_an_unknown_subscription(
    client: httpx.AsyncClient, method: str, path: str, status: int, error: str
) -> None:
    kwargs: dict[str, Any] = {"json": {"isActive": False}} if method == "PATCH" else {}
    response = await client.request(method, sub_url(path), **kwargs)
    assert_problem(response, status, error)


@pytest.mark.parametrize(
    ("params", "headers", "status", "error"),
    [
        ({"limit": "0"}, {}, 400, "BadRequestData"),
        ({"limit": "51"}, {}, 403, "TooManyResults"),
        ({}, {"NGSILD-Tenant": "nowhere"}, 404, "NonexistentTenant"),
    ],
)
async def test_query_csource_subscriptions_returns_an_error_when_it_cannot_answer(
    client: httpx.AsyncClient,
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = await client.get(SUBSCRIPTIONS, params=params, headers=headers)
    assert_problem(response, status, error)


async def test_update_csource_subscription_returns_400_and_changes_nothing_when_invalid(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription()
    await post(client, SUBSCRIPTIONS, body, ctx)
    before = await fetch(client, body["id"], ctx, options="sysAttrs")
    for fragment in ({}, {"notification": None}, {"temporalQ": {"timerel": "x"}}):
        response = await client.patch(sub_url(body["id"]), json=fragment, headers=link(ctx))
        assert_problem(response, 400, "BadRequestData")
    response = await client.patch(sub_url(body["id"]), json={"timeInterval": 5})
    assert_problem(response, 422, "OperationNotSupported")
    assert await fetch(client, body["id"], ctx, options="sysAttrs") == before


# --- CsourceNotifications (5.11.7, 5.3.2) -----------------------------------------------


async def test_registration_changes_notify_with_their_trigger_reasons(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    sub = subscription(receiver.url("/csr"))
    await post(client, SUBSCRIPTIONS, sub, ctx)
    reg = registration(tier=2)
    await post(client, REGISTRATIONS, reg, ctx)
    response = await client.patch(
        reg_url(reg["id"]), json={"registrationName": "Seoul"}, headers=link(ctx)
    )
    assert response.status_code == 204
    bus = {"information": [{"entities": [{"type": "Bus"}]}]}
    response = await client.patch(reg_url(reg["id"]), json=bus, headers=link(ctx))
    assert response.status_code == 204
    response = await client.patch(reg_url(reg["id"]), json={"tier": 3}, headers=link(ctx))
    assert response.status_code == 204  # not a Vehicle registration any more: not told
    vehicle = {"information": [{"entities": [{"type": "Vehicle"}]}]}
    response = await client.patch(reg_url(reg["id"]), json=vehicle, headers=link(ctx))
    assert response.status_code == 204
    assert (await client.delete(reg_url(reg["id"]))).status_code == 204
    received = await receiver.wait_for(5)
    assert reasons(received) == [
        ("newlyMatching", [reg["id"]]),
        ("updated", [reg["id"]]),
        ("noLongerMatching", [reg["id"]]),
        ("newlyMatching", [reg["id"]]),
        ("noLongerMatching", [reg["id"]]),
    ]
    first = received[0]
    assert first.path == "/csr"
    assert first.headers["content-type"] == "application/json"
    assert ctx in first.headers["link"]
    body = first.body
    assert body["type"] == "ContextSourceNotification"
    assert body["id"].startswith("urn:ngsi-ld:Notification:")
    assert body["subscriptionId"] == sub["id"]
    assert body["notifiedAt"].endswith("Z")
    assert body["data"][0]["information"] == reg["information"]  # in the subscription's terms
    assert body["data"][0]["tier"] == 2
    assert received[1].body["data"][0]["registrationName"] == "Seoul"
    assert received[2].body["data"][0]["information"] == bus["information"]
    assert len({r.body["id"] for r in received}) == 5


async def test_create_csource_subscription_notifies_the_registrations_that_match_already(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver, hub: Hub
) -> None:
    vehicle, bus = registration(), registration("Bus")
    both = registration(
        information=[{"entities": [{"type": "Bus"}]}, {"entities": [{"type": "Vehicle"}]}]
    )
    for reg in (vehicle, bus, both):
        await post(client, REGISTRATIONS, reg, ctx)
    await post(client, SUBSCRIPTIONS, subscription(receiver.url("/first")), ctx)
    [received] = await receiver.wait_for(1)
    assert reasons([received]) == [("newlyMatching", [vehicle["id"], both["id"]])]
    # only the RegistrationInfo that matches the subscription
    assert received.body["data"][1]["information"] == [{"entities": [{"type": "Vehicle"}]}]
    await settled(hub)
    assert len(receiver.received) == 1


async def test_update_csource_subscription_notifies_what_matches_it_now(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver, hub: Hub
) -> None:
    bus = registration("Bus")
    await post(client, REGISTRATIONS, bus, ctx)
    sub = subscription(receiver.url("/csr"))
    await post(client, SUBSCRIPTIONS, sub, ctx)  # matches nothing yet: no notification
    await settled(hub)
    assert receiver.received == []
    response = await client.patch(
        sub_url(sub["id"]), json={"entities": [{"type": "Bus"}]}, headers=link(ctx)
    )
    assert response.status_code == 204
    [received] = await receiver.wait_for(1)
    assert reasons([received]) == [("newlyMatching", [bus["id"]])]


@pytest.mark.parametrize(
    ("members", "reg_members"),
    [
        ({"isActive": False}, {}),
        ({"watchedAttributes": ["fuel"]}, {}),
        ({"csf": "tier>5"}, {"tier": 2}),
        ({"scopeQ": "/Japan/#"}, {"scope": "/Korea/Seoul"}),
        ({"temporalQ": {"timerel": "after", "timeAt": "2026-01-01T00:00:00Z"}}, {}),
        (
            {
                "geoQ": {
                    "georel": "near;maxDistance==1000",
                    "geometry": "Point",
                    "coordinates": [139.7, 35.7],
                }
            },
            {"location": {"type": "Point", "coordinates": [127.0, 37.5]}},
        ),
    ],
    ids=["paused", "other attribute", "csf", "scopeQ", "temporalQ", "geoQ"],
)
async def test_registration_changes_do_not_notify_subscriptions_they_do_not_concern(
    client: httpx.AsyncClient,
    ctx: str,
    receiver: NotificationReceiver,
    hub: Hub,
    members: dict[str, Any],
    reg_members: dict[str, Any],
) -> None:
    await post(client, SUBSCRIPTIONS, subscription(receiver.url("/no"), **members), ctx)
    watcher = subscription(receiver.url("/yes"))
    await post(client, SUBSCRIPTIONS, watcher, ctx)
    reg = registration(**reg_members)
    await post(client, REGISTRATIONS, reg, ctx)
    [received] = await receiver.wait_for(1)
    await settled(hub)
    assert [r.path for r in receiver.received] == ["/yes"]
    assert received.body["data"][0]["id"] == reg["id"]


async def test_csource_notification_failures_are_counted_and_retried(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    receiver.status = 500
    sub = subscription(receiver.url("/flaky"))
    await post(client, SUBSCRIPTIONS, sub, ctx)
    reg = registration()
    await post(client, REGISTRATIONS, reg, ctx)
    for _ in range(200):
        got = await fetch(client, sub["id"], ctx)
        if got["notification"].get("status") == "failed":
            break
        await asyncio.sleep(0.02)
    params = got["notification"]
    assert params["status"] == "failed"
    assert params["timesFailed"] >= 1
    assert params["lastFailure"] == params["lastNotification"]
    assert "lastSuccess" not in params
    receiver.status = 200
    [delivered] = await receiver.wait_for(1)
    assert delivered.body["id"] == receiver.received[0].body["id"]  # the same notification
    for _ in range(200):
        got = await fetch(client, sub["id"], ctx)
        if got["notification"].get("status") == "ok":
            break
        await asyncio.sleep(0.02)
    params = got["notification"]
    assert params["status"] == "ok"
    assert params["timesSent"] == params["timesFailed"] + 1
    assert params["lastSuccess"] == params["lastNotification"]


async def test_csource_notification_success_is_recorded_on_the_subscription(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver, hub: Hub
) -> None:
    sub = subscription(receiver.url("/ok"))
    await post(client, SUBSCRIPTIONS, sub, ctx)
    await post(client, REGISTRATIONS, registration(), ctx)
    await receiver.wait_for(1)
    await settled(hub)
    params = (await fetch(client, sub["id"], ctx))["notification"]
    assert (params["status"], params["timesSent"]) == ("ok", 1)
    assert "timesFailed" not in params
    assert params["lastSuccess"] == params["lastNotification"]


async def test_csource_notification_in_json_ld_carries_the_context_in_each_registration(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver
) -> None:
    endpoint = {"uri": receiver.url("/ld"), "accept": JSON_LD}
    tenant = {**link(ctx), "NGSILD-Tenant": "seoul"}
    sub = subscription(notification={"endpoint": endpoint})
    response = await client.post(SUBSCRIPTIONS, json=sub, headers=tenant)
    assert response.status_code == 201
    response = await client.post(REGISTRATIONS, json=registration(), headers=tenant)
    assert response.status_code == 201
    [received] = await receiver.wait_for(1)
    assert received.headers["content-type"] == JSON_LD
    assert received.headers["ngsild-tenant"] == "seoul"
    assert "link" not in received.headers
    assert received.body["data"][0]["@context"] == ctx


async def test_deleting_a_csource_subscription_drops_its_queued_notifications(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver, hub: Hub
) -> None:
    receiver.status = 500
    sub = subscription(receiver.url("/gone"))
    await post(client, SUBSCRIPTIONS, sub, ctx)
    await post(client, REGISTRATIONS, registration(), ctx)
    for _ in range(200):
        if receiver.received:
            break
        await asyncio.sleep(0.02)
    assert (await client.delete(sub_url(sub["id"]))).status_code == 204
    assert await hub.store.csource_outbox_due() is None


async def test_failed_registration_requests_queue_no_notification(
    client: httpx.AsyncClient, ctx: str, receiver: NotificationReceiver, hub: Hub
) -> None:
    await post(client, SUBSCRIPTIONS, subscription(receiver.url("/csr")), ctx)
    bad = registration(endpoint="mqtt://broker:1883")
    response = await client.post(REGISTRATIONS, json=bad, headers=link(ctx))
    assert_problem(response, 400, "BadRequestData")
    missing = reg_url("urn:ngsi-ld:ContextSourceRegistration:none")
    assert_problem(await client.delete(missing), 404, "ResourceNotFound")
    assert await hub.store.csource_outbox_due() is None
    await settled(hub)
    assert receiver.received == []
