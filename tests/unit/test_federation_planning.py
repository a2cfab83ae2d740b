"""Which registrations a distributed operation goes to, and how the answers of several
sources merge (clause 4.3.6; issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime

from cityhub.federation.matching import matching, type_names
from cityhub.federation.merge import merge_all, merge_entities
from cityhub.query.ast import EntityQuery, TypeAll, TypeAny, TypeName

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
PARKING = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"
ROAD = "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved"
FREE = "https://smartdatamodels.org/dataModel.Parking/availableSpotNumber"
SPEED = "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed"


def registration(reg_id: str, **members: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": f"urn:ngsi-ld:ContextSourceRegistration:{reg_id}",
        "endpoint": f"http://127.0.0.1:1/{reg_id}",
        "information": [{"entities": [{"type": PARKING}]}],
        "operationsExpanded": ["queryEntity", "retrieveEntity"],
    }
    doc.update(members)
    return doc


def ids(found: list[dict[str, object]]) -> list[str]:
    return [str(r["id"]).rsplit(":", 1)[-1] for r in found]


def test_type_names_collects_every_type_of_an_expression() -> None:
    expr = TypeAny((TypeName("A"), TypeAll((TypeName("B"), TypeName("C")))))
    assert type_names(expr) == {"A", "B", "C"}
    assert type_names(None) is None


def test_matching_takes_registrations_of_the_types_asked() -> None:
    regs = [
        registration("p"),
        registration("r", information=[{"entities": [{"type": ROAD}]}]),
        registration("any", information=[{"propertyNames": [FREE]}]),
    ]
    query = EntityQuery(types=TypeName(PARKING))
    assert ids(matching(regs, "queryEntity", query, NOW)) == ["any", "p"]
    assert ids(matching(regs, "queryEntity", EntityQuery(types=TypeName(ROAD)), NOW)) == [
        "any",
        "r",
    ]


def test_matching_skips_registrations_expired_or_without_the_operation() -> None:
    regs = [
        registration("old", expiresAt="2026-11-29T08:59:59Z"),
        registration("writes", operationsExpanded=["createEntity"]),
        registration("ok", expiresAt="2026-11-30T00:00:00Z"),
    ]
    assert ids(matching(regs, "queryEntity", EntityQuery(types=TypeName(PARKING)), NOW)) == ["ok"]


def test_matching_fits_entity_ids_and_id_patterns() -> None:
    regs = [
        registration("one", information=[{"entities": [{"type": PARKING, "id": "urn:p:1"}]}]),
        registration(
            "seoul", information=[{"entities": [{"type": PARKING, "idPattern": "^urn:p:seoul:"}]}]
        ),
        registration(
            "both", information=[{"entities": [{"type": [ROAD, PARKING], "id": "urn:p:9"}]}]
        ),
    ]
    assert ids(matching(regs, "retrieveEntity", None, NOW, entity_id="urn:p:1")) == ["one"]
    assert ids(matching(regs, "retrieveEntity", None, NOW, entity_id="urn:p:seoul:9")) == ["seoul"]
    assert matching(regs, "retrieveEntity", None, NOW, entity_id="urn:p:2") == []
    query = EntityQuery(types=TypeName(ROAD), ids=("urn:p:9",))
    assert ids(matching(regs, "queryEntity", query, NOW)) == ["both"]


def test_matching_needs_a_shared_attribute_when_both_name_some() -> None:
    regs = [
        registration(
            "free", information=[{"entities": [{"type": PARKING}], "propertyNames": [FREE]}]
        )
    ]
    assert ids(matching(regs, "queryEntity", EntityQuery(attrs=frozenset({FREE})), NOW)) == ["free"]
    assert matching(regs, "queryEntity", EntityQuery(attrs=frozenset({SPEED})), NOW) == []


def test_merge_keeps_every_attribute_and_the_most_recent_instance() -> None:
    local = {
        "id": "urn:p:1",
        "type": [PARKING],
        FREE: [{"type": "Property", "value": 5, "observedAt": "2026-11-29T08:00:00Z"}],
        "x:name": [{"type": "Property", "value": "local"}],
    }
    remote = {
        "id": "urn:p:1",
        "type": [PARKING, "x:Extra"],
        FREE: [{"type": "Property", "value": 9, "observedAt": "2026-11-29T08:30:00Z"}],
        "x:capacity": [{"type": "Property", "value": 100}],
        "x:name": [{"type": "Property", "value": "remote"}],
    }
    merged = merge_entities([local, remote])
    assert merged["type"] == [PARKING, "x:Extra"]
    assert merged[FREE][0]["value"] == 9
    assert merged["x:capacity"][0]["value"] == 100
    assert merged["x:name"][0]["value"] == "local"  # no times: the preferred source stays


def test_merge_all_orders_by_id_and_merges_duplicates() -> None:
    a = [{"id": "urn:b", "type": ["T"]}, {"id": "urn:d", "type": ["T"]}]
    b = [{"id": "urn:a", "type": ["T"]}, {"id": "urn:b", "type": ["U"]}]
    merged = merge_all([a, b])
    assert [e["id"] for e in merged] == ["urn:a", "urn:b", "urn:d"]
    assert merged[1]["type"] == ["T", "U"]


def _box(west: float, south: float, east: float, north: float) -> dict[str, object]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


SEOUL_AREA = _box(126.7, 37.4, 127.2, 37.7)
TOKYO_AREA = _box(139.5, 35.5, 140.0, 35.9)


def test_matching_leaves_out_sources_whose_area_cannot_hold_a_geo_match() -> None:
    from cityhub.query.ast import GeoQuery

    regs = [
        registration("seoul", location=SEOUL_AREA),
        registration("tokyo", location=TOKYO_AREA),
        registration("anywhere"),
    ]
    point = {"type": "Point", "coordinates": [126.978, 37.566]}

    def found(geo: GeoQuery) -> list[str]:
        query = EntityQuery(types=TypeName(PARKING), geo=geo)
        return ids(matching(regs, "queryEntity", query, NOW))

    assert found(GeoQuery("near", point, max_distance=2000)) == ["anywhere", "seoul"]
    # 20 km west of Seoul's area edge: out of reach at 10 km, within reach at 30 km.
    west = {"type": "Point", "coordinates": [126.47, 37.55]}
    assert found(GeoQuery("near", west, max_distance=10_000)) == ["anywhere"]
    assert found(GeoQuery("near", west, max_distance=30_000)) == ["anywhere", "seoul"]
    tokyo_bay = _box(139.7, 35.5, 139.9, 35.6)
    for georel in ("within", "intersects", "contains", "overlaps", "equals"):
        assert found(GeoQuery(georel, tokyo_bay)) == ["anywhere", "tokyo"], georel
    # disjoint and minDistance can match anywhere; other GeoProperties are not the area.
    assert found(GeoQuery("disjoint", tokyo_bay)) == ["anywhere", "seoul", "tokyo"]
    assert found(GeoQuery("near", point, min_distance=10)) == ["anywhere", "seoul", "tokyo"]
    other = GeoQuery("within", tokyo_bay, geoproperty="https://example.org/observationSpace")
    assert found(other) == ["anywhere", "seoul", "tokyo"]


def test_configured_sources_become_registrations_with_their_area() -> None:
    import pytest

    from cityhub.federation.configured import configured_sources

    table = {
        "name": "seoul",
        "endpoint": "http://127.0.0.1:1027",
        "types": ["OffStreetParking"],
        "tenant": "seoul",
        "area": [124, 33, 132, 39.5],
    }
    (source,) = configured_sources([table])
    assert source.body["location"] == {
        "type": "Polygon",
        "coordinates": [
            [[124.0, 33.0], [132.0, 33.0], [132.0, 39.5], [124.0, 39.5], [124.0, 33.0]]
        ],
    }
    assert source.body["tenant"] == "seoul"
    for bad in ([1, 2, 3], [132, 33, 124, 39], ["124", 33, 132, 39], [0, -91, 1, 0]):
        with pytest.raises(ValueError, match="area"):
            configured_sources([{**table, "area": bad}])
