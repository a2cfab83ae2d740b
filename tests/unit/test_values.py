"""Scalar shapes of NGSI-LD: URIs, names, scopes, DateTimes, language tags, GeoJSON (clauses
4.6, 4.7, 4.18, 5.2.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.errors import BadRequestData
from cityhub.model.values import (
    check_geometry,
    check_language_tag,
    check_name,
    check_scope,
    format_datetime,
    is_language_tag,
    is_uri,
    looks_like_geometry,
    normalize_datetime,
    now_iso,
    parse_datetime,
    require_uri,
)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("urn:ngsi-ld:Vehicle:A4567", True),
        ("https://example.org/ns/entity/1", True),
        ("urn:ngsi-ld:서울:1", True),  # IRIs allow Unicode (clause 5.2.1)
        ("a:b", True),
        ("no-scheme", False),
        ("urn:has space", False),
        ("urn:<x>", False),
        ("1urn:x", False),
        ("", False),
        (None, False),
        (42, False),
        (["urn:x"], False),
    ],
)
def test_is_uri_accepts_only_absolute_uris(text: Any, ok: bool) -> None:
    assert is_uri(text) is ok
    if ok:
        assert require_uri(text, "Entity id") == text
    else:
        with pytest.raises(BadRequestData, match="Entity id must be a URI"):
            require_uri(text, "Entity id")


@pytest.mark.parametrize(
    "name",
    [
        "speed",
        "availableSpotNumber",
        "ex:temperature",
        "https://schema.org/name",
        "a_b-c.d",
        "서울",
    ],
)
def test_check_name_accepts_terms_and_iris(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("a b", " "),
        ("a=b", "="),
        ("a;b", ";"),
        ("f(x)", "("),
        ("a<b", "<"),
        ('a"b', '"'),
        ("a'b", "'"),
        ("a\tb", "\t"),
        ("a\x00b", "\x00"),
        ("a&b", "&"),
        ("a?b", "?"),
        ("a,b", ","),
    ],
)
def test_check_name_refuses_forbidden_characters(name: str, bad: str) -> None:
    with pytest.raises(BadRequestData) as caught:
        check_name(name, "Attribute name")
    assert repr(bad) in caught.value.detail and repr(name) in caught.value.detail


@pytest.mark.parametrize("name", ["", None, 1, ["a"], {"a": 1}])
def test_check_name_refuses_non_strings(name: Any) -> None:
    with pytest.raises(BadRequestData, match="non-empty string"):
        check_name(name)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("/Seoul", ["/Seoul"]),
        ("/Seoul/Jongno", ["/Seoul/Jongno"]),
        (["/A", "/B/C", "/A"], ["/A", "/B/C"]),
    ],
)
def test_check_scope_accepts_paths_and_drops_duplicates(scope: Any, expected: list[str]) -> None:
    assert check_scope(scope) == expected


@pytest.mark.parametrize("scope", ["Seoul", "/", "/a//b", "/a/", "/a#b", "/a+b", [], [1], None])
def test_check_scope_refuses_malformed_scopes(scope: Any) -> None:
    with pytest.raises(BadRequestData, match="scope"):
        check_scope(scope)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.500Z"),
        ("2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.123456Z"),
        ("2024-05-01T10:00:00.120000Z", "2024-05-01T10:00:00.120Z"),
        ("2024-05-01T19:00:00+09:00", "2024-05-01T10:00:00Z"),
        ("2024-05-01T05:30:00-04:30", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00Z"),  # no offset: UTC
        ("2024-05-01T10:00Z", "2024-05-01T10:00:00Z"),
        ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00Z"),
        ("2024-01-01T08:00:00+09:00", "2023-12-31T23:00:00Z"),
    ],
)
def test_normalize_datetime_gives_utc_with_z(text: str, expected: str) -> None:
    assert normalize_datetime(text, "observedAt") == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-05-01T25:00:00Z",
        "2024-05-01T10:00:00+25:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "",
        1714557600,
        None,
    ],
)
def test_parse_datetime_refuses_non_datetimes(text: Any) -> None:
    with pytest.raises(BadRequestData, match="observedAt must be an ISO 8601 DateTime"):
        parse_datetime(text, "observedAt")


def test_now_iso_is_a_normalized_utc_datetime() -> None:
    stamp = now_iso()
    assert stamp.endswith("Z")
    assert abs(parse_datetime(stamp, "now") - datetime.now(UTC)) < timedelta(days=1)


AWARE = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)


@given(AWARE)
def test_normalize_datetime_round_trips_every_instant(moment: datetime) -> None:
    text = normalize_datetime(moment.isoformat(), "t")
    assert parse_datetime(text, "t") == moment
    assert normalize_datetime(text, "t") == text
    assert text == format_datetime(moment)
    assert len(text.split("T")[0]) == 10 and text.endswith("Z")


@given(AWARE, AWARE)
def test_normalize_datetime_preserves_order(a: datetime, b: datetime) -> None:
    """Normalized strings sort like instants: stores may compare them as text."""
    na, nb = normalize_datetime(a.isoformat(), "t"), normalize_datetime(b.isoformat(), "t")
    if a < b:
        assert parse_datetime(na, "t") < parse_datetime(nb, "t")
    assert (na == nb) == (a == b)


@pytest.mark.parametrize("tag", ["en", "ko", "ja", "zh-Hans", "zh-Hant-TW", "de-CH-1996", "@none"])
def test_check_language_tag_accepts_bcp47_tags(tag: str) -> None:
    assert check_language_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", "en_GB", "toolongtag", "en-", "-en", "e n", "@None", 1, None])
def test_check_language_tag_refuses_malformed_tags(tag: Any) -> None:
    with pytest.raises(BadRequestData, match="language tag"):
        check_language_tag(tag)


def test_is_language_tag_refuses_a_malformed_tag_every_time() -> None:
    for _ in range(2):  # accepted tags are remembered; refused ones never are
        assert is_language_tag("zh-Hant") and is_language_tag("@none")
        assert not is_language_tag("en_GB")
        assert not is_language_tag(["en"])
        assert not is_language_tag(None)


SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
VALID_GEOMETRIES = [
    {"type": "Point", "coordinates": [126.97, 37.56]},
    {"type": "Point", "coordinates": [126.97, 37.56, 38.0]},
    {"type": "Point", "coordinates": [-180, -90]},
    {"type": "Point", "coordinates": [180.0, 90.0]},
    {"type": "Point", "coordinates": [-8.6096, 41.1506]},
    {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]},
    {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
    {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]},
    {"type": "Polygon", "coordinates": SQUARE},
    {"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]},
    {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
]


@pytest.mark.parametrize("geometry", VALID_GEOMETRIES, ids=lambda g: g["type"])
def test_check_geometry_accepts_geojson_geometries(geometry: dict[str, Any]) -> None:
    assert check_geometry(geometry, "location") is geometry
    assert looks_like_geometry(geometry)


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        ("POINT(1 2)", ("GeoJSON",)),
        ({"type": "Circle", "coordinates": [1, 2]}, ("Circle",)),
        ({"type": ["Point"], "coordinates": [1, 2]}, ("geometry type",)),
        ({"type": {"a": 1}, "coordinates": [1, 2]}, ("geometry type",)),
        ({"coordinates": [1, 2]}, ("None",)),
        ({"type": "Point"}, ("position",)),
        ({"type": "Point", "coordinates": [1]}, ("position",)),
        ({"type": "Point", "coordinates": [1, 2, 3, 4]}, ("position",)),
        ({"type": "Point", "coordinates": ["1", 2]}, ("numbers",)),
        ({"type": "Point", "coordinates": [True, 2]}, ("numbers",)),
        ({"type": "Point", "coordinates": [181, 0]}, ("range",)),
        ({"type": "Point", "coordinates": [0, -90.5]}, ("range",)),
        ({"type": "Point", "coordinates": [float("nan"), 0]}, ("finite",)),
        ({"type": "Point", "coordinates": [0.5, float("nan")]}, ("finite",)),
        ({"type": "Point", "coordinates": [float("inf"), 0.5]}, ("finite",)),
        ({"type": "Point", "coordinates": [180.5, 0.5]}, ("range",)),
        ({"type": "Point", "coordinates": [0.5, 90.25]}, ("range",)),
        ({"type": "LineString", "coordinates": [[0, 0]]}, ("at least 2",)),
        ({"type": "MultiPoint", "coordinates": []}, ("at least 1",)),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, ("not closed",)),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, ("at least 4",)),
        ({"type": "Polygon", "coordinates": []}, ("linear rings",)),
        (
            {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1]]]]},
            ("closed",),
        ),
        ({"type": "MultiLineString", "coordinates": []}, ("line strings",)),
        ({"type": "GeometryCollection"}, ("geometries",)),
        ({"type": "GeometryCollection", "geometries": [{"type": "Nope"}]}, ("Nope",)),
    ],
)
def test_check_geometry_refuses_invalid_geojson(geometry: Any, words: tuple[str, ...]) -> None:
    with pytest.raises(BadRequestData) as caught:
        check_geometry(geometry, "Attribute location")
    assert caught.value.detail.startswith("Attribute location")
    for word in words:
        assert word in caught.value.detail


@pytest.mark.parametrize(
    "value",
    [
        {"type": "Point"},
        {"type": "Feature", "geometry": {}},
        {"type": ["Point"], "coordinates": [1, 2]},
        {"type": {"x": 1}, "coordinates": [1, 2]},
        [1, 2],
        "Point",
    ],
)
def test_looks_like_geometry_is_false_for_non_geometries(value: Any) -> None:
    assert looks_like_geometry(value) is False
