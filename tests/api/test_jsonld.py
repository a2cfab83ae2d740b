"""@context handling through the API (clauses 5.5.7, 6.3.5, 6.3.6).

A request carries its @context in a Link header (application/json) or in the body
(application/ld+json); remote contexts come from a real HTTP server on 127.0.0.1 that counts
fetches. The hub may fetch only from 127.0.0.1 here, so any attempt to download the core
@context from uri.etsi.org would fail the request.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.entity_requests import ENTITIES, ERRORS, entity_url
from tests.http_server import ContextServer

CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
CORE_V18 = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
JSON = "application/json"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"

CONTEXT_A = {"speedA": EX + "speed", "CarA": EX + "Car", "colourA": EX + "colour"}
CONTEXT_B = {"velocity": EX + "speed", "Automobile": EX + "Car"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "context_fetch_timeout": 0.5,
        "context_max_bytes": 4096,
        "context_max_fetches": 3,
        "context_allow_hosts": "127.0.0.1",
    }


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def link_target(response: httpx.Response) -> str | None:
    """The @context URL of a response's JSON-LD Link header."""
    header = response.headers.get("link")
    if header is None:
        return None
    target, *params = (part.strip() for part in header.split(";"))
    assert f'rel="{CONTEXT_REL}"' in params
    return target.strip("<>")


def car(entity_id: str, **attrs: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": entity_id, "type": "CarA"}
    body.update({name: {"type": "Property", "value": value} for name, value in attrs.items()})
    return body


async def assert_not_written(client: httpx.AsyncClient, entity_id: str) -> None:
    response = await client.get(entity_url(entity_id))
    assert response.status_code == 404, response.text


def assert_problem(response: httpx.Response, status: int, type_name: str) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"] == ERRORS + type_name
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]


# --- where the @context comes from --------------------------------------------------------------


async def test_create_entity_returns_201_when_context_is_in_a_link_header(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    body = car(entity_id, speedA=50)
    response = await client.post(ENTITIES, json=body, headers={**link(url), "Accept": JSON})
    assert response.status_code == 201, response.text

    expanded = (await client.get(entity_url(entity_id))).json()
    assert expanded["type"] == EX + "Car"
    assert expanded[EX + "speed"]["value"] == 50
    compacted = (await client.get(entity_url(entity_id), headers=link(url))).json()
    assert compacted["type"] == "CarA"
    assert compacted["speedA"] == {"type": "Property", "value": 50}


async def test_create_entity_returns_201_when_context_is_in_the_json_ld_body(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    body = {**car(entity_id, colourA="red"), "@context": url}
    response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON_LD})
    assert response.status_code == 201, response.text
    stored = (await client.get(entity_url(entity_id))).json()
    assert stored["type"] == EX + "Car"
    assert stored[EX + "colour"]["value"] == "red"


@pytest.mark.parametrize(
    "context",
    [
        pytest.param("remote-then-inline", id="array-url-and-object"),
        pytest.param("inline", id="inline-object"),
        pytest.param("array-with-core", id="array-with-core-url"),
    ],
)
async def test_create_entity_returns_201_when_context_is_an_array_or_inline_object(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str, context: str
) -> None:
    url = ctx_server.route("/a.jsonld", {"@context": {"speedA": EX + "speed"}})
    value: Any = {
        "remote-then-inline": [url, {"CarA": EX + "Car", "colourA": EX + "colour"}],
        "inline": CONTEXT_A,
        "array-with-core": [CONTEXT_A, CORE_V18],
    }[context]
    body = {**car(entity_id, speedA=30, colourA="blue"), "@context": value}
    response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON_LD})
    assert response.status_code == 201, response.text
    stored = (await client.get(entity_url(entity_id))).json()
    assert stored["type"] == EX + "Car"
    assert stored[EX + "speed"]["value"] == 30
    assert stored[EX + "colour"]["value"] == "blue"


async def test_create_entity_returns_400_when_json_ld_body_has_no_context(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    response = await client.post(
        ENTITIES, json=car(entity_id, speedA=1), headers={"Content-Type": JSON_LD}
    )
    assert_problem(response, 400, "BadRequestData")
    await assert_not_written(client, entity_id)


async def test_create_entity_returns_400_when_both_link_header_and_body_context_are_given(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    body = {**car(entity_id, speedA=1), "@context": url}
    response = await client.post(
        ENTITIES, json=body, headers={"Content-Type": JSON_LD, **link(url)}
    )
    assert_problem(response, 400, "BadRequestData")
    await assert_not_written(client, entity_id)


async def test_create_entity_returns_400_when_a_json_body_contains_context(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    body = {**car(entity_id, speedA=1), "@context": CONTEXT_A}
    response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON})
    assert_problem(response, 400, "BadRequestData")
    await assert_not_written(client, entity_id)


# --- fetching remote contexts -------------------------------------------------------------------


async def test_create_entity_returns_201_when_remote_context_is_fetched_only_once(
    client: httpx.AsyncClient, ctx_server: ContextServer
) -> None:
    url = ctx_server.route("/once.jsonld", {"@context": CONTEXT_A})
    for n in range(5):
        entity_id = f"urn:ngsi-ld:Car:once-{n}"
        response = await client.post(ENTITIES, json=car(entity_id, speedA=n), headers=link(url))
        assert response.status_code == 201, response.text
        body = {**car(f"{entity_id}-ld"), "@context": [url]}
        response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON_LD})
        assert response.status_code == 201, response.text
        response = await client.get(entity_url(entity_id), headers=link(url))
        assert response.json()["speedA"]["value"] == n
    assert ctx_server.hits("/once.jsonld") == 1


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _nested_chain(server: ContextServer, length: int) -> str:
    """ctx0 → ctx1 → … → ctx{length-1}: one remote document per level."""
    url = server.route(f"/chain/{length - 1}.jsonld", {"@context": {"speedA": EX + "speed"}})
    for level in range(length - 2, -1, -1):
        url = server.route(f"/chain/{level}.jsonld", {"@context": [url, {"l": EX + "l"}]})
    return url


@pytest.mark.parametrize(
    "failure", ["unreachable", "http-404", "not-json", "too-large", "too-slow", "too-deep"]
)
@pytest.mark.parametrize("transport", ["link", "body"])
async def test_create_entity_returns_504_when_remote_context_is_not_available(
    client: httpx.AsyncClient,
    ctx_server: ContextServer,
    entity_id: str,
    failure: str,
    transport: str,
) -> None:
    big = {"@context": {f"term{i}": f"{EX}term{i}" for i in range(400)}}
    if failure == "unreachable":
        url = f"http://127.0.0.1:{_closed_port()}/ctx.jsonld"
    elif failure == "http-404":
        url = ctx_server.url("/missing.jsonld")
    elif failure == "not-json":
        url = ctx_server.route("/ctx.html", "<html>not json</html>", content_type="text/html")
    elif failure == "too-large":
        url = ctx_server.route("/big.jsonld", big)  # about 16 kB > context_max_bytes
    elif failure == "too-slow":
        url = ctx_server.route("/slow.jsonld", {"@context": CONTEXT_A}, delay=2.0)
    else:
        url = _nested_chain(ctx_server, 5)  # 5 documents > context_max_fetches
    if transport == "link":
        response = await client.post(ENTITIES, json=car(entity_id, speedA=1), headers=link(url))
    else:
        body = {**car(entity_id, speedA=1), "@context": [url, CONTEXT_A]}
        response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON_LD})
    # LdContextNotAvailable maps to 504 in Table 6.3.2-1 (the OpenAPI's 503 is older text).
    assert_problem(response, 504, "LdContextNotAvailable")
    assert response.headers["content-type"].startswith(JSON)
    await assert_not_written(client, entity_id)


async def test_create_entity_returns_201_when_nested_contexts_stay_within_the_fetch_limit(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url = _nested_chain(ctx_server, 3)
    response = await client.post(ENTITIES, json=car(entity_id, speedA=7), headers=link(url))
    assert response.status_code == 201, response.text
    stored = (await client.get(entity_url(entity_id))).json()
    assert stored[EX + "speed"]["value"] == 7


@pytest.mark.parametrize(
    "core_url",
    [
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
        CORE_V18,
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
    ],
)
async def test_create_entity_returns_201_when_context_is_any_core_context_version(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str, core_url: str
) -> None:
    """The core @context is bundled and never fetched (uri.etsi.org is not allowed here)."""
    local = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    body = {
        **car(entity_id, speedA=3),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        "@context": [core_url, local],
    }
    response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON_LD})
    assert response.status_code == 201, response.text
    response = await client.get(entity_url(entity_id), headers=link(core_url))
    assert response.status_code == 200, response.text
    assert response.json()["location"]["type"] == "GeoProperty"
    assert ctx_server.total_hits() == 1


# --- context independence and the response @context ---------------------------------------------


async def test_retrieve_entity_returns_200_in_the_terms_of_another_context(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url_a = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    url_b = ctx_server.route("/b.jsonld", {"@context": CONTEXT_B})
    body = {**car(entity_id, speedA=80, colourA="green"), "@context": url_a}
    response = await client.post(ENTITIES, json=body, headers={"Content-Type": JSON_LD})
    assert response.status_code == 201, response.text

    response = await client.get(entity_url(entity_id), headers=link(url_b))
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["type"] == "Automobile"
    assert seen["velocity"] == {"type": "Property", "value": 80}
    assert seen[EX + "colour"] == {"type": "Property", "value": "green"}  # unknown to B
    assert not {"speedA", "colourA", "CarA"} & set(seen)

    response = await client.get(entity_url(entity_id), params={"options": "keyValues"})
    assert response.json() == {
        "id": entity_id,
        "type": EX + "Car",
        EX + "speed": 80,
        EX + "colour": "green",
    }


async def test_retrieve_entity_returns_200_with_a_link_header_for_json(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    await client.post(ENTITIES, json=car(entity_id, speedA=1), headers=link(url))

    response = await client.get(entity_url(entity_id), headers={**link(url), "Accept": JSON})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    assert link_target(response) == url
    assert "@context" not in response.json()

    response = await client.get(entity_url(entity_id), headers={"Accept": JSON})
    assert link_target(response) is not None
    assert link_target(response) == CORE_V18


async def test_retrieve_entity_returns_200_with_body_context_for_json_ld(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    url = ctx_server.route("/a.jsonld", {"@context": CONTEXT_A})
    await client.post(ENTITIES, json=car(entity_id, speedA=1), headers=link(url))

    response = await client.get(entity_url(entity_id), headers={**link(url), "Accept": JSON_LD})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON_LD)
    assert "link" not in response.headers
    body = response.json()
    assert body["@context"] in (url, [url], [url, CORE_V18])
    assert body["speedA"]["value"] == 1

    response = await client.get(entity_url(entity_id), headers={"Accept": JSON_LD})
    assert response.json()["@context"] in (CORE_V18, [CORE_V18])
