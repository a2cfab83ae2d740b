"""Retrieve Context Source Identity Information: GET /ngsi-ld/v1/info/sourceIdentity (clause
5.15.1, data type ContextSourceIdentity, Table 5.2.40-1)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cityhub.api.csources import close_csources
from cityhub.app import create_app
from cityhub.hub import Hub
from cityhub.storage.base import Store
from tests.api.entity_requests import assert_problem
from tests.conftest import test_settings

IDENTITY = "/ngsi-ld/v1/info/sourceIdentity"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
DURATION = re.compile(r"^P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"hub_alias": "seoul-cityhub"}


@pytest.fixture(autouse=True)
async def _stop_delivery(hub: Hub) -> AsyncIterator[None]:
    yield
    await close_csources(hub)


async def identity(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> Any:
    response = await client.get(IDENTITY, headers=headers or {})
    assert response.status_code == 200, response.text
    return response


async def test_source_identity_returns_200_with_every_member_of_the_data_type(
    client: httpx.AsyncClient,
) -> None:
    response = await identity(client)
    assert response.headers["content-type"] == "application/json"
    assert CORE in response.headers["link"]
    body = response.json()
    assert set(body) == {
        "id",
        "type",
        "contextSourceAlias",
        "contextSourceUptime",
        "contextSourceTimeAt",
        "contextSourceExtras",
    }
    assert body["id"].startswith("urn:ngsi-ld:ContextSourceIdentity:")
    assert body["type"] == "ContextSourceIdentity"
    assert body["contextSourceAlias"] == "seoul-cityhub"
    assert DURATION.match(body["contextSourceUptime"]), body["contextSourceUptime"]
    assert body["contextSourceUptime"] != "P"
    moment = datetime.fromisoformat(body["contextSourceTimeAt"])
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)
    assert body["contextSourceExtras"]["product"] == "CityHub"


async def test_source_identity_returns_200_with_the_core_context_in_json_ld(
    client: httpx.AsyncClient,
) -> None:
    response = await identity(client, {"Accept": "application/ld+json"})
    assert response.headers["content-type"] == "application/ld+json"
    assert response.json()["@context"] == CORE


async def test_source_identity_returns_200_with_the_same_id_from_every_worker(
    client: httpx.AsyncClient, store: Store
) -> None:
    """A second hub on the same store (another worker, or a restart) answers the same id."""
    first = (await identity(client)).json()
    assert (await identity(client)).json()["id"] == first["id"]
    other = Hub(test_settings(store, hub_alias="seoul-cityhub"), store=store)
    app = create_app(other.settings, hub=other)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as second:
            again = (await identity(second)).json()
    finally:
        await close_csources(other)
        await other.contexts.aclose()
    assert again["id"] == first["id"]
    assert again["contextSourceAlias"] == first["contextSourceAlias"]


async def test_source_identity_returns_200_with_an_alias_per_tenant(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post(
        "/ngsi-ld/v1/entities",
        json={"id": "urn:ngsi-ld:Thing:1", "type": "Thing"},
        headers={"NGSILD-Tenant": "jongno"},
    )
    assert created.status_code == 201
    tenant = await identity(client, {"NGSILD-Tenant": "jongno"})
    assert tenant.headers["NGSILD-Tenant"] == "jongno"
    alias = tenant.json()["contextSourceAlias"]
    assert alias != "seoul-cityhub"
    assert "jongno" in alias
    assert (await identity(client)).json()["id"] == tenant.json()["id"]


async def test_source_identity_returns_404_for_a_tenant_that_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(IDENTITY, headers={"NGSILD-Tenant": "nowhere"})
    assert_problem(response, 404, "NonexistentTenant")


async def test_source_identity_returns_406_when_no_representation_fits(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(IDENTITY, headers={"Accept": "text/html"})
    assert_problem(response, 406, "InvalidRequest")


@pytest.mark.parametrize("settings_overrides", [{"hub_alias": ""}])
async def test_source_identity_returns_200_with_an_alias_made_from_the_id_when_none_is_set(
    client: httpx.AsyncClient,
) -> None:
    body = (await identity(client)).json()
    alias = body["contextSourceAlias"]
    assert alias.startswith("cityhub-")
    assert alias.removeprefix("cityhub-") in body["id"]
    assert re.fullmatch(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+", alias)  # an RFC 7230 pseudonym
