"""A failed request writes nothing (DESIGN rule 4; clauses 5.6.x, 5.5.10).

Each provision operation gets a body whose first attributes are valid and whose third is not:
the answer is an error and the entity, on the default tenant and on a named one, is exactly as
before (modifiedAt included); a failed first write on a new tenant does not create the tenant.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
ENTITIES = "/ngsi-ld/v1/entities"
BATCH = "/ngsi-ld/v1/entityOperations"
EID = "urn:ngsi-ld:ParkingSpot:atom-1"

INVALID = {"type": "Relationship", "object": "not a uri"}
GOOD_A = {"type": "Property", "value": "changed", "observedAt": "2024-05-01T10:00:00Z"}
GOOD_B = {"type": "Property", "value": 99}
# a, b valid; c invalid: parsing must fail before anything is stored
FRAGMENT = {"a": GOOD_A, "b": GOOD_B, "c": INVALID}
ORIGINAL = {
    "id": EID,
    "type": "ParkingSpot",
    "a": {"type": "Property", "value": "original"},
    "b": {"type": "Property", "value": 1, "unit": {"type": "Property", "value": "slots"}},
    "c": {"type": "Relationship", "object": "urn:ngsi-ld:Parking:1"},
}


def fresh_tenant() -> str:
    return f"atom-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["default", "tenant"])
def headers(request: pytest.FixtureRequest) -> dict[str, str]:
    return {} if request.param == "default" else {"NGSILD-Tenant": fresh_tenant()}


async def snapshot(client: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    response = await client.get(f"{ENTITIES}/{EID}?options=sysAttrs", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def seeded(client: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    assert (await client.post(ENTITIES, json=ORIGINAL, headers=headers)).status_code == 201
    return await snapshot(client, headers)


async def tenant_exists(client: httpx.AsyncClient, name: str) -> bool:
    response = await client.get(f"{ENTITIES}/{EID}", headers={"NGSILD-Tenant": name})
    return bool(response.json().get("type") != ERRORS + "NonexistentTenant")


def assert_bad_request(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["type"] == ERRORS + "BadRequestData"
    assert "c" in response.json()["detail"]


FAILING_UPDATES = [
    ("replace entity", "PUT", "", {"type": "ParkingSpot", **FRAGMENT}),
    ("merge entity", "PATCH", "", FRAGMENT),
    ("append attributes", "POST", "/attrs", FRAGMENT),
    ("append noOverwrite", "POST", "/attrs?options=noOverwrite", FRAGMENT),
    ("update attributes", "PATCH", "/attrs", FRAGMENT),
    (
        "partial attribute update",
        "PATCH",
        "/attrs/b",
        {"type": "Property", "value": 5, "unit": GOOD_B, "bad": INVALID},
    ),
    (
        "replace attribute",
        "PUT",
        "/attrs/b",
        {"type": "Property", "value": 5, "unit": GOOD_B, "bad": INVALID},
    ),
    (
        "replace attribute with bad datasetId",
        "PUT",
        "/attrs/b",
        {"type": "Property", "value": 5, "unit": GOOD_B, "datasetId": "not a uri"},
    ),
    ("delete attribute with bad datasetId", "DELETE", "/attrs/c?datasetId=not%20a%20uri", None),
    (
        "delete attribute with two selectors",
        "DELETE",
        "/attrs/c?deleteAll=true&datasetId=urn:x",
        None,
    ),
]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [(m, s, b) for _, m, s, b in FAILING_UPDATES],
    ids=[name for name, *_ in FAILING_UPDATES],
)
async def test_update_operation_returns_400_and_writes_nothing_when_third_attribute_is_invalid(
    client: httpx.AsyncClient, headers: dict[str, str], method: str, suffix: str, body: Any
) -> None:
    before = await seeded(client, headers)
    response = await client.request(method, f"{ENTITIES}/{EID}{suffix}", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == ERRORS + "BadRequestData"
    assert await snapshot(client, headers) == before


async def test_create_entity_returns_400_and_writes_nothing_when_third_attribute_is_invalid(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post(
        ENTITIES, json={"id": EID, "type": "ParkingSpot", **FRAGMENT}, headers=headers
    )
    assert_bad_request(response)
    after = await client.get(f"{ENTITIES}/{EID}", headers=headers)
    assert after.status_code == 404
    if headers:  # a failed first write must not create the tenant
        assert not await tenant_exists(client, headers["NGSILD-Tenant"])


async def test_create_entity_returns_201_after_a_failed_create_with_the_same_id(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    bad = {"id": EID, "type": "ParkingSpot", **FRAGMENT}
    assert (await client.post(ENTITIES, json=bad, headers=headers)).status_code == 400
    assert (await client.post(ENTITIES, json=ORIGINAL, headers=headers)).status_code == 201


@pytest.mark.parametrize("operation", ["upsert", "upsert?options=update", "update", "merge"])
async def test_batch_returns_207_and_leaves_invalid_entity_untouched(
    client: httpx.AsyncClient, headers: dict[str, str], operation: str
) -> None:
    before = await seeded(client, headers)
    other = {"id": "urn:ngsi-ld:ParkingSpot:atom-2", "type": "ParkingSpot", "a": GOOD_A}
    await client.post(ENTITIES, json={**other, "a": 1}, headers=headers)
    items = [other, {"id": EID, "type": "ParkingSpot", **FRAGMENT}]
    response = await client.post(f"{BATCH}/{operation}", json=items, headers=headers)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["success"] == [other["id"]]
    assert [e["entityId"] for e in body["errors"]] == [EID]
    assert body["errors"][0]["error"]["type"] == ERRORS + "BadRequestData"
    assert await snapshot(client, headers) == before
    changed = await client.get(f"{ENTITIES}/{other['id']}", headers=headers)
    assert changed.json()["a"]["value"] == "changed"


async def test_batch_create_returns_207_and_creates_only_valid_entities(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    good = {"id": "urn:ngsi-ld:ParkingSpot:atom-3", "type": "ParkingSpot", "a": GOOD_A}
    items = [good, {"id": EID, "type": "ParkingSpot", **FRAGMENT}]
    response = await client.post(f"{BATCH}/create", json=items, headers=headers)
    assert response.status_code == 207, response.text
    assert response.json()["success"] == [good["id"]]
    assert (await client.get(f"{ENTITIES}/{EID}", headers=headers)).status_code == 404
    assert (await client.get(f"{ENTITIES}/{good['id']}", headers=headers)).status_code == 200


async def test_batch_returns_400_and_writes_nothing_when_body_is_not_an_array(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    before = await seeded(client, headers)
    for operation in ("create", "upsert", "update", "merge", "delete"):
        response = await client.post(f"{BATCH}/{operation}", json={"id": EID}, headers=headers)
        assert response.status_code == 400, (operation, response.text)
    assert await snapshot(client, headers) == before


@pytest.mark.parametrize("operation", ["create", "upsert"])
async def test_batch_creating_nothing_does_not_create_the_tenant(
    client: httpx.AsyncClient, operation: str
) -> None:
    name = fresh_tenant()
    items = [{"id": EID, "type": "ParkingSpot", **FRAGMENT}, {"id": "bad id", "type": "T"}]
    response = await client.post(
        f"{BATCH}/{operation}", json=items, headers={"NGSILD-Tenant": name}
    )
    assert response.status_code == 207
    assert response.json()["success"] == []
    assert not await tenant_exists(client, name)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"id": "urn:ngsi-ld:ParkingSpot:atom-1", "type": ', "application/json"),
        (b"{}", "text/plain"),
    ],
    ids=["malformed", "unsupported-media-type"],
)
async def test_create_entity_with_unreadable_body_does_not_create_the_tenant(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    name = fresh_tenant()
    headers = {"NGSILD-Tenant": name, "Content-Type": content_type}
    response = await client.post(ENTITIES, content=content, headers=headers)
    assert 400 <= response.status_code < 500
    assert not await tenant_exists(client, name)
