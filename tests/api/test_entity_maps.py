"""EntityMaps (GS CIM 009 v1.8 clause 5.14) on one hub, on SQLite and PostgreSQL: Query
Entities with ``entityMap=true`` fixes the set and order of the matching entities, pages
read through the ``NGSILD-EntityMap`` header stay as they were when the map was made, and
``/entityMaps/{id}`` retrieves, updates (``expiresAt``) and deletes the map. The federated
case (maps naming context sources) is in tests/federation/test_federated_queries.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson

from tests.api.entity_requests import ENTITIES, assert_problem

MAPS = "/ngsi-ld/v1/entityMaps/"
TYPE = "https://example.org/Lot"


def lot(n: int, free: int) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:Lot:{n:03d}",
        "type": TYPE,
        "free": {"type": "Property", "value": free},
    }


async def load(client: httpx.AsyncClient, entities: list[dict[str, object]]) -> None:
    response = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert",
        content=orjson.dumps(entities),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (201, 204), response.text


async def page(
    client: httpx.AsyncClient, emap: str | None, offset: int, **params: str
) -> httpx.Response:
    headers = {"NGSILD-EntityMap": emap} if emap else {}
    query = {"type": TYPE, "limit": "5", "offset": str(offset), **params}
    return await client.get(ENTITIES, params=query, headers=headers)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [entity["id"] for entity in response.json()]


async def test_pages_through_a_map_stay_as_they_were_when_it_was_made(
    client: httpx.AsyncClient,
) -> None:
    await load(client, [lot(n, n) for n in range(10, 30)])
    first = await page(client, None, 0, entityMap="true", count="true")
    emap = first.headers["NGSILD-EntityMap"]
    assert emap.startswith("urn:ngsi-ld:EntityMap:")
    assert first.headers["NGSILD-Results-Count"] == "20"
    assert ids(first) == [f"urn:ngsi-ld:Lot:{n:03d}" for n in range(10, 15)]
    # New entities sorting before the page, and one of the map's entities gone.
    await load(client, [lot(n, n) for n in range(0, 5)])
    deleted = await client.delete(f"{ENTITIES}/urn:ngsi-ld:Lot:016")
    assert deleted.status_code == 204
    second = await page(client, emap, 5, count="true")
    assert second.headers["NGSILD-EntityMap"] == emap
    assert second.headers["NGSILD-Results-Count"] == "20"  # the map's size
    assert ids(second) == [f"urn:ngsi-ld:Lot:{n:03d}" for n in (15, 17, 18, 19)]
    last = await page(client, emap, 15)
    assert ids(last) == [f"urn:ngsi-ld:Lot:{n:03d}" for n in range(25, 30)]
    assert 'rel="next"' not in last.headers.get("Link", "")
    # Without the map the query sees the hub as it is now.
    assert ids(await page(client, None, 5))[0] == "urn:ngsi-ld:Lot:010"


async def test_each_page_applies_the_query_again(client: httpx.AsyncClient) -> None:
    await load(client, [lot(n, 50) for n in range(10)])
    first = await page(client, None, 0, entityMap="true", q="free>=50")
    emap = first.headers["NGSILD-EntityMap"]
    await load(client, [lot(6, 0)])  # no longer matches
    assert ids(await page(client, emap, 5, q="free>=50")) == [
        f"urn:ngsi-ld:Lot:{n:03d}" for n in (5, 7, 8, 9)
    ]


async def test_a_missing_map_is_made_anew(client: httpx.AsyncClient) -> None:
    await load(client, [lot(n, n) for n in range(3)])
    response = await page(client, "urn:ngsi-ld:EntityMap:gone", 0)
    assert ids(response) == [f"urn:ngsi-ld:Lot:{n:03d}" for n in range(3)]
    assert response.headers["NGSILD-EntityMap"] != "urn:ngsi-ld:EntityMap:gone"


async def test_retrieve_returns_200_with_the_entities_held_here(
    client: httpx.AsyncClient,
) -> None:
    await load(client, [lot(n, n) for n in range(3)])
    emap = (await page(client, None, 0, entityMap="true")).headers["NGSILD-EntityMap"]
    response = await client.get(MAPS + emap)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == emap and body["type"] == "EntityMap"
    assert body["entityMap"] == {f"urn:ngsi-ld:Lot:{n:03d}": ["@none"] for n in range(3)}
    assert body["linkedMaps"] == {}
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert datetime.now(UTC) < expires <= datetime.now(UTC) + timedelta(hours=1, seconds=5)
    ld = await client.get(MAPS + emap, headers={"Accept": "application/ld+json"})
    assert "@context" in ld.json()


async def test_update_changes_expires_at_and_an_expired_map_is_gone(
    client: httpx.AsyncClient,
) -> None:
    await load(client, [lot(1, 1)])
    emap = (await page(client, None, 0, entityMap="true")).headers["NGSILD-EntityMap"]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    response = await client.patch(
        MAPS + emap,
        content=orjson.dumps({"expiresAt": later}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 204, response.text
    got = (await client.get(MAPS + emap)).json()["expiresAt"]
    assert got[:19] == later[:19]
    past = "2020-01-01T00:00:00Z"
    response = await client.patch(
        MAPS + emap,
        content=orjson.dumps({"expiresAt": past}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 204
    assert_problem(await client.get(MAPS + emap), 404, "ResourceNotFound")


async def test_update_returns_400_for_anything_but_a_datetime_expires_at(
    client: httpx.AsyncClient,
) -> None:
    await load(client, [lot(1, 1)])
    emap = (await page(client, None, 0, entityMap="true")).headers["NGSILD-EntityMap"]
    for body in ({"expiresAt": "tomorrow"}, {"entityMap": {}}, [1]):
        response = await client.patch(
            MAPS + emap, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "BadRequestData")


async def test_delete_returns_204_then_404(client: httpx.AsyncClient) -> None:
    await load(client, [lot(1, 1)])
    emap = (await page(client, None, 0, entityMap="true")).headers["NGSILD-EntityMap"]
    assert (await client.delete(MAPS + emap)).status_code == 204
    assert_problem(await client.delete(MAPS + emap), 404, "ResourceNotFound")
    assert_problem(await client.get(MAPS + emap), 404, "ResourceNotFound")


async def test_maps_return_400_for_an_id_that_is_not_a_uri(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(MAPS + "not a uri"), 400, "BadRequestData")
    assert_problem(
        await client.get(ENTITIES, params={"type": TYPE, "entityMap": "yes"}), 400, "BadRequestData"
    )


async def test_maps_are_kept_per_tenant(client: httpx.AsyncClient) -> None:
    await load(client, [lot(1, 1)])
    emap = (await page(client, None, 0, entityMap="true")).headers["NGSILD-EntityMap"]
    other = await client.get(MAPS + emap, headers={"NGSILD-Tenant": "tokyo"})
    assert other.status_code in (404,), other.text
