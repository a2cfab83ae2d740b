"""TermMap (jsonld/termmap.py) against pyld, the full JSON-LD 1.1 processor, as oracle.

NGSI-LD expands attribute names, entity types and vocab values as vocabulary-relative IRIs and
compacts them back (clause 5.5.7); the core @context is always applied last, so its terms win
(clause 5.5.7, the core context is ``@protected``). The Smart Data Models contexts are served
from a local HTTP server, as the hub would fetch them.

Compaction of attribute names: JSON-LD picks a term only when the value fits the term's
definition (``@type`` coercion, ``@container``); an NGSI-LD attribute keeps its name whatever
its value, so the oracle compacts a value shaped to fit the term's definition.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from cityhub.errors import BadRequestData
from cityhub.jsonld.core import CORE_CONTEXT_URL, core_context_document
from cityhub.jsonld.resolver import ContextResolver
from cityhub.jsonld.termmap import TermMap
from tests.conftest import shared_dir
from tests.http_server import ContextServer

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI_LD + "default-context/"
HAS_VOCAB = NGSI_LD + "hasVocab"
CONTEXTS_DIR = shared_dir() / "fixtures" / "smartdatamodels" / "_contexts"
SDM_FILES = sorted(p.name for p in CONTEXTS_DIR.glob("*.jsonld"))

# A user context exercising prefixes, @vocab-less terms, coercions and redefinitions.
USER_CONTEXT: dict[str, Any] = {
    "ex": "https://example.org/ns/",
    "schema": "https://schema.org/",
    "speed": "ex:speed",
    "Vehicle": "https://example.org/ns/Vehicle",
    "seen": {"@id": "ex:seen", "@type": "https://uri.etsi.org/ngsi-ld/DateTime"},
    "route": {"@id": "ex:route", "@type": "@id"},
    "path": {"@id": "ex:path", "@container": "@list"},
    "colour": {"@id": "ex:colour", "@type": "@vocab"},
    "red": "ex:Red",
}


@dataclass
class Oracle:
    """pyld expanding and compacting single names with one @context (core appended last)."""

    context: list[Any]
    documents: dict[str, Any]

    def _options(self) -> dict[str, Any]:
        def loader(url: str, options: Any = None) -> dict[str, Any]:
            doc = self.documents.get(url) or (
                core_context_document() if url == CORE_CONTEXT_URL else None
            )
            if doc is None:
                raise LookupError(url)
            return {"contextUrl": None, "documentUrl": url, "document": doc}

        return {"documentLoader": loader, "base": ""}

    def _expand(self, doc: dict[str, Any]) -> list[Any]:
        result: list[Any] = jsonld.expand({"@context": self.context, **doc}, self._options())
        return result

    def _compact(self, doc: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = jsonld.compact(doc, self.context, self._options())
        return result

    def expand_name(self, name: str) -> str | None:
        expanded = self._expand({"@id": "urn:x:1", name: {"@id": "urn:x:2"}})
        keys = [k for k in expanded[0] if not k.startswith("@")] if expanded else []
        return keys[0] if keys else None

    def expand_type(self, name: str) -> str:
        return str(self._expand({"@id": "urn:x:1", "@type": name})[0]["@type"][0])

    def expand_vocab(self, name: str) -> str:
        expanded = self._expand({"@id": "urn:x:1", "vocab": name})
        return str(expanded[0][HAS_VOCAB][0]["@id"])

    def compact_name(self, iri: str, definition: Any = None) -> str:
        value = _fitting_value(definition, self.expand_type)
        compacted = self._compact({"@id": "urn:x:1", iri: value})
        return next(k for k in compacted if k not in {"@context", "id", "@id"})

    def compact_type(self, iri: str) -> str:
        compacted = self._compact({"@id": "urn:x:1", "@type": [iri]})
        return str(compacted.get("type", compacted.get("@type")))

    def compact_vocab(self, iri: str) -> str:
        compacted = self._compact({"@id": "urn:x:1", HAS_VOCAB: [{"@id": iri}]})
        return str(compacted["vocab"])


def _fitting_value(definition: Any, expand_type: Callable[[str], str]) -> Any:
    """An expanded value the term's definition accepts, so JSON-LD may choose that term."""
    if not isinstance(definition, dict):
        return [{"@id": "urn:x:2"}]
    container = definition.get("@container")
    if container == "@list":
        return [{"@list": [{"@value": 1}]}]
    if container == "@language":
        return [{"@value": "text", "@language": "en"}]
    coercion = definition.get("@type")
    if coercion in {"@id", "@vocab"}:
        return [{"@id": "urn:x:2"}]
    if isinstance(coercion, str):
        return [{"@value": "2024-01-01T00:00:00Z", "@type": expand_type(coercion)}]
    return [{"@id": "urn:x:2"}]


@dataclass
class Case:
    """One @context: the hub's TermMap and the pyld oracle for it."""

    tm: TermMap
    oracle: Oracle
    terms: dict[str, Any]  # the user context's own term definitions


def _build(context: Any, documents: dict[str, Any], own_terms: dict[str, Any]) -> Case:
    async def resolve() -> TermMap:
        resolver = ContextResolver()
        try:
            return await resolver.resolve(context)
        finally:
            await resolver.aclose()

    tm = asyncio.run(resolve())
    items = context if isinstance(context, list) else [context]
    return Case(tm, Oracle([*items, CORE_CONTEXT_URL], documents), own_terms)


@pytest.fixture(scope="module")
def server() -> Iterator[ContextServer]:
    with ContextServer() as http:
        yield http


@pytest.fixture(scope="module")
def sdm_cases(server: ContextServer) -> dict[str, Case]:
    """One Case per Smart Data Models @context file, fetched from the local server."""
    cases: dict[str, Case] = {}
    for name in SDM_FILES:
        doc = json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))
        url = server.route(f"/sdm/{name}", doc)
        cases[name] = _build(url, {url: doc}, doc["@context"])
    return cases


@pytest.fixture(scope="module")
def core_case() -> Case:
    return _build(None, {}, {})


@pytest.fixture(scope="module")
def user_case() -> Case:
    return _build(USER_CONTEXT, {}, USER_CONTEXT)


def _core_terms() -> dict[str, Any]:
    return {k: v for k, v in core_context_document()["@context"].items() if not k.startswith("@")}


def _name_terms(terms: dict[str, Any]) -> list[tuple[str, Any]]:
    """Terms that map to an IRI (not to a keyword such as ``id`` → ``@id``)."""
    out = []
    for term, definition in terms.items():
        iri = definition if isinstance(definition, str) else (definition or {}).get("@id")
        if term.startswith("@") or not isinstance(iri, str) or iri.startswith("@"):
            continue
        out.append((term, definition))
    return out


# --- core @context alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "iri"),
    [
        ("location", NGSI_LD + "location"),
        ("observationSpace", NGSI_LD + "observationSpace"),
        ("speed", DEFAULT + "speed"),  # @vocab fallback: the default-context
        ("Vehicle", DEFAULT + "Vehicle"),
        ("ngsi-ld:location", NGSI_LD + "location"),  # compact IRI
        ("ngsi-ld:somethingNew", NGSI_LD + "somethingNew"),
        ("geojson:Point", "https://purl.org/geojson/vocab#Point"),
        ("https://example.org/ns/speed", "https://example.org/ns/speed"),  # absolute IRI
        ("urn:ngsi-ld:attr:speed", "urn:ngsi-ld:attr:speed"),  # scheme, not a prefix
    ],
)
def test_termmap_expands_core_names_like_pyld(core_case: Case, name: str, iri: str) -> None:
    assert core_case.oracle.expand_name(name) == iri
    assert core_case.tm.expand(name) == iri


def test_termmap_expands_and_compacts_every_core_term_like_pyld(core_case: Case) -> None:
    for term, definition in _name_terms(_core_terms()):
        iri = core_case.tm.expand(term)
        assert iri == core_case.oracle.expand_name(term), term
        assert core_case.tm.compact(iri) == core_case.oracle.compact_name(iri, definition), term


@pytest.mark.parametrize(
    "iri",
    [
        DEFAULT + "speed",
        NGSI_LD + "location",
        NGSI_LD + "notACoreTerm",
        "https://purl.org/geojson/vocab#Point",
        "https://example.org/ns/speed",
        "urn:ngsi-ld:attr:speed",
        DEFAULT + "id",  # "id" and "type" alias keywords: never a compacted name
        DEFAULT + "type",
        DEFAULT + "value",
    ],
)
def test_termmap_compacts_core_iris_like_pyld(core_case: Case, iri: str) -> None:
    assert core_case.tm.compact(iri) == core_case.oracle.compact_name(iri)
    assert core_case.tm.compact(iri) == core_case.oracle.compact_type(iri)
    assert core_case.tm.compact(iri) == core_case.oracle.compact_vocab(iri)


# --- a user context: prefixes, coercions, redefinitions -------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "speed",
        "seen",
        "route",
        "path",
        "colour",
        "ex:speed",
        "ex:other",
        "schema:name",
        "unknownToTheContext",
        "https://example.org/elsewhere",
    ],
)
def test_termmap_expands_user_names_like_pyld(user_case: Case, name: str) -> None:
    assert user_case.tm.expand(name) == user_case.oracle.expand_name(name)


@pytest.mark.parametrize("name", ["Vehicle", "ex:Truck", "Bus", "schema:Place", "red"])
def test_termmap_expands_user_types_and_vocab_values_like_pyld(user_case: Case, name: str) -> None:
    assert user_case.tm.expand(name) == user_case.oracle.expand_type(name)
    assert user_case.tm.expand(name) == user_case.oracle.expand_vocab(name)


def test_termmap_compacts_user_terms_like_pyld(user_case: Case) -> None:
    for term, definition in _name_terms(USER_CONTEXT):
        iri = user_case.tm.expand(term)
        expected = user_case.oracle.compact_name(iri, definition)
        assert user_case.tm.compact(iri) == expected == term


@pytest.mark.parametrize(
    ("iri", "compacted"),
    [
        ("https://example.org/ns/other", "ex:other"),  # compact IRI from a prefix
        ("https://schema.org/name", "schema:name"),
        (DEFAULT + "unknownToTheContext", "unknownToTheContext"),  # core @vocab
        ("https://elsewhere.example/x", "https://elsewhere.example/x"),
    ],
)
def test_termmap_compacts_user_iris_like_pyld(user_case: Case, iri: str, compacted: str) -> None:
    assert user_case.oracle.compact_name(iri) == compacted
    assert user_case.tm.compact(iri) == compacted
    assert user_case.tm.compact(iri) == user_case.oracle.compact_type(iri)


def test_termmap_takes_the_later_user_definition_of_a_redefined_term() -> None:
    first = {"temperature": "https://example.org/a/temperature"}
    second = {"temperature": "https://example.org/b/temperature", "t": "https://example.org/a/x"}
    case = _build([first, second], {}, second)
    assert case.oracle.expand_name("temperature") == "https://example.org/b/temperature"
    assert case.tm.expand("temperature") == "https://example.org/b/temperature"
    # the IRI of the overridden definition no longer has a term: it stays a full IRI
    iri = "https://example.org/a/temperature"
    assert case.tm.compact(iri) == case.oracle.compact_name(iri) == iri


def test_termmap_keeps_core_terms_when_a_user_context_redefines_them() -> None:
    """The core @context comes last and is protected (clause 5.5.7): ``location`` stays core."""
    case = _build({"location": "https://example.org/ns/location"}, {}, {})
    assert case.oracle.expand_name("location") == NGSI_LD + "location"
    assert case.tm.expand("location") == NGSI_LD + "location"


def test_termmap_without_vocab_rejects_an_undefined_term() -> None:
    tm = TermMap({"speed": "https://example.org/speed"}, {}, None)
    with pytest.raises(BadRequestData):
        tm.expand("unknown")
    assert tm.compact("https://example.org/other") == "https://example.org/other"


# --- Smart Data Models contexts ---------------------------------------------------------------


@pytest.mark.parametrize("name", SDM_FILES)
def test_termmap_expands_and_compacts_every_smart_data_models_term_like_pyld(
    sdm_cases: dict[str, Case], name: str
) -> None:
    case = sdm_cases[name]
    for term, definition in _name_terms(case.terms):
        iri = case.tm.expand(term)
        assert iri == case.oracle.expand_name(term), term
        assert case.tm.compact(iri) == case.oracle.compact_name(iri, definition), term


@pytest.mark.parametrize("name", SDM_FILES)
def test_termmap_expands_smart_data_models_types_like_pyld(
    sdm_cases: dict[str, Case], name: str
) -> None:
    case = sdm_cases[name]
    types = [t for t, _ in _name_terms(case.terms) if t[:1].isupper()][:40]
    assert types
    for term in [*types, "NotInTheModel"]:
        iri = case.tm.expand(term)
        assert iri == case.oracle.expand_type(term), term
        assert case.tm.compact(iri) == case.oracle.compact_type(iri), term


@pytest.mark.parametrize("name", SDM_FILES)
def test_termmap_falls_back_to_the_core_vocab_for_smart_data_models(
    sdm_cases: dict[str, Case], name: str
) -> None:
    case = sdm_cases[name]
    assert case.tm.expand("cityHubLocalAttribute") == DEFAULT + "cityHubLocalAttribute"
    assert case.oracle.expand_name("cityHubLocalAttribute") == DEFAULT + "cityHubLocalAttribute"
    assert case.tm.compact(DEFAULT + "cityHubLocalAttribute") == "cityHubLocalAttribute"


# --- properties -------------------------------------------------------------------------------

_NAME_CHARS = string.ascii_letters + string.digits + "_-"
_names = st.text(_NAME_CHARS, min_size=1, max_size=12).filter(lambda s: s[0].isalpha())
_prefixed = st.builds(
    lambda p, s: f"{p}:{s}", st.sampled_from(["ex", "schema", "ngsi-ld", "geojson"]), _names
)
_absolute = st.builds(lambda s: f"https://example.net/v/{s}", _names)
_any_name = st.one_of(_names, _prefixed, _absolute, st.sampled_from(sorted(USER_CONTEXT)))
_PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_PROPERTY_SETTINGS
@given(name=_any_name)
def test_termmap_round_trip_expand_compact_expand_is_stable(user_case: Case, name: str) -> None:
    tm = user_case.tm
    iri = tm.expand(name)
    compacted = tm.compact(iri)
    assert tm.expand(compacted) == iri
    assert tm.compact(tm.expand(compacted)) == compacted


@_PROPERTY_SETTINGS
@given(name=_any_name)
def test_termmap_expands_generated_names_like_pyld(user_case: Case, name: str) -> None:
    assert user_case.tm.expand(name) == user_case.oracle.expand_name(name)
    assert user_case.tm.expand(name) == user_case.oracle.expand_type(name)


@_PROPERTY_SETTINGS
@given(name=st.one_of(_any_name, st.sampled_from(sorted(_core_terms()))))
@example(name="valueList")
def test_termmap_compacts_generated_iris_like_pyld(user_case: Case, name: str) -> None:
    iri = user_case.tm.expand(name)
    chosen = user_case.tm.compact(iri)
    definitions = {**USER_CONTEXT, **_core_terms()}  # the core context is applied last
    expected = user_case.oracle.compact_name(iri, definitions.get(chosen))
    # JSON-LD may compact to a @vocab suffix that reads back as a compact IRI ("a:b"); the hub
    # keeps the full IRI there so that the name expands back to the same IRI.
    assume(":" not in expected or expected.startswith(("ex:", "schema:", "ngsi-ld:", "http")))
    assert user_case.tm.compact(iri) == expected


_segments = st.lists(st.sampled_from(["a", "b", "ab", "ba"]), max_size=3).map("/".join)


@_PROPERTY_SETTINGS
@given(
    prefixes=st.dictionaries(
        # A prefix named like the scheme of an IRI the oracle meets (urn:x:1, https://…) makes
        # pyld refuse the context ("Absolute IRI confused with prefix"); NGSI-LD contexts
        # never define such prefixes.
        st.text(string.ascii_lowercase, min_size=1, max_size=4).filter(
            lambda name: name not in {"urn", "http", "https"}
        ),
        _segments.map(lambda path: "https://p.example/" + (path + "/" if path else "")),
        min_size=1,
        max_size=4,
    ),
    suffix=_segments.filter(bool),
)
@example(prefixes={"z": "https://p.example/a/", "xyz": "https://p.example/a/b/"}, suffix="a/b/ab")
def test_termmap_chooses_the_compact_iri_pyld_chooses(
    prefixes: dict[str, str], suffix: str
) -> None:
    """With several matching prefixes JSON-LD takes the shortest, then least, compact IRI."""
    case = _build_sync(dict(prefixes))
    iri = "https://p.example/" + suffix
    assert case.tm.compact(iri) == case.oracle.compact_name(iri)


def _build_sync(context: dict[str, Any]) -> Case:
    return _build(context, {}, context)


def test_sdm_contexts_are_present() -> None:
    assert Path(CONTEXTS_DIR).is_dir()
    assert "dataModel.Transportation.context.jsonld" in SDM_FILES
