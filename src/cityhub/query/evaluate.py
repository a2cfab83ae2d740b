"""The query AST matched against one entity in memory (clauses 4.9, 4.10, 4.17, 4.19).

Subscriptions use it to decide whether a change notifies; the differential test
(``tests/query/test_differential.py``) holds it and both SQL compilers to the matching
semantics of ``query.ast``'s module docstring. Entities are in the internal form
(``model.entity``): attribute IRI → list of instances. Names in the AST are IRIs already
(``query.resolve``); keys and metadata member names (observedAt, unitCode, …) are kept as
written.

Choices where ``query.ast`` leaves room, which the SQL compilers follow too:

* An attribute (or sub-attribute) exists when it has an instance; ``a[k]`` when the keys lead
  through JSON objects to a member (whose value may be JSON null).
* Keys after a metadata member (``a.observedAt[k]``) descend into that member's value, so
  with today's scalar members they find nothing.
* A member value is flattened like a target: one array level unwrapped, objects skipped.
* ``ListRelationship`` elements are the stored ``{"object": iri}`` objects; plain IRI strings
  are accepted too. Their ``object`` is taken only without keys.
* ``!=`` holds for an element of the kind of (one of) the literals that equals none of them;
  ``!=`` on a range for an element of the range's kind outside it.
* Date and Time literals compare as their ISO text (``10:00`` → ``10:00:00``), like strings.
* A range whose ends differ in kind, a range of booleans and an order operator with a boolean
  raise BadRequestData, as the compilers do.
* Geo-queries look only at instances of type GeoProperty (what the stores index);
  ``disjoint``, like every georel, holds when any instance is disjoint; an entity without
  the GeoProperty matches no georel.
* ``idPattern`` is searched (``re.search``), not anchored: ``Parking:\\d`` matches
  ``urn:ngsi-ld:OffStreetParking:1``, as PostgreSQL's ``~`` does.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import orjson

from cityhub.errors import BadRequestData
from cityhub.model.attributes import ATTRIBUTE_TYPES
from cityhub.query.ast import (
    GEORELS,
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
    ScopeExpr,
    TypeAll,
    TypeAny,
    TypeExpr,
    TypeName,
    literal_key,
    literal_kind,
)
from cityhub.query.geometry import relates, shape_of, shape_of_json
from cityhub.query.instants import instant_micros
from cityhub.query.scope import scope_expr_matches

Entity = dict[str, Any]

_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def matches(entity: Entity, query: EntityQuery) -> bool:
    """Whether ``entity`` passes every filter of ``query`` (Query Entities, clause 5.7.2).

    ``attrs`` asks for at least one of the attributes; ``selectors`` for at least one
    matching selector (an empty tuple matches nothing). ``limit`` and ``offset`` are ignored.
    Raises BadRequestData for a q comparison the compilers refuse too (see ``matches_q``).
    """
    if query.ids is not None and entity.get("id") not in query.ids:
        return False
    if query.id_pattern is not None and not _id_matches(entity, query.id_pattern):
        return False
    if query.types is not None and not matches_types(entity, query.types):
        return False
    if query.selectors is not None and not any(
        _selector_matches(entity, selector) for selector in query.selectors
    ):
        return False
    if query.attrs is not None and not any(_instances(entity, (iri,)) for iri in query.attrs):
        return False
    if query.scope is not None and not matches_scope(entity, query.scope):
        return False
    if query.q is not None and not matches_q(entity, query.q):
        return False
    return query.geo is None or matches_geo(entity, query.geo)


def _selector_matches(entity: Entity, selector: EntitySelector) -> bool:
    """One EntitySelector (clause 5.2.33): its type, id and idPattern all hold."""
    if selector.ids is not None and entity.get("id") not in selector.ids:
        return False
    if selector.id_pattern is not None and not _id_matches(entity, selector.id_pattern):
        return False
    return selector.types is None or matches_types(entity, selector.types)


def _id_matches(entity: Entity, pattern: str) -> bool:
    entity_id = entity.get("id")
    return isinstance(entity_id, str) and _regex(pattern, "idPattern").search(entity_id) is not None


@lru_cache(maxsize=256)
def _regex(pattern: str, what: str = "q") -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise BadRequestData(f"{what}: {pattern!r} is not a valid regular expression") from exc


# --- entity types (clause 4.17) and scopes (clause 4.19) ------------------------------


def matches_types(entity: Entity, expr: TypeExpr) -> bool:
    """Entity Type Selection (clause 4.17): ``A,B`` any of, ``A;B`` all of, on type IRIs."""
    types = entity.get("type")
    have = {types} if isinstance(types, str) else set(types or ())
    return _types_hold(have, expr)


def _types_hold(have: set[str], expr: TypeExpr) -> bool:
    if isinstance(expr, TypeName):
        return expr.name in have
    if isinstance(expr, TypeAll):
        return all(_types_hold(have, item) for item in expr.items)
    if isinstance(expr, TypeAny):
        return any(_types_hold(have, item) for item in expr.items)
    raise TypeError(f"Not an entity type expression: {expr!r}")


def matches_scope(entity: Entity, expr: ScopeExpr) -> bool:
    """Scope query (clause 4.19); an entity without scope matches no pattern, not even ``/#``."""
    scopes = entity.get("scope")
    if isinstance(scopes, str):
        scopes = [scopes]
    return scope_expr_matches(expr, scopes or [])


# --- geo-queries (clause 4.10) --------------------------------------------------------


def matches_geo(entity: Entity, geo: GeoQuery) -> bool:
    """Whether some GeoProperty instance of ``geo.geoproperty`` relates to the query geometry
    as ``geo.georel`` says (clause 4.10); instances of other types are not geometries.

    The predicates are shapely's OGC predicates on lon/lat as planar coordinates (PostGIS
    ``geometry``), the entity's geometry first. ``near`` measures metres on the sphere of
    radius 6,371,008.7714 m (WGS84 mean radius) with great-circle edges, as PostGIS
    ``ST_DWithin(geography, geography, d, false)`` does: haversine between points, the
    shortest great-circle distance to segments otherwise, 0 when the geometries intersect
    (a point inside a polygon). ``maxDistance`` holds at distance <= d, ``minDistance`` at
    distance >= d. See ``query.geometry``.
    """
    if geo.georel not in GEORELS:
        raise BadRequestData(f"georel: unknown geo-relationship {geo.georel!r}")
    instances = _instances(entity, (geo.geoproperty,))
    if not instances:
        return False
    query = shape_of_json(orjson.dumps(geo.geometry, option=orjson.OPT_SORT_KEYS).decode())
    for instance in instances:
        value = instance.get("value")
        if instance.get("type") != "GeoProperty" or not isinstance(value, dict):
            continue
        if relates(geo.georel, shape_of(value), query, geo.max_distance, geo.min_distance):
            return True
    return False


# --- q (clause 4.9) -------------------------------------------------------------------


def matches_q(entity: Entity, expr: Expr) -> bool:
    """The NGSI-LD Query Language (clause 4.9) with the semantics of ``query.ast``.

    A comparison holds when some instance (any datasetId) has a target element that
    satisfies it; an absent target satisfies nothing, ``!=`` included. Raises BadRequestData
    for a range whose ends differ in kind, a range of booleans, and ``>``/``<`` with a
    boolean or a value list.
    """
    if isinstance(expr, And):
        return all(matches_q(entity, item) for item in expr.items)
    if isinstance(expr, Or):
        return any(matches_q(entity, item) for item in expr.items)
    if isinstance(expr, Exists):
        return _exists(entity, expr.path) != expr.negated
    if isinstance(expr, Pattern):
        regex = _regex(expr.regex)
        return any(
            isinstance(element, str) and (regex.search(element) is None) == expr.negated
            for element in _elements(entity, expr.path)
        )
    if isinstance(expr, Compare):
        test = _comparison(expr)
        return any(test(element) for element in _elements(entity, expr.path))
    raise TypeError(f"Not a q expression: {expr!r}")


def _instances(container: dict[str, Any], names: Iterable[str]) -> list[dict[str, Any]]:
    """The instances of an attribute, then of its sub-attribute, and so on."""
    level = [container]
    for name in names:
        level = [
            instance
            for parent in level
            if isinstance(found := parent.get(name), list)
            for instance in found
            if isinstance(instance, dict)
        ]
        if not level:
            break
    return level


_MISSING = object()


def _descend(root: Any, keys: Sequence[str]) -> Any:
    """The value under ``keys`` in nested JSON objects, or _MISSING."""
    for key in keys:
        if not isinstance(root, dict) or key not in root:
            return _MISSING
        root = root[key]
    return root


def _root(instance: dict[str, Any], path: Path) -> Any:
    """What the path addresses in one instance before the keys: a member or the target."""
    if path.member is not None:
        return instance.get(path.member, _MISSING)
    kind = instance.get("type")
    value_member = ATTRIBUTE_TYPES.get(kind, "value") if isinstance(kind, str) else "value"
    return instance.get(value_member, _MISSING)


def _exists(entity: Entity, path: Path) -> bool:
    """``a``, ``a.b``, ``a.observedAt``, ``a[k]``: some instance has it (clause 4.9)."""
    instances = _instances(entity, path.attribute_names)
    if path.member is None and not path.keys:
        return bool(instances)
    return any(_descend(_root(i, path), path.keys) is not _MISSING for i in instances)


def _scalars(value: Any) -> Iterator[Any]:
    """A value, or the elements of an array, that are neither arrays nor objects."""
    if isinstance(value, list):
        yield from (item for item in value if not isinstance(item, list | dict))
    elif not isinstance(value, dict):
        yield value


def attribute_elements(entity: Entity, attribute: str) -> Iterator[Any]:
    """Every target element of the top-level attribute ``attribute`` (an IRI): what a q
    comparison on ``attribute`` alone looks at. ``_elements`` for a one-name path."""
    instances = entity.get(attribute)
    if isinstance(instances, list):
        for instance in instances:
            if isinstance(instance, dict):
                yield from instance_elements(instance)


def instance_elements(instance: dict[str, Any]) -> Iterator[Any]:
    """The target elements of one instance of a top-level attribute (the value index,
    storage/sql/value_index.py, holds the strings and numbers among them)."""
    kind = instance.get("type")
    value_member = ATTRIBUTE_TYPES.get(kind, "value") if isinstance(kind, str) else "value"
    value = instance.get(value_member, _MISSING)
    if value is not _MISSING:
        yield from _targets(kind, value)


def _elements(entity: Entity, path: Path) -> Iterator[Any]:
    """Every target element of ``path`` over all instances (query.ast "Target")."""
    for instance in _instances(entity, path.attribute_names):
        value = _descend(_root(instance, path), path.keys)
        if value is _MISSING:
            continue
        kind = instance.get("type") if path.member is None and not path.keys else None
        yield from _targets(kind, value)


def _targets(kind: Any, value: Any) -> Iterator[Any]:
    """The target elements of one instance's addressed value; ``kind`` is the instance's
    type where the value is its whole value, else None."""
    if kind == "LanguageProperty" and isinstance(value, dict):
        for text in value.values():
            yield from _scalars(text)
    elif kind == "ListRelationship" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield from _scalars(item.get("object", _MISSING))
            elif not isinstance(item, list):
                yield item
    else:
        yield from _scalars(value)


# --- comparisons ("Like with like") ---------------------------------------------------


def _operand(element: Any, kind: str) -> Any:
    """The element as a value of ``kind``, or None when it is not of that kind."""
    if kind == "number":
        return (
            element if isinstance(element, int | float) and not isinstance(element, bool) else None
        )
    if kind == "bool":
        return element if isinstance(element, bool) else None
    if kind == "string":
        return element if isinstance(element, str) else None
    return instant_micros(element)


def _comparison(expr: Compare) -> Callable[[Any], bool]:
    """A test of one target element for ``expr``."""
    op, value = expr.op, expr.value
    where = f"at position {expr.path.position}"
    if op not in {"==", "!="} and op not in _ORDERED:
        raise BadRequestData(f"q: unknown operator {op!r} {where}")
    if isinstance(value, Range):
        kind = literal_kind(value.low)
        if kind != literal_kind(value.high):
            raise BadRequestData(f"q: the ends of a range differ in kind {where}")
        if kind == "bool":
            raise BadRequestData(f"q: a range of booleans is not allowed {where}")
        if op not in {"==", "!="}:
            raise BadRequestData(f"q: a range needs == or !=, not {op} {where}")
        low, high, inside_wanted = literal_key(value.low), literal_key(value.high), op == "=="

        def in_range(element: Any) -> bool:
            x = _operand(element, kind)
            return x is not None and (low <= x <= high) == inside_wanted

        return in_range
    literals = [
        (literal_kind(v), literal_key(v)) for v in (value if isinstance(value, tuple) else (value,))
    ]
    if op == "==":
        return lambda element: _equals_any(element, literals)
    if op == "!=":
        kinds = {kind for kind, _ in literals}
        return lambda element: (
            any(_operand(element, kind) is not None for kind in kinds)
            and not _equals_any(element, literals)
        )
    if len(literals) != 1:
        raise BadRequestData(f"q: a value list needs == or !=, not {op} {where}")
    ((kind, key),) = literals
    if kind == "bool":
        raise BadRequestData(f"q: booleans compare only with == and != {where}")
    ordered = _ORDERED[op]

    def in_order(element: Any) -> bool:
        x = _operand(element, kind)
        return x is not None and ordered(x, key)

    return in_order


def _equals_any(element: Any, literals: list[tuple[str, Any]]) -> bool:
    for kind, key in literals:
        x = _operand(element, kind)
        if x is not None and x == key:
            return True
    return False


__all__ = ["matches", "matches_geo", "matches_q", "matches_scope", "matches_types"]
