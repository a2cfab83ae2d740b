"""Subscription management through the HTTP API (clauses 5.8.1–5.8.5, data type 5.2.12).

Create answers 201 with a Location; retrieve and query return the subscription in the
reader's terms with ``status`` and ``isActive``; update merges a fragment (204); delete
answers 204. Invalid subscriptions are 400 BadRequestData, unknown ones 404, duplicates 409.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from tests.api.entity_requests import assert_problem
from tests.http_server import ContextServer

SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CONTEXT = {
    "Parking": EX + "Parking",
    "OffStreetParking": EX + "OffStreetParking",
    "availableSpotNumber": EX + "availableSpotNumber",
    "name": EX + "name",
    "observationSpace": EX + "observationSpace",
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"context_allow_hosts": "127.0.0.1", "context_fetch_timeout": 2.0}


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


@pytest.fixture
def ctx(ctx_server: ContextServer) -> str:
    return ctx_server.route("/city.jsonld", {"@context": CONTEXT})


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def sub_url(sub_id: str) -> str:
    return f"{SUBSCRIPTIONS}/{quote(sub_id, safe=':')}"


def new_id() -> str:
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


def subscription(**members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": new_id(),
        "type": "Subscription",
        "entities": [{"type": "Parking"}],
        "watchedAttributes": ["availableSpotNumber"],
        "q": "availableSpotNumber<10",
        "notification": {
            "attributes": ["availableSpotNumber", "name"],
            "format": "keyValues",
            "endpoint": {"uri": "http://127.0.0.1:9/notify", "accept": "application/json"},
        },
    }
    body.update(members)
    return {name: value for name, value in body.items() if value is not None}


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> str:
    response = await client.post(SUBSCRIPTIONS, json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(SUBSCRIPTIONS + "/")
    return location


async def fetch(
    client: httpx.AsyncClient, sub_id: str, headers: dict[str, str] | None = None, **params: str
) -> dict[str, Any]:
    response = await client.get(sub_url(sub_id), headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- Create Subscription (5.8.1) --------------------------------------------------------


async def test_create_subscription_returns_201_with_location_and_retrieve_shows_it(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription(subscriptionName="Full lots", description="Spots under ten")
    location = await create(client, body, link(ctx))
    assert location == sub_url(body["id"])
    got = await fetch(client, body["id"], link(ctx))
    assert got["id"] == body["id"]
    assert got["type"] == "Subscription"
    assert got["subscriptionName"] == "Full lots"
    assert got["description"] == "Spots under ten"
    assert got["entities"] == [{"type": "Parking"}]
    assert got["watchedAttributes"] == ["availableSpotNumber"]
    assert got["q"] == "availableSpotNumber<10"
    assert "isActive" not in got  # a default the client did not give
    assert got["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]
    assert got["status"] == "active"
    assert got["notification"]["attributes"] == ["availableSpotNumber", "name"]
    assert got["notification"]["format"] == "keyValues"
    assert got["notification"]["endpoint"] == body["notification"]["endpoint"]
    assert "createdAt" not in got


async def test_create_subscription_returns_201_with_a_generated_id_when_none_is_given(
    client: httpx.AsyncClient,
) -> None:
    body = subscription()
    del body["id"]
    location = await create(client, body)
    sub_id = location.removeprefix(SUBSCRIPTIONS + "/")
    assert sub_id.startswith("urn:ngsi-ld:Subscription:")
    assert (await fetch(client, sub_id))["id"] == sub_id


async def test_create_subscription_returns_201_with_the_context_in_the_body_for_json_ld(
    client: httpx.AsyncClient,
) -> None:
    body = {
        **subscription(),
        "@context": [CONTEXT, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
    }
    response = await client.post(
        SUBSCRIPTIONS, content=orjson.dumps(body), headers={"Content-Type": JSON_LD}
    )
    assert response.status_code == 201, response.text
    got = await fetch(client, body["id"])
    assert got["entities"] == [{"type": EX + "Parking"}]  # no Link: full IRIs
    assert got["watchedAttributes"] == [EX + "availableSpotNumber"]


async def test_create_subscription_returns_409_when_the_id_exists(
    client: httpx.AsyncClient,
) -> None:
    body = subscription()
    await create(client, body)
    response = await client.post(SUBSCRIPTIONS, json=body)
    assert_problem(response, 409, "AlreadyExists")


def _past() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("wrong type", subscription(type="Entity")),
    ("id not a URI", subscription(id="not a uri")),
    ("no notification", subscription(notification=None)),
    ("neither entities nor watchedAttributes", subscription(entities=None, watchedAttributes=None)),
    ("empty entities", subscription(entities=[])),
    ("selector without type", subscription(entities=[{"id": "urn:ngsi-ld:Parking:1"}])),
    ("selector id not a URI", subscription(entities=[{"type": "Parking", "id": "x y"}])),
    ("bad idPattern", subscription(entities=[{"type": "Parking", "idPattern": "(unclosed"}])),
    ("bad type expression", subscription(entities=[{"type": "(Parking"}])),
    ("empty watchedAttributes", subscription(watchedAttributes=[])),
    ("bad watched name", subscription(watchedAttributes=["spots<3"])),
    ("unknown trigger", subscription(notificationTrigger=["entityTouched"])),
    ("bad q", subscription(q="availableSpotNumber<<10")),
    (
        "bad geoQ georel",
        subscription(geoQ={"georel": "nearby", "geometry": "Point", "coordinates": [1, 2]}),
    ),
    ("geoQ without coordinates", subscription(geoQ={"georel": "within", "geometry": "Polygon"})),
    ("bad scopeQ", subscription(scopeQ="no-slash")),
    ("isActive not boolean", subscription(isActive="yes")),
    ("expiresAt in the past", subscription(expiresAt=_past())),
    ("expiresAt not a date", subscription(expiresAt="tomorrow")),
    ("throttling zero", subscription(throttling=0)),
    ("throttling negative", subscription(throttling=-5)),
    ("timeInterval with watchedAttributes", subscription(timeInterval=60)),
    (
        "timeInterval with throttling",
        subscription(watchedAttributes=None, timeInterval=60, throttling=5),
    ),
    ("unknown member", subscription(colour="red")),
    ("notification not an object", subscription(notification="http://127.0.0.1:9")),
    ("no endpoint", subscription(notification={"format": "normalized"})),
    (
        "endpoint without uri",
        subscription(notification={"endpoint": {"accept": "application/json"}}),
    ),
    ("endpoint uri not a URI", subscription(notification={"endpoint": {"uri": "not a uri"}})),
    ("endpoint scheme", subscription(notification={"endpoint": {"uri": "ftp://127.0.0.1/x"}})),
    (
        "bad accept",
        subscription(
            notification={"endpoint": {"uri": "http://127.0.0.1:9", "accept": "text/plain"}}
        ),
    ),
    (
        "bad format",
        subscription(notification={"format": "compact", "endpoint": {"uri": "http://127.0.0.1:9"}}),
    ),
    (
        "showChanges with keyValues",
        subscription(
            notification={
                "format": "keyValues",
                "showChanges": True,
                "endpoint": {"uri": "http://127.0.0.1:9"},
            }
        ),
    ),
    (
        "receiverInfo not pairs",
        subscription(
            notification={"endpoint": {"uri": "http://127.0.0.1:9", "receiverInfo": [{"key": "a"}]}}
        ),
    ),
    (
        "empty notification attributes",
        subscription(notification={"attributes": [], "endpoint": {"uri": "http://127.0.0.1:9"}}),
    ),
    ("jsonldContext not a URI", subscription(jsonldContext="my context")),
    (
        "endpoint timeout zero",
        subscription(notification={"endpoint": {"uri": "http://127.0.0.1:9", "timeout": 0}}),
    ),
    (
        "endpoint cooldown not a number",
        subscription(notification={"endpoint": {"uri": "http://127.0.0.1:9", "cooldown": "1s"}}),
    ),
    (
        "unknown MQTT version",
        subscription(
            notification={
                "endpoint": {
                    "uri": "mqtt://127.0.0.1/t",
                    "notifierInfo": [{"key": "MQTT-Version", "value": "mqtt4"}],
                }
            }
        ),
    ),
    (
        "MQTT QoS 3",
        subscription(
            notification={
                "endpoint": {
                    "uri": "mqtt://127.0.0.1/t",
                    "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}],
                }
            }
        ),
    ),
    (
        "pick and omit name one member",
        subscription(
            notification={"pick": ["name"], "omit": ["name"], "endpoint": {"uri": "http://a.b"}}
        ),
    ),
    (
        "pick with attributes",
        subscription(
            notification={"pick": ["name"], "attributes": ["x"], "endpoint": {"uri": "http://a.b"}}
        ),
    ),
    (
        "omit with attributes",
        subscription(
            notification={"omit": ["name"], "attributes": ["x"], "endpoint": {"uri": "http://a.b"}}
        ),
    ),
]


@pytest.mark.parametrize("case", [body for _, body in INVALID], ids=[name for name, _ in INVALID])
async def test_create_subscription_returns_400_when_it_is_invalid(
    client: httpx.AsyncClient, case: dict[str, Any]
) -> None:
    response = await client.post(SUBSCRIPTIONS, json=case)
    assert_problem(response, 400, "BadRequestData")
    assert response.json()["detail"]
    listed = await client.get(SUBSCRIPTIONS, params={"count": "true"})
    assert listed.headers["NGSILD-Results-Count"] == "0"


async def test_create_subscription_returns_504_when_its_jsonld_context_cannot_be_fetched(
    client: httpx.AsyncClient, ctx_server: ContextServer
) -> None:
    missing = ctx_server.route("/gone.jsonld", {"error": "gone"}, status=404)
    response = await client.post(SUBSCRIPTIONS, json=subscription(jsonldContext=missing))
    assert_problem(response, 504, "LdContextNotAvailable")


async def test_create_subscription_returns_400_when_the_body_is_not_an_object(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(SUBSCRIPTIONS, json=[subscription()])
    assert response.status_code == 400, response.text


async def test_create_subscription_returns_201_for_a_periodic_subscription(
    client: httpx.AsyncClient,
) -> None:
    body = subscription(watchedAttributes=None, q=None, timeInterval=30)
    await create(client, body)
    got = await fetch(client, body["id"])
    assert got["timeInterval"] == 30
    assert "watchedAttributes" not in got


async def test_create_subscription_keeps_every_member_given(
    client: httpx.AsyncClient, ctx: str
) -> None:
    expires = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = subscription(
        entities=[
            {"type": "Parking,OffStreetParking", "idPattern": "^urn:ngsi-ld:Parking:seoul"},
            {"type": "Parking", "id": "urn:ngsi-ld:Parking:1"},
        ],
        notificationTrigger=["entityCreated", "attributeUpdated"],
        geoQ={
            "georel": "near;maxDistance==500",
            "geometry": "Point",
            "coordinates": [126.978, 37.5665],
            "geoproperty": "observationSpace",
        },
        scopeQ="/Seoul/#",
        lang="ko,en",
        throttling=5,
        expiresAt=expires,
        isActive=False,
        jsonldContext=ctx,
        notification={
            "attributes": ["name"],
            "format": "concise",
            "sysAttrs": True,
            "showChanges": True,
            "endpoint": {
                "uri": "mqtt://user:pw@127.0.0.1:1883/city/parking",
                "accept": "application/ld+json",
                "timeout": 2000,
                "cooldown": 1000,
                "receiverInfo": [{"key": "X-City", "value": "Seoul"}],
                "notifierInfo": [{"key": "MQTT-Version", "value": "mqtt5.0"}],
            },
        },
    )
    await create(client, body, link(ctx))
    got = await fetch(client, body["id"], link(ctx))
    for member in (
        "entities",
        "notificationTrigger",
        "geoQ",
        "scopeQ",
        "lang",
        "throttling",
        "expiresAt",
        "isActive",
        "jsonldContext",
        "notification",
    ):
        assert got[member] == body[member], member
    assert got["status"] == "paused"


# --- Retrieve Subscription (5.8.3) ------------------------------------------------------


async def test_retrieve_subscription_returns_200_in_the_readers_terms(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription()
    await create(client, body, link(ctx))
    got = await fetch(client, body["id"])  # core context only
    assert got["entities"] == [{"type": EX + "Parking"}]
    assert got["watchedAttributes"] == [EX + "availableSpotNumber"]
    assert got["notification"]["attributes"] == [EX + "availableSpotNumber", EX + "name"]


async def test_retrieve_subscription_returns_200_with_sys_attrs_when_asked(
    client: httpx.AsyncClient,
) -> None:
    body = subscription()
    await create(client, body)
    got = await fetch(client, body["id"], options="sysAttrs")
    created = datetime.fromisoformat(got["createdAt"])
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)
    assert got["modifiedAt"] == got["createdAt"]


async def test_retrieve_subscription_returns_200_with_context_in_body_for_json_ld(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription()
    await create(client, body, link(ctx))
    response = await client.get(sub_url(body["id"]), headers={**link(ctx), "Accept": JSON_LD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON_LD)
    assert response.json()["@context"] == ctx


async def test_retrieve_subscription_returns_404_when_it_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(sub_url(new_id()))
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_subscription_returns_400_when_the_id_is_not_a_uri(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{SUBSCRIPTIONS}/not-a-uri")
    assert_problem(response, 400, "BadRequestData")


async def test_retrieve_subscription_returns_status_expired_after_expires_at(
    client: httpx.AsyncClient,
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = subscription(expiresAt=soon)
    await create(client, body)
    await asyncio.sleep(1.2)
    assert (await fetch(client, body["id"]))["status"] == "expired"


# --- Query Subscriptions (5.8.4) --------------------------------------------------------


async def test_query_subscriptions_returns_200_with_pages_in_creation_order(
    client: httpx.AsyncClient,
) -> None:
    ids = []
    for _ in range(5):
        body = subscription()
        await create(client, body)
        ids.append(body["id"])
    first = await client.get(SUBSCRIPTIONS, params={"limit": "2", "count": "true"})
    assert first.status_code == 200, first.text
    assert [s["id"] for s in first.json()] == ids[:2]
    assert first.headers["NGSILD-Results-Count"] == "5"
    assert '; rel="next"; type="application/json"' in first.headers.get("link", "")
    last = await client.get(SUBSCRIPTIONS, params={"limit": "2", "offset": "4"})
    assert [s["id"] for s in last.json()] == ids[4:]
    assert 'rel="prev"' in last.headers.get("link", "")
    everything = await client.get(SUBSCRIPTIONS)
    assert [s["id"] for s in everything.json()] == ids


async def test_query_subscriptions_returns_200_with_an_empty_list_when_there_are_none(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(SUBSCRIPTIONS)
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"limit": "-1"}, 400, "BadRequestData"),
        ({"limit": "x"}, 400, "BadRequestData"),
        ({"limit": "0"}, 400, "BadRequestData"),
        ({"limit": "100000"}, 403, "TooManyResults"),
        ({"options": "bogus"}, 400, "BadRequestData"),
    ],
)
async def test_query_subscriptions_returns_an_error_for_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, str], status: int, error: str
) -> None:
    assert_problem(await client.get(SUBSCRIPTIONS, params=params), status, error)


async def test_query_subscriptions_keeps_tenants_apart(client: httpx.AsyncClient) -> None:
    tenant = f"subs-{uuid.uuid4().hex[:8]}"
    body = subscription()
    await create(client, body, {"NGSILD-Tenant": tenant})
    assert (await client.get(SUBSCRIPTIONS)).json() == []
    listed = await client.get(SUBSCRIPTIONS, headers={"NGSILD-Tenant": tenant})
    assert [s["id"] for s in listed.json()] == [body["id"]]
    assert_problem(await client.get(sub_url(body["id"])), 404, "ResourceNotFound")
    unknown = await client.get(SUBSCRIPTIONS, headers={"NGSILD-Tenant": "never-written"})
    assert_problem(unknown, 404, "NonexistentTenant")


# --- Update Subscription (5.8.2) --------------------------------------------------------


async def test_update_subscription_returns_204_and_replaces_the_members_given(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = subscription()
    await create(client, body, link(ctx))
    before = await fetch(client, body["id"], options="sysAttrs")
    fragment = {
        "watchedAttributes": ["name"],
        "q": "availableSpotNumber<5",
        "isActive": False,
        "notification": {
            "format": "normalized",
            "endpoint": {"uri": "http://127.0.0.1:9/other"},
        },
    }
    response = await client.patch(sub_url(body["id"]), json=fragment, headers=link(ctx))
    assert response.status_code == 204, response.text
    got = await fetch(client, body["id"], link(ctx), options="sysAttrs")
    assert got["watchedAttributes"] == ["name"]
    assert got["q"] == "availableSpotNumber<5"
    assert got["status"] == "paused"
    assert got["notification"] == fragment["notification"]  # replaced as a whole
    assert got["entities"] == [{"type": "Parking"}]
    assert got["createdAt"] == before["createdAt"]
    assert got["modifiedAt"] > before["modifiedAt"]


async def test_update_subscription_returns_204_and_removes_members_set_to_null(
    client: httpx.AsyncClient,
) -> None:
    body = subscription()
    await create(client, body)
    response = await client.patch(sub_url(body["id"]), json={"q": None})
    assert response.status_code == 204, response.text
    assert "q" not in await fetch(client, body["id"])


async def test_update_subscription_returns_404_when_it_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.patch(sub_url(new_id()), json={"isActive": False})
    assert_problem(response, 404, "ResourceNotFound")


@pytest.mark.parametrize(
    "fragment",
    [
        {"type": "Entity"},
        {"throttling": 0},
        {"timeInterval": 10},  # with watchedAttributes already there
        {"entities": None, "watchedAttributes": None},
        {"notification": None},
        {"notification": {"endpoint": {"uri": "nope"}}},
        {"expiresAt": "2000-01-01T00:00:00Z"},
        {"q": "((("},
        {},
        {"id": "urn:ngsi-ld:Subscription:other"},
        {"colour": "red"},
    ],
    ids=lambda f: ",".join(f) or "empty",
)
async def test_update_subscription_returns_400_and_changes_nothing_when_invalid(
    client: httpx.AsyncClient, fragment: dict[str, Any]
) -> None:
    body = subscription()
    await create(client, body)
    before = await fetch(client, body["id"], options="sysAttrs")
    response = await client.patch(sub_url(body["id"]), json=fragment)
    assert_problem(response, 400, "BadRequestData")
    assert await fetch(client, body["id"], options="sysAttrs") == before


async def test_update_subscription_keeps_every_update_of_concurrent_patches(
    client: httpx.AsyncClient,
) -> None:
    body = subscription()
    await create(client, body)
    names = [f"name-{n}" for n in range(8)]
    results = await asyncio.gather(
        *(client.patch(sub_url(body["id"]), json={"subscriptionName": n}) for n in names),
        client.patch(sub_url(body["id"]), json={"description": "kept"}),
    )
    assert all(r.status_code == 204 for r in results), [r.text for r in results]
    got = await fetch(client, body["id"])
    assert got["description"] == "kept"
    assert got["subscriptionName"] in names


# --- Delete Subscription (5.8.5) --------------------------------------------------------


async def test_delete_subscription_returns_204_and_the_subscription_is_gone(
    client: httpx.AsyncClient,
) -> None:
    body = subscription()
    await create(client, body)
    response = await client.delete(sub_url(body["id"]))
    assert response.status_code == 204, response.text
    assert_problem(await client.get(sub_url(body["id"])), 404, "ResourceNotFound")
    assert_problem(await client.delete(sub_url(body["id"])), 404, "ResourceNotFound")
    await create(client, body)  # the id is free again
