"""Scope queries (clause 4.19): every production, errors that name the position, matching of
scopes against patterns, and printing then parsing gives back the same AST."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.errors import BadRequestData
from cityhub.query.ast import ScopeAll, ScopeAny, ScopeExpr, ScopeMatch
from cityhub.query.scope import (
    ScopeSyntaxError,
    format_scope_query,
    parse_scope_query,
    scope_expr_matches,
    scope_matches,
)
from cityhub.query.selection import MAX_DEPTH


def m(text: str) -> ScopeMatch:
    return ScopeMatch(tuple(text[1:].split("/")))


MADRID = m("/Madrid")
GARDENS = m("/Madrid/Gardens")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Madrid", ScopeMatch(("Madrid",))),
        ("/Madrid/Gardens/ParqueNorte", ScopeMatch(("Madrid", "Gardens", "ParqueNorte"))),
        ("/Madrid/#", ScopeMatch(("Madrid", "#"))),
        ("/CompanyA/+/Building1", ScopeMatch(("CompanyA", "+", "Building1"))),
        ("/+", ScopeMatch(("+",))),
        ("/+/#", ScopeMatch(("+", "#"))),
        ("/#", ScopeMatch(("#",))),
        ("/서울/종로구", ScopeMatch(("서울", "종로구"))),
        ("/a-b_c.d:e", ScopeMatch(("a-b_c.d:e",))),
        ("/Madrid;/Gardens", ScopeAll((MADRID, m("/Gardens")))),
        ("/Madrid|/Gardens", ScopeAny((MADRID, m("/Gardens")))),
        ("/Madrid,/Gardens", ScopeAny((MADRID, m("/Gardens")))),
        ("/a;/b|/c", ScopeAny((ScopeAll((m("/a"), m("/b"))), m("/c")))),
        ("/a|/b;/c", ScopeAny((m("/a"), ScopeAll((m("/b"), m("/c")))))),
        ("/a,/b|/c", ScopeAny((m("/a"), m("/b"), m("/c")))),
        ("(/a|/b);/c", ScopeAll((ScopeAny((m("/a"), m("/b"))), m("/c")))),
        ("/a;(/b,/c)", ScopeAll((m("/a"), ScopeAny((m("/b"), m("/c")))))),
        ("(/Madrid/#)", ScopeMatch(("Madrid", "#"))),
        ("((/a))", m("/a")),
    ],
)
def test_parse_scope_query_builds_the_ast(text: str, expected: ScopeExpr) -> None:
    assert parse_scope_query(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "scopeQ is empty"),
        ("Madrid", "scope 'Madrid' does not start with '/' at position 0"),
        ("/a;Madrid", "scope 'Madrid' does not start with '/' at position 3"),
        ("/", "empty scope segment at position 1"),
        ("/Madrid/", "empty scope segment at position 8"),
        ("/Madrid//Gardens", "empty scope segment at position 8"),
        ("/a;;/b", "expected a scope such as /City/District at position 3"),
        ("/a|", "expected a scope such as /City/District at position 3"),
        (",/a", "expected a scope such as /City/District at position 0"),
        ("()", "expected a scope such as /City/District at position 1"),
        ("/Mad rid", "scope segment 'Mad rid' contains white space at position 4"),
        ("/a, /b", "scope ' /b' does not start with '/' at position 3"),
        ("/a/b\t", "scope segment 'b\\t' contains white space at position 4"),
        ("/#/Madrid", "'#' is allowed only as the last segment at position 1"),
        ("/a/#/#", "'#' is allowed only as the last segment at position 3"),
        ("/Madrid#", "'#' is allowed only as a whole segment, not in 'Madrid#' at position 7"),
        ("/a/#b", "'#' is allowed only as a whole segment, not in '#b' at position 3"),
        ("/a/b+", "'+' is allowed only as a whole segment, not in 'b+' at position 4"),
        ("/++", "'+' is allowed only as a whole segment, not in '++' at position 1"),
        ("(/a|/b", "unbalanced parenthesis '(' opened at position 0 at position 6"),
        ("/a;(/b;(/c)", "unbalanced parenthesis '(' opened at position 3 at position 11"),
        ("/a)", "unbalanced parenthesis ')' at position 2"),
        ("/a(/b)", "unexpected '(' at position 2"),
    ],
)
def test_parse_scope_query_reports_position_and_problem(text: str, fragment: str) -> None:
    with pytest.raises(ScopeSyntaxError) as caught:
        parse_scope_query(text)
    assert isinstance(caught.value, BadRequestData)
    assert caught.value.status == 400
    assert fragment in caught.value.detail
    if text:
        assert caught.value.detail.startswith("scopeQ: ")


def test_parse_scope_query_rejects_nesting_beyond_the_limit() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "/a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ScopeSyntaxError, match=f"nest deeper than {MAX_DEPTH} at position"):
        parse_scope_query(deep)


def test_parse_scope_query_rejects_overlong_text() -> None:
    with pytest.raises(ScopeSyntaxError, match="longer than"):
        parse_scope_query("|".join(["/Madrid/Gardens"] * 400))


@pytest.mark.parametrize(
    ("pattern", "scope", "expected"),
    [
        ("/Madrid", "/Madrid", True),
        ("/Madrid", "/Madrid/Gardens", False),
        ("/Madrid", "/Madridx", False),
        ("/Madrid/Gardens", "/Madrid", False),
        ("/Madrid/#", "/Madrid", True),
        ("/Madrid/#", "/Madrid/Gardens", True),
        ("/Madrid/#", "/Madrid/Gardens/ParqueNorte", True),
        ("/Madrid/#", "/Madridx", False),
        ("/Madrid/#", "/Barcelona/Madrid", False),
        ("/#", "/Madrid", True),
        ("/#", "/Madrid/Gardens/ParqueNorte", True),
        ("/CompanyA/+/Building1", "/CompanyA/Site1/Building1", True),
        ("/CompanyA/+/Building1", "/CompanyA/Building1", False),
        ("/CompanyA/+/Building1", "/CompanyA/Site1/Zone2/Building1", False),
        ("/CompanyA/+/Building1", "/CompanyB/Site1/Building1", False),
        ("/+", "/Madrid", True),
        ("/+", "/Madrid/Gardens", False),
        ("/+/#", "/Madrid", True),
        ("/+/#", "/Madrid/Gardens/ParqueNorte", True),
        ("/Madrid/+/#", "/Madrid", False),
        ("/Madrid/+/#", "/Madrid/Gardens/ParqueNorte", True),
        ("/#", "Madrid", False),
    ],
)
def test_scope_matches_follows_the_wildcards(pattern: str, scope: str, expected: bool) -> None:
    assert scope_matches(m(pattern), scope) is expected


@pytest.mark.parametrize(
    ("query", "scopes", "expected"),
    [
        ("/Madrid", ["/Madrid"], True),
        ("/Madrid", ["/Barcelona", "/Madrid"], True),
        ("/Madrid", ["/Barcelona"], False),
        ("/#", [], False),
        ("/Madrid|/Barcelona", [], False),
        ("/Madrid;/Barcelona", ["/Madrid", "/Barcelona"], True),
        ("/Madrid;/Barcelona", ["/Madrid"], False),
        ("/Madrid/#;/+/Gardens", ["/Madrid/Gardens"], True),
        ("/Madrid/#;/Barcelona/#", ["/Madrid/Gardens", "/Barcelona/Port"], True),
        ("/Madrid|/Barcelona", ["/Barcelona/Port"], False),
        ("/Madrid,/Barcelona/#", ["/Barcelona/Port"], True),
        ("(/Madrid|/Lisbon);/Barcelona", ["/Lisbon", "/Barcelona"], True),
        ("(/Madrid|/Lisbon);/Barcelona", ["/Lisbon"], False),
        ("/Madrid;/Barcelona|/Lisbon", ["/Lisbon"], True),
    ],
)
def test_scope_expr_matches_combines_patterns(
    query: str, scopes: list[str], expected: bool
) -> None:
    assert scope_expr_matches(parse_scope_query(query), scopes) is expected


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (MADRID, "/Madrid"),
        (ScopeMatch(("#",)), "/#"),
        (ScopeAny((MADRID, GARDENS)), "/Madrid|/Madrid/Gardens"),
        (ScopeAll((MADRID, GARDENS)), "/Madrid;/Madrid/Gardens"),
        (ScopeAll((ScopeAny((MADRID, GARDENS)), MADRID)), "(/Madrid|/Madrid/Gardens);/Madrid"),
    ],
)
def test_format_scope_query_parenthesises_nested_groups(expr: ScopeExpr, text: str) -> None:
    assert format_scope_query(expr) == text


_SEGMENT = st.from_regex(r"[A-Za-z0-9_\-.:가-힣]{1,8}", fullmatch=True)


@st.composite
def _patterns(draw: st.DrawFn) -> ScopeMatch:
    segments = draw(st.lists(st.one_of(_SEGMENT, st.just("+")), min_size=0, max_size=4))
    if not segments or draw(st.booleans()):
        segments.append("#")
    return ScopeMatch(tuple(segments))


def _scope_exprs() -> st.SearchStrategy[ScopeExpr]:
    return st.recursive(
        _patterns(),
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=4).map(lambda xs: ScopeAny(tuple(xs))),
            st.lists(children, min_size=2, max_size=4).map(lambda xs: ScopeAll(tuple(xs))),
        ),
        max_leaves=12,
    )


@given(_scope_exprs())
def test_parse_scope_query_reads_back_what_format_prints(expr: ScopeExpr) -> None:
    assert parse_scope_query(format_scope_query(expr)) == expr


@given(_scope_exprs())
def test_parse_scope_query_treats_comma_and_bar_alike(expr: ScopeExpr) -> None:
    assert parse_scope_query(format_scope_query(expr).replace("|", ",")) == expr


def _regex(pattern: ScopeMatch) -> str:
    """The clause 4.19 reading of a pattern, independent of scope_matches' segment walk."""
    parts = []
    for index, segment in enumerate(pattern.segments):
        if segment == "#" and index == len(pattern.segments) - 1:
            parts.append("(/.*)?")
        elif segment == "+":
            parts.append("/[^/]+")
        else:
            parts.append("/" + re.escape(segment))
    return "^" + "".join(parts) + "$"


_SCOPES = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4).map(
    lambda xs: "/" + "/".join(xs)
)


@given(
    st.lists(st.sampled_from(["a", "b", "+"]), max_size=3).flatmap(
        lambda xs: st.sampled_from([ScopeMatch((*xs, "#")), ScopeMatch(tuple(xs) or ("a",))])
    ),
    _SCOPES,
)
def test_scope_matches_agrees_with_the_regular_expression(pattern: ScopeMatch, scope: str) -> None:
    assert scope_matches(pattern, scope) is bool(re.match(_regex(pattern), scope))
