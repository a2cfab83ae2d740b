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
from cityhub.query.selection import SelectionParser

MAX_LENGTH = 4096


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


class _Parser(SelectionParser[TypeExpr]):
    error = TypeSyntaxError

    def any_node(self, items: tuple[TypeExpr, ...]) -> TypeExpr:
        return TypeAny(items)

    def all_node(self, items: tuple[TypeExpr, ...]) -> TypeExpr:
        return TypeAll(items)

    def leaf(self) -> TypeExpr:
        return self.name()

    def name(self) -> TypeName:
        name, start = self.token()
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
