"""The query AST shared by the SQL compilers and the in-memory evaluator (clause 4.9).

Attribute names stay as the client wrote them; resolution to IRIs happens against the request's
@context in one pass (``resolve``), so the parser needs no context and errors can point at the
position in the original text.

Matching semantics, shared by the SQLite compiler, the PostgreSQL compiler and
``query.evaluate`` (the differential test holds them to it). Entities are in the internal
form (``model.attributes``): attribute IRI → list of instances.

* **Target of an instance**: Property/GeoProperty ``value``; Relationship ``object``;
  LanguageProperty every string of ``languageMap`` (with a key ``name[ja]`` only that
  language's); VocabProperty ``vocab``; JsonProperty ``json``; ListProperty the elements of
  ``valueList``; ListRelationship the elements of ``objectList`` (their ``object``).
  A target that is a JSON array stands for each of its elements (one level; an element
  that is itself an array or object matches no comparison); a languageMap stands for each
  language's string, or each string of a language's array; an object target (a structured
  value) matches no comparison, only existence and key paths. With keys (``a[k]``), the
  target is the value found under the keys (for a LanguageProperty ``a[ja]`` that language's
  string or strings), again one array level unwrapped.
* **Path** ``a.b.c[k1.k2]``: instances of attribute ``a``, then of its sub-attribute ``b``,
  then ``c``; then the keys descend into the target object. A final member name
  (observedAt, modifiedAt, createdAt, unitCode, datasetId) takes that member of the last
  instance instead of the target.
* **A comparison holds when some instance (any datasetId) has a target element that
  satisfies it**: ``==`` equals the value, one of the list's values, or lies in the range;
  ``!=`` exists and is not equal to the value / none of the list's / outside the range; the
  order operators compare like with like. Absent targets satisfy nothing (``!=`` included).
* **Like with like**: a number literal matches JSON numbers (not booleans); ``true``/
  ``false`` JSON booleans; a quoted string or a URI JSON strings; a DateTime literal
  strings that are date-times as ``query.instants.instant_micros`` recognises them (no
  offset = UTC), compared as instants to the microsecond; a Date ``YYYY-MM-DD`` and a Time
  ``HH:MM:SS`` strings compared as written. Strings order by code point.
* ``~=``/``!~=``: the target element is a string that the regular expression finds (does
  not find) a match in (Python ``re.search`` semantics; PostgreSQL's ``~`` for the common
  subset).
* **Existence** ``a`` (or ``a.b``, ``a[k]``): some instance has the target (member, key);
  ``!a``: none has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeAlias

from cityhub.query.instants import datetime_micros

# Members of an attribute that q can address after a dot (clause 4.9): a.observedAt
METADATA_NAMES = frozenset({"observedAt", "modifiedAt", "createdAt", "unitCode", "datasetId"})

Scalar: TypeAlias = int | float | str | bool | datetime | date | time


@dataclass(frozen=True)
class Uri:
    """An unquoted URI value, compared with Relationship objects."""

    text: str


Value: TypeAlias = Scalar | Uri


def literal_kind(value: Value) -> str:
    """How a q literal compares ("Like with like" above): number, bool, string or datetime."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    return "string"


def literal_key(value: Value) -> Any:
    """The literal as its kind compares: the number or boolean, the text (URIs, Dates and
    Times as written), or a DateTime as microseconds since the epoch."""
    if isinstance(value, datetime):
        return datetime_micros(value)
    if isinstance(value, Uri):
        return value.text
    if isinstance(value, date | time):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Path:
    """``attr.sub.sub[key.key]``: an attribute, sub-attribute steps, then keys into the value.

    ``names`` are attribute then sub-attribute names (the last may be a metadata member such as
    observedAt, see ``member``); ``keys`` go into a structured value or a languageMap.
    """

    names: tuple[str, ...]
    keys: tuple[str, ...] = ()
    position: int = 0

    @property
    def member(self) -> str | None:
        """The metadata member addressed (observedAt, unitCode, …) or None for the value."""
        if len(self.names) > 1 and self.names[-1] in METADATA_NAMES:
            return self.names[-1]
        return None

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return self.names[:-1] if self.member else self.names


@dataclass(frozen=True)
class Exists:
    """``attr`` (present) or ``!attr`` (absent)."""

    path: Path
    negated: bool = False


@dataclass(frozen=True)
class Compare:
    """``attr OP value``: OP one of == != > >= < <=; value a scalar, a list or a range."""

    path: Path
    op: str
    value: Value | tuple[Value, ...] | Range


@dataclass(frozen=True)
class Range:
    """``low..high`` (inclusive)."""

    low: Value
    high: Value


@dataclass(frozen=True)
class Pattern:
    """``attr~=regex`` or ``attr!~=regex`` (clause 4.9, POSIX-like regular expression)."""

    path: Path
    regex: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr: TypeAlias = And | Or | Exists | Compare | Pattern


# --- Entity type expressions (clause 4.17): "A,B" / "A|B" any of, "A;B" all of, parentheses.


@dataclass(frozen=True)
class TypeName:
    """One entity type: the name as written, an IRI once resolved."""

    name: str


@dataclass(frozen=True)
class TypeAll:
    """``A;B``: the entity has every one of the types."""

    items: tuple[TypeExpr, ...]


@dataclass(frozen=True)
class TypeAny:
    """``A,B`` or ``A|B``: the entity has at least one of the types."""

    items: tuple[TypeExpr, ...]


TypeExpr: TypeAlias = TypeName | TypeAll | TypeAny


# --- Scope queries (clause 4.19): /a/b, /a/#, /a/+, combined with ; (and), | or , (or).


@dataclass(frozen=True)
class ScopeMatch:
    """One scope pattern, split into segments: ``/Seoul/+/Parks/#`` →
    ("Seoul", "+", "Parks", "#"). ``+`` matches exactly one segment; a final ``#`` matches
    the scope before it and every scope below it; ``/#`` alone matches any scope at all.
    An entity matches when any of its scopes matches."""

    segments: tuple[str, ...]


@dataclass(frozen=True)
class ScopeAll:
    items: tuple[ScopeExpr, ...]


@dataclass(frozen=True)
class ScopeAny:
    items: tuple[ScopeExpr, ...]


ScopeExpr: TypeAlias = ScopeMatch | ScopeAll | ScopeAny


# --- Geo-queries (clause 4.10).

GEORELS = frozenset({"near", "within", "contains", "intersects", "equals", "disjoint", "overlaps"})


@dataclass(frozen=True)
class GeoQuery:
    """A geoQ: the entity's GeoProperty ``geoproperty`` (an IRI once resolved) relates to
    ``geometry`` (a validated GeoJSON geometry in WGS84 lon/lat) as ``georel`` says.

    For ``near``, exactly one of ``max_distance``/``min_distance`` (metres on the WGS84
    sphere, as PostGIS geography computes them) is set. ``within``: the entity's geometry lies
    within the query geometry; ``contains``: the entity's geometry contains the query's;
    the others are the OGC simple-feature predicates (DE-9IM) with the entity's geometry as
    first argument. An attribute with several instances (datasetIds) matches when any does.
    """

    georel: str
    geometry: dict[str, object]
    geoproperty: str = "location"
    max_distance: float | None = None
    min_distance: float | None = None


# --- A whole Query Entities request (clause 5.7.2), filters only.


@dataclass(frozen=True)
class EntitySelector:
    """One item of a Query's ``entities`` (clause 5.2.33 EntitySelector); its fields AND."""

    types: TypeExpr | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None


@dataclass(frozen=True)
class EntityQuery:
    """What selects entities; every field ANDs with the others. Names are IRIs.

    ``attrs``: the entity has at least one of these attributes (Query.attrs "to be matched").
    ``selectors`` (POST /entityOperations/query): the entity matches at least one of them.
    Results are ordered by entity id; ``limit``/``offset`` page through them.
    """

    types: TypeExpr | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    attrs: frozenset[str] | None = None
    q: Expr | None = None
    geo: GeoQuery | None = None
    scope: ScopeExpr | None = None
    selectors: tuple[EntitySelector, ...] | None = None
    limit: int = 20
    offset: int = 0
