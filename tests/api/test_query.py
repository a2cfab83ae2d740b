"""Query Entities through HTTP: GET /entities and POST /entityOperations/query (clause 5.7.2),
with q (4.9), geoQ (4.10), type expressions (4.17), scopeQ (4.19), pagination (5.5.9),
counting (6.3.13), representations and errors. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.api.entity_requests import ENTITIES, JSON, assert_problem, create
from tests.http_server import ContextServer
from tests.query.seeds import seed_entities

QUERY = "/ngsi-ld/v1/entityOperations/query"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
R1, R2 = "urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2"
P1, P2 = "urn:ngsi-ld:OffStreetParking:1", "urn:ngsi-ld:OffStreetParking:2"
A1 = "urn:ngsi-ld:Alert:1"
EX = "https://example.org/city/"
TOKYO_BOX = "[[[139.7,35.65],[139.8,35.65],[139.8,35.7],[139.7,35.7],[139.7,35.65]]]"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"context_allow_hosts": "127.0.0.1", "query_max_limit": 50}


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> None:
    for entity in seed_entities():
        await create(client, entity)


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'}


async def ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get(ENTITIES, params=params)
    assert response.status_code == 200, response.text
    return [entity["id"] for entity in response.json()]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "Road"}, [R1, R2]),
        ({"type": "Road,Alert"}, [A1, R1, R2]),
        ({"type": "Road|Alert"}, [A1, R1, R2]),
        ({"type": "OffStreetParking;Facility"}, [P2]),
        ({"type": "(OffStreetParking;Facility),Alert"}, [A1, P2]),
        ({"id": f"{R1},{A1}"}, [A1, R1]),
        ({"idPattern": "^urn:ngsi-ld:Road:"}, [R1, R2]),
        ({"type": "Road", "q": "speed>20"}, [R1]),
        ({"q": 'name[ja]=="銀座通り"'}, [R2]),
        ({"q": "availableSpotNumber.reliability>0.5"}, [P1]),
        ({"attrs": "tags,operators"}, [P2, R2]),
        ({"scopeQ": "/Seoul/#"}, [P2, R1]),
        ({"scopeQ": "/Beijing/+,/Tokyo/Chuo"}, [P1, R2]),
        ({"scopeQ": "/Beijing/Dongcheng;/Beijing/Parking/#"}, [P1]),
        (
            {
                "georel": "near;maxDistance==200",
                "geometry": "Point",
                "coordinates": "[126.9780,37.5665]",
            },
            [P2, R1],
        ),
        (
            {
                "georel": "near;minDistance==1000",
                "geometry": "Point",
                "coordinates": "[126.9780,37.5665]",
                "type": "Road",
            },
            [R2],
        ),
        (
            {
                "georel": "within",
                "geometry": "Polygon",
                "coordinates": TOKYO_BOX,
            },
            [A1, R2],
        ),
        (
            {
                "type": "Road",
                "q": "lanes<3",
                "georel": "intersects",
                "geometry": "Polygon",
                "coordinates": TOKYO_BOX,
            },
            [R2],
        ),
    ],
)
async def test_query_entities_returns_200_with_the_matching_entities_in_id_order(
    client: httpx.AsyncClient, params: dict[str, str], expected: list[str]
) -> None:
    assert await ids(client, **params) == expected


@pytest.mark.usefixtures("seeded")
async def test_query_entities_returns_200_with_normalized_entities_and_the_context_link(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(ENTITIES, params={"type": "Alert"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert CONTEXT_REL in response.headers["link"]
    (alert,) = response.json()
    assert alert["severity"] == {"type": "Property", "value": "critical"}
    assert alert["location"]["type"] == "GeoProperty"


@pytest.mark.usefixtures("seeded")
async def test_query_entities_returns_200_in_keyvalues_with_projection_and_language(
    client: httpx.AsyncClient,
) -> None:
    params = {"type": "Road", "options": "keyValues", "pick": "id,name,speed", "lang": "ja"}
    response = await client.get(ENTITIES, params=params)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"id": R1, "name": ["世宗大路", "セジョン"], "speed": 50},
        {"id": R2, "name": "銀座通り", "speed": 12.5},
    ]


@pytest.mark.usefixtures("seeded")
async def test_query_entities_returns_200_with_context_in_each_item_for_json_ld(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        ENTITIES, params={"type": "Road"}, headers={"Accept": "application/ld+json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    assert all("@context" in item for item in response.json())


@pytest.mark.usefixtures("seeded")
async def test_query_entities_returns_a_feature_collection_for_geo_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        ENTITIES,
        params={"type": "Road", "options": "keyValues"},
        headers={"Accept": "application/geo+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == [R1, R2]
    assert body["features"][0]["geometry"]["type"] == "LineString"
    assert body["features"][0]["properties"]["speed"] == 50


@pytest.mark.usefixtures("seeded")
async def test_query_entities_returns_the_count_and_page_links(client: httpx.AsyncClient) -> None:
    response = await client.get(
        ENTITIES, params={"idPattern": "urn", "limit": "2", "offset": "2", "count": "true"}
    )
    assert response.status_code == 200
    assert response.headers["NGSILD-Results-Count"] == "5"
    assert [e["id"] for e in response.json()] == [P2, R1]
    links = {}
    for value in response.headers.get_list("link"):
        for part in value.split(", <"):
            target, *params = (p.strip() for p in part.split(";"))
            members = dict(p.split("=", 1) for p in params)
            if members.get("rel", "").strip('"') in {"next", "prev"}:
                assert members["type"].strip('"') == "application/json"  # the response's type
                links[members["rel"].strip('"')] = target.strip("<>")
    assert parse_qs(urlsplit(links["next"]).query)["offset"] == ["4"]
    assert parse_qs(urlsplit(links["prev"]).query)["offset"] == ["0"]
    last = await client.get(links["next"])
    assert [e["id"] for e in last.json()] == [R2]
    assert all('rel="next"' not in v for v in last.headers.get_list("link"))


@pytest.mark.usefixtures("seeded")
async def test_query_entities_returns_only_the_count_when_limit_is_zero(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(ENTITIES, params={"type": "Road", "limit": "0", "count": "true"})
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["NGSILD-Results-Count"] == "2"


async def test_query_entities_resolves_names_with_the_link_context(
    client: httpx.AsyncClient, ctx_server: ContextServer
) -> None:
    url = ctx_server.route("/c.jsonld", {"@context": {"Car": EX + "Car", "velocity": EX + "speed"}})
    body = {"id": "urn:ngsi-ld:Car:1", "type": "Car", "velocity": {"type": "Property", "value": 80}}
    response = await client.post(ENTITIES, json=body, headers={**JSON, **link(url)})
    assert response.status_code == 201, response.text
    found = await client.get(
        ENTITIES, params={"type": "Car", "q": "velocity>70"}, headers=link(url)
    )
    assert [e["id"] for e in found.json()] == ["urn:ngsi-ld:Car:1"]
    assert found.json()[0]["velocity"]["value"] == 80
    # Without the context the same words are other IRIs: nothing matches.
    assert await ids(client, type="Car") == []
    full = await ids(client, type=EX + "Car", q=f"{EX}speed==80")
    assert full == ["urn:ngsi-ld:Car:1"]


async def test_query_entities_finds_entities_by_any_geoproperty(client: httpx.AsyncClient) -> None:
    await create(
        client,
        {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": "Sensor",
            "observationSpace": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [116.40, 39.91]},
            },
            "coverage": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [139.76, 35.68]},
            },
        },
    )
    near = {"georel": "near;maxDistance==500", "geometry": "Point"}
    beijing = {**near, "coordinates": "[116.40,39.91]"}
    tokyo = {**near, "coordinates": "[139.76,35.68]"}
    assert await ids(client, **beijing) == []  # location is the default geoproperty
    assert await ids(client, **beijing, geoproperty="observationSpace") == ["urn:ngsi-ld:Sensor:1"]
    assert await ids(client, **tokyo, geoproperty="coverage") == ["urn:ngsi-ld:Sensor:1"]
    assert await ids(client, **tokyo, geoproperty="observationSpace") == []


async def test_query_entities_keeps_tenants_apart(client: httpx.AsyncClient) -> None:
    body = {"id": "urn:ngsi-ld:Road:9", "type": "Road"}
    response = await client.post(ENTITIES, json=body, headers={**JSON, "NGSILD-Tenant": "tokyo"})
    assert response.status_code == 201
    assert await ids(client, type="Road") == []
    found = await client.get(ENTITIES, params={"type": "Road"}, headers={"NGSILD-Tenant": "tokyo"})
    assert [e["id"] for e in found.json()] == ["urn:ngsi-ld:Road:9"]
    assert found.headers["NGSILD-Tenant"] == "tokyo"


async def test_query_entities_returns_404_for_an_unknown_tenant(client: httpx.AsyncClient) -> None:
    response = await client.get(
        ENTITIES, params={"type": "Road"}, headers={"NGSILD-Tenant": "nowhere"}
    )
    assert_problem(response, 404, "NonexistentTenant")


@pytest.mark.parametrize(
    ("params", "type_name", "words"),
    [
        ({}, "BadRequestData", "at least one"),
        ({"options": "keyValues"}, "BadRequestData", "at least one"),
        ({"type": "Road", "q": "(speed>1"}, "BadRequestData", "position"),
        ({"type": "Road", "q": "speed>"}, "BadRequestData", "position"),
        ({"type": "Road", "q": "speed==true..false"}, "BadRequestData", "boolean"),
        ({"type": "Road,"}, "BadRequestData", "position"),
        ({"type": "(Road"}, "BadRequestData", "parenthesis"),
        ({"scopeQ": "Seoul"}, "BadRequestData", "scopeQ"),
        ({"scopeQ": "/Seoul/#/x"}, "BadRequestData", "#"),
        ({"id": "not a uri"}, "BadRequestData", "not a uri"),
        ({"idPattern": "(unclosed"}, "BadRequestData", "idPattern"),
        ({"idPattern": "(?P<n>Road)"}, "BadRequestData", "group"),
        ({"type": "Road", "q": "name~=(?P<n>Se)"}, "BadRequestData", "group"),
        ({"type": "Road", "q": "speed.observedAt[x]==1"}, "BadRequestData", "position 0"),
        (
            {"georel": "nearby", "geometry": "Point", "coordinates": "[1,2]"},
            "BadRequestData",
            "nearby",
        ),
        (
            {"georel": "near", "geometry": "Point", "coordinates": "[1,2]"},
            "BadRequestData",
            "Distance",
        ),
        ({"georel": "within", "geometry": "Point"}, "BadRequestData", "coordinates"),
        (
            {"georel": "within", "geometry": "Circle", "coordinates": "[1,2]"},
            "BadRequestData",
            "Circle",
        ),
        (
            {
                "georel": "within",
                "geometry": "Polygon",
                "coordinates": "[[[0,0],[1,0],[1,1],[0,1]]]",
            },
            "BadRequestData",
            "not closed",
        ),
        (
            {"georel": "within", "geometry": "Point", "coordinates": "[1,"},
            "BadRequestData",
            "coordinates",
        ),
        (
            {"georel": "within", "geometry": "Point", "coordinates": "[200,10]"},
            "BadRequestData",
            "coordinates",
        ),
        ({"type": "Road", "limit": "-1"}, "BadRequestData", "limit"),
        ({"type": "Road", "limit": "ten"}, "BadRequestData", "limit"),
        ({"type": "Road", "limit": "0"}, "BadRequestData", "count"),
        ({"type": "Road", "count": "yes"}, "BadRequestData", "count"),
        ({"type": "Road", "limit": "51"}, "TooManyResults", "50"),
    ],
)
async def test_query_entities_returns_an_error_naming_the_problem(
    client: httpx.AsyncClient, params: dict[str, str], type_name: str, words: str
) -> None:
    response = await client.get(ENTITIES, params=params)
    assert_problem(response, 403 if type_name == "TooManyResults" else 400, type_name)
    assert words.lower() in response.json()["detail"].lower()


@pytest.mark.usefixtures("seeded")
async def test_post_query_returns_200_with_entities_of_any_selector(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "type": "Query",
        "entities": [{"type": "Road", "idPattern": ":1$"}, {"type": "Alert"}],
        "attrs": ["speed", "severity"],
    }
    response = await client.post(QUERY, json=body, params={"options": "keyValues"})
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"id": A1, "type": "Alert", "severity": "critical"},
        {"id": R1, "type": "Road", "speed": 50},
    ]


@pytest.mark.usefixtures("seeded")
async def test_post_query_returns_200_with_q_geo_and_scope(client: httpx.AsyncClient) -> None:
    body = {
        "type": "Query",
        "q": "totalSpotNumber>10",
        "geoQ": {
            "georel": "near;maxDistance==1000",
            "geometry": "Point",
            "coordinates": [126.978, 37.5665],
        },
        "scopeQ": "/Seoul/#",
    }
    response = await client.post(QUERY, json=body, params={"count": "true"})
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == [P2]
    assert response.headers["NGSILD-Results-Count"] == "1"


@pytest.mark.parametrize(
    "body",
    [
        {"entities": [{"type": "Road"}]},
        {"type": "Subscription", "entities": [{"type": "Road"}]},
        {"type": "Query"},
        {"type": "Query", "entities": []},
        {"type": "Query", "entities": [{"id": "urn:ngsi-ld:Road:1"}]},
        {"type": "Query", "q": "speed>>1"},
        {"type": "Query", "geoQ": {"georel": "within", "geometry": "Point"}},
        ["not", "an", "object"],
    ],
)
async def test_post_query_returns_400_for_an_invalid_query(
    client: httpx.AsyncClient, body: Any
) -> None:
    response = await client.post(QUERY, json=body)
    assert_problem(response, 400, "BadRequestData")


@pytest.mark.usefixtures("seeded")
async def test_query_entities_shows_each_change_in_the_next_answer(
    client: httpx.AsyncClient,
) -> None:
    params = {"type": "Road", "options": "keyValues", "attrs": "speed"}
    first = await client.get(ENTITIES, params=params)
    assert [e["speed"] for e in first.json()] == [50, 12.5]
    response = await client.patch(
        f"{ENTITIES}/{R1}/attrs", json={"speed": {"type": "Property", "value": 7}}, headers=JSON
    )
    assert response.status_code == 204, response.text
    again = await client.get(ENTITIES, params=params)
    assert [e["speed"] for e in again.json()] == [7, 12.5]


@pytest.mark.usefixtures("seeded")
async def test_pick_id_returns_200_with_the_ids_alone_page_by_page(
    client: httpx.AsyncClient,
) -> None:
    """pick=id (clause 4.21) keeps the id member only; the hub answers it from the ids
    alone (what a federating hub asks to find a deep page's entities)."""
    every = await ids(client, type="Road,Alert,OffStreetParking")
    picked: list[dict[str, str]] = []
    for offset in range(0, len(every), 2):
        response = await client.get(
            ENTITIES,
            params={
                "type": "Road,Alert,OffStreetParking",
                "pick": "id",
                "limit": "2",
                "offset": str(offset),
                "count": "true",
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["NGSILD-Results-Count"] == str(len(every))
        picked += response.json()
    assert picked == [{"id": entity_id} for entity_id in every]
    ld = await client.get(
        ENTITIES,
        params={"type": "Road", "pick": "id"},
        headers={"Accept": "application/ld+json"},
    )
    assert [{k: v for k, v in e.items() if k != "@context"} for e in ld.json()] == [
        {"id": R1},
        {"id": R2},
    ]
    assert all("@context" in e for e in ld.json())
    typed = await client.get(ENTITIES, params={"type": "Road", "pick": "id,type"})
    assert typed.json() == [{"id": R1, "type": "Road"}, {"id": R2, "type": "Road"}]


async def test_geo_query_for_a_type_follows_the_entity_types_as_they_change(
    client: httpx.AsyncClient,
) -> None:
    """Type selection with a geoQ (clauses 4.17, 4.10) sees types added by Merge Entity
    (5.6.17) and dropped by Replace Entity (5.6.18): the spatial index drops candidates by
    type, so its copy of the types must follow every change."""
    camera = "urn:ngsi-ld:Device:cam-1"
    location = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [139.70, 35.69]}}
    await create(client, {"id": camera, "type": "Device", "location": location})
    near = {
        "georel": "near;maxDistance==300",
        "geometry": "Point",
        "coordinates": "[139.7005,35.6905]",
    }
    assert await ids(client, type="Camera", **near) == []
    assert await ids(client, type="Device", **near) == [camera]

    merged = await client.patch(f"{ENTITIES}/{camera}", json={"type": ["Device", "Camera"]})
    assert merged.status_code == 204, merged.text
    assert await ids(client, type="Camera", **near) == [camera]
    assert await ids(client, type="Road,Camera", **near) == [camera]
    assert await ids(client, type="Device;Camera", **near) == [camera]
    body = {
        "type": "Query",
        "entities": [{"type": "Camera"}],
        "geoQ": {
            "georel": "near;maxDistance==300",
            "geometry": "Point",
            "coordinates": [139.7005, 35.6905],
        },
    }
    response = await client.post(QUERY, json=body)
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == [camera]

    replaced = await client.put(
        f"{ENTITIES}/{camera}", json={"type": "Camera", "location": location}
    )
    assert replaced.status_code == 204, replaced.text
    assert await ids(client, type="Device", **near) == []
    assert await ids(client, type="Camera", **near) == [camera]


async def test_the_same_query_string_is_read_in_each_request_s_own_context(
    client: httpx.AsyncClient, ctx_server: ContextServer
) -> None:
    """Terms are expanded with the @context of each request (clause 5.5.7), so the same URL
    asked with and without a Link header, in turn and repeatedly, selects different IRIs
    (the hub reuses parsed queries; they must never cross contexts or settings)."""
    url = ctx_server.route("/c.jsonld", {"@context": {"Car": EX + "Car", "velocity": EX + "speed"}})
    body = {"id": "urn:ngsi-ld:Car:1", "type": "Car", "velocity": {"type": "Property", "value": 80}}
    response = await client.post(ENTITIES, json=body, headers={**JSON, **link(url)})
    assert response.status_code == 201, response.text
    params = {"type": "Car", "q": "velocity>70", "limit": "5"}
    for _ in range(3):
        with_context = await client.get(ENTITIES, params=params, headers=link(url))
        assert [e["id"] for e in with_context.json()] == ["urn:ngsi-ld:Car:1"]
        assert await ids(client, **params) == []
    too_many = await client.get(ENTITIES, params={**params, "limit": "51"}, headers=link(url))
    assert_problem(too_many, 403, "TooManyResults")  # query_max_limit is 50 here
    again = await client.get(ENTITIES, params={**params, "limit": "51"}, headers=link(url))
    assert_problem(again, 403, "TooManyResults")
