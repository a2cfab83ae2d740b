"""Tenants through the NGSILD-Tenant header (clauses 5.5.10, 6.3.14).

Create operations create a tenant implicitly; every other operation on a tenant that does
not exist is NonexistentTenant; tenants never see each other's entities; responses name the
tenant; a hub without multi-tenancy answers NoMultiTenantSupport.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from cityhub.app import create_app
from cityhub.hub import Hub
from cityhub.storage import create_store

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
ENTITIES = "/ngsi-ld/v1/entities"
BATCH = "/ngsi-ld/v1/entityOperations"
EID = "urn:ngsi-ld:OffStreetParking:seoul-1"
PARKING = {"id": EID, "type": "OffStreetParking", "spots": {"type": "Property", "value": 12}}


def fresh(prefix: str) -> str:
    """A tenant name no other test used: stores outlive a test and may cache known tenants."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


SEOUL, BUSAN, DAEGU = fresh("seoul"), fresh("busan"), fresh("daegu")


def tenant(name: str) -> dict[str, str]:
    return {"NGSILD-Tenant": name}


def problem_type(response: httpx.Response) -> str:
    return str(response.json()["type"]).removeprefix(ERRORS)


async def test_create_entity_returns_201_and_creates_tenant_on_first_write(
    client: httpx.AsyncClient,
) -> None:
    busan = fresh("busan")
    before = await client.get(f"{ENTITIES}/{EID}", headers=tenant(busan))
    assert before.status_code == 404 and problem_type(before) == "NonexistentTenant"
    created = await client.post(ENTITIES, json=PARKING, headers=tenant(busan))
    assert created.status_code == 201
    assert created.headers["ngsild-tenant"] == busan
    got = await client.get(f"{ENTITIES}/{EID}", headers=tenant(busan))
    assert got.status_code == 200
    assert got.json()["spots"]["value"] == 12
    assert got.headers["ngsild-tenant"] == busan


async def test_batch_create_returns_201_and_creates_tenant_on_first_write(
    client: httpx.AsyncClient,
) -> None:
    incheon = fresh("incheon")
    before = await client.get(f"{ENTITIES}/{EID}", headers=tenant(incheon))
    assert problem_type(before) == "NonexistentTenant"
    response = await client.post(f"{BATCH}/create", json=[PARKING], headers=tenant(incheon))
    assert response.status_code == 201
    assert response.headers["ngsild-tenant"] == incheon
    assert (await client.get(f"{ENTITIES}/{EID}", headers=tenant(incheon))).status_code == 200


async def test_retrieve_entity_returns_404_when_entity_lives_in_another_tenant(
    client: httpx.AsyncClient,
) -> None:
    await client.post(ENTITIES, json=PARKING, headers=tenant(SEOUL))
    await client.post(ENTITIES, json={"id": "urn:ngsi-ld:T:other", "type": "T"})  # default
    await client.post(
        ENTITIES, json={"id": "urn:ngsi-ld:T:other", "type": "T"}, headers=tenant(DAEGU)
    )

    in_default = await client.get(f"{ENTITIES}/{EID}")
    assert in_default.status_code == 404 and problem_type(in_default) == "ResourceNotFound"
    in_daegu = await client.get(f"{ENTITIES}/{EID}", headers=tenant(DAEGU))
    assert in_daegu.status_code == 404 and problem_type(in_daegu) == "ResourceNotFound"
    assert in_daegu.headers["ngsild-tenant"] == DAEGU


async def test_create_entity_returns_201_when_same_id_exists_in_another_tenant(
    client: httpx.AsyncClient,
) -> None:
    for name in (SEOUL, BUSAN):
        response = await client.post(ENTITIES, json=PARKING, headers=tenant(name))
        assert response.status_code == 201
    assert (await client.post(ENTITIES, json=PARKING)).status_code == 201
    assert (await client.post(ENTITIES, json=PARKING, headers=tenant(SEOUL))).status_code == 409


async def test_update_operations_change_only_their_own_tenant(client: httpx.AsyncClient) -> None:
    for headers in ({}, tenant(SEOUL), tenant(BUSAN)):
        assert (await client.post(ENTITIES, json=PARKING, headers=headers)).status_code == 201
    patch = {"spots": {"type": "Property", "value": 3}}
    updated = await client.patch(f"{ENTITIES}/{EID}/attrs", json=patch, headers=tenant(SEOUL))
    assert updated.status_code == 204
    assert updated.headers["ngsild-tenant"] == SEOUL
    deleted = await client.delete(f"{ENTITIES}/{EID}", headers=tenant(BUSAN))
    assert deleted.status_code == 204

    seoul = await client.get(f"{ENTITIES}/{EID}", headers=tenant(SEOUL))
    assert seoul.json()["spots"]["value"] == 3
    default = await client.get(f"{ENTITIES}/{EID}")
    assert default.json()["spots"]["value"] == 12
    assert "ngsild-tenant" not in default.headers
    busan = await client.get(f"{ENTITIES}/{EID}", headers=tenant(BUSAN))
    assert busan.status_code == 404 and problem_type(busan) == "ResourceNotFound"


async def test_retrieve_entity_returns_404_nonexistent_tenant_when_tenant_is_unknown(
    client: httpx.AsyncClient,
) -> None:
    atlantis = fresh("atlantis")
    response = await client.get(f"{ENTITIES}/{EID}", headers=tenant(atlantis))
    assert response.status_code == 404
    assert problem_type(response) == "NonexistentTenant"
    assert atlantis in response.json()["detail"]
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", f"{ENTITIES}/{EID}/attrs", {"spots": 1}),
        ("POST", f"{ENTITIES}/{EID}/attrs", {"spots": 1}),
        ("PATCH", f"{ENTITIES}/{EID}", {"spots": 1}),
        ("PUT", f"{ENTITIES}/{EID}", {"type": "OffStreetParking"}),
        ("DELETE", f"{ENTITIES}/{EID}", None),
        ("DELETE", f"{ENTITIES}/{EID}/attrs/spots", None),
        ("POST", f"{BATCH}/update", [{"id": EID, "spots": 1}]),
        ("POST", f"{BATCH}/merge", [{"id": EID, "spots": 1}]),
        ("POST", f"{BATCH}/delete", [EID]),
    ],
)
async def test_non_create_operation_returns_404_nonexistent_tenant_when_tenant_is_unknown(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    atlantis = fresh("atlantis")
    response = await client.request(method, path, json=body, headers=tenant(atlantis))
    assert response.status_code == 404
    assert problem_type(response) == "NonexistentTenant"
    after = await client.get(f"{ENTITIES}/{EID}", headers=tenant(atlantis))
    assert problem_type(after) == "NonexistentTenant"


async def test_error_response_echoes_ngsild_tenant(client: httpx.AsyncClient) -> None:
    await client.post(ENTITIES, json=PARKING, headers=tenant(SEOUL))
    bad = await client.post(ENTITIES, json={"id": "x", "type": "T"}, headers=tenant(SEOUL))
    assert bad.status_code == 400
    assert bad.headers["ngsild-tenant"] == SEOUL
    exists = await client.post(ENTITIES, json=PARKING, headers=tenant(SEOUL))
    assert exists.status_code == 409
    assert exists.headers["ngsild-tenant"] == SEOUL


@pytest.mark.parametrize(
    "name",
    ["two words", "a/b", "x" * 65, "<script>", "semi;colon", "tenant#1", "ümlaut".encode()],
    ids=["space", "slash", "too-long", "angle", "semicolon", "hash", "non-ascii"],
)
async def test_create_entity_returns_400_when_tenant_name_is_invalid(
    client: httpx.AsyncClient, name: str | bytes
) -> None:
    headers = [(b"NGSILD-Tenant", name if isinstance(name, bytes) else name.encode())]
    response = await client.post(ENTITIES, json=PARKING, headers=headers)
    assert response.status_code == 400
    assert problem_type(response) in {"BadRequestData", "InvalidRequest"}
    assert "tenant" in response.json()["detail"].lower()
    assert "ngsild-tenant" not in response.headers


@pytest.mark.parametrize("name", ["seoul-name", "Seoul_2", "city.gov-kr", "urn:tenant:1", "x" * 64])
async def test_create_entity_returns_201_when_tenant_name_is_valid(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.post(ENTITIES, json=PARKING, headers=tenant(name))
    assert response.status_code == 201
    assert response.headers["ngsild-tenant"] == name


async def test_empty_tenant_header_means_default_tenant(client: httpx.AsyncClient) -> None:
    assert (await client.post(ENTITIES, json=PARKING, headers=tenant(""))).status_code == 201
    assert (await client.get(f"{ENTITIES}/{EID}")).status_code == 200


async def test_tenants_are_case_sensitive(client: httpx.AsyncClient) -> None:
    """Clause 5.5.10: a tenant is a String, compared as such."""
    upper = fresh("Seoul")
    await client.post(ENTITIES, json=PARKING, headers=tenant(upper))
    response = await client.get(f"{ENTITIES}/{EID}", headers=tenant(upper.lower()))
    assert response.status_code == 404
    assert problem_type(response) == "NonexistentTenant"


async def test_new_tenant_is_served_by_another_worker_without_restart(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    """Another worker (its own store connection) sees a tenant created after it started."""
    worker = Hub(hub.settings, store=create_store(hub.settings))
    await worker.open(migrate=False)
    ulsan = fresh("ulsan")
    transport = httpx.ASGITransport(app=create_app(hub.settings, hub=worker))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker2") as other:
        missing = await other.get(f"{ENTITIES}/{EID}", headers=tenant(ulsan))
        assert problem_type(missing) == "NonexistentTenant"
        created = await client.post(ENTITIES, json=PARKING, headers=tenant(ulsan))
        assert created.status_code == 201
        found = await other.get(f"{ENTITIES}/{EID}", headers=tenant(ulsan))
        assert found.status_code == 200
    await worker.close()


class TestWithoutMultiTenancy:
    """multi_tenancy = false: the default tenant works, a tenant header is 501."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"multi_tenancy": False}

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("POST", ENTITIES, PARKING),
            ("GET", f"{ENTITIES}/{EID}", None),
            ("PATCH", f"{ENTITIES}/{EID}/attrs", {"spots": 1}),
            ("DELETE", f"{ENTITIES}/{EID}", None),
            ("POST", f"{BATCH}/create", [PARKING]),
        ],
    )
    async def test_operation_returns_501_when_tenant_is_given(
        self, client: httpx.AsyncClient, method: str, path: str, body: Any
    ) -> None:
        response = await client.request(method, path, json=body, headers=tenant("seoul"))
        assert response.status_code == 501
        assert problem_type(response) == "NoMultiTenantSupport"
        assert "ngsild-tenant" not in response.headers
        assert (await client.get(f"{ENTITIES}/{EID}")).status_code == 404

    async def test_create_entity_returns_201_without_tenant_header(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await client.post(ENTITIES, json=PARKING)).status_code == 201
        assert (await client.get(f"{ENTITIES}/{EID}")).status_code == 200
