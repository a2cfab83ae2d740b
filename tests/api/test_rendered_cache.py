"""Retrieve Entity (5.7.1) with the per-worker cache of rendered responses (api/rendered.py):
a worker never shows an entity other than the one stored now, whoever changed it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cityhub.api.rendered import cache_of
from cityhub.app import create_app
from cityhub.hub import Hub
from cityhub.storage.base import Store
from tests.api.entity_requests import CORE_CONTEXT, JSON, create, entity_url, fetch
from tests.conftest import test_settings

LINK = '<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def parking(entity_id: str, spots: Any) -> dict[str, Any]:
    return {
        "id": entity_id,
        "type": "OffStreetParking",
        "availableSpotNumber": {"type": "Property", "value": spots},
        "name": {"type": "LanguageProperty", "languageMap": {"en": "Gate", "ja": "門"}},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.5, 2.5]}},
    }


@pytest.fixture
async def other_worker(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """A second hub on the same database with a store of its own, as another worker process
    (or machine) would have."""
    settings = test_settings(store)
    hub = Hub(settings)
    await hub.open(migrate=False)
    transport = httpx.ASGITransport(app=create_app(settings, hub=hub))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            yield http
    finally:
        await hub.close()


async def test_retrieve_entity_returns_200_with_the_update_another_worker_made(
    client: httpx.AsyncClient, other_worker: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, parking(entity_id, 10))
    for _ in range(2):  # the second read is served from this worker's cache
        assert (await fetch(client, entity_id))["availableSpotNumber"]["value"] == 10
    for spots in (11, 12, 10):
        response = await other_worker.patch(
            entity_url(entity_id, ""),
            json={"availableSpotNumber": {"type": "Property", "value": spots}},
            headers=JSON,
        )
        assert response.status_code == 204, response.text
        assert (await fetch(client, entity_id))["availableSpotNumber"]["value"] == spots
        assert (await fetch(other_worker, entity_id))["availableSpotNumber"]["value"] == spots


async def test_retrieve_entity_returns_404_after_another_worker_deleted_it(
    client: httpx.AsyncClient, other_worker: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, parking(entity_id, 10))
    await fetch(client, entity_id)
    await fetch(client, entity_id)
    assert (await other_worker.delete(entity_url(entity_id))).status_code == 204
    assert (await client.get(entity_url(entity_id))).status_code == 404
    await create(other_worker, parking(entity_id, 3))
    assert (await fetch(client, entity_id))["availableSpotNumber"]["value"] == 3


@pytest.mark.parametrize(("before", "after"), [(1, True), (1, 1.0), (0, False), (2.0, 2)])
async def test_retrieve_entity_returns_200_with_a_change_python_equality_misses(
    hub: Hub, client: httpx.AsyncClient, entity_id: str, before: Any, after: Any
) -> None:
    """1 == 1.0 == True in Python, and a write may keep modifiedAt (same microsecond, another
    clock): neither may make a stale response look current."""
    await create(client, parking(entity_id, before))
    first = (await client.get(entity_url(entity_id))).content
    assert (await client.get(entity_url(entity_id))).content == first
    async with hub.store.transaction("") as uow:
        stored = await uow.get(entity_id)
        assert stored is not None
        stored[next(k for k in stored if k.endswith("availableSpotNumber"))][0]["value"] = after
        await uow.update([stored])  # modifiedAt and every timestamp unchanged
    body = (await client.get(entity_url(entity_id))).json()
    assert body["availableSpotNumber"]["value"] == after
    assert type(body["availableSpotNumber"]["value"]) is type(after)


async def test_retrieve_entity_returns_each_representation_asked_for(
    hub: Hub, client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, parking(entity_id, 7))
    asked = [
        ({}, {}),
        ({"options": "keyValues"}, {}),
        ({"options": "concise"}, {}),
        ({"options": "sysAttrs"}, {}),
        ({"attrs": "name"}, {}),
        ({"lang": "ja"}, {}),
        ({}, {"Accept": "application/ld+json"}),
        ({}, {"Accept": "application/geo+json"}),
        ({}, {"Link": LINK.format(url=CORE_CONTEXT)}),
    ]
    first = []
    for params, headers in asked:
        response = await client.get(entity_url(entity_id), params=params, headers=headers)
        first.append((response.status_code, response.headers.get("content-type"), response.text))
    for (params, headers), seen in zip(asked, first, strict=True):
        response = await client.get(entity_url(entity_id), params=params, headers=headers)
        assert (response.status_code, response.headers.get("content-type"), response.text) == seen
    assert first[1][2] != first[0][2] != first[2][2]
    assert '"availableSpotNumber":7' in first[1][2]
    assert "sysAttrs" not in first[0][2] and "createdAt" in first[3][2]
    assert "@context" in first[6][2] and '"Feature"' in first[7][2]
    assert len(cache_of(hub)) == sum(status == 200 for status, _, _ in first)


async def test_retrieve_entity_returns_400_for_bad_parameters_every_time(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, parking(entity_id, 7))
    for _ in range(2):
        response = await client.get(entity_url(entity_id), params={"options": "nope"})
        assert response.status_code == 400
        response = await client.get(entity_url(entity_id), params={"type": "Nope"})
        assert response.status_code == 404
        assert (await client.get(entity_url(entity_id))).status_code == 200


async def test_retrieve_entity_returns_each_tenants_entity(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, parking(entity_id, 1))
    response = await client.post(
        "/ngsi-ld/v1/entities",
        json=parking(entity_id, 2),
        headers={**JSON, "NGSILD-Tenant": "other"},
    )
    assert response.status_code == 201
    for _ in range(2):
        assert (await fetch(client, entity_id))["availableSpotNumber"]["value"] == 1
        response = await client.get(entity_url(entity_id), headers={"NGSILD-Tenant": "other"})
        assert response.json()["availableSpotNumber"]["value"] == 2
        assert response.headers["NGSILD-Tenant"] == "other"
