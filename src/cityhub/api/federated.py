"""Federation and sharing at the API edge: who is asking (the city itself or a partner hub,
federation/sharing.py), what of the request goes on to context sources, and the answers of
Query Entities and Retrieve Entity merged from the store and the registered sources
(federation/distributed.py), with ``NGSILD-Warning`` naming any source left out
(clause 6.3.17)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from cityhub.api.common import hub_of
from cityhub.api.params import flag
from cityhub.errors import ResourceNotFound
from cityhub.federation.distributed import FederatedResult, Forward
from cityhub.federation.sharing import NotShared, Partner, restrict_query, visible
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import EntityQuery

READ_METHODS = frozenset({"GET", "HEAD"})


def caller(request: Request) -> Partner | None:
    """The partner hub a request comes from (None: the city's own), once per request."""
    policy = hub_of(request).sharing
    if not policy.active:  # no partner configured: every request is the city's own
        return None
    state = request.scope.setdefault("state", {})
    if "cityhub_partner" not in state:
        state["cityhub_partner"] = policy.caller(request.headers.get("authorization"))
    partner: Partner | None = state["cityhub_partner"]
    return partner


def require_own(request: Request) -> None:
    """Refuse a change asked by a partner hub: partners read what is shared, nothing more."""
    partner = caller(request)
    if partner is not None:
        raise NotShared(f"{partner.name} may read what is shared with it, not change it")


def forward_of(request: Request) -> Forward:
    hub = hub_of(request)
    headers = {k: v for k, v in request.headers.items()}
    return hub.federation.forward_of(
        request.query_params.multi_items(), headers, flag(request, "local")
    )


def warning_headers(warnings: list[str]) -> dict[str, str]:
    return {"NGSILD-Warning": ", ".join(warnings)} if warnings else {}


async def query(
    request: Request, tenant: str, query: EntityQuery, tm: TermMap, *, count: bool
) -> tuple[EntityQuery, FederatedResult | None, Partner | None]:
    """The query as this caller may ask it, and the federated answer when sources are
    concerned (None: answer from the store)."""
    partner = caller(request)
    if partner is not None:
        query = restrict_query(query, partner)
    hub = hub_of(request)
    reference = request.headers.get("ngsild-entitymap")
    if flag(request, "entityMap") or reference:
        # Paged through an EntityMap (clause 5.14), also with no source concerned.
        mapped = await hub.federation.maps.answer(
            tenant, query, tm, forward_of(request), reference=reference, count=count
        )
        return query, mapped, partner
    if not await hub.federation.registrations(tenant):  # no source: nothing to forward
        return query, None, partner
    federated = await hub.federation.query_entities(
        tenant, query, tm, forward_of(request), count=count
    )
    return query, federated, partner


def shown(entities: list[dict[str, Any]], partner: Partner | None) -> list[dict[str, Any]]:
    """Entities as the caller may see them (partners: shared attributes only)."""
    if partner is None:
        return entities
    return [e for e in (visible(entity, partner) for entity in entities) if e is not None]


async def entity_text(
    request: Request, tenant: str, entity_id: str, tm: TermMap
) -> tuple[bytes, dict[str, Any] | None, list[str]]:
    """Retrieve Entity as this caller may see it, as JSON text, with the entity when it had
    to be built (merged with sources, or cut to a partner's share), else None: an entity
    read as stored needs no parsing while a response made from that text can be resent."""
    hub = hub_of(request)
    if caller(request) is None and not await hub.federation.registrations(tenant):
        return await hub.entities.retrieve_entity_text(tenant, entity_id), None, []
    found, warnings = await entity(request, tenant, entity_id, tm)
    return orjson.dumps(found), found, warnings


async def entity(
    request: Request, tenant: str, entity_id: str, tm: TermMap
) -> tuple[dict[str, Any], list[str]]:
    """Retrieve Entity as this caller may see it: from the store, merged with its sources."""
    hub = hub_of(request)
    partner = caller(request)
    federated = None
    if await hub.federation.registrations(tenant):  # else no source: the request stays here
        federated = await hub.federation.retrieve_entity(tenant, entity_id, tm, forward_of(request))
    warnings: list[str] = []
    if federated is None:
        found = await hub.entities.retrieve_entity(tenant, entity_id)
    else:
        found, warnings = federated
    if partner is not None:
        seen = visible(found, partner)
        if seen is None:
            raise ResourceNotFound(f"Entity {entity_id} does not exist")
        found = seen
    return found, warnings
