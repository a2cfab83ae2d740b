"""Errors as clients see them: ProblemDetails (clauses 5.5.2, 5.5.3, 5.5.4, 6.3.2-6.3.4).

Every error class renders with the spec's type URI, title, status and detail; every malformed
request under /ngsi-ld/ gets a ProblemDetails naming the problem, never a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityhub.errors import ALL_ERRORS, NgsiLdError

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
ENTITIES = "/ngsi-ld/v1/entities"
JSON = {"Content-Type": "application/json"}

# Table 5.5.2-1 (types) with Table 6.3.2-1 (statuses). The HTTP-binding errors of clause 6.3.2
# (405, 411, 413, 415, 406) have no type of their own: clause 6.3.4 makes a failed HTTP
# precondition an InvalidRequest, so they carry that type with their own status.
SPEC_TYPES = {
    "AlreadyExists": 409,
    "BadRequestData": 400,
    "Conflict": 409,
    "InternalError": 500,
    "InvalidRequest": 400,
    "LdContextNotAvailable": 504,  # Table 6.3.2-1 (V1.9.1); DESIGN §5 still says 503
    "NoMultiTenantSupport": 501,
    "NonexistentTenant": 404,
    "OperationNotSupported": 422,
    "ResourceNotFound": 404,
    "TooComplexQuery": 403,
    "TooManyResults": 403,
}
HTTP_BINDING_STATUSES = {405, 406, 411, 413, 415}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_body_bytes": 4096, "max_json_depth": 8}


def assert_problem(response: httpx.Response, status: int, type_name: str, *words: str) -> None:
    """A ProblemDetails (clause 5.5.3) as application/json (clause 6.3.3), naming the problem."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert "link" not in response.headers  # clause 6.3.6: error responses carry no Link
    body = response.json()
    assert body["type"] == ERRORS + type_name
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    for word in words:
        assert word.lower() in body["detail"].lower(), body["detail"]


# --- the error classes themselves -------------------------------------------------------------


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_error_class_renders_spec_problem_details(error_class: type[NgsiLdError]) -> None:
    error = error_class("Entity urn:ngsi-ld:X:1 does not exist", instance="urn:ngsi-ld:X:1")
    problem = error.to_problem()
    assert problem["type"].startswith(ERRORS)
    type_name = problem["type"][len(ERRORS) :]
    assert type_name in SPEC_TYPES, f"{type_name} is not an error type of Table 5.5.2-1"
    if error.status in HTTP_BINDING_STATUSES:
        assert type_name == "InvalidRequest"
    else:
        assert problem["status"] == SPEC_TYPES[type_name]
    assert problem["status"] == error.status
    assert problem["title"] and problem["title"] == error_class.title
    assert problem["detail"] == "Entity urn:ngsi-ld:X:1 does not exist"
    assert problem["instance"] == "urn:ngsi-ld:X:1"


def test_error_classes_cover_every_spec_error_type() -> None:
    rendered = {cls("x").to_problem()["type"][len(ERRORS) :] for cls in ALL_ERRORS}
    assert rendered == set(SPEC_TYPES)


# --- HTTP preconditions and routing (clauses 6.3.2, 6.3.4) ------------------------------------


async def test_create_entity_returns_400_when_body_is_malformed_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(ENTITIES, content=b'{"id": "urn:a:1", ', headers=JSON)
    assert_problem(response, 400, "InvalidRequest", "JSON")


async def test_create_entity_returns_400_when_body_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.post(ENTITIES, content=b"", headers=JSON)
    assert_problem(response, 400, "InvalidRequest", "body")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/geo+json"])
async def test_create_entity_returns_415_when_content_type_is_unsupported(
    client: httpx.AsyncClient, content_type: str
) -> None:
    body = orjson.dumps({"id": "urn:a:1", "type": "T"})
    response = await client.post(ENTITIES, content=body, headers={"Content-Type": content_type})
    assert_problem(response, 415, "InvalidRequest", content_type)


async def test_create_entity_returns_415_when_content_type_is_missing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(ENTITIES, content=orjson.dumps({"id": "urn:a:1", "type": "T"}))
    assert "content-type" not in response.request.headers
    assert_problem(response, 415, "InvalidRequest", "Content-Type")


async def test_merge_entity_accepts_merge_patch_content_type(client: httpx.AsyncClient) -> None:
    """Clause 6.3.4: application/merge-patch+json is application/json on PATCH."""
    await client.post(ENTITIES, json={"id": "urn:a:mp", "type": "T"})
    response = await client.patch(
        f"{ENTITIES}/urn:a:mp",
        content=orjson.dumps({"p": {"type": "Property", "value": 1}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 204, response.text


async def test_create_entity_returns_411_when_content_length_is_missing(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"id": "urn:a:chunked",'
        yield b' "type": "T"}'

    response = await client.post(ENTITIES, content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_problem(response, 411, "InvalidRequest", "Content-Length")
    assert (await client.get(f"{ENTITIES}/urn:a:chunked")).status_code == 404


async def test_create_entity_returns_413_when_body_exceeds_max_body_bytes(
    client: httpx.AsyncClient,
) -> None:
    entity = {"id": "urn:a:big", "type": "T", "p": {"type": "Property", "value": ""}}
    padding = 4096 - len(orjson.dumps(entity))
    entity["p"]["value"] = "x" * padding  # exactly at the limit: accepted
    assert len(orjson.dumps(entity)) == 4096
    assert (
        await client.post(ENTITIES, content=orjson.dumps(entity), headers=JSON)
    ).status_code == 201
    entity["id"] = "urn:a:big2"
    entity["p"]["value"] += "xx"  # one byte over (the id is one byte longer too)
    response = await client.post(ENTITIES, content=orjson.dumps(entity), headers=JSON)
    assert_problem(response, 413, "InvalidRequest", "4096")
    assert (await client.get(f"{ENTITIES}/urn:a:big2")).status_code == 404


def nested_value(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"n": value}
    return value


async def test_create_entity_returns_400_when_body_nests_deeper_than_max_json_depth(
    client: httpx.AsyncClient,
) -> None:
    # entity (1) > attribute (2) > value objects (3..8) = depth 8, the configured limit
    ok = {"id": "urn:a:deep", "type": "T", "p": {"type": "Property", "value": nested_value(6)}}
    assert (await client.post(ENTITIES, json=ok)).status_code == 201
    too_deep = {"id": "urn:a:deep2", "type": "T", "p": {"value": nested_value(7)}}
    assert_problem(await client.post(ENTITIES, json=too_deep), 400, "BadRequestData", "deeper")


async def test_create_entity_returns_400_when_body_nests_beyond_the_json_parser_limit(
    client: httpx.AsyncClient,
) -> None:
    body = b"[" * 2000 + b"]" * 2000  # past orjson's own limit of 1024, under 4096 bytes
    response = await client.post(ENTITIES, content=body, headers=JSON)
    assert_problem(response, 400, "BadRequestData", "deeper")


@pytest.mark.parametrize(
    "path", ["/ngsi-ld/v1/nothing", "/ngsi-ld/v1/entities/urn:a:1/attrs/p/extra", "/ngsi-ld/v2/x"]
)
async def test_request_returns_404_when_path_is_unknown(
    client: httpx.AsyncClient, path: str
) -> None:
    assert_problem(await client.get(path), 404, "ResourceNotFound", path)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", ENTITIES, {"POST"}),
        ("POST", f"{ENTITIES}/urn:a:1", {"GET", "PUT", "PATCH", "DELETE"}),
        ("GET", f"{ENTITIES}/urn:a:1/attrs", {"POST", "PATCH"}),
        ("POST", f"{ENTITIES}/urn:a:1/attrs/p", {"PATCH", "PUT", "DELETE"}),
        ("GET", "/ngsi-ld/v1/entityOperations/create", {"POST"}),
    ],
)
async def test_request_returns_405_with_allow_when_method_is_wrong(
    client: httpx.AsyncClient, method: str, path: str, allowed: set[str]
) -> None:
    response = await client.request(method, path)
    assert_problem(response, 405, "InvalidRequest", method)
    listed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed <= listed and method not in listed


# --- content validation (clauses 5.5.4, 4.5, 4.6, 4.7) ----------------------------------------


def entity(**attributes: Any) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:T:{uuid.uuid4().hex[:10]}", "type": "T", **attributes}


POINT = {"type": "Point", "coordinates": [126.97, 37.56]}
BAD_ENTITIES: list[tuple[str, Any, tuple[str, ...]]] = [
    ("not an object", [1, 2], ("object",)),
    ("id missing", {"type": "T"}, ("id",)),
    ("type missing", {"id": "urn:a:1"}, ("type",)),
    ("id not a URI", {"id": "not a uri", "type": "T"}, ("id", "URI")),
    ("id not a string", {"id": 42, "type": "T"}, ("id",)),
    ("type empty list", {"id": "urn:a:1", "type": []}, ("type",)),
    ("type not a string", {"id": "urn:a:1", "type": {"a": 1}}, ("type",)),
    ("type with space", {"id": "urn:a:1", "type": "Off Street"}, ("type",)),
    ("scope bad", entity(scope="no-slash"), ("scope",)),
    ("@id member", entity(**{"@id": "urn:x"}), ("@id",)),
    ("name with =", entity(**{"a=b": 1}), ("a=b", "=")),
    ("name with (", entity(**{"f(x)": 1}), ("f(x)",)),
    ("name with space", entity(**{"my attr": 1}), ("my attr",)),
    ("name with ;", entity(**{"a;b": 1}), ("a;b",)),
    ("name with quote", entity(**{"a'b": 1}), ("a'b",)),
    ("name with <", entity(**{"a<b": 1}), ("a<b",)),
    ("Property value null", entity(p={"type": "Property", "value": None}), ("p", "null")),
    ("Property null bare", entity(p=None), ("p", "null")),
    ("Property no value", entity(p={"type": "Property", "unitCode": "CEL"}), ("p", "value")),
    ("Property NGSI null", entity(p={"type": "Property", "value": "urn:ngsi-ld:null"}), ("p",)),
    ("Property NGSI null nested", entity(p={"value": {"a": "urn:ngsi-ld:null"}}), ("p",)),
    ("unknown attribute type", entity(p={"type": "Propperty", "value": 1}), ("p", "Propperty")),
    ("attribute type a list", entity(p={"type": ["Property"], "value": 1}), ("p",)),
    ("two value members", entity(p={"type": "Property", "value": 1, "object": "urn:a"}), ("p",)),
    ("Relationship object not URI", entity(r={"type": "Relationship", "object": "x y"}), ("r",)),
    ("Relationship object number", entity(r={"type": "Relationship", "object": 5}), ("r",)),
    ("Relationship object empty", entity(r={"type": "Relationship", "object": []}), ("r",)),
    ("Relationship no object", entity(r={"type": "Relationship", "value": "urn:a"}), ("r",)),
    (
        "unclosed polygon",
        entity(
            location={
                "type": "GeoProperty",
                "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
            }
        ),
        ("location", "closed"),
    ),
    (
        "polygon ring too short",
        entity(location={"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[]]}}),
        ("location",),
    ),
    (
        "latitude out of range",
        entity(
            location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0, 91]}}
        ),
        ("location", "range"),
    ),
    (
        "coordinate a string",
        entity(
            location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": ["1", 2]}}
        ),
        ("location", "number"),
    ),
    (
        "coordinate a boolean",
        entity(
            location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [True, 2]}}
        ),
        ("location",),
    ),
    (
        "single coordinate",
        entity(location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1]}}),
        ("location",),
    ),
    (
        "unknown geometry type",
        entity(
            location={"type": "GeoProperty", "value": {"type": "Circle", "coordinates": [1, 2]}}
        ),
        ("location", "Circle"),
    ),
    (
        "geometry type not a string",
        entity(location={"type": "GeoProperty", "value": {"type": ["Point"], "coordinates": [1]}}),
        ("location",),
    ),
    (
        "GeoProperty value a string",
        entity(location={"type": "GeoProperty", "value": "POINT(1 2)"}),
        ("location",),
    ),
    (
        "LanguageProperty bad tag",
        entity(name={"type": "LanguageProperty", "languageMap": {"en_GB": "x"}}),
        ("en_GB",),
    ),
    (
        "LanguageProperty number",
        entity(name={"type": "LanguageProperty", "languageMap": {"ko": 3}}),
        ("name", "ko"),
    ),
    (
        "LanguageProperty list with number",
        entity(name={"type": "LanguageProperty", "languageMap": {"ja": ["a", 1]}}),
        ("name", "ja"),
    ),
    (
        "LanguageProperty map not object",
        entity(name={"type": "LanguageProperty", "languageMap": "Seoul"}),
        ("name",),
    ),
    (
        "LanguageProperty empty map",
        entity(name={"type": "LanguageProperty", "languageMap": {}}),
        ("name",),
    ),
    (
        "observedAt not a DateTime",
        entity(p={"type": "Property", "value": 1, "observedAt": "yesterday"}),
        ("observedAt", "yesterday"),
    ),
    (
        "observedAt a number",
        entity(p={"type": "Property", "value": 1, "observedAt": 1700000000}),
        ("observedAt",),
    ),
    (
        "observedAt month 13",
        entity(p={"type": "Property", "value": 1, "observedAt": "2024-13-01T00:00:00Z"}),
        ("observedAt",),
    ),
    (
        "observedAt overflows year 9999",
        entity(p={"type": "Property", "value": 1, "observedAt": "9999-12-31T23:59:59-01:00"}),
        ("observedAt",),
    ),
    (
        "datasetId not a URI",
        entity(p={"type": "Property", "value": 1, "datasetId": "set 1"}),
        ("datasetId",),
    ),
    (
        "duplicate datasetId",
        entity(
            p=[
                {"type": "Property", "value": 1, "datasetId": "urn:ds:1"},
                {"type": "Property", "value": 2, "datasetId": "urn:ds:1"},
            ]
        ),
        ("urn:ds:1",),
    ),
    (
        "two default instances",
        entity(p=[{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]),
        ("default",),
    ),
    (
        "unitCode not a string",
        entity(p={"type": "Property", "value": 1, "unitCode": 5}),
        ("unitCode",),
    ),
    (
        "objectType on a Property",
        entity(p={"type": "Property", "value": 1, "objectType": "T"}),
        ("objectType",),
    ),
    ("JsonProperty scalar", entity(j={"type": "JsonProperty", "json": 5}), ("j",)),
    ("ListProperty not list", entity(lp={"type": "ListProperty", "valueList": 5}), ("lp",)),
    (
        "ListRelationship item not URI",
        entity(lr={"type": "ListRelationship", "objectList": [{"object": "x y"}]}),
        ("lr",),
    ),
    (
        "sub-attribute bad name",
        entity(p={"type": "Property", "value": 1, "a=b": {"type": "Property", "value": 1}}),
        ("a=b",),
    ),
    (
        "sub-attribute null value",
        entity(p={"type": "Property", "value": 1, "q": {"type": "Property", "value": None}}),
        ("p.q",),
    ),
    ("@context in application/json", {**entity(), "@context": []}, ("@context",)),
]


@pytest.mark.parametrize(
    ("body", "words"), [(b, w) for _, b, w in BAD_ENTITIES], ids=[i for i, _, _ in BAD_ENTITIES]
)
async def test_create_entity_returns_400_when_content_is_invalid(
    client: httpx.AsyncClient, body: Any, words: tuple[str, ...]
) -> None:
    response = await client.post(ENTITIES, json=body)
    assert_problem(response, 400, "BadRequestData", *words)
    if isinstance(body, dict) and isinstance(body.get("id"), str) and ":" in body["id"]:
        assert (await client.get(f"{ENTITIES}/{body['id']}")).status_code == 404


async def test_create_entity_returns_400_when_json_ld_body_has_no_context(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        ENTITIES,
        content=orjson.dumps({"id": "urn:a:ld", "type": "T"}),
        headers={"Content-Type": "application/ld+json"},
    )
    assert_problem(response, 400, "BadRequestData", "@context")


async def test_retrieve_entity_returns_400_when_id_is_not_a_uri(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{ENTITIES}/not-a-uri"), 400, "BadRequestData", "not-a-uri")


async def test_retrieve_entity_returns_404_when_entity_does_not_exist(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{ENTITIES}/urn:ngsi-ld:T:missing")
    assert_problem(response, 404, "ResourceNotFound", "urn:ngsi-ld:T:missing")


async def test_retrieve_entity_returns_406_when_accept_matches_nothing(
    client: httpx.AsyncClient,
) -> None:
    await client.post(ENTITIES, json={"id": "urn:a:acc", "type": "T"})
    response = await client.get(f"{ENTITIES}/urn:a:acc", headers={"Accept": "text/html"})
    assert_problem(response, 406, "InvalidRequest", "application/json")


async def test_create_entity_returns_409_when_id_exists(client: httpx.AsyncClient) -> None:
    assert (await client.post(ENTITIES, json={"id": "urn:a:dup", "type": "T"})).status_code == 201
    response = await client.post(ENTITIES, json={"id": "urn:a:dup", "type": "T"})
    assert_problem(response, 409, "AlreadyExists", "urn:a:dup")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "/attrs", {"p": {"type": "Relationship", "object": "not a uri"}}),
        ("POST", "/attrs", {"p": {"type": "Property", "value": None}}),
        ("PATCH", "", {"bad name": 1}),
        ("PUT", "", {"type": "T", "p": {"type": "GeoProperty", "value": {"type": "Nope"}}}),
        ("PATCH", "/attrs/p", {"type": "Property", "value": None}),
        ("PUT", "/attrs/p", {"type": "LanguageProperty", "languageMap": {"x y": "a"}}),
    ],
)
async def test_update_operations_return_400_when_fragment_is_invalid(
    client: httpx.AsyncClient, method: str, suffix: str, body: Any
) -> None:
    await client.post(ENTITIES, json={"id": "urn:a:upd", "type": "T", "p": 1})
    response = await client.request(method, f"{ENTITIES}/urn:a:upd{suffix}", json=body)
    assert_problem(response, 400, "BadRequestData")


# --- random bodies never cause a server error -------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "urn:ngsi-ld:null",
            "Property",
            "Relationship",
            "GeoProperty",
            "LanguageProperty",
            "Point",
            "Polygon",
            "2024-01-01T00:00:00Z",
            "urn:ngsi-ld:T:1",
            "@none",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "value",
                    "object",
                    "languageMap",
                    "coordinates",
                    "observedAt",
                    "datasetId",
                    "scope",
                    "location",
                    "p",
                    "@context",
                    "json",
                    "valueList",
                    "objectList",
                    "vocab",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)
ENTITY_LIKE = st.fixed_dictionaries(
    {"id": st.just("urn:ngsi-ld:Fuzz:1") | st.text(max_size=8), "type": JSON_VALUES},
    optional={"p": JSON_VALUES, "location": JSON_VALUES, "name": JSON_VALUES},
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=JSON_VALUES | ENTITY_LIKE)
async def test_create_entity_never_returns_5xx_for_random_json(
    client: httpx.AsyncClient, body: Any
) -> None:
    response = await client.post(ENTITIES, json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["type"].startswith(ERRORS)
    elif response.status_code == 201:
        await client.delete(response.headers["location"])


@FUZZ
@given(body=JSON_VALUES | ENTITY_LIKE)
async def test_update_attributes_never_returns_5xx_for_random_json(
    client: httpx.AsyncClient, body: Any
) -> None:
    await client.post(ENTITIES, json={"id": "urn:ngsi-ld:Fuzz:t", "type": "T", "p": 1})
    response = await client.patch(f"{ENTITIES}/urn:ngsi-ld:Fuzz:t/attrs", json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["type"].startswith(ERRORS)


@pytest.mark.parametrize(
    "body",
    [
        {"id": "urn:a:nul", "type": "T", "p": {"type": "Property", "value": "a\u0000b"}},
        {"id": "urn:a:nul", "type": "T", "p": {"type": "Property", "value": {"k\u0000": 1}}},
        {"id": "urn:a:nul", "type": "T", "p": {"type": "Property", "value": ["x", "\u0000"]}},
    ],
)
async def test_create_entity_returns_400_when_a_string_holds_u0000(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # PostgreSQL's JSONB cannot hold U+0000; both stores refuse it alike, and nothing is written.
    assert_problem(await client.post(ENTITIES, json=body), 400, "BadRequestData", "U+0000")
    assert (await client.get(ENTITIES + "/urn:a:nul")).status_code == 404
