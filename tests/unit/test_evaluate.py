"""The in-memory query evaluator (clauses 4.9, 4.10, 4.17, 4.19): tables of queries over
deterministic seed entities in the internal form, each with the ids the semantics of
query/ast.py select. Expectations come from those semantics and from independent geometry
(great-circle formulas), never from running the evaluator."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from cityhub.errors import BadRequestData
from cityhub.query.ast import (
    And,
    EntityQuery,
    EntitySelector,
    Expr,
    GeoQuery,
    Or,
    Path,
    TypeAll,
    TypeAny,
    TypeExpr,
    TypeName,
)
from cityhub.query.evaluate import matches, matches_geo, matches_q, matches_scope, matches_types
from cityhub.query.q import parse_q
from cityhub.query.scope import parse_scope_query
from cityhub.query.types import parse_type_expression

EX = "https://example.org/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
R = 6_371_008.7714  # the sphere of PostGIS geography with use_spheroid = false


def iri(name: str) -> str:
    """What query.resolve would give with a context mapping every term into EX."""
    return LOCATION if name == "location" else EX + name


def resolved(expr: Expr) -> Expr:
    if isinstance(expr, And | Or):
        return type(expr)(tuple(resolved(item) for item in expr.items))
    path = expr.path
    names = tuple(iri(n) for n in path.attribute_names)
    if path.member is not None:
        names += (path.member,)
    return dataclasses.replace(expr, path=Path(names, path.keys, path.position))


def q(text: str) -> Expr:
    return resolved(parse_q(text))


def types(text: str) -> TypeExpr:
    return types_of(parse_type_expression(text))


def types_of(expr: TypeExpr) -> TypeExpr:
    if isinstance(expr, TypeName):
        return TypeName(iri(expr.name))
    items = tuple(types_of(item) for item in expr.items)
    return TypeAll(items) if isinstance(expr, TypeAll) else TypeAny(items)


def prop(value: Any, **members: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, **members}]


def geo(geometry: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": geometry, **members}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


TRAFFIC = "urn:ngsi-ld:TrafficFlowObserved:Sejong-1"
PARKING = "urn:ngsi-ld:OffStreetParking:Gwanghwamun"
ALERT = "urn:ngsi-ld:Alert:roadworks-7"
DEVICE = "urn:ngsi-ld:Device:thermo-3"
WEATHER = "urn:ngsi-ld:WeatherObserved:busan-1"
NOTE = "urn:ngsi-ld:Note:1"
ALL = {TRAFFIC, PARKING, ALERT, DEVICE, WEATHER, NOTE}

# A road along the meridian 126.9770 E; the lot and the alert east and north of it.
QUERY_POINT = (126.9780, 37.5665)
ROAD = {"type": "LineString", "coordinates": [[126.9770, 37.5663], [126.9770, 37.5720]]}
LOT = box(126.9800, 37.5700, 126.9820, 37.5720)
ALERT_POINT = (126.9780, 37.5755)  # 0.009° of latitude north of QUERY_POINT: about 1000.76 m
BUSAN = (129.0756, 35.1796)
TOKYO = (139.7671, 35.6812)

SEEDS: list[dict[str, Any]] = [
    {
        "id": TRAFFIC,
        "type": [iri("TrafficFlowObserved")],
        "scope": ["/Seoul/Jongno/Sejong"],
        "createdAt": "2024-05-01T10:00:01.000000Z",
        "modifiedAt": "2024-05-01T10:00:01.000000Z",
        iri("location"): [geo(ROAD)],
        iri("averageVehicleSpeed"): prop(42.5, observedAt="2024-05-01T10:00:00Z", unitCode="KMH"),
        iri("intensity"): prop(120),
        iri("laneDirection"): prop("forward"),
        iri("laneCount"): prop("2"),
        iri("congested"): prop(False),
        iri("dateObserved"): prop("2024-05-01T19:00:00+09:00"),
        iri("name"): prop("Sejong-daero northbound"),
    },
    {
        "id": PARKING,
        "type": [iri("OffStreetParking")],
        "scope": ["/Seoul/Jongno/Parking", "/Seoul/Public"],
        iri("location"): [geo(LOT)],
        iri("availableSpotNumber"): [
            {"type": "Property", "value": 35, "observedAt": "2024-05-01T10:05:00Z"},
            {
                "type": "Property",
                "value": 31,
                "datasetId": "urn:ngsi-ld:Dataset:camera",
                "observedAt": "2024-05-01T10:04:00.123Z",
            },
        ],
        iri("totalSpotNumber"): prop(200),
        iri("name"): prop("Gwanghwamun Public Parking"),
        iri("address"): prop(
            {
                "streetAddress": "Sejong-daero 175",
                "addressLocality": "Seoul",
                "postalCode": "03172",
                "floor": None,
            }
        ),
    },
    {
        "id": ALERT,
        "type": [iri("Alert")],
        iri("location"): [geo(point(*ALERT_POINT))],
        iri("name"): [
            {
                "type": "LanguageProperty",
                "languageMap": {
                    "ko": "도로 통제",
                    "ja": "通行止め",
                    "en": ["Road closed", "Detour via Jong-ro"],
                },
            }
        ],
        iri("severity"): prop("critical"),
        iri("category"): prop(["traffic", "roadWorks"]),
        iri("dateIssued"): prop("2024-05-01T06:30:00+09:00"),
        iri("validTo"): prop("2024-05-01T23:59:59.999999Z"),
        iri("dateCreated"): prop("2024-05-01"),
        iri("startTime"): prop("09:30:00"),
        iri("reportedAt"): prop("2024-05-01T10:00:00+0900"),
    },
    {
        "id": DEVICE,
        "type": [iri("Device"), iri("Sensor")],
        "scope": ["/Tokyo/Chuo/Ginza"],
        iri("location"): [geo(point(*TOKYO))],
        iri("coverage"): prop(point(*QUERY_POINT)),  # a Property, not a GeoProperty
        iri("refParking"): [{"type": "Relationship", "object": PARKING}],
        iri("owner"): [
            {"type": "Relationship", "object": ["urn:ngsi-ld:Person:kim", "urn:ngsi-ld:Person:lee"]}
        ],
        iri("controlledBy"): [
            {
                "type": "ListRelationship",
                "objectList": [{"object": "urn:ngsi-ld:Org:A"}, {"object": "urn:ngsi-ld:Org:B"}],
            }
        ],
        iri("readings"): [
            {"type": "ListProperty", "valueList": [1, 2.5, "3", True, [4], {"x": 5}]}
        ],
        iri("config"): [
            {
                "type": "JsonProperty",
                "json": {"mode": "auto", "thresholds": {"high": 80}, "levels": [1, 2]},
            }
        ],
        iri("category"): [{"type": "VocabProperty", "vocab": iri("sensor")}],
        iri("active"): prop(True),
        iri("temperature"): prop(
            21.5,
            unitCode="CEL",
            observedAt="2024-05-01T10:00:00.5Z",
            **{
                iri("accuracy"): prop(
                    0.2,
                    observedAt="2024-05-01T10:00:00Z",
                    **{iri("method"): prop("calibrated")},
                )
            },
        ),
    },
    {
        "id": WEATHER,
        "type": [iri("WeatherObserved")],
        "scope": ["/Busan"],
        iri("location"): [
            geo(point(*BUSAN)),
            geo(point(*QUERY_POINT), datasetId="urn:ngsi-ld:Dataset:station-b"),
        ],
        iri("temperature"): prop("21.5"),
        iri("windSpeed"): prop(3),
        iri("precipitation"): prop(0.0),
        iri("dateObserved"): prop("2024-05-01T10:00:00.500Z"),
    },
    {"id": NOTE, "type": [iri("Note")], iri("remark"): prop("no location, no scope")},
]


def selected(test: Any) -> set[str]:
    return {entity["id"] for entity in SEEDS if test(entity)}


# --- q (clause 4.9) -------------------------------------------------------------------

Q_CASES: list[tuple[str, set[str]]] = [
    # numbers, like with like
    ("intensity==120", {TRAFFIC}),
    ("intensity==120.0", {TRAFFIC}),
    ('intensity=="120"', set()),
    ("intensity>100", {TRAFFIC}),
    ("intensity>120", set()),
    ("intensity>=120", {TRAFFIC}),
    ("intensity<121", {TRAFFIC}),
    ("intensity<=119", set()),
    ("temperature>20", {DEVICE}),
    ("temperature==21.5", {DEVICE}),
    ('temperature=="21.5"', {WEATHER}),
    ("laneCount==2", set()),
    ('laneCount=="2"', {TRAFFIC}),
    ("windSpeed==3", {WEATHER}),
    ("precipitation==0", {WEATHER}),
    # booleans are not numbers
    ("active==true", {DEVICE}),
    ("active==1", set()),
    ('active=="true"', set()),
    ("congested==false", {TRAFFIC}),
    ("congested==0", set()),
    ("active!=false", {DEVICE}),
    ("congested!=false", set()),
    ("congested!=true", {TRAFFIC}),
    # value lists
    ("intensity==100,120,140", {TRAFFIC}),
    ("intensity!=100,120", set()),
    ("intensity!=100,140", {TRAFFIC}),
    ('severity=="low","critical"', {ALERT}),
    ("windSpeed==1,2", set()),
    ('intensity==120,"x"', {TRAFFIC}),
    ('intensity!="120",5', {TRAFFIC}),
    # ranges (inclusive)
    ("intensity==100..130", {TRAFFIC}),
    ("intensity==121..130", set()),
    ("intensity==120..120", {TRAFFIC}),
    ("intensity!=100..130", set()),
    ("intensity!=0..100", {TRAFFIC}),
    ('severity=="a".."d"', {ALERT}),
    ('severity=="d".."z"', set()),
    ("dateIssued==2024-04-30T21:00:00Z..2024-04-30T22:00:00Z", {ALERT}),
    ("dateIssued==2024-04-30T22:00:00Z..2024-04-30T23:00:00Z", set()),
    # several instances (datasetIds): any instance, each comparison on its own
    ("availableSpotNumber==31", {PARKING}),
    ("availableSpotNumber==32..34", set()),
    ("availableSpotNumber==30..32", {PARKING}),
    ("availableSpotNumber!=30..40", set()),
    ("availableSpotNumber!=33..40", {PARKING}),
    ("availableSpotNumber>34;availableSpotNumber<32", {PARKING}),
    ("availableSpotNumber!=35", {PARKING}),
    ("availableSpotNumber!=31,35", set()),
    # metadata members
    ("availableSpotNumber.datasetId==urn:ngsi-ld:Dataset:camera", {PARKING}),
    ('availableSpotNumber.datasetId=="urn:ngsi-ld:Dataset:camera"', {PARKING}),
    ("location.datasetId==urn:ngsi-ld:Dataset:station-b", {WEATHER}),
    ("availableSpotNumber.datasetId", {PARKING}),
    ("!availableSpotNumber.datasetId", ALL - {PARKING}),
    ("availableSpotNumber.observedAt>2024-05-01T10:04:30Z", {PARKING}),
    ("availableSpotNumber.observedAt<2024-05-01T10:04:00.124Z", {PARKING}),
    ("availableSpotNumber.observedAt<2024-05-01T10:04:00.123Z", set()),
    ("availableSpotNumber.observedAt==2024-05-01T19:04:00.123+09:00", {PARKING}),
    ("averageVehicleSpeed.observedAt==2024-05-01T19:00:00+09:00", {TRAFFIC}),
    ("averageVehicleSpeed.observedAt==2024-05-01T10:00:00", {TRAFFIC}),
    ('averageVehicleSpeed.unitCode=="KMH"', {TRAFFIC}),
    ("averageVehicleSpeed.unitCode~=^KM", {TRAFFIC}),
    ("averageVehicleSpeed.unitCode", {TRAFFIC}),
    ("!averageVehicleSpeed.unitCode", ALL - {TRAFFIC}),
    ("averageVehicleSpeed.unitCode[x]", set()),
    ("temperature.unitCode", {DEVICE}),
    ("temperature.observedAt>=2024-05-01T10:00:00.5Z", {DEVICE}),
    ("temperature.observedAt>2024-05-01T10:00:00.5Z", set()),
    # sub-attributes, two levels deep
    ("temperature.accuracy<0.5", {DEVICE}),
    ("temperature.accuracy>0.5", set()),
    ('temperature.accuracy.method=="calibrated"', {DEVICE}),
    ("temperature.accuracy.method", {DEVICE}),
    ("!temperature.accuracy.method", ALL - {DEVICE}),
    ("temperature.accuracy.observedAt==2024-05-01T10:00:00Z", {DEVICE}),
    ("temperature.method", set()),
    # date-times: instants to the microsecond, whatever the offset
    ("dateIssued==2024-04-30T21:30:00Z", {ALERT}),
    ("dateIssued==2024-05-01T06:30:00+09:00", {ALERT}),
    ("dateIssued==2024-04-30T21:30:00.000001Z", set()),
    ("dateIssued>2024-04-30T21:29:59.999999Z", {ALERT}),
    ("validTo==2024-05-01T23:59:59.999999Z", {ALERT}),
    ("validTo==2024-05-02T08:59:59.999999+09:00", {ALERT}),
    ("validTo<2024-05-02T00:00:00Z", {ALERT}),
    ("validTo>=2024-05-02T00:00:00Z", set()),
    ("dateObserved==2024-05-01T10:00:00Z", {TRAFFIC}),
    ("dateObserved==2024-05-01T10:00:00.5Z", {WEATHER}),
    ("dateObserved>2024-05-01T10:00:00Z", {WEATHER}),
    ("dateObserved>=2024-05-01T10:00:00Z", {TRAFFIC, WEATHER}),
    ("dateObserved<2024-05-01T10:00:00.499Z", {TRAFFIC}),
    # +0900 (no colon) is not a date-time instants recognise: only a string
    ("reportedAt==2024-05-01T01:00:00Z", set()),
    ('reportedAt=="2024-05-01T10:00:00+0900"', {ALERT}),
    # Date and Time literals compare as strings, as written
    ("dateCreated==2024-05-01", {ALERT}),
    ("dateCreated>2024-04-30", {ALERT}),
    ("dateCreated==2024-05-01T00:00:00Z", set()),
    ("dateIssued>2024-05-01", {ALERT}),
    ("startTime==09:30:00", {ALERT}),
    ("startTime<10:00", {ALERT}),
    ("startTime>09:30", set()),
    # strings order by code point
    ('severity>"b"', {ALERT}),
    ('severity<"b"', set()),
    ('laneDirection>"Z"', {TRAFFIC}),
    ('laneDirection<"Z"', set()),
    ('name=="Gwanghwamun Public Parking"', {PARKING}),
    # regular expressions (re.search)
    ("name~=Parking", {PARKING}),
    ("name~=(?i)sejong", {TRAFFIC}),
    ("name~=^Road", {ALERT}),
    ("name~=Jong-ro", {ALERT}),
    ("name!~=Parking", {TRAFFIC, ALERT}),
    ("name!~=.", set()),
    ("intensity~=12", set()),
    ("refParking~=Gwanghwa", {DEVICE}),
    ("controlledBy~=Org:B$", {DEVICE}),
    ("category~=sensor$", {DEVICE}),
    ("category~=^road", {ALERT}),
    # LanguageProperty: every language's string(s), or one language with a key
    ('name=="通行止め"', {ALERT}),
    ('name[ja]=="通行止め"', {ALERT}),
    ('name[ko]=="通行止め"', set()),
    ('name[en]=="Detour via Jong-ro"', {ALERT}),
    ('name=="Detour via Jong-ro"', {ALERT}),
    ('name=="Detour via Jong-ro",1', {ALERT}),
    ("name[ko]~=통제$", {ALERT}),
    ("name[en]", {ALERT}),
    ("name[fr]", set()),
    ("!name[fr]", ALL),
    # relationships
    ("refParking==urn:ngsi-ld:OffStreetParking:Gwanghwamun", {DEVICE}),
    ('refParking=="urn:ngsi-ld:OffStreetParking:Gwanghwamun"', {DEVICE}),
    ("refParking!=urn:ngsi-ld:OffStreetParking:Other", {DEVICE}),
    ("owner==urn:ngsi-ld:Person:lee", {DEVICE}),
    ("owner!=urn:ngsi-ld:Person:kim", {DEVICE}),
    ("controlledBy==urn:ngsi-ld:Org:B", {DEVICE}),
    ("controlledBy==urn:ngsi-ld:Org:C", set()),
    ("controlledBy[object]", set()),
    # ListProperty: one array level, nested arrays and objects match nothing
    ("readings==2.5", {DEVICE}),
    ("readings==3", set()),
    ('readings=="3"', {DEVICE}),
    ("readings==true", {DEVICE}),
    ("readings==4", set()),
    ("readings==5", set()),
    ("readings>2", {DEVICE}),
    ("readings>3", set()),
    ("readings==1..2", {DEVICE}),
    ("readings[x]", set()),
    # JsonProperty and structured values: keys descend, objects match no comparison
    ('config[mode]=="auto"', {DEVICE}),
    ("config[thresholds.high]>=80", {DEVICE}),
    ("config[thresholds.high]>80", set()),
    ("config[levels]==2", {DEVICE}),
    ('config=="auto"', set()),
    ("config[thresholds]", {DEVICE}),
    ("config[thresholds.low]", set()),
    ("config[mode.x]", set()),
    ('address[addressLocality]=="Seoul"', {PARKING}),
    ("address[postalCode]==3172", set()),
    ('address[postalCode]=="03172"', {PARKING}),
    ("address[floor]", {PARKING}),
    ("address[floor]==0", set()),
    ('address=="Seoul"', set()),
    ("address", {PARKING}),
    ('location[type]=="Point"', {ALERT, DEVICE, WEATHER}),
    # VocabProperty and an array-valued Property under the same name
    ("category==https://example.org/sensor", {DEVICE}),
    ('category=="traffic"', {ALERT}),
    # existence and absence; absent targets satisfy nothing, != included
    ("intensity", {TRAFFIC}),
    ("!intensity", ALL - {TRAFFIC}),
    ("remark", {NOTE}),
    ("missing", set()),
    ("!missing", ALL),
    ("missing!=1", set()),
    ('missing!="x"', set()),
    # and, or, parentheses
    ('intensity>100;laneDirection=="forward"', {TRAFFIC}),
    ("intensity>100|active==true", {TRAFFIC, DEVICE}),
    ("(intensity>100|windSpeed==3);!congested", {WEATHER}),
    ('intensity>200|(readings==2.5;config[mode]=="auto")', {DEVICE}),
]


@pytest.mark.parametrize(("text", "expected"), Q_CASES, ids=[case[0] for case in Q_CASES])
def test_matches_q_selects_the_entities_the_semantics_give(text: str, expected: set[str]) -> None:
    expr = q(text)
    assert selected(lambda entity: matches_q(entity, expr)) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('intensity==1.."z"', "the ends of a range differ in kind at position 0"),
        ("dateIssued==2024-04-30T00:00:00Z..2024-05-01", "differ in kind"),
        ("active==true..false", "a range of booleans is not allowed"),
        ("active>true", "booleans compare only with == and !="),
    ],
)
def test_matches_q_refuses_what_the_compilers_refuse(text: str, fragment: str) -> None:
    expr = q(text)
    for entity in SEEDS:  # whether or not the entity has the attribute
        with pytest.raises(BadRequestData, match=fragment):
            matches_q(entity, expr)


def test_matches_q_reads_list_relationship_objects_stored_as_strings() -> None:
    entity = {
        "id": "urn:ngsi-ld:X:1",
        "type": [iri("X")],
        iri("members"): [{"type": "ListRelationship", "objectList": ["urn:a:1", "urn:a:2"]}],
    }
    assert matches_q(entity, q("members==urn:a:2"))
    assert not matches_q(entity, q("members==urn:a:3"))


# --- entity types (clause 4.17) -------------------------------------------------------

TYPE_CASES: list[tuple[str, set[str]]] = [
    ("Device", {DEVICE}),
    ("Sensor", {DEVICE}),
    ("Device;Sensor", {DEVICE}),
    ("Device;Alert", set()),
    ("Alert,WeatherObserved", {ALERT, WEATHER}),
    ("Alert|Note", {ALERT, NOTE}),
    ("(Device;Sensor)|Alert", {DEVICE, ALERT}),
    ("Unknown", set()),
]


@pytest.mark.parametrize(("text", "expected"), TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_matches_types_follows_the_type_selection(text: str, expected: set[str]) -> None:
    expr = types(text)
    assert selected(lambda entity: matches_types(entity, expr)) == expected


# --- scopes (clause 4.19) -------------------------------------------------------------

SCOPE_CASES: list[tuple[str, set[str]]] = [
    ("/Seoul/#", {TRAFFIC, PARKING}),
    ("/Seoul/Jongno/+", {TRAFFIC, PARKING}),
    ("/Seoul/+", {PARKING}),
    ("/Seoul", set()),
    ("/#", {TRAFFIC, PARKING, DEVICE, WEATHER}),
    ("/Seoul/Jongno/Parking;/Seoul/Public", {PARKING}),
    ("/Seoul/Jongno/Sejong;/Seoul/Public", set()),
    ("/Tokyo/#|/Busan", {DEVICE, WEATHER}),
    ("/+/Chuo/#", {DEVICE}),
]


@pytest.mark.parametrize(("text", "expected"), SCOPE_CASES, ids=[c[0] for c in SCOPE_CASES])
def test_matches_scope_follows_the_scope_query(text: str, expected: set[str]) -> None:
    expr = parse_scope_query(text)
    assert selected(lambda entity: matches_scope(entity, expr)) == expected


# --- geo-queries (clause 4.10) --------------------------------------------------------


def along_parallel(lat: float, dlon: float) -> float:
    """Great-circle distance between two points of one latitude (haversine)."""
    return 2 * R * math.asin(math.cos(math.radians(lat)) * math.sin(math.radians(dlon) / 2))


def off_meridian(lat: float, dlon: float) -> float:
    """Distance from a point to the great circle of a meridian ``dlon`` away."""
    return R * math.asin(math.cos(math.radians(lat)) * math.sin(math.radians(dlon)))


ALERT_DISTANCE = R * math.radians(ALERT_POINT[1] - QUERY_POINT[1])  # along the meridian
ROAD_DISTANCE = off_meridian(QUERY_POINT[1], QUERY_POINT[0] - 126.9770)
# West of the road, level with its middle: the nearest point is inside the segment, and both
# ends are farther (about 585 m) than the road itself.
BESIDE_ROAD = (126.9713, 37.5690)
BESIDE_DISTANCE = off_meridian(BESIDE_ROAD[1], 126.9770 - BESIDE_ROAD[0])
EAST_OF_ALERT = (126.9893, ALERT_POINT[1])
EAST_DISTANCE = along_parallel(ALERT_POINT[1], EAST_OF_ALERT[0] - ALERT_POINT[0])
SEOUL_BOX = box(126.97, 37.56, 126.99, 37.58)
INSIDE_LOT = point(126.981, 37.571)


def near(at: tuple[float, float], max_distance: float | None = None, **kw: Any) -> GeoQuery:
    return GeoQuery("near", point(*at), LOCATION, max_distance=max_distance, **kw)


GEO_CASES: list[tuple[str, GeoQuery, set[str]]] = [
    ("near-0-at-point", near(QUERY_POINT, 0), {WEATHER}),
    ("near-50", near(QUERY_POINT, 50), {WEATHER}),
    ("near-just-under-road", near(QUERY_POINT, ROAD_DISTANCE - 0.5), {WEATHER}),
    ("near-just-over-road", near(QUERY_POINT, ROAD_DISTANCE + 0.5), {WEATHER, TRAFFIC}),
    ("near-500", near(QUERY_POINT, 500), {WEATHER, TRAFFIC, PARKING}),
    ("near-1000", near(QUERY_POINT, 1000), {WEATHER, TRAFFIC, PARKING}),
    ("near-1001", near(QUERY_POINT, 1001), {WEATHER, TRAFFIC, PARKING, ALERT}),
    ("near-min-1000", near(QUERY_POINT, min_distance=1000), {ALERT, DEVICE, WEATHER}),
    ("near-min-1001", near(QUERY_POINT, min_distance=1001), {DEVICE, WEATHER}),
    ("near-min-0", near(QUERY_POINT, min_distance=0), ALL - {NOTE}),
    ("near-segment-over", near(BESIDE_ROAD, BESIDE_DISTANCE + 0.5), {TRAFFIC}),
    ("near-segment-under", near(BESIDE_ROAD, BESIDE_DISTANCE - 0.5), set()),
    ("near-parallel-over", near(EAST_OF_ALERT, EAST_DISTANCE + 0.5), {ALERT, PARKING}),
    ("near-parallel-under", near(EAST_OF_ALERT, EAST_DISTANCE - 0.5), {PARKING}),
    ("near-inside-polygon", GeoQuery("near", INSIDE_LOT, LOCATION, max_distance=0), {PARKING}),
    ("within", GeoQuery("within", SEOUL_BOX, LOCATION), {TRAFFIC, PARKING, ALERT, WEATHER}),
    ("contains", GeoQuery("contains", INSIDE_LOT, LOCATION), {PARKING}),
    ("contains-line-point", GeoQuery("contains", point(126.9770, 37.57), LOCATION), {TRAFFIC}),
    (
        "intersects",
        GeoQuery(
            "intersects",
            {"type": "LineString", "coordinates": [[126.975, 37.571], [126.985, 37.571]]},
            LOCATION,
        ),
        {TRAFFIC, PARKING},
    ),
    (
        "equals-other-start-vertex",
        GeoQuery(
            "equals",
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [126.9820, 37.5720],
                        [126.9800, 37.5720],
                        [126.9800, 37.5700],
                        [126.9820, 37.5700],
                        [126.9820, 37.5720],
                    ]
                ],
            },
            LOCATION,
        ),
        {PARKING},
    ),
    ("disjoint-any-instance", GeoQuery("disjoint", SEOUL_BOX, LOCATION), {DEVICE, WEATHER}),
    (
        "overlaps",
        GeoQuery("overlaps", box(126.981, 37.571, 126.983, 37.573), LOCATION),
        {PARKING},
    ),
    ("property-is-no-geometry", GeoQuery("intersects", SEOUL_BOX, iri("coverage")), set()),
    ("absent-geoproperty-disjoint", GeoQuery("disjoint", SEOUL_BOX, iri("servedArea")), set()),
]


def test_geo_distances_of_the_table_are_what_the_layout_says() -> None:
    assert 1000.7 < ALERT_DISTANCE < 1000.8
    assert 80 < ROAD_DISTANCE < 100
    assert 495 < BESIDE_DISTANCE < 510
    assert 990 < EAST_DISTANCE < 1000


@pytest.mark.parametrize(
    ("name", "query", "expected"), GEO_CASES, ids=[case[0] for case in GEO_CASES]
)
def test_matches_geo_follows_the_georel(name: str, query: GeoQuery, expected: set[str]) -> None:
    assert selected(lambda entity: matches_geo(entity, query)) == expected


# --- whole queries (clause 5.7.2) -----------------------------------------------------

ENTITY_CASES: list[tuple[str, EntityQuery, set[str]]] = [
    ("nothing", EntityQuery(), ALL),
    ("ids", EntityQuery(ids=(TRAFFIC, "urn:ngsi-ld:X:none")), {TRAFFIC}),
    ("idPattern-searches", EntityQuery(id_pattern="Parking"), {PARKING}),
    ("idPattern-anchored", EntityQuery(id_pattern="^urn:ngsi-ld:(Alert|Device):"), {ALERT, DEVICE}),
    ("idPattern-end", EntityQuery(id_pattern=r"thermo-\d$"), {DEVICE}),
    ("attrs", EntityQuery(attrs=frozenset({iri("intensity"), iri("readings")})), {TRAFFIC, DEVICE}),
    (
        "selectors",
        EntityQuery(
            selectors=(
                EntitySelector(types=TypeName(iri("Alert"))),
                EntitySelector(id_pattern="busan"),
            )
        ),
        {ALERT, WEATHER},
    ),
    (
        "selector-fields-and",
        EntityQuery(selectors=(EntitySelector(types=TypeName(iri("Alert")), ids=(DEVICE,)),)),
        set(),
    ),
    ("no-selectors", EntityQuery(selectors=()), set()),
    (
        "all-filters",
        EntityQuery(
            types=TypeName(iri("OffStreetParking")),
            q=q("availableSpotNumber<32"),
            geo=near(QUERY_POINT, 500),
            scope=parse_scope_query("/Seoul/#"),
            attrs=frozenset({iri("address")}),
        ),
        {PARKING},
    ),
    (
        "all-filters-one-fails",
        EntityQuery(
            types=TypeName(iri("OffStreetParking")),
            q=q("availableSpotNumber<32"),
            geo=near(QUERY_POINT, 300),
            scope=parse_scope_query("/Seoul/#"),
        ),
        set(),
    ),
    (
        "types-and-q",
        EntityQuery(types=types("Device,WeatherObserved"), q=q("temperature>20")),
        {DEVICE},
    ),
]


@pytest.mark.parametrize(
    ("name", "query", "expected"), ENTITY_CASES, ids=[case[0] for case in ENTITY_CASES]
)
def test_matches_ands_every_filter(name: str, query: EntityQuery, expected: set[str]) -> None:
    assert selected(lambda entity: matches(entity, query)) == expected
