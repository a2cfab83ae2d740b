"""Discovery through the HTTP API: Retrieve Available Entity Types (5.7.5) and their details
(5.7.6), Entity Type Information (5.7.7), Available Attributes (5.7.8) and their details
(5.7.9), Attribute Information (5.7.10); data structures of clauses 5.2.24–5.2.28.

Names come back compacted with the request's @context (served on 127.0.0.1) and path
parameters are expanded with it; without a Link header the core @context applies, so names
outside it come back as full IRIs and terms resolve against its @vocab.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.entity_requests import CORE_CONTEXT, ENTITIES, assert_problem, entity_url
from tests.http_server import ContextServer

API = "/ngsi-ld/v1"
TYPES = f"{API}/types"
ATTRIBUTES = f"{API}/attributes"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
JSON = "application/json"
JSON_LD = "application/ld+json"
EX = "https://example.org/city/"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"

CONTEXT = {
    "Parking": EX + "Parking",
    "Car": EX + "Car",
    "spots": EX + "spots",
    "speed": EX + "speed",
    "owner": EX + "owner",
    "reliability": EX + "reliability",
}

POINT = {"type": "Point", "coordinates": [126.978, 37.5665]}

# Created with CONTEXT in a Link header. Seoul-1 has two instances of spots (datasetIds) and a
# sub-property, which is no attribute of the entity; owner is a Relationship on two entities
# and a Property on the third.
SEED_WITH_CONTEXT: list[dict[str, Any]] = [
    {
        "id": "urn:ngsi-ld:Parking:seoul-1",
        "type": "Parking",
        "spots": [
            {
                "type": "Property",
                "value": 12,
                "reliability": {"type": "Property", "value": 0.9},
            },
            {"type": "Property", "value": 3, "datasetId": "urn:ngsi-ld:Dataset:ev"},
        ],
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:City:seoul"},
        "location": {"type": "GeoProperty", "value": POINT},
    },
    {
        "id": "urn:ngsi-ld:Parking:busan-1",
        "type": "Parking",
        "spots": {"type": "Property", "value": 40},
        "owner": {"type": "Property", "value": "Busan Metropolitan City"},
    },
    {
        "id": "urn:ngsi-ld:Car:1",
        "type": ["Car", "Vehicle"],
        "speed": {"type": "Property", "value": 50},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:kim"},
        "location": {"type": "GeoProperty", "value": POINT},
    },
]
# Created with the core @context only: a type without attributes.
SENSOR = {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"context_allow_hosts": "127.0.0.1", "context_fetch_timeout": 2.0}


@pytest.fixture
def ctx_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


@pytest.fixture
def ctx(ctx_server: ContextServer) -> str:
    """The URL of the user @context."""
    return ctx_server.route("/city.jsonld", {"@context": CONTEXT})


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'}


def tenant(name: str) -> dict[str, str]:
    return {"NGSILD-Tenant": name}


def fresh_tenant() -> str:
    """A tenant name no other test used: stores outlive a test and may cache known tenants."""
    return f"discovery-{uuid.uuid4().hex[:8]}"


def link_target(response: httpx.Response) -> str | None:
    header = response.headers.get("link")
    if header is None:
        return None
    target, *params = (part.strip() for part in header.split(";"))
    assert f'rel="{CONTEXT_REL}"' in params
    return target.strip("<>")


def segment(name: str) -> str:
    """A name or full IRI as one path segment."""
    return quote(name, safe="")


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    response = await client.post(ENTITIES, json=body, headers=headers or {})
    assert response.status_code == 201, response.text


@pytest.fixture
async def seeded(client: httpx.AsyncClient, ctx: str) -> str:
    """The seed entities in the default tenant; returns the user @context URL."""
    for body in SEED_WITH_CONTEXT:
        await create(client, body, link(ctx))
    await create(client, SENSOR)
    return ctx


async def get_ok(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None, **params: str
) -> Any:
    response = await client.get(url, headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    return response.json()


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def sorted_types(item: dict[str, Any]) -> dict[str, Any]:
    """An Attribute with its list members in a fixed order (the spec sets none)."""
    out = dict(item)
    for key in ("attributeTypes", "typeNames"):
        if key in out:
            out[key] = sorted(out[key])
    return out


# --- Retrieve Available Entity Types (5.7.5) ------------------------------------------------


async def test_retrieve_entity_types_returns_200_with_short_names_when_context_is_linked(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(TYPES, headers=link(seeded))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "EntityTypeList"
    assert re.fullmatch(r"urn:ngsi-ld:EntityTypeList:\S+", body["id"]), body["id"]
    assert sorted(body["typeList"]) == ["Car", "Parking", "Sensor", "Vehicle"]
    assert set(body) == {"id", "type", "typeList"}
    assert link_target(response) == seeded


async def test_retrieve_entity_types_returns_200_with_full_iris_when_no_context_is_linked(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(TYPES)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["typeList"]) == sorted(
        [EX + "Car", EX + "Parking", "Sensor", "Vehicle"]
    )
    assert link_target(response) == CORE_CONTEXT


async def test_retrieve_entity_types_returns_200_in_name_order_when_listing(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, TYPES, link(seeded))
    assert body["typeList"] == ["Car", "Parking", "Sensor", "Vehicle"]


async def test_retrieve_entity_types_returns_200_with_a_new_list_id_when_asked_twice(
    client: httpx.AsyncClient, seeded: str
) -> None:
    first = await get_ok(client, TYPES)
    second = await get_ok(client, TYPES)
    assert first["id"] != second["id"]


async def test_retrieve_entity_types_returns_200_with_an_empty_list_when_no_entity_exists(
    client: httpx.AsyncClient,
) -> None:
    body = await get_ok(client, TYPES)
    assert body["type"] == "EntityTypeList"
    assert body.get("typeList", []) == []


async def test_retrieve_entity_types_returns_200_without_a_type_when_its_last_entity_is_deleted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    deleted = await client.delete(entity_url(SENSOR["id"]))
    assert deleted.status_code == 204, deleted.text
    body = await get_ok(client, TYPES, link(seeded))
    assert sorted(body["typeList"]) == ["Car", "Parking", "Vehicle"]


async def test_retrieve_entity_types_returns_200_with_context_in_body_when_json_ld_is_accepted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(TYPES, headers={**link(seeded), "Accept": JSON_LD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON_LD)
    assert "link" not in response.headers
    body = response.json()
    assert body["@context"] == seeded
    assert sorted(body["typeList"]) == ["Car", "Parking", "Sensor", "Vehicle"]


# --- Retrieve Details of Available Entity Types (5.7.6) ------------------------------------


async def test_retrieve_entity_types_returns_200_with_entity_types_when_details_is_true(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, TYPES, link(seeded), details="true")
    assert isinstance(body, list)
    found = by_id(body)
    expected = {
        EX + "Car": ("Car", ["location", "owner", "speed"]),
        EX + "Parking": ("Parking", ["location", "owner", "spots"]),
        DEFAULT + "Sensor": ("Sensor", []),
        DEFAULT + "Vehicle": ("Vehicle", ["location", "owner", "speed"]),
    }
    assert set(found) == set(expected)
    for iri, (name, attributes) in expected.items():
        item = found[iri]
        assert item["type"] == "EntityType"
        assert item["typeName"] == name
        assert sorted(item["attributeNames"]) == attributes


async def test_retrieve_entity_types_returns_200_with_full_iris_when_details_without_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    found = by_id(await get_ok(client, TYPES, details="true"))
    parking = found[EX + "Parking"]
    assert parking["typeName"] == EX + "Parking"
    assert sorted(parking["attributeNames"]) == sorted([EX + "owner", EX + "spots", "location"])


async def test_retrieve_entity_types_returns_200_with_context_in_each_item_when_json_ld_details(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(
        TYPES, params={"details": "true"}, headers={**link(seeded), "Accept": JSON_LD}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON_LD)
    body = response.json()
    assert len(body) == 4
    assert all(item["@context"] == seeded for item in body)


async def test_retrieve_entity_types_returns_200_with_an_entity_type_list_when_details_is_false(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, TYPES, link(seeded), details="false")
    assert body["type"] == "EntityTypeList"


@pytest.mark.parametrize("value", ["yes", "TRUE", "1", ""])
async def test_retrieve_entity_types_returns_400_when_details_is_not_a_boolean(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.get(TYPES, params={"details": value})
    assert_problem(response, 400, "BadRequestData")


async def test_retrieve_entity_types_returns_406_when_accept_offers_no_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(TYPES, headers={"Accept": "text/html"})
    assert response.status_code == 406, response.text


# --- Retrieve Available Entity Type Information (5.7.7) -------------------------------------


async def test_retrieve_entity_type_info_returns_200_when_type_is_a_short_name_of_the_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{TYPES}/Parking", link(seeded))
    assert body["id"] == EX + "Parking"
    assert body["type"] == "EntityTypeInfo"
    assert body["typeName"] == "Parking"
    assert body["entityCount"] == 2
    details = {item["id"]: sorted_types(item) for item in body["attributeDetails"]}
    assert details == {
        LOCATION: {
            "id": LOCATION,
            "type": "Attribute",
            "attributeName": "location",
            "attributeTypes": ["GeoProperty"],
        },
        EX + "owner": {
            "id": EX + "owner",
            "type": "Attribute",
            "attributeName": "owner",
            "attributeTypes": ["Property", "Relationship"],
        },
        EX + "spots": {
            "id": EX + "spots",
            "type": "Attribute",
            "attributeName": "spots",
            "attributeTypes": ["Property"],
        },
    }


async def test_retrieve_entity_type_info_returns_200_when_type_is_a_full_iri_without_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{TYPES}/{segment(EX + 'Car')}")
    assert body["typeName"] == EX + "Car"
    assert body["entityCount"] == 1
    names = sorted(item["attributeName"] for item in body["attributeDetails"])
    assert names == sorted([EX + "owner", EX + "speed", "location"])


async def test_retrieve_entity_type_info_returns_200_when_full_iri_is_not_percent_encoded(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{TYPES}/{EX}Parking", link(seeded))
    assert body["id"] == EX + "Parking"
    assert body["typeName"] == "Parking"
    assert body["entityCount"] == 2


async def test_retrieve_entity_type_info_returns_200_when_entities_have_several_types(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{TYPES}/Vehicle", link(seeded))
    assert body["id"] == DEFAULT + "Vehicle"
    assert body["typeName"] == "Vehicle"
    assert body["entityCount"] == 1
    kinds = {item["attributeName"]: item["attributeTypes"] for item in body["attributeDetails"]}
    assert kinds == {
        "location": ["GeoProperty"],
        "owner": ["Relationship"],
        "speed": ["Property"],
    }


async def test_retrieve_entity_type_info_returns_200_with_no_attributes_when_entities_have_none(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{TYPES}/Sensor")
    assert body["id"] == DEFAULT + "Sensor"
    assert body["entityCount"] == 1
    assert body["attributeDetails"] == []


async def test_retrieve_entity_type_info_returns_200_with_context_when_json_ld_is_accepted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{TYPES}/Car", headers={**link(seeded), "Accept": JSON_LD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON_LD)
    body = response.json()
    assert body["@context"] == seeded
    assert body["typeName"] == "Car"


async def test_retrieve_entity_type_info_returns_404_when_no_entity_has_the_type(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{TYPES}/Bicycle", headers=link(seeded))
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_entity_type_info_returns_404_when_short_name_is_not_in_the_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    # Without the user @context, "Parking" is the core @vocab's Parking: no entity has it.
    response = await client.get(f"{TYPES}/Parking")
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_entity_type_info_returns_404_when_its_last_entity_is_deleted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    assert (await client.delete(entity_url("urn:ngsi-ld:Car:1"))).status_code == 204
    response = await client.get(f"{TYPES}/Car", headers=link(seeded))
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_entity_type_info_returns_400_when_type_is_not_a_valid_name(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{TYPES}/{segment('Car<script>')}")
    assert_problem(response, 400, "BadRequestData")


# --- Retrieve Available Attributes (5.7.8) --------------------------------------------------


async def test_retrieve_attributes_returns_200_with_short_names_when_context_is_linked(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(ATTRIBUTES, headers=link(seeded))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "AttributeList"
    assert re.fullmatch(r"urn:ngsi-ld:AttributeList:\S+", body["id"]), body["id"]
    # Only attributes of entities: no id, type, scope, system attributes or sub-attributes.
    assert sorted(body["attributeList"]) == ["location", "owner", "speed", "spots"]
    assert link_target(response) == seeded


async def test_retrieve_attributes_returns_200_with_full_iris_when_no_context_is_linked(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, ATTRIBUTES)
    assert sorted(body["attributeList"]) == sorted(
        [EX + "owner", EX + "speed", EX + "spots", "location"]
    )


async def test_retrieve_attributes_returns_200_with_an_empty_list_when_no_entity_exists(
    client: httpx.AsyncClient,
) -> None:
    body = await get_ok(client, ATTRIBUTES)
    assert body["type"] == "AttributeList"
    assert body.get("attributeList", []) == []


async def test_retrieve_attributes_returns_200_without_an_attribute_when_it_is_deleted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    deleted = await client.delete(entity_url("urn:ngsi-ld:Car:1", "speed"), headers=link(seeded))
    assert deleted.status_code == 204, deleted.text
    body = await get_ok(client, ATTRIBUTES, link(seeded))
    assert sorted(body["attributeList"]) == ["location", "owner", "spots"]


async def test_retrieve_attributes_returns_200_with_context_in_body_when_json_ld_is_accepted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(ATTRIBUTES, headers={**link(seeded), "Accept": JSON_LD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON_LD)
    assert response.json()["@context"] == seeded


# --- Retrieve Details of Available Attributes (5.7.9) ---------------------------------------


async def test_retrieve_attributes_returns_200_with_attributes_when_details_is_true(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, ATTRIBUTES, link(seeded), details="true")
    assert isinstance(body, list)
    found = {item["id"]: sorted_types(item) for item in body}
    assert found == {
        LOCATION: {
            "id": LOCATION,
            "type": "Attribute",
            "attributeName": "location",
            "attributeCount": 2,
            "attributeTypes": ["GeoProperty"],
            "typeNames": ["Car", "Parking", "Vehicle"],
        },
        EX + "owner": {
            "id": EX + "owner",
            "type": "Attribute",
            "attributeName": "owner",
            "attributeCount": 3,
            "attributeTypes": ["Property", "Relationship"],
            "typeNames": ["Car", "Parking", "Vehicle"],
        },
        EX + "speed": {
            "id": EX + "speed",
            "type": "Attribute",
            "attributeName": "speed",
            "attributeCount": 1,
            "attributeTypes": ["Property"],
            "typeNames": ["Car", "Vehicle"],
        },
        # Three instances: two datasetIds on Seoul-1, one on Busan-1.
        EX + "spots": {
            "id": EX + "spots",
            "type": "Attribute",
            "attributeName": "spots",
            "attributeCount": 3,
            "attributeTypes": ["Property"],
            "typeNames": ["Parking"],
        },
    }


async def test_retrieve_attributes_returns_200_with_full_type_iris_when_details_without_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    found = by_id(await get_ok(client, ATTRIBUTES, details="true"))
    speed = found[EX + "speed"]
    assert speed["attributeName"] == EX + "speed"
    assert sorted(speed["typeNames"]) == sorted([EX + "Car", "Vehicle"])


async def test_retrieve_attributes_returns_200_with_context_in_each_item_when_json_ld_details(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(
        ATTRIBUTES, params={"details": "true"}, headers={**link(seeded), "Accept": JSON_LD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body) == 4
    assert all(item["@context"] == seeded for item in body)


async def test_retrieve_attributes_returns_400_when_details_is_not_a_boolean(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(ATTRIBUTES, params={"details": "maybe"})
    assert_problem(response, 400, "BadRequestData")


async def test_retrieve_attributes_returns_406_when_accept_offers_no_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(ATTRIBUTES, headers={"Accept": "application/geo+json"})
    assert response.status_code == 406, response.text


# --- Retrieve Available Attribute Information (5.7.10) --------------------------------------


async def test_retrieve_attribute_info_returns_200_when_attribute_is_a_short_name_of_the_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{ATTRIBUTES}/owner", link(seeded))
    assert sorted_types(body) == {
        "id": EX + "owner",
        "type": "Attribute",
        "attributeName": "owner",
        "attributeCount": 3,
        "attributeTypes": ["Property", "Relationship"],
        "typeNames": ["Car", "Parking", "Vehicle"],
    }


async def test_retrieve_attribute_info_returns_200_when_attribute_is_a_full_iri(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{ATTRIBUTES}/{segment(EX + 'spots')}")
    assert body["id"] == EX + "spots"
    assert body["attributeName"] == EX + "spots"
    assert body["attributeCount"] == 3
    assert body["typeNames"] == [EX + "Parking"]


async def test_retrieve_attribute_info_returns_200_when_attribute_is_a_core_term(
    client: httpx.AsyncClient, seeded: str
) -> None:
    body = await get_ok(client, f"{ATTRIBUTES}/location")
    assert body["id"] == LOCATION
    assert body["attributeName"] == "location"
    assert body["attributeTypes"] == ["GeoProperty"]
    assert sorted(body["typeNames"]) == sorted([EX + "Car", EX + "Parking", "Vehicle"])


async def test_retrieve_attribute_info_returns_200_with_context_when_json_ld_is_accepted(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{ATTRIBUTES}/speed", headers={**link(seeded), "Accept": JSON_LD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@context"] == seeded
    assert body["attributeName"] == "speed"


async def test_retrieve_attribute_info_returns_404_when_no_entity_has_the_attribute(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{ATTRIBUTES}/colour", headers=link(seeded))
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_attribute_info_returns_404_when_name_is_only_a_sub_attribute(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{ATTRIBUTES}/reliability", headers=link(seeded))
    assert_problem(response, 404, "ResourceNotFound")


async def test_retrieve_attribute_info_returns_404_when_short_name_is_not_in_the_context(
    client: httpx.AsyncClient, seeded: str
) -> None:
    response = await client.get(f"{ATTRIBUTES}/spots")
    assert_problem(response, 404, "ResourceNotFound")


# --- tenants (clause 6.3.14) -----------------------------------------------------------------


async def test_retrieve_entity_types_returns_200_with_only_the_tenants_types_when_tenant_is_given(
    client: httpx.AsyncClient, seeded: str
) -> None:
    name = fresh_tenant()
    await create(
        client,
        {"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "line": {"type": "Property", "value": "7"}},
        tenant(name),
    )
    response = await client.get(TYPES, headers=tenant(name))
    assert response.status_code == 200, response.text
    assert response.headers["ngsild-tenant"] == name
    assert response.json()["typeList"] == ["Bus"]
    attributes = await get_ok(client, ATTRIBUTES, tenant(name))
    assert attributes["attributeList"] == ["line"]
    default = await get_ok(client, TYPES)
    assert "Bus" not in default["typeList"]


async def test_retrieve_entity_type_info_returns_404_when_type_lives_in_another_tenant(
    client: httpx.AsyncClient, seeded: str
) -> None:
    name = fresh_tenant()
    await create(client, {"id": "urn:ngsi-ld:Bus:1", "type": "Bus"}, tenant(name))
    assert (await client.get(f"{TYPES}/Bus", headers=tenant(name))).status_code == 200
    response = await client.get(f"{TYPES}/Bus")
    assert_problem(response, 404, "ResourceNotFound")
    other = await client.get(f"{TYPES}/Car", headers={**tenant(name), **link(seeded)})
    assert_problem(other, 404, "ResourceNotFound")


async def test_retrieve_attribute_info_returns_200_with_the_tenants_counts_when_tenant_is_given(
    client: httpx.AsyncClient, seeded: str
) -> None:
    name = fresh_tenant()
    body = {"id": "urn:ngsi-ld:Car:9", "type": "Car", "speed": {"type": "Property", "value": 1}}
    await create(client, body, {**tenant(name), **link(seeded)})
    info = await get_ok(client, f"{ATTRIBUTES}/speed", {**tenant(name), **link(seeded)})
    assert info["attributeCount"] == 1
    assert info["typeNames"] == ["Car"]
    car = await get_ok(client, f"{TYPES}/Car", {**tenant(name), **link(seeded)})
    assert car["entityCount"] == 1


@pytest.mark.parametrize(
    "path",
    [TYPES, f"{TYPES}/Car", ATTRIBUTES, f"{ATTRIBUTES}/speed"],
    ids=["types", "type", "attributes", "attribute"],
)
async def test_discovery_returns_404_when_tenant_does_not_exist(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers=tenant(fresh_tenant()))
    assert_problem(response, 404, "NonexistentTenant")


@pytest.mark.parametrize("path", [TYPES, ATTRIBUTES], ids=["types", "attributes"])
async def test_discovery_returns_400_when_local_is_not_a_boolean(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, params={"local": "perhaps"})
    assert_problem(response, 400, "BadRequestData")


@pytest.mark.parametrize("path", [TYPES, ATTRIBUTES], ids=["types", "attributes"])
async def test_discovery_returns_200_when_local_is_true(
    client: httpx.AsyncClient, seeded: str, path: str
) -> None:
    response = await client.get(path, params={"local": "true"}, headers=link(seeded))
    assert response.status_code == 200, response.text
