"""A city hub's sharing policy (issue 8): a partner hub reads only the entity types and
attributes shared with it — directly and through a regional hub that registered the city —
and nothing else: no other type, no hidden attribute, no filter on a hidden attribute, no
writes, no other API; keys are checked. The city hub runs as a real process on SQLite or
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.federation.hubs import (
    PARKING_CTX,
    TRANSPORT_CTX,
    Hub,
    crowd,
    link,
    parking,
    register,
    start_hub,
)
from tests.scenarios.test_serve import FreshDatabases

ADMIN = "admin-key-0123456789abcdef"
PARTNER = "region-key-0123456789abcdef"
CONFIG = f"""
admin_key = "{ADMIN}"

[[partners]]
name = "region"
key = "{PARTNER}"
types = ["OffStreetParking"]

[partners.attributes]
OffStreetParking = ["availableSpotNumber", "name", "location"]
"""
PARKING_LINK = link(PARKING_CTX)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Hub]]:
    tmp: Path = tmp_path_factory.mktemp(f"sharing-{request.param}")
    databases = FreshDatabases(tmp)
    started: dict[str, Hub] = {}
    try:
        started["city"] = await start_hub(
            "city", await databases.new(request.param), tmp, config=CONFIG
        )
        started["region"] = await start_hub("region", await databases.new("sqlite"), tmp)
        lot = parking("seoul", 1, 126.97, 37.56, free=30)
        lot["priceNote"] = {"type": "Property", "value": "internal tariff"}
        async with started["city"].client(Authorization=f"Bearer {ADMIN}") as http:
            response = await http.post(
                "/ngsi-ld/v1/entityOperations/upsert",
                content=orjson.dumps([lot, crowd("seoul", 1, 900)]),
                headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": "seoul"},
            )
            assert response.status_code == 201, response.text
        await register(
            started["region"],
            started["city"],
            "seoul",
            ["OffStreetParking", "CrowdFlowObserved"],
            extra={"contextSourceInfo": [{"key": "Authorization", "value": f"Bearer {PARTNER}"}]},
        )
        yield started
    finally:
        for hub in started.values():
            await hub.server.stop()
        await databases.drop_all()


def partner_client(hub: Hub) -> httpx.AsyncClient:
    return hub.client(Authorization=f"Bearer {PARTNER}", **{"NGSILD-Tenant": "seoul"})


async def test_request_returns_401_without_a_key_or_with_an_unknown_one(
    hubs: dict[str, Hub],
) -> None:
    async with hubs["city"].client(**{"NGSILD-Tenant": "seoul"}) as http:
        response = await http.get("/ngsi-ld/v1/entities", params={"type": "OffStreetParking"})
        assert response.status_code == 401
        assert response.json()["type"] == "urn:cityhub:errors:Unauthorized"
        wrong = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "OffStreetParking"},
            headers={"Authorization": "Bearer nope"},
        )
        assert wrong.status_code == 401


async def test_partner_query_returns_only_shared_types_and_attributes(hubs: dict[str, Hub]) -> None:
    async with partner_client(hubs["city"]) as http:
        lots = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "OffStreetParking", "options": "keyValues"},
            headers={"Link": PARKING_LINK},
        )
        assert lots.status_code == 200, lots.text
        [lot] = lots.json()
        assert set(lot) == {"id", "type", "name", "availableSpotNumber", "location"}
        crowds = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "CrowdFlowObserved"},
            headers={"Link": link(TRANSPORT_CTX)},
        )
        assert crowds.status_code == 200 and crowds.json() == []
        everything = await http.get("/ngsi-ld/v1/entities", params={"idPattern": ".*"})
        assert [e["id"] for e in everything.json()] == [lot["id"]]
        hidden = await http.get(f"/ngsi-ld/v1/entities/{crowd('seoul', 1, 0)['id']}")
        assert hidden.status_code == 404


async def test_partner_filter_on_a_hidden_attribute_returns_403(hubs: dict[str, Hub]) -> None:
    async with partner_client(hubs["city"]) as http:
        response = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "OffStreetParking", "q": 'priceNote=="internal tariff"'},
            headers={"Link": PARKING_LINK},
        )
    assert response.status_code == 403
    assert response.json()["type"] == "urn:cityhub:errors:NotShared"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/ngsi-ld/v1/entities"),
        ("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:OffStreetParking:seoul:001"),
        ("POST", "/ngsi-ld/v1/entityOperations/upsert"),
        ("GET", "/ngsi-ld/v1/subscriptions"),
        ("POST", "/ngsi-ld/v1/subscriptions"),
        ("POST", "/ngsi-ld/v1/temporal/entities"),
        ("GET", "/ngsi-ld/v1/attributes?details=true"),
        ("GET", "/ngsi-ld/v1/csourceRegistrations"),
    ],
)
async def test_partner_request_outside_the_shared_reads_returns_403(
    hubs: dict[str, Hub], method: str, path: str
) -> None:
    async with partner_client(hubs["city"]) as http:
        response = await http.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == 403, response.text
    async with hubs["city"].client(
        Authorization=f"Bearer {ADMIN}", **{"NGSILD-Tenant": "seoul"}
    ) as http:
        lot = await http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:OffStreetParking:seoul:001")
    assert lot.status_code == 200  # nothing was changed


async def test_regional_query_sees_only_what_the_city_shares(hubs: dict[str, Hub]) -> None:
    async with hubs["region"].client() as http:
        lots = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "OffStreetParking", "options": "keyValues"},
            headers={"Link": PARKING_LINK},
        )
        assert lots.status_code == 200, lots.text
        [lot] = lots.json()
        assert "priceNote" not in lot and lot["availableSpotNumber"] == 30
        crowds = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "CrowdFlowObserved"},
            headers={"Link": link(TRANSPORT_CTX)},
        )
        assert crowds.status_code == 200 and crowds.json() == []
        assert "NGSILD-Warning" not in crowds.headers


async def test_partner_discovery_returns_only_shared_types_and_attributes(
    hubs: dict[str, Hub],
) -> None:
    async with partner_client(hubs["city"]) as http:
        types = await http.get("/ngsi-ld/v1/types", headers={"Link": PARKING_LINK})
        assert types.status_code == 200, types.text
        assert types.json()["typeList"] == ["OffStreetParking"]
        info = await http.get("/ngsi-ld/v1/types/OffStreetParking", headers={"Link": PARKING_LINK})
        names = {a["attributeName"] for a in info.json()["attributeDetails"]}
        assert names == {"availableSpotNumber", "name", "location"}
        hidden = await http.get(
            "/ngsi-ld/v1/types/CrowdFlowObserved", headers={"Link": link(TRANSPORT_CTX)}
        )
        assert hidden.status_code == 404
        attributes = await http.get("/ngsi-ld/v1/attributes", headers={"Link": PARKING_LINK})
        assert sorted(attributes.json()["attributeList"]) == [
            "availableSpotNumber",
            "location",
            "name",
        ]
