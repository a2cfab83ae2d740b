"""Scope queries (clause 4.19): the ``scopeQ`` parameter parsed to a ``ScopeExpr``, and matching.

Grammar (``;`` binds tighter than ``|`` and ``,``, which both mean "or")::

    ScopeQuery = AnyOf
    AnyOf      = AllOf *(("|" / ",") AllOf)
    AllOf      = Primary *(";" Primary)
    Primary    = "(" AnyOf ")" / Pattern
    Pattern    = "/#" / 1*("/" Segment) ["/#"]
    Segment    = "+" / 1*(any character but "/", "#", "+", white space and ",|;()")

``/Madrid/Gardens`` matches that scope only; ``+`` matches exactly one segment
(``/CompanyA/+/Building1``); a final ``#`` matches the scope before it and every scope below
it (``/Madrid/#`` matches ``/Madrid`` and ``/Madrid/Gardens/ParqueNorte``); ``/#`` matches
any scope. Parentheses keep their grouping in the AST, so ``format_scope_query`` prints text
that parses back to the same AST. Errors name the parameter, the 0-based position and the
problem.
"""

from __future__ import annotations

from collections.abc import Sequence

from cityhub.errors import BadRequestData
from cityhub.query.ast import ScopeAll, ScopeAny, ScopeExpr, ScopeMatch
from cityhub.query.selection import SelectionParser

MAX_LENGTH = 4096


class ScopeSyntaxError(BadRequestData):
    """A scope query that is not valid; ``detail`` says where and why."""


def parse_scope_query(text: str, parameter: str = "scopeQ") -> ScopeExpr:
    """Parse a scope query (clause 4.19); raises ScopeSyntaxError (BadRequestData)."""
    if not text:
        raise ScopeSyntaxError(f"{parameter} is empty")
    if len(text) > MAX_LENGTH:
        raise ScopeSyntaxError(f"{parameter} is longer than {MAX_LENGTH} characters")
    return _Parser(text, parameter).parse()


def format_scope_query(expr: ScopeExpr) -> str:
    """The text of ``expr`` in the clause 4.19 syntax; nested groups get parentheses.

    ``ScopeAny((ScopeMatch(("a", "#")), ScopeAll(...)))`` → ``/a/#|(…;…)``.
    """
    if isinstance(expr, ScopeMatch):
        return "/" + "/".join(expr.segments)
    separator = "|" if isinstance(expr, ScopeAny) else ";"
    return separator.join(_operand(item) for item in expr.items)


def _operand(expr: ScopeExpr) -> str:
    text = format_scope_query(expr)
    return text if isinstance(expr, ScopeMatch) else f"({text})"


def scope_matches(pattern: ScopeMatch, scope: str) -> bool:
    """Whether one scope (``/Madrid/Gardens``) matches one pattern (clause 4.19).

    ``+`` stands for exactly one segment; a final ``#`` for zero or more segments, so
    ``/Madrid/#`` matches ``/Madrid`` itself and ``/#`` matches every scope.
    """
    if not scope.startswith("/"):
        return False
    segments = scope[1:].split("/")
    wanted = pattern.segments
    for index, expected in enumerate(wanted):
        if expected == "#" and index == len(wanted) - 1:
            return True
        if index >= len(segments):
            return False
        if expected != "+" and expected != segments[index]:
            return False
    return len(segments) == len(wanted)


def scope_expr_matches(expr: ScopeExpr, scopes: Sequence[str]) -> bool:
    """Whether an entity with ``scopes`` satisfies a scope query (clause 4.19).

    A pattern holds when any of the entity's scopes matches it; ScopeAll needs every item to
    hold (each possibly through a different scope), ScopeAny one. An entity without scopes
    matches nothing, not even ``/#``.
    """
    if isinstance(expr, ScopeMatch):
        return any(scope_matches(expr, scope) for scope in scopes)
    if isinstance(expr, ScopeAll):
        return all(scope_expr_matches(item, scopes) for item in expr.items)
    return any(scope_expr_matches(item, scopes) for item in expr.items)


class _Parser(SelectionParser[ScopeExpr]):
    error = ScopeSyntaxError

    def any_node(self, items: tuple[ScopeExpr, ...]) -> ScopeExpr:
        return ScopeAny(items)

    def all_node(self, items: tuple[ScopeExpr, ...]) -> ScopeExpr:
        return ScopeAll(items)

    def leaf(self) -> ScopeExpr:
        return self.pattern()

    def pattern(self) -> ScopeMatch:
        text, start = self.token()
        if not text:
            raise self.fail("expected a scope such as /City/District")
        if not text.startswith("/"):
            raise self.fail(f"scope {text!r} does not start with '/'", start)
        segments = text[1:].split("/")
        offset = start + 1
        for index, segment in enumerate(segments):
            self.check_segment(segment, offset, last=index == len(segments) - 1)
            offset += len(segment) + 1
        return ScopeMatch(tuple(segments))

    def check_segment(self, segment: str, at: int, last: bool) -> None:
        if not segment:
            raise self.fail("empty scope segment", at)
        for index, char in enumerate(segment):
            if char.isspace():
                raise self.fail(f"scope segment {segment!r} contains white space", at + index)
        if segment == "#":
            if not last:
                raise self.fail("'#' is allowed only as the last segment", at)
            return
        if segment == "+":
            return
        for char in "#+":
            if char in segment:
                raise self.fail(
                    f"{char!r} is allowed only as a whole segment, not in {segment!r}",
                    at + segment.index(char),
                )


__all__ = [
    "ScopeSyntaxError",
    "format_scope_query",
    "parse_scope_query",
    "scope_expr_matches",
    "scope_matches",
]
