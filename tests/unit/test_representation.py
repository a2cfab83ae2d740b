"""Unit tests of model/representation.py: the lang filter (clause 4.15) and the normalized,
concise and simplified renderings (clauses 4.5.2–4.5.4, 4.5.16–4.5.18) with the core @context."""

from __future__ import annotations

from typing import Any

import pytest

from cityhub.jsonld.resolver import ContextResolver
from cityhub.jsonld.termmap import TermMap
from cityhub.model.entity import Entity, entity_from_fragment, parse_fragment
from cityhub.model.representation import (
    CONCISE,
    NORMALIZED,
    SIMPLIFIED,
    RenderOptions,
    geojson_feature,
    parse_lang,
    pick_language,
    render_entity,
)

DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
POINT = {"type": "Point", "coordinates": [126.978, 37.566]}
NAMES = {"zh-Hans": "市政厅", "ja": "市庁舎", "ko": "시청", "en": "City Hall", "fr-CH": "Mairie"}


@pytest.fixture(scope="module")
def core() -> TermMap:
    return ContextResolver().core


def entity_of(raw: dict[str, Any], tm: TermMap) -> Entity:
    return entity_from_fragment(parse_fragment(raw, tm))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("en", (("en", 1.0),)),
        ("fr-CH,fr", (("fr-CH", 1.0), ("fr", 1.0))),
        ("en;q=0.5, ja", (("ja", 1.0), ("en", 0.5))),
        (
            "fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5",
            (("fr-CH", 1.0), ("fr", 0.9), ("en", 0.8), ("*", 0.5)),
        ),
        ("ko;q=0,en", (("en", 1.0),)),
        ("*", (("*", 1.0),)),
        (" , ", ()),
    ],
)
def test_parse_lang_orders_tags_by_weight(text: str, expected: tuple[tuple[str, float], ...]):
    assert parse_lang(text) == expected


@pytest.mark.parametrize(
    ("lang", "language_map", "expected"),
    [
        ("en", NAMES, ("en", "City Hall")),
        ("EN", NAMES, ("en", "City Hall")),
        ("ko,en", NAMES, ("ko", "시청")),
        ("de;q=0.9,ja;q=0.8", NAMES, ("ja", "市庁舎")),
        ("zh-Hans-CN", NAMES, ("zh-Hans", "市政厅")),
        ("zh", NAMES, ("zh-Hans", "市政厅")),
        ("fr", NAMES, ("fr-CH", "Mairie")),
        ("fr-CH", {"fr-BE": "Maison", "fr": "Mairie"}, ("fr", "Mairie")),
        ("de", {"@none": "Rathaus?", "en": "City Hall"}, ("@none", "Rathaus?")),
        ("*", {"@none": "Default", "en": "City Hall"}, ("@none", "Default")),
        ("de", {"ko": "시청", "en": "City Hall"}, ("ko", "시청")),
        ("ko;q=0,en", {"ko": "시청", "en": "City Hall"}, ("en", "City Hall")),
    ],
)
def test_pick_language_prefers_best_match_then_falls_back(
    lang: str, language_map: dict[str, Any], expected: tuple[str, Any]
):
    assert pick_language(language_map, parse_lang(lang)) == expected


def test_render_entity_normalized_gives_typed_attributes(core: TermMap):
    raw = {
        "id": "urn:ngsi-ld:OffStreetParking:1",
        "type": "OffStreetParking",
        "availableSpotNumber": {
            "type": "Property",
            "value": 12,
            "observedAt": "2024-05-01T10:00:00Z",
            "reliability": {"type": "Property", "value": 0.9},
        },
        "location": {"type": "GeoProperty", "value": POINT},
        "operator": {"type": "Relationship", "object": "urn:ngsi-ld:Company:1"},
    }
    assert render_entity(entity_of(raw, core), core, RenderOptions()) == raw


@pytest.mark.parametrize(
    ("attribute", "concise"),
    [
        ({"type": "Property", "value": 12}, 12),
        ({"type": "Property", "value": "open"}, "open"),
        ({"type": "Property", "value": [1, 2, 3]}, [1, 2, 3]),
        ({"type": "Property", "value": {"a": 1}}, {"value": {"a": 1}}),
        ({"type": "Property", "value": POINT}, {"type": "Property", "value": POINT}),
        ({"type": "Property", "value": 5, "unitCode": "KMH"}, {"value": 5, "unitCode": "KMH"}),
        (
            {"type": "Property", "value": 5, "accuracy": {"type": "Property", "value": 1}},
            {"value": 5, "accuracy": 1},
        ),
        ({"type": "GeoProperty", "value": POINT}, {"value": POINT}),
        (
            {"type": "Relationship", "object": "urn:ngsi-ld:Company:1"},
            {"object": "urn:ngsi-ld:Company:1"},
        ),
        ({"type": "LanguageProperty", "languageMap": NAMES}, {"languageMap": NAMES}),
        ({"type": "VocabProperty", "vocab": "Open"}, {"vocab": "Open"}),
        ({"type": "JsonProperty", "json": {"id": "x"}}, {"json": {"id": "x"}}),
        ({"type": "ListProperty", "valueList": [1, 2]}, {"valueList": [1, 2]}),
        (
            [
                {"type": "Property", "value": 1},
                {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:b"},
            ],
            [{"value": 1}, {"value": 2, "datasetId": "urn:ngsi-ld:Dataset:b"}],
        ),
    ],
)
def test_render_entity_concise_drops_what_the_value_implies(
    core: TermMap, attribute: Any, concise: Any
):
    raw = {"id": "urn:ngsi-ld:T:1", "type": "T", "attr": attribute}
    entity = entity_of(raw, core)
    out = render_entity(entity, core, RenderOptions(form=CONCISE))
    assert out == {"id": "urn:ngsi-ld:T:1", "type": "T", "attr": concise}
    # Lossless (clause 4.5.2.3): the concise form reads back as the same entity.
    assert entity_of(out, core) == entity


@pytest.mark.parametrize(
    ("attribute", "simplified"),
    [
        ({"type": "Property", "value": 12}, 12),
        ({"type": "Property", "value": {"a": 1}, "unitCode": "C62"}, {"a": 1}),
        ({"type": "GeoProperty", "value": POINT}, POINT),
        ({"type": "Relationship", "object": "urn:ngsi-ld:Company:1"}, "urn:ngsi-ld:Company:1"),
        ({"type": "LanguageProperty", "languageMap": NAMES}, {"languageMap": NAMES}),
        ({"type": "VocabProperty", "vocab": "Open"}, {"vocab": "Open"}),
        ({"type": "JsonProperty", "json": {"id": "x"}}, {"json": {"id": "x"}}),
        ({"type": "ListProperty", "valueList": [1, 2]}, [1, 2]),
        (
            {
                "type": "ListRelationship",
                "objectList": [{"object": "urn:a:1"}, {"object": "urn:a:2"}],
            },
            ["urn:a:1", "urn:a:2"],
        ),
        (
            [
                {"type": "Property", "value": "David Robert Jones"},
                {"type": "Property", "value": "David Bowie", "datasetId": "urn:ngsi-ld:Dataset:1"},
                {"type": "Property", "value": "Ziggy", "datasetId": "urn:ngsi-ld:Dataset:2"},
            ],
            {
                "dataset": {
                    "@none": "David Robert Jones",
                    "urn:ngsi-ld:Dataset:1": "David Bowie",
                    "urn:ngsi-ld:Dataset:2": "Ziggy",
                }
            },
        ),
        (
            [
                {"type": "Relationship", "object": "urn:a:1", "datasetId": "urn:ngsi-ld:D:1"},
                {"type": "Relationship", "object": "urn:a:2", "datasetId": "urn:ngsi-ld:D:2"},
            ],
            {"dataset": {"urn:ngsi-ld:D:1": "urn:a:1", "urn:ngsi-ld:D:2": "urn:a:2"}},
        ),
    ],
)
def test_render_entity_simplified_follows_clause_4_5_4(
    core: TermMap, attribute: Any, simplified: Any
):
    raw = {"id": "urn:ngsi-ld:T:1", "type": "T", "attr": attribute}
    out = render_entity(entity_of(raw, core), core, RenderOptions(form=SIMPLIFIED))
    assert out == {"id": "urn:ngsi-ld:T:1", "type": "T", "attr": simplified}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (NORMALIZED, {"type": "Property", "value": "시청", "lang": "ko"}),
        (CONCISE, {"value": "시청", "lang": "ko"}),
        (SIMPLIFIED, "시청"),
    ],
)
def test_render_entity_with_lang_turns_language_property_into_property(
    core: TermMap, form: str, expected: Any
):
    raw = {"id": "urn:ngsi-ld:T:1", "type": "T", "name": {"languageMap": NAMES}}
    options = RenderOptions(form=form, lang=parse_lang("ko"))
    assert render_entity(entity_of(raw, core), core, options)["name"] == expected


def test_render_entity_compacts_names_with_the_termmap(core: TermMap):
    entity: Entity = {
        "id": "urn:ngsi-ld:T:1",
        "type": [DEFAULT + "Parking", "https://example.org/Other"],
        DEFAULT + "openingStatus": [{"type": "VocabProperty", "vocab": DEFAULT + "open"}],
        "https://example.org/speed": [{"type": "Property", "value": 1}],
    }
    out = render_entity(entity, core, RenderOptions())
    assert out == {
        "id": "urn:ngsi-ld:T:1",
        "type": ["Parking", "https://example.org/Other"],
        "openingStatus": {"type": "VocabProperty", "vocab": "open"},
        "https://example.org/speed": {"type": "Property", "value": 1},
    }


@pytest.mark.parametrize(
    ("options", "members"),
    [
        (RenderOptions(keep=frozenset({DEFAULT + "speed"})), {"id", "type", "speed"}),
        (RenderOptions(omit=frozenset({DEFAULT + "speed", "scope"})), {"id", "type", "name"}),
        (RenderOptions(keep=frozenset({"scope"}), keep_type=False), {"id", "scope"}),
        (RenderOptions(keep=frozenset(), keep_id=False), {"type"}),
    ],
)
def test_render_entity_projects_members(core: TermMap, options: RenderOptions, members: set[str]):
    raw = {"id": "urn:ngsi-ld:T:1", "type": "T", "scope": "/Seoul", "speed": 3, "name": "x"}
    assert set(render_entity(entity_of(raw, core), core, options)) == members


def test_render_entity_sys_attrs_adds_timestamps_except_in_simplified(core: TermMap):
    entity = entity_of({"id": "urn:ngsi-ld:T:1", "type": "T", "speed": 3}, core)
    entity["createdAt"] = entity["modifiedAt"] = "2024-01-01T00:00:00Z"
    entity[DEFAULT + "speed"][0].update(createdAt="2024-01-01T00:00:00Z")
    normalized = render_entity(entity, core, RenderOptions(sys_attrs=True))
    assert normalized["createdAt"] == normalized["modifiedAt"] == "2024-01-01T00:00:00Z"
    assert normalized["speed"]["createdAt"] == "2024-01-01T00:00:00Z"
    plain = render_entity(entity, core, RenderOptions())
    assert "createdAt" not in plain and "createdAt" not in plain["speed"]


@pytest.mark.parametrize(
    ("location", "geometry"),
    [
        ({"type": "GeoProperty", "value": POINT}, POINT),
        (None, None),
        ({"type": "GeoProperty", "value": POINT, "datasetId": "urn:ngsi-ld:D:1"}, None),
    ],
)
def test_geojson_feature_takes_geometry_from_default_instance(
    core: TermMap, location: Any, geometry: Any
):
    raw: dict[str, Any] = {"id": "urn:ngsi-ld:T:1", "type": "T", "speed": 3}
    if location is not None:
        raw["location"] = location
    entity = entity_of(raw, core)
    rendered = render_entity(entity, core, RenderOptions(form=SIMPLIFIED))
    feature = geojson_feature(entity, rendered, LOCATION)
    assert feature["type"] == "Feature"
    assert feature["id"] == "urn:ngsi-ld:T:1"
    assert feature["geometry"] == geometry
    assert feature["properties"]["type"] == "T"
    assert feature["properties"]["speed"] == 3
    assert "id" not in feature["properties"]
