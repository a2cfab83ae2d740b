"""Temporal answers in the concise form and projected with pick/omit (clauses 4.5.x concise
temporal representation, 4.21 projection), on both stores."""

from __future__ import annotations

import httpx
import pytest

from tests.api.entity_requests import assert_problem
from tests.api.temporal_requests import EVER, TEMPORAL, temporal_url, unique


@pytest.fixture
async def vehicle(client: httpx.AsyncClient) -> str:
    entity_id = f"urn:ngsi-ld:Vehicle:{unique()}"
    body = {
        "id": entity_id,
        "type": "Vehicle",
        "speed": [
            {"type": "Property", "value": 80, "observedAt": "2020-08-01T12:03:00Z"},
            {"type": "Property", "value": 90, "observedAt": "2020-08-01T12:05:00Z"},
        ],
        "driver": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Person:1",
            "observedAt": "2020-08-01T12:03:00Z",
        },
    }
    response = await client.post(TEMPORAL, json=body)
    assert response.status_code == 201, response.text
    return entity_id


async def test_retrieve_temporal_returns_concise_instances_without_implied_types(
    client: httpx.AsyncClient, vehicle: str
) -> None:
    response = await client.get(temporal_url(vehicle), params={"options": "concise"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["value"], "type" in i) for i in body["speed"]] == [(80, False), (90, False)]
    assert body["driver"][0]["object"] == "urn:ngsi-ld:Person:1" and "type" not in body["driver"][0]
    assert all(i["instanceId"].startswith("urn:") for i in body["speed"])


@pytest.mark.parametrize(
    ("params", "members"),
    [
        ({"pick": "id,speed"}, {"id", "speed"}),
        ({"pick": "type,driver"}, {"type", "driver"}),
        ({"omit": "speed"}, {"id", "type", "driver"}),
        ({"omit": "id,driver"}, {"type", "speed"}),
    ],
)
async def test_retrieve_temporal_returns_only_the_picked_members(
    client: httpx.AsyncClient, vehicle: str, params: dict[str, str], members: set[str]
) -> None:
    response = await client.get(temporal_url(vehicle), params=params)
    assert response.status_code == 200, response.text
    assert set(response.json()) == members


async def test_query_temporal_applies_pick_to_every_entity(
    client: httpx.AsyncClient, vehicle: str
) -> None:
    params = {"id": vehicle, "pick": "id,driver", **EVER}
    response = await client.get(TEMPORAL, params=params)
    assert response.status_code == 200, response.text
    assert [set(item) for item in response.json()] == [{"id", "driver"}]


@pytest.mark.parametrize(
    "params",
    [{"pick": "speed", "omit": "driver"}, {"pick": "speed", "attrs": "speed"}],
)
async def test_retrieve_temporal_returns_400_when_projections_clash(
    client: httpx.AsyncClient, vehicle: str, params: dict[str, str]
) -> None:
    assert_problem(await client.get(temporal_url(vehicle), params=params), 400, "BadRequestData")


async def test_retrieve_temporal_returns_404_when_omit_leaves_nothing(
    client: httpx.AsyncClient, vehicle: str
) -> None:
    params = {"omit": "id,type,speed,driver"}
    assert_problem(await client.get(temporal_url(vehicle), params=params), 404, "ResourceNotFound")
