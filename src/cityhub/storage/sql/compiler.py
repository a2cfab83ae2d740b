"""Compile an ``EntityQuery`` (query/ast.py) to a SQL WHERE clause with bind parameters.

The boolean structure, literal typing and comparison rules live here once; a ``Dialect``
says how its backend reaches into the stored document (JSON1 on SQLite, jsonb on PostgreSQL),
matches scopes and geometries. The matching semantics are those of query/ast.py's docstring;
``tests/query/test_differential.py`` holds both dialects and ``query.evaluate`` to them.
Values are always bind parameters; only IRIs and JSON paths built from them are checked
text, and those are bound too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cityhub.errors import BadRequestData
from cityhub.query.ast import (
    And,
    Compare,
    EntityQuery,
    EntitySelector,
    Exists,
    Expr,
    GeoQuery,
    Or,
    Path,
    Pattern,
    Range,
    ScopeAny,
    ScopeExpr,
    ScopeMatch,
    TypeAll,
    TypeAny,
    TypeExpr,
    TypeName,
    Value,
    literal_key,
    literal_kind,
)
from cityhub.storage.sql.value_index import real_bound


class Params:
    """Bind parameters in order; placeholders are numbered (``?3`` or ``$3``) so the SQL text
    may use them in any order."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        n = len(self.values)
        return f"${n}" if self.style == "postgres" else f"?{n}"


@dataclass(frozen=True)
class Target:
    """SQL expressions for one candidate target element: its JSON kind tests and values."""

    is_number: str
    number: str
    is_string: str
    string: str
    is_true: str
    is_false: str
    instant: str  # microseconds since the epoch, NULL unless a date-time string


Predicate = Callable[[Target], str]


class Dialect(Protocol):
    params: Params
    # Whether string equality's prefilter is an index the database should start from (a GIN
    # scan on PostgreSQL) rather than a filter on another driver (SQLite's list of ids,
    # which the type index's walk takes by itself).
    strings_drive: bool
    # Whether a number comparison's prefilter is a list of candidate ids the database may
    # start from (SQLite), rather than a cheap filter on each row (PostgreSQL).
    numbers_drive: bool

    def types_any(self, iris: list[str]) -> str: ...

    def types_all(self, iris: list[str]) -> str: ...

    def ids(self, ids: list[str]) -> str: ...

    def id_pattern(self, pattern: str) -> str: ...

    def attrs_any(self, iris: list[str]) -> str: ...

    def scope(self, match: ScopeMatch) -> str: ...

    def geo(self, geo: GeoQuery) -> str: ...

    def entity_by_id(self, key: str) -> tuple[str, str]:
        """The FROM item (alias ``e``) and join condition that look up, one at a time in the
        driver's order, the entity whose id is the driver's column ``key``."""
        ...

    def geo_candidates(self, geo: GeoQuery, types: list[str] | None) -> str | None:
        """A ``SELECT`` of the ids (column ``id``, in id order, each once) of the entities
        whose geometry may match by its bounding box, from the spatial index, to drive the
        query from; ``None`` where the dialect's ``geo`` condition drives by itself or no
        box bounds the answer. ``types``: every match has one of these types (a dialect may
        drop other candidates early; the full condition still decides)."""
        ...

    def exists(self, path: Path) -> str: ...

    def any_target(self, path: Path, predicate: Predicate, strings_possible: bool) -> str:
        """Some target element of ``path`` satisfies ``predicate`` (built per element);
        ``strings_possible`` False lets a dialect skip sources that hold only strings."""
        ...

    def regex(self, text: str, pattern_param: str) -> str: ...

    def strings_prefilter(self, attr_iri: str, values: list[str]) -> str:
        """A cheap condition every entity must meet for the attribute to equal one of these
        strings (a superset: the exact check still decides), or ``TRUE``."""
        ...

    def numbers_prefilter(self, attr_iri: str, low: float | None, high: float | None) -> str:
        """A cheap condition every entity must meet for the attribute to hold a number in
        ``[low, high]`` (None: unbounded; a superset, the exact check still decides), or
        ``TRUE``."""
        ...


def compile_from(query: EntityQuery, dialect: Dialect, tenant_param: str) -> tuple[str, str, str]:
    """``FROM … WHERE …`` selecting the query's entities (alias ``e``), the column to order
    pages by, and the ``FROM … WHERE …`` to count them with (the entities table is left out
    when the type alone decides).

    A query for one entity type starts from ``entity_types``, whose primary key (tenant,
    type, id) yields that type's entities already in id order, so a page stops after its
    last row instead of sorting, or skipping past, every entity of the tenant.
    """
    query = _single_selector_as_fields(query)
    candidates = (
        dialect.geo_candidates(query.geo, _some_type_of(query.types))
        if query.geo is not None
        else None
    )
    if candidates is not None:
        # The spatial index's candidates in id order, each checked exactly as it comes, so a
        # page stops after its last match instead of checking every candidate's geometry.
        where = compile_where(query, dialect)
        entity, joined = dialect.entity_by_id("c.id")
        matching = f"FROM ({candidates}) c CROSS JOIN {entity} WHERE {joined} AND {where}"
        return matching, "c.id", matching
    if isinstance(query.types, TypeName) and not (
        dialect.strings_drive and query.q is not None and _string_equality(query.q)
    ):
        type_param = dialect.params.add(query.types.name)
        rest = compile_where(dataclasses.replace(query, types=None), dialect)
        of_type = f"FROM entity_types t WHERE t.tenant = {tenant_param} AND t.type = {type_param}"
        entity, joined = dialect.entity_by_id("t.id")
        matching = (
            f"FROM entity_types t CROSS JOIN {entity} WHERE t.tenant = {tenant_param}"
            f" AND t.type = {type_param} AND {joined} AND {rest}"
        )
        return matching, "t.id", of_type if rest == "1=1" else matching
    where = compile_where(query, dialect)
    matching = f"FROM entities e WHERE e.tenant = {tenant_param} AND {where}"
    return matching, "e.id", matching


def _some_type_of(expr: TypeExpr | None) -> list[str] | None:
    """Type names one of which every entity selected by ``expr`` has (a superset for an
    AND of names), or None when the expression is not that simple."""
    if isinstance(expr, TypeName):
        return [expr.name]
    if isinstance(expr, TypeAny | TypeAll) and all(isinstance(i, TypeName) for i in expr.items):
        return [i.name for i in expr.items if isinstance(i, TypeName)]
    return None


def _string_equality(expr: Expr) -> bool:
    """Whether every match of ``expr`` passes a string-equality prefilter (a top-level
    comparison of an attribute with strings, alone or in an AND)."""
    if isinstance(expr, And):
        return any(_string_equality(item) for item in expr.items)
    return (
        isinstance(expr, Compare)
        and expr.op == "=="
        and _indexable(expr.path)
        and not isinstance(expr.value, Range)
        and all(
            literal_kind(v) == "string"
            for v in (expr.value if isinstance(expr.value, tuple) else (expr.value,))
        )
    )


def _single_selector_as_fields(query: EntityQuery) -> EntityQuery:
    """A Query body's one EntitySelector (``entities: [{"type": …}]``) as the query's own
    type/id/idPattern, where those are unset: the same selection, and a single type then
    reaches the ``entity_types`` plan above."""
    if query.selectors is None or len(query.selectors) != 1:
        return query
    (selector,) = query.selectors
    clashes = (
        (selector.types is not None and query.types is not None)
        or (selector.ids is not None and query.ids is not None)
        or (selector.id_pattern is not None and query.id_pattern is not None)
    )
    if clashes:
        return query
    return dataclasses.replace(
        query,
        selectors=None,
        types=query.types if selector.types is None else selector.types,
        ids=query.ids if selector.ids is None else selector.ids,
        id_pattern=query.id_pattern if selector.id_pattern is None else selector.id_pattern,
    )


def compile_where(query: EntityQuery, dialect: Dialect) -> str:
    """The conditions of ``query`` ANDed (``1=1`` when there are none); entity alias ``e``."""
    parts: list[str] = []
    if query.types is not None:
        parts.append(_types(query.types, dialect))
    if query.ids is not None:
        parts.append(dialect.ids(list(query.ids)))
    if query.id_pattern is not None:
        parts.append(dialect.id_pattern(query.id_pattern))
    if query.selectors is not None:
        parts.append(_selectors(query.selectors, dialect))
    if query.attrs is not None:
        parts.append(dialect.attrs_any(sorted(query.attrs)))
    if query.scope is not None:
        parts.append(_scope(query.scope, dialect))
    if query.q is not None:
        # With a geoQ, the spatial candidates drive the query: a number range's list of
        # candidates (often most entities of a type) would only cost its making.
        number_index = query.geo is None or not dialect.numbers_drive
        parts.append(compile_q(query.q, dialect, number_index=number_index))
    if query.geo is not None:  # last: an exact geometry check costs more than a JSON test
        parts.append(dialect.geo(query.geo))
    return " AND ".join(parts) if parts else "1=1"


def _selectors(selectors: tuple[EntitySelector, ...], dialect: Dialect) -> str:
    alternatives = []
    for selector in selectors:
        tests = []
        if selector.types is not None:
            tests.append(_types(selector.types, dialect))
        if selector.ids is not None:
            tests.append(dialect.ids(list(selector.ids)))
        if selector.id_pattern is not None:
            tests.append(dialect.id_pattern(selector.id_pattern))
        alternatives.append("(" + (" AND ".join(tests) or "1=1") + ")")
    return "(" + (" OR ".join(alternatives) or "1=0") + ")"


def _types(expr: TypeExpr, dialect: Dialect) -> str:
    if isinstance(expr, TypeName):
        return dialect.types_any([expr.name])
    if isinstance(expr, TypeAny) and all(isinstance(i, TypeName) for i in expr.items):
        return dialect.types_any([i.name for i in expr.items if isinstance(i, TypeName)])
    if isinstance(expr, TypeAll) and all(isinstance(i, TypeName) for i in expr.items):
        return dialect.types_all([i.name for i in expr.items if isinstance(i, TypeName)])
    joiner = " OR " if isinstance(expr, TypeAny) else " AND "
    return "(" + joiner.join(_types(item, dialect) for item in expr.items) + ")"


def _scope(expr: ScopeExpr, dialect: Dialect) -> str:
    if isinstance(expr, ScopeMatch):
        return dialect.scope(expr)
    joiner = " OR " if isinstance(expr, ScopeAny) else " AND "
    return "(" + joiner.join(_scope(item, dialect) for item in expr.items) + ")"


def compile_q(expr: Expr, dialect: Dialect, *, number_index: bool = True) -> str:
    """A q expression (clause 4.9) as SQL; ``number_index`` lets numeric comparisons add
    the value index's candidates."""
    if isinstance(expr, And | Or):
        joiner = " AND " if isinstance(expr, And) else " OR "
        items = (compile_q(item, dialect, number_index=number_index) for item in expr.items)
        return "(" + joiner.join(items) + ")"
    if isinstance(expr, Exists):
        found = dialect.exists(expr.path)
        return f"NOT {found}" if expr.negated else found
    if isinstance(expr, Pattern):
        param = dialect.params.add(expr.regex)
        negation = "NOT " if expr.negated else ""

        def pattern(t: Target) -> str:
            return f"({t.is_string} AND {negation}{dialect.regex(t.string, param)})"

        return dialect.any_target(expr.path, pattern, strings_possible=True)
    return _compare(expr, dialect, number_index)


# --- comparisons -----------------------------------------------------------------------

_KINDS = ("number", "bool", "string", "datetime")


def _is_kind(t: Target, kind: str) -> str:
    if kind == "number":
        return t.is_number
    if kind == "string":
        return t.is_string
    if kind == "bool":
        return f"({t.is_true} OR {t.is_false})"
    return f"{t.instant} IS NOT NULL"


def _operand(t: Target, kind: str) -> str:
    return {"number": t.number, "string": t.string, "datetime": t.instant}[kind]


def _param(dialect: Dialect, value: Value) -> str:
    return dialect.params.add(literal_key(value))


def _equals(t: Target, dialect: Dialect, value: Value, param: str | None = None) -> str:
    kind = literal_kind(value)
    if kind == "bool":
        return t.is_true if value else t.is_false
    placeholder = param if param is not None else _param(dialect, value)
    return f"({_is_kind(t, kind)} AND {_operand(t, kind)} = {placeholder})"


def _compare(expr: Compare, dialect: Dialect, number_index: bool) -> str:
    op, value = expr.op, expr.value
    where = f"at position {expr.path.position}"
    if isinstance(value, Range):
        kind = literal_kind(value.low)
        if kind != literal_kind(value.high):
            raise BadRequestData(f"q: the ends of a range differ in kind {where}")
        if kind == "bool":
            raise BadRequestData(f"q: a range of booleans is not allowed {where}")
        low, high = _param(dialect, value.low), _param(dialect, value.high)

        def in_range(t: Target) -> str:
            operand = _operand(t, kind)
            inside = f"{operand} >= {low} AND {operand} <= {high}"
            test = inside if op == "==" else f"NOT ({inside})"
            return f"({_is_kind(t, kind)} AND {test})"

        exact = dialect.any_target(
            expr.path, in_range, strings_possible=kind in {"string", "datetime"}
        )
        if op == "==" and kind == "number" and number_index and _indexable(expr.path):
            found = dialect.numbers_prefilter(
                expr.path.names[0], real_bound(value.low), real_bound(value.high)
            )
            return f"({found} AND {exact})"
        return exact
    values = value if isinstance(value, tuple) else (value,)
    kinds = {literal_kind(v) for v in values}
    strings_possible = bool(kinds & {"string", "datetime"})
    if op in {"==", "!="}:
        params: list[str | None] = [
            None if literal_kind(v) == "bool" else _param(dialect, v) for v in values
        ]

        def equal_any(t: Target) -> str:
            tests = [_equals(t, dialect, v, p) for v, p in zip(values, params, strict=True)]
            return "(" + " OR ".join(tests) + ")"

        if op == "==":
            exact = dialect.any_target(expr.path, equal_any, strings_possible)
            if not _indexable(expr.path):
                return exact
            # A cheap necessary condition first (the value index); the exact check decides.
            texts = [literal_key(v) for v in values if literal_kind(v) == "string"]
            if len(texts) == len(values):
                found = dialect.strings_prefilter(expr.path.names[0], texts)
                return f"({found} AND {exact})"
            numbers = [real_bound(v) for v in values if literal_kind(v) == "number"]
            if len(numbers) == len(values) and number_index:
                found = dialect.numbers_prefilter(expr.path.names[0], min(numbers), max(numbers))
                return f"({found} AND {exact})"
            return exact

        def differs(t: Target) -> str:
            typed = " OR ".join(_is_kind(t, k) for k in _KINDS if k in kinds)
            return f"(({typed}) AND NOT {equal_any(t)})"

        return dialect.any_target(expr.path, differs, strings_possible)
    (single,) = values
    kind = literal_kind(single)
    if kind == "bool":
        raise BadRequestData(f"q: booleans compare only with == and != {where}")
    placeholder = _param(dialect, single)

    def ordered(t: Target) -> str:
        return f"({_is_kind(t, kind)} AND {_operand(t, kind)} {op} {placeholder})"

    exact = dialect.any_target(expr.path, ordered, strings_possible)
    if kind == "number" and number_index and _indexable(expr.path):
        # Inclusive bounds even for < and >: a double's rounding may merge a bound with a
        # neighbouring value, and the prefilter must keep every match.
        bound = real_bound(single)
        lower, upper = (bound, None) if op in {">", ">="} else (None, bound)
        return f"({dialect.numbers_prefilter(expr.path.names[0], lower, upper)} AND {exact})"
    return exact


def _indexable(path: Path) -> bool:
    """A comparison on a top-level attribute's value: the value index holds its elements."""
    return len(path.attribute_names) == 1 and path.member is None and not path.keys


__all__ = [
    "Dialect",
    "Params",
    "Target",
    "compile_from",
    "compile_q",
    "compile_where",
]
