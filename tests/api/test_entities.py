"""Single-entity provision and retrieval through the HTTP API: Create (5.6.1), Retrieve (5.7.1),
Replace (5.6.18), Merge (5.6.17) and Delete (5.6.6), with a create→retrieve round trip for every
attribute kind (clauses 4.5, 5.2.5–5.2.36) and the system attributes (clause 5.2.2)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.api.entity_requests import (
    CORE_CONTEXT,
    ENTITIES,
    JSON,
    JSON_LD,
    NGSI_NULL,
    assert_problem,
    by_dataset,
    create,
    entity_url,
    fetch,
    moment,
    snapshot,
)

P = "Property"
POLYGON = [[[139.70, 35.65], [139.71, 35.65], [139.71, 35.66], [139.70, 35.66], [139.70, 35.65]]]
HOLE = [[139.702, 35.652], [139.704, 35.652], [139.704, 35.654], [139.702, 35.652]]

GEOMETRIES = {
    "Point": {"type": "Point", "coordinates": [126.978, 37.5665]},
    "MultiPoint": {"type": "MultiPoint", "coordinates": [[126.97, 37.56], [126.98, 37.57]]},
    "LineString": {"type": "LineString", "coordinates": [[139.76, 35.68], [139.77, 35.69]]},
    "MultiLineString": {
        "type": "MultiLineString",
        "coordinates": [[[139.76, 35.68], [139.77, 35.69]], [[139.70, 35.60], [139.71, 35.61]]],
    },
    "Polygon": {"type": "Polygon", "coordinates": [POLYGON[0], HOLE]},
    "MultiPolygon": {
        "type": "MultiPolygon",
        "coordinates": [POLYGON, [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]]],
    },
    "GeometryCollection": {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [116.397, 39.909, 44.5]},
            {"type": "LineString", "coordinates": [[116.39, 39.90], [116.40, 39.91]]},
        ],
    },
}

# Attributes in normalized form that a client must get back unchanged (clauses 4.5.2–4.5.24).
ATTRIBUTE_KINDS: dict[str, dict[str, Any]] = {
    "integer": {"type": P, "value": 12},
    "negative-float": {"type": P, "value": -3.75},
    "zero": {"type": P, "value": 0},
    "string": {"type": P, "value": "Free spaces: 12"},
    "unicode-string": {"type": P, "value": "서울특별시 종로구 / 東京都千代田区"},
    "true": {"type": P, "value": True},
    "false": {"type": P, "value": False},
    "object": {"type": P, "value": {"streetAddress": "Sejong-daero 110", "postalCode": "04524"}},
    "nested-object": {"type": P, "value": {"a": {"b": {"c": [1, {"d": None}]}}, "type": "x"}},
    "array": {"type": P, "value": [1, "two", 3.5, False, {"five": 5}]},
    "empty-array": {"type": P, "value": []},
    "uri-string": {"type": P, "value": "urn:ngsi-ld:Something:1"},
    "unitCode": {"type": P, "value": 21.5, "unitCode": "CEL"},
    "observedAt": {"type": P, "value": 7, "observedAt": "2024-05-01T09:30:00.123Z"},
    "Relationship": {"type": "Relationship", "object": "urn:ngsi-ld:Building:b1"},
    "Relationship-objectType": {
        "type": "Relationship",
        "object": "urn:ngsi-ld:Building:b1",
        "objectType": "Building",
    },
    "Relationship-objects": {
        "type": "Relationship",
        "object": ["urn:ngsi-ld:Person:Alice", "urn:ngsi-ld:Person:Bob"],
        "objectType": "Person",
    },
    **{
        f"GeoProperty-{name}": {"type": "GeoProperty", "value": geometry}
        for name, geometry in GEOMETRIES.items()
    },
    "LanguageProperty": {
        "type": "LanguageProperty",
        "languageMap": {"en": "City Hall", "ko": "시청", "ja": "市役所", "zh-Hans": "市政厅"},
    },
    "VocabProperty": {"type": "VocabProperty", "vocab": "Gasoline"},
    "VocabProperty-list": {"type": "VocabProperty", "vocab": ["Gasoline", "Diesel"]},
    "JsonProperty-object": {
        "type": "JsonProperty",
        "json": {"type": "Feature", "value": 1, "object": "not a relationship", "n": None},
    },
    "JsonProperty-array": {"type": "JsonProperty", "json": [{"a": 1}, [2, 3], "x"]},
    "ListProperty": {"type": "ListProperty", "valueList": [3, "b", {"c": 1}, [True]]},
    "ListRelationship": {
        "type": "ListRelationship",
        "objectList": [
            {"object": "urn:ngsi-ld:Stop:s1"},
            {"object": "urn:ngsi-ld:Stop:s2"},
            {"object": "urn:ngsi-ld:Stop:s1"},
        ],
    },
    "ListRelationship-objectType": {
        "type": "ListRelationship",
        "objectType": "City",
        "objectList": [{"object": "urn:ngsi-ld:City:Seoul"}, {"object": "urn:ngsi-ld:City:Tokyo"}],
    },
    "sub-attributes-4-levels": {
        "type": P,
        "value": 40,
        "unitCode": "KMH",
        "observedAt": "2024-05-01T09:30:00Z",
        "measuredBy": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Device:d1",
            "calibration": {
                "type": P,
                "value": {"offset": 0.1},
                "certifiedBy": {
                    "type": "Relationship",
                    "object": "urn:ngsi-ld:Lab:l1",
                    "certificate": {"type": "JsonProperty", "json": {"no": "A-17"}},
                },
            },
        },
        "label": {"type": "LanguageProperty", "languageMap": {"en": "speed", "ja": "速度"}},
        "place": {"type": "GeoProperty", "value": GEOMETRIES["Point"]},
    },
}


def new_entity(entity_id: str, **attributes: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": "Sensor", **attributes}


async def test_create_entity_returns_201_with_location_of_the_new_entity(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    response = await client.post(ENTITIES, json=new_entity(entity_id), headers=JSON)
    assert response.status_code == 201
    assert response.content == b""
    located = await client.get(response.headers["location"])
    assert located.status_code == 200
    assert located.json() == {"id": entity_id, "type": "Sensor"}


@pytest.mark.parametrize("kind", list(ATTRIBUTE_KINDS))
async def test_retrieve_entity_returns_200_with_each_attribute_kind_as_created(
    client: httpx.AsyncClient, entity_id: str, kind: str
) -> None:
    body = new_entity(entity_id, attr=ATTRIBUTE_KINDS[kind])
    await create(client, copy.deepcopy(body))
    assert await fetch(client, entity_id) == body


async def test_retrieve_entity_returns_200_with_all_attribute_kinds_on_one_entity(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    attributes = {kind.replace("-", ""): attr for kind, attr in ATTRIBUTE_KINDS.items()}
    body = {"id": entity_id, "type": ["Sensor", "Device"], **attributes}
    await create(client, copy.deepcopy(body))
    got = await fetch(client, entity_id)
    assert sorted(got.pop("type")) == ["Device", "Sensor"]
    body.pop("type")
    assert got == body


@pytest.mark.parametrize(
    ("concise", "normalized"),
    [
        (21.5, {"type": P, "value": 21.5}),
        ("open", {"type": P, "value": "open"}),
        ({"value": [1, 2]}, {"type": P, "value": [1, 2]}),
        ({"value": GEOMETRIES["Polygon"]}, {"type": "GeoProperty", "value": GEOMETRIES["Polygon"]}),
        ({"object": "urn:ngsi-ld:B:1"}, {"type": "Relationship", "object": "urn:ngsi-ld:B:1"}),
        ({"languageMap": {"en": "x"}}, {"type": "LanguageProperty", "languageMap": {"en": "x"}}),
        ({"vocab": "Diesel"}, {"type": "VocabProperty", "vocab": "Diesel"}),
        ({"json": {"k": 1}}, {"type": "JsonProperty", "json": {"k": 1}}),
        ({"valueList": [1, 1]}, {"type": "ListProperty", "valueList": [1, 1]}),
    ],
    ids=["number", "string", "array", "geometry", "object", "languageMap", "vocab", "json", "list"],
)
async def test_create_entity_returns_201_and_normalizes_concise_attributes(
    client: httpx.AsyncClient, entity_id: str, concise: Any, normalized: dict[str, Any]
) -> None:
    """Concise representation (clause 4.5.2.3): the attribute type follows from its value."""
    await create(client, new_entity(entity_id, attr=concise))
    assert (await fetch(client, entity_id))["attr"] == normalized


@pytest.mark.parametrize(
    ("given", "utc"),
    [
        ("2024-03-01T10:00:00+09:00", "2024-03-01T01:00:00+00:00"),
        ("2024-02-29T20:00:00-05:00", "2024-03-01T01:00:00+00:00"),
        ("2024-03-01T06:30:00.250+05:30", "2024-03-01T01:00:00.250000+00:00"),
        ("2024-03-01T01:00:00Z", "2024-03-01T01:00:00+00:00"),
        ("2024-03-01T01:00:00.000001Z", "2024-03-01T01:00:00.000001+00:00"),
    ],
)
async def test_retrieve_entity_returns_200_with_observed_at_in_utc(
    client: httpx.AsyncClient, entity_id: str, given: str, utc: str
) -> None:
    """observedAt is a DateTime (clause 4.6.3): stored and returned as UTC, same instant."""
    attr = {"type": P, "value": 1, "observedAt": given, "sub": {"type": P, "value": 2}}
    attr["sub"]["observedAt"] = given
    await create(client, new_entity(entity_id, attr=attr))
    got = (await fetch(client, entity_id))["attr"]
    assert moment(got["observedAt"]).isoformat() == utc
    assert moment(got["sub"]["observedAt"]).isoformat() == utc


async def test_retrieve_entity_returns_200_with_every_instance_of_a_multi_attribute(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    """Several instances of one attribute, told apart by datasetId (clause 4.5.5)."""
    instances = [
        {"type": P, "value": 20.1},
        {"type": P, "value": 19.7, "datasetId": "urn:ngsi-ld:Dataset:sensorA"},
        {
            "type": P,
            "value": 21.0,
            "datasetId": "urn:ngsi-ld:Dataset:sensorB",
            "observedAt": "2024-05-01T00:00:00Z",
        },
    ]
    await create(client, new_entity(entity_id, temperature=copy.deepcopy(instances)))
    got = (await fetch(client, entity_id))["temperature"]
    assert isinstance(got, list)
    assert by_dataset(got) == by_dataset(instances)


@pytest.mark.parametrize("scope", ["/Seoul", ["/Seoul/Jongno", "/Tokyo/Chiyoda/Marunouchi"]])
async def test_retrieve_entity_returns_200_with_the_scope_as_created(
    client: httpx.AsyncClient, entity_id: str, scope: Any
) -> None:
    """Entity scope (clause 4.18)."""
    await create(client, {**new_entity(entity_id), "scope": scope})
    got = await fetch(client, entity_id)
    assert got["scope"] == scope


async def test_create_entity_returns_201_when_the_body_is_json_ld_with_a_user_context(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    """JSON-LD input (clause 6.3.5): names expand through the body's @context; a client using
    only the core @context sees the expanded IRIs."""
    context = [{"speed": "https://example.org/traffic#speed", "Road": "https://example.org/Road"}]
    body = {
        "id": entity_id,
        "type": "Road",
        "speed": {"type": P, "value": 50},
        "@context": [*context, CORE_CONTEXT],
    }
    response = await client.post(ENTITIES, json=body, headers=JSON_LD)
    assert response.status_code == 201, response.text
    got = await fetch(client, entity_id)
    assert got["type"] == "https://example.org/Road"
    assert got["https://example.org/traffic#speed"] == {"type": P, "value": 50}


INVALID_ENTITIES: dict[str, dict[str, Any]] = {
    "no-id": {"type": "Sensor"},
    "no-type": {"id": "{id}"},
    "id-not-uri": {"id": "not a uri", "type": "Sensor"},
    "empty-type": {"id": "{id}", "type": []},
    "null-value": {"id": "{id}", "type": "T", "a": {"type": P, "value": None}},
    "unknown-attribute-type": {"id": "{id}", "type": "T", "a": {"type": "Temperature", "value": 1}},
    "property-without-value": {"id": "{id}", "type": "T", "a": {"type": P, "unitCode": "CEL"}},
    "relationship-without-object": {"id": "{id}", "type": "T", "a": {"type": "Relationship"}},
    "relationship-object-not-uri": {
        "id": "{id}",
        "type": "T",
        "a": {"type": "Relationship", "object": "Building 7"},
    },
    "geoproperty-unknown-geometry": {
        "id": "{id}",
        "type": "T",
        "location": {"type": "GeoProperty", "value": {"type": "Circle", "coordinates": [1, 2]}},
    },
    "geoproperty-open-polygon": {
        "id": "{id}",
        "type": "T",
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        },
    },
    "geoproperty-latitude-out-of-range": {
        "id": "{id}",
        "type": "T",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [10, 95]}},
    },
    "languagemap-not-object": {
        "id": "{id}",
        "type": "T",
        "a": {"type": "LanguageProperty", "languageMap": "hello"},
    },
    "languagemap-bad-tag": {
        "id": "{id}",
        "type": "T",
        "a": {"type": "LanguageProperty", "languageMap": {"en us": "x"}},
    },
    "valuelist-not-array": {
        "id": "{id}",
        "type": "T",
        "a": {"type": "ListProperty", "valueList": 1},
    },
    "objectlist-not-uris": {
        "id": "{id}",
        "type": "T",
        "a": {"type": "ListRelationship", "objectList": [{"object": "nope"}]},
    },
    "json-scalar": {"id": "{id}", "type": "T", "a": {"type": "JsonProperty", "json": 3}},
    "observedat-not-datetime": {
        "id": "{id}",
        "type": "T",
        "a": {"type": P, "value": 1, "observedAt": "yesterday"},
    },
    "datasetid-not-uri": {
        "id": "{id}",
        "type": "T",
        "a": {"type": P, "value": 1, "datasetId": "x"},
    },
    "duplicate-datasetid": {
        "id": "{id}",
        "type": "T",
        "a": [{"type": P, "value": 1}, {"type": P, "value": 2}],
    },
    "scope-invalid": {"id": "{id}", "type": "T", "scope": "Seoul"},
    "forbidden-attribute-name": {"id": "{id}", "type": "T", "a(b)": {"type": P, "value": 1}},
    "invalid-sub-attribute": {
        "id": "{id}",
        "type": "T",
        "a": {"type": P, "value": 1, "b": {"type": "Relationship", "object": 5}},
    },
}


def _with_id(template: Any, entity_id: str) -> Any:
    if isinstance(template, dict):
        return {k: _with_id(v, entity_id) for k, v in template.items()}
    if isinstance(template, list):
        return [_with_id(v, entity_id) for v in template]
    return entity_id if template == "{id}" else template


@pytest.mark.parametrize("case", list(INVALID_ENTITIES))
async def test_create_entity_returns_400_when_the_entity_is_invalid(
    client: httpx.AsyncClient, entity_id: str, case: str
) -> None:
    """Create Entity (5.6.1): invalid content is BadRequestData and nothing is created."""
    body = _with_id(INVALID_ENTITIES[case], entity_id)
    response = await client.post(ENTITIES, json=body, headers=JSON)
    assert_problem(response, 400, "BadRequestData")
    assert (await client.get(entity_url(entity_id))).status_code == 404


@pytest.mark.parametrize(
    "attr",
    [
        {"type": P, "value": NGSI_NULL},
        {"type": "Relationship", "object": NGSI_NULL},
        {"type": "LanguageProperty", "languageMap": {"@none": NGSI_NULL}},
    ],
    ids=["value", "object", "languagemap"],
)
async def test_create_entity_returns_400_when_an_attribute_is_ngsi_ld_null(
    client: httpx.AsyncClient, entity_id: str, attr: dict[str, Any]
) -> None:
    """Clause 5.2.1: an NGSI-LD Null outside a partial update or merge is BadRequestData."""
    response = await client.post(ENTITIES, json=new_entity(entity_id, a=attr), headers=JSON)
    assert_problem(response, 400, "BadRequestData")
    assert (await client.get(entity_url(entity_id))).status_code == 404


async def test_create_entity_returns_400_when_the_body_is_not_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(ENTITIES, content=b'{"id": "urn:x:1", ', headers=JSON)
    assert_problem(response, 400, "InvalidRequest")


async def test_create_entity_returns_409_when_the_id_exists_and_keeps_the_entity(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    before = await snapshot(client, entity_id)
    response = await client.post(
        ENTITIES, json=new_entity(entity_id, b={"type": P, "value": 2}), headers=JSON
    )
    assert_problem(response, 409, "AlreadyExists")
    assert await snapshot(client, entity_id) == before


# --- Retrieve Entity (5.7.1) -------------------------------------------------------------


async def test_retrieve_entity_returns_404_when_the_entity_does_not_exist(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    assert_problem(await client.get(entity_url(entity_id)), 404, "ResourceNotFound")


async def test_retrieve_entity_returns_400_when_the_id_is_not_a_uri(
    client: httpx.AsyncClient,
) -> None:
    assert_problem(await client.get(f"{ENTITIES}/not-a-uri"), 400, "BadRequestData")


@pytest.mark.parametrize(
    ("type_param", "status"),
    [
        ("Sensor", 200),
        ("Device", 200),
        ("Vehicle,Device", 200),
        ("Vehicle", 404),
        ("Vehicle,Building", 404),
        ("https://uri.etsi.org/ngsi-ld/default-context/Sensor", 200),
    ],
)
async def test_retrieve_entity_returns_status_when_type_is_given(
    client: httpx.AsyncClient, entity_id: str, type_param: str, status: int
) -> None:
    """The type parameter (clause 5.7.1, 4.17): an entity of none of those types is not found."""
    await create(client, {"id": entity_id, "type": ["Sensor", "Device"]})
    response = await client.get(entity_url(entity_id), params={"type": type_param})
    if status == 200:
        assert response.status_code == 200, response.text
        assert response.json()["id"] == entity_id
    else:
        assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_entity_returns_200_with_only_the_attributes_in_attrs(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    a, b, c = ({"type": P, "value": n} for n in (1, 2, 3))
    await create(client, new_entity(entity_id, a=a, b=b, c=c))
    got = await fetch(client, entity_id, attrs="a,c,missing")
    assert got == new_entity(entity_id, a=a, c=c)
    got = await fetch(client, entity_id, attrs="b")
    assert got == new_entity(entity_id, b=b)


async def test_retrieve_entity_returns_404_when_the_entity_has_none_of_the_attrs(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    """Query.attrs (clause 5.7.1, OpenAPI): an entity with none of the Attributes in attrs
    is not found."""
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    response = await client.get(entity_url(entity_id), params={"attrs": "b,c"})
    assert_problem(response, 404, "ResourceNotFound")


def _system_members(value: Any) -> set[str]:
    """createdAt/modifiedAt members found anywhere in a representation."""
    found: set[str] = set()
    if isinstance(value, dict):
        found |= {"createdAt", "modifiedAt"} & value.keys()
        for member in value.values():
            found |= _system_members(member)
    elif isinstance(value, list):
        for item in value:
            found |= _system_members(item)
    return found


async def test_retrieve_entity_returns_200_without_system_attributes_unless_asked(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    body = new_entity(entity_id, deep=ATTRIBUTE_KINDS["sub-attributes-4-levels"])
    await create(client, copy.deepcopy(body))
    assert _system_members(await fetch(client, entity_id)) == set()


async def test_retrieve_entity_returns_200_with_system_attributes_when_sysattrs_is_asked(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    """options=sysAttrs (clause 6.3.7): createdAt and modifiedAt on the entity, its attributes
    and their sub-attributes."""
    deep = ATTRIBUTE_KINDS["sub-attributes-4-levels"]
    await create(client, new_entity(entity_id, deep=copy.deepcopy(deep)))
    got = await snapshot(client, entity_id)
    created = moment(got["createdAt"])
    assert moment(got["modifiedAt"]) == created
    attribute = got["deep"]
    sub = attribute["measuredBy"]
    subsub = sub["calibration"]
    for member in (attribute, sub, subsub, subsub["certifiedBy"], attribute["label"]):
        assert moment(member["createdAt"]) == created
        assert moment(member["modifiedAt"]) == created
    assert attribute["value"] == deep["value"]


async def test_replace_entity_returns_204_and_drops_a_scope_the_body_lacks(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, {**new_entity(entity_id), "scope": ["/Seoul", "/Busan"]})
    response = await client.put(entity_url(entity_id), json={"type": "Sensor"}, headers=JSON)
    assert response.status_code == 204, response.text
    assert await fetch(client, entity_id) == new_entity(entity_id)


async def test_merge_entity_returns_204_and_deletes_the_scope_set_to_ngsi_ld_null(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, {**new_entity(entity_id, a={"type": P, "value": 1}), "scope": "/Seoul"})
    response = await client.patch(entity_url(entity_id), json={"scope": NGSI_NULL}, headers=JSON)
    assert response.status_code == 204, response.text
    assert await fetch(client, entity_id) == new_entity(entity_id, a={"type": P, "value": 1})


# --- Replace Entity (5.6.18) -------------------------------------------------------------


async def test_replace_entity_returns_204_and_replaces_every_attribute(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(
        client,
        new_entity(
            entity_id, a={"type": P, "value": 1, "unitCode": "CEL"}, b={"type": P, "value": 2}
        ),
    )
    before = await snapshot(client, entity_id)
    replacement = {
        "id": entity_id,
        "type": "Station",
        "a": {"type": P, "value": 10},
        "c": {"type": "Relationship", "object": "urn:ngsi-ld:X:1"},
    }
    response = await client.put(entity_url(entity_id), json=replacement, headers=JSON)
    assert response.status_code == 204, response.text
    assert await fetch(client, entity_id) == replacement
    after = await snapshot(client, entity_id)
    assert after["createdAt"] == before["createdAt"]
    assert moment(after["modifiedAt"]) > moment(before["modifiedAt"])


async def test_replace_entity_returns_204_when_the_body_has_no_id(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    body = {"type": "Sensor", "b": {"type": P, "value": 2}}
    response = await client.put(entity_url(entity_id), json=body, headers=JSON)
    assert response.status_code == 204, response.text
    assert await fetch(client, entity_id) == new_entity(entity_id, b={"type": P, "value": 2})


async def test_replace_entity_returns_404_when_the_entity_does_not_exist(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    response = await client.put(entity_url(entity_id), json=new_entity(entity_id), headers=JSON)
    assert_problem(response, 404, "ResourceNotFound")
    assert (await client.get(entity_url(entity_id))).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"id": "urn:ngsi-ld:Sensor:other", "type": "Sensor"},
        {"type": "Sensor", "a": {"type": "Relationship", "object": "no uri"}},
        {"type": "Sensor", "a": {"type": P, "value": None}},
        [{"type": "Sensor"}],
    ],
    ids=["other-id", "invalid-attribute", "null-value", "not-an-object"],
)
async def test_replace_entity_returns_400_when_the_body_is_invalid_and_keeps_the_entity(
    client: httpx.AsyncClient, entity_id: str, body: Any
) -> None:
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    before = await snapshot(client, entity_id)
    response = await client.put(entity_url(entity_id), json=body, headers=JSON)
    assert_problem(response, 400, "BadRequestData")
    assert await snapshot(client, entity_id) == before


# --- Merge Entity (5.6.17) ---------------------------------------------------------------


async def test_merge_entity_returns_204_and_adds_and_changes_attributes(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(
        client,
        new_entity(
            entity_id,
            a={"type": P, "value": 1, "unitCode": "CEL"},
            keep={"type": P, "value": "kept"},
        ),
    )
    patch = {"a": {"type": P, "value": 2}, "b": {"type": "Relationship", "object": "urn:x:1"}}
    response = await client.patch(entity_url(entity_id), json=patch, headers=JSON)
    assert response.status_code == 204, response.text
    assert await fetch(client, entity_id) == new_entity(
        entity_id,
        a={"type": P, "value": 2, "unitCode": "CEL"},
        keep={"type": P, "value": "kept"},
        b={"type": "Relationship", "object": "urn:x:1"},
    )


@pytest.mark.parametrize(
    ("existing", "deletion"),
    [
        ({"type": P, "value": 1}, {"type": P, "value": NGSI_NULL}),
        ({"type": P, "value": 1}, NGSI_NULL),
        ({"type": P, "value": 1}, {"value": NGSI_NULL}),
        (
            {"type": "Relationship", "object": "urn:x:1"},
            {"type": "Relationship", "object": NGSI_NULL},
        ),
        (
            {"type": "LanguageProperty", "languageMap": {"en": "x", "ja": "エックス"}},
            {"type": "LanguageProperty", "languageMap": {"@none": NGSI_NULL}},
        ),
        (
            {"type": "VocabProperty", "vocab": "Diesel"},
            {"type": "VocabProperty", "vocab": NGSI_NULL},
        ),
    ],
    ids=["property", "concise", "value-only", "relationship", "languagemap", "vocab"],
)
async def test_merge_entity_returns_204_and_deletes_attributes_set_to_ngsi_ld_null(
    client: httpx.AsyncClient, entity_id: str, existing: Any, deletion: Any
) -> None:
    """An NGSI-LD Null (clause 5.2.1, 4.5.0) in a merge removes the attribute."""
    await create(client, new_entity(entity_id, gone=existing, other={"type": P, "value": 0}))
    response = await client.patch(entity_url(entity_id), json={"gone": deletion}, headers=JSON)
    assert response.status_code == 204, response.text
    assert await fetch(client, entity_id) == new_entity(entity_id, other={"type": P, "value": 0})


async def test_merge_entity_returns_204_and_merges_nested_sub_attributes(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    """Merge follows JSON Merge Patch (RFC 7396) at every level: sub-attributes not in the
    fragment stay, those in it change, an NGSI-LD Null removes one."""
    speed = {
        "type": P,
        "value": 40,
        "unitCode": "KMH",
        "accuracy": {"type": P, "value": 0.5, "unitCode": "KMH"},
        "measuredBy": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Device:d1",
            "calibration": {"type": P, "value": "2024-01", "by": {"type": P, "value": "lab"}},
            "battery": {"type": P, "value": 80},
        },
        "note": {"type": P, "value": "to delete"},
    }
    await create(client, new_entity(entity_id, speed=speed))
    patch = {
        "speed": {
            "value": 42,
            "measuredBy": {
                "object": "urn:ngsi-ld:Device:d1",
                "calibration": {"type": P, "value": "2024-06"},
                "battery": {"type": P, "value": NGSI_NULL},
                "firmware": {"type": P, "value": "1.2"},
            },
            "note": NGSI_NULL,
        }
    }
    response = await client.patch(entity_url(entity_id), json=patch, headers=JSON)
    assert response.status_code == 204, response.text
    got = (await fetch(client, entity_id))["speed"]
    assert got == {
        "type": P,
        "value": 42,
        "unitCode": "KMH",
        "accuracy": {"type": P, "value": 0.5, "unitCode": "KMH"},
        "measuredBy": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:Device:d1",
            "calibration": {"type": P, "value": "2024-06", "by": {"type": P, "value": "lab"}},
            "firmware": {"type": P, "value": "1.2"},
        },
    }


async def test_merge_entity_returns_204_and_sets_observed_at_from_the_parameter(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    """Query.observedAt: used for a pre-existing attribute that had observedAt when the
    fragment gives none; an observedAt in the fragment wins; attributes without one stay so."""
    old = "2024-01-01T00:00:00Z"
    await create(
        client,
        new_entity(
            entity_id,
            a={"type": P, "value": 1, "observedAt": old},
            b={"type": P, "value": 1, "observedAt": old},
            c={"type": P, "value": 1},
        ),
    )
    patch = {
        "a": {"type": P, "value": 2},
        "b": {"type": P, "value": 2, "observedAt": "2024-03-03T03:03:03Z"},
        "c": {"type": P, "value": 2},
    }
    response = await client.patch(
        entity_url(entity_id),
        json=patch,
        headers=JSON,
        params={"observedAt": "2024-05-05T14:00:00+09:00"},
    )
    assert response.status_code == 204, response.text
    got = await fetch(client, entity_id)
    assert moment(got["a"]["observedAt"]).isoformat() == "2024-05-05T05:00:00+00:00"
    assert moment(got["b"]["observedAt"]).isoformat() == "2024-03-03T03:03:03+00:00"
    assert got["c"] == {"type": P, "value": 2}


async def test_merge_entity_returns_204_and_keeps_observed_at_without_the_parameter(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(
        client,
        new_entity(entity_id, a={"type": P, "value": 1, "observedAt": "2024-01-01T00:00:00Z"}),
    )
    response = await client.patch(entity_url(entity_id), json={"a": {"value": 5}}, headers=JSON)
    assert response.status_code == 204, response.text
    got = (await fetch(client, entity_id))["a"]
    assert got["value"] == 5
    assert moment(got["observedAt"]).isoformat() == "2024-01-01T00:00:00+00:00"


async def test_merge_entity_returns_204_and_merges_one_instance_by_dataset_id(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    instances = [
        {"type": P, "value": 1},
        {"type": P, "value": 2, "datasetId": "urn:ngsi-ld:Dataset:a"},
    ]
    await create(client, new_entity(entity_id, t=instances))
    patch = {"t": {"type": P, "value": 20, "datasetId": "urn:ngsi-ld:Dataset:a"}}
    response = await client.patch(entity_url(entity_id), json=patch, headers=JSON)
    assert response.status_code == 204, response.text
    got = by_dataset((await fetch(client, entity_id))["t"])
    assert got == {
        None: {"type": P, "value": 1},
        "urn:ngsi-ld:Dataset:a": {"type": P, "value": 20, "datasetId": "urn:ngsi-ld:Dataset:a"},
    }


async def test_merge_entity_returns_404_when_the_entity_does_not_exist(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    response = await client.patch(
        entity_url(entity_id), json={"a": {"type": P, "value": 1}}, headers=JSON
    )
    assert_problem(response, 404, "ResourceNotFound")
    assert (await client.get(entity_url(entity_id))).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"id": "urn:ngsi-ld:Sensor:other", "a": {"type": P, "value": 2}},
        {"a": {"type": P, "value": 2}, "b": {"type": "Relationship", "object": "no uri"}},
        {"a": {"type": P, "value": None}},
        {"a": {"type": "Nonsense", "value": 2}},
        ["a"],
    ],
    ids=["other-id", "invalid-second-attribute", "json-null", "unknown-type", "not-an-object"],
)
async def test_merge_entity_returns_400_when_the_fragment_is_invalid_and_keeps_the_entity(
    client: httpx.AsyncClient, entity_id: str, body: Any
) -> None:
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    before = await snapshot(client, entity_id)
    response = await client.patch(entity_url(entity_id), json=body, headers=JSON)
    assert_problem(response, 400, "BadRequestData")
    assert await snapshot(client, entity_id) == before


async def test_merge_entity_returns_400_when_observed_at_is_not_a_datetime(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(
        client,
        new_entity(entity_id, a={"type": P, "value": 1, "observedAt": "2024-01-01T00:00:00Z"}),
    )
    before = await snapshot(client, entity_id)
    response = await client.patch(
        entity_url(entity_id),
        json={"a": {"type": P, "value": 2}},
        headers=JSON,
        params={"observedAt": "last tuesday"},
    )
    assert response.status_code == 400, response.text
    assert await snapshot(client, entity_id) == before


# --- System attributes across entity operations -------------------------------------------


async def test_merge_entity_returns_204_and_moves_modified_at_but_not_created_at(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(
        client, new_entity(entity_id, a={"type": P, "value": 1}, b={"type": P, "value": 1})
    )
    before = await snapshot(client, entity_id)
    response = await client.patch(entity_url(entity_id), json={"a": {"value": 2}}, headers=JSON)
    assert response.status_code == 204, response.text
    after = await snapshot(client, entity_id)
    assert after["createdAt"] == before["createdAt"]
    assert moment(after["modifiedAt"]) > moment(before["modifiedAt"])
    assert after["a"]["createdAt"] == before["a"]["createdAt"]
    assert moment(after["a"]["modifiedAt"]) > moment(before["a"]["modifiedAt"])
    assert after["b"] == before["b"]


# --- Delete Entity (5.6.6) ---------------------------------------------------------------


async def test_delete_entity_returns_204_and_the_entity_is_gone(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    response = await client.delete(entity_url(entity_id))
    assert response.status_code == 204
    assert_problem(await client.get(entity_url(entity_id)), 404, "ResourceNotFound")
    # The id is free again.
    await create(client, new_entity(entity_id))
    assert await fetch(client, entity_id) == new_entity(entity_id)


async def test_delete_entity_returns_404_when_the_entity_does_not_exist(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    assert_problem(await client.delete(entity_url(entity_id)), 404, "ResourceNotFound")


async def test_delete_entity_returns_400_when_the_id_is_not_a_uri(
    client: httpx.AsyncClient,
) -> None:
    assert_problem(await client.delete(f"{ENTITIES}/nonsense"), 400, "BadRequestData")


# --- Entity ids in the path (clause 6.3.2) -------------------------------------------------


@pytest.mark.parametrize(
    "odd_id",
    [
        "https://example.org/things/1",
        "urn:ngsi-ld:Shop:a/b",
        "urn:ngsi-ld:Shop:café",
        "urn:ngsi-ld:Shop:a?b#c",
        "urn:ngsi-ld:Shop:50%25",
    ],
)
async def test_retrieve_entity_returns_200_when_the_id_needs_escaping_in_the_path(
    client: httpx.AsyncClient, odd_id: str
) -> None:
    """Any URI is an entity id; escaped as one path segment it addresses the entity and its
    attributes, and the Location of Create Entity points at it."""
    body = {"id": odd_id, "type": "Shop", "a": {"type": P, "value": 1}}
    response = await client.post(ENTITIES, json=body, headers=JSON)
    assert response.status_code == 201, response.text
    located = await client.get(response.headers["location"])
    assert located.status_code == 200, located.text
    assert located.json() == body
    patched = await client.patch(entity_url(odd_id, "a"), json={"value": 2}, headers=JSON)
    assert patched.status_code == 204, patched.text
    assert (await fetch(client, odd_id))["a"] == {"type": P, "value": 2}
    deleted = await client.delete(entity_url(odd_id, "a"))
    assert deleted.status_code == 204, deleted.text
    assert (await client.delete(entity_url(odd_id))).status_code == 204
    assert (await client.get(entity_url(odd_id))).status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", ""), ("GET", "/attrs"), ("DELETE", "/attrs"), ("POST", "/attrs/a")],
)
async def test_entity_resource_returns_405_when_the_method_is_not_defined(
    client: httpx.AsyncClient, entity_id: str, method: str, suffix: str
) -> None:
    """Table 6.2-1 lists the methods of each resource; others are not allowed."""
    await create(client, new_entity(entity_id, a={"type": P, "value": 1}))
    before = await snapshot(client, entity_id)
    url = entity_url(entity_id) + suffix
    response = await client.request(method, url, json={"a": 2}, headers=JSON)
    assert response.status_code == 405, response.text
    assert "allow" in response.headers
    assert await snapshot(client, entity_id) == before
