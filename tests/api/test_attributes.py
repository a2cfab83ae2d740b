"""Attribute operations through the HTTP API: Append (5.6.3), Update (5.6.2), Partial Attribute
Update (5.6.4), Replace Attribute (5.6.19) and Delete Attribute (5.6.5), with the UpdateResult
of a 207 (clause 5.2.18) and the rule that a failed operation changes nothing."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.api.entity_requests import (
    JSON,
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
DS_A = "urn:ngsi-ld:Dataset:a"
DS_B = "urn:ngsi-ld:Dataset:b"

SPEED = {
    "type": P,
    "value": 40,
    "unitCode": "KMH",
    "observedAt": "2024-05-01T09:00:00Z",
    "accuracy": {"type": P, "value": 0.5},
    "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Device:d1"},
}
TEMPERATURE = [
    {"type": P, "value": 20.0},
    {"type": P, "value": 21.0, "datasetId": DS_A},
    {"type": P, "value": 22.0, "datasetId": DS_B},
]
NAME = {"type": "LanguageProperty", "languageMap": {"en": "Gwanghwamun", "ko": "광화문"}}


def seed(entity_id: str) -> dict[str, Any]:
    """A fresh copy of the entity every test starts from."""
    return copy.deepcopy(
        {
            "id": entity_id,
            "type": "Road",
            "speed": SPEED,
            "temperature": TEMPERATURE,
            "name": NAME,
        }
    )


@pytest.fixture
async def seeded(client: httpx.AsyncClient, entity_id: str) -> dict[str, Any]:
    """The seed entity, created; returns what a client reads back for it."""
    await create(client, seed(entity_id))
    return await fetch(client, entity_id)


def _sorted_instances(entity: dict[str, Any]) -> dict[str, Any]:
    """An entity with multi-attributes keyed by datasetId, so their order does not matter."""
    return {
        key: by_dataset(value) if isinstance(value, list) else value
        for key, value in entity.items()
    }


async def assert_entity(client: httpx.AsyncClient, expected: dict[str, Any]) -> None:
    assert _sorted_instances(await fetch(client, expected["id"])) == _sorted_instances(expected)


# --- Append Entity Attributes (5.6.3) ------------------------------------------------------


async def test_append_attributes_returns_204_and_adds_new_attributes(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    fragment = {
        "status": {"type": P, "value": "open"},
        "crossing": {"type": "Relationship", "object": "urn:ngsi-ld:Crossing:c1"},
    }
    response = await client.post(
        entity_url(entity_id, ""), json=copy.deepcopy(fragment), headers=JSON
    )
    assert response.status_code == 204, response.text
    await assert_entity(client, {**seed(entity_id), **fragment})


async def test_append_attributes_returns_204_and_overwrites_existing_attributes(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Without noOverwrite an existing attribute is replaced as a whole."""
    fragment = {"speed": {"type": P, "value": 55}, "status": {"type": P, "value": "open"}}
    response = await client.post(
        entity_url(entity_id, ""), json=copy.deepcopy(fragment), headers=JSON
    )
    assert response.status_code == 204, response.text
    await assert_entity(client, {**seed(entity_id), **fragment})


async def test_append_attributes_returns_207_when_no_overwrite_keeps_existing_attributes(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """options=noOverwrite: existing attributes stay and are reported in notUpdated."""
    fragment = {"speed": {"type": P, "value": 55}, "status": {"type": P, "value": "open"}}
    response = await client.post(
        entity_url(entity_id, ""),
        json=copy.deepcopy(fragment),
        headers=JSON,
        params={"options": "noOverwrite"},
    )
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["updated"] == ["status"]
    assert [item["attributeName"] for item in result["notUpdated"]] == ["speed"]
    assert all(isinstance(item.get("reason"), str) for item in result["notUpdated"])
    await assert_entity(client, {**seed(entity_id), "status": fragment["status"]})


async def test_append_attributes_returns_204_when_no_overwrite_and_every_attribute_is_new(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    fragment = {"status": {"type": P, "value": "open"}}
    response = await client.post(
        entity_url(entity_id, ""),
        json=copy.deepcopy(fragment),
        headers=JSON,
        params={"options": "noOverwrite"},
    )
    assert response.status_code == 204, response.text
    await assert_entity(client, {**seed(entity_id), **fragment})


async def test_append_attributes_returns_204_and_adds_an_instance_with_a_new_dataset_id(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """A new datasetId is a new instance (clause 4.5.5), even with noOverwrite."""
    new = {"type": P, "value": 23.0, "datasetId": "urn:ngsi-ld:Dataset:c"}
    response = await client.post(
        entity_url(entity_id, ""),
        json={"temperature": copy.deepcopy(new)},
        headers=JSON,
        params={"options": "noOverwrite"},
    )
    assert response.status_code == 204, response.text
    await assert_entity(client, {**seed(entity_id), "temperature": [*TEMPERATURE, new]})


async def test_append_attributes_returns_207_with_nothing_changed_when_every_attribute_exists(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    before = await snapshot(client, entity_id)
    response = await client.post(
        entity_url(entity_id, ""),
        json={"speed": {"type": P, "value": 1}, "name": {"type": P, "value": "x"}},
        headers=JSON,
        params={"options": "noOverwrite"},
    )
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["updated"] == []
    assert sorted(item["attributeName"] for item in result["notUpdated"]) == ["name", "speed"]
    assert await snapshot(client, entity_id) == before


# --- Update Entity Attributes (5.6.2) ------------------------------------------------------


async def test_update_attributes_returns_204_and_replaces_existing_attributes(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Each attribute in the fragment replaces the existing one (same datasetId) as a whole."""
    fragment = {
        "speed": {"type": P, "value": 60, "observedAt": "2024-05-01T10:00:00Z"},
        "temperature": {"type": P, "value": 30.0, "datasetId": DS_A},
    }
    response = await client.patch(
        entity_url(entity_id, ""), json=copy.deepcopy(fragment), headers=JSON
    )
    assert response.status_code == 204, response.text
    temperature = copy.deepcopy(TEMPERATURE)
    temperature[1] = fragment["temperature"]
    await assert_entity(
        client, {**seed(entity_id), "speed": fragment["speed"], "temperature": temperature}
    )


async def test_update_attributes_returns_207_when_some_attributes_do_not_exist(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Attributes the entity lacks are not created; they are listed in notUpdated."""
    fragment = {
        "speed": {"type": P, "value": 60},
        "status": {"type": P, "value": "open"},
        "temperature": {"type": P, "value": 1.0, "datasetId": "urn:ngsi-ld:Dataset:none"},
    }
    response = await client.patch(
        entity_url(entity_id, ""), json=copy.deepcopy(fragment), headers=JSON
    )
    assert response.status_code == 207, response.text
    result = response.json()
    assert result["updated"] == ["speed"]
    assert sorted(item["attributeName"] for item in result["notUpdated"]) == [
        "status",
        "temperature",
    ]
    await assert_entity(client, {**seed(entity_id), "speed": fragment["speed"]})


async def test_update_attributes_returns_207_with_nothing_changed_when_no_attribute_exists(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    before = await snapshot(client, entity_id)
    response = await client.patch(
        entity_url(entity_id, ""), json={"status": {"type": P, "value": "open"}}, headers=JSON
    )
    assert response.status_code == 207, response.text
    assert response.json()["updated"] == []
    assert [item["attributeName"] for item in response.json()["notUpdated"]] == ["status"]
    assert await snapshot(client, entity_id) == before


async def test_update_attributes_returns_204_and_deletes_attributes_set_to_ngsi_ld_null(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Partial update (clause 5.5.8): an NGSI-LD Null removes the target attribute."""
    fragment = {
        "speed": {"type": P, "value": NGSI_NULL},
        "temperature": {"type": P, "value": NGSI_NULL, "datasetId": DS_B},
    }
    response = await client.patch(entity_url(entity_id, ""), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    expected = seed(entity_id)
    del expected["speed"]
    expected["temperature"] = TEMPERATURE[:2]
    await assert_entity(client, expected)


# --- Partial Attribute Update (5.6.4) ------------------------------------------------------


async def test_partial_attribute_update_returns_204_and_keeps_members_not_given(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Only the elements provided change; unitCode and sub-attributes not given stay."""
    fragment = {
        "value": 70,
        "observedAt": "2024-05-01T20:00:00+09:00",
        "accuracy": {"type": P, "value": 0.1},
        "lane": {"type": P, "value": 2},
    }
    response = await client.patch(entity_url(entity_id, "speed"), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    got = (await fetch(client, entity_id))["speed"]
    assert moment(got.pop("observedAt")).isoformat() == "2024-05-01T11:00:00+00:00"
    assert got == {
        "type": P,
        "value": 70,
        "unitCode": "KMH",
        "accuracy": {"type": P, "value": 0.1},
        "measuredBy": SPEED["measuredBy"],
        "lane": {"type": P, "value": 2},
    }


async def test_partial_attribute_update_returns_204_and_deletes_a_sub_attribute_set_to_null(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    fragment = {"type": P, "value": 41, "accuracy": {"type": P, "value": NGSI_NULL}}
    response = await client.patch(entity_url(entity_id, "speed"), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    expected = copy.deepcopy(SPEED)
    expected["value"] = 41
    del expected["accuracy"]
    assert (await fetch(client, entity_id))["speed"] == expected


async def test_partial_attribute_update_returns_204_and_changes_only_the_dataset_instance(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    fragment = {"value": 25.5, "datasetId": DS_B}
    response = await client.patch(entity_url(entity_id, "temperature"), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    temperature = copy.deepcopy(TEMPERATURE)
    temperature[2]["value"] = 25.5
    await assert_entity(client, {**seed(entity_id), "temperature": temperature})


async def test_partial_attribute_update_returns_204_for_a_language_property(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    fragment = {"type": "LanguageProperty", "languageMap": {"ja": "光化門", "en": "Gate"}}
    response = await client.patch(entity_url(entity_id, "name"), json=fragment, headers=JSON)
    assert response.status_code == 204, response.text
    got = (await fetch(client, entity_id))["name"]
    assert got["type"] == "LanguageProperty"
    assert got["languageMap"]["ja"] == "光化門"
    assert got["languageMap"]["en"] == "Gate"


# --- Replace Attribute (5.6.19) ------------------------------------------------------------


async def test_replace_attribute_returns_204_and_replaces_the_whole_attribute(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Members and sub-attributes of the old attribute that are not in the new one go."""
    new = {"type": P, "value": 80, "observedAt": "2024-05-02T00:00:00Z"}
    response = await client.put(
        entity_url(entity_id, "speed"), json=copy.deepcopy(new), headers=JSON
    )
    assert response.status_code == 204, response.text
    await assert_entity(client, {**seed(entity_id), "speed": new})


async def test_replace_attribute_returns_204_and_may_change_the_attribute_type(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    new = {"type": "Relationship", "object": "urn:ngsi-ld:Sign:s9", "objectType": "Sign"}
    response = await client.put(
        entity_url(entity_id, "speed"), json=copy.deepcopy(new), headers=JSON
    )
    assert response.status_code == 204, response.text
    await assert_entity(client, {**seed(entity_id), "speed": new})


async def test_replace_attribute_returns_204_and_replaces_only_the_dataset_instance(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    new = {"type": P, "value": -1.0, "datasetId": DS_A, "unitCode": "CEL"}
    response = await client.put(
        entity_url(entity_id, "temperature"), json=copy.deepcopy(new), headers=JSON
    )
    assert response.status_code == 204, response.text
    temperature = copy.deepcopy(TEMPERATURE)
    temperature[1] = new
    await assert_entity(client, {**seed(entity_id), "temperature": temperature})


# --- Delete Attribute (5.6.5) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("attr", "params", "remaining"),
    [
        ("speed", {}, None),
        ("temperature", {}, [TEMPERATURE[1], TEMPERATURE[2]]),
        ("temperature", {"datasetId": DS_A}, [TEMPERATURE[0], TEMPERATURE[2]]),
        ("temperature", {"deleteAll": "true"}, None),
        ("temperature", {"deleteAll": "false"}, [TEMPERATURE[1], TEMPERATURE[2]]),
        ("name", {"deleteAll": "true"}, None),
    ],
    ids=["single", "default-instance", "dataset-id", "delete-all", "delete-all-false", "lang"],
)
async def test_delete_attribute_returns_204_and_deletes_the_chosen_instances(
    client: httpx.AsyncClient,
    entity_id: str,
    seeded: dict[str, Any],
    attr: str,
    params: dict[str, str],
    remaining: Any,
) -> None:
    response = await client.delete(entity_url(entity_id, attr), params=params)
    assert response.status_code == 204, response.text
    expected = seed(entity_id)
    if remaining is None:
        del expected[attr]
    else:
        expected[attr] = remaining
    await assert_entity(client, expected)


async def test_delete_attribute_returns_404_when_only_dataset_instances_remain(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    """Without datasetId or deleteAll the default instance is the target (Query.deleteAll)."""
    first = await client.delete(entity_url(entity_id, "temperature"))
    assert first.status_code == 204, first.text
    before = await snapshot(client, entity_id)
    again = await client.delete(entity_url(entity_id, "temperature"))
    assert_problem(again, 404, "ResourceNotFound")
    assert await snapshot(client, entity_id) == before


# --- System attributes ---------------------------------------------------------------------

CHANGES = {
    "append": ("POST", "", {"speed": {"type": P, "value": 1}}),
    "update": ("PATCH", "", {"speed": {"type": P, "value": 1}}),
    "partial-update": ("PATCH", "speed", {"value": 1}),
    "replace-attribute": ("PUT", "speed", {"type": P, "value": 1}),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_attribute_change_returns_204_and_moves_modified_at_but_not_created_at(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any], change: str
) -> None:
    """createdAt never changes; modifiedAt of the entity and the changed attribute moves on,
    other attributes keep theirs (clause 5.2.2)."""
    method, attr, body = CHANGES[change]
    before = await snapshot(client, entity_id)
    response = await client.request(method, entity_url(entity_id, attr), json=body, headers=JSON)
    assert response.status_code == 204, response.text
    after = await snapshot(client, entity_id)
    assert after["createdAt"] == before["createdAt"]
    assert moment(after["modifiedAt"]) > moment(before["modifiedAt"])
    assert moment(after["speed"]["modifiedAt"]) > moment(before["speed"]["modifiedAt"])
    assert after["name"] == before["name"]
    assert after["speed"]["value"] == 1


@pytest.mark.parametrize("change", ["update", "partial-update"])
async def test_attribute_update_returns_204_and_keeps_the_attribute_created_at(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any], change: str
) -> None:
    method, attr, body = CHANGES[change]
    before = await snapshot(client, entity_id)
    response = await client.request(method, entity_url(entity_id, attr), json=body, headers=JSON)
    assert response.status_code == 204, response.text
    after = await snapshot(client, entity_id)
    assert after["speed"]["createdAt"] == before["speed"]["createdAt"]


async def test_delete_attribute_returns_204_and_moves_the_entity_modified_at(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any]
) -> None:
    before = await snapshot(client, entity_id)
    response = await client.delete(entity_url(entity_id, "name"))
    assert response.status_code == 204, response.text
    after = await snapshot(client, entity_id)
    assert after["createdAt"] == before["createdAt"]
    assert moment(after["modifiedAt"]) > moment(before["modifiedAt"])
    assert after["speed"] == before["speed"]


# --- Failures change nothing ---------------------------------------------------------------

MISSING = "urn:ngsi-ld:Road:does-not-exist"
FAILURES: dict[str, tuple[str, str | None, str, Any, dict[str, str], int, str]] = {
    # name: (method, entity (None = the seeded one), attr path, body, params, status, error)
    "append-missing-entity": ("POST", MISSING, "", {"a": 1}, {}, 404, "ResourceNotFound"),
    "append-invalid-attribute": (
        "POST",
        None,
        "",
        {"ok": {"type": P, "value": 1}, "bad": {"type": "Relationship", "object": "no uri"}},
        {},
        400,
        "BadRequestData",
    ),
    "append-other-id": (
        "POST",
        None,
        "",
        {"id": "urn:ngsi-ld:Road:other", "a": 1},
        {},
        400,
        "BadRequestData",
    ),
    "append-unknown-option": ("POST", None, "", {"a": 1}, {"options": "x"}, 400, "BadRequestData"),
    "update-missing-entity": ("PATCH", MISSING, "", {"speed": 1}, {}, 404, "ResourceNotFound"),
    "update-invalid-attribute": (
        "PATCH",
        None,
        "",
        {"speed": {"type": P, "value": 1}, "name": {"type": "LanguageProperty", "languageMap": 5}},
        {},
        400,
        "BadRequestData",
    ),
    "update-not-an-object": ("PATCH", None, "", [1, 2], {}, 400, "BadRequestData"),
    "partial-missing-entity": (
        "PATCH",
        MISSING,
        "speed",
        {"value": 1},
        {},
        404,
        "ResourceNotFound",
    ),
    "partial-missing-attribute": (
        "PATCH",
        None,
        "nothing",
        {"value": 1},
        {},
        404,
        "ResourceNotFound",
    ),
    "partial-missing-dataset": (
        "PATCH",
        None,
        "temperature",
        {"value": 1, "datasetId": "urn:ngsi-ld:Dataset:none"},
        {},
        404,
        "ResourceNotFound",
    ),
    "partial-invalid-fragment": (
        "PATCH",
        None,
        "speed",
        {"value": 1, "observedAt": "noon"},
        {},
        400,
        "BadRequestData",
    ),
    "replace-attr-missing-entity": (
        "PUT",
        MISSING,
        "speed",
        {"type": P, "value": 1},
        {},
        404,
        "ResourceNotFound",
    ),
    "replace-attr-missing-attribute": (
        "PUT",
        None,
        "nothing",
        {"type": P, "value": 1},
        {},
        404,
        "ResourceNotFound",
    ),
    "replace-attr-invalid": (
        "PUT",
        None,
        "speed",
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [200, 0]}},
        {},
        400,
        "BadRequestData",
    ),
    "replace-attr-null": (
        "PUT",
        None,
        "speed",
        {"type": P, "value": None},
        {},
        400,
        "BadRequestData",
    ),
    "delete-attr-missing-entity": ("DELETE", MISSING, "speed", None, {}, 404, "ResourceNotFound"),
    "delete-attr-missing-attribute": ("DELETE", None, "nothing", None, {}, 404, "ResourceNotFound"),
    "delete-attr-missing-dataset": (
        "DELETE",
        None,
        "temperature",
        None,
        {"datasetId": "urn:ngsi-ld:Dataset:none"},
        404,
        "ResourceNotFound",
    ),
    "delete-attr-dataset-not-uri": (
        "DELETE",
        None,
        "temperature",
        None,
        {"datasetId": "not a uri"},
        400,
        "BadRequestData",
    ),
    "delete-attr-bad-delete-all": (
        "DELETE",
        None,
        "temperature",
        None,
        {"deleteAll": "yes"},
        400,
        "BadRequestData",
    ),
    "delete-attr-default-missing-on-single-dataset": (
        "DELETE",
        None,
        "speed",
        None,
        {"datasetId": DS_A},
        404,
        "ResourceNotFound",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_attribute_operation_returns_error_and_leaves_the_entity_unchanged(
    client: httpx.AsyncClient, entity_id: str, seeded: dict[str, Any], case: str
) -> None:
    """Each operation is one transaction (clauses 5.6.2–5.6.5, 5.6.19): an error writes
    nothing, so every member, value and timestamp reads back as before."""
    method, target, attr, body, params, status, error = FAILURES[case]
    before = await snapshot(client, entity_id)
    url = entity_url(target or entity_id, attr)
    kwargs: dict[str, Any] = {"params": params}
    if body is not None:
        kwargs.update(json=body, headers=JSON)
    response = await client.request(method, url, **kwargs)
    assert_problem(response, status, error)
    assert await snapshot(client, entity_id) == before
    if target is not None:
        assert (await client.get(entity_url(target))).status_code == 404
