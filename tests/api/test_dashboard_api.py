"""The dashboard's JSON API (docs/dashboard.md) on SQLite and PostgreSQL: cities, layer
features, panel summaries, entity details and history, the comparison of cities, the live
feed of changed features, and its files; errors as ProblemDetails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from cityhub.app import create_app
from cityhub.hub import Hub
from tests.api.entity_requests import assert_problem
from tests.scenarios.test_serve import free_port

SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
API = "/dashboard/api"
CITY = "seoul"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(delta: timedelta = timedelta(0)) -> str:
    return (NOW + delta).isoformat()


def lot(n: int, free: int | None, total: int) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:OffStreetParking:test:{n}",
        "type": "OffStreetParking",
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"ko": f"주차장{n}", "en": f"Car park {n}"},
        },
        "totalSpotNumber": {"type": "Property", "value": total},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [126.97 + n / 1000, 37.56]},
        },
        "@context": [SDM.format("Parking"), CORE],
    }
    if free is not None:
        entity["availableSpotNumber"] = {"type": "Property", "value": free, "observedAt": iso()}
    return entity


def road(n: int, speed: float) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:test:{n}",
        "type": "TrafficFlowObserved",
        "averageVehicleSpeed": {
            "type": "Property",
            "value": speed,
            "unitCode": "KMH",
            "observedAt": iso(),
        },
        "location": {
            "type": "GeoProperty",
            "value": {"type": "LineString", "coordinates": [[126.97, 37.56], [126.98, 37.57]]},
        },
        "@context": [SDM.format("Transportation"), CORE],
    }


def alert(
    n: str, severity: str, *, valid_to: str | None = None, located: bool = True
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Alert:test:{n}",
        "type": "Alert",
        "category": {"type": "Property", "value": "weather"},
        "subCategory": {"type": "Property", "value": "rainfall"},
        "severity": {"type": "Property", "value": severity},
        "description": {
            "type": "LanguageProperty",
            "languageMap": {"ko": "호우 경보", "en": "Heavy rain"},
        },
        "dateIssued": {
            "type": "Property",
            "value": {"@type": "DateTime", "@value": iso(-timedelta(hours=1))},
        },
        "alertSource": {"type": "Property", "value": "test"},
        "@context": [SDM.format("Alert"), CORE],
    }
    if located:
        entity["location"] = {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [126.97, 37.56]},
        }
    if valid_to:
        entity["validTo"] = {"type": "Property", "value": {"@type": "DateTime", "@value": valid_to}}
    return entity


@pytest.fixture
async def city(client: httpx.AsyncClient) -> httpx.AsyncClient:
    entities = [
        lot(1, 10, 100),
        lot(2, 0, 50),
        lot(3, None, 500),
        road(1, 10.0),
        road(2, 50.0),
        alert("now", "high"),
        alert("worse", "critical", located=False),
        alert("over", "critical", valid_to=iso(-timedelta(minutes=1))),
    ]
    response = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert",
        content=orjson.dumps(entities),
        headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": CITY},
    )
    assert response.status_code == 201, response.text
    return client


async def test_config_returns_200_with_the_cities_and_layers(city: httpx.AsyncClient) -> None:
    response = await city.get(f"{API}/config")
    assert response.status_code == 200
    body = response.json()
    seoul = next(c for c in body["cities"] if c["tenant"] == CITY)
    assert seoul["name"]["ko"] == "서울" and seoul["timeZone"] == "Asia/Seoul"
    assert [layer["id"] for layer in body["layers"]] == [
        "traffic",
        "hazards",
        "parking",
        "air",
        "crowding",
        "shelters",
        "ev",
        "weather",
    ]
    assert {lang["tag"] for lang in body["languages"]} == {"en", "ja", "ko", "zh-Hans"}


async def test_layer_returns_200_with_features_named_in_the_language_asked(
    city: httpx.AsyncClient,
) -> None:
    response = await city.get(f"{API}/cities/{CITY}/layers/parking", params={"lang": "ko"})
    assert response.status_code == 200
    features = {f["id"]: f for f in response.json()["features"]}
    first = features["urn:ngsi-ld:OffStreetParking:test:1"]
    assert first["geometry"] == {"type": "Point", "coordinates": [126.971, 37.56]}
    props = first["properties"]
    assert (props["name"], props["free"], props["total"], props["occupancy"], props["level"]) == (
        "주차장1",
        10,
        100,
        0.9,
        2,
    )
    assert features["urn:ngsi-ld:OffStreetParking:test:3"]["properties"]["free"] is None
    english = await city.get(f"{API}/cities/{CITY}/layers/parking", params={"lang": "ja"})
    names = {f["properties"]["name"] for f in english.json()["features"]}
    assert "Car park 1" in names  # no Japanese name: English before the city's Korean
    traffic = await city.get(f"{API}/cities/{CITY}/layers/traffic")
    levels = {f["id"]: f["properties"]["level"] for f in traffic.json()["features"]}
    assert levels == {
        "urn:ngsi-ld:TrafficFlowObserved:test:1": 3,
        "urn:ngsi-ld:TrafficFlowObserved:test:2": 0,
    }


async def test_summary_returns_200_with_the_panel_figures(city: httpx.AsyncClient) -> None:
    response = await city.get(f"{API}/cities/{CITY}/summary", params={"lang": "en"})
    assert response.status_code == 200
    body = response.json()
    assert [a["id"].rsplit(":", 1)[-1] for a in body["alerts"]] == ["worse", "now"]
    assert body["alerts"][0]["located"] is False
    assert body["alerts"][1]["description"] == "Heavy rain"
    assert body["parking"] == {
        "lots": 3,
        "counted": 2,
        "free": 10,
        "total": 150,
        "occupancy": 0.933,
    }
    assert body["traffic"]["congestedShare"] == 0.5 and body["traffic"]["averageSpeed"] == 30.0


async def test_details_and_history_return_200_with_values_and_their_course(
    city: httpx.AsyncClient,
) -> None:
    entity_id = "urn:ngsi-ld:OffStreetParking:test:1"
    for minutes, free in ((-50, 30), (-20, 20)):
        patch = {
            "availableSpotNumber": {
                "type": "Property",
                "value": free,
                "observedAt": iso(timedelta(minutes=minutes)),
            },
            "@context": [SDM.format("Parking"), CORE],
        }
        response = await city.patch(
            f"/ngsi-ld/v1/entities/{entity_id}/attrs",
            content=orjson.dumps(patch),
            headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": CITY},
        )
        assert response.status_code == 204, response.text
    details = await city.get(f"{API}/cities/{CITY}/entities/{entity_id}", params={"lang": "en"})
    assert details.status_code == 200
    body = details.json()
    assert (body["name"], body["type"], body["layer"]) == (
        "Car park 1",
        "OffStreetParking",
        "parking",
    )
    attributes = {a["name"]: a for a in body["attributes"]}
    assert (
        attributes["availableSpotNumber"]["value"] == 20
        and attributes["availableSpotNumber"]["numeric"]
    )
    history = await city.get(
        f"{API}/cities/{CITY}/entities/{entity_id}/history",
        params={"attr": "availableSpotNumber", "period": "PT6H"},
    )
    assert history.status_code == 200
    assert [value for _, value in history.json()["points"]] == [30, 20, 10]


@pytest.mark.parametrize(
    ("path", "status", "problem"),
    [
        (f"{API}/cities/nowhere/summary", 404, "NonexistentTenant"),
        (f"{API}/cities/{CITY}/layers/rivers", 404, "ResourceNotFound"),
        (f"{API}/cities/{CITY}/entities/urn:ngsi-ld:X:none", 404, "ResourceNotFound"),
        (
            f"{API}/cities/{CITY}/entities/urn:ngsi-ld:OffStreetParking:test:1/history?attr=availableSpotNumber&period=P1Y",
            400,
            "BadRequestData",
        ),
        (f"{API}/compare?period=PT1M", 400, "BadRequestData"),
        ("/dashboard/vendor/maplibre-gl/package.json", 404, "ResourceNotFound"),
        ("/dashboard/vendor/../../settings.py", 404, "ResourceNotFound"),
        ("/dashboard/static/../routes.py", 404, "ResourceNotFound"),
    ],
)
async def test_dashboard_api_returns_problem_details_for_bad_requests(
    city: httpx.AsyncClient, path: str, status: int, problem: str
) -> None:
    response = await city.get(path)
    assert_problem(response, status, problem)


async def test_compare_returns_200_with_each_citys_figures_and_series(
    city: httpx.AsyncClient,
) -> None:
    response = await city.get(f"{API}/compare", params={"period": "P1D"})
    assert response.status_code == 200
    [seoul] = [c for c in response.json()["cities"] if c["tenant"] == CITY]
    assert seoul["now"]["parkingOccupancy"] == 0.933
    assert seoul["now"]["alerts"]["critical"] == 1 and seoul["now"]["alerts"]["high"] == 1
    [[_, speed]] = seoul["series"]["averageSpeed"]
    assert speed == 30.0
    [[_, occupancy]] = seoul["series"]["parkingOccupancy"]
    assert occupancy == pytest.approx(1 - 10 / 150, abs=0.001)


@pytest.fixture
async def served(hub: Hub) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(hub.settings, hub=hub),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    server.force_exit = True
    await asyncio.wait_for(task, 10)


async def test_live_streams_the_feature_an_api_change_made(
    city: httpx.AsyncClient, served: str
) -> None:
    entity_id = "urn:ngsi-ld:OffStreetParking:test:2"
    async with (
        httpx.AsyncClient(base_url=served, timeout=20) as http,
        http.stream("GET", f"{API}/cities/{CITY}/live", params={"lang": "en"}) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        patch = {
            "availableSpotNumber": {"type": "Property", "value": 7, "observedAt": iso()},
            "@context": [SDM.format("Parking"), CORE],
        }
        response = await http.patch(
            f"/ngsi-ld/v1/entities/{entity_id}/attrs",
            content=orjson.dumps(patch),
            headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": CITY},
        )
        assert response.status_code == 204, response.text
        event: dict[str, str] = {}
        async with asyncio.timeout(15):
            async for line in lines:
                if line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(":")
                    event[key] = value.strip()
                if line == "" and "data" in event:
                    break
    assert event["event"] == "change"
    feature = orjson.loads(event["data"])
    assert feature["id"] == entity_id
    assert (feature["properties"]["free"], feature["properties"]["total"]) == (7, 50)


async def test_live_returns_404_for_an_unknown_city(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/cities/nowhere/live"), 404, "NonexistentTenant")


async def test_page_returns_200_in_the_browsers_language(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    assert response.status_code == 200
    assert '<html lang="ko"' in response.text
    assert response.headers["content-language"] == "ko"
    chosen = await client.get(
        "/", params={"lang": "zh-Hans"}, headers={"Cookie": "cityhub_lang=ja"}
    )
    assert '<html lang="zh-Hans"' in chosen.text


async def test_vendor_file_returns_304_when_the_browser_has_this_version(
    client: httpx.AsyncClient,
) -> None:
    path = "/dashboard/vendor/uplot/dist/uPlot.min.css"
    first = await client.get(path)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/css")
    again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def _upsert(client: httpx.AsyncClient, entities: list[dict[str, Any]]) -> None:
    response = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert",
        content=orjson.dumps(entities),
        headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": CITY},
    )
    assert response.status_code in (201, 204), response.text


async def _parking_free(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(f"{API}/cities/{CITY}/layers/parking", params={"lang": "en"})
    assert response.status_code == 200
    return {f["id"]: f["properties"]["free"] for f in response.json()["features"]}


async def test_layer_follows_every_update_create_and_delete_of_its_entities(
    city: httpx.AsyncClient,
) -> None:
    """Layer answers are kept between changes (dashboard/data.py LayerCache): a change of any
    kind to an entity of the layer shows in the next answer, also through another route."""
    first = "urn:ngsi-ld:OffStreetParking:test:1"
    assert (await _parking_free(city))[first] == 10
    assert (await _parking_free(city))[first] == 10  # the kept answer
    await _upsert(city, [lot(1, 7, 100)])
    assert (await _parking_free(city))[first] == 7
    patch = await city.patch(
        f"/ngsi-ld/v1/entities/{first}/attrs/availableSpotNumber",
        content=orjson.dumps({"value": 6, "@context": [SDM.format("Parking"), CORE]}),
        headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": CITY},
    )
    assert patch.status_code == 204, patch.text
    assert (await _parking_free(city))[first] == 6
    await _upsert(city, [lot(9, 1, 10)])
    assert "urn:ngsi-ld:OffStreetParking:test:9" in await _parking_free(city)
    deleted = await city.delete(
        "/ngsi-ld/v1/entities/urn:ngsi-ld:OffStreetParking:test:2",
        headers={"NGSILD-Tenant": CITY},
    )
    assert deleted.status_code == 204
    assert "urn:ngsi-ld:OffStreetParking:test:2" not in await _parking_free(city)
    # A change to another layer's entities leaves this one as it was.
    await _upsert(city, [road(1, 80.0)])
    assert (await _parking_free(city))[first] == 6


async def test_summary_follows_a_change_of_its_entities(city: httpx.AsyncClient) -> None:
    before = (await city.get(f"{API}/cities/{CITY}/summary")).json()
    assert before["parking"]["free"] == 10
    await _upsert(city, [lot(1, 40, 100)])
    after = (await city.get(f"{API}/cities/{CITY}/summary")).json()
    assert after["parking"]["free"] == 40
    await _upsert(city, [alert("new", "medium")])
    alerts = (await city.get(f"{API}/cities/{CITY}/summary")).json()["alerts"]
    assert "urn:ngsi-ld:Alert:test:new" in {a["id"] for a in alerts}


async def test_basemap_returns_200_with_land_coasts_and_borders_around_the_city(
    city: httpx.AsyncClient,
) -> None:
    response = await city.get(f"{API}/cities/{CITY}/basemap")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    kinds = {f["properties"]["kind"] for f in body["features"]}
    assert kinds == {"land", "coast", "border"}  # Korea's coasts and its border with China
    # Seoul itself is on land; everything lies within reach of the city.
    from shapely.geometry import Point, shape

    land = [shape(f["geometry"]) for f in body["features"] if f["properties"]["kind"] == "land"]
    assert any(g.contains(Point(126.9769, 37.57)) for g in land)
    for feature in body["features"]:
        west, south, east, north = shape(feature["geometry"]).bounds
        assert west >= 116.9 and east <= 137.0 and south >= 29.5 and north <= 45.6
    again = await city.get(
        f"{API}/cities/{CITY}/basemap", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_basemap_keeps_detail_near_the_city_and_thins_it_farther_away(
    city: httpx.AsyncClient,
) -> None:
    """Detail falls with distance (dashboard/basemap.py): fine within ~150 km of the city,
    coarse beyond, with no gap in the land where the two meet."""
    from shapely import get_num_coordinates, union_all
    from shapely.geometry import Point, box, shape

    body = (await city.get(f"{API}/cities/{CITY}/basemap")).json()
    shapes = [(f["properties"]["kind"], shape(f["geometry"])) for f in body["features"]]
    land = union_all([g for kind, g in shapes if kind == "land"])
    # Either side of the near box's east edge (Seoul + 1.5° of longitude), inland Korea.
    assert land.contains(Point(128.40, 37.0)) and land.contains(Point(128.56, 37.0))
    near = box(126.978 - 1.5, 37.5665 - 1.2, 126.978 + 1.5, 37.5665 + 1.2)
    coasts = [g for kind, g in shapes if kind == "coast"]
    near_points = sum(int(get_num_coordinates(g.intersection(near))) for g in coasts)
    far_points = sum(int(get_num_coordinates(g.difference(near))) for g in coasts)
    near_km = sum(g.intersection(near).length for g in coasts) * 111
    far_km = sum(g.difference(near).length for g in coasts) * 111
    # ~200 m detail near the city, ~2 km farther: several times more points per km near.
    assert near_points / near_km > 3 * far_points / far_km
    assert sum(int(get_num_coordinates(g)) for _, g in shapes) < 10_000


async def test_basemap_returns_404_for_an_unknown_city(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/cities/nowhere/basemap"), 404, "ResourceNotFound")
