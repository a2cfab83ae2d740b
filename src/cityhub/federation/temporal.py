"""Distributed temporal operations (clause 4.3.6): Retrieve Temporal Evolution of an Entity
(5.7.3) and Query Temporal Evolution of Entities (5.7.4) answered from the local store and
every matching context source at once (asked through federation/temporal_sources.py),
merged (federation/temporal_merge.py).

* **Which sources**: registrations in force that serve ``retrieveTemporal`` or
  ``queryTemporal`` — no operation group of Table 4.20-2 includes them, so a registration
  names them itself (``"operations": ["federationOps", "retrieveTemporal",
  "queryTemporal"]``) — and cover the types, ids and attributes asked. A registration whose
  ``observationInterval`` (observedAt) or ``managementInterval`` (the other time
  properties) lies wholly outside the query's range holds nothing for it and is not asked
  (clause 5.2.9).
* **What is asked**: the normalized form with sysAttrs, whatever the client asked for, so
  the answers merge instance by instance and the hub renders the merged answer itself like
  a local one (concise, temporalValues, lang, pick/omit, instanceIds). ``aggregatedValues``:
  an entity only one place holds is aggregated there (the store in SQL; a source's answer
  passed on as it came); an entity several places hold is aggregated here over the merged
  raw instances with the store's own rules, never by combining averages.
* **Pages** (5.7.4): entities in id order, as federation/distributed.py pages Query
  Entities: every place is asked for its first ``offset + limit`` matching entities (ids
  only, with ``lastN=1``, unless the first page can be fetched whole); the union in id order
  holds the page, whose entities are then fetched by id from the places that hold them.
  ``count=true`` adds the places' counts minus the duplicates seen.
* **Failures**: a source that fails or is slow is left out and named in an
  ``NGSILD-Warning``; ``local=true`` or a ``Via`` naming this hub answers from the store
  alone; outcomes count in the registration's status members (``Federation.record``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cityhub.errors import BadRequestData, NgsiLdError, ResourceNotFound, TooManyResults
from cityhub.federation.distributed import MAX_WINDOW, Federation, Forward
from cityhub.federation.remote import SourceAnswer, SourceFailure
from cityhub.federation.sharing import Partner
from cityhub.federation.temporal_merge import (
    aggregate,
    cut,
    keep_last,
    merge_records,
    partial_bound,
    unite,
)
from cityhub.federation.temporal_sources import Ask, Incoming, Place, TemporalSources, holds_range
from cityhub.jsonld.termmap import TermMap
from cityhub.model.history import TemporalInstance
from cityhub.query.ast import EntityQuery
from cityhub.query.temporal import TemporalQuery
from cityhub.services.temporal import TemporalAnswer

if TYPE_CHECKING:
    from cityhub.hub import Hub

_ANY_LIMIT = sys.maxsize


@dataclass
class TemporalResult:
    """The answer to render, the sources left out, and the aggregated attributes of the
    entities a single source holds, as it sent them (by entity id)."""

    answer: TemporalAnswer
    warnings: list[str] = field(default_factory=list)
    passed: dict[str, dict[str, Any]] = field(default_factory=dict)


def _place_of(answer: TemporalAnswer) -> Place:
    place = Place("", total=answer.total, more=answer.more)
    place.records = {r.entity_id: r for r in answer.entities}
    place.instances = answer.instances
    place.partial = answer.content_range is not None
    place.aggregates, place.periods = answer.aggregates, answer.periods
    return place


class TemporalFederation:
    """The temporal API's distributed operations over one hub's store and sources."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.federation: Federation = hub.federation
        self.asking = TemporalSources(hub.federation.sources)

    # --- Retrieve Temporal Evolution of an Entity (5.7.3) -----------------------------------

    async def retrieve(
        self, tenant: str, entity_id: str, ask: Ask, tm: TermMap, forward: Forward
    ) -> TemporalResult:
        """The entity's evolution merged from the store and every source that has it;
        ResourceNotFound when none has it."""
        regs = await self._plan(
            tenant, "retrieveTemporal", forward, EntityQuery(ids=(entity_id,), attrs=ask.attrs), ask
        )
        if not regs:
            answer = await self.hub.temporal.retrieve(
                tenant, entity_id, ask.tq, ask.attrs, ask.datasets, ask.aggregation
            )
            return TemporalResult(answer)
        result = TemporalResult(TemporalAnswer([]))
        outcomes: list[tuple[str, bool]] = []
        aggregated = ask.aggregation is not None
        local_task = self._local_entity(tenant, entity_id, ask, aggregated=aggregated)
        asks = [self.asking.one(r, entity_id, ask, forward, aggregated=aggregated) for r in regs]
        local, answers = await asyncio.gather(local_task, asyncio.gather(*asks))
        places = [local] if local is not None else []
        holders: dict[str, dict[str, Any]] = {}
        for registration, sent in zip(regs, answers, strict=True):
            place = self.asking.read(
                sent,
                tm,
                ask.tq,
                result.warnings,
                outcomes,
                aggregated=aggregated,
                missing_ok=True,
            )
            if place is not None and entity_id in place.records:
                places.append(place)
                holders[place.source] = registration
        if aggregated and len(places) > 1:  # several hold it: aggregate their raw instances
            raw = dataclasses.replace(ask.tq, last_n=None)
            local_task = self._local_entity(tenant, entity_id, ask, aggregated=False, tq=raw)
            again = [
                self.asking.one(r, entity_id, ask, forward, aggregated=False, tq=raw)
                for r in holders.values()
            ]
            local_raw, answers = await asyncio.gather(
                local_task if local is not None else _nothing(), asyncio.gather(*again)
            )
            places = [local_raw] if local_raw is not None else []
            for sent in answers:
                place = self.asking.read(
                    sent, tm, raw, result.warnings, outcomes, aggregated=False, missing_ok=True
                )
                if place is not None and entity_id in place.records:
                    places.append(place)
            self._merge(result, [entity_id], {entity_id: places}, ask, combine=True)
        else:
            self._merge(result, [entity_id], {entity_id: places}, ask, combine=False)
        self.federation.record(tenant, outcomes)
        if not result.answer.entities:
            raise ResourceNotFound(
                f"Entity {entity_id} has no temporal evolution here or at its registered sources"
            )
        return result

    async def _local_entity(
        self,
        tenant: str,
        entity_id: str,
        ask: Ask,
        *,
        aggregated: bool,
        tq: TemporalQuery | None = None,
    ) -> Place | None:
        try:
            answer = await self.hub.temporal.retrieve(
                tenant,
                entity_id,
                tq or ask.tq,
                ask.attrs,
                ask.datasets,
                ask.aggregation if aggregated else None,
            )
        except NgsiLdError:  # not here (or no such tenant here): the sources may have it
            return None
        return _place_of(answer)

    # --- Query Temporal Evolution of Entities (5.7.4) ---------------------------------------

    async def query(
        self,
        tenant: str,
        query: EntityQuery,
        ask: Ask,
        tm: TermMap,
        forward: Forward,
        incoming: Incoming,
        *,
        count: bool,
    ) -> TemporalResult:
        """One page of entities in id order, merged from the store and the sources."""
        regs = await self._plan(tenant, "queryTemporal", forward, query, ask)
        if not regs:
            answer = await self.hub.temporal.query(
                tenant, query, ask.tq, ask.datasets, ask.aggregation, count=count
            )
            return TemporalResult(answer)
        self._check_page(query, count)
        window = query.offset + query.limit
        whole = ask.aggregation is None and query.offset == 0  # the first page in one go
        lite = dataclasses.replace(ask.tq, last_n=ask.tq.last_n if whole else 1)
        result = TemporalResult(TemporalAnswer([]))
        outcomes: list[tuple[str, bool]] = []
        local_task = self._local_query(
            tenant, dataclasses.replace(query, offset=0, limit=window), lite, ask, count=count
        )
        asks = [
            self.asking.window(r, ask, lite, forward, incoming, window, count=count) for r in regs
        ]
        local, answers = await asyncio.gather(local_task, asyncio.gather(*asks))
        windows = [local]
        sources: dict[str, dict[str, Any]] = {}
        for registration, sent in zip(regs, answers, strict=True):
            place = self.asking.read(sent, tm, lite, result.warnings, outcomes, aggregated=False)
            if place is not None:
                windows.append(place)
                sources[place.source] = registration
        ordered = sorted({i for place in windows for i in place.records})
        page = ordered[query.offset : window]
        if whole:
            holders = {i: [p for p in windows if i in p.records] for i in page}
            self._merge(result, page, holders, ask, combine=False)
        else:
            holders = await self._fill(
                tenant, page, windows, sources, ask, tm, forward, result.warnings, outcomes
            )
            self._merge(result, page, holders, ask, combine=ask.aggregation is not None)
        self.federation.record(tenant, outcomes)
        if count:
            fetched = sum(len(p.records) for p in windows)
            result.answer.total = sum(p.total or 0 for p in windows) - (fetched - len(ordered))
        result.answer.more = any(p.more for p in windows) or len(ordered) > window
        return result

    def _check_page(self, query: EntityQuery, count: bool) -> None:
        if query.limit == 0 and not count:
            raise BadRequestData("limit=0 is only allowed together with count=true")
        if query.limit > self.hub.temporal.max_limit:
            raise TooManyResults(
                f"limit {query.limit} is above this hub's maximum of {self.hub.temporal.max_limit}"
            )
        if query.offset + query.limit > MAX_WINDOW:
            raise TooManyResults(
                f"A federated temporal query reaches entities up to offset+limit = {MAX_WINDOW}"
            )

    async def _local_query(
        self,
        tenant: str,
        query: EntityQuery,
        tq: TemporalQuery,
        ask: Ask,
        *,
        count: bool = False,
        aggregated: bool = False,
    ) -> Place:
        try:
            answer = await self.hub.temporal.query(
                tenant,
                query,
                tq,
                ask.datasets,
                ask.aggregation if aggregated else None,
                count=count,
            )
        except NgsiLdError as error:
            if error.status != 404:  # a regional hub may hold nothing itself (no tenant)
                raise
            return Place("", total=0)
        return _place_of(answer)

    async def _fill(
        self,
        tenant: str,
        page: list[str],
        windows: list[Place],
        sources: dict[str, dict[str, Any]],
        ask: Ask,
        tm: TermMap,
        forward: Forward,
        warnings: list[str],
        outcomes: list[tuple[str, bool]],
    ) -> dict[str, list[Place]]:
        """The page's entities in full from the places that hold them (aggregated where one
        place alone holds an entity, raw where several must be combined), by entity id."""
        held: dict[str, list[str]] = {
            i: [p.source for p in windows if i in p.records] for i in page
        }
        combined = ask.aggregation is not None
        raw = dataclasses.replace(ask.tq, last_n=None) if combined else ask.tq
        calls: list[tuple[Awaitable[Place | SourceAnswer | SourceFailure], bool]] = []
        for source in ["", *sources]:
            mine = [i for i in page if source in held[i]]
            alone = [i for i in mine if len(held[i]) == 1] if combined else []
            shared = [i for i in mine if i not in alone]
            for ids, aggregated in ((alone, True), (shared, False)):
                if not ids:
                    continue
                tq = ask.tq if aggregated else raw
                if source == "":
                    selected = EntityQuery(ids=tuple(ids), attrs=ask.attrs, limit=len(ids))
                    call: Awaitable[Place | SourceAnswer | SourceFailure] = self._local_query(
                        tenant, selected, tq, ask, aggregated=aggregated
                    )
                else:
                    call = self.asking.ids(sources[source], ids, ask, tq, forward, aggregated)
                calls.append((call, aggregated))
        holders: dict[str, list[Place]] = {i: [] for i in page}
        answers = await asyncio.gather(*(call for call, _ in calls))
        for answer, (_, aggregated) in zip(answers, calls, strict=True):
            if isinstance(answer, Place):
                place: Place | None = answer
            else:
                tq = ask.tq if aggregated else raw
                place = self.asking.read(answer, tm, tq, warnings, outcomes, aggregated=aggregated)
            if place is None:
                continue
            for entity_id in place.records:
                if entity_id in holders:
                    holders[entity_id].append(place)
        return holders

    # --- merging ----------------------------------------------------------------------------

    def _merge(
        self,
        result: TemporalResult,
        page: list[str],
        holders: dict[str, list[Place]],
        ask: Ask,
        *,
        combine: bool,
    ) -> None:
        """The page's entities from the places that delivered them: records merged,
        instances united (and aggregated here where ``combine`` and several places hold an
        entity), cut to what every place answered in full."""
        answer = result.answer
        tq = dataclasses.replace(ask.tq, last_n=None) if combine else ask.tq
        united: list[list[TemporalInstance]] = []
        partial: dict[int, Place] = {}
        for entity_id in page:
            places = holders.get(entity_id) or []
            if not places:
                continue
            answer.entities.append(merge_records([p.records[entity_id] for p in places]))
            for place in places:
                if entity_id in place.aggregates:
                    answer.aggregates[entity_id] = place.aggregates[entity_id]
                    answer.periods[entity_id] = place.periods[entity_id]
                elif entity_id in place.passed:
                    result.passed[entity_id] = place.passed[entity_id]
            united += [p.instances.get(entity_id, []) for p in places]
            partial.update((id(p), p) for p in places if p.partial)
        # A partial answer is complete up to the same time for every entity it holds.
        bounds = [
            bound
            for place in partial.values()
            if (bound := partial_bound(_all(place.instances), tq)) is not None
        ]
        instances = keep_last(unite(united), tq.last_n)
        limit = _ANY_LIMIT if combine else self.hub.temporal.instance_limit
        kept, answer.content_range = cut(instances, tq, limit, bounds)
        for item in kept:
            answer.instances.setdefault(item.entity_id, []).append(item)
        if combine and ask.aggregation is not None:
            for entity_id, items in answer.instances.items():
                rows, periods = aggregate(items, tq, ask.aggregation)
                if periods is not None and rows:
                    answer.aggregates[entity_id], answer.periods[entity_id] = rows, periods
            answer.instances = {}

    # --- asking sources ---------------------------------------------------------------------

    async def _plan(
        self, tenant: str, operation: str, forward: Forward, query: EntityQuery, ask: Ask
    ) -> list[dict[str, Any]]:
        if ask.attrs is not None and not ask.attrs:
            return []
        regs = await self.federation.plan(tenant, operation, forward, query)
        return [r for r in regs if holds_range(r, ask.tq)]


async def _nothing() -> None:
    return None


def _all(instances: dict[str, list[TemporalInstance]]) -> list[TemporalInstance]:
    return [i for items in instances.values() for i in items]


# --- sharing (federation/sharing.py) -------------------------------------------------------


def shown(result: TemporalResult, partner: Partner, tm: TermMap) -> TemporalResult:
    """The result as a partner may see it: entities of shared types only, with their shared
    attributes only — instances, aggregates and aggregated attributes passed on alike."""
    answer = result.answer
    kept = [r for r in answer.entities if partner.types & set(r.types)]
    allowed = {r.entity_id: partner.shared_attributes(r.types) for r in kept}

    def visible(entity_id: str, attr: str) -> bool:
        names = allowed[entity_id]
        return names is None or attr in names

    seen = TemporalAnswer(
        kept,
        instances={
            e: [i for i in items if visible(e, i.attr)]
            for e, items in answer.instances.items()
            if e in allowed
        },
        aggregates={
            e: [r for r in rows if visible(e, r.attr)]
            for e, rows in answer.aggregates.items()
            if e in allowed
        },
        periods={e: p for e, p in answer.periods.items() if e in allowed},
        content_range=answer.content_range,
        total=answer.total,
        more=answer.more,
    )
    passed = {
        e: {name: value for name, value in attrs.items() if visible(e, tm.expand(name))}
        for e, attrs in result.passed.items()
        if e in allowed
    }
    return TemporalResult(seen, result.warnings, passed)
