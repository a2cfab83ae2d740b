"""Retrieve Entity representations (clause 5.7.1 with 4.5.1–4.5.4, 4.5.16–4.5.18, 4.15, 4.21,
6.3.4–6.3.7, 6.3.11): normalized, concise, simplified, GeoJSON; attrs, pick, omit, lang and
sysAttrs; content negotiation with the Accept header and the @context in Link or body."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

import httpx
import pytest

ENTITIES = "/ngsi-ld/v1/entities"
JSON = {"Content-Type": "application/json"}
JSON_LD = {"Content-Type": "application/ld+json"}
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
DATE = "2024-05-01T10:00:00Z"

ID = "urn:ngsi-ld:OffStreetParking:Downtown1"
POINT = {"type": "Point", "coordinates": [126.978, 37.566]}
GATE = {"type": "Point", "coordinates": [126.979, 37.567]}
NAMES = {"en": "Downtown One", "ja": "ダウンタウン1", "ko": "다운타운 1", "zh-Hans": "市中心一号"}
CAMERA = "urn:ngsi-ld:Dataset:camera"

PARKING: dict[str, Any] = {
    "id": ID,
    "type": "OffStreetParking",
    "scope": "/Seoul/Jongno",
    "name": {"type": "LanguageProperty", "languageMap": NAMES},
    "availableSpotNumber": {
        "type": "Property",
        "value": 121,
        "observedAt": DATE,
        "unitCode": "C62",
        "reliability": {"type": "Property", "value": 0.7},
        "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Camera:C1"},
    },
    "totalSpotNumber": {"type": "Property", "value": 200},
    "parkingCategory": {"type": "VocabProperty", "vocab": "publicParking"},
    "location": {"type": "GeoProperty", "value": POINT},
    "entrance": {"type": "GeoProperty", "value": GATE},
    "operator": {"type": "Relationship", "object": "urn:ngsi-ld:Company:Op1"},
    "extras": {"type": "JsonProperty", "json": {"id": "x-1", "value": "kept as is"}},
    "openingDays": {"type": "ListProperty", "valueList": ["Mon", "Tue"]},
    "tags": {"type": "Property", "value": ["covered", "ev"]},
    "address": {"type": "Property", "value": {"addressLocality": "Seoul", "type": "PostalAddress"}},
    "footprint": {"type": "Property", "value": POINT},
    "occupancy": [
        {"type": "Property", "value": 10},
        {"type": "Property", "value": 11, "datasetId": CAMERA},
    ],
}

CONCISE: dict[str, Any] = {
    "id": ID,
    "type": "OffStreetParking",
    "scope": "/Seoul/Jongno",
    "name": {"languageMap": NAMES},
    "availableSpotNumber": {
        "value": 121,
        "observedAt": DATE,
        "unitCode": "C62",
        "reliability": 0.7,
        "providedBy": {"object": "urn:ngsi-ld:Camera:C1"},
    },
    "totalSpotNumber": 200,
    "parkingCategory": {"vocab": "publicParking"},
    "location": {"value": POINT},
    "entrance": {"value": GATE},
    "operator": {"object": "urn:ngsi-ld:Company:Op1"},
    "extras": {"json": {"id": "x-1", "value": "kept as is"}},
    "openingDays": {"valueList": ["Mon", "Tue"]},
    "tags": ["covered", "ev"],
    "address": {"value": {"addressLocality": "Seoul", "type": "PostalAddress"}},
    "footprint": {"type": "Property", "value": POINT},
    "occupancy": [{"value": 10}, {"value": 11, "datasetId": CAMERA}],
}

SIMPLIFIED: dict[str, Any] = {
    "id": ID,
    "type": "OffStreetParking",
    "scope": "/Seoul/Jongno",
    "name": {"languageMap": NAMES},
    "availableSpotNumber": 121,
    "totalSpotNumber": 200,
    "parkingCategory": {"vocab": "publicParking"},
    "location": POINT,
    "entrance": GATE,
    "operator": "urn:ngsi-ld:Company:Op1",
    "extras": {"json": {"id": "x-1", "value": "kept as is"}},
    "openingDays": ["Mon", "Tue"],
    "tags": ["covered", "ev"],
    "address": {"addressLocality": "Seoul", "type": "PostalAddress"},
    "footprint": POINT,
    "occupancy": {"dataset": {"@none": 10, CAMERA: 11}},
}


def url(entity_id: str = ID) -> str:
    return f"{ENTITIES}/{quote(entity_id, safe=':')}"


@pytest.fixture
async def parking(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post(ENTITIES, json=PARKING, headers=JSON)
    assert response.status_code == 201, response.text
    return PARKING


async def get(client: httpx.AsyncClient, *, accept: str | None = None, **params: str) -> Any:
    headers = {"Accept": accept} if accept else {}
    response = await client.get(url(), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def link_target(response: httpx.Response) -> str | None:
    """The URL of the JSON-LD @context Link header, if any."""
    link = response.headers.get("link")
    if link is None:
        return None
    target, *params = (part.strip() for part in link.split(";"))
    assert any(p.replace(" ", "") == f'rel="{CONTEXT_REL}"' for p in params), link
    return target.strip("<>")


# --- forms (clauses 4.5.1–4.5.4, 6.3.7) --------------------------------------------------


async def test_retrieve_entity_returns_200_normalized_by_default(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    assert await get(client) == parking
    assert await get(client, options="normalized") == parking
    assert await get(client, format="normalized") == parking


@pytest.mark.parametrize("params", [{"options": "concise"}, {"format": "concise"}])
async def test_retrieve_entity_returns_200_concise_when_asked(
    client: httpx.AsyncClient, parking: dict[str, Any], params: dict[str, str]
):
    assert await get(client, **params) == CONCISE


@pytest.mark.parametrize(
    "params",
    [
        {"options": "keyValues"},
        {"options": "simplified"},
        {"format": "keyValues"},
        {"format": "simplified"},
        {"format": "simplified", "options": "normalized"},
    ],
)
async def test_retrieve_entity_returns_200_simplified_when_asked(
    client: httpx.AsyncClient, parking: dict[str, Any], params: dict[str, str]
):
    assert await get(client, **params) == SIMPLIFIED


@pytest.mark.parametrize(
    "params",
    [
        {"format": "compact"},
        {"options": "verbose"},
        {"options": "concise,keyValues"},
        {"options": ""},
        {"pick": "name", "omit": "tags"},
        {"lang": ""},
        {"attrs": "bad name"},
    ],
)
async def test_retrieve_entity_returns_400_when_representation_parameters_are_invalid(
    client: httpx.AsyncClient, parking: dict[str, Any], params: dict[str, str]
):
    response = await client.get(url(), params=params)
    assert response.status_code == 400, response.text
    assert response.json()["type"] in {ERRORS + "BadRequestData", ERRORS + "InvalidRequest"}


async def test_create_entity_returns_201_when_body_is_concise_output_of_another_entity(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    """The concise representation is lossless (clause 4.5.2.3): it reads back as the same
    normalized entity."""
    concise = await get(client, format="concise")
    concise["id"] = "urn:ngsi-ld:OffStreetParking:Copy"
    response = await client.post(ENTITIES, json=concise, headers=JSON)
    assert response.status_code == 201, response.text
    copied = await client.get(url("urn:ngsi-ld:OffStreetParking:Copy"))
    assert copied.json() == {**parking, "id": "urn:ngsi-ld:OffStreetParking:Copy"}


async def test_create_entity_returns_201_when_concise_output_is_posted_with_its_context(
    client: httpx.AsyncClient,
):
    """Round trip through a user @context, as JSON-LD with the @context in the body."""
    context_url = await _hosted_context(client)
    entity = {
        "@context": context_url,
        "id": ID,
        "type": "Parking",
        "spots": {"type": "Property", "value": 5, "unitCode": "C62"},
        "kind": {"type": "VocabProperty", "vocab": "garage"},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Company:1", "objectType": "Org"},
    }
    assert (await client.post(ENTITIES, json=entity, headers=JSON_LD)).status_code == 201
    response = await client.get(
        url(),
        params={"format": "concise"},
        headers={"Accept": "application/ld+json", **_link(context_url)},
    )
    concise = response.json()
    assert concise["@context"] == context_url
    assert concise["spots"] == {"value": 5, "unitCode": "C62"}
    assert concise["kind"] == {"vocab": "garage"}
    concise["id"] = "urn:ngsi-ld:Parking:Copy"
    assert (await client.post(ENTITIES, json=concise, headers=JSON_LD)).status_code == 201
    original = await client.get(url(), headers=_link(context_url))
    copied = await client.get(url("urn:ngsi-ld:Parking:Copy"), headers=_link(context_url))
    assert copied.json() == {**original.json(), "id": "urn:ngsi-ld:Parking:Copy"}
    assert copied.json()["owner"]["objectType"] == "Org"


# --- user @context: Link header in, Link header or body out (clauses 6.3.5, 6.3.6) -------


async def _hosted_context(client: httpx.AsyncClient) -> str:
    terms = {
        "Parking": "https://example.org/parking/Parking",
        "Org": "https://example.org/parking/Org",
        "spots": "https://example.org/parking/spots",
        "kind": {"@id": "https://example.org/parking/kind", "@type": "@vocab"},
        "garage": "https://example.org/parking/garage",
        "owner": "https://example.org/parking/owner",
    }
    response = await client.post(
        "/ngsi-ld/v1/jsonldContexts", json={"@context": terms}, headers=JSON_LD
    )
    assert response.status_code == 201, response.text
    return response.headers["location"]


def _link(context_url: str) -> dict[str, str]:
    return {"Link": f'<{context_url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'}


async def test_retrieve_entity_returns_200_with_terms_of_the_link_header_context(
    client: httpx.AsyncClient,
):
    context_url = await _hosted_context(client)
    body = {"id": ID, "type": "Parking", "spots": {"type": "Property", "value": 5}}
    created = await client.post(ENTITIES, json=body, headers={**JSON, **_link(context_url)})
    assert created.status_code == 201, created.text

    with_link = await client.get(url(), headers=_link(context_url))
    assert with_link.json() == body
    assert link_target(with_link) == context_url

    core_only = await client.get(url())
    assert core_only.json() == {
        "id": ID,
        "type": "https://example.org/parking/Parking",
        "https://example.org/parking/spots": {"type": "Property", "value": 5},
    }
    assert link_target(core_only) == CORE


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json;q=0.5, application/ld+json", "application/ld+json"),
        ("application/ld+json;q=0.2, application/json;q=0.9", "application/json"),
        ("text/html, application/ld+json;q=0.1", "application/ld+json"),
        ("application/geo+json", "application/geo+json"),
        ("application/json;q=0.4, application/geo+json;q=0.8", "application/geo+json"),
    ],
)
async def test_retrieve_entity_returns_200_in_the_negotiated_media_type(
    client: httpx.AsyncClient, parking: dict[str, Any], accept: str | None, media: str
):
    headers = {"Accept": accept} if accept else {}
    response = await client.get(url(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    body = response.json()
    if media == "application/json":
        assert "@context" not in body
        assert link_target(response) == CORE
        assert body == parking
    elif media == "application/ld+json":
        assert body["@context"] == CORE
        assert "link" not in response.headers
        assert {k: v for k, v in body.items() if k != "@context"} == parking
    else:
        assert body["type"] == "Feature"


async def test_retrieve_entity_returns_200_with_link_context_in_jsonld_body(
    client: httpx.AsyncClient,
):
    context_url = await _hosted_context(client)
    body = {"id": ID, "type": "Parking", "spots": {"type": "Property", "value": 5}}
    await client.post(ENTITIES, json=body, headers={**JSON, **_link(context_url)})
    response = await client.get(
        url(), headers={"Accept": "application/ld+json", **_link(context_url)}
    )
    assert response.json() == {**body, "@context": context_url}


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/xml",
        "text/plain, image/png",
        "application/json;q=0",
        "application/ld+json;q=0, application/json;q=0, application/geo+json;q=0",
    ],
)
async def test_retrieve_entity_returns_406_when_accept_cannot_be_served(
    client: httpx.AsyncClient, parking: dict[str, Any], accept: str
):
    response = await client.get(url(), headers={"Accept": accept})
    assert response.status_code == 406, response.text
    assert response.json()["status"] == 406
    assert response.json()["type"].startswith(ERRORS)


async def test_retrieve_entity_returns_200_ld_json_when_json_is_refused_with_q0(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    response = await client.get(url(), headers={"Accept": "application/json;q=0, */*;q=0.5"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] != "application/json"


# --- attrs, pick, omit (clauses 4.21, 6.3.7) ----------------------------------------------


@pytest.mark.parametrize(
    ("params", "members"),
    [
        ({"attrs": "name,totalSpotNumber"}, {"id", "type", "name", "totalSpotNumber"}),
        ({"pick": "id,totalSpotNumber"}, {"id", "totalSpotNumber"}),
        ({"pick": "type"}, {"type"}),
        ({"pick": "id,type,scope"}, {"id", "type", "scope"}),
        ({"pick": "id,name", "attrs": "name,tags"}, {"id", "name"}),
        (
            {"omit": "id,type,scope,name,availableSpotNumber,parkingCategory,location"},
            {
                "totalSpotNumber",
                "entrance",
                "operator",
                "extras",
                "openingDays",
                "tags",
                "address",
                "footprint",
                "occupancy",
            },
        ),
        ({"omit": "scope", "attrs": "name"}, {"id", "type", "name"}),
    ],
)
async def test_retrieve_entity_returns_200_with_projected_members(
    client: httpx.AsyncClient,
    parking: dict[str, Any],
    params: dict[str, str],
    members: set[str],
):
    body = await get(client, **params)
    assert set(body) == members
    for member in members:
        assert body[member] == parking[member]


async def test_retrieve_entity_returns_200_with_projection_in_simplified_form(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    body = await get(client, pick="id,occupancy,operator", format="simplified")
    assert body == {
        "id": ID,
        "occupancy": SIMPLIFIED["occupancy"],
        "operator": SIMPLIFIED["operator"],
    }


# --- lang (clause 4.15) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "tag"),
    [
        ("ko", "ko"),
        ("ja", "ja"),
        ("zh-Hans", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("de,ja", "ja"),
        ("fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5", "en"),
        ("en;q=0.3,ko;q=0.9", "ko"),
    ],
)
async def test_retrieve_entity_returns_200_with_language_property_as_property_when_lang(
    client: httpx.AsyncClient, parking: dict[str, Any], lang: str, tag: str
):
    normalized = await get(client, lang=lang)
    assert normalized["name"] == {"type": "Property", "value": NAMES[tag], "lang": tag}
    concise = await get(client, lang=lang, format="concise")
    assert concise["name"] == {"value": NAMES[tag], "lang": tag}
    simplified = await get(client, lang=lang, options="keyValues")
    assert simplified["name"] == NAMES[tag]
    assert normalized["totalSpotNumber"] == parking["totalSpotNumber"]


@pytest.mark.parametrize("lang", ["de", "*", "xx-YY"])
async def test_retrieve_entity_returns_200_with_any_language_when_lang_has_no_match(
    client: httpx.AsyncClient, parking: dict[str, Any], lang: str
):
    name = (await get(client, lang=lang))["name"]
    assert name["type"] == "Property"
    assert name["lang"] in NAMES
    assert name["value"] == NAMES[name["lang"]]


async def test_retrieve_entity_returns_200_with_default_text_when_lang_has_no_match(
    client: httpx.AsyncClient,
):
    entity = {
        "id": ID,
        "type": "Sign",
        "label": {"type": "LanguageProperty", "languageMap": {"ko": "출구", "@none": "EXIT"}},
    }
    assert (await client.post(ENTITIES, json=entity, headers=JSON)).status_code == 201
    label = (await get(client, lang="de"))["label"]
    assert label["value"] == "EXIT"
    assert label["type"] == "Property"


# --- sysAttrs (clause 6.3.11) --------------------------------------------------------------


def _without_sys_attrs(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_sys_attrs(v)
            for k, v in value.items()
            if k not in {"createdAt", "modifiedAt"}
        }
    if isinstance(value, list):
        return [_without_sys_attrs(v) for v in value]
    return value


async def test_retrieve_entity_returns_200_with_system_attributes_when_sys_attrs(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    body = await get(client, options="sysAttrs")
    for holder in (
        body,
        body["name"],
        body["availableSpotNumber"],
        body["availableSpotNumber"]["reliability"],
        body["occupancy"][1],
    ):
        assert holder["createdAt"].endswith("Z") and "T" in holder["createdAt"]
        assert holder["modifiedAt"] >= holder["createdAt"]
    assert _without_sys_attrs(body) == parking
    plain = await get(client)
    assert "createdAt" not in plain and "modifiedAt" not in plain["name"]


async def test_retrieve_entity_returns_200_concise_with_system_attributes_when_sys_attrs(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    body = await get(client, format="concise", options="sysAttrs")
    assert body["createdAt"] <= body["modifiedAt"]
    total = body["totalSpotNumber"]
    assert set(total) == {"value", "createdAt", "modifiedAt"} and total["value"] == 200
    assert set(body["availableSpotNumber"]["reliability"]) == {"value", "createdAt", "modifiedAt"}
    assert _without_sys_attrs(body) == {
        **CONCISE,
        "totalSpotNumber": {"value": 200},
        "tags": {"value": ["covered", "ev"]},
        "availableSpotNumber": {**CONCISE["availableSpotNumber"], "reliability": {"value": 0.7}},
    }


# --- GeoJSON (clauses 4.5.16, 4.5.17) ------------------------------------------------------


GEO = "application/geo+json"


async def test_retrieve_entity_returns_200_geojson_feature_when_accept_is_geojson(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    response = await client.get(url(), headers={"Accept": GEO})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == GEO
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == ID
    assert feature["geometry"] == POINT
    expected = {k: v for k, v in copy.deepcopy(parking).items() if k != "id"}
    assert {k: v for k, v in feature["properties"].items() if k != "@context"} == expected


@pytest.mark.parametrize("params", [{"options": "keyValues"}, {"format": "simplified"}])
async def test_retrieve_entity_returns_200_simplified_geojson_when_simplified(
    client: httpx.AsyncClient, parking: dict[str, Any], params: dict[str, str]
):
    feature = await get(client, accept=GEO, **params)
    assert feature["type"] == "Feature"
    assert feature["geometry"] == POINT
    properties = {k: v for k, v in feature["properties"].items() if k != "@context"}
    assert properties == {k: v for k, v in SIMPLIFIED.items() if k != "id"}


@pytest.mark.parametrize(
    ("geometry_property", "geometry"),
    [("entrance", GATE), ("location", POINT), ("doesNotExist", None), ("totalSpotNumber", None)],
)
async def test_retrieve_entity_returns_200_geojson_with_geometry_property(
    client: httpx.AsyncClient, parking: dict[str, Any], geometry_property: str, geometry: Any
):
    feature = await get(client, accept=GEO, geometryProperty=geometry_property)
    assert feature["geometry"] == geometry
    assert feature["properties"]["location"] == parking["location"]


async def test_retrieve_entity_returns_200_geojson_with_null_geometry_when_no_location(
    client: httpx.AsyncClient,
):
    entity = {"id": ID, "type": "Sign", "height": {"type": "Property", "value": 2}}
    assert (await client.post(ENTITIES, json=entity, headers=JSON)).status_code == 201
    response = await client.get(url(), headers={"Accept": GEO})
    assert response.status_code == 200
    feature = response.json()
    assert "geometry" in feature and feature["geometry"] is None
    assert feature["properties"]["type"] == "Sign"
    assert feature["properties"]["height"] == {"type": "Property", "value": 2}


async def test_retrieve_entity_returns_200_geojson_with_lang_and_pick(
    client: httpx.AsyncClient, parking: dict[str, Any]
):
    feature = await get(client, accept=GEO, lang="ja", pick="name,entrance", format="simplified")
    assert feature["id"] == ID
    assert feature["geometry"] == POINT
    properties = {k: v for k, v in feature["properties"].items() if k != "@context"}
    assert properties == {"name": NAMES["ja"], "entrance": GATE}
