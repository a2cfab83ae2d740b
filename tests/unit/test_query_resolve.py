"""Resolution of query names to IRIs (query/resolve.py): q paths (clause 4.9), entity types
(clause 4.17) and the geoproperty (clause 4.10) expand against the request's @context, with
members, keys and absolute IRIs left as they are."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import (
    And,
    Compare,
    Exists,
    GeoQuery,
    Or,
    Path,
    Pattern,
    TypeAll,
    TypeAny,
    TypeExpr,
    TypeName,
)
from cityhub.query.geo import GeoQueryError
from cityhub.query.q import QSyntaxError, parse_q
from cityhub.query.resolve import resolve_geo, resolve_q, resolve_types
from cityhub.query.types import TypeSyntaxError, parse_type_expression

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI_LD + "default-context/"
EX = "https://example.org/ns/"
SDM_VEHICLE = "https://smartdatamodels.org/dataModel.Transportation/Vehicle"


def termmap(vocab: str | None = DEFAULT) -> TermMap:
    """A compiled @context: a few core terms, a user prefix ``ex`` and user terms."""
    return TermMap(
        terms={
            "location": NGSI_LD + "location",
            "observationSpace": NGSI_LD + "observationSpace",
            "observedAt": NGSI_LD + "observedAt",
            "unitCode": NGSI_LD + "unitCode",
            "ex": EX,
            "speed": EX + "speed",
            "Vehicle": EX + "Vehicle",
        },
        prefixes={"ex": EX},
        vocab=vocab,
    )


@pytest.fixture
def tm() -> TermMap:
    return termmap()


@pytest.mark.parametrize(
    ("text", "names", "keys"),
    [
        ("speed>10", (EX + "speed",), ()),
        ("temperature==20", (DEFAULT + "temperature",), ()),
        ("ex:fuel<5", (EX + "fuel",), ()),
        ("a.b.c==1", (DEFAULT + "a", DEFAULT + "b", DEFAULT + "c"), ()),
        ("speed.accuracy<1", (EX + "speed", DEFAULT + "accuracy"), ()),
        ("speed.observedAt>2026-01-01T00:00:00Z", (EX + "speed", "observedAt"), ()),
        ('speed.unitCode=="KMH"', (EX + "speed", "unitCode"), ()),
        (
            "speed.accuracy.modifiedAt<2026-01-01",
            (EX + "speed", DEFAULT + "accuracy", "modifiedAt"),
            (),
        ),
        ("speed.datasetId==urn:ngsi-ld:Dataset:1", (EX + "speed", "datasetId"), ()),
        ("observedAt==1", (NGSI_LD + "observedAt",), ()),
        ('address[city.district]=="Jongno"', (DEFAULT + "address",), ("city", "district")),
        ('name[ja]=="東京"', (DEFAULT + "name",), ("ja",)),
        ("https://example.org/ns/speed>1", (EX + "speed",), ()),
        ("urn:ngsi-ld:attr:speed>1", ("urn:ngsi-ld:attr:speed",), ()),
        (f"{NGSI_LD}location", (NGSI_LD + "location",), ()),
    ],
)
def test_resolve_q_expands_attribute_names(
    tm: TermMap, text: str, names: tuple[str, ...], keys: tuple[str, ...]
) -> None:
    got = resolve_q(parse_q(text), tm)
    assert isinstance(got, Compare | Exists)
    assert got.path.names == names
    assert got.path.keys == keys


def test_resolve_q_keeps_the_structure_and_positions(tm: TermMap) -> None:
    got = resolve_q(parse_q('(speed>1|!location);name~="^S";ex:a.b!="x",2'), tm)
    assert got == And(
        (
            Or(
                (
                    Compare(Path((EX + "speed",), (), 1), ">", 1),
                    Exists(Path((NGSI_LD + "location",), (), 10), negated=True),
                )
            ),
            Pattern(Path((DEFAULT + "name",), (), 20), "^S"),
            Compare(Path((EX + "a", DEFAULT + "b"), (), 31), "!=", ("x", 2)),
        )
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a&b==1", "q: Attribute name 'a&b' contains the forbidden character '&' at position 0"),
        ("x;a.b%c==1", "'b%c' contains the forbidden character '%' at position 4"),
        ("x|!a?b", "'a?b' contains the forbidden character '?' at position 3"),
        ("speed.ac^c>1", "'ac^c' contains the forbidden character '^' at position 6"),
    ],
)
def test_resolve_q_reports_bad_names_with_position(tm: TermMap, text: str, fragment: str) -> None:
    with pytest.raises(QSyntaxError) as caught:
        resolve_q(parse_q(text), tm)
    assert isinstance(caught.value, BadRequestData)
    assert fragment in caught.value.detail


def test_resolve_q_reports_a_name_without_vocab_with_position() -> None:
    with pytest.raises(QSyntaxError) as caught:
        resolve_q(parse_q("speed>1;temperature<3"), termmap(vocab=None))
    assert caught.value.detail == (
        "q: Term 'temperature' cannot be expanded: the @context has no @vocab at position 8"
    )


def test_resolve_q_names_the_parameter_it_is_given(tm: TermMap) -> None:
    with pytest.raises(QSyntaxError, match=r"^notification\.q: .* at position 0$"):
        resolve_q(parse_q("a&b==1"), tm, parameter="notification.q")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vehicle", TypeName(EX + "Vehicle")),
        ("Bus", TypeName(DEFAULT + "Bus")),
        ("ex:Car", TypeName(EX + "Car")),
        (SDM_VEHICLE, TypeName(SDM_VEHICLE)),
        ("urn:ngsi-ld:Type:Bus", TypeName("urn:ngsi-ld:Type:Bus")),
        ("Vehicle,Bus", TypeAny((TypeName(EX + "Vehicle"), TypeName(DEFAULT + "Bus")))),
        ("Vehicle;Bus", TypeAll((TypeName(EX + "Vehicle"), TypeName(DEFAULT + "Bus")))),
        (
            "(Vehicle|ex:Car);Bus",
            TypeAll(
                (
                    TypeAny((TypeName(EX + "Vehicle"), TypeName(EX + "Car"))),
                    TypeName(DEFAULT + "Bus"),
                )
            ),
        ),
    ],
)
def test_resolve_types_expands_every_name(tm: TermMap, text: str, expected: TypeExpr) -> None:
    assert resolve_types(parse_type_expression(text), tm) == expected


@pytest.mark.parametrize(
    ("expr", "tm_vocab", "fragment"),
    [
        (TypeName("A<B"), DEFAULT, "type: Entity type 'A<B' contains the forbidden character '<'"),
        (TypeName(""), DEFAULT, "type: Entity type must be a non-empty string"),
        (
            TypeAny((TypeName("Vehicle"), TypeName("Bus"))),
            None,
            "type: Term 'Bus' cannot be expanded: the @context has no @vocab",
        ),
    ],
)
def test_resolve_types_reports_bad_names(
    expr: TypeExpr, tm_vocab: str | None, fragment: str
) -> None:
    with pytest.raises(TypeSyntaxError) as caught:
        resolve_types(expr, termmap(tm_vocab))
    assert isinstance(caught.value, BadRequestData)
    assert fragment in caught.value.detail


_NAME = st.one_of(
    st.sampled_from(["Vehicle", "Bus", "ex:Car", SDM_VEHICLE, "urn:ngsi-ld:T:1"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True),
)


def _type_exprs() -> st.SearchStrategy[TypeExpr]:
    return st.recursive(
        _NAME.map(TypeName),
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda xs: TypeAny(tuple(xs))),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: TypeAll(tuple(xs))),
        ),
        max_leaves=8,
    )


def _expanded(expr: TypeExpr, tm: TermMap) -> TypeExpr:
    if isinstance(expr, TypeName):
        return TypeName(tm.expand(expr.name))
    items = tuple(_expanded(item, tm) for item in expr.items)
    return TypeAny(items) if isinstance(expr, TypeAny) else TypeAll(items)


@given(_type_exprs())
def test_resolve_types_keeps_the_shape_and_expands_each_name(expr: TypeExpr) -> None:
    tm = termmap()
    got = resolve_types(expr, tm)
    assert got == _expanded(expr, tm)
    assert resolve_types(got, tm) == got


@pytest.mark.parametrize(
    ("geoproperty", "iri"),
    [
        ("location", NGSI_LD + "location"),
        ("observationSpace", NGSI_LD + "observationSpace"),
        ("ex:where", EX + "where"),
        ("placeOfWork", DEFAULT + "placeOfWork"),
        (EX + "where", EX + "where"),
    ],
)
def test_resolve_geo_expands_the_geoproperty(tm: TermMap, geoproperty: str, iri: str) -> None:
    geo = GeoQuery("near", {"type": "Point", "coordinates": [1, 2]}, geoproperty, 10.0)
    assert resolve_geo(geo, tm) == GeoQuery(
        "near", {"type": "Point", "coordinates": [1, 2]}, iri, 10.0
    )


@pytest.mark.parametrize(
    ("geoproperty", "fragment"),
    [
        ("", "geoproperty: GeoProperty name must be a non-empty string"),
        ("my location", "geoproperty: GeoProperty name 'my location' contains the forbidden"),
        ("loc;ation", "contains the forbidden character ';'"),
    ],
)
def test_resolve_geo_reports_bad_geoproperty(tm: TermMap, geoproperty: str, fragment: str) -> None:
    geo = GeoQuery("within", {"type": "Point", "coordinates": [1, 2]}, geoproperty)
    with pytest.raises(GeoQueryError) as caught:
        resolve_geo(geo, tm)
    assert fragment in caught.value.detail
