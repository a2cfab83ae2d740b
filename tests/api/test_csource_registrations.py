"""Context Source Registrations through the HTTP API (clauses 5.9.2-5.9.4, 5.10.1, 5.10.2,
data type 5.2.9, the mode rules of clause 4.3.6.3).

Register answers 201 with a Location; retrieve and query return registrations in the reader's
terms; update merges a fragment (204); delete answers 204. Invalid registrations are 400
BadRequestData and write nothing, unknown ones 404, a used id 409 AlreadyExists, a
registration that clause 4.3.6.3 forbids 409 Conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from cityhub.api.csources import close_csources
from cityhub.hub import Hub
from tests.api.entity_requests import assert_problem
from tests.http_server import ContextServer

REGISTRATIONS = "/ngsi-ld/v1/csourceRegistrations"
ENTITIES = "/ngsi-ld/v1/entities"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD = "application/ld+json"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
EX = "https://example.org/city/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CONTEXT = {
    "Vehicle": EX + "Vehicle",
    "Bus": EX + "Bus",
    "speed": EX + "speed",
    "isParked": EX + "isParked",
    "operator": EX + "operator",
}
A1 = "urn:ngsi-ld:Vehicle:A1"


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


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def reg_url(reg_id: str) -> str:
    return f"{REGISTRATIONS}/{quote(reg_id, safe=':')}"


def new_id() -> str:
    return f"urn:ngsi-ld:ContextSourceRegistration:{uuid.uuid4()}"


def registration(**members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": new_id(),
        "type": "ContextSourceRegistration",
        "information": [
            {
                "entities": [{"type": "Vehicle", "id": A1}],
                "propertyNames": ["speed"],
                "relationshipNames": ["isParked"],
            }
        ],
        "endpoint": "http://seoul.example.org:1026/ngsi-ld/v1",
    }
    body.update(members)
    return {name: value for name, value in body.items() if value is not None}


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> str:
    response = await client.post(REGISTRATIONS, json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    assert location.startswith(REGISTRATIONS + "/")
    return location


async def fetch(
    client: httpx.AsyncClient, reg_id: str, headers: dict[str, str] | None = None, **params: str
) -> dict[str, Any]:
    response = await client.get(reg_url(reg_id), headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def query(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: str
) -> list[str]:
    response = await client.get(REGISTRATIONS, headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


async def count(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> int:
    """How many registrations the default tenant has (every one covers some entity type)."""
    params = {"idPattern": ".*", "count": "true", "limit": "0"}
    response = await client.get(REGISTRATIONS, params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return int(response.headers["NGSILD-Results-Count"])


# --- Register Context Source (5.9.2) ----------------------------------------------------


async def test_create_registration_returns_201_with_location_and_retrieve_shows_it(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration(
        registrationName="Seoul traffic",
        operations=["retrieveOps", "queryBatch"],
        contextSourceInfo=[{"key": "Authorization", "value": "Bearer seoul"}],
        operator="Seoul Metropolitan Government",
    )
    location = await create(client, body, link(ctx))
    assert location == reg_url(body["id"])
    got = await fetch(client, body["id"], link(ctx))
    assert got == {
        "id": body["id"],
        "type": "ContextSourceRegistration",
        "information": body["information"],
        "endpoint": body["endpoint"],
        "registrationName": "Seoul traffic",
        "operations": ["retrieveOps", "queryBatch"],
        "contextSourceInfo": [{"key": "Authorization", "value": "Bearer seoul"}],
        "operator": "Seoul Metropolitan Government",
        "mode": "inclusive",
    }


async def test_create_registration_returns_201_and_defaults_show_when_retrieved(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration(id=None)
    location = await create(client, body, link(ctx))
    reg_id = location.removeprefix(REGISTRATIONS + "/")
    assert reg_id.startswith("urn:ngsi-ld:ContextSourceRegistration:")
    got = await fetch(client, reg_id, link(ctx))
    assert got["mode"] == "inclusive"
    assert got["operations"] == ["federationOps"]


async def test_create_registration_returns_201_with_the_context_in_a_json_ld_body(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration(**{"@context": [ctx, CORE]})
    response = await client.post(
        REGISTRATIONS, content=orjson.dumps(body), headers={"Content-Type": JSON_LD}
    )
    assert response.status_code == 201, response.text
    core_view = await fetch(client, body["id"])  # read with the core @context only
    [info] = core_view["information"]
    assert info["entities"] == [{"id": A1, "type": EX + "Vehicle"}]
    assert info["propertyNames"] == [EX + "speed"]


async def test_create_registration_keeps_the_stored_form_the_planner_reads(
    client: httpx.AsyncClient, hub: Hub, ctx: str
) -> None:
    body = registration(mode="redirect", operations=["redirectionOps"], operator="Seoul")
    await create(client, body, link(ctx))
    [doc] = await hub.store.registrations("")
    [info] = doc["information"]
    assert info["entities"] == [{"id": A1, "type": EX + "Vehicle"}]
    assert info["propertyNames"] == [EX + "speed"]
    assert info["relationshipNames"] == [EX + "isParked"]
    assert doc["mode"] == "redirect"
    assert doc["operations"] == ["redirectionOps"]
    assert "createEntity" in doc["operationsExpanded"]
    assert doc["operationsExpanded"] == sorted(doc["operationsExpanded"])
    assert doc[EX + "operator"] == "Seoul"
    assert doc["@context"] == ctx


async def test_create_registration_returns_409_when_the_id_is_taken(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration(registrationName="first")
    await create(client, body, link(ctx))
    again = registration(id=body["id"], registrationName="second")
    response = await client.post(REGISTRATIONS, json=again, headers=link(ctx))
    assert_problem(response, 409, "AlreadyExists")
    assert (await fetch(client, body["id"], link(ctx)))["registrationName"] == "first"


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("no type", registration(type=None)),
    ("wrong type", registration(type="Registration")),
    ("no information", registration(information=None)),
    ("empty information", registration(information=[])),
    ("entity without type", registration(information=[{"entities": [{"id": A1}]}])),
    ("bad idPattern", registration(information=[{"entities": [{"type": "V", "idPattern": "("}]}])),
    ("no endpoint", registration(endpoint=None)),
    ("endpoint not http", registration(endpoint="mqtt://broker:1883")),
    ("past expiresAt", registration(expiresAt="2001-01-01T00:00:00Z")),
    ("bad location", registration(location={"type": "Point", "coordinates": [0]})),
    ("bad interval", registration(observationInterval={"endAt": "2026-01-01T00:00:00Z"})),
    ("bad mode", registration(mode="proxy")),
    ("unknown operation", registration(operations=["fetchAll"])),
    ("bad management", registration(management={"timeout": 0})),
    ("bad contextSourceInfo", registration(contextSourceInfo=[{"key": "k", "value": 5}])),
    (
        "exclusive type-only",
        registration(
            mode="exclusive",
            information=[{"entities": [{"type": "Bus"}], "propertyNames": ["speed"]}],
        ),
    ),
    (
        "exclusive without attributes",
        registration(
            mode="exclusive",
            information=[{"entities": [{"type": "Bus", "id": "urn:ngsi-ld:Bus:1"}]}],
        ),
    ),
    ("auxiliary with writes", registration(mode="auxiliary", operations=["updateOps"])),
]


@pytest.mark.parametrize("case", [body for _, body in INVALID], ids=[name for name, _ in INVALID])
async def test_create_registration_returns_400_and_writes_nothing_when_it_is_invalid(
    client: httpx.AsyncClient, ctx: str, case: dict[str, Any]
) -> None:
    response = await client.post(REGISTRATIONS, json=case, headers=link(ctx))
    assert_problem(response, 400, "BadRequestData")
    assert response.json()["detail"]
    assert await count(client) == 0


async def test_create_registration_returns_400_when_the_body_is_not_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        REGISTRATIONS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "InvalidRequest")


async def test_create_registration_returns_415_for_another_media_type(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        REGISTRATIONS, content=b"<csr/>", headers={"Content-Type": "application/xml"}
    )
    assert_problem(response, 415, "InvalidRequest")


# --- clause 4.3.6.3: exclusive and redirect registrations -------------------------------


def proxied(mode: str, entity: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"entities": [entity]}
    if names:
        info["propertyNames"] = names
    return registration(mode=mode, information=[info])


async def test_create_registration_returns_409_when_an_exclusive_one_covers_the_same(
    client: httpx.AsyncClient, ctx: str
) -> None:
    await create(client, proxied("exclusive", {"type": "Vehicle", "id": A1}, ["speed"]), link(ctx))
    for mode in ("exclusive", "redirect"):
        clash = proxied(mode, {"type": "Vehicle", "id": A1}, ["speed"])
        response = await client.post(REGISTRATIONS, json=clash, headers=link(ctx))
        assert_problem(response, 409, "Conflict")
    group = proxied("redirect", {"type": "Vehicle"})  # every Vehicle, every attribute
    response = await client.post(REGISTRATIONS, json=group, headers=link(ctx))
    assert_problem(response, 409, "Conflict")
    assert await count(client) == 1
    other = proxied("exclusive", {"type": "Vehicle", "id": A1}, ["isParked"])
    await create(client, other, link(ctx))  # other attributes of the same entity


async def test_create_registration_returns_201_when_redirect_registrations_overlap(
    client: httpx.AsyncClient, ctx: str
) -> None:
    await create(client, proxied("redirect", {"type": "Vehicle", "id": A1}, ["speed"]), link(ctx))
    await create(client, proxied("redirect", {"type": "Vehicle", "id": A1}, ["speed"]), link(ctx))
    assert await count(client) == 2


async def test_create_registration_returns_409_when_an_exclusive_one_claims_a_local_attribute(
    client: httpx.AsyncClient, ctx: str
) -> None:
    entity = {"id": A1, "type": "Vehicle", "speed": {"type": "Property", "value": 42}}
    response = await client.post(ENTITIES, json=entity, headers=link(ctx))
    assert response.status_code == 201, response.text
    claim = proxied("exclusive", {"type": "Vehicle", "id": A1}, ["speed"])
    response = await client.post(REGISTRATIONS, json=claim, headers=link(ctx))
    assert_problem(response, 409, "Conflict")
    assert A1 in response.json()["detail"]
    redirect = proxied("redirect", {"type": "Vehicle"})
    response = await client.post(REGISTRATIONS, json=redirect, headers=link(ctx))
    assert_problem(response, 409, "Conflict")
    assert await count(client) == 0
    await create(client, proxied("exclusive", {"type": "Vehicle", "id": A1}, ["fuel"]), link(ctx))
    await create(client, proxied("inclusive", {"type": "Vehicle"}), link(ctx))


# --- Retrieve Context Source Registration (5.10.1) --------------------------------------


async def test_retrieve_registration_returns_200_in_the_readers_terms(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration(operator="Seoul")
    await create(client, body, link(ctx))
    core_view = await fetch(client, body["id"])
    assert core_view["information"][0]["entities"][0]["type"] == EX + "Vehicle"
    assert core_view[EX + "operator"] == "Seoul"
    response = await client.get(reg_url(body["id"]), headers={**link(ctx), "Accept": JSON_LD})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_LD
    assert response.json()["@context"] == ctx


async def test_retrieve_registration_returns_200_with_system_attributes_when_asked(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration()
    before = datetime.now(UTC)
    await create(client, body, link(ctx))
    plain = await fetch(client, body["id"], link(ctx))
    assert "createdAt" not in plain and "modifiedAt" not in plain
    got = await fetch(client, body["id"], link(ctx), options="sysAttrs")
    created = datetime.fromisoformat(got["createdAt"])
    assert before <= created <= datetime.now(UTC)
    assert got["modifiedAt"] == got["createdAt"]


async def test_retrieve_registration_returns_200_with_the_outcomes_of_distributed_operations(
    client: httpx.AsyncClient, hub: Hub, ctx: str
) -> None:
    body = registration()
    await create(client, body, link(ctx))
    assert "status" not in await fetch(client, body["id"], link(ctx))
    await hub.store.record_registration_outcome("", body["id"], True, "2026-11-28T09:00:00Z")
    await hub.store.record_registration_outcome("", body["id"], False, "2026-11-28T09:01:00Z")
    got = await fetch(client, body["id"], link(ctx))
    assert got["status"] == "failed"
    assert (got["timesSent"], got["timesFailed"]) == (2, 1)
    assert got["lastSuccess"] == "2026-11-28T09:00:00Z"
    assert got["lastFailure"] == "2026-11-28T09:01:00Z"


async def test_retrieve_registration_returns_404_when_it_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(reg_url(new_id()))
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_registration_returns_400_when_the_id_is_not_a_uri(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{REGISTRATIONS}/not-a-uri")
    assert_problem(response, 400, "BadRequestData")


async def test_retrieve_registration_returns_404_for_a_tenant_that_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(reg_url(new_id()), headers={"NGSILD-Tenant": "nowhere"})
    assert_problem(response, 404, "NonexistentTenant")


async def test_retrieve_registration_returns_406_when_no_representation_fits(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration()
    await create(client, body, link(ctx))
    response = await client.get(reg_url(body["id"]), headers={"Accept": "text/html"})
    assert_problem(response, 406, "InvalidRequest")


async def test_registration_returns_200_only_in_its_own_tenant(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration()
    seoul = {**link(ctx), "NGSILD-Tenant": "seoul"}
    response = await client.post(REGISTRATIONS, json=body, headers=seoul)
    assert response.status_code == 201
    assert response.headers["NGSILD-Tenant"] == "seoul"
    assert (await fetch(client, body["id"], seoul))["id"] == body["id"]
    assert_problem(await client.get(reg_url(body["id"])), 404, "ResourceNotFound")
    assert await query(client, link(ctx), type="Vehicle") == []


# --- Query Context Source Registrations (5.10.2) ----------------------------------------


@pytest.fixture
async def seeded(client: httpx.AsyncClient, ctx: str) -> dict[str, str]:
    """Three registrations: Vehicle A1 speed (Seoul, located), every Bus, a history source."""
    seoul_area = {
        "type": "Polygon",
        "coordinates": [
            [[126.7, 37.4], [127.2, 37.4], [127.2, 37.7], [126.7, 37.7], [126.7, 37.4]]
        ],
    }
    bodies = {
        "vehicle": registration(
            scope="/Korea/Seoul",
            location=seoul_area,
            operator="Seoul",
            information=[{"entities": [{"type": "Vehicle", "id": A1}], "propertyNames": ["speed"]}],
        ),
        "bus": registration(
            endpoint="http://busan.example.org",
            information=[{"entities": [{"type": "Bus", "idPattern": "^urn:ngsi-ld:Bus:B"}]}],
        ),
        "history": registration(
            information=[{"entities": [{"type": "Vehicle"}]}],
            observationInterval={
                "startAt": "2025-01-01T00:00:00Z",
                "endAt": "2026-01-01T00:00:00Z",
            },
        ),
    }
    for body in bodies.values():
        await create(client, body, link(ctx))
    return {name: body["id"] for name, body in bodies.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "Vehicle"}, ["vehicle"]),
        ({"type": "Bus"}, ["bus"]),
        ({"type": "Vehicle,Bus"}, ["vehicle", "bus"]),
        ({"type": "Tram"}, []),
        ({"attrs": "speed"}, ["vehicle", "bus"]),  # the Bus registration names no attributes
        ({"type": "Vehicle", "attrs": "fuel"}, []),
        ({"id": A1}, ["vehicle"]),  # the Bus registration's idPattern does not match A1
        ({"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:B2"}, []),
        ({"id": "urn:ngsi-ld:Bus:B7"}, ["bus"]),
        ({"idPattern": "Vehicle:A"}, ["vehicle", "bus"]),
        ({"q": 'operator=="Seoul"'}, ["vehicle"]),
        ({"csf": 'endpoint=="http://busan.example.org"'}, ["bus"]),
        ({"scopeQ": "/Korea/#"}, ["vehicle"]),
        ({"georel": "intersects", "geometry": "Point", "coordinates": "[127.0,37.5]"}, ["vehicle"]),
        (
            {
                "georel": "near;maxDistance==1000",
                "geometry": "Point",
                "coordinates": "[139.7,35.7]",
            },
            [],
        ),
        ({"type": "Vehicle", "timerel": "before", "timeAt": "2025-06-01T00:00:00Z"}, ["history"]),
        ({"type": "Vehicle", "timerel": "after", "timeAt": "2026-06-01T00:00:00Z"}, []),
    ],
)
async def test_query_registrations_returns_200_with_the_registrations_that_match(
    client: httpx.AsyncClient,
    ctx: str,
    seeded: dict[str, str],
    params: dict[str, str],
    expected: list[str],
) -> None:
    found = await query(client, link(ctx), **params)
    assert found == [seeded[name] for name in expected]


async def test_query_registrations_returns_200_with_count_and_page_links(
    client: httpx.AsyncClient, ctx: str, seeded: dict[str, str]
) -> None:
    params = {"idPattern": ".*", "limit": "1", "offset": "1", "count": "true"}
    response = await client.get(REGISTRATIONS, params=params, headers=link(ctx))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [seeded["bus"]]
    assert response.headers["NGSILD-Results-Count"] == "2"  # without time intervals
    links = response.headers["Link"]
    assert 'rel="prev"' in links and 'rel="next"' not in links
    first = await client.get(REGISTRATIONS, params={**params, "offset": "0"}, headers=link(ctx))
    assert 'rel="next"' in first.headers["Link"]


async def test_query_registrations_returns_200_with_system_attributes_when_asked(
    client: httpx.AsyncClient, ctx: str, seeded: dict[str, str]
) -> None:
    response = await client.get(
        REGISTRATIONS, params={"type": "Bus", "options": "sysAttrs"}, headers=link(ctx)
    )
    [item] = response.json()
    assert item["createdAt"] == item["modifiedAt"]


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({}, 400, "BadRequestData"),
        ({"limit": "10"}, 400, "BadRequestData"),
        ({"type": "Vehicle", "limit": "0"}, 400, "BadRequestData"),
        ({"type": "Vehicle", "limit": "51"}, 403, "TooManyResults"),
        ({"type": "Vehicle", "limit": "-1"}, 400, "BadRequestData"),
        ({"type": "Vehicle", "q": "speed>"}, 400, "BadRequestData"),
        ({"type": "Vehicle", "csf": "=="}, 400, "BadRequestData"),
        ({"type": "Vehicle", "georel": "near"}, 400, "BadRequestData"),
        (
            {"type": "Vehicle", "timerel": "during", "timeAt": "2026-01-01T00:00:00Z"},
            400,
            "BadRequestData",
        ),
        ({"type": "Vehicle", "timerel": "before"}, 400, "BadRequestData"),
        ({"type": "Vehicle", "options": "keyValues"}, 400, "BadRequestData"),
        ({"type": "Vehicle", "count": "yes"}, 400, "BadRequestData"),
    ],
)
async def test_query_registrations_returns_an_error_when_the_query_is_invalid(
    client: httpx.AsyncClient, params: dict[str, str], status: int, error: str
) -> None:
    response = await client.get(REGISTRATIONS, params=params)
    assert_problem(response, status, error)


async def test_query_registrations_returns_404_for_a_tenant_that_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        REGISTRATIONS, params={"type": "Vehicle"}, headers={"NGSILD-Tenant": "nowhere"}
    )
    assert_problem(response, 404, "NonexistentTenant")


# --- Update Context Source Registration (5.9.3) -----------------------------------------


async def test_update_registration_returns_204_and_the_registration_changes(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration(registrationName="Seoul", operator="Seoul")
    await create(client, body, link(ctx))
    before = await fetch(client, body["id"], link(ctx), options="sysAttrs")
    fragment = {
        "information": [{"entities": [{"type": "Bus"}]}],
        "registrationName": None,
        "operator": "Busan",
        "mode": "auxiliary",
        "operations": ["retrieveOps"],
    }
    response = await client.patch(reg_url(body["id"]), json=fragment, headers=link(ctx))
    assert response.status_code == 204, response.text
    got = await fetch(client, body["id"], link(ctx), options="sysAttrs")
    assert got["information"] == [{"entities": [{"type": "Bus"}]}]
    assert "registrationName" not in got
    assert got["operator"] == "Busan"
    assert (got["mode"], got["operations"]) == ("auxiliary", ["retrieveOps"])
    assert got["createdAt"] == before["createdAt"]
    assert got["modifiedAt"] > before["modifiedAt"]


async def test_update_registration_returns_404_when_it_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.patch(reg_url(new_id()), json={"registrationName": "x"})
    assert_problem(response, 404, "ResourceNotFound")


async def test_update_registration_returns_404_for_a_tenant_that_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.patch(
        reg_url(new_id()), json={"registrationName": "x"}, headers={"NGSILD-Tenant": "nowhere"}
    )
    assert_problem(response, 404, "NonexistentTenant")


@pytest.mark.parametrize(
    "fragment",
    [
        {},
        {"endpoint": None},
        {"endpoint": "ftp://seoul.example.org"},
        {"id": "urn:ngsi-ld:ContextSourceRegistration:other"},
        {"mode": "exclusive", "information": [{"entities": [{"type": "Bus"}]}]},
        {"expiresAt": "2000-01-01T00:00:00Z"},
        ["registrationName"],
    ],
    ids=["empty", "remove endpoint", "bad endpoint", "other id", "bad exclusive", "past", "list"],
)
async def test_update_registration_returns_400_and_changes_nothing_when_invalid(
    client: httpx.AsyncClient, ctx: str, fragment: Any
) -> None:
    body = registration()
    await create(client, body, link(ctx))
    before = await fetch(client, body["id"], link(ctx), options="sysAttrs")
    response = await client.patch(reg_url(body["id"]), json=fragment, headers=link(ctx))
    assert_problem(response, 400, "BadRequestData")
    assert await fetch(client, body["id"], link(ctx), options="sysAttrs") == before


async def test_update_registration_returns_409_when_the_result_would_overlap_an_exclusive_one(
    client: httpx.AsyncClient, ctx: str
) -> None:
    await create(client, proxied("exclusive", {"type": "Vehicle", "id": A1}, ["speed"]), link(ctx))
    other = proxied("inclusive", {"type": "Vehicle", "id": A1}, ["speed"])
    await create(client, other, link(ctx))
    response = await client.patch(
        reg_url(other["id"]), json={"mode": "redirect"}, headers=link(ctx)
    )
    assert_problem(response, 409, "Conflict")
    assert (await fetch(client, other["id"], link(ctx)))["mode"] == "inclusive"


# --- Delete Context Source Registration (5.9.4) -----------------------------------------


async def test_delete_registration_returns_204_and_it_is_gone(
    client: httpx.AsyncClient, ctx: str
) -> None:
    body = registration()
    await create(client, body, link(ctx))
    response = await client.delete(reg_url(body["id"]))
    assert response.status_code == 204
    assert_problem(await client.get(reg_url(body["id"])), 404, "ResourceNotFound")
    assert_problem(await client.delete(reg_url(body["id"])), 404, "ResourceNotFound")


async def test_delete_registration_returns_404_when_it_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    assert_problem(await client.delete(reg_url(new_id())), 404, "ResourceNotFound")
    assert_problem(await client.delete(f"{REGISTRATIONS}/no%20uri"), 400, "BadRequestData")


async def test_registrations_returns_405_for_a_method_the_resource_does_not_have(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put(REGISTRATIONS, json={})
    assert_problem(response, 405, "InvalidRequest")
