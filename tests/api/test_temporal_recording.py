"""Recording goes on after the history of a living entity was deleted (clause 5.6.16 then
5.6.2): the entity's record is gone, its next changes are still found by id."""

from __future__ import annotations

import httpx

from tests.api.entity_requests import ENTITIES, JSON, assert_problem, entity_url
from tests.api.temporal_requests import EVER, temporal_url, unique


async def test_retrieve_temporal_returns_changes_made_after_its_history_was_deleted(
    client: httpx.AsyncClient,
) -> None:
    entity_id = f"urn:ngsi-ld:Sensor:{unique()}"
    body = {
        "id": entity_id,
        "type": "Sensor",
        "temperature": {"type": "Property", "value": 20, "observedAt": "2020-08-01T12:00:00Z"},
    }
    assert (await client.post(ENTITIES, json=body, headers=JSON)).status_code == 201
    assert (await client.delete(temporal_url(entity_id))).status_code == 204
    assert_problem(await client.get(temporal_url(entity_id), params=EVER), 404, "ResourceNotFound")
    update = {
        "temperature": {"type": "Property", "value": 23, "observedAt": "2020-08-01T13:00:00Z"}
    }
    response = await client.patch(entity_url(entity_id, ""), json=update, headers=JSON)
    assert response.status_code == 204, response.text
    found = await client.get(temporal_url(entity_id), params=EVER)
    assert found.status_code == 200, found.text
    assert found.json()["type"] == "Sensor"
    assert [i["value"] for i in found.json()["temperature"]] == [23]
