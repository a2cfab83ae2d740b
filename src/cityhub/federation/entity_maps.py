"""EntityMaps (GS CIM 009 v1.8 clause 5.14; Query Entities with ``entityMap``, 5.7.2): the
ids of every entity a query matches, each with where it is held — ``@none`` for this hub's
own store, else the ids of the context source registrations that returned it — kept in the
store under a URN for a while (``expiresAt``).

Why: a federated query is answered from several hubs whose content moves while a client
pages through it. Without a map, page 2 is computed again from scratch (distributed.py asks
every source for its first offset+limit matches), which is exact for one moment but not
across moments and costs more the deeper the page. With a map, the set and order of
entities are fixed when the map is made; each page is a slice of it, fetched by id from
exactly the places that hold those entities. Every worker reads the same map from the
store, so the pages stay consistent whichever worker answers.

Asking: ``entityMap=true`` makes a map and answers its first page with the map's id in the
``NGSILD-EntityMap`` response header; a request carrying that header pages through the map
(a missing or expired map is made again, as clause 5.7.1.4 says for retrieval). The query's
filters still apply to each page, so an entity that stopped matching since is left out of
its page rather than shown as it no longer is. ``/entityMaps/{id}`` retrieves, updates
(``expiresAt``) and deletes maps (api/entity_maps.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from cityhub.errors import NonexistentTenant, TooManyResults
from cityhub.federation.remote import SourceFailure
from cityhub.jsonld.termmap import TermMap
from cityhub.query.ast import EntityQuery
from cityhub.storage.base import QueryResult

if TYPE_CHECKING:
    from cityhub.federation.distributed import FederatedResult, Federation, Forward

LOCAL = "@none"  # clause 5.2.39: the entity is held by this broker itself
LIFETIME_SECONDS = 3600.0
MAX_ENTITIES = 100_000  # ids one map may hold
ID_PAGE = 1000  # ids asked of a source (or the store) at a time
URN_PREFIX = "urn:ngsi-ld:EntityMap:"


@dataclass
class EntityMap:
    """Clause 5.2.39: ``entityMap`` maps each entity id to where it is held; members are
    kept in id order, the order of the pages."""

    id: str
    expires_at: float  # epoch seconds
    members: list[tuple[str, list[str]]] = field(default_factory=list)
    linked: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "EntityMap",
            "expiresAt": _iso(self.expires_at),
            "entityMap": dict(self.members),
            "linkedMaps": dict(self.linked),
        }

    def doc(self) -> str:
        return orjson.dumps(self.as_json()).decode()

    @classmethod
    def from_doc(cls, text: str) -> EntityMap:
        body = orjson.loads(text)
        expires = datetime.fromisoformat(str(body["expiresAt"]).replace("Z", "+00:00"))
        return cls(
            str(body["id"]),
            expires.timestamp(),
            [(str(k), [str(s) for s in v]) for k, v in body.get("entityMap", {}).items()],
            {str(k): str(v) for k, v in (body.get("linkedMaps") or {}).items()},
        )


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def map_id_of(reference: str) -> str:
    """The map's id from a ``NGSILD-EntityMap`` value: the URN itself, or a URL of
    /entityMaps/{id} (what some brokers send)."""
    reference = reference.strip()
    marker = "/entityMaps/"
    if marker in reference:
        reference = reference.rsplit(marker, 1)[1]
    return reference


class EntityMaps:
    """Making, keeping and paging through EntityMaps for one hub's federation."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation

    @property
    def store(self) -> Any:
        return self.federation.hub.store

    async def get(self, tenant: str, map_id: str) -> EntityMap | None:
        text = await self.store.get_entity_map(tenant, map_id, time.time())
        return None if text is None else EntityMap.from_doc(text)

    async def put(self, tenant: str, emap: EntityMap) -> None:
        await self.store.put_entity_map(tenant, emap.id, emap.expires_at, emap.doc(), time.time())

    async def delete(self, tenant: str, map_id: str) -> bool:
        deleted: bool = await self.store.delete_entity_map(tenant, map_id)
        return deleted

    # --- Query Entities through a map ------------------------------------------------------

    async def answer(
        self,
        tenant: str,
        query: EntityQuery,
        tm: TermMap,
        forward: Forward,
        *,
        reference: str | None,
        count: bool,
    ) -> FederatedResult:
        """A page of Query Entities through the map ``reference`` names (made anew when
        there is none, or it has expired)."""
        from cityhub.federation.distributed import FederatedResult

        warnings: list[str] = []
        emap = await self.get(tenant, map_id_of(reference)) if reference else None
        if emap is None:
            emap = await self.make(tenant, query, forward, warnings)
        page = await self.page(tenant, emap, query, tm, forward, warnings)
        end = query.offset + query.limit
        total = len(emap.members) if count else None
        result = QueryResult([orjson.dumps(e) for e in page], total, more=end < len(emap.members))
        return FederatedResult(result, warnings, entity_map=emap.id)

    async def make(
        self, tenant: str, query: EntityQuery, forward: Forward, warnings: list[str]
    ) -> EntityMap:
        """Every matching id from the store and every matching source, in id order."""
        federation = self.federation
        registrations = await federation.plan(tenant, "queryEntity", forward, query)
        local_ids = await self._local_ids(tenant, query)
        remote: list[list[str] | SourceFailure] = await asyncio.gather(
            *(self._remote_ids(r, query, forward) for r in registrations)
        )
        held: dict[str, list[str]] = {entity_id: [LOCAL] for entity_id in local_ids}
        outcomes: list[tuple[str, bool]] = []
        for registration, found in zip(registrations, remote, strict=True):
            reg_id = str(registration.get("id"))
            if isinstance(found, SourceFailure):
                warnings.append(found.warning())
                outcomes.append((reg_id, False))
                continue
            outcomes.append((reg_id, True))
            for entity_id in found:
                held.setdefault(entity_id, []).append(reg_id)
        federation.record(tenant, outcomes)
        if len(held) > MAX_ENTITIES:
            raise TooManyResults(
                f"The query matches {len(held):,} entities; an entity map holds at most "
                f"{MAX_ENTITIES:,}: narrow the query"
            )
        lifetime = LIFETIME_SECONDS
        emap = EntityMap(
            URN_PREFIX + str(uuid.uuid4()),
            time.time() + lifetime,
            sorted(held.items()),
        )
        await self.put(tenant, emap)
        return emap

    async def _local_ids(self, tenant: str, query: EntityQuery) -> list[str]:
        ids: list[str] = []
        offset = 0
        queries = self.federation.hub.queries
        while True:
            window = dataclasses.replace(query, offset=offset, limit=ID_PAGE)
            try:
                result = await queries.query_entities(tenant, window)
            except NonexistentTenant:  # a regional hub may hold nothing itself
                return ids
            ids.extend(str(entity["id"]) for entity in result.entities)
            if not result.more or len(ids) > MAX_ENTITIES:
                return ids
            offset += ID_PAGE

    async def _remote_ids(
        self, registration: dict[str, Any], query: EntityQuery, forward: Forward
    ) -> list[str] | SourceFailure:
        """The ids a source matches, page by page (``pick=id``)."""
        from cityhub.federation.distributed import narrowed_params

        base = narrowed_params(registration, query, forward)
        ids: list[str] = []
        offset = 0
        while True:
            params = [*base, ("limit", str(ID_PAGE)), ("offset", str(offset)), ("pick", "id")]
            answer = await self.federation.sources.get(registration, "entities", forward, params)
            if isinstance(answer, SourceFailure):
                return answer
            if answer.status != 200 or not isinstance(answer.body, list):
                return answer.failure()
            page = [
                str(item["id"])
                for item in answer.body
                if isinstance(item, dict) and isinstance(item.get("id"), str)
            ]
            ids.extend(page)
            more = 'rel="next"' in answer.headers.get("Link", "")
            if not page or not more or len(ids) > MAX_ENTITIES:
                return ids
            offset += len(page)

    async def page(
        self,
        tenant: str,
        emap: EntityMap,
        query: EntityQuery,
        tm: TermMap,
        forward: Forward,
        warnings: list[str],
    ) -> list[dict[str, Any]]:
        """The entities of one slice of the map, fetched by id where the map says they are
        held and merged (distributed.py), the query's filters applied again."""
        federation = self.federation
        members = emap.members[query.offset : query.offset + query.limit]
        if not members:
            return []
        page_ids = [entity_id for entity_id, _ in members]
        local_ids = [entity_id for entity_id, where in members if LOCAL in where]
        local: list[dict[str, Any]] = []
        if local_ids:
            narrowed = dataclasses.replace(
                query, ids=tuple(local_ids), offset=0, limit=len(local_ids)
            )
            try:
                local = (await federation.hub.queries.query_entities(tenant, narrowed)).entities
            except NonexistentTenant:
                local = []
        by_source: dict[str, list[dict[str, Any]]] = {}
        for entity_id, where in members:
            for reg_id in where:
                if reg_id != LOCAL:
                    by_source.setdefault(reg_id, []).append({"id": entity_id})
        answered: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        if by_source:
            known = {str(r.get("id")): r for r in await federation.registrations(tenant)}
            for reg_id, entities in by_source.items():
                registration = known.get(reg_id)
                if registration is None:
                    warnings.append(
                        f'199 cityhub "registration {reg_id} of this entity map is gone"'
                    )
                    continue
                answered.append((registration, entities))
        outcomes: list[tuple[str, bool]] = []
        entities = await federation.fill_page(
            tenant, page_ids, local, answered, tm, forward, warnings, outcomes
        )
        federation.record(tenant, outcomes)
        return entities
