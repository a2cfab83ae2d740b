"""Entity Type Selection (clause 4.17): every production, errors that name the position, and
printing then parsing gives back the same AST."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.errors import BadRequestData
from cityhub.query.ast import TypeAll, TypeAny, TypeExpr, TypeName
from cityhub.query.selection import MAX_DEPTH
from cityhub.query.types import (
    TypeSyntaxError,
    format_type_expression,
    parse_type_expression,
)

A, B, C, D = TypeName("A"), TypeName("B"), TypeName("C"), TypeName("D")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vehicle", TypeName("Vehicle")),
        ("schema:Person", TypeName("schema:Person")),
        ("https://smartdatamodels.org/Bus", TypeName("https://smartdatamodels.org/Bus")),
        ("urn:ngsi-ld:Type:1", TypeName("urn:ngsi-ld:Type:1")),
        ("A,B", TypeAny((A, B))),
        ("A|B", TypeAny((A, B))),
        ("A,B|C", TypeAny((A, B, C))),
        ("A;B", TypeAll((A, B))),
        ("A;B;C", TypeAll((A, B, C))),
        ("A;B,C", TypeAny((TypeAll((A, B)), C))),
        ("A,B;C", TypeAny((A, TypeAll((B, C))))),
        ("A|B;C|D", TypeAny((A, TypeAll((B, C)), D))),
        ("(A,B);C", TypeAll((TypeAny((A, B)), C))),
        ("A;(B|C)", TypeAll((A, TypeAny((B, C))))),
        ("(A)", A),
        ("((A))", A),
        ("(A,B),C", TypeAny((TypeAny((A, B)), C))),
        ("(A;B);(C;D)", TypeAll((TypeAll((A, B)), TypeAll((C, D))))),
    ],
)
def test_parse_type_expression_builds_the_ast(text: str, expected: TypeExpr) -> None:
    assert parse_type_expression(text) == expected


def test_parse_type_expression_iri_with_semicolon_splits_at_the_semicolon() -> None:
    # IRIs are assumed to contain no ",|;()": the ";" is the all-of operator.
    got = parse_type_expression("https://x.org/a;b")
    assert got == TypeAll((TypeName("https://x.org/a"), TypeName("b")))


def test_parse_type_expression_gives_all_of_precedence_over_any_of() -> None:
    got = parse_type_expression("A;B|C;D")
    assert got == TypeAny((TypeAll((A, B)), TypeAll((C, D))))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "type is empty"),
        ("A,,B", "expected an entity type name at position 2"),
        ("A;;B", "expected an entity type name at position 2"),
        ("A||B", "expected an entity type name at position 2"),
        (",A", "expected an entity type name at position 0"),
        ("A,", "expected an entity type name at position 2"),
        ("A;", "expected an entity type name at position 2"),
        ("()", "expected an entity type name at position 1"),
        ("(A,B", "unbalanced parenthesis '(' opened at position 0 at position 4"),
        ("A;(B,(C)", "unbalanced parenthesis '(' opened at position 2 at position 8"),
        ("A)", "unbalanced parenthesis ')' at position 1"),
        ("(A))", "unbalanced parenthesis ')' at position 3"),
        ("A(B)", "unexpected '(' at position 1"),
        ("Bus Stop", "entity type 'Bus Stop' contains white space at position 3"),
        ("A, B", "entity type ' B' contains white space at position 2"),
        ("A,B\t", "entity type 'B\\t' contains white space at position 3"),
        ("A,B<", "contains the forbidden character '<' at position 2"),
        ("A;x=y", "contains the forbidden character '=' at position 2"),
    ],
)
def test_parse_type_expression_reports_position_and_problem(text: str, fragment: str) -> None:
    with pytest.raises(TypeSyntaxError) as caught:
        parse_type_expression(text)
    assert isinstance(caught.value, BadRequestData)
    assert caught.value.status == 400
    assert fragment in caught.value.detail
    if text:
        assert caught.value.detail.startswith("type: ")


def test_parse_type_expression_names_the_parameter_it_is_given() -> None:
    with pytest.raises(TypeSyntaxError, match=r"^entities\[0\]\.type: expected"):
        parse_type_expression("A,", parameter="entities[0].type")


def test_parse_type_expression_rejects_nesting_beyond_the_limit() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "A" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(TypeSyntaxError, match=f"nest deeper than {MAX_DEPTH} at position"):
        parse_type_expression(deep)


def test_parse_type_expression_accepts_nesting_up_to_the_limit() -> None:
    assert parse_type_expression("(" * MAX_DEPTH + "A" + ")" * MAX_DEPTH) == A


def test_parse_type_expression_rejects_overlong_text() -> None:
    with pytest.raises(TypeSyntaxError, match="longer than"):
        parse_type_expression(",".join(["Vehicle"] * 1000))


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (A, "A"),
        (TypeAny((A, B)), "A,B"),
        (TypeAll((A, B)), "A;B"),
        (TypeAny((TypeAll((A, B)), C)), "(A;B),C"),
        (TypeAll((TypeAny((A, B)), TypeAll((C, D)))), "(A,B);(C;D)"),
    ],
)
def test_format_type_expression_parenthesises_nested_groups(expr: TypeExpr, text: str) -> None:
    assert format_type_expression(expr) == text


_NAME = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_\-]{0,11}", fullmatch=True),
    st.from_regex(r"[a-z]{1,6}:[A-Za-z0-9]{1,8}", fullmatch=True),
    st.from_regex(r"https://[a-z]{1,8}\.org/[A-Za-z0-9/#.]{1,12}", fullmatch=True),
)


def _type_exprs() -> st.SearchStrategy[TypeExpr]:
    names = _NAME.map(TypeName)
    return st.recursive(
        names,
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=4).map(lambda xs: TypeAny(tuple(xs))),
            st.lists(children, min_size=2, max_size=4).map(lambda xs: TypeAll(tuple(xs))),
        ),
        max_leaves=12,
    )


@given(_type_exprs())
def test_parse_type_expression_reads_back_what_format_prints(expr: TypeExpr) -> None:
    assert parse_type_expression(format_type_expression(expr)) == expr


@given(_type_exprs(), st.sampled_from([",", "|"]))
def test_parse_type_expression_treats_comma_and_bar_alike(expr: TypeExpr, bar: str) -> None:
    text = format_type_expression(expr)
    assert parse_type_expression(text.replace(",", bar)) == expr


@given(st.text(alphabet="AB,|;() x", max_size=20))
def test_parse_type_expression_fails_only_with_bad_request_data(text: str) -> None:
    try:
        got = parse_type_expression(text)
    except TypeSyntaxError as exc:
        assert exc.detail.startswith("type")
        return
    assert parse_type_expression(format_type_expression(got)) == got
