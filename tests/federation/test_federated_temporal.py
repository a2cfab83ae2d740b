"""Temporal queries across hubs (issue 8; clauses 4.3.6, 5.7.3, 5.7.4): a regional hub on
SQLite or PostgreSQL registered two city hubs (Seoul on the same backend, sharing parking
with the region as a partner; Tokyo on SQLite) for the temporal operations, and answers
Retrieve and Query Temporal Evolution from both: instances of every city, one entity two
cities hold merged instance by instance, lastN over the merged instances, consistent
pages, aggregations over the merged instances, the batch form, a dead source and a slow
one (200 with NGSILD-Warning), local=true and a registration loop. Seoul's partner reads
temporal data like Query Entities: shared types and attributes only."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from cityhub.federation.temporal_merge import cut
from cityhub.federation.temporal_sources import duration_text
from cityhub.model.history import TemporalInstance
from cityhub.query.temporal import TemporalQuery, format_micros, parse_duration
from tests.federation.hubs import (
    CORE,
    PARKING_CTX,
    TRANSPORT_CTX,
    Hub,
    link,
    register,
    start_hub,
)
from tests.http_server import ContextServer
from tests.scenarios.test_serve import FreshDatabases

ADMIN = "admin-key-0123456789abcdef"
PARTNER = "region-key-0123456789abcdef"
SEOUL_CONFIG = f"""
admin_key = "{ADMIN}"

[[partners]]
name = "region"
key = "{PARTNER}"
types = ["OffStreetParking", "OnStreetParking"]

[partners.attributes]
OffStreetParking = ["availableSpotNumber", "name", "location"]
OnStreetParking = ["status"]
"""
PARKING_LINK = link(PARKING_CTX)
TEMPORAL_OPS = ["federationOps", "retrieveTemporal", "queryTemporal"]
EVER = {"timerel": "after", "timeAt": "2026-11-29T00:00:00Z"}
SHARED = "urn:ngsi-ld:OffStreetParking:shared:001"
TEMPORAL = "/ngsi-ld/v1/temporal/entities"


def at(minute: int) -> str:
    return f"2026-11-29T08:{minute:02d}:00Z"


def lot(city: str, n: int, free: list[tuple[int, int]], **extra: Any) -> dict[str, Any]:
    """A car park's temporal evolution: availableSpotNumber as (value, minute) pairs."""
    return {
        "id": f"urn:ngsi-ld:OffStreetParking:{city}:{n:03d}",
        "type": "OffStreetParking",
        "availableSpotNumber": [
            {"type": "Property", "value": value, "observedAt": at(minute)} for value, minute in free
        ],
        **extra,
        "@context": [PARKING_CTX, CORE],
    }


def hidden(value: str, minute: int) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, "observedAt": at(minute)}]


async def provide(hub: Hub, tenant: str, bodies: list[dict[str, Any]], key: str = "") -> None:
    headers = {"Content-Type": "application/ld+json", "NGSILD-Tenant": tenant}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    async with hub.client() as http:
        for body in bodies:
            response = await http.post(TEMPORAL, content=orjson.dumps(body), headers=headers)
            assert response.status_code in (201, 204), response.text


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Hub]]:
    """Seoul (sharing OffStreetParking's availableSpotNumber, name and location with the
    region, and OnStreetParking's status; its car parks' priceNote and status and its
    crowds stay home), Tokyo, and the region registering both for the temporal operations.
    SHARED is in both cities: Seoul saw 5 at :00 and 7 at :20, Tokyo 5 at :00 (the same
    instance), 6 at :10 and 8 at :30."""
    tmp = tmp_path_factory.mktemp(f"temporal-{request.param}")
    databases = FreshDatabases(tmp)
    hubs: dict[str, Hub] = {}
    try:
        seoul_db, tokyo_db, region_db = await asyncio.gather(
            databases.new(request.param), databases.new("sqlite"), databases.new(request.param)
        )
        hubs["seoul"], hubs["tokyo"], hubs["region"] = await asyncio.gather(
            start_hub("seoul", seoul_db, tmp, config=SEOUL_CONFIG),
            start_hub("tokyo", tokyo_db, tmp),
            start_hub("region", region_db, tmp),
        )
        seoul = [
            lot(
                "seoul",
                n,
                [(n * 10, 0), (n * 10 + 1, 10), (n * 10 + 2, 20)],
                priceNote=hidden("internal tariff", 0),
                status=hidden("closed for staff", 10),  # shared on OnStreetParking only
            )
            for n in (1, 2)
        ]
        seoul.append(lot("shared", 1, [(5, 0), (7, 20)]))
        seoul.append(
            {
                "id": "urn:ngsi-ld:CrowdFlowObserved:seoul:001",
                "type": "CrowdFlowObserved",
                "peopleCount": [{"type": "Property", "value": 900, "observedAt": at(0)}],
                "@context": [TRANSPORT_CTX, CORE],
            }
        )
        tokyo = [lot("tokyo", n, [(n * 20, 0), (n * 20 + 1, 10), (n * 20 + 2, 20)]) for n in (1, 2)]
        tokyo.append(lot("shared", 1, [(5, 0), (6, 10), (8, 30)]))
        await provide(hubs["seoul"], "seoul", seoul, ADMIN)
        await provide(hubs["tokyo"], "tokyo", tokyo)
        key = {"contextSourceInfo": [{"key": "Authorization", "value": f"Bearer {PARTNER}"}]}
        await register(
            hubs["region"],
            hubs["seoul"],
            "seoul",
            ["OffStreetParking", "CrowdFlowObserved"],
            extra={"operations": TEMPORAL_OPS, **key},
        )
        await register(
            hubs["region"],
            hubs["tokyo"],
            "tokyo",
            ["OffStreetParking"],
            extra={"operations": TEMPORAL_OPS},
        )
        yield hubs
    finally:
        await asyncio.gather(*(hub.server.stop() for hub in hubs.values()))
        await databases.drop_all()


async def register_endpoint(
    region: Hub, endpoint: str, reg_id: str, tenant: str, **extra: Any
) -> None:
    """Register a context source that is no hub (a plain HTTP server) for OffStreetParking."""
    body = {
        "id": reg_id,
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "OffStreetParking"}]}],
        "endpoint": endpoint,
        "operations": TEMPORAL_OPS,
        **extra,
        "@context": [PARKING_CTX, CORE],
    }
    async with region.client(**{"NGSILD-Tenant": tenant}) as http:
        created = await http.post(
            "/ngsi-ld/v1/csourceRegistrations",
            json=body,
            headers={"Content-Type": "application/ld+json"},
        )
        assert created.status_code == 201, created.text


async def temporal(
    hub: Hub, path: str = TEMPORAL, *, tenant: str = "", context: str = PARKING_CTX, **params: str
) -> httpx.Response:
    headers = {"Link": link(context)}
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    async with hub.client() as http:
        return await http.get(path, params=params, headers=headers)


def entities(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert "NGSILD-Warning" not in response.headers, response.headers["NGSILD-Warning"]
    found = [e["id"] for e in response.json()]
    assert found == sorted(found)
    return {e["id"]: e for e in response.json()}


def free(entity: dict[str, Any]) -> list[tuple[int, str]]:
    """(value, observedAt) of each availableSpotNumber instance, in the order given."""
    return [(i["value"], i["observedAt"]) for i in entity["availableSpotNumber"]]


async def test_query_temporal_returns_200_with_the_instances_of_every_city(
    hubs: dict[str, Hub],
) -> None:
    found = entities(await temporal(hubs["region"], type="OffStreetParking", **EVER))
    assert set(found) == {
        "urn:ngsi-ld:OffStreetParking:seoul:001",
        "urn:ngsi-ld:OffStreetParking:seoul:002",
        SHARED,
        "urn:ngsi-ld:OffStreetParking:tokyo:001",
        "urn:ngsi-ld:OffStreetParking:tokyo:002",
    }
    assert free(found["urn:ngsi-ld:OffStreetParking:seoul:002"]) == [
        (20, at(0)),
        (21, at(10)),
        (22, at(20)),
    ]
    assert free(found["urn:ngsi-ld:OffStreetParking:tokyo:001"]) == [
        (20, at(0)),
        (21, at(10)),
        (22, at(20)),
    ]
    for entity in found.values():
        ids = [i["instanceId"] for i in entity["availableSpotNumber"]]
        assert len(set(ids)) == len(ids)
        assert {"priceNote", "status"}.isdisjoint(entity)  # Seoul does not share them


async def test_temporal_evolution_of_an_entity_in_two_cities_is_merged(
    hubs: dict[str, Hub],
) -> None:
    merged = [(5, at(0)), (6, at(10)), (7, at(20)), (8, at(30))]
    queried = entities(await temporal(hubs["region"], id=SHARED, **EVER))
    assert free(queried[SHARED]) == merged
    retrieved = await temporal(hubs["region"], f"{TEMPORAL}/{SHARED}")
    assert retrieved.status_code == 200, retrieved.text
    assert free(retrieved.json()) == merged
    ids = [i["instanceId"] for i in retrieved.json()["availableSpotNumber"]]
    assert len(set(ids)) == 4
    simplified = await temporal(
        hubs["region"], f"{TEMPORAL}/{SHARED}", options="temporalValues", **EVER
    )
    assert simplified.json()["availableSpotNumber"] == {
        "type": "Property",
        "values": [[value, when] for value, when in merged],
    }
    concise = await temporal(hubs["region"], f"{TEMPORAL}/{SHARED}", options="concise")
    assert [i["value"] for i in concise.json()["availableSpotNumber"]] == [5, 6, 7, 8]
    missing = await temporal(hubs["region"], f"{TEMPORAL}/urn:ngsi-ld:OffStreetParking:none:1")
    assert missing.status_code == 404


async def test_lastN_applies_to_the_merged_instances(hubs: dict[str, Hub]) -> None:
    retrieved = await temporal(hubs["region"], f"{TEMPORAL}/{SHARED}", lastN="2")
    assert retrieved.status_code == 200, retrieved.text
    assert free(retrieved.json()) == [(7, at(20)), (8, at(30))]
    found = entities(await temporal(hubs["region"], type="OffStreetParking", lastN="1", **EVER))
    assert free(found[SHARED]) == [(8, at(30))]
    assert free(found["urn:ngsi-ld:OffStreetParking:seoul:001"]) == [(12, at(20))]


async def test_query_temporal_pages_are_consistent_and_counted(hubs: dict[str, Hub]) -> None:
    whole = list(entities(await temporal(hubs["region"], type="OffStreetParking", **EVER)))
    pages: list[str] = []
    for offset in (0, 2, 4):
        response = await temporal(
            hubs["region"],
            type="OffStreetParking",
            limit="2",
            offset=str(offset),
            count="true",
            **EVER,
        )
        page = entities(response)
        pages += page
        if SHARED in page:  # a later page: fetched by id from both cities, merged
            assert len(page[SHARED]["availableSpotNumber"]) == 4
    assert pages == whole
    assert response.headers["NGSILD-Results-Count"] == "5"  # every duplicate within reach
    assert 'rel="next"' not in response.headers.get("Link", "")


async def test_aggregated_values_cover_the_merged_instances(hubs: dict[str, Hub]) -> None:
    found = entities(
        await temporal(
            hubs["region"],
            type="OffStreetParking",
            format="aggregatedValues",
            aggrMethods="totalCount,sum,avg,min,max",
            attrs="availableSpotNumber",
            **EVER,
        )
    )
    shared = found[SHARED]["availableSpotNumber"]  # merged: 5, 6, 7, 8 (5 once)
    assert [row[0] for row in shared["totalCount"]] == [4]
    assert [row[0] for row in shared["sum"]] == [26]
    assert [row[0] for row in shared["avg"]] == [6.5]
    assert ([r[0] for r in shared["min"]], [r[0] for r in shared["max"]]) == ([5], [8])
    seoul = found["urn:ngsi-ld:OffStreetParking:seoul:001"][
        "availableSpotNumber"
    ]  # as Seoul sent it
    assert [row[0] for row in seoul["sum"]] == [33]
    periods = await temporal(
        hubs["region"],
        f"{TEMPORAL}/{SHARED}",
        format="aggregatedValues",
        aggrMethods="sum",
        aggrPeriodDuration="PT20M",
        timerel="after",
        timeAt=at(0),
    )
    assert periods.status_code == 200, periods.text
    assert periods.json()["availableSpotNumber"]["sum"] == [
        [11, at(0), at(20)],
        [15, at(20), at(40)],
    ]


async def test_query_temporal_batch_returns_200_across_cities(hubs: dict[str, Hub]) -> None:
    body = {
        "type": "Query",
        "entities": [{"type": "OffStreetParking"}],
        "q": "availableSpotNumber>=20",
        "attrs": ["availableSpotNumber"],
        "temporalQ": {"timerel": "after", "timeAt": at(0), "lastN": 1},
        "@context": [PARKING_CTX, CORE],  # in the body: no Link header goes to the sources
    }
    pages = []
    async with hubs["region"].client() as http:
        for offset in ("0", "1"):  # the second page is fetched by id from each city
            response = await http.post(
                "/ngsi-ld/v1/temporal/entityOperations/query",
                params={"offset": offset, "limit": "2"},
                content=orjson.dumps(body),
                headers={"Content-Type": "application/ld+json"},
            )
            pages.append(entities(response))
    assert list(pages[0]) == [
        "urn:ngsi-ld:OffStreetParking:seoul:002",
        "urn:ngsi-ld:OffStreetParking:tokyo:001",
    ]
    assert list(pages[1]) == [
        "urn:ngsi-ld:OffStreetParking:tokyo:001",
        "urn:ngsi-ld:OffStreetParking:tokyo:002",
    ]
    assert free(pages[1]["urn:ngsi-ld:OffStreetParking:tokyo:002"]) == [(42, at(20))]
    assert free(pages[0]["urn:ngsi-ld:OffStreetParking:seoul:002"]) == [(22, at(20))]


async def test_query_temporal_returns_200_with_a_warning_when_a_source_is_down_or_slow(
    hubs: dict[str, Hub], tmp_path: Path
) -> None:
    databases = FreshDatabases(tmp_path)
    doomed = await start_hub("doomed", await databases.new("sqlite"), tmp_path)
    await provide(doomed, "osaka", [lot("osaka", 1, [(9, 0)])])
    reg_id = await register(
        hubs["region"],
        doomed,
        "osaka",
        ["OffStreetParking"],
        region_tenant="kansai",
        extra={"operations": TEMPORAL_OPS},
    )
    found = entities(
        await temporal(hubs["region"], tenant="kansai", type="OffStreetParking", **EVER)
    )
    assert list(found) == ["urn:ngsi-ld:OffStreetParking:osaka:001"]
    os.kill(doomed.server.process.pid, signal.SIGKILL)
    doomed.server.process.wait()
    after = await temporal(hubs["region"], tenant="kansai", type="OffStreetParking", **EVER)
    assert after.status_code == 200 and after.json() == []
    assert after.headers["NGSILD-Warning"].startswith("199 ")
    assert reg_id in after.headers["NGSILD-Warning"]
    with ContextServer() as slow:
        slow.route(TEMPORAL, [], content_type="application/json", delay=5.0)
        await register_endpoint(
            hubs["region"],
            slow.base,
            "urn:ngsi-ld:ContextSourceRegistration:slow",
            "slowland",
            management={"timeout": 300},
        )
        late = await temporal(hubs["region"], tenant="slowland", type="OffStreetParking", **EVER)
    assert late.status_code == 200 and late.json() == []
    assert "no answer within 0.3 s" in late.headers["NGSILD-Warning"]


async def test_partial_source_answer_cuts_the_merged_answer_where_it_stops(
    hubs: dict[str, Hub],
) -> None:
    """A source that answers 206 holds more after its last instance: the merged answer
    stops there too (clause 6.3.10). The source also reuses an instanceId of Tokyo's."""
    own = await temporal(hubs["tokyo"], f"{TEMPORAL}/{SHARED}", tenant="tokyo")
    tokyo_first = own.json()["availableSpotNumber"][0]["instanceId"]  # 5 at :00
    reg_id = "urn:ngsi-ld:ContextSourceRegistration:zz-partial"  # asked after Tokyo's
    with ContextServer() as partial:
        sent = {
            "id": SHARED,
            "type": "OffStreetParking",
            "availableSpotNumber": [
                {"type": "Property", "value": 5, "observedAt": at(0), "instanceId": "urn:x:1"},
                {"type": "Property", "value": 7, "observedAt": at(5), "instanceId": tokyo_first},
            ],
        }
        partial.route(f"{TEMPORAL}/{SHARED}", sent, status=206, content_type="application/json")
        await register(
            hubs["region"],
            hubs["tokyo"],
            "tokyo",
            ["OffStreetParking"],
            region_tenant="partial",
            extra={"operations": TEMPORAL_OPS},
        )
        await register_endpoint(hubs["region"], partial.base, reg_id, "partial")
        response = await temporal(
            hubs["region"], f"{TEMPORAL}/{SHARED}", tenant="partial", lang="en", **EVER
        )
        [(asked, _)] = partial.requests
    assert response.status_code == 206, response.text
    assert response.headers["Content-Range"] == f"date-time 2026-11-29T00:00:00Z-{at(5)}/*"
    assert free(response.json()) == [(5, at(0)), (7, at(5))]  # Tokyo's 5 (once), then 7
    ids = [i["instanceId"] for i in response.json()["availableSpotNumber"]]
    assert ids == [tokyo_first, f"{tokyo_first}#{reg_id}"]
    assert "options=sysAttrs" in asked and "lang" not in asked  # normalized; rendered here


async def test_local_true_and_a_registration_loop_answer_without_the_sources(
    hubs: dict[str, Hub],
) -> None:
    local = await temporal(hubs["region"], type="OffStreetParking", local="true", **EVER)
    assert local.status_code == 200 and local.json() == []
    region, tokyo = hubs["region"], hubs["tokyo"]
    for here, there in ((region, tokyo), (tokyo, region)):
        await register(
            here,
            there,
            "loop",
            ["OffStreetParking"],
            reg_id=f"urn:ngsi-ld:ContextSourceRegistration:{here.name}-loop",
            region_tenant="loop",
            extra={"operations": TEMPORAL_OPS},
        )
    await provide(tokyo, "loop", [lot("loop", 1, [(3, 0)])])
    response = await asyncio.wait_for(
        temporal(region, tenant="loop", type="OffStreetParking", **EVER), 20
    )
    assert list(entities(response)) == ["urn:ngsi-ld:OffStreetParking:loop:001"]


async def test_registration_without_the_temporal_operations_is_not_asked(
    hubs: dict[str, Hub],
) -> None:
    await register(
        hubs["region"], hubs["tokyo"], "tokyo", ["OffStreetParking"], region_tenant="plain"
    )
    now = await temporal(
        hubs["region"], "/ngsi-ld/v1/entities", tenant="plain", type="OffStreetParking"
    )
    assert now.status_code == 200 and now.json()  # federationOps: Query Entities goes there
    history = await temporal(hubs["region"], tenant="plain", type="OffStreetParking", **EVER)
    assert history.status_code == 200 and history.json() == []


# --- Seoul's partner reads temporal data as it reads entities ------------------------------


def partner(hub: Hub) -> httpx.AsyncClient:
    return hub.client(
        Authorization=f"Bearer {PARTNER}", **{"NGSILD-Tenant": "seoul", "Link": PARKING_LINK}
    )


async def test_partner_temporal_reads_return_only_shared_types_and_attributes(
    hubs: dict[str, Hub],
) -> None:
    lot_id = "urn:ngsi-ld:OffStreetParking:seoul:001"
    async with partner(hubs["seoul"]) as http:
        lots = await http.get(TEMPORAL, params={"idPattern": ".*", **EVER})
        assert lots.status_code == 200, lots.text
        assert {e["id"] for e in lots.json()} == {
            lot_id,
            "urn:ngsi-ld:OffStreetParking:seoul:002",
            SHARED,
        }
        for entity in lots.json():
            assert set(entity) <= {"id", "type", "availableSpotNumber"}
        one = await http.get(f"{TEMPORAL}/{lot_id}", params={"options": "sysAttrs"})
        assert one.status_code == 200, one.text
        assert {"priceNote", "status"}.isdisjoint(one.json())
        assert len(one.json()["availableSpotNumber"]) == 3
        crowd = await http.get(f"{TEMPORAL}/{quote('urn:ngsi-ld:CrowdFlowObserved:seoul:001')}")
        assert crowd.status_code == 404
        aggregated = await http.get(
            TEMPORAL,
            params={
                "type": "OffStreetParking",
                "format": "aggregatedValues",
                "aggrMethods": "totalCount",
                **EVER,
            },
        )
        assert aggregated.status_code == 200, aggregated.text
        assert len(aggregated.json()) == 3
        assert all(set(e) == {"id", "type", "availableSpotNumber"} for e in aggregated.json())
        body = {
            "type": "Query",
            "entities": [{"type": "OffStreetParking"}],
            "temporalQ": {"timerel": "after", "timeAt": at(0)},
        }
        batch = await http.post("/ngsi-ld/v1/temporal/entityOperations/query", json=body)
        assert batch.status_code == 200, batch.text
        assert len(batch.json()) == 3
        assert all(set(e) <= {"id", "type", "availableSpotNumber"} for e in batch.json())


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        (
            "GET",
            f"{TEMPORAL}?type=OffStreetParking&q=priceNote%3D%3D%22x%22&timerel=after&timeAt={at(0)}",
            None,
        ),
        (
            "GET",
            f"{TEMPORAL}?type=OffStreetParking&attrs=priceNote&timerel=after&timeAt={at(0)}",
            None,
        ),
        ("GET", f"{TEMPORAL}/urn:ngsi-ld:OffStreetParking:seoul:001?attrs=priceNote", None),
        (
            "POST",
            "/ngsi-ld/v1/temporal/entityOperations/query",
            {
                "type": "Query",
                "attrs": ["priceNote"],
                "temporalQ": {"timerel": "after", "timeAt": at(0)},
            },
        ),
        ("POST", TEMPORAL, lot("seoul", 9, [(1, 0)])),
        ("DELETE", f"{TEMPORAL}/urn:ngsi-ld:OffStreetParking:seoul:001", None),
    ],
)
async def test_partner_temporal_request_on_what_is_not_shared_returns_403(
    hubs: dict[str, Hub], method: str, path: str, payload: dict[str, Any] | None
) -> None:
    async with partner(hubs["seoul"]) as http:
        response = await http.request(method, path, json=payload)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:cityhub:errors:NotShared"


async def test_regional_temporal_query_never_gets_what_the_city_does_not_share(
    hubs: dict[str, Hub],
) -> None:
    hidden = await temporal(hubs["region"], type="OffStreetParking", attrs="priceNote", **EVER)
    assert hidden.status_code == 200
    assert "priceNote" not in hidden.text and "internal tariff" not in hidden.text
    assert "HTTP 403" in hidden.headers["NGSILD-Warning"]  # Seoul refused; Tokyo has none
    crowds = await temporal(hubs["region"], type="CrowdFlowObserved", context=TRANSPORT_CTX, **EVER)
    assert crowds.status_code == 200 and crowds.json() == []
    assert "NGSILD-Warning" not in crowds.headers


# --- merging rules in isolation -----------------------------------------------------------


def instance(attr: str, time: int) -> TemporalInstance:
    return TemporalInstance(
        "urn:x:1", attr, 0, "", time, time, time, None, {"type": "Property", "value": time}
    )


def test_cut_stops_where_a_partial_place_stops() -> None:
    forward = TemporalQuery("after", 1)
    items = [instance("a", t) for t in (1, 2, 3)] + [instance("b", t) for t in (1, 5)]
    kept, content_range = cut(items, forward, 100, [2])
    assert [(i.attr, i.time) for i in kept] == [("a", 1), ("a", 2), ("b", 1)]
    assert content_range == f"date-time {format_micros(1)}-{format_micros(2)}/*"
    backward = TemporalQuery("after", 1, last_n=100)
    kept, content_range = cut(items, backward, 2, [])  # the limit cuts a at its 2 newest
    assert [(i.attr, i.time) for i in kept] == [("a", 2), ("a", 3), ("b", 5)]
    assert content_range == f"date-time {format_micros(5)}-{format_micros(2)}/100"
    assert cut(items, forward, 100, []) == (items, None)


@pytest.mark.parametrize("text", ["PT0S", "PT15M", "P1D", "P1M", "P1Y", "P1MT1S", "PT0.5S"])
def test_duration_text_reads_back_as_the_same_duration(text: str) -> None:
    assert parse_duration(duration_text(parse_duration(text))) == parse_duration(text)
