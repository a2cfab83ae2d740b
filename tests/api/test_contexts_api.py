"""The @context API, /ngsi-ld/v1/jsonldContexts (clause 5.13; resources 6.29, 6.30).

Hosted contexts are added by clients; Cached ones are remote contexts the hub downloaded
while serving a request (from a real HTTP server on 127.0.0.1 that counts downloads).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.api.entity_requests import ENTITIES, ERRORS, entity_url
from tests.http_server import ContextServer

CONTEXTS = "/ngsi-ld/v1/jsonldContexts"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"
USER_CONTEXT = {"Bus": EX + "Bus", "passengers": EX + "passengers"}


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def context_path(context_id: str) -> str:
    return f"{CONTEXTS}/{quote(context_id, safe=':')}"


async def add_hosted(client: httpx.AsyncClient, context: Any = None) -> str:
    response = await client.post(CONTEXTS, json={"@context": context or USER_CONTEXT})
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    return location


async def cache_remote(client: httpx.AsyncClient, server: ContextServer, entity_id: str) -> str:
    """Use a remote context in a request so that the hub caches it; returns its URL."""
    url = server.route("/remote.jsonld", {"@context": USER_CONTEXT})
    body = {"id": entity_id, "type": "Bus", "passengers": {"type": "Property", "value": 3}}
    response = await client.post(ENTITIES, json=body, headers=link(url))
    assert response.status_code == 201, response.text
    return url


async def details(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get(CONTEXTS, params={"details": "true", **params})
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def assert_problem(response: httpx.Response, status: int, type_name: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == ERRORS + type_name


# --- Add @context (5.13.2) ----------------------------------------------------------------------


async def test_add_context_returns_201_with_location_of_the_hosted_context(
    client: httpx.AsyncClient,
) -> None:
    location = await add_hosted(client)
    assert urlsplit(location).path.startswith(CONTEXTS + "/")
    response = await client.get(urlsplit(location).path)
    assert response.status_code == 200, response.text
    assert response.json() == {"@context": USER_CONTEXT}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"context": USER_CONTEXT}, id="no-context-member"),
        pytest.param([{"@context": USER_CONTEXT}], id="array-body"),
        pytest.param({"@context": 42}, id="context-not-object"),
        pytest.param({"@context": {"bad": {"@id": 5}}}, id="invalid-term-definition"),
    ],
)
async def test_add_context_returns_400_when_body_is_not_a_context(
    client: httpx.AsyncClient, body: Any
) -> None:
    response = await client.post(CONTEXTS, json=body)
    assert response.status_code == 400, response.text
    assert (await client.get(CONTEXTS)).json() == []


# --- List @contexts (5.13.3) --------------------------------------------------------------------


async def test_list_contexts_returns_200_with_urls_and_metadata(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    hosted = await add_hosted(client)
    cached = await cache_remote(client, ctx_server, entity_id)

    response = await client.get(CONTEXTS)
    assert response.status_code == 200
    assert sorted(response.json()) == sorted([hosted, cached])

    by_url = {item["URL"]: item for item in await details(client)}
    assert set(by_url) == {hosted, cached}
    assert by_url[hosted]["kind"] == "Hosted"
    assert by_url[cached]["kind"] == "Cached"  # the original URL it was downloaded from
    for item in by_url.values():
        assert {"URL", "localId", "kind", "timestamp"} <= set(item)
        assert item["timestamp"].endswith("Z")
        assert ":" in item["localId"]  # a URI (LdContextMetadata.localId, format uri)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("Hosted", {"hosted"}), ("Cached", {"cached"}), ("ImplicitlyCreated", set())],
)
async def test_list_contexts_returns_200_with_only_the_kind_asked_for(
    client: httpx.AsyncClient,
    ctx_server: ContextServer,
    entity_id: str,
    kind: str,
    expected: set[str],
) -> None:
    urls = {
        "hosted": await add_hosted(client),
        "cached": await cache_remote(client, ctx_server, entity_id),
    }
    response = await client.get(CONTEXTS, params={"kind": kind})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {urls[name] for name in expected}
    assert {item["kind"] for item in await details(client, kind=kind)} <= {kind}


@pytest.mark.parametrize("kind", ["hosted", "Remote", ""])
async def test_list_contexts_returns_400_when_kind_is_unknown(
    client: httpx.AsyncClient, kind: str
) -> None:
    response = await client.get(CONTEXTS, params={"kind": kind})
    assert_problem(response, 400, "BadRequestData")


# --- Serve @context (5.13.4) --------------------------------------------------------------------


async def test_serve_context_returns_200_when_addressed_by_the_metadata_local_id(
    client: httpx.AsyncClient,
) -> None:
    hosted = await add_hosted(client)
    [meta] = await details(client)
    response = await client.get(context_path(meta["localId"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"@context": USER_CONTEXT}

    response = await client.get(context_path(meta["localId"]), params={"details": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["URL"] == hosted
    assert response.json()["localId"] == meta["localId"]


async def test_serve_context_returns_422_when_context_is_cached(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    cached = await cache_remote(client, ctx_server, entity_id)
    [meta] = await details(client, kind="Cached")
    response = await client.get(context_path(meta["localId"]))
    assert_problem(response, 422, "OperationNotSupported")

    response = await client.get(context_path(meta["localId"]), params={"details": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["URL"] == cached
    assert response.json()["kind"] == "Cached"


@pytest.mark.parametrize("context_id", ["urn:ngsi-ld:local:nothing-here", "0123abcd", "x"])
async def test_serve_context_returns_404_when_context_is_unknown(
    client: httpx.AsyncClient, context_id: str
) -> None:
    response = await client.get(context_path(context_id))
    assert_problem(response, 404, "ResourceNotFound")


# --- Delete and Reload @context (5.13.5) --------------------------------------------------------


async def test_delete_context_returns_204_then_404(client: httpx.AsyncClient) -> None:
    await add_hosted(client)
    [meta] = await details(client)
    response = await client.delete(context_path(meta["localId"]))
    assert response.status_code == 204, response.text
    assert (await client.get(context_path(meta["localId"]))).status_code == 404
    assert (await client.get(CONTEXTS)).json() == []
    response = await client.delete(context_path(meta["localId"]))
    assert_problem(response, 404, "ResourceNotFound")


async def test_delete_context_returns_204_when_cached_context_is_named_by_its_url(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    cached = await cache_remote(client, ctx_server, entity_id)
    response = await client.delete(f"{CONTEXTS}/{quote(cached, safe='')}")
    assert response.status_code == 204, response.text
    assert (await client.get(CONTEXTS)).json() == []


async def test_delete_context_returns_204_and_downloads_again_when_reload_is_true(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    cached = await cache_remote(client, ctx_server, entity_id)
    assert ctx_server.hits("/remote.jsonld") == 1
    ctx_server.route("/remote.jsonld", {"@context": {**USER_CONTEXT, "seats": EX + "seats"}})
    [meta] = await details(client, kind="Cached")

    response = await client.delete(context_path(meta["localId"]), params={"reload": "true"})
    assert response.status_code == 204, response.text
    assert ctx_server.hits("/remote.jsonld") == 2
    assert [item["URL"] for item in await details(client, kind="Cached")] == [cached]

    # the fresh copy is the one in use: "seats" is now a term of that context
    body = {"seats": {"type": "Property", "value": 40}}
    response = await client.post(entity_url(entity_id, ""), json=body, headers=link(cached))
    assert response.status_code == 204, response.text
    stored = (await client.get(entity_url(entity_id))).json()
    assert stored[EX + "seats"]["value"] == 40
    assert ctx_server.hits("/remote.jsonld") == 2


async def test_delete_context_returns_400_when_reloading_a_hosted_context(
    client: httpx.AsyncClient,
) -> None:
    hosted = await add_hosted(client)
    [meta] = await details(client)
    response = await client.delete(context_path(meta["localId"]), params={"reload": "true"})
    assert_problem(response, 400, "BadRequestData")
    assert (await client.get(CONTEXTS)).json() == [hosted]


# --- hosted contexts in use ---------------------------------------------------------------------


async def test_create_entity_returns_201_when_link_header_names_a_hosted_context(
    client: httpx.AsyncClient, ctx_server: ContextServer, entity_id: str
) -> None:
    hosted = await add_hosted(client)
    body = {"id": entity_id, "type": "Bus", "passengers": {"type": "Property", "value": 12}}
    response = await client.post(ENTITIES, json=body, headers=link(hosted))
    assert response.status_code == 201, response.text

    stored = (await client.get(entity_url(entity_id))).json()
    assert stored["type"] == EX + "Bus"
    assert stored[EX + "passengers"]["value"] == 12
    response = await client.get(entity_url(entity_id), headers=link(hosted))
    assert response.json()["passengers"] == {"type": "Property", "value": 12}
    assert ctx_server.total_hits() == 0  # served from the hub's own store


# --- ImplicitlyCreated @contexts (5.13) ---------------------------------------------------------


async def test_create_entity_returns_201_and_keeps_an_inline_context_as_implicitly_created(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    inline = {"speed": "https://example.org/traffic#averageSpeed"}
    body = {"@context": inline, "id": entity_id, "type": "Road", "speed": 41}
    created = await client.post(
        ENTITIES, json=body, headers={"Content-Type": "application/ld+json"}
    )
    assert created.status_code == 201, created.text
    again = {**body, "id": entity_id + "-2"}
    await client.post(ENTITIES, json=again, headers={"Content-Type": "application/ld+json"})

    implicit = await details(client, kind="ImplicitlyCreated")
    assert len(implicit) == 1  # the same inline context is kept once
    url = implicit[0]["URL"]
    served = await client.get(context_path(url.rsplit("/", 1)[1]))
    assert served.status_code == 200
    assert served.json() == {"@context": inline}
    # Its URL works like any other @context URL for reading the entity in those terms.
    path = urlsplit(url).path
    got = await client.get(entity_url(entity_id), headers=link("http://hub.test" + path))
    assert got.status_code == 200
    assert got.json()["speed"] == {"type": "Property", "value": 41}
