"""Geo-queries (clause 4.10): georel, geometry and coordinates as query parameters and as a
GeoQuery object (clause 5.2.13), and errors that name the parameter, position and problem."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.errors import BadRequestData
from cityhub.query.ast import GeoQuery
from cityhub.query.geo import (
    GeoQueryError,
    geo_query_from_json,
    parse_geo_query,
    parse_georel,
)

POINT = "[126.97,37.56]"
SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
SQUARE_TEXT = orjson.dumps(SQUARE).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("near;maxDistance==2000", ("near", 2000.0, None)),
        ("near;minDistance==10.5", ("near", None, 10.5)),
        ("near;maxDistance==0", ("near", 0.0, None)),
        ("near;maxDistance==1e3", ("near", 1000.0, None)),
        ("maxDistance==1000;near", ("near", 1000.0, None)),
        ("minDistance==5;near", ("near", None, 5.0)),
        ("within", ("within", None, None)),
        ("contains", ("contains", None, None)),
        ("intersects", ("intersects", None, None)),
        ("equals", ("equals", None, None)),
        ("disjoint", ("disjoint", None, None)),
        ("overlaps", ("overlaps", None, None)),
    ],
)
def test_parse_georel_reads_relation_and_distance(
    text: str, expected: tuple[str, float | None, float | None]
) -> None:
    assert parse_georel(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "georel is empty"),
        ("nearby", "unknown geo-relationship 'nearby'; expected one of contains, disjoint"),
        ("Within", "unknown geo-relationship 'Within'"),
        ("near", "near needs maxDistance==N or minDistance==N at position 4"),
        ("near;", "expected a geo-relationship or a distance at position 5"),
        (";near", "expected a geo-relationship or a distance at position 0"),
        ("maxDistance==5", "expected a geo-relationship such as near or within at position 0"),
        (
            "near;maxDistance==1000;minDistance==5",
            "near takes exactly one of maxDistance==N and minDistance==N at position 23",
        ),
        ("near;maxDistance=1000", "expected maxDistance==N or minDistance==N, got"),
        ("near;distance==10", "got 'distance==10' at position 5"),
        ("near;maxDistance==-5", "needs a non-negative number of metres, got '-5' at position 18"),
        ("near;maxDistance==abc", "got 'abc' at position 18"),
        ("near;maxDistance==", "got '' at position 18"),
        ("near;maxDistance==1e999", "got '1e999' at position 18"),
        ("near;maxDistance==10.", "got '10.' at position 18"),
        ("within;maxDistance==5", "within takes no distance or other argument, got"),
        ("within;near", "within takes no distance or other argument, got 'near' at position 7"),
        ("near;within", "expected maxDistance==N or minDistance==N, got 'within' at position 5"),
    ],
)
def test_parse_georel_reports_position_and_problem(text: str, fragment: str) -> None:
    with pytest.raises(GeoQueryError) as caught:
        parse_georel(text)
    assert caught.value.status == 400
    assert caught.value.detail.startswith("georel")
    assert fragment in caught.value.detail


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_parse_georel_reads_back_any_non_negative_distance(distance: float) -> None:
    assert parse_georel(f"near;maxDistance=={distance!r}") == ("near", distance, None)
    assert parse_georel(f"near;minDistance=={distance!r}") == ("near", None, distance)


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "expected_geometry"),
    [
        (
            "near;maxDistance==2000",
            "Point",
            POINT,
            {"type": "Point", "coordinates": [126.97, 37.56]},
        ),
        ("within", "Polygon", SQUARE_TEXT, {"type": "Polygon", "coordinates": SQUARE}),
        ("near;minDistance==1", "Polygon", SQUARE_TEXT, {"type": "Polygon", "coordinates": SQUARE}),
        (
            "intersects",
            "MultiPoint",
            "[[0,0],[1,1]]",
            {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]},
        ),
        (
            "intersects",
            "LineString",
            "[[0,0],[1,1]]",
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        ),
        (
            "disjoint",
            "MultiLineString",
            "[[[0,0],[1,1]],[[2,2],[3,3]]]",
            {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]},
        ),
        (
            "contains",
            "MultiPolygon",
            f"[{SQUARE_TEXT}]",
            {"type": "MultiPolygon", "coordinates": [SQUARE]},
        ),
        ("equals", "Point", "[180,-90,12.5]", {"type": "Point", "coordinates": [180, -90, 12.5]}),
        ("overlaps", "Point", " [ -180 , 90 ] ", {"type": "Point", "coordinates": [-180, 90]}),
    ],
)
def test_parse_geo_query_builds_the_geometry(
    georel: str, geometry: str, coordinates: str, expected_geometry: dict[str, Any]
) -> None:
    got = parse_geo_query(georel, geometry, coordinates, None)
    assert got is not None
    assert got.geometry == expected_geometry
    assert got.georel == georel.split(";")[0]
    assert got.geoproperty == "location"


def test_parse_geo_query_sets_near_distances() -> None:
    got = parse_geo_query("near;maxDistance==2000", "Point", POINT, None)
    assert got == GeoQuery(
        "near", {"type": "Point", "coordinates": [126.97, 37.56]}, "location", 2000.0, None
    )
    got = parse_geo_query("near;minDistance==15", "Point", POINT, None)
    assert got is not None and (got.max_distance, got.min_distance) == (None, 15.0)


def test_parse_geo_query_keeps_the_geoproperty_as_written() -> None:
    got = parse_geo_query("within", "Polygon", SQUARE_TEXT, "observationSpace")
    assert got is not None and got.geoproperty == "observationSpace"


@pytest.mark.parametrize("geoproperty", [None, "location", "operationSpace"])
def test_parse_geo_query_returns_none_without_a_geo_query(geoproperty: str | None) -> None:
    assert parse_geo_query(None, None, None, geoproperty) is None


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "fragment"),
    [
        ("within", None, None, "geometry and coordinates are missing"),
        (None, "Point", None, "georel and coordinates are missing"),
        (None, None, POINT, "georel and geometry are missing"),
        ("within", "Polygon", None, "; coordinates is missing"),
        (None, "Point", POINT, "; georel is missing"),
        ("near;maxDistance==5", None, POINT, "; geometry is missing"),
    ],
)
def test_parse_geo_query_names_the_missing_parameters(
    georel: str | None, geometry: str | None, coordinates: str | None, fragment: str
) -> None:
    with pytest.raises(GeoQueryError) as caught:
        parse_geo_query(georel, geometry, coordinates, None)
    assert caught.value.detail.startswith("A geo-query needs georel, geometry and coordinates")
    assert fragment in caught.value.detail


@pytest.mark.parametrize(
    ("geometry", "coordinates", "fragment"),
    [
        ("Circle", POINT, "geometry: 'Circle' is not a supported geometry; expected one of"),
        ("GeometryCollection", "[]", "geometry: 'GeometryCollection' is not a supported"),
        ("point", POINT, "geometry: 'point' is not a supported geometry"),
        ("Point", "", "coordinates is empty"),
        ("Point", "[1,2", "coordinates: not valid JSON (unexpected end of data) at position 4"),
        ("Point", "126.97,37.56", "coordinates: not valid JSON"),
        ("Point", "[1,x]", "at position 3"),
        ("Point", '{"lon":1}', "coordinates: must be a JSON array of positions"),
        ("Point", "12", "coordinates: must be a JSON array of positions"),
        ("Point", "[1]", "coordinates: a position is an array of 2 or 3 numbers"),
        ("Point", "[1,2,3,4]", "coordinates: a position is an array of 2 or 3 numbers"),
        ("Point", '["1","2"]', "coordinates: coordinates must be numbers"),
        ("Point", "[true,2]", "coordinates: coordinates must be numbers"),
        ("Point", "[180.5,0]", "outside longitude/latitude range"),
        ("Point", "[0,-90.01]", "outside longitude/latitude range"),
        ("MultiPoint", "[]", "needs an array of at least 1 positions"),
        ("LineString", "[[0,0]]", "needs an array of at least 2 positions"),
        ("MultiLineString", "[]", "a MultiLineString is an array of line strings"),
        ("Polygon", "[]", "a Polygon is an array of linear rings"),
        ("Polygon", "[[[0,0],[1,0],[0,0]]]", "needs an array of at least 4 positions"),
        ("Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "the linear ring is not closed"),
        ("Polygon", "[[0,0],[1,0],[1,1],[0,0]]", "ring: needs an array of at least 4 positions"),
        (
            "Polygon",
            "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]",
            "coordinates: the Polygon is not valid (Self-intersection",
        ),
        ("Polygon", "[[[0,0],[0,0],[0,0],[0,0]]]", "coordinates: the Polygon is not valid"),
        ("MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,1]]]]", "the linear ring is not closed"),
        (
            "MultiPolygon",
            "[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[1,1],[3,1],[3,3],[1,3],[1,1]]]]",
            "coordinates: the MultiPolygon is not valid",
        ),
    ],
)
def test_parse_geo_query_rejects_bad_geometry(
    geometry: str, coordinates: str, fragment: str
) -> None:
    with pytest.raises(GeoQueryError) as caught:
        parse_geo_query("intersects", geometry, coordinates, None)
    assert isinstance(caught.value, BadRequestData)
    assert fragment in caught.value.detail


def test_parse_geo_query_rejects_an_empty_geoproperty() -> None:
    with pytest.raises(GeoQueryError, match="geoproperty is empty"):
        parse_geo_query("within", "Polygon", SQUARE_TEXT, "")


def test_parse_geo_query_reports_the_georel_problem_first() -> None:
    with pytest.raises(GeoQueryError, match=r"^georel: unknown geo-relationship 'inside'"):
        parse_geo_query("inside", "Circle", "[", None)


_LON = st.floats(min_value=-180, max_value=180, allow_nan=False)
_LAT = st.floats(min_value=-90, max_value=90, allow_nan=False)


@given(st.lists(st.tuples(_LON, _LAT).map(list), min_size=1, max_size=5))
def test_parse_geo_query_keeps_every_position_in_range(positions: list[list[float]]) -> None:
    got = parse_geo_query("intersects", "MultiPoint", orjson.dumps(positions).decode(), None)
    assert got is not None and got.geometry == {"type": "MultiPoint", "coordinates": positions}


# --- the GeoQuery object of a Query (clause 5.2.13)


@pytest.mark.parametrize("coordinates", [SQUARE, SQUARE_TEXT])
def test_geo_query_from_json_accepts_an_array_or_a_string(coordinates: Any) -> None:
    got = geo_query_from_json(
        {"georel": "within", "geometry": "Polygon", "coordinates": coordinates}
    )
    assert got == GeoQuery("within", {"type": "Polygon", "coordinates": SQUARE})


def test_geo_query_from_json_reads_near_and_geoproperty() -> None:
    got = geo_query_from_json(
        {
            "georel": "near;minDistance==300",
            "geometry": "Point",
            "coordinates": [126.97, 37.56],
            "geoproperty": "observationSpace",
        }
    )
    assert got == GeoQuery(
        "near",
        {"type": "Point", "coordinates": [126.97, 37.56]},
        "observationSpace",
        min_distance=300.0,
    )


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ([], "geoQ must be a GeoQuery object"),
        ("within", "geoQ must be a GeoQuery object"),
        ({"georel": "within", "geometry": "Polygon"}, "; coordinates is missing"),
        ({"coordinates": SQUARE}, "; georel and geometry are missing"),
        (
            {"georel": "within", "geometry": "Polygon", "coordinates": SQUARE, "geoProperty": "x"},
            "geoQ has the unknown member 'geoProperty'",
        ),
        (
            {"georel": 5, "geometry": "Polygon", "coordinates": SQUARE},
            "geoQ.georel must be a string, got 5",
        ),
        (
            {"georel": "within", "geometry": ["Polygon"], "coordinates": SQUARE},
            "geoQ.geometry must be a string",
        ),
        (
            {"georel": "within", "geometry": "Polygon", "coordinates": SQUARE, "geoproperty": 1},
            "geoQ.geoproperty must be a string",
        ),
        (
            {"georel": "within", "geometry": "Polygon", "coordinates": {"a": 1}},
            "geoQ.coordinates must be a JSON array or a string holding one",
        ),
        (
            {"georel": "within", "geometry": "Polygon", "coordinates": "[[[0,0]"},
            "geoQ.coordinates: not valid JSON (unexpected end of data) at position 7",
        ),
        (
            {"georel": "near", "geometry": "Point", "coordinates": [0, 0]},
            "geoQ.georel: near needs maxDistance==N or minDistance==N at position 4",
        ),
        (
            {"georel": "within", "geometry": "Circle", "coordinates": [0, 0]},
            "geoQ.geometry: 'Circle' is not a supported geometry",
        ),
        (
            {
                "georel": "within",
                "geometry": "Polygon",
                "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]],
            },
            "geoQ.coordinates: the linear ring is not closed",
        ),
        (
            {"georel": "within", "geometry": "Polygon", "coordinates": SQUARE, "geoproperty": ""},
            "geoQ.geoproperty is empty",
        ),
    ],
)
def test_geo_query_from_json_reports_the_problem(obj: Any, fragment: str) -> None:
    with pytest.raises(GeoQueryError) as caught:
        geo_query_from_json(obj)
    assert caught.value.status == 400
    assert fragment in caught.value.detail
