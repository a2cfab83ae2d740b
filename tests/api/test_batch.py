"""Batch entity operations: /entityOperations/create, upsert, update, merge and delete
(clauses 5.6.7–5.6.10, 5.6.20; HTTP binding 6.14–6.18, 6.31).

All items succeed → 201 with the created ids (create, upsert) or 204; otherwise 207 with a
BatchOperationResult (clause 5.2.16): {"success": [ids], "errors": [{"entityId", "error"}]}.
Each entity is applied whole or not at all: an invalid item fails alone, is left unchanged,
and the other items still commit.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

BATCH = "/ngsi-ld/v1/entityOperations/"
ENTITIES = "/ngsi-ld/v1/entities"
JSON = {"Content-Type": "application/json"}
JSON_LD = {"Content-Type": "application/ld+json"}
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
OPERATIONS = ["create", "upsert", "update", "merge", "delete"]

A, B, C = "urn:ngsi-ld:Parking:A", "urn:ngsi-ld:Parking:B", "urn:ngsi-ld:Parking:C"


def parking(entity_id: str, spots: int = 10, **attrs: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": entity_id,
        "type": "OffStreetParking",
        "availableSpotNumber": {"type": "Property", "value": spots},
    }
    body.update(attrs)
    return body


async def batch(
    client: httpx.AsyncClient,
    operation: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        BATCH + operation, json=body, headers=headers or JSON, params=params or {}
    )


async def fetch(client: httpx.AsyncClient, entity_id: str, **params: str) -> dict[str, Any] | None:
    """The entity (normalized, core @context), or None when it does not exist."""
    response = await client.get(f"{ENTITIES}/{quote(entity_id, safe=':')}", params=params)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def seed(client: httpx.AsyncClient, *entities: dict[str, Any]) -> None:
    for entity in entities:
        response = await client.post(ENTITIES, json=entity, headers=JSON)
        assert response.status_code == 201, response.text


def assert_result(
    response: httpx.Response, success: set[str], errors: dict[str | None, str]
) -> list[dict[str, Any]]:
    """A 207 BatchOperationResult with these successful ids and error types by entity id."""
    assert response.status_code == 207, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "errors"}
    assert sorted(body["success"]) == sorted(success)
    got: dict[str | None, str] = {}
    for item in body["errors"]:
        problem = item["error"]
        assert problem["type"].startswith(ERRORS), problem
        assert isinstance(problem["status"], int) and problem["status"] >= 400, problem
        assert problem.get("title") and problem.get("detail"), problem
        got[item.get("entityId")] = problem["type"].removeprefix(ERRORS)
    assert got == errors
    assert len(body["errors"]) == len(errors)
    errors_list: list[dict[str, Any]] = body["errors"]
    return errors_list


# --- body shape ---------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    "body",
    [parking(A), "urn:ngsi-ld:Parking:A", 42, None],
    ids=["object", "string", "number", "null"],
)
async def test_batch_returns_400_when_body_is_not_a_json_array(
    client: httpx.AsyncClient, operation: str, body: Any
):
    response = await client.post(BATCH + operation, content=orjson.dumps(body), headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["type"] in {ERRORS + "BadRequestData", ERRORS + "InvalidRequest"}
    assert await fetch(client, A) is None


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_batch_returns_400_when_body_is_not_json(client: httpx.AsyncClient, operation: str):
    response = await client.post(BATCH + operation, content=b"[{", headers=JSON)
    assert response.status_code == 400
    assert response.json()["type"] == ERRORS + "InvalidRequest"


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_batch_returns_415_when_content_type_is_not_json(
    client: httpx.AsyncClient, operation: str
):
    response = await client.post(
        BATCH + operation, content=b"[]", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


# --- create (5.6.7) -----------------------------------------------------------------------


async def test_batch_create_returns_201_with_ids_when_every_entity_is_created(
    client: httpx.AsyncClient,
):
    response = await batch(client, "create", [parking(A, 1), parking(B, 2)])
    assert response.status_code == 201, response.text
    assert sorted(response.json()) == [A, B]
    assert (await fetch(client, A)) == parking(A, 1)
    assert (await fetch(client, B)) == parking(B, 2)


BAD_ITEMS: list[Any] = [
    pytest.param(
        parking(C, availableSpotNumber={"type": "Property"}), C, "BadRequestData", id="no-value"
    ),
    pytest.param(
        parking(C, speed={"type": "Nonsense", "value": 1}), C, "BadRequestData", id="bad-type"
    ),
    pytest.param(
        {"id": C, "availableSpotNumber": {"type": "Property", "value": 1}},
        C,
        "BadRequestData",
        id="missing-type",
    ),
    pytest.param(parking(C, **{"bad name": 1}), C, "BadRequestData", id="bad-attribute-name"),
    pytest.param(
        parking(C, location={"type": "GeoProperty", "value": {"type": "Point"}}),
        C,
        "BadRequestData",
        id="bad-geometry",
    ),
]


@pytest.mark.parametrize(("item", "failing_id", "error"), BAD_ITEMS)
async def test_batch_create_returns_207_when_one_item_is_invalid(
    client: httpx.AsyncClient, item: dict[str, Any], failing_id: str, error: str
):
    response = await batch(client, "create", [parking(A), item, parking(B)])
    assert_result(response, {A, B}, {failing_id: error})
    assert await fetch(client, A) == parking(A)
    assert await fetch(client, B) == parking(B)
    assert await fetch(client, failing_id) is None


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"type": "OffStreetParking"}, id="missing-id"),
        pytest.param({"id": "not a uri", "type": "OffStreetParking"}, id="id-not-uri"),
        pytest.param("urn:ngsi-ld:Parking:C", id="not-an-object"),
    ],
)
async def test_batch_create_returns_207_when_an_item_has_no_valid_id(
    client: httpx.AsyncClient, item: Any
):
    response = await batch(client, "create", [parking(A), item])
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["success"] == [A]
    assert len(body["errors"]) == 1
    assert body["errors"][0]["error"]["status"] == 400
    assert await fetch(client, A) == parking(A)


async def test_batch_create_returns_207_when_an_entity_exists(client: httpx.AsyncClient):
    await seed(client, parking(A, 99))
    response = await batch(client, "create", [parking(A, 1), parking(B, 2)])
    errors = assert_result(response, {B}, {A: "AlreadyExists"})
    assert errors[0]["error"]["status"] == 409
    assert await fetch(client, A) == parking(A, 99)
    assert await fetch(client, B) == parking(B, 2)


async def test_batch_create_returns_207_when_an_id_appears_twice(client: httpx.AsyncClient):
    response = await batch(client, "create", [parking(A, 1), parking(B, 2), parking(A, 3)])
    assert response.status_code == 207, response.text
    body = response.json()
    assert sorted(body["success"]) == [A, B]
    assert [e["entityId"] for e in body["errors"]] == [A]
    assert body["errors"][0]["error"]["status"] in {400, 409}
    assert await fetch(client, A) == parking(A, 1)


async def test_batch_create_returns_207_when_no_item_succeeds(client: httpx.AsyncClient):
    await seed(client, parking(A))
    response = await batch(client, "create", [parking(A), {"id": B}])
    assert_result(response, set(), {A: "AlreadyExists", B: "BadRequestData"})


async def test_batch_create_returns_201_when_items_use_the_link_header_context(
    client: httpx.AsyncClient,
):
    url = await _hosted_context(client, {"spots": "https://example.org/parking/spots"})
    headers = {**JSON, "Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"'}
    response = await batch(
        client, "create", [{"id": A, "type": "Parking", "spots": 3}], headers=headers
    )
    assert response.status_code == 201, response.text
    got = await fetch(client, A)
    assert got is not None
    assert got["https://example.org/parking/spots"] == {"type": "Property", "value": 3}


async def _hosted_context(client: httpx.AsyncClient, terms: dict[str, str]) -> str:
    """A user @context hosted by the hub itself (clause 5.13.2), so no network is needed."""
    response = await client.post(
        "/ngsi-ld/v1/jsonldContexts", json={"@context": terms}, headers=JSON_LD
    )
    assert response.status_code == 201, response.text
    return response.headers["location"]


# --- JSON-LD batches: one @context per item (clause 6.3.5) --------------------------------


async def test_batch_create_returns_201_when_each_jsonld_item_has_its_own_context(
    client: httpx.AsyncClient,
):
    items = [
        {**parking(A), "@context": [{"spots": "https://example.org/a/spots"}, CORE], "spots": 1},
        {**parking(B), "@context": {"spots": "https://example.org/b/spots"}, "spots": 2},
    ]
    response = await batch(client, "create", items, headers=JSON_LD)
    assert response.status_code == 201, response.text
    a, b = await fetch(client, A), await fetch(client, B)
    assert a is not None and b is not None
    assert a["https://example.org/a/spots"]["value"] == 1
    assert "https://example.org/b/spots" not in a
    assert b["https://example.org/b/spots"]["value"] == 2


@pytest.mark.parametrize("operation", ["create", "upsert", "update", "merge"])
async def test_batch_returns_207_when_a_jsonld_item_has_no_context(
    client: httpx.AsyncClient, operation: str
):
    if operation in {"update", "merge"}:
        await seed(client, parking(A), parking(B))
    items = [{**parking(A, 5), "@context": CORE}, parking(B, 6)]
    response = await batch(client, operation, items, headers=JSON_LD)
    assert_result(response, {A}, {B: "BadRequestData"})
    assert (await fetch(client, A)) == parking(A, 5)
    assert (await fetch(client, B)) == (parking(B) if operation in {"update", "merge"} else None)


async def test_batch_create_returns_207_when_a_json_item_carries_a_context(
    client: httpx.AsyncClient,
):
    items = [parking(A), {**parking(B), "@context": CORE}]
    response = await batch(client, "create", items)
    assert_result(response, {A}, {B: "BadRequestData"})
    assert await fetch(client, B) is None


async def test_batch_create_returns_400_when_jsonld_body_has_a_link_header(
    client: httpx.AsyncClient,
):
    headers = {**JSON_LD, "Link": f'<{CORE}>; rel="http://www.w3.org/ns/json-ld#context"'}
    response = await batch(client, "create", [{**parking(A), "@context": CORE}], headers=headers)
    assert response.status_code == 400
    assert await fetch(client, A) is None


# --- upsert (5.6.8) -----------------------------------------------------------------------


async def test_batch_upsert_returns_201_with_ids_when_every_entity_is_new(
    client: httpx.AsyncClient,
):
    response = await batch(client, "upsert", [parking(A), parking(B)])
    assert response.status_code == 201, response.text
    assert sorted(response.json()) == [A, B]
    assert await fetch(client, A) == parking(A)


async def test_batch_upsert_returns_201_with_only_created_ids_when_some_exist(
    client: httpx.AsyncClient,
):
    await seed(client, parking(A, 1))
    response = await batch(client, "upsert", [parking(A, 2), parking(B, 3)])
    assert response.status_code == 201, response.text
    assert response.json() == [B]
    assert await fetch(client, A) == parking(A, 2)
    assert await fetch(client, B) == parking(B, 3)


async def test_batch_upsert_returns_204_when_every_entity_exists(client: httpx.AsyncClient):
    await seed(client, parking(A, 1), parking(B, 1))
    response = await batch(client, "upsert", [parking(A, 2), parking(B, 3)])
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert await fetch(client, B) == parking(B, 3)


NAME = {"type": "Property", "value": "Central"}
FEE = {"type": "Property", "value": 2.5, "unitCode": "EUR"}


@pytest.mark.parametrize("params", [{}, {"options": "replace"}])
async def test_batch_upsert_returns_204_and_replaces_when_mode_is_replace(
    client: httpx.AsyncClient, params: dict[str, str]
):
    await seed(client, parking(A, 1, name=NAME))
    before = await fetch(client, A, options="sysAttrs")
    assert before is not None
    response = await batch(client, "upsert", [parking(A, 7, fee=FEE)], params=params)
    assert response.status_code == 204, response.text
    assert await fetch(client, A) == parking(A, 7, fee=FEE)
    after = await fetch(client, A, options="sysAttrs")
    assert after is not None
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] >= after["createdAt"]


async def test_batch_upsert_returns_204_and_appends_when_mode_is_update(
    client: httpx.AsyncClient,
):
    await seed(client, parking(A, 1, name=NAME))
    before = await fetch(client, A, options="sysAttrs")
    assert before is not None
    response = await batch(client, "upsert", [parking(A, 7, fee=FEE)], params={"options": "update"})
    assert response.status_code == 204, response.text
    assert await fetch(client, A) == parking(A, 7, name=NAME, fee=FEE)
    after = await fetch(client, A, options="sysAttrs")
    assert after is not None
    assert after["createdAt"] == before["createdAt"]
    assert after["name"]["createdAt"] == before["name"]["createdAt"]


async def test_batch_upsert_returns_201_when_mode_is_update_and_entity_is_new(
    client: httpx.AsyncClient,
):
    response = await batch(client, "upsert", [parking(A)], params={"options": "update"})
    assert response.status_code == 201, response.text
    assert response.json() == [A]
    assert await fetch(client, A) == parking(A)


@pytest.mark.parametrize("options", ["replace,update", "noOverwrite", "sideways"])
async def test_batch_upsert_returns_400_when_options_are_invalid(
    client: httpx.AsyncClient, options: str
):
    response = await batch(client, "upsert", [parking(A)], params={"options": options})
    assert response.status_code == 400
    assert await fetch(client, A) is None


@pytest.mark.parametrize(("item", "failing_id", "error"), BAD_ITEMS)
async def test_batch_upsert_returns_207_and_leaves_entity_unchanged_when_item_is_invalid(
    client: httpx.AsyncClient, item: dict[str, Any], failing_id: str, error: str
):
    await seed(client, parking(C, 42, name=NAME))
    response = await batch(client, "upsert", [parking(A), item, parking(B)])
    assert_result(response, {A, B}, {failing_id: error})
    assert await fetch(client, C) == parking(C, 42, name=NAME)
    assert await fetch(client, A) == parking(A)


# --- update (5.6.9) -----------------------------------------------------------------------


async def test_batch_update_returns_204_when_every_entity_is_updated(client: httpx.AsyncClient):
    await seed(client, parking(A, 1, name=NAME), parking(B, 1))
    response = await batch(
        client, "update", [{"id": A, "availableSpotNumber": 5}, {"id": B, "fee": FEE}]
    )
    assert response.status_code == 204, response.text
    assert await fetch(client, A) == parking(A, 5, name=NAME)
    assert await fetch(client, B) == parking(B, 1, fee=FEE)


async def test_batch_update_returns_204_and_keeps_existing_values_when_no_overwrite(
    client: httpx.AsyncClient,
):
    await seed(client, parking(A, 1))
    body = [{"id": A, "availableSpotNumber": 5, "fee": FEE}]
    response = await batch(client, "update", body, params={"options": "noOverwrite"})
    assert response.status_code == 204, response.text
    assert await fetch(client, A) == parking(A, 1, fee=FEE)


async def test_batch_update_returns_207_when_an_entity_does_not_exist(client: httpx.AsyncClient):
    await seed(client, parking(A, 1))
    response = await batch(client, "update", [{"id": A, "fee": FEE}, {"id": B, "fee": FEE}])
    errors = assert_result(response, {A}, {B: "ResourceNotFound"})
    assert errors[0]["error"]["status"] == 404
    assert await fetch(client, A) == parking(A, 1, fee=FEE)
    assert await fetch(client, B) is None


@pytest.mark.parametrize("operation", ["update", "merge"])
@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"fee": FEE}, id="missing-id"),
        pytest.param({"id": B, "fee": {"type": "Property"}}, id="bad-attribute"),
        pytest.param(
            {"id": B, "fee": FEE, "speed": {"type": "Bogus", "value": 1}}, id="partly-bad"
        ),
    ],
)
async def test_batch_returns_207_and_leaves_entity_unchanged_when_update_item_is_invalid(
    client: httpx.AsyncClient, operation: str, item: dict[str, Any]
):
    await seed(client, parking(A, 1), parking(B, 1))
    response = await batch(client, operation, [{"id": A, "availableSpotNumber": 2}, item])
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["success"] == [A]
    assert len(body["errors"]) == 1
    assert body["errors"][0]["error"]["type"] == ERRORS + "BadRequestData"
    assert body["errors"][0].get("entityId") == item.get("id")
    assert await fetch(client, A) == parking(A, 2)
    assert await fetch(client, B) == parking(B, 1)


@pytest.mark.parametrize("options", ["update", "replace", "bogus"])
async def test_batch_update_returns_400_when_options_are_unknown(
    client: httpx.AsyncClient, options: str
):
    await seed(client, parking(A, 1))
    response = await batch(client, "update", [{"id": A, "fee": FEE}], params={"options": options})
    assert response.status_code == 400
    assert await fetch(client, A) == parking(A, 1)


# --- merge (5.6.20) -----------------------------------------------------------------------


async def test_batch_merge_returns_204_and_merges_every_entity(client: httpx.AsyncClient):
    detailed = {"type": "Property", "value": 1, "observedAt": "2024-05-01T10:00:00Z"}
    await seed(
        client,
        parking(A, 1, name=NAME, fee=FEE),
        {"id": B, "type": "OffStreetParking", "availableSpotNumber": detailed},
    )
    body = [
        {"id": A, "fee": "urn:ngsi-ld:null", "name": {"value": "North"}},
        {"id": B, "availableSpotNumber": {"value": 9}},
    ]
    response = await batch(client, "merge", body)
    assert response.status_code == 204, response.text
    assert await fetch(client, A) == parking(A, 1, name={"type": "Property", "value": "North"})
    got = await fetch(client, B)
    assert got is not None
    assert got["availableSpotNumber"] == {**detailed, "value": 9}


async def test_batch_merge_returns_207_when_an_entity_does_not_exist(client: httpx.AsyncClient):
    await seed(client, parking(A, 1))
    response = await batch(
        client, "merge", [{"id": A, "availableSpotNumber": 3}, {"id": B, "fee": FEE}]
    )
    assert_result(response, {A}, {B: "ResourceNotFound"})
    assert await fetch(client, A) == parking(A, 3)
    assert await fetch(client, B) is None


# --- delete (5.6.10) ----------------------------------------------------------------------


async def test_batch_delete_returns_204_when_every_entity_is_deleted(client: httpx.AsyncClient):
    await seed(client, parking(A), parking(B), parking(C))
    response = await batch(client, "delete", [A, B])
    assert response.status_code == 204, response.text
    assert await fetch(client, A) is None
    assert await fetch(client, B) is None
    assert await fetch(client, C) == parking(C)


async def test_batch_delete_returns_207_when_an_entity_does_not_exist(client: httpx.AsyncClient):
    await seed(client, parking(A))
    response = await batch(client, "delete", [A, B])
    errors = assert_result(response, {A}, {B: "ResourceNotFound"})
    assert errors[0]["error"]["status"] == 404
    assert await fetch(client, A) is None


@pytest.mark.parametrize(
    "item", [pytest.param("not a uri", id="not-uri"), pytest.param({"id": B}, id="object")]
)
async def test_batch_delete_returns_207_when_an_item_is_not_an_entity_id(
    client: httpx.AsyncClient, item: Any
):
    await seed(client, parking(A), parking(B))
    response = await batch(client, "delete", [A, item])
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["success"] == [A]
    assert len(body["errors"]) == 1
    assert body["errors"][0]["error"]["type"] == ERRORS + "BadRequestData"
    assert await fetch(client, A) is None
    assert await fetch(client, B) == parking(B)


async def test_batch_delete_returns_204_when_body_is_jsonld(client: httpx.AsyncClient):
    await seed(client, parking(A))
    response = await batch(client, "delete", [A], headers=JSON_LD)
    assert response.status_code == 204, response.text
    assert await fetch(client, A) is None


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_batch_create_returns_207_when_an_item_context_cannot_be_retrieved(
    client: httpx.AsyncClient,
):
    missing = f"http://127.0.0.1:{_closed_port()}/context.jsonld"
    items = [{**parking(A), "@context": CORE}, {**parking(B), "@context": missing}]
    response = await batch(client, "create", items, headers=JSON_LD)
    errors = assert_result(response, {A}, {B: "LdContextNotAvailable"})
    assert errors[0]["error"]["status"] in {503, 504}
    assert await fetch(client, B) is None
