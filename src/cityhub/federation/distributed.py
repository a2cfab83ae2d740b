"""Distributed operations (clause 4.3.6): Query Entities and Retrieve Entity answered from
the local store and every matching context source at once, merged.

A page of a federated query is exact without fetching everything: every source (and the
local store) is asked for its first ``offset + limit`` matching entities in id order (CityHub
hubs answer in id order; clause 5.7.2 leaves order to the broker, so foreign sources may
page less consistently — an entity map makes any source consistent, see ``entity_maps``);
the union merged by id, in id order, holds the page. A source that fails or is slow is left
out and named in an ``NGSILD-Warning``; ``local=true`` and a ``Via`` naming this hub (a
registration loop) answer from the local store alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from cityhub.errors import NgsiLdError, NonexistentTenant, ResourceNotFound, TooManyResults
from cityhub.federation.entity_maps import EntityMaps
from cityhub.federation.matching import matching, registered_types, type_names
from cityhub.federation.merge import merge_all, merge_entities
from cityhub.federation.remote import SourceAnswer, SourceFailure, Sources, via_hubs
from cityhub.federation.sourced import read_entity
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import EntityQuery, TypeAny, TypeName
from cityhub.storage.base import QueryResult

if TYPE_CHECKING:
    from cityhub.hub import Hub

REGISTRATIONS_TTL = 1.0  # seconds a worker trusts the registrations it read (spread: ≤ 1 s)
OUTCOME_FLUSH_SECONDS = 1.0
MAX_WINDOW = 1000  # offset + limit a federated page may reach without an entity map
# URL parameters that only shape the answer: the merged entities are rendered locally.
_RENDER_ONLY = {
    "limit",
    "offset",
    "count",
    "local",
    "options",
    "format",
    "lang",
    "pick",
    "omit",
    "geometryProperty",
    "entityMap",
}


@dataclass
class Forward:
    """What of the incoming request is passed on to sources."""

    params: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    via: str  # the Via value to send (the incoming one plus this hub)
    local: bool  # local=true, or a loop: answer from the local store alone


@dataclass
class FederatedResult:
    result: QueryResult
    warnings: list[str] = field(default_factory=list)
    entity_map: str | None = None  # the EntityMap the page was read through (entity_maps.py)


class Federation:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.sources = Sources(default_timeout=hub.settings.federation_timeout)
        self.identity = ""  # this hub's context source identity (set when the store opens)
        self._registrations: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._outcomes: dict[tuple[str, str], tuple[bool, str]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.maps = EntityMaps(self)

    async def aclose(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.flush()
        await self.sources.aclose()

    def record(self, tenant: str, outcomes: list[tuple[str, bool]]) -> None:
        """Note each source's success or failure for its registration's status members
        (clause 5.2.9: timesSent, timesFailed, lastSuccess, lastFailure). Written within a
        second, one write per registration, off the answers' path: a busy regional hub
        answers hundreds of queries a second through the same few registrations."""
        when = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for reg_id, ok in outcomes:
            self._outcomes[(tenant, reg_id)] = (ok, when)
        if self._outcomes and self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(OUTCOME_FLUSH_SECONDS)
            await self.flush()
        finally:
            self._flusher = None

    async def flush(self) -> None:
        pending, self._outcomes = self._outcomes, {}
        for (tenant, reg_id), (ok, when) in pending.items():
            await self.hub.store.record_registration_outcome(tenant, reg_id, ok, when)

    def forward_of(
        self, params: Sequence[tuple[str, str]], headers: dict[str, str], local: bool
    ) -> Forward:
        incoming_via = headers.get("via", "")
        hop = f"1.1 {self.identity or 'cityhub'}"
        looped = bool(self.identity) and self.identity in via_hubs(incoming_via)
        return Forward(
            [(k, v) for k, v in params if k not in _RENDER_ONLY],
            {k.lower(): v for k, v in headers.items()},
            f"{incoming_via}, {hop}" if incoming_via else hop,
            local or looped,
        )

    async def registrations(self, tenant: str) -> list[dict[str, Any]]:
        now = time.monotonic()
        cached = self._registrations.get(tenant)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self.hub.store.registrations(tenant)
        self._registrations[tenant] = (now + REGISTRATIONS_TTL, found)
        return found

    def forget(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._registrations.clear()
        else:
            self._registrations.pop(tenant, None)

    async def plan(
        self,
        tenant: str,
        operation: str,
        forward: Forward,
        query: EntityQuery | None,
        entity_id: str | None = None,
    ) -> list[dict[str, Any]]:
        if forward.local:
            return []
        registrations = await self.registrations(tenant)
        if not registrations:
            return []
        return matching(
            registrations,
            operation,
            query,
            datetime.now(UTC),
            entity_id=entity_id,
        )

    # --- Query Entities (5.7.2) -------------------------------------------------------------

    async def query_entities(
        self, tenant: str, query: EntityQuery, tm: TermMap, forward: Forward, *, count: bool
    ) -> FederatedResult | None:
        """The federated answer, or None when no source is concerned (answer locally)."""
        regs = await self.plan(tenant, "queryEntity", forward, query)
        if not regs:
            return None
        window = query.offset + query.limit
        if window > MAX_WINDOW:
            raise TooManyResults(
                f"A federated query reaches entities up to offset+limit = {MAX_WINDOW}; use an "
                "entity map (entityMap=true) to page further"
            )
        local_query = dataclasses.replace(query, offset=0, limit=window)
        ids_only = query.offset > 0  # a later page: find its ids first, then fetch just those
        local_task = self._local(tenant, local_query, count)
        remote_tasks = [
            self._remote_query(r, query, window, forward, count, ids_only=ids_only) for r in regs
        ]
        local, *remote = await asyncio.gather(local_task, *remote_tasks)
        groups: list[list[dict[str, Any]]] = []
        totals = [local[1]]
        more = local[2]
        warnings: list[str] = []
        outcomes: list[tuple[str, bool]] = []
        answered: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for answer in remote:
            if isinstance(answer, SourceFailure):
                warnings.append(answer.warning())
                outcomes.append((answer.registration_id, False))
                continue
            entities, total, source_more, failure = self._read_page(answer, tm, ids_only=ids_only)
            outcomes.append((str(answer.registration.get("id")), failure is None))
            if failure is not None:
                warnings.append(failure.warning())
                continue
            groups.append(entities)
            answered.append((answer.registration, entities))
            totals.append(total)
            more = more or source_more
        ordered = _by_id(local[0], groups)
        if ids_only:
            wanted = [entity_id for entity_id, _ in ordered[query.offset : window]]
            page = await self.fill_page(
                tenant, wanted, local[0], answered, tm, forward, warnings, outcomes
            )
        else:
            page = _page(ordered, query.offset, window, tm)
        self.record(tenant, outcomes)
        total = None
        if count:
            fetched = len(local[0]) + sum(len(g) for g in groups)
            duplicates = fetched - len(ordered)
            total = sum(t or 0 for t in totals) - duplicates
        docs = [orjson.dumps(e) for e in page]
        return FederatedResult(QueryResult(docs, total, more or len(ordered) > window), warnings)

    async def fill_page(
        self,
        tenant: str,
        page_ids: list[str],
        local: list[dict[str, Any]],
        answered: list[tuple[dict[str, Any], list[dict[str, Any]]]],
        tm: TermMap,
        forward: Forward,
        warnings: list[str],
        outcomes: list[tuple[str, bool]],
    ) -> list[dict[str, Any]]:
        """The page's entities in full: each source is asked for those of its ids on the
        page (clause 5.7.2 ``id``), and the versions are merged again."""
        if not page_ids:
            return []
        wanted = set(page_ids)
        local_by_id = {e["id"]: e for e in local if e["id"] in wanted}
        calls = []
        for registration, entities in answered:
            mine = sorted(e["id"] for e in entities if e["id"] in wanted)
            if mine:
                params = [(k, v) for k, v in forward.params if k not in ("id", "idPattern")]
                params += [
                    ("id", ",".join(mine)),
                    ("limit", str(len(mine))),
                    ("options", "sysAttrs"),
                ]
                if _localonly(registration):
                    params.append(("local", "true"))
                calls.append(self.sources.get(registration, "entities", forward, params))
        groups: list[list[dict[str, Any]]] = [list(local_by_id.values())]
        for answer in await asyncio.gather(*calls):
            if isinstance(answer, SourceFailure):
                warnings.append(answer.warning())
                outcomes.append((answer.registration_id, False))
                continue
            entities, _, _, failure = self._read_page(answer, tm, full=True)
            if failure is not None:
                warnings.append(failure.warning())
                outcomes.append((failure.registration_id, False))
                continue
            groups.append(entities)
        return [e for e in merge_all(groups) if e["id"] in wanted]  # id order, like the page

    async def _local(
        self, tenant: str, query: EntityQuery, count: bool
    ) -> tuple[list[dict[str, Any]], int | None, bool]:
        try:
            result = await self.hub.queries.query_entities(tenant, query, count=count)
        except NonexistentTenant:  # a regional hub may hold nothing itself
            return [], 0, False
        return result.entities, result.total, result.more

    async def _remote_query(
        self,
        registration: dict[str, Any],
        query: EntityQuery,
        window: int,
        forward: Forward,
        count: bool,
        *,
        ids_only: bool = False,
    ) -> SourceAnswer | SourceFailure:
        params = narrowed_params(registration, query, forward)
        params += [("limit", str(window))]
        params.append(("pick", "id") if ids_only else ("options", "sysAttrs"))
        if count:
            params.append(("count", "true"))
        return await self.sources.get(registration, "entities", forward, params)

    def _read_page(
        self, answer: SourceAnswer, tm: TermMap, *, ids_only: bool = False, full: bool = False
    ) -> tuple[list[dict[str, Any]], int | None, bool, SourceFailure | None]:
        if answer.status != 200 or not isinstance(answer.body, list):
            return [], None, False, answer.failure()
        # Items as sent (read later, and only those on the page); with pick=id, {"id"} only.
        entities = [
            item
            for item in answer.body
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]
        if not ids_only and full:
            entities = [e for e in (read_entity(item, tm) for item in entities) if e is not None]
        total_text = answer.headers.get("NGSILD-Results-Count")
        total = int(total_text) if total_text and total_text.isdigit() else None
        more = 'rel="next"' in answer.headers.get("Link", "")
        return entities, total, more, None

    # --- Retrieve Entity (5.7.1) ------------------------------------------------------------

    async def retrieve_entity(
        self, tenant: str, entity_id: str, tm: TermMap, forward: Forward
    ) -> tuple[dict[str, Any], list[str]] | None:
        """The entity merged from the store and every source that has it, with warnings;
        None when no source is concerned. ResourceNotFound when none has it."""
        regs = await self.plan(tenant, "retrieveEntity", forward, None, entity_id)
        if not regs:
            return None
        local_task = self._local_entity(tenant, entity_id)
        remote_tasks = [
            self.sources.get(
                r,
                f"entities/{_quote(entity_id)}",
                forward,
                [
                    *(p for p in forward.params if p[0] in ("attrs", "type")),
                    ("options", "sysAttrs"),
                    *((("local", "true"),) if _localonly(r) else ()),
                ],
            )
            for r in regs
        ]
        local, *remote = await asyncio.gather(local_task, *remote_tasks)
        versions = [local] if local is not None else []
        warnings: list[str] = []
        outcomes: list[tuple[str, bool]] = []
        for answer in remote:
            if isinstance(answer, SourceFailure):
                warnings.append(answer.warning())
                outcomes.append((answer.registration_id, False))
                continue
            outcomes.append((str(answer.registration.get("id")), answer.status in (200, 404)))
            if answer.status == 200:
                entity = read_entity(answer.body, tm)
                if entity is not None and entity.get("id") == entity_id:
                    versions.append(entity)
            elif answer.status != 404:
                warnings.append(answer.failure().warning())
        self.record(tenant, outcomes)
        if not versions:
            raise ResourceNotFound(
                f"Entity {entity_id} does not exist here or at its registered sources"
            )
        return merge_all([[v] for v in versions])[0], warnings

    async def _local_entity(self, tenant: str, entity_id: str) -> dict[str, Any] | None:
        try:
            return await self.hub.entities.retrieve_entity(tenant, entity_id)
        except NgsiLdError:
            return None


Version = tuple[bool, dict[str, Any]]  # (already in internal form, the entity or raw item)


def _by_id(
    local: list[dict[str, Any]], remote: list[list[dict[str, Any]]]
) -> list[tuple[str, list[Version]]]:
    """Every entity id the store or a source gave, in id order, with each one's version
    (the local store's first; source items as sent, read only when on the page)."""
    versions: dict[str, list[Version]] = {}
    for entity in local:
        versions.setdefault(entity["id"], []).append((True, entity))
    for group in remote:
        for item in group:
            versions.setdefault(item["id"], []).append((False, item))
    return [(entity_id, versions[entity_id]) for entity_id in sorted(versions)]


def _page(
    ordered: list[tuple[str, list[Version]]], offset: int, end: int, tm: TermMap
) -> list[dict[str, Any]]:
    """The page's entities, read and merged across sources (those no source sent validly
    are left out)."""
    page = []
    for _, versions in ordered[offset:end]:
        read = [item if internal else read_entity(item, tm) for internal, item in versions]
        kept = [entity for entity in read if entity is not None]
        if kept:
            page.append(kept[0] if len(kept) == 1 else merge_entities(kept))
    return page


def narrowed_params(
    registration: dict[str, Any], query: EntityQuery, forward: Forward
) -> list[tuple[str, str]]:
    """The request's selecting parameters as one source is asked them: ``type`` narrowed to
    the types the source registers, ``local=true`` for a localOnly registration."""
    params = [(k, v) for k, v in forward.params if k != "type"]
    types = _narrowed_types(query, registration)
    if types is not None:
        params.append(("type", types))
    elif "type" in dict(forward.params):
        params.append(("type", dict(forward.params)["type"]))
    if _localonly(registration):
        params.append(("local", "true"))
    return params


def _narrowed_types(query: EntityQuery, registration: dict[str, Any]) -> str | None:
    """The query's plain type list cut to the types the source registered (comma-joined
    IRIs); None to forward the type expression as the client wrote it."""
    if not isinstance(query.types, TypeName | TypeAny) or (
        isinstance(query.types, TypeAny)
        and not all(isinstance(i, TypeName) for i in query.types.items)
    ):
        return None
    asked = type_names(query.types) or frozenset()
    registered = registered_types(registration)
    kept = sorted(asked & registered) if registered else sorted(asked)
    return ",".join(kept) if kept else None


def _localonly(registration: dict[str, Any]) -> bool:
    management = registration.get("management")
    return isinstance(management, dict) and management.get("localOnly") is True


def _quote(entity_id: str) -> str:
    from urllib.parse import quote

    return quote(entity_id, safe=":")
