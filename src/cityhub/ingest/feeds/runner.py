"""Running a feed adapter: fetch, map, write what changed, dead-letter what could not be.

Entities are written with :meth:`BatchService.sync` (upsert that leaves unchanged content
alone), in batches of up to 500 per @context, so re-reading a feed every few minutes costs a
read and no history. Rejected records and entities the hub refuses become dead letters with
their reason and raw input; the rest of the payload is stored (issue 6: bad data never hurts).
Counters per feed are kept for ``GET /ingest/feeds`` and ``cityhub ingest``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from cityhub.errors import NgsiLdError
from cityhub.ingest.feeds.base import FeedAdapter
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.records import Entity, Item, Rejected
from cityhub.jsonld.termmap import TermMap
from cityhub.model.values import now_iso
from cityhub.services.batch import BatchService
from cityhub.services.contexts import ContextService
from cityhub.storage.base import DeadLetter, Store

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class RunReport:
    """What one run of a feed did."""

    feed: str
    tenant: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = None  # the feed could not be fetched at all
    seconds: float = 0.0
    finished_at: str = ""

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class FeedCounters:
    """Totals since the process started, per feed (metrics)."""

    runs: int = 0
    failed_runs: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    last: RunReport | None = field(default=None)

    def add(self, report: RunReport) -> None:
        self.runs += 1
        self.failed_runs += report.error is not None
        self.created += report.created
        self.updated += report.updated
        self.unchanged += report.unchanged
        self.rejected += report.rejected
        self.last = report


class FeedRunner:
    """Writes adapters' output into the store through the batch service."""

    def __init__(self, store: Store, contexts: ContextService, batch: BatchService) -> None:
        self.store = store
        self.contexts = contexts
        self.batch = batch
        self.counters: dict[str, FeedCounters] = {}

    async def run(self, adapter: FeedAdapter, fetcher: Fetcher, tenant: str) -> RunReport:
        """Fetch the feed now and store what it says."""
        started = time.perf_counter()
        try:
            items = await adapter.collect(fetcher)
        except FetchError as exc:
            report = RunReport(adapter.name, tenant, error=str(exc))
        else:
            report = await self.store_items(adapter.name, tenant, items)
        report.seconds = round(time.perf_counter() - started, 3)
        report.finished_at = now_iso()
        self.counters.setdefault(adapter.name, FeedCounters()).add(report)
        if report.error:
            log.warning("feed %s (tenant %r) failed: %s", adapter.name, tenant, report.error)
        return report

    async def store_items(self, feed: str, tenant: str, items: Sequence[Item]) -> RunReport:
        """Store mapped items (from a live fetch or a replayed sample)."""
        report = RunReport(feed, tenant)
        letters: list[DeadLetter] = []
        received = now_iso()
        entities: list[Entity] = []
        for item in items:
            if isinstance(item, Rejected):
                where = f"#{item.where}" if item.where else ""
                letters.append(
                    DeadLetter(tenant, f"feed:{feed}{where}", item.reason, item.raw, received)
                )
            else:
                entities.append(item)
        for round_entities in _rounds(entities):
            for context_key, group in _by_context(round_entities).items():
                tm: TermMap | NgsiLdError
                try:
                    tm = await self.contexts.resolve(orjson.loads(context_key))
                except NgsiLdError as exc:
                    tm = exc
                for start in range(0, len(group), BATCH):
                    chunk = group[start : start + BATCH]
                    body = [{k: v for k, v in e.items() if k != "@context"} for e in chunk]
                    result = await self.batch.sync(tenant, body, [tm] * len(chunk))
                    report.created += len(result.created)
                    report.updated += len(result.success) - len(result.created)
                    report.unchanged += len(result.unchanged)
                    raw_of = {e["id"]: e for e in chunk}
                    for entity_id, error in result.errors:
                        raw = orjson.dumps(raw_of.get(entity_id or "", {})).decode()
                        letters.append(
                            DeadLetter(
                                tenant, f"feed:{feed}#{entity_id}", error.detail, raw, received
                            )
                        )
        report.rejected = len(letters)
        if letters:
            await self.store.add_dead_letters(letters)
        return report


def _rounds(entities: list[Entity]) -> list[list[Entity]]:
    """Split so no id appears twice in one round: two records of one entity in a payload are
    both stored, in order (a batch may name an entity only once, clause 5.6.8)."""
    rounds: list[list[Entity]] = []
    seen: list[set[str]] = []
    for entity in entities:
        entity_id = str(entity.get("id"))
        for index, ids in enumerate(seen):
            if entity_id not in ids:
                ids.add(entity_id)
                rounds[index].append(entity)
                break
        else:
            seen.append({entity_id})
            rounds.append([entity])
    return rounds


def _by_context(entities: list[Entity]) -> dict[str, list[Entity]]:
    groups: dict[str, list[Entity]] = {}
    for entity in entities:
        key = orjson.dumps(entity.get("@context")).decode()
        groups.setdefault(key, []).append(entity)
    return groups
