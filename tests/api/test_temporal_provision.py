"""Temporal provision: history recorded by the core API (every write is an instance, deletions are
tombstones with deletedAt) and the temporal endpoints of clauses 5.6.11-5.6.16. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.api.entity_requests import (
    ENTITIES,
    JSON,
    NGSI_NULL,
    assert_problem,
    by_dataset,
    create,
    entity_url,
    fetch,
    moment,
)
from tests.api.temporal_requests import (
    BATCH,
    DS_A,
    DS_B,
    EVER,
    TEMPORAL,
    URI,
    by_dataset_values,
    canon,
    create_temporal,
    instances,
    later,
    now,
    observed,
    prop,
    rel,
    retrieve,
    series,
    stamps,
    temporal_url,
    ts,
    types_of,
    unique,
    values,
    within,
)

SPEED = prop(120, ts(12, 3), unitCode="KMH", accuracy={"type": "Property", "value": 0.5})
NEXT_SPEED = prop(80, ts(12, 5))
TOMBSTONES = {"timeproperty": "deletedAt", **EVER}


# --- Recording by the core API ----------------------------------------------------------------


async def test_create_entity_returns_201_and_records_every_attribute_instance(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    before = now()
    await create(
        client,
        {
            "id": entity_id,
            "type": "Vehicle",
            "speed": SPEED,
            "temperature": [prop(20, ts(12, 3)), prop(21, ts(12, 3), datasetId=DS_A)],
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"en": "Bus"},
                "observedAt": ts(12, 3),
            },
            "owner": rel("urn:ngsi-ld:Person:p1", ts(12, 3)),
        },
    )
    after = later()
    body = await retrieve(client, entity_id)
    assert body["id"] == entity_id and body["type"] == "Vehicle"
    (speed,) = instances(body, "speed")
    assert URI.match(speed["instanceId"])
    assert canon(speed) == canon(SPEED)
    assert by_dataset_values(instances(body, "temperature")) == {None: [20], DS_A: [21]}
    assert values(body, "name", "languageMap") == [{"en": "Bus"}]
    assert values(body, "owner", "object") == ["urn:ngsi-ld:Person:p1"]
    every = [i["instanceId"] for attr in ("temperature", "name", "owner") for i in body[attr]]
    assert len(set(every)) == 4
    (stamped,) = instances(await retrieve(client, entity_id, options="sysAttrs"), "speed")
    assert within(stamped["createdAt"], before, after)  # the time it was recorded
    assert stamped["modifiedAt"] == stamped["createdAt"]


WRITES = {  # operation: (method, url, body, params); ID stands for the entity id
    "create": ("POST", ENTITIES, "entity", {}),
    "batch-create": ("POST", BATCH + "create", "batch", {}),
    "batch-upsert": ("POST", BATCH + "upsert", "batch", {}),
}
CHANGES = {
    "update": ("PATCH", "attrs", "fragment", {}),
    "partial-update": ("PATCH", "speed", "instance", {}),
    "append": ("POST", "attrs", "fragment", {}),
    "replace-attribute": ("PUT", "speed", "instance", {}),
    "merge": ("PATCH", "entity", "fragment", {}),
    "replace": ("PUT", "entity", "replacement", {}),
    "batch-upsert": ("POST", BATCH + "upsert", "batch", {"options": "update"}),
    "batch-update": ("POST", BATCH + "update", "batch", {}),
    "batch-merge": ("POST", BATCH + "merge", "batch", {}),
}


def write_request(entity_id: str, where: str, shape: str, speed: dict[str, Any]) -> tuple[str, Any]:
    """The url and body of a core write that sets speed."""
    url = {"attrs": entity_url(entity_id, ""), "speed": entity_url(entity_id, "speed")}.get(
        where, entity_url(entity_id) if where == "entity" else where
    )
    entity = {"id": entity_id, "type": "Vehicle", "speed": speed}
    body = {
        "entity": entity,
        "batch": [entity],
        "fragment": {"speed": speed},
        "instance": speed,
        "replacement": {"type": "Vehicle", "speed": speed},
    }[shape]
    return url, body


@pytest.mark.parametrize("operation", list(WRITES))
async def test_entity_creation_returns_201_and_records_the_instances(
    client: httpx.AsyncClient, entity_id: str, operation: str
) -> None:
    method, where, shape, params = WRITES[operation]
    url, body = write_request(entity_id, where, shape, prop(120, ts(12, 3)))
    response = await client.request(method, url, json=body, params=params, headers=JSON)
    assert response.status_code == 201, response.text
    found = await retrieve(client, entity_id)
    assert values(found, "speed") == [120]
    assert observed(found, "speed") == stamps(ts(12, 3))


@pytest.mark.parametrize("change", list(CHANGES))
async def test_attribute_change_returns_204_and_records_a_new_instance(
    client: httpx.AsyncClient, entity_id: str, change: str
) -> None:
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": prop(120, ts(12, 3))})
    method, where, shape, params = CHANGES[change]
    url, body = write_request(entity_id, where, shape, NEXT_SPEED)
    response = await client.request(method, url, json=body, params=params, headers=JSON)
    assert response.status_code == 204, response.text
    found = await retrieve(client, entity_id)
    assert values(found, "speed") == [120, 80]
    assert observed(found, "speed") == stamps(ts(12, 3), ts(12, 5))
    assert len({i["instanceId"] for i in instances(found, "speed")}) == 2


async def test_update_attributes_returns_204_and_records_an_identical_value_again(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    same = prop(120, ts(12, 3))
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": same})
    for _ in range(2):
        response = await client.patch(entity_url(entity_id, ""), json={"speed": same}, headers=JSON)
        assert response.status_code == 204, response.text
    found = await retrieve(client, entity_id)
    assert values(found, "speed") == [120, 120, 120]
    assert len({i["instanceId"] for i in instances(found, "speed")}) == 3


async def test_append_attributes_returns_204_and_records_only_the_changed_datasets(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    temperature = [prop(20, ts(12, 3)), prop(21, ts(12, 3), datasetId=DS_A)]
    await create(client, {"id": entity_id, "type": "Vehicle", "temperature": temperature})
    fragment = {
        "temperature": [prop(22, ts(12, 5), datasetId=DS_A), prop(30, ts(12, 5), datasetId=DS_B)]
    }
    response = await client.post(entity_url(entity_id, ""), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    found = await retrieve(client, entity_id)
    assert by_dataset_values(instances(found, "temperature")) == {
        None: [20],
        DS_A: [21, 22],
        DS_B: [30],
    }


GEO = {"type": "Point", "coordinates": [139.76, 35.68]}
TYPED = {  # type: (attribute, member, the member in its tombstone)
    "Property": ({"value": 7}, "value", NGSI_NULL),
    "GeoProperty": ({"value": GEO}, "value", NGSI_NULL),
    "Relationship": ({"object": "urn:ngsi-ld:Person:p1"}, "object", NGSI_NULL),
    "LanguageProperty": ({"languageMap": {"en": "Bus"}}, "languageMap", {"@none": NGSI_NULL}),
    "ListProperty": ({"valueList": [1, 2, 3]}, "valueList", NGSI_NULL),
    "JsonProperty": ({"json": {"a": [1, 2]}}, "json", NGSI_NULL),
    "VocabProperty": ({"vocab": "bus"}, "vocab", NGSI_NULL),
}


@pytest.mark.parametrize("kind", list(TYPED))
async def test_delete_attribute_returns_204_and_records_a_tombstone(
    client: httpx.AsyncClient, entity_id: str, kind: str
) -> None:
    attribute, member, null = TYPED[kind]
    original = {"type": kind, **attribute, "observedAt": ts(12, 3)}
    await create(client, {"id": entity_id, "type": "Vehicle", "thing": original})
    before = now()
    response = await client.delete(entity_url(entity_id, "thing"))
    assert response.status_code == 204, response.text
    after = later()
    (tombstone,) = instances(await retrieve(client, entity_id, **TOMBSTONES), "thing")
    assert tombstone["type"] == kind
    assert tombstone[member] == null
    assert within(tombstone["deletedAt"], before, after)
    assert "observedAt" not in tombstone
    assert URI.match(tombstone["instanceId"])
    (kept,) = instances(await retrieve(client, entity_id), "thing")  # observedAt: not the tombstone
    assert canon(kept) == canon(original)


@pytest.mark.parametrize(
    ("params", "deleted"),
    [({}, {None}), ({"datasetId": DS_A}, {DS_A}), ({"deleteAll": "true"}, {None, DS_A})],
    ids=["default", "dataset", "all"],
)
async def test_delete_attribute_returns_204_and_records_a_tombstone_per_deleted_dataset(
    client: httpx.AsyncClient, entity_id: str, params: dict[str, str], deleted: set[Any]
) -> None:
    temperature = [prop(20, ts(12, 3)), prop(21, ts(12, 3), datasetId=DS_A)]
    await create(client, {"id": entity_id, "type": "Vehicle", "temperature": temperature})
    response = await client.delete(entity_url(entity_id, "temperature"), params=params)
    assert response.status_code == 204, response.text
    tombstones = instances(await retrieve(client, entity_id, **TOMBSTONES), "temperature")
    assert by_dataset_values(tombstones) == {ds: [NGSI_NULL] for ds in deleted}


async def test_delete_entity_returns_204_and_keeps_its_history_with_deleted_at(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    name = {"type": "LanguageProperty", "languageMap": {"en": "Bus"}, "observedAt": ts(12, 3)}
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": SPEED, "name": name})
    before = now()
    response = await client.delete(entity_url(entity_id))
    assert response.status_code == 204, response.text
    after = later()
    assert (await client.get(entity_url(entity_id))).status_code == 404
    history = await retrieve(client, entity_id, options="sysAttrs")
    assert within(history["deletedAt"], before, after)
    assert values(history, "speed") == [120]
    assert values(history, "name", "languageMap") == [{"en": "Bus"}]
    tombstones = await retrieve(client, entity_id, **TOMBSTONES)
    assert values(tombstones, "speed") == [NGSI_NULL]
    assert values(tombstones, "name", "languageMap") == [{"@none": NGSI_NULL}]
    assert all(
        within(i["deletedAt"], before, after) for i in tombstones["speed"] + tombstones["name"]
    )


async def test_create_entity_returns_201_and_continues_the_history_of_a_deleted_entity(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": prop(120, ts(12, 3))})
    assert (await client.delete(entity_url(entity_id))).status_code == 204
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": prop(90, ts(12, 9))})
    found = await retrieve(client, entity_id)
    assert values(found, "speed") == [120, 90]
    assert (await fetch(client, entity_id))["speed"]["value"] == 90


async def test_append_attributes_returns_204_and_a_deleted_attribute_reappears(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create(client, {"id": entity_id, "type": "Vehicle", "speed": prop(120, ts(12, 3))})
    await asyncio.sleep(0.002)  # distinct createdAt for the order check below
    assert (await client.delete(entity_url(entity_id, "speed"))).status_code == 204
    await asyncio.sleep(0.002)  # distinct createdAt for the order check below
    response = await client.post(
        entity_url(entity_id, ""), json={"speed": prop(90, ts(12, 9))}, headers=JSON
    )
    assert response.status_code == 204, response.text
    assert values(await retrieve(client, entity_id), "speed") == [120, 90]
    assert values(await retrieve(client, entity_id, **TOMBSTONES), "speed") == [NGSI_NULL]
    by_creation = await retrieve(
        client, entity_id, timeproperty="createdAt", options="sysAttrs", **EVER
    )
    assert values(by_creation, "speed") == [120, NGSI_NULL, 90]


class TestWithoutHistory:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"temporal_history": False}

    async def test_create_entity_returns_201_and_records_nothing_when_history_is_off(
        self, client: httpx.AsyncClient, entity_id: str
    ) -> None:
        await create(client, {"id": entity_id, "type": "Vehicle", "speed": SPEED})
        assert_problem(await client.get(temporal_url(entity_id)), 404, "ResourceNotFound")


# --- POST /temporal/entities (5.6.11) ---------------------------------------------------------


async def test_create_temporal_returns_201_with_the_location_of_the_new_evolution(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    body = {"id": entity_id, "type": "Vehicle", "speed": series([(120, ts(12, 3))])}
    response = await client.post(TEMPORAL, json=body, headers=JSON)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == temporal_url(entity_id)
    assert response.content == b""
    assert (await client.get(response.headers["location"])).status_code == 200


async def test_create_temporal_returns_201_and_creates_the_entity_from_the_latest_instances(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create_temporal(
        client,
        {
            "id": entity_id,
            "type": "Vehicle",
            "speed": series([(100, ts(12, 7)), (120, ts(12, 3)), (80, ts(12, 5))]),
            "status": [prop("parked"), prop("moving")],
            "temperature": [
                prop(25, ts(12, 9)),
                prop(20, ts(12, 3)),
                prop(21, ts(12, 3), datasetId=DS_A),
            ],
            "owner": rel("urn:ngsi-ld:Person:p1", ts(12, 3)),
        },
    )
    history = await retrieve(client, entity_id)
    assert values(history, "speed") == [120, 80, 100]
    assert observed(history, "speed") == stamps(ts(12, 3), ts(12, 5), ts(12, 7))
    current = await fetch(client, entity_id)
    assert canon(current["speed"]) == canon(prop(100, ts(12, 7)))
    assert current["status"]["value"] == "moving"
    temperature = by_dataset(current["temperature"])
    assert {ds: item["value"] for ds, item in temperature.items()} == {None: 25, DS_A: 21}
    assert current["owner"]["object"] == "urn:ngsi-ld:Person:p1"


async def test_create_temporal_returns_204_and_adds_instances_when_the_evolution_exists(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create_temporal(
        client, {"id": entity_id, "type": "Vehicle", "speed": [prop(120, ts(12, 3))]}
    )
    current = await fetch(client, entity_id)
    more = {
        "id": entity_id,
        "type": "Bus",
        "speed": prop(80, ts(12, 5)),
        "fuel": prop(40, ts(12, 5)),
    }
    response = await client.post(TEMPORAL, json=more, headers=JSON)
    assert response.status_code == 204, response.text
    assert response.content == b""
    history = await retrieve(client, entity_id)
    assert values(history, "speed") == [120, 80]
    assert values(history, "fuel") == [40]
    assert types_of(history) == {"Vehicle", "Bus"}
    assert await fetch(client, entity_id) == current


CREATE_ERRORS = {  # case: (body, error type, whether the body names the test's entity)
    "no-id": ({"type": "Vehicle"}, "BadRequestData", False),
    "id-not-a-uri": ({"id": "not a uri", "type": "Vehicle"}, "BadRequestData", False),
    "no-value": ({"speed": [{"type": "Property"}]}, "BadRequestData", True),
    "unknown-attribute-type": ({"speed": {"type": "Banana", "value": 1}}, "BadRequestData", True),
    "observed-at-not-a-date": ({"speed": [prop(1, "yesterday")]}, "BadRequestData", True),
    "invalid-json": (b'{"id": "urn:x:1", ', "InvalidRequest", False),
    "empty-body": (b"", "InvalidRequest", False),
}


@pytest.mark.parametrize("case", list(CREATE_ERRORS))
async def test_create_temporal_returns_400_and_creates_nothing_when_the_body_is_invalid(
    client: httpx.AsyncClient, entity_id: str, case: str
) -> None:
    body, type_name, names_entity = CREATE_ERRORS[case]
    if isinstance(body, dict):
        body = json.dumps({"id": entity_id, "type": "Vehicle", **body} if names_entity else body)
    response = await client.post(TEMPORAL, content=body, headers=JSON)
    assert_problem(response, 400, type_name)
    if names_entity:
        assert (await client.get(temporal_url(entity_id))).status_code == 404
        assert (await client.get(entity_url(entity_id))).status_code == 404


# --- POST /temporal/entities/{id}/attrs (5.6.12) ----------------------------------------------


async def test_append_temporal_attributes_returns_204_and_adds_the_instances(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    await create_temporal(
        client, {"id": entity_id, "type": "Vehicle", "speed": [prop(120, ts(12, 3))]}
    )
    fragment = {
        "speed": series([(80, ts(12, 5)), (100, ts(12, 7))]),
        "fuel": prop(40, ts(12, 5), datasetId=DS_A),
    }
    response = await client.post(temporal_url(entity_id, ""), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    history = await retrieve(client, entity_id)
    assert values(history, "speed") == [120, 80, 100]
    assert by_dataset_values(instances(history, "fuel")) == {DS_A: [40]}
    assert types_of(history) == {"Vehicle"}


async def test_append_temporal_attributes_returns_404_when_the_entity_is_unknown(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    fragment = {"speed": [prop(80, ts(12, 5))]}
    response = await client.post(temporal_url(entity_id, ""), json=fragment, headers=JSON)
    assert_problem(response, 404, "ResourceNotFound")
    assert (await client.get(temporal_url(entity_id))).status_code == 404


# --- DELETE /temporal/entities/{id}/attrs/{attrId} (5.6.13) -----------------------------------


@pytest.fixture
async def multi(client: httpx.AsyncClient, entity_id: str) -> str:
    """An evolution whose temperature has default, DS_A and DS_B instances."""
    await create_temporal(
        client,
        {
            "id": entity_id,
            "type": "Vehicle",
            "speed": series([(120, ts(12, 3))]),
            "temperature": [
                *series([(20, ts(12, 3)), (21, ts(12, 5))]),
                prop(30, ts(12, 3), datasetId=DS_A),
                prop(40, ts(12, 3), datasetId=DS_B),
            ],
        },
    )
    return entity_id


@pytest.mark.parametrize(
    ("params", "remaining"),
    [
        ({}, {DS_A: [30], DS_B: [40]}),
        ({"datasetId": DS_A}, {None: [20, 21], DS_B: [40]}),
        ({"deleteAll": "true"}, None),
    ],
    ids=["default", "dataset", "all"],
)
async def test_delete_temporal_attribute_returns_204_and_removes_the_chosen_instances(
    client: httpx.AsyncClient, multi: str, params: dict[str, str], remaining: Any
) -> None:
    response = await client.delete(temporal_url(multi, "temperature"), params=params)
    assert response.status_code == 204, response.text
    history = await retrieve(client, multi)
    if remaining is None:
        assert "temperature" not in history
    else:
        assert by_dataset_values(instances(history, "temperature")) == remaining
    assert values(history, "speed") == [120]
    assert "temperature" not in await retrieve(client, multi, **TOMBSTONES)  # no tombstone


@pytest.mark.parametrize(
    ("target", "params"),
    [("entity", {}), ("attribute", {}), ("dataset", {"datasetId": "urn:ngsi-ld:Dataset:none"})],
)
async def test_delete_temporal_attribute_returns_404_when_nothing_matches(
    client: httpx.AsyncClient, multi: str, target: str, params: dict[str, str]
) -> None:
    entity = "urn:ngsi-ld:Vehicle:" + unique("none") if target == "entity" else multi
    attr = "nothing" if target == "attribute" else "temperature"
    response = await client.delete(temporal_url(entity, attr), params=params)
    assert_problem(response, 404, "ResourceNotFound")
    assert len(instances(await retrieve(client, multi), "temperature")) == 4


# --- PATCH / DELETE /temporal/entities/{id}/attrs/{attrId}/{instanceId} (5.6.14, 5.6.15) ------

CORRECTION = prop(129, ts(12, 4))
BODIES = {
    "bare": CORRECTION,
    "array": [CORRECTION],
    "fragment": {"speed": CORRECTION},
    "fragment-array": {"speed": [CORRECTION]},
}


@pytest.fixture
async def speeds(client: httpx.AsyncClient, entity_id: str) -> dict[str, Any]:
    """An evolution with three speed instances; returns it as read back with sysAttrs."""
    body = {
        "id": entity_id,
        "type": "Vehicle",
        "speed": series([(120, ts(12, 3)), (80, ts(12, 5)), (100, ts(12, 7))]),
    }
    await create_temporal(client, body)
    return await retrieve(client, entity_id, options="sysAttrs")


@pytest.mark.parametrize("shape", list(BODIES))
async def test_modify_instance_returns_204_and_replaces_its_content(
    client: httpx.AsyncClient, entity_id: str, speeds: dict[str, Any], shape: str
) -> None:
    first, second, third = instances(speeds, "speed")
    before = now()
    url = temporal_url(entity_id, "speed", second["instanceId"])
    response = await client.patch(url, json=BODIES[shape], headers=JSON)
    assert response.status_code == 204, response.text
    after = later()
    history = await retrieve(client, entity_id, options="sysAttrs")
    assert values(history, "speed") == [120, 129, 100]
    old_first, changed, old_third = instances(history, "speed")
    assert (old_first, old_third) == (first, third)
    assert changed["instanceId"] == second["instanceId"]
    assert changed["createdAt"] == second["createdAt"]
    assert within(changed["modifiedAt"], before, after)
    assert moment(changed["observedAt"]) == moment(ts(12, 4))


async def test_modify_instance_returns_400_when_the_body_has_two_instances(
    client: httpx.AsyncClient, entity_id: str, speeds: dict[str, Any]
) -> None:
    url = temporal_url(entity_id, "speed", speeds["speed"][1]["instanceId"])
    response = await client.patch(url, json=[CORRECTION, CORRECTION], headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["type"].rsplit("/", 1)[-1] in {"BadRequestData", "InvalidRequest"}
    assert values(await retrieve(client, entity_id), "speed") == [120, 80, 100]


async def test_delete_instance_returns_204_and_removes_only_that_instance(
    client: httpx.AsyncClient, entity_id: str, speeds: dict[str, Any]
) -> None:
    first, second, third = instances(speeds, "speed")
    url = temporal_url(entity_id, "speed", second["instanceId"])
    response = await client.delete(url)
    assert response.status_code == 204, response.text
    assert instances(await retrieve(client, entity_id, options="sysAttrs"), "speed") == [
        first,
        third,
    ]
    assert_problem(await client.delete(url), 404, "ResourceNotFound")


INSTANCE_ERRORS = [
    ("instance-not-a-uri", 400, "BadRequestData"),
    ("entity-not-a-uri", 400, "BadRequestData"),
    ("unknown-entity", 404, "ResourceNotFound"),
    ("unknown-attribute", 404, "ResourceNotFound"),
    ("unknown-instance", 404, "ResourceNotFound"),
]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize(("case", "status", "type_name"), INSTANCE_ERRORS)
async def test_instance_operation_returns_an_error_when_the_target_is_invalid_or_unknown(
    client: httpx.AsyncClient,
    entity_id: str,
    speeds: dict[str, Any],
    method: str,
    case: str,
    status: int,
    type_name: str,
) -> None:
    entity, attr, instance = entity_id, "speed", speeds["speed"][1]["instanceId"]
    if case == "instance-not-a-uri":
        instance = "not-a-uri"
    elif case == "entity-not-a-uri":
        entity = "not-a-uri"
    elif case == "unknown-entity":
        entity = "urn:ngsi-ld:Vehicle:" + unique("none")
    elif case == "unknown-attribute":
        attr = "nothing"
    else:
        instance = "urn:ngsi-ld:Instance:" + unique("none")
    body = CORRECTION if method == "PATCH" else None
    response = await client.request(
        method, temporal_url(entity, attr, instance), json=body, headers=JSON
    )
    assert_problem(response, status, type_name)
    assert values(await retrieve(client, entity_id), "speed") == [120, 80, 100]


# --- DELETE /temporal/entities/{id} (5.6.16) --------------------------------------------------


async def test_delete_temporal_entity_returns_204_and_keeps_the_current_entity(
    client: httpx.AsyncClient, entity_id: str, speeds: dict[str, Any]
) -> None:
    current = await fetch(client, entity_id)
    response = await client.delete(temporal_url(entity_id))
    assert response.status_code == 204, response.text
    assert_problem(await client.get(temporal_url(entity_id)), 404, "ResourceNotFound")
    assert await fetch(client, entity_id) == current
    assert_problem(await client.delete(temporal_url(entity_id)), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    ("entity", "status", "type_name"),
    [
        ("urn:ngsi-ld:Vehicle:unknown-evolution", 404, "ResourceNotFound"),
        ("not-a-uri", 400, "BadRequestData"),
    ],
)
async def test_delete_temporal_entity_returns_an_error_when_the_id_is_unknown_or_invalid(
    client: httpx.AsyncClient, entity: str, status: int, type_name: str
) -> None:
    assert_problem(await client.delete(temporal_url(entity)), status, type_name)
