"""IoT device provisioning (FIWARE IoT Agent north API: /iot/services, /iot/devices) on
SQLite and PostgreSQL: service groups with API keys, devices with mappings and static
attributes (their entity is made at provisioning), tenants apart, and every error."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.entity_requests import assert_problem, fetch

SERVICES = "/iot/services"
DEVICES = "/iot/devices"


def key() -> str:
    return f"k{uuid.uuid4().hex[:12]}"


def service(apikey: str, **extra: Any) -> dict[str, Any]:
    return {
        "apikey": apikey,
        "entity_type": "TrafficFlowObserved",
        "attributes": [
            {"object_id": "s", "name": "averageVehicleSpeed", "type": "Number", "unitCode": "KMH"}
        ],
        "static_attributes": [
            {"name": "location", "type": "geo:point", "value": "37.5701, 126.9799"}
        ],
        **extra,
    }


async def provision(client: httpx.AsyncClient, apikey: str, tenant: str | None = None) -> None:
    headers = {"NGSILD-Tenant": tenant} if tenant else {}
    response = await client.post(SERVICES, json={"services": [service(apikey)]}, headers=headers)
    assert response.status_code == 201, response.text


async def test_create_services_returns_201_and_lists_them(client: httpx.AsyncClient) -> None:
    apikey = key()
    await provision(client, apikey)
    listed = await client.get(SERVICES)
    assert listed.status_code == 200
    found = {s["apikey"]: s for s in listed.json()["services"]}
    assert found[apikey]["entity_type"] == "TrafficFlowObserved"
    assert found[apikey]["attributes"][0] == {
        "object_id": "s",
        "name": "averageVehicleSpeed",
        "type": "Number",
        "unitCode": "KMH",
    }


async def test_create_services_returns_409_when_the_apikey_is_taken_in_any_tenant(
    client: httpx.AsyncClient,
) -> None:
    apikey = key()
    await provision(client, apikey)
    again = await client.post(
        SERVICES, json={"services": [service(apikey)]}, headers={"NGSILD-Tenant": "osaka"}
    )
    assert_problem(again, 409, "AlreadyExists")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"services": []},
        {"services": [{"entity_type": "T"}]},
        {"services": [{"apikey": "bad key/with slash", "entity_type": "T"}]},
        {"services": [{"apikey": "k1", "attributes": []}]},
        {
            "services": [
                {"apikey": "k1", "entity_type": "T", "attributes": [{"name": "a", "type": "Nope"}]}
            ]
        },
        {"services": [{"apikey": "k1", "entity_type": "T", "attributes": "s"}]},
        {"services": [{"apikey": "k1", "entity_type": "T", "static_attributes": [{"name": "x"}]}]},
        {"services": [{"apikey": "k1", "entity_type": "T", "explicitAttrs": "yes"}]},
        {"services": [{"apikey": "k1", "entity_type": "T"}, {"apikey": "k1", "entity_type": "T"}]},
    ],
)
async def test_create_services_returns_400_when_the_body_is_invalid(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_problem(await client.post(SERVICES, json=body), 400, "BadRequestData")


async def test_delete_service_returns_204_then_404(client: httpx.AsyncClient) -> None:
    apikey = key()
    await provision(client, apikey)
    assert (await client.delete(SERVICES, params={"apikey": apikey})).status_code == 204
    assert_problem(
        await client.delete(SERVICES, params={"apikey": apikey}), 404, "ResourceNotFound"
    )
    assert_problem(await client.delete(SERVICES), 400, "BadRequestData")


async def test_create_devices_returns_201_and_makes_the_entity_with_static_attributes(
    client: httpx.AsyncClient,
) -> None:
    apikey = key()
    await provision(client, apikey)
    device_id = f"sensor-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        DEVICES, json={"devices": [{"device_id": device_id, "apikey": apikey}]}
    )
    assert response.status_code == 201, response.text
    entity = await fetch(client, f"urn:ngsi-ld:TrafficFlowObserved:{device_id}")
    assert entity["location"]["value"] == {"type": "Point", "coordinates": [126.9799, 37.5701]}
    got = await client.get(f"{DEVICES}/{device_id}")
    assert got.status_code == 200
    assert got.json()["entity_name"] == f"urn:ngsi-ld:TrafficFlowObserved:{device_id}"
    listed = (await client.get(DEVICES, params={"limit": "1"})).json()
    assert listed["count"] >= 1 and len(listed["devices"]) == 1


async def test_create_devices_returns_409_and_stores_none_when_one_exists(
    client: httpx.AsyncClient,
) -> None:
    apikey = key()
    await provision(client, apikey)
    first = f"d-{uuid.uuid4().hex[:8]}"
    fresh = f"d-{uuid.uuid4().hex[:8]}"
    body = {"devices": [{"device_id": first, "apikey": apikey}]}
    assert (await client.post(DEVICES, json=body)).status_code == 201
    both = {
        "devices": [{"device_id": fresh, "apikey": apikey}, {"device_id": first, "apikey": apikey}]
    }
    assert_problem(await client.post(DEVICES, json=both), 409, "AlreadyExists")
    assert_problem(await client.get(f"{DEVICES}/{fresh}"), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    "device",
    [
        {"device_id": "d1"},
        {"device_id": "d1", "apikey": 5},
        {"device_id": "", "apikey": "APIKEY"},
        {"device_id": "d1", "apikey": "APIKEY", "entity_name": "not a uri"},
        {"device_id": "d1", "apikey": "APIKEY", "attributes": [{"object_id": "x"}]},
    ],
)
async def test_create_devices_returns_400_when_a_device_is_invalid(
    client: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    apikey = key()
    await provision(client, apikey)
    body = {"devices": [{k: (apikey if v == "APIKEY" else v) for k, v in device.items()}]}
    assert_problem(await client.post(DEVICES, json=body), 400, "BadRequestData")


async def test_create_devices_returns_404_when_the_apikey_is_another_tenants(
    client: httpx.AsyncClient,
) -> None:
    apikey = key()
    await provision(client, apikey, tenant="kyoto")
    body = {"devices": [{"device_id": "d1", "apikey": apikey}]}
    assert_problem(await client.post(DEVICES, json=body), 404, "ResourceNotFound")
    assert_problem(
        await client.post(DEVICES, json={"devices": [{"device_id": "d1", "apikey": key()}]}),
        404,
        "ResourceNotFound",
    )


async def test_delete_device_returns_204_then_404(client: httpx.AsyncClient) -> None:
    apikey = key()
    await provision(client, apikey)
    device_id = f"d-{uuid.uuid4().hex[:8]}"
    body = {"devices": [{"device_id": device_id, "apikey": apikey}]}
    assert (await client.post(DEVICES, json=body)).status_code == 201
    assert (await client.delete(f"{DEVICES}/{device_id}")).status_code == 204
    assert_problem(await client.delete(f"{DEVICES}/{device_id}"), 404, "ResourceNotFound")
    assert_problem(await client.get(f"{DEVICES}/{device_id}"), 404, "ResourceNotFound")
