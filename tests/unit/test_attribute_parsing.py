"""Parsing NGSI-LD input into the internal form (clauses 4.5, 5.2.4-5.2.6, 5.4, 5.5.4)."""

from __future__ import annotations

from typing import Any

import pytest

from cityhub.errors import BadRequestData
from cityhub.jsonld.core import DEFAULT_VOCAB
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import ParseOptions, parse_attribute, parse_instance
from cityhub.model.entity import parse_entity, parse_fragment

SCHEMA = "https://schema.org/"
TM = TermMap(
    {
        "schema": SCHEMA,
        "name": SCHEMA + "name",
        "location": "https://uri.etsi.org/ngsi-ld/location",
    },
    {"schema": SCHEMA},
    DEFAULT_VOCAB,
)
NULL_OK = ParseOptions(allow_null=True)
POINT = {"type": "Point", "coordinates": [126.97, 37.56]}


STRICT = ParseOptions()


def parse(name: str, raw: Any, options: ParseOptions = STRICT) -> list[dict[str, Any]]:
    return parse_attribute(name, TM.expand(name), raw, TM, options)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("speed", {"type": "Property", "value": 5}, {"type": "Property", "value": 5}),
        ("speed", 5, {"type": "Property", "value": 5}),  # concise
        ("speed", {"value": [1, 2]}, {"type": "Property", "value": [1, 2]}),
        ("speed", [1, 2], {"type": "Property", "value": [1, 2]}),
        ("speed", {"value": {"a": 1}}, {"type": "Property", "value": {"a": 1}}),
        ("owner", {"object": "urn:p:1"}, {"type": "Relationship", "object": "urn:p:1"}),
        (
            "owner",
            {"type": "Relationship", "object": ["urn:p:1", "urn:p:2"]},
            {"type": "Relationship", "object": ["urn:p:1", "urn:p:2"]},
        ),
        ("location", POINT, {"type": "GeoProperty", "value": POINT}),
        ("location", {"value": POINT}, {"type": "GeoProperty", "value": POINT}),
        ("where", {"type": "GeoProperty", "value": POINT}, {"type": "GeoProperty", "value": POINT}),
        (
            "name",
            {"languageMap": {"ko": "서울", "ja": "ソウル", "zh-Hans": "首尔", "en": "Seoul"}},
            {
                "type": "LanguageProperty",
                "languageMap": {"ko": "서울", "ja": "ソウル", "zh-Hans": "首尔", "en": "Seoul"},
            },
        ),
        (
            "name",
            {"type": "LanguageProperty", "languageMap": {"en": ["a", "b"], "@none": "x"}},
            {"type": "LanguageProperty", "languageMap": {"en": ["a", "b"], "@none": "x"}},
        ),
        (
            "category",
            {"vocab": "schema:Parking"},
            {"type": "VocabProperty", "vocab": SCHEMA + "Parking"},
        ),
        (
            "category",
            {"type": "VocabProperty", "vocab": ["name", "Garage"]},
            {"type": "VocabProperty", "vocab": [SCHEMA + "name", DEFAULT_VOCAB + "Garage"]},
        ),
        ("raw", {"json": {"k": None}}, {"type": "JsonProperty", "json": {"k": None}}),
        ("list", {"valueList": [1, "a"]}, {"type": "ListProperty", "valueList": [1, "a"]}),
        (
            "parts",
            {"objectList": ["urn:a:1", {"object": "urn:a:2"}]},
            {
                "type": "ListRelationship",
                "objectList": [{"object": "urn:a:1"}, {"object": "urn:a:2"}],
            },
        ),
        (
            "speed",
            {
                "type": "Property",
                "value": 5,
                "observedAt": "2024-05-01T19:00:00+09:00",
                "unitCode": "KMH",
                "datasetId": "urn:ds:gps",
            },
            {
                "type": "Property",
                "value": 5,
                "observedAt": "2024-05-01T10:00:00Z",
                "unitCode": "KMH",
                "datasetId": "urn:ds:gps",
            },
        ),
        (
            "owner",
            {"object": "urn:p:1", "objectType": "Person"},
            {"type": "Relationship", "object": "urn:p:1", "objectType": DEFAULT_VOCAB + "Person"},
        ),
        (
            "speed",
            {"value": 5, "accuracy": {"value": 0.5}, "name": "sensor"},
            {
                "type": "Property",
                "value": 5,
                DEFAULT_VOCAB + "accuracy": [{"type": "Property", "value": 0.5}],
                SCHEMA + "name": [{"type": "Property", "value": "sensor"}],
            },
        ),
    ],
)
def test_parse_attribute_gives_internal_instance(
    name: str, raw: Any, expected: dict[str, Any]
) -> None:
    assert parse(name, raw) == [expected]


def test_parse_attribute_keeps_one_instance_per_dataset_id() -> None:
    instances = parse(
        "speed",
        [
            {"type": "Property", "value": 1},
            {"type": "Property", "value": 2, "datasetId": "urn:d:2"},
        ],
    )
    assert [i.get("datasetId") for i in instances] == [None, "urn:d:2"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (None, ("speed", "null")),
        ({"type": "Property", "value": None}, ("null",)),
        ({"type": "Property"}, ("value",)),
        ({"type": "Propertee", "value": 1}, ("Propertee",)),
        ({"type": ["Property"], "value": 1}, ("unknown type",)),
        ({"type": 1, "value": 1}, ("unknown type",)),
        ({"type": "Property", "value": 1, "object": "urn:a"}, ("object",)),
        ({"unitCode": "CEL"}, ("no type",)),
        ({"type": "Relationship", "object": "not uri"}, ("URI",)),
        ({"type": "Relationship", "object": ["urn:a", 3]}, ("URI",)),
        ({"type": "GeoProperty", "value": [1, 2]}, ("GeoJSON",)),
        ({"type": "LanguageProperty", "languageMap": {"en_US": "x"}}, ("en_US",)),
        ({"type": "LanguageProperty", "languageMap": {"en": {"x": 1}}}, ("strings",)),
        ({"type": "VocabProperty", "vocab": 5}, ("vocab",)),
        ({"type": "VocabProperty", "vocab": []}, ("empty",)),
        ({"type": "JsonProperty", "json": "text"}, ("json",)),
        ({"type": "ListProperty", "valueList": {"a": 1}}, ("valueList",)),
        ({"type": "ListRelationship", "objectList": ["nope"]}, ("URI",)),
        ({"value": 1, "observedAt": "2024-05-01"}, ("observedAt",)),
        ({"value": 1, "unitCode": ""}, ("unitCode",)),
        ({"value": 1, "datasetId": 7}, ("datasetId",)),
        ({"value": 1, "objectType": "T"}, ("objectType",)),
        ({"object": "urn:a", "lang": "en"}, ("lang",)),
        ({"value": 1, "sub attr": {"value": 1}}, ("sub attr",)),
        ({"value": 1, "sub": {"value": None}}, ("speed.sub",)),
        ([{"value": 1, "datasetId": "urn:d"}, {"value": 2, "datasetId": "urn:d"}], ("urn:d",)),
        ("urn:ngsi-ld:null", ("urn:ngsi-ld:null",)),
        ({"value": "urn:ngsi-ld:null"}, ("urn:ngsi-ld:null",)),
        ({"value": {"a": {"b": "urn:ngsi-ld:null"}}}, ("urn:ngsi-ld:null",)),
        ({"object": "urn:ngsi-ld:null"}, ("urn:ngsi-ld:null",)),
        ({"languageMap": {"@none": "urn:ngsi-ld:null"}}, ("urn:ngsi-ld:null",)),
    ],
)
def test_parse_attribute_refuses_invalid_input_naming_the_attribute(
    raw: Any, words: tuple[str, ...]
) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse("speed", raw)
    assert "speed" in caught.value.detail
    for word in words:
        assert word in caught.value.detail


@pytest.mark.parametrize(
    "raw",
    [
        "urn:ngsi-ld:null",
        {"value": "urn:ngsi-ld:null"},
        {"type": "Relationship", "object": "urn:ngsi-ld:null"},
        {"value": {"a": "urn:ngsi-ld:null"}},
    ],
)
def test_parse_instance_accepts_ngsi_null_in_update_fragments(raw: Any) -> None:
    instance = parse_instance("speed", TM.expand("speed"), raw, TM, NULL_OK)
    assert "urn:ngsi-ld:null" in str(instance)


def test_parse_entity_expands_types_and_attributes() -> None:
    entity = parse_entity(
        {
            "@context": "ignored here",
            "id": "urn:ngsi-ld:Shop:1",
            "type": ["Shop", "schema:Store", "Shop"],
            "scope": "/Seoul/Jung",
            "name": {"languageMap": {"ko": "가게"}},
            "createdAt": "2020-01-01T00:00:00Z",
        },
        TM,
    )
    assert entity == {
        "id": "urn:ngsi-ld:Shop:1",
        "type": [DEFAULT_VOCAB + "Shop", SCHEMA + "Store"],
        "scope": ["/Seoul/Jung"],
        SCHEMA + "name": [{"type": "LanguageProperty", "languageMap": {"ko": "가게"}}],
    }


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ([], ("JSON object",)),
        ({"type": "T"}, ("no id",)),
        ({"id": "urn:a:1"}, ("no type",)),
        ({"id": "a b", "type": "T"}, ("Entity id", "URI")),
        ({"id": "urn:a:1", "type": []}, ("type",)),
        ({"id": "urn:a:1", "type": "A=B"}, ("Entity type",)),
        ({"id": "urn:a:1", "type": ["A", 3]}, ("Entity type",)),
        ({"id": "urn:a:1", "type": "T", "scope": "nope"}, ("scope",)),
        ({"id": "urn:a:1", "type": "T", "@type": "T"}, ("@type",)),
        ({"id": "urn:a:1", "type": "T", "bad name": 1}, ("bad name",)),
        ({"id": "urn:a:1", "type": "T", "name": 1, "schema:name": 2}, ("twice",)),
    ],
)
def test_parse_entity_refuses_invalid_entities(raw: Any, words: tuple[str, ...]) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_entity(raw, TM)
    for word in words:
        assert word in caught.value.detail


def test_parse_fragment_reads_optional_members_and_null_scope() -> None:
    fragment = parse_fragment(
        {"id": "urn:a:1", "type": "T", "scope": "urn:ngsi-ld:null", "speed": 3}, TM, NULL_OK
    )
    assert fragment.entity_id == "urn:a:1"
    assert fragment.types == [DEFAULT_VOCAB + "T"]
    assert fragment.scope_null is True
    assert fragment.names == {DEFAULT_VOCAB + "speed": "speed"}
    assert fragment.attributes[DEFAULT_VOCAB + "speed"] == [{"type": "Property", "value": 3}]


def test_parse_fragment_refuses_null_scope_outside_updates() -> None:
    with pytest.raises(BadRequestData, match="scope"):
        parse_fragment({"scope": "urn:ngsi-ld:null"}, TM)


@pytest.mark.parametrize("raw", [None, [], "x", 3])
def test_parse_fragment_refuses_non_objects(raw: Any) -> None:
    with pytest.raises(BadRequestData, match="JSON object"):
        parse_fragment(raw, TM)
