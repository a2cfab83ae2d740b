"""First end-to-end checks of create/retrieve on both stores."""

from __future__ import annotations

import httpx

JSON = {"Content-Type": "application/json"}


async def test_create_entity_returns_201_and_retrieve_returns_it(client: httpx.AsyncClient) -> None:
    body = {
        "id": "urn:ngsi-ld:OffStreetParking:1",
        "type": "OffStreetParking",
        "availableSpotNumber": {"type": "Property", "value": 12},
    }
    created = await client.post("/ngsi-ld/v1/entities", json=body, headers=JSON)
    assert created.status_code == 201
    assert created.headers["location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:OffStreetParking:1"
    got = await client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:OffStreetParking:1")
    assert got.status_code == 200
    assert got.json() == body


async def test_create_entity_returns_409_when_it_exists(client: httpx.AsyncClient) -> None:
    body = {"id": "urn:ngsi-ld:T:1", "type": "T"}
    assert (await client.post("/ngsi-ld/v1/entities", json=body)).status_code == 201
    again = await client.post("/ngsi-ld/v1/entities", json=body)
    assert again.status_code == 409
    assert again.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"
