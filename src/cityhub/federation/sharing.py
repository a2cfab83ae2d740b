"""Sharing policy: what a city hub shows its partner hubs (issue 8).

Each partner has a key (sent as ``Authorization: Bearer <key>``, e.g. through the
``contextSourceInfo`` of the registration the partner made of this hub) and a list of the
entity types it may read, optionally narrowed to some attributes per type. A partner's
request sees only those: queries are cut to the shared types, entities lose every attribute
not shared, a filter (``q``, ``attrs``, geo) on an attribute that is not shared is refused,
writes are refused, and a subscription may only name shared types and shared attributes, so
its notifications carry nothing else. What is not shared never leaves the hub.

With an ``admin_key`` set, a request with neither that key nor a partner's is refused; with
none, requests without a key are the city's own (the open local hub).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cityhub.errors import NgsiLdError
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import EntityQuery, Path, TypeAll, TypeAny, TypeExpr, TypeName

CITYHUB_ERRORS = "urn:cityhub:errors:"  # not NGSI-LD's: the spec defines no access errors
SYSTEM_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "deletedAt"})


class Unauthorized(NgsiLdError):
    """No key, or a key this hub does not know (CityHub's own error type)."""

    type_name = "Unauthorized"
    title = "Unauthorized"
    status = 401

    @property
    def type_uri(self) -> str:
        return CITYHUB_ERRORS + self.type_name


class NotShared(NgsiLdError):
    """The partner asked for something this hub does not share with it."""

    type_name = "NotShared"
    title = "Not shared"
    status = 403

    @property
    def type_uri(self) -> str:
        return CITYHUB_ERRORS + self.type_name


@dataclass(frozen=True)
class Partner:
    name: str
    key: str
    types: frozenset[str]  # type IRIs
    attributes: dict[str, frozenset[str]] = field(default_factory=dict)  # type IRI → IRIs

    def shared_attributes(self, entity_types: Iterable[str]) -> frozenset[str] | None:
        """Attribute IRIs visible on an entity of these types (None: all of them)."""
        allowed: set[str] = set()
        for entity_type in entity_types:
            if entity_type not in self.types:
                continue
            narrowed = self.attributes.get(entity_type)
            if narrowed is None:
                return None
            allowed |= narrowed
        return frozenset(allowed)

    def every_shared_attribute(self) -> frozenset[str] | None:
        """Every attribute IRI shared on some type (None: some type shares all)."""
        if any(t not in self.attributes for t in self.types):
            return None
        return frozenset().union(*self.attributes.values())


Resolve = Callable[[str], Awaitable[TermMap]]  # a type short name -> the TermMap of its terms


async def partners_from_settings(
    tables: Sequence[dict[str, Any]], resolve: Resolve
) -> list[Partner]:
    """The ``[[partners]]`` tables: name, key, types (short names or IRIs) and optionally
    attributes = {Type = [names]}; names are expanded with each type's pinned context."""
    partners = []
    keys: set[str] = set()
    for index, table in enumerate(tables):
        where = f"partners[{index}]"
        unknown = set(table) - {"name", "key", "types", "attributes"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        name, key, types = table.get("name"), table.get("key"), table.get("types")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: name is required")
        if not isinstance(key, str) or len(key) < 16:
            raise ValueError(f"{where}: key must be a string of at least 16 characters")
        if key in keys:
            raise ValueError(f"{where}: two partners share a key")
        keys.add(key)
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ValueError(f"{where}: types must be a non-empty list of entity types")
        attributes = table.get("attributes", {})
        if not isinstance(attributes, dict):
            raise ValueError(f"{where}: attributes must be a table of type = [names]")
        type_iris: set[str] = set()
        narrowed: dict[str, frozenset[str]] = {}
        for short in types:
            tm = await resolve(short)
            iri = tm.expand(short)
            type_iris.add(iri)
            names = attributes.get(short)
            if names is not None:
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ValueError(f"{where}: attributes.{short} must be a list of names")
                narrowed[iri] = frozenset(tm.expand(n) for n in names)
        extra = set(attributes) - set(types)
        if extra:
            raise ValueError(f"{where}: attributes name types not shared: {sorted(extra)}")
        partners.append(Partner(name, key, frozenset(type_iris), narrowed))
    return partners


@dataclass
class SharingPolicy:
    partners: dict[str, Partner]  # by key
    admin_key: str = ""

    @property
    def active(self) -> bool:
        return bool(self.partners or self.admin_key)

    def caller(self, authorization: str | None) -> Partner | None:
        """The partner a request comes from; None for the city's own requests. Unauthorized
        for an unknown key, or for no key when an admin key is set."""
        if not self.active:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if token and self.admin_key and token == self.admin_key:
            return None
        if token:
            partner = self.partners.get(token)
            if partner is None:
                raise Unauthorized("The key in the Authorization header is not known to this hub")
            return partner
        if self.admin_key:
            raise Unauthorized("This hub needs an Authorization: Bearer key")
        return None


def restrict_query(query: EntityQuery, partner: Partner) -> EntityQuery:
    """The query cut to the partner's types; NotShared when it filters on what is hidden."""
    check_filters(query, partner)
    shared = TypeAny(tuple(TypeName(t) for t in sorted(partner.types)))
    types: TypeExpr = shared if query.types is None else TypeAll((query.types, shared))
    selectors = query.selectors
    if selectors:
        selectors = tuple(
            dataclasses.replace(s, types=shared if s.types is None else TypeAll((s.types, shared)))
            for s in selectors
        )
    return dataclasses.replace(query, types=types, selectors=selectors)


def shared_attrs(attrs: frozenset[str] | None, partner: Partner) -> frozenset[str] | None:
    """The attributes a partner's temporal request reads: those it named (NotShared when
    one is hidden), else every attribute shared on some type (None: all). Named, they make
    the store and the sources select entities by the shared attributes' instances alone
    (clause 5.7.4): not even whether a hidden attribute has history leaves the hub."""
    check_filters(EntityQuery(attrs=attrs), partner)
    return partner.every_shared_attribute() if attrs is None else attrs


def check_filters(query: EntityQuery, partner: Partner) -> None:
    visible = partner.every_shared_attribute()
    if visible is None:
        return
    named = set(query.attrs or ()) | _paths(query.q)
    if query.geo is not None:
        named.add(query.geo.geoproperty)
    hidden = sorted(n for n in named if n not in visible and n not in SYSTEM_MEMBERS)
    if hidden:
        raise NotShared(f"This hub does not share {', '.join(hidden)} with {partner.name}")


def _paths(node: Any) -> set[str]:
    """Attribute IRIs a q expression names (the first element of each path)."""
    found: set[str] = set()
    if node is None:
        return found
    if isinstance(node, Path):
        found.add(node.names[0])
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for item in dataclasses.fields(node):
            found |= _paths(getattr(node, item.name))
    elif isinstance(node, tuple | list):
        for item in node:
            found |= _paths(item)
    return found


def visible(entity: dict[str, Any], partner: Partner) -> dict[str, Any] | None:
    """The entity as the partner may see it; None when its types are not shared."""
    if not partner.types & set(entity.get("type", [])):
        return None
    allowed = partner.shared_attributes(entity["type"])
    if allowed is None:
        return entity
    return {k: v for k, v in entity.items() if ":" not in k or k in allowed}
