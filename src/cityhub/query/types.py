"""Entity Type Selection (clause 4.17): the ``type`` parameter parsed to a ``TypeExpr``.

Grammar (``;`` binds tighter than ``,`` and ``|``, which both mean "any of")::

    Selection = AnyOf
    AnyOf     = AllOf *(("," / "|") AllOf)
    AllOf     = Primary *(";" Primary)
    Primary   = "(" AnyOf ")" / Name
    Name      = an NGSI-LD name (``Vehicle``, ``schema:Person``) or a full IRI, without ",|;()"

``Vehicle;Electric,Bus`` reads as (Vehicle and Electric) or Bus. Parentheses keep their
grouping in the AST (``(A,B),C`` is TypeAny(TypeAny(A, B), C)), so ``format_type_expression``
prints an expression that parses back to the same AST. Errors name the parameter, the 0-based
position and the problem.
"""

from __future__ import annotations

from cityhub.errors import BadRequestData
from cityhub.model.values import check_name
from cityhub.query.ast import TypeAll, TypeAny, TypeExpr, TypeName

_OPERATORS = frozenset(",|;()")
MAX_LENGTH = 4096
MAX_DEPTH = 32


class TypeSyntaxError(BadRequestData):
    """A type selection that is not valid; ``detail`` says where and why."""


def parse_type_expression(text: str, parameter: str = "type") -> TypeExpr:
    """Parse an Entity Type Selection (clause 4.17); raises TypeSyntaxError (BadRequestData).

    A single name gives a TypeName; ``A,B``/``A|B`` a TypeAny; ``A;B`` a TypeAll.
    """
    if not text:
        raise TypeSyntaxError(f"{parameter} is empty")
    if len(text) > MAX_LENGTH:
        raise TypeSyntaxError(f"{parameter} is longer than {MAX_LENGTH} characters")
    return _Parser(text, parameter).parse()


def format_type_expression(expr: TypeExpr) -> str:
    """The text of ``expr`` in the clause 4.17 syntax; nested groups get parentheses.

    ``TypeAny((TypeAll((TypeName("A"), TypeName("B"))), TypeName("C")))`` → ``(A;B),C``.
    """
    if isinstance(expr, TypeName):
        return expr.name
    separator = "," if isinstance(expr, TypeAny) else ";"
    return separator.join(
        item.name if isinstance(item, TypeName) else f"({format_type_expression(item)})"
        for item in expr.items
    )


class _Parser:
    def __init__(self, text: str, parameter: str) -> None:
        self.text = text
        self.pos = 0
        self.parameter = parameter
        self.depth = 0

    def fail(self, message: str, at: int | None = None) -> TypeSyntaxError:
        where = self.pos if at is None else at
        return TypeSyntaxError(f"{self.parameter}: {message} at position {where}")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def parse(self) -> TypeExpr:
        expr = self.any_of()
        if self.pos < len(self.text):
            if self.peek() == ")":
                raise self.fail("unbalanced parenthesis ')'")
            raise self.fail(f"unexpected {self.peek()!r}")
        return expr

    def any_of(self) -> TypeExpr:
        items = [self.all_of()]
        while self.peek() in {",", "|"}:
            self.pos += 1
            items.append(self.all_of())
        return items[0] if len(items) == 1 else TypeAny(tuple(items))

    def all_of(self) -> TypeExpr:
        items = [self.primary()]
        while self.peek() == ";":
            self.pos += 1
            items.append(self.primary())
        return items[0] if len(items) == 1 else TypeAll(tuple(items))

    def primary(self) -> TypeExpr:
        if self.peek() != "(":
            return self.name()
        start = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"parentheses nest deeper than {MAX_DEPTH}")
        self.pos += 1
        expr = self.any_of()
        if self.peek() != ")":
            raise self.fail(f"unbalanced parenthesis '(' opened at position {start}")
        self.pos += 1
        self.depth -= 1
        return expr

    def name(self) -> TypeName:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _OPERATORS:
            self.pos += 1
        name = self.text[start : self.pos]
        if not name:
            raise self.fail("expected an entity type name")
        space = next((i for i, char in enumerate(name) if char.isspace()), None)
        if space is not None:
            raise self.fail(f"entity type {name!r} contains white space", start + space)
        try:
            check_name(name, "entity type")
        except BadRequestData as exc:
            raise self.fail(exc.detail, start) from exc
        return TypeName(name)


__all__ = [
    "TypeSyntaxError",
    "format_type_expression",
    "parse_type_expression",
]
