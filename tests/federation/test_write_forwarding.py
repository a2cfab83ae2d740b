"""Entity writes on exclusive and redirect context sources (clauses 4.3.6.2, 4.3.6.3, 5.6):
a central hub (SQLite or PostgreSQL) and a source hub (SQLite), real processes on
127.0.0.1. Exclusively registered attributes land on the source and never in the central
store, the rest stays central, and retrieval through the central hub shows them merged; a
redirect registration sends everything to the source; a source that is down or silent gives
207 naming it with the local part kept; a refused operation is OperationNotSupported;
local=true writes locally; a registration loop ends. Each test works in its own tenant, so
the central hub's registration cache never holds a stale view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tests.federation.hubs import CORE, PARKING_CTX, Hub, link, parking, start_hub
from tests.scenarios.test_serve import FreshDatabases, free_port

PARKING_LINK = link(PARKING_CTX)
LD = {"Content-Type": "application/ld+json"}
JSON_LINK = {"Content-Type": "application/json", "Link": PARKING_LINK}
ENTITIES = "/ngsi-ld/v1/entities"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Hub, Hub]]:
    """(central hub on the parametrised backend, source hub on SQLite)."""
    tmp = tmp_path_factory.mktemp(f"writes-{request.param}")
    databases = FreshDatabases(tmp)
    started: list[Hub] = []
    try:
        central_db, source_db = await databases.new(request.param), await databases.new("sqlite")
        central, source = await asyncio.gather(
            start_hub("central", central_db, tmp), start_hub("source", source_db, tmp)
        )
        started += [central, source]
        yield central, source
    finally:
        for hub in started:
            await hub.server.stop()
        await databases.drop_all()


async def call(
    hub: Hub,
    method: str,
    path: str,
    tenant: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    sent = {"NGSILD-Tenant": tenant, "Link": PARKING_LINK}
    if body is not None:
        chosen = headers or (LD if isinstance(body, dict) and "@context" in body else JSON_LINK)
        sent = {"NGSILD-Tenant": tenant, **chosen}
    async with hub.client() as http:
        return await asyncio.wait_for(
            http.request(
                method,
                path,
                params=params,
                headers=sent,
                content=orjson.dumps(body) if body is not None else None,
            ),
            20,
        )


async def register(
    central: Hub,
    tenant: str,
    endpoint: str,
    mode: str,
    information: list[dict[str, Any]],
    *,
    operations: tuple[str, ...] = ("redirectionOps",),
    extra: dict[str, Any] | None = None,
) -> str:
    reg_id = f"urn:ngsi-ld:ContextSourceRegistration:{tenant}-{mode}"
    body = {
        "id": reg_id,
        "type": "ContextSourceRegistration",
        "information": information,
        "endpoint": endpoint,
        "tenant": tenant,
        "mode": mode,
        "operations": list(operations),
        "@context": [PARKING_CTX, CORE],
        **(extra or {}),
    }
    response = await call(central, "POST", "/ngsi-ld/v1/csourceRegistrations", tenant, body)
    assert response.status_code == 201, response.text
    return reg_id


async def recorded(hub: Hub, tenant: str, reg_id: str, member: str) -> dict[str, Any]:
    """The registration once its status shows ``member`` (outcomes are written within 1 s)."""
    while True:
        shown = await call(hub, "GET", f"/ngsi-ld/v1/csourceRegistrations/{reg_id}", tenant)
        if member in shown.json():
            return dict(shown.json())
        await asyncio.sleep(0.2)


def exclusive_info(entity_id: str, *names: str) -> list[dict[str, Any]]:
    return [
        {
            "entities": [{"id": entity_id, "type": "OffStreetParking"}],
            "propertyNames": list(names),
        }
    ]


async def entity(hub: Hub, tenant: str, entity_id: str, **params: str) -> dict[str, Any] | None:
    response = await call(
        hub, "GET", f"{ENTITIES}/{entity_id}", tenant, options="keyValues", **params
    )
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def attrs(found: dict[str, Any] | None) -> set[str]:
    assert found is not None
    return set(found) - {"id", "type", "@context"}


ALL = {"name", "availableSpotNumber", "totalSpotNumber", "location"}


async def test_writes_of_exclusively_registered_attributes_land_on_the_source_only(
    hubs: tuple[Hub, Hub],
) -> None:
    central, source = hubs
    tenant = "excl"
    lot = parking("excl", 1, 127.0, 37.5, free=10)
    reg_id = await register(
        central, tenant, source.url, "exclusive", exclusive_info(lot["id"], "availableSpotNumber")
    )

    created = await call(central, "POST", ENTITIES, tenant, lot)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/ngsi-ld/v1/entities/{lot['id']}"
    at_source = await entity(source, tenant, lot["id"])
    assert attrs(at_source) == {"availableSpotNumber"}
    assert at_source is not None and at_source["availableSpotNumber"] == 10
    assert attrs(await entity(central, tenant, lot["id"], local="true")) == ALL - {
        "availableSpotNumber"
    }
    merged = await entity(central, tenant, lot["id"])
    assert attrs(merged) == ALL
    assert merged is not None and merged["availableSpotNumber"] == 10

    patch = {
        "availableSpotNumber": {"type": "Property", "value": 7},
        "totalSpotNumber": {"type": "Property", "value": 120},
    }
    updated = await call(central, "PATCH", f"{ENTITIES}/{lot['id']}/attrs", tenant, patch)
    assert updated.status_code == 204, updated.text
    at_source = await entity(source, tenant, lot["id"])
    assert at_source is not None and at_source["availableSpotNumber"] == 7
    local = await entity(central, tenant, lot["id"], local="true")
    assert local is not None and local["totalSpotNumber"] == 120
    assert "availableSpotNumber" not in local

    partial = await call(
        central,
        "PATCH",
        f"{ENTITIES}/{lot['id']}/attrs/availableSpotNumber",
        tenant,
        {"value": 3},
    )
    assert partial.status_code == 204, partial.text
    merged = await entity(central, tenant, lot["id"])
    assert merged is not None and merged["availableSpotNumber"] == 3

    replacement = parking("excl", 1, 127.1, 37.6, free=4)
    del replacement["name"]
    replaced = await call(central, "PUT", f"{ENTITIES}/{lot['id']}", tenant, replacement)
    assert replaced.status_code == 204, replaced.text
    assert attrs(await entity(source, tenant, lot["id"])) == {"availableSpotNumber"}
    assert attrs(await entity(central, tenant, lot["id"], local="true")) == {
        "totalSpotNumber",
        "location",
    }

    removed = await call(
        central, "DELETE", f"{ENTITIES}/{lot['id']}/attrs/availableSpotNumber", tenant
    )
    assert removed.status_code == 204, removed.text
    assert attrs(await entity(source, tenant, lot["id"])) == set()

    deleted = await call(central, "DELETE", f"{ENTITIES}/{lot['id']}", tenant)
    assert deleted.status_code == 204, deleted.text
    assert await entity(source, tenant, lot["id"]) is None
    assert await entity(central, tenant, lot["id"]) is None

    shown = await asyncio.wait_for(recorded(central, tenant, reg_id, "lastSuccess"), 10)
    assert "lastFailure" not in shown


async def test_writes_under_a_redirect_registration_land_on_the_source_alone(
    hubs: tuple[Hub, Hub],
) -> None:
    central, source = hubs
    tenant = "redir"
    await register(
        central, tenant, source.url, "redirect", [{"entities": [{"type": "OffStreetParking"}]}]
    )
    lot = parking("redir", 1, 127.0, 37.5, free=10)

    created = await call(central, "POST", ENTITIES, tenant, lot)
    assert created.status_code == 201, created.text
    assert attrs(await entity(source, tenant, lot["id"])) == ALL
    assert await entity(central, tenant, lot["id"], local="true") is None

    merged = await call(
        central,
        "PATCH",
        f"{ENTITIES}/{lot['id']}",
        tenant,
        {"availableSpotNumber": {"type": "Property", "value": 1}, "note": "redirected"},
    )
    assert merged.status_code == 204, merged.text
    seen = await entity(central, tenant, lot["id"])
    assert seen is not None and seen["availableSpotNumber"] == 1 and seen["note"] == "redirected"
    assert await entity(central, tenant, lot["id"], local="true") is None

    again = await call(central, "POST", ENTITIES, tenant, lot)
    assert again.status_code == 409, again.text
    assert again.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"

    deleted = await call(central, "DELETE", f"{ENTITIES}/{lot['id']}", tenant)
    assert deleted.status_code == 204, deleted.text
    assert await entity(source, tenant, lot["id"]) is None
    missing = await call(
        central, "PATCH", f"{ENTITIES}/{lot['id']}/attrs", tenant, {"note": "nowhere"}
    )
    assert missing.status_code == 404, missing.text


async def test_writes_return_207_naming_a_source_that_is_down_and_keep_the_local_part(
    hubs: tuple[Hub, Hub],
) -> None:
    central, _ = hubs
    tenant = "down"
    lot = parking("down", 1, 127.0, 37.5, free=10)
    dead = f"http://127.0.0.1:{free_port()}"
    reg_id = await register(
        central, tenant, dead, "exclusive", exclusive_info(lot["id"], "availableSpotNumber")
    )

    created = await call(central, "POST", ENTITIES, tenant, lot)
    assert created.status_code == 207, created.text
    assert created.headers["Location"] == f"/ngsi-ld/v1/entities/{lot['id']}"
    body = created.json()
    assert body["success"] == [lot["id"]]
    [error] = body["errors"]
    assert error["entityId"] == lot["id"] and error["registrationId"] == reg_id
    assert dead in error["error"]["detail"]
    assert attrs(await entity(central, tenant, lot["id"], local="true")) == ALL - {
        "availableSpotNumber"
    }

    patch = {
        "availableSpotNumber": {"type": "Property", "value": 7},
        "totalSpotNumber": {"type": "Property", "value": 120},
    }
    updated = await call(central, "PATCH", f"{ENTITIES}/{lot['id']}/attrs", tenant, patch)
    assert updated.status_code == 207, updated.text
    result = updated.json()
    assert result["updated"] == ["totalSpotNumber"]
    [missing] = result["notUpdated"]
    assert missing["attributeName"] == "availableSpotNumber"
    assert missing["registrationId"] == reg_id and dead in missing["reason"]
    local = await entity(central, tenant, lot["id"], local="true")
    assert local is not None and local["totalSpotNumber"] == 120

    shown = await asyncio.wait_for(recorded(central, tenant, reg_id, "lastFailure"), 10)
    assert shown["timesFailed"] >= 1


async def test_writes_return_207_when_a_source_does_not_answer_in_time(
    hubs: tuple[Hub, Hub],
) -> None:
    central, _ = hubs
    tenant = "silent"

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the hub gives up and closes
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reg_id = await register(
            central,
            tenant,
            f"http://127.0.0.1:{port}",
            "redirect",
            [{"entities": [{"type": "OffStreetParking"}]}],
            extra={"management": {"timeout": 300}},
        )
        created = await call(central, "POST", ENTITIES, tenant, parking("silent", 1, 1, 1, 1))
    finally:
        server.close()
    assert created.status_code == 207, created.text
    body = created.json()
    assert body["success"] == []
    assert body["errors"][0]["registrationId"] == reg_id
    assert "no answer within 0.3 s" in body["errors"][0]["error"]["detail"]


async def test_writes_an_exclusive_source_does_not_serve_are_refused(
    hubs: tuple[Hub, Hub],
) -> None:
    central, source = hubs
    tenant = "refused"
    lot = parking("refused", 1, 127.0, 37.5, free=10)
    reg_id = await register(
        central,
        tenant,
        source.url,
        "exclusive",
        exclusive_info(lot["id"], "availableSpotNumber"),
        operations=("retrieveOps",),
    )
    bare = {k: v for k, v in lot.items() if k != "availableSpotNumber"}
    assert (await call(central, "POST", ENTITIES, tenant, bare)).status_code == 201

    only = {"availableSpotNumber": {"type": "Property", "value": 7}}
    refused = await call(central, "PATCH", f"{ENTITIES}/{lot['id']}/attrs", tenant, only)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported"

    both = {**only, "totalSpotNumber": {"type": "Property", "value": 120}}
    partly = await call(central, "PATCH", f"{ENTITIES}/{lot['id']}/attrs", tenant, both)
    assert partly.status_code == 207, partly.text
    assert partly.json()["updated"] == ["totalSpotNumber"]
    assert partly.json()["notUpdated"][0]["registrationId"] == reg_id
    local = await entity(central, tenant, lot["id"], local="true")
    assert local is not None and "availableSpotNumber" not in local

    invalid = await call(
        central,
        "PATCH",
        f"{ENTITIES}/{lot['id']}/attrs",
        tenant,
        {"availableSpotNumber": {"type": "Property"}},
    )
    assert invalid.status_code == 400, invalid.text


async def test_writes_with_local_true_stay_in_the_local_store(hubs: tuple[Hub, Hub]) -> None:
    central, source = hubs
    tenant = "localonly"
    lot = parking("localonly", 1, 127.0, 37.5, free=10)
    await register(
        central, tenant, source.url, "exclusive", exclusive_info(lot["id"], "availableSpotNumber")
    )
    created = await call(central, "POST", ENTITIES, tenant, lot, local="true")
    assert created.status_code == 201, created.text
    assert attrs(await entity(central, tenant, lot["id"], local="true")) == ALL
    assert await entity(source, tenant, lot["id"]) is None


async def test_write_through_a_registration_loop_between_two_hubs_ends(
    hubs: tuple[Hub, Hub],
) -> None:
    central, source = hubs
    tenant = "loop"
    redirect = [{"entities": [{"type": "OffStreetParking"}]}]
    await register(central, tenant, source.url, "redirect", redirect)
    reg_id = await register(source, tenant, central.url, "redirect", redirect)
    lot = parking("loop", 1, 127.0, 37.5, free=10)

    created = await call(central, "POST", ENTITIES, tenant, lot)
    assert created.status_code == 201, created.text
    # central → source → central, which sees itself in Via and stores it.
    assert attrs(await entity(central, tenant, lot["id"], local="true")) == ALL
    assert await entity(source, tenant, lot["id"], local="true") is None
    went_round = await asyncio.wait_for(recorded(source, tenant, reg_id, "lastSuccess"), 10)
    assert went_round["timesSent"] >= 1


async def test_batch_operations_forward_the_items_a_registration_concerns(
    hubs: tuple[Hub, Hub],
) -> None:
    central, source = hubs
    tenant = "batch"
    kept, sent = parking("batch", 1, 127.0, 37.5, free=1), parking("batch", 2, 127.0, 37.5, free=2)
    await register(
        central, tenant, source.url, "exclusive", exclusive_info(sent["id"], "availableSpotNumber")
    )
    operations = "/ngsi-ld/v1/entityOperations"

    created = await call(central, "POST", f"{operations}/create", tenant, [kept, sent], headers=LD)
    assert created.status_code == 201, created.text
    assert sorted(created.json()) == sorted([kept["id"], sent["id"]])
    assert attrs(await entity(central, tenant, kept["id"], local="true")) == ALL
    assert attrs(await entity(source, tenant, sent["id"])) == {"availableSpotNumber"}
    assert attrs(await entity(central, tenant, sent["id"], local="true")) == ALL - {
        "availableSpotNumber"
    }

    newer = {
        "id": sent["id"],
        "type": "OffStreetParking",
        "availableSpotNumber": {"type": "Property", "value": 9},
        "@context": [PARKING_CTX, CORE],
    }
    upserted = await call(
        central, "POST", f"{operations}/upsert", tenant, [newer], headers=LD, options="update"
    )
    assert upserted.status_code == 204, upserted.text
    at_source = await entity(source, tenant, sent["id"])
    assert at_source is not None and at_source["availableSpotNumber"] == 9

    deleted = await call(
        central, "POST", f"{operations}/delete", tenant, [kept["id"], sent["id"]], headers=JSON_LINK
    )
    assert deleted.status_code == 204, deleted.text
    assert await entity(source, tenant, sent["id"]) is None
    assert await entity(central, tenant, kept["id"]) is None
