"""Resolution of the names in a parsed query to IRIs against the request's @context.

The parsers keep names as the client wrote them (see ``query.ast``); this pass checks each
name (clause 4.6.2) and expands it with the request's TermMap (clause 5.5.7): attribute and
sub-attribute names of q paths (clause 4.9), entity types (clause 4.17) and the geoproperty of
a geo-query (clause 4.10). Names that are already absolute IRIs stay as they are; a compact
IRI (``ex:speed``) expands through its prefix. Metadata members at the end of a q path
(``speed.observedAt``) and keys into a value (``address[city]``) are not terms and are kept.
"""

from __future__ import annotations

import dataclasses

from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import attribute_iri
from cityhub.query.ast import (
    And,
    Expr,
    GeoQuery,
    Or,
    Path,
    TypeAll,
    TypeAny,
    TypeExpr,
    TypeName,
)
from cityhub.query.geo import GeoQueryError
from cityhub.query.q import QSyntaxError
from cityhub.query.types import TypeSyntaxError


def resolve_q(expr: Expr, tm: TermMap, parameter: str = "q") -> Expr:
    """``expr`` with every attribute and sub-attribute name expanded to its IRI (clause 4.9).

    Raises QSyntaxError (BadRequestData) naming the position of a name that is not valid or
    cannot be expanded.
    """
    if isinstance(expr, And):
        return And(tuple(resolve_q(item, tm, parameter) for item in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(resolve_q(item, tm, parameter) for item in expr.items))
    return dataclasses.replace(expr, path=resolve_path(expr.path, tm, parameter))


def resolve_path(path: Path, tm: TermMap, parameter: str = "q") -> Path:
    """``a.b.observedAt[k]`` with ``a`` and ``b`` expanded; the member and keys are kept.

    ``Path.position`` is where ``a`` starts in the q text; the names follow each other
    separated by one dot, which gives each name's position for the error detail.
    """
    if path.member is not None and path.keys:
        raise QSyntaxError(
            f"{parameter}: {path.member} has no members to select with [...]"
            f" at position {path.position}"
        )
    names: list[str] = []
    at = path.position
    for name in path.attribute_names:
        try:
            names.append(attribute_iri(name, tm))
        except BadRequestData as exc:
            raise QSyntaxError(f"{parameter}: {exc.detail} at position {at}") from exc
        at += len(name) + 1
    member = path.member
    if member is not None:
        names.append(member)
    return Path(tuple(names), path.keys, path.position)


def resolve_types(expr: TypeExpr, tm: TermMap, parameter: str = "type") -> TypeExpr:
    """``expr`` with every entity type name expanded to its IRI (clause 4.17).

    Raises TypeSyntaxError (BadRequestData) for a name that is not valid or cannot be
    expanded.
    """
    if isinstance(expr, TypeName):
        try:
            return TypeName(attribute_iri(expr.name, tm, "Entity type"))
        except BadRequestData as exc:
            raise TypeSyntaxError(f"{parameter}: {exc.detail}") from exc
    items = tuple(resolve_types(item, tm, parameter) for item in expr.items)
    return TypeAll(items) if isinstance(expr, TypeAll) else TypeAny(items)


def resolve_geo(geo: GeoQuery, tm: TermMap, parameter: str = "geoproperty") -> GeoQuery:
    """``geo`` with its geoproperty expanded to an IRI (clause 4.10; ``location`` by default).

    Raises GeoQueryError (BadRequestData) for a name that is not valid or cannot be expanded.
    """
    try:
        iri = attribute_iri(geo.geoproperty, tm, "GeoProperty name")
    except BadRequestData as exc:
        raise GeoQueryError(f"{parameter}: {exc.detail}") from exc
    return dataclasses.replace(geo, geoproperty=iri)


__all__ = ["resolve_geo", "resolve_path", "resolve_q", "resolve_types"]
