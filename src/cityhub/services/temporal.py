"""Temporal Context Information Consumption (clauses 5.7.3, 5.7.4) and history retention.

The store selects entities and returns instances (at most the instance limit per attribute,
plus one that tells whether more exist) or per-period sums; this module cuts a partial
answer to one time range every attribute shares (clause 6.3.10: ``206`` with
``Content-Range: date-time <start>-<end>/<lastN or *>``), and works out aggregation periods.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cityhub.errors import BadRequestData, ResourceNotFound, TooComplexQuery, TooManyResults
from cityhub.model.history import AggregateRow, TemporalEntityRecord, TemporalInstance
from cityhub.model.temporal_representation import Periods
from cityhub.query.ast import EntityQuery
from cityhub.query.temporal import (
    MAX_BUCKETS,
    Aggregation,
    TemporalQuery,
    format_micros,
)
from cityhub.services.tenants import require_tenant
from cityhub.settings import Settings
from cityhub.storage.base import Store

log = logging.getLogger(__name__)
RETENTION_INTERVAL = 3600.0  # seconds between two retention runs of a hub
_DAY = 86_400 * 1_000_000


@dataclass
class TemporalAnswer:
    """The entities of a temporal answer with their instances or aggregates, and the time
    range it covers when it is partial (``content_range``)."""

    entities: list[TemporalEntityRecord]
    instances: dict[str, list[TemporalInstance]] = field(default_factory=dict)
    aggregates: dict[str, list[AggregateRow]] = field(default_factory=dict)
    periods: dict[str, Periods] = field(default_factory=dict)
    content_range: str | None = None
    total: int | None = None
    more: bool = False


def _cut(
    instances: list[TemporalInstance], tq: TemporalQuery, limit: int
) -> tuple[list[TemporalInstance], str | None]:
    """Trim what the store returned (up to limit + 1 per attribute) to the instance limit and
    one common range; the Content-Range of that range when anything was left out."""
    groups: dict[tuple[str, str, str], list[TemporalInstance]] = {}
    for item in instances:
        groups.setdefault((item.entity_id, item.attr, item.dataset_id), []).append(item)
    backward = tq.last_n is not None
    truncated = [g for g in groups.values() if len(g) > limit]
    if not truncated or (backward and tq.last_n is not None and tq.last_n <= limit):
        return instances, None
    if backward:
        # Newest first: drop each truncated group's oldest; keep what is at or after the
        # newest of those groups' oldest kept times.
        boundary = max(g[-limit].time for g in truncated)
        kept = [i for i in instances if i.time >= boundary]
        newest = max((i.time for i in kept), default=boundary)
        start = tq.end_time_at if tq.timerel == "between" else tq.time_at
        if tq.timerel not in {"before", "between"} or start is None:
            start = newest
        size = str(tq.last_n)
    else:
        boundary = min(g[limit - 1].time for g in truncated)
        kept = [i for i in instances if i.time <= boundary]
        oldest = min((i.time for i in kept), default=boundary)
        start = tq.time_at if tq.timerel in {"after", "between"} and tq.time_at else oldest
        size = "*"
    return kept, f"date-time {format_micros(start)}-{format_micros(boundary)}/{size}"


def calendar_bounds(origin: int, first: int, last: int, aggregation: Aggregation) -> list[int]:
    """Starts of the calendar periods (P1M, P1Y, …) from the one holding ``first`` to past
    ``last``, aligned on ``origin``."""
    period = aggregation.period
    start, steps = origin, 0
    while start > first:
        steps -= 1
        start = period.add_to(origin, steps)
    bounds = [start]
    while bounds[-1] <= last:
        steps += 1
        bounds.append(period.add_to(origin, steps))
        if len(bounds) > MAX_BUCKETS:
            raise TooComplexQuery(
                f"The aggregation spans more than {MAX_BUCKETS} periods of aggrPeriodDuration"
            )
    return bounds


class TemporalService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.instance_limit = settings.temporal_instance_limit
        self.max_limit = settings.query_max_limit
        self._retention: asyncio.Task[None] | None = None

    # --- consumption ----------------------------------------------------------------------

    async def retrieve(
        self,
        tenant: str,
        entity_id: str,
        tq: TemporalQuery,
        attrs: frozenset[str] | None,
        datasets: frozenset[str] | None,
        aggregation: Aggregation | None,
    ) -> TemporalAnswer:
        """Retrieve Temporal Evolution of an Entity (5.7.3); ResourceNotFound when it has
        none, or none of ``attrs``."""
        await require_tenant(self.store, tenant)
        record = await self.store.temporal_entity(tenant, entity_id) or await self._unrecorded(
            tenant, entity_id
        )
        if record is None:
            raise ResourceNotFound(f"Entity {entity_id} has no temporal evolution")
        answer = TemporalAnswer([record])
        await self._fill(tenant, answer, tq, attrs, datasets, aggregation)
        found = answer.aggregates if aggregation else answer.instances
        if attrs is not None and not found.get(entity_id):
            anytime = TemporalQuery(timeproperty="createdAt")
            first, _ = await self.store.temporal_span(tenant, [entity_id], attrs, anytime)
            if first is None:
                raise ResourceNotFound(
                    f"Entity {entity_id} has no temporal evolution of the attributes asked for"
                )
        return answer

    async def _unrecorded(self, tenant: str, entity_id: str) -> TemporalEntityRecord | None:
        """The record of an entity whose instances were recorded without one: the record
        moves only with creation, deletion, types and scope (model/history.py), so an entity
        whose history was deleted (5.6.16), or created while recording was off, has none
        until then. Its current state stands in."""
        anytime = TemporalQuery(timeproperty="createdAt")
        first, _ = await self.store.temporal_span(tenant, [entity_id], None, anytime)
        current = None if first is None else await self.store.get_entity(tenant, entity_id)
        if current is None:
            return None
        scopes = current.get("scope")
        return TemporalEntityRecord(
            entity_id,
            list(current["type"]),
            list(scopes) if scopes else None,
            current["createdAt"],
            current["modifiedAt"],
            None,
        )

    async def query(
        self,
        tenant: str,
        query: EntityQuery,
        tq: TemporalQuery,
        datasets: frozenset[str] | None,
        aggregation: Aggregation | None,
        *,
        count: bool = False,
    ) -> TemporalAnswer:
        """Query Temporal Evolution of Entities (5.7.4): one page of entities in id order."""
        if query.limit < 0 or query.offset < 0:
            raise BadRequestData("limit and offset must not be negative")
        if query.limit == 0 and not count:
            raise BadRequestData("limit=0 is only allowed together with count=true")
        if query.limit > self.max_limit:
            raise TooManyResults(
                f"limit {query.limit} is above this hub's maximum of {self.max_limit}"
            )
        await require_tenant(self.store, tenant)
        records, total, more = await self.store.temporal_page(tenant, query, tq, count=count)
        answer = TemporalAnswer(records, total=total, more=more)
        await self._fill(tenant, answer, tq, query.attrs, datasets, aggregation)
        return answer

    async def _fill(
        self,
        tenant: str,
        answer: TemporalAnswer,
        tq: TemporalQuery,
        attrs: frozenset[str] | None,
        datasets: frozenset[str] | None,
        aggregation: Aggregation | None,
    ) -> None:
        ids = [record.entity_id for record in answer.entities]
        if not ids:
            return
        if aggregation is not None:
            for entity_id, periods in await self._periods(tenant, ids, tq, attrs, aggregation):
                rows = await self.store.temporal_aggregates(
                    tenant,
                    [entity_id] if entity_id else ids,
                    attrs,
                    datasets,
                    tq,
                    periods.origin,
                    periods.period,
                    periods.bounds,
                )
                for row in rows:
                    answer.aggregates.setdefault(row.entity_id, []).append(row)
                    answer.periods[row.entity_id] = periods
            return
        limit = self.instance_limit
        per_attribute = min(tq.last_n, limit) if tq.last_n is not None else limit
        if tq.last_n is None or tq.last_n > limit:
            per_attribute = limit + 1
        found = await self.store.temporal_instances(tenant, ids, attrs, datasets, tq, per_attribute)
        kept, answer.content_range = _cut(found, tq, limit)
        for item in kept:
            answer.instances.setdefault(item.entity_id, []).append(item)

    async def _periods(
        self,
        tenant: str,
        ids: Sequence[str],
        tq: TemporalQuery,
        attrs: frozenset[str] | None,
        aggregation: Aggregation,
    ) -> list[tuple[str, Periods]]:
        """The periods of each aggregation query: one for every entity when they share an
        origin (timeAt), else one per entity starting at its oldest instance in range.
        ("" stands for all entities.)"""
        period = aggregation.period
        whole = Periods(start=tq.start, end=tq.end)
        if period.zero:
            return [("", whole)]
        if tq.time_at is not None and not period.months:
            return [("", Periods(origin=tq.time_at, period=period.micros))]
        plans: list[tuple[str, Periods]] = []
        groups = [("", list(ids))] if tq.time_at is not None else [(i, [i]) for i in ids]
        for key, members in groups:
            first, last = await self.store.temporal_span(tenant, members, attrs, tq)
            if first is None or last is None:
                continue
            origin = tq.time_at if tq.time_at is not None else first
            if period.months:
                plans.append(
                    (key, Periods(bounds=calendar_bounds(origin, first, last, aggregation)))
                )
            else:
                plans.append((key, Periods(origin=origin, period=period.micros)))
        return plans

    # --- retention --------------------------------------------------------------------------

    def _cutoffs(self, tenants: Sequence[str], now: float) -> dict[str, int]:
        """Per tenant, the recording time before which instances go (µs); tenants that
        keep everything are left out."""
        default = self.settings.temporal_retention_days
        overrides = self.settings.retention_by_tenant()
        cutoffs: dict[str, int] = {}
        for tenant in tenants:
            days = overrides.get(tenant, default)
            if days > 0:
                cutoffs[tenant] = int(now * 1_000_000) - int(days * _DAY)
        return cutoffs

    async def apply_retention(self, now: float | None = None) -> int:
        """Drop history older than each tenant's retention; returns the instances dropped
        (whole partitions, which need no counting, are not included)."""
        moment = time.time() if now is None else now
        tenants = await self.store.history_tenants()
        cutoffs = self._cutoffs(tenants, moment)
        if not cutoffs:
            return 0
        overrides = self.settings.retention_by_tenant()
        keeps_all = self.settings.temporal_retention_days <= 0 or any(
            days <= 0 for days in overrides.values()
        )
        if not keeps_all and len(cutoffs) == len(tenants):
            # Every tenant forgets: months older than the longest retention go whole.
            await self.store.drop_history_before(min(cutoffs.values()))
        removed = 0
        for tenant, cutoff in cutoffs.items():
            removed += await self.store.prune_history(tenant, cutoff)
        return removed

    def start_retention(self) -> None:
        """Run retention hourly in the background (when any retention is set)."""
        configured = self.settings.temporal_retention_days > 0 or any(
            days > 0 for days in self.settings.retention_by_tenant().values()
        )
        if configured and self._retention is None:
            self._retention = asyncio.get_running_loop().create_task(self._retain())

    async def _retain(self) -> None:
        while True:
            try:
                removed = await self.apply_retention()
                if removed:
                    log.info("Retention dropped %d history instances", removed)
            except Exception:  # the next run tries again
                log.exception("History retention failed")
            await asyncio.sleep(RETENTION_INTERVAL)

    async def stop_retention(self) -> None:
        task, self._retention = self._retention, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
