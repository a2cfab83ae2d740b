"""A regional hub answering across city hubs (issue 8, clause 4.3.6): real hubs as processes
on 127.0.0.1 — three city hubs on SQLite and a regional hub on SQLite or PostgreSQL that
registered them. Queries with q and geo across all, consistent pages, counts, retrieval,
merging, local=true, a dead source and a slow one (partial answers with NGSILD-Warning), and
a registration loop that ends."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.federation.hubs import (
    CORE,
    PARKING_CTX,
    Hub,
    link,
    load,
    parking,
    register,
    start_hub,
)
from tests.http_server import ContextServer
from tests.scenarios.test_serve import FreshDatabases

CITIES = {"seoul": (126.97, 37.56), "tokyo": (139.76, 35.68), "beijing": (116.40, 39.90)}
LOTS = 12
PARKING_LINK = link(PARKING_CTX)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def region(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Hub]]:
    """Three city hubs with LOTS car parks each (tenant = the city), and a regional hub
    (backend as parametrised) that registered them for OffStreetParking."""
    tmp = tmp_path_factory.mktemp(f"region-{request.param}")
    databases = FreshDatabases(tmp)
    hubs: dict[str, Hub] = {}
    try:
        for city in CITIES:
            hubs[city] = await start_hub(city, await databases.new("sqlite"), tmp)
        hubs["region"] = await start_hub(
            "region", await databases.new(request.param), tmp, workers=2
        )
        for city, (lon, lat) in CITIES.items():
            lots = [parking(city, n, lon + n * 0.001, lat, free=n * 5) for n in range(LOTS)]
            await load(hubs[city], city, lots)
            await register(hubs["region"], hubs[city], city, ["OffStreetParking"])
        yield hubs
    finally:
        for hub in hubs.values():
            await hub.server.stop()
        await databases.drop_all()


async def query(hub: Hub, **params: str) -> httpx.Response:
    async with hub.client() as http:
        return await http.get("/ngsi-ld/v1/entities", params=params, headers={"Link": PARKING_LINK})


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()]


async def test_query_entities_returns_200_with_the_entities_of_every_city(
    region: dict[str, Hub],
) -> None:
    found = ids(await query(region["region"], type="OffStreetParking", limit="100"))
    assert len(found) == 3 * LOTS
    assert found == sorted(found)
    assert {i.split(":")[3] for i in found} == set(CITIES)


async def test_query_entities_returns_200_filtered_by_q_and_geo_across_cities(
    region: dict[str, Hub],
) -> None:
    found = ids(
        await query(
            region["region"], type="OffStreetParking", q="availableSpotNumber>=40", limit="100"
        )
    )
    assert len(found) == 3 * len([n for n in range(LOTS) if n * 5 >= 40])
    lon, lat = CITIES["tokyo"]
    near = await query(
        region["region"],
        type="OffStreetParking",
        georel="near;maxDistance==300",
        geometry="Point",
        coordinates=f"[{lon},{lat}]",
        limit="100",
    )
    found = ids(near)
    assert found and all(":tokyo:" in i for i in found)
    assert len(found) == len([n for n in range(LOTS) if n * 0.001 * 90_000 <= 300])


async def test_query_entities_pages_are_consistent_and_counted(region: dict[str, Hub]) -> None:
    whole = ids(await query(region["region"], type="OffStreetParking", limit="100"))
    pages: list[str] = []
    for offset in range(0, 3 * LOTS, 7):
        response = await query(
            region["region"], type="OffStreetParking", limit="7", offset=str(offset), count="true"
        )
        assert response.headers["NGSILD-Results-Count"] == str(3 * LOTS)
        pages += ids(response)
    assert pages == whole


async def test_query_entities_with_local_true_answers_from_the_regional_store_alone(
    region: dict[str, Hub],
) -> None:
    assert ids(await query(region["region"], type="OffStreetParking", local="true")) == []


async def test_retrieve_entity_returns_200_from_the_city_that_holds_it(
    region: dict[str, Hub],
) -> None:
    entity_id = "urn:ngsi-ld:OffStreetParking:beijing:003"
    async with region["region"].client() as http:
        response = await http.get(
            f"/ngsi-ld/v1/entities/{entity_id}",
            params={"options": "keyValues"},
            headers={"Link": PARKING_LINK},
        )
        assert response.status_code == 200, response.text
        assert response.json()["availableSpotNumber"] == 15
        missing = await http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:OffStreetParking:nowhere:1")
        assert missing.status_code == 404


async def test_retrieve_entity_merges_two_sources_with_the_most_recent_value_winning(
    region: dict[str, Hub],
) -> None:
    entity_id = "urn:ngsi-ld:OffStreetParking:shared:001"
    older = parking("shared", 1, 127.0, 37.5, free=1, observed="2026-11-29T08:00:00Z")
    newer = parking("shared", 1, 127.0, 37.5, free=2, observed="2026-11-29T08:30:00Z")
    newer["capacityNote"] = {"type": "Property", "value": "only in tokyo's copy"}
    await load(region["seoul"], "seoul", [older])
    await load(region["tokyo"], "tokyo", [newer])
    async with region["region"].client() as http:
        response = await http.get(
            f"/ngsi-ld/v1/entities/{entity_id}",
            params={"options": "keyValues"},
            headers={"Link": PARKING_LINK},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["availableSpotNumber"] == 2
    assert body["capacityNote"] == "only in tokyo's copy"
    found = ids(await query(region["region"], type="OffStreetParking", id=entity_id))
    assert found == [entity_id]


async def test_query_entities_returns_200_with_a_warning_when_a_source_is_down(
    region: dict[str, Hub], tmp_path: Path
) -> None:
    databases = FreshDatabases(tmp_path)
    doomed = await start_hub("doomed", await databases.new("sqlite"), tmp_path)
    await load(doomed, "osaka", [parking("osaka", 1, 135.5, 34.7, free=9)])
    reg_id = await register(
        region["region"], doomed, "osaka", ["OffStreetParking"], region_tenant="kansai"
    )
    async with region["region"].client(**{"NGSILD-Tenant": "kansai"}) as http:
        first = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "OffStreetParking"},
            headers={"Link": PARKING_LINK},
        )
        assert ids(first) == ["urn:ngsi-ld:OffStreetParking:osaka:001"]
        os.kill(doomed.server.process.pid, signal.SIGKILL)
        doomed.server.process.wait()
        second = await http.get(
            "/ngsi-ld/v1/entities",
            params={"type": "OffStreetParking"},
            headers={"Link": PARKING_LINK},
        )
    assert second.status_code == 200
    assert second.json() == []
    assert reg_id in second.headers["NGSILD-Warning"]
    assert second.headers["NGSILD-Warning"].startswith("199 ")


async def test_query_entities_returns_200_with_a_warning_when_a_source_is_too_slow(
    region: dict[str, Hub],
) -> None:
    with ContextServer() as slow:
        slow.route("/ngsi-ld/v1/entities", [], content_type="application/json", delay=5.0)
        body: dict[str, Any] = {
            "id": "urn:ngsi-ld:ContextSourceRegistration:slow",
            "type": "ContextSourceRegistration",
            "information": [{"entities": [{"type": "OffStreetParking"}]}],
            "endpoint": slow.base,
            "management": {"timeout": 300},
            "@context": [PARKING_CTX, CORE],
        }
        async with region["region"].client(**{"NGSILD-Tenant": "slowland"}) as http:
            created = await http.post(
                "/ngsi-ld/v1/csourceRegistrations",
                json=body,
                headers={"Content-Type": "application/ld+json"},
            )
            assert created.status_code == 201, created.text
            response = await http.get(
                "/ngsi-ld/v1/entities",
                params={"type": "OffStreetParking"},
                headers={"Link": PARKING_LINK},
            )
        assert response.status_code == 200
        assert "slow" in response.headers["NGSILD-Warning"]
        assert "no answer within 0.3 s" in response.headers["NGSILD-Warning"]


async def test_registration_loop_between_two_hubs_ends(region: dict[str, Hub]) -> None:
    a, b = region["seoul"], region["tokyo"]
    await register(
        a,
        b,
        "loop",
        ["OffStreetParking"],
        reg_id="urn:ngsi-ld:ContextSourceRegistration:a-to-b",
        region_tenant="loop",
    )
    await register(
        b,
        a,
        "loop",
        ["OffStreetParking"],
        reg_id="urn:ngsi-ld:ContextSourceRegistration:b-to-a",
        region_tenant="loop",
    )
    await load(a, "loop", [parking("loop-a", 1, 127.0, 37.5, free=1)])
    await load(b, "loop", [parking("loop-b", 1, 139.7, 35.6, free=2)])
    async with a.client(**{"NGSILD-Tenant": "loop"}) as http:
        response = await asyncio.wait_for(
            http.get(
                "/ngsi-ld/v1/entities",
                params={"type": "OffStreetParking"},
                headers={"Link": PARKING_LINK},
            ),
            20,
        )
    assert ids(response) == [
        "urn:ngsi-ld:OffStreetParking:loop-a:001",
        "urn:ngsi-ld:OffStreetParking:loop-b:001",
    ]


async def test_discovery_returns_200_with_the_types_and_attributes_of_every_city(
    region: dict[str, Hub],
) -> None:
    async with region["region"].client() as http:
        types = await http.get("/ngsi-ld/v1/types", headers={"Link": PARKING_LINK})
        assert types.status_code == 200, types.text
        assert "OffStreetParking" in types.json()["typeList"]
        info = await http.get("/ngsi-ld/v1/types/OffStreetParking", headers={"Link": PARKING_LINK})
        assert info.status_code == 200, info.text
        assert info.json()["entityCount"] >= 3 * LOTS
        names = {a["attributeName"] for a in info.json()["attributeDetails"]}
        assert {"availableSpotNumber", "totalSpotNumber", "location"} <= names
        attributes = await http.get(
            "/ngsi-ld/v1/attributes", params={"details": "true"}, headers={"Link": PARKING_LINK}
        )
        assert attributes.status_code == 200
        free = next(a for a in attributes.json() if a["attributeName"] == "availableSpotNumber")
        assert free["attributeCount"] >= 3 * LOTS and free["typeNames"] == ["OffStreetParking"]
        missing = await http.get("/ngsi-ld/v1/types/Nothing")
        assert missing.status_code == 404


async def test_pages_through_an_entity_map_stay_consistent_while_cities_change(
    region: dict[str, Hub],
) -> None:
    """Clause 5.14: entityMap=true fixes which entities the pages hold and where each is
    held; the regional hub's two workers read the same map from its store."""
    whole = ids(await query(region["region"], type="OffStreetParking", limit="100"))
    first = await query(
        region["region"], type="OffStreetParking", limit="10", entityMap="true", count="true"
    )
    emap = first.headers["NGSILD-EntityMap"]
    assert first.headers["NGSILD-Results-Count"] == str(len(whole))
    early = parking("seoul", 0, 126.97, 37.56, free=1)
    early["id"] = "urn:ngsi-ld:OffStreetParking:aaa:000"  # sorts before every page
    await load(region["seoul"], "seoul", [early])
    try:
        pages = ids(first)
        for offset in range(10, len(whole), 10):
            async with region["region"].client() as http:
                response = await http.get(
                    "/ngsi-ld/v1/entities",
                    params={"type": "OffStreetParking", "limit": "10", "offset": str(offset)},
                    headers={"Link": PARKING_LINK, "NGSILD-EntityMap": emap},
                )
            assert response.headers["NGSILD-EntityMap"] == emap
            pages += ids(response)
        assert pages == whole
        async with region["region"].client() as http:
            body = (await http.get(f"/ngsi-ld/v1/entityMaps/{emap}")).json()
        held = body["entityMap"]
        assert list(held) == whole
        seoul = "urn:ngsi-ld:ContextSourceRegistration:seoul-seoul"
        assert held["urn:ngsi-ld:OffStreetParking:seoul:004"] == [seoul]
    finally:
        async with region["seoul"].client() as http:
            await http.delete(
                f"/ngsi-ld/v1/entities/{early['id']}", headers={"NGSILD-Tenant": "seoul"}
            )
