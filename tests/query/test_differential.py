"""One table of queries over the seed entities, run through the SQLite compiler, the
PostgreSQL compiler and the in-memory evaluator (DESIGN §4 rule 2): all three must return
the ids the spec's semantics give (query/ast.py, clauses 4.9, 4.10, 4.17, 4.19)."""

from __future__ import annotations

from typing import Any

import pytest

from cityhub.hub import Hub
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import (
    EntityQuery,
    GeoQuery,
    ScopeAll,
    ScopeAny,
    ScopeMatch,
    TypeAll,
    TypeAny,
    TypeName,
)
from cityhub.query.evaluate import matches
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_q
from tests.query.seeds import SEOUL_POINT, TOKYO_AREA, seed_entities

R1, R2 = "urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2"
P1, P2 = "urn:ngsi-ld:OffStreetParking:1", "urn:ngsi-ld:OffStreetParking:2"
A1 = "urn:ngsi-ld:Alert:1"
ALL = {R1, R2, P1, P2, A1}

Q_CASES: list[tuple[str, set[str]]] = [
    ("speed>20", {R1}),
    ("speed<=12.5", {R2}),
    ("speed==50", {R1}),
    ("speed==12.5,50", {R1, R2}),
    ("speed==10..20", {R2}),
    ("speed!=50", {R2}),
    ("speed!=10..60", set()),
    ('speed=="50"', set()),
    ("speed==1e2..2e2", set()),
    ("speed.observedAt>2024-05-01T10:00:00Z", {R2}),
    ("speed.observedAt==2024-05-01T19:00:00+09:00", {R1}),
    ("speed.observedAt>=2024-05-01T11:30:00.250Z", {R2}),
    ('speed.unitCode=="KMH"', {R1}),
    ("speed.unitCode", {R1}),
    ("speed", {R1, R2}),
    ("!speed", {P1, P2, A1}),
    ('name=="Sejong-daero"', {R1}),
    ('name=="セジョン"', {R1}),
    ('name[ja]=="銀座通り"', {R2}),
    ('name[ja]=="世宗大路"', {R1}),
    ('name==false,"セジョン"', {R1}),
    ('name[ko]=="Sejong-daero"', set()),
    ("name~=dori", {R2}),
    ("name~=(?i)PARKING", {P1}),
    ("name!~=dori", {R1, R2, P1}),
    ('name!="Sejong-daero"', {R1, R2, P1}),
    ('name=="Road closed"', set()),
    ('description[en]=="Road closed"', {A1}),
    ("open==true", {R1}),
    ("open==false", {R2}),
    ("open!=true", {R2}),
    ('lanes=="4"', set()),
    ("lanes>=2;lanes<4", {R2}),
    ("lanes==4|availableSpotNumber>100", {R1, P1}),
    ("(lanes==2|lanes==4);speed>20", {R1}),
    ("availableSpotNumber==8", {P2}),
    ("availableSpotNumber<6", {P2}),
    ("availableSpotNumber==100..200", {P1}),
    ("availableSpotNumber.datasetId==urn:ngsi-ld:Dataset:camera", {P2}),
    ("availableSpotNumber.reliability>0.5", {P1}),
    ('availableSpotNumber.reliability.source=="sensor"', {P1}),
    ("availableSpotNumber.reliability.source", {P1}),
    ("!availableSpotNumber.reliability", ALL - {P1}),
    ('address[addressLocality]=="Beijing"', {P1}),
    ("address[streetAddress]~=^Wang", {P1}),
    ("address[addressLocality]", {P1}),
    ("address[postalCode]", set()),
    ('address=="Beijing"', set()),
    ("refCity==urn:ngsi-ld:City:Tokyo", {R2}),
    ('refCity=="urn:ngsi-ld:City:Tokyo"', {R2}),
    ("operators==urn:ngsi-ld:Org:B", {P2}),
    ('tags=="narrow"', {R2}),
    ('tags=="busy","x"', {R2}),
    ('config[mode]=="auto"', {P2}),
    ("config[levels]==2", {P2}),
    ('config=="auto"', set()),
    ("dateObserved>2024-05-01T00:30:00Z", {R1, P1}),
    ("dateObserved<2024-05-01T01:30:00Z", {R1}),
    ("dateIssued==2024-04-30T21:30:00Z", {A1}),
    ('severity=="critical";category=="traffic"', {A1}),
    ('severity=="high","critical"', {A1}),
    ('severity>"b"', {A1}),
    ('severity<"b"', set()),
]

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
TOKYO_POINT = {"type": "Point", "coordinates": [139.75, 35.67]}
SEOUL_BOX = {
    "type": "Polygon",
    "coordinates": [
        [[126.97, 37.56], [126.98, 37.56], [126.98, 37.57], [126.97, 37.57], [126.97, 37.56]]
    ],
}
TOKYO_OVERLAP = {
    "type": "Polygon",
    "coordinates": [
        [[139.75, 35.68], [139.85, 35.68], [139.85, 35.75], [139.75, 35.75], [139.75, 35.68]]
    ],
}
GEO_CASES: list[tuple[GeoQuery, set[str]]] = [
    (GeoQuery("near", SEOUL_POINT, LOCATION, max_distance=50), {P2}),
    (GeoQuery("near", SEOUL_POINT, LOCATION, max_distance=200), {P2, R1}),
    (GeoQuery("near", SEOUL_POINT, LOCATION, min_distance=1000), {R2, P1, A1}),
    (GeoQuery("within", TOKYO_AREA, LOCATION), {R2, A1}),
    (GeoQuery("contains", TOKYO_POINT, LOCATION), {A1}),
    (GeoQuery("intersects", SEOUL_BOX, LOCATION), {R1, P2}),
    (GeoQuery("equals", TOKYO_AREA, LOCATION), {A1}),
    (GeoQuery("disjoint", TOKYO_AREA, LOCATION), {R1, P1, P2}),
    (GeoQuery("overlaps", TOKYO_OVERLAP, LOCATION), {A1}),
]

SCOPE_CASES: list[tuple[Any, set[str]]] = [
    (ScopeMatch(("Seoul", "#")), {R1, P2}),
    (ScopeMatch(("Beijing", "+")), {P1}),
    (ScopeMatch(("Beijing", "Parking")), set()),
    (ScopeMatch(("Beijing", "Parking", "#")), {P1}),
    (ScopeMatch(("#",)), {R1, R2, P1, P2}),
    (ScopeMatch(("+", "Chuo")), {R2}),
    (ScopeAny((ScopeMatch(("Seoul", "Jongno")), ScopeMatch(("Tokyo", "#")))), {R1, R2}),
    (
        ScopeAll((ScopeMatch(("Beijing", "Dongcheng")), ScopeMatch(("Beijing", "Parking", "#")))),
        {P1},
    ),
]


async def seeded(hub: Hub) -> tuple[TermMap, list[dict[str, Any]]]:
    tm = await hub.contexts.resolve(None)
    for entity in seed_entities():
        await hub.entities.create_entity("", entity, tm)
    stored = [await hub.entities.retrieve_entity("", e["id"]) for e in seed_entities()]
    return tm, stored


async def agree(hub: Hub, stored: list[dict[str, Any]], query: EntityQuery) -> set[str]:
    """The ids the store returns, after checking the evaluator returns the same ones."""
    result = await hub.store.query_entities("", query, count=True)
    found = [entity["id"] for entity in result.entities]
    assert found == sorted(found), "results are ordered by id"
    assert result.total == len(found)
    evaluated = {entity["id"] for entity in stored if matches(entity, query)}
    assert set(found) == evaluated, f"store {sorted(found)} but evaluator {sorted(evaluated)}"
    return set(found)


@pytest.mark.parametrize(("q", "expected"), Q_CASES, ids=[c[0] for c in Q_CASES])
async def test_q_selects_the_same_entities_in_sql_and_in_memory(
    hub: Hub, q: str, expected: set[str]
) -> None:
    tm, stored = await seeded(hub)
    query = EntityQuery(q=resolve_q(parse_q(q), tm), limit=100)
    assert await agree(hub, stored, query) == expected


@pytest.mark.parametrize(
    ("geo", "expected"), GEO_CASES, ids=[f"{g.georel}-{i}" for i, (g, _) in enumerate(GEO_CASES)]
)
async def test_geo_query_selects_the_same_entities_in_sql_and_in_memory(
    hub: Hub, geo: GeoQuery, expected: set[str]
) -> None:
    _, stored = await seeded(hub)
    assert await agree(hub, stored, EntityQuery(geo=geo, limit=100)) == expected


@pytest.mark.parametrize(("scope", "expected"), SCOPE_CASES)
async def test_scope_query_selects_the_same_entities_in_sql_and_in_memory(
    hub: Hub, scope: Any, expected: set[str]
) -> None:
    _, stored = await seeded(hub)
    assert await agree(hub, stored, EntityQuery(scope=scope, limit=100)) == expected


async def test_entity_filters_select_the_same_entities_in_sql_and_in_memory(hub: Hub) -> None:
    tm, stored = await seeded(hub)
    road, alert = TypeName(tm.expand("Road")), TypeName(tm.expand("Alert"))
    parking, facility = TypeName(tm.expand("OffStreetParking")), TypeName(tm.expand("Facility"))
    cases: list[tuple[EntityQuery, set[str]]] = [
        (EntityQuery(types=facility), {P2}),
        (EntityQuery(types=TypeAny((road, alert))), {R1, R2, A1}),
        (EntityQuery(types=TypeAll((parking, facility))), {P2}),
        (EntityQuery(types=TypeAny((TypeAll((parking, facility)), alert))), {P2, A1}),
        (EntityQuery(attrs=frozenset({tm.expand("tags"), tm.expand("operators")})), {R2, P2}),
        (EntityQuery(ids=(R1, A1, "urn:ngsi-ld:Road:9")), {R1, A1}),
        (EntityQuery(id_pattern="^urn:ngsi-ld:Road:"), {R1, R2}),
        (EntityQuery(id_pattern=r"Parking:\d"), {P1, P2}),
        (
            EntityQuery(
                types=road,
                q=resolve_q(parse_q("speed>20"), tm),
                geo=GeoQuery("near", SEOUL_POINT, LOCATION, max_distance=200),
            ),
            {R1},
        ),
    ]
    for query, expected in cases:
        assert await agree(hub, stored, query) == expected, query


async def test_pages_follow_entity_id_order(hub: Hub) -> None:
    await seeded(hub)
    pages = []
    for offset in range(0, 6, 2):
        result = await hub.store.query_entities(
            "", EntityQuery(id_pattern="urn", limit=2, offset=offset), count=True
        )
        assert result.total == len(ALL)
        pages.append([e["id"] for e in result.entities])
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [entity_id for page in pages for entity_id in page] == sorted(ALL)
