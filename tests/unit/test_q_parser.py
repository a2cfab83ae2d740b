"""The q language parser (clause 4.9): every production, and errors that name the position."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from cityhub.errors import BadRequestData
from cityhub.query.ast import And, Compare, Exists, Or, Path, Pattern, Range, Uri
from cityhub.query.q import parse_q


def p(*names: str, keys: tuple[str, ...] = (), at: int = 0) -> Path:
    return Path(tuple(names), keys, at)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("speed<15", Compare(p("speed"), "<", 15)),
        ("speed<=15.5", Compare(p("speed"), "<=", 15.5)),
        ("speed>-3", Compare(p("speed"), ">", -3)),
        ("speed>=1e3", Compare(p("speed"), ">=", 1000.0)),
        ('name=="Seoul"', Compare(p("name"), "==", "Seoul")),
        ('name!="a\\"b"', Compare(p("name"), "!=", 'a"b')),
        ("open==true", Compare(p("open"), "==", True)),
        ("open==false", Compare(p("open"), "==", False)),
        ("spots==1..20", Compare(p("spots"), "==", Range(1, 20))),
        ("level==1.5..2.5", Compare(p("level"), "==", Range(1.5, 2.5))),
        ('severity=="high","critical"', Compare(p("severity"), "==", ("high", "critical"))),
        ("ref==urn:ngsi-ld:Road:1", Compare(p("ref"), "==", Uri("urn:ngsi-ld:Road:1"))),
        (
            "issued>=2026-11-28T06:00:00+09:00",
            Compare(p("issued"), ">=", datetime(2026, 11, 27, 21, 0, tzinfo=UTC)),
        ),
        ("day==2026-11-28", Compare(p("day"), "==", date(2026, 11, 28))),
        ("opens<08:30:00", Compare(p("opens"), "<", time(8, 30))),
        ("location", Exists(p("location"))),
        ("!location", Exists(p("location", at=1), negated=True)),
        ("a.b.c==1", Compare(p("a", "b", "c"), "==", 1)),
        (
            "speed.observedAt>2026-01-01T00:00:00Z",
            Compare(p("speed", "observedAt"), ">", datetime(2026, 1, 1, tzinfo=UTC)),
        ),
        ('name[ja]=="東京"', Compare(p("name", keys=("ja",)), "==", "東京")),
        (
            'address[city.district]=="Jongno"',
            Compare(p("address", keys=("city", "district")), "==", "Jongno"),
        ),
        (
            'address[city][district]=="Jongno"',
            Compare(p("address", keys=("city", "district")), "==", "Jongno"),
        ),
        ("name~=^Se.*", Pattern(p("name"), "^Se.*")),
        ('name!~="(?i)tokyo|kyoto"', Pattern(p("name"), "(?i)tokyo|kyoto", negated=True)),
        ("ngsi-ld:location", Exists(p("ngsi-ld:location"))),
    ],
)
def test_parse_q_builds_the_ast(text: str, expected: object) -> None:
    got = parse_q(text)
    assert _strip_positions(got) == _strip_positions(expected)


def _strip_positions(node: object) -> object:
    if isinstance(node, Path):
        return (node.names, node.keys)
    if isinstance(node, And | Or):
        return (type(node).__name__, tuple(_strip_positions(i) for i in node.items))
    if isinstance(node, Compare):
        return ("Compare", _strip_positions(node.path), node.op, node.value)
    if isinstance(node, Exists):
        return ("Exists", _strip_positions(node.path), node.negated)
    if isinstance(node, Pattern):
        return ("Pattern", _strip_positions(node.path), node.regex, node.negated)
    return node


def test_parse_q_gives_and_precedence_over_or() -> None:
    got = parse_q("a;b|c;d")
    assert isinstance(got, Or)
    assert all(isinstance(item, And) for item in got.items)


def test_parse_q_honours_parentheses() -> None:
    got = parse_q("a;(b|c)")
    assert isinstance(got, And)
    assert isinstance(got.items[1], Or)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(a==1", "unbalanced parenthesis '(' opened at position 0 at position 5"),
        ("a==1)", "unbalanced parenthesis ')' at position 4"),
        ("a=1", "unknown operator starting with '=' at position 1"),
        ('a=="x', "unterminated string opened at position 3"),
        ("a==", "expected a value at position 3"),
        ("a;;b", "expected an attribute name at position 2"),
        ("a>1,2", "a value list needs == or !=, not > at position 1"),
        ("a<1..2", "a range needs == or !=, not < at position 1"),
        ("a==2026-13-45", "invalid date or time '2026-13-45' at position 3"),
        ("a~=(", "invalid regular expression"),
        ("!a==1", "'!' (absence) cannot be combined with an operator at position 0"),
        ("a[b==1", "expected ']' at position 3"),
        ("", "q is empty"),
    ],
)
def test_parse_q_reports_position_and_problem(text: str, fragment: str) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_q(text)
    assert fragment in caught.value.detail


def test_parse_q_rejects_nesting_beyond_the_limit() -> None:
    with pytest.raises(BadRequestData, match="nest deeper"):
        parse_q("(" * 40 + "a" + ")" * 40)
