"""Feeds configured in the settings, run on their interval inside ``cityhub serve``.

Every worker runs the same loop; before a run each asks the store for the feed's lease
(``claim_feed_run``), so with N workers a feed still runs once per interval, and when the
worker that ran it dies another takes over at the next interval. A failing feed is logged,
counted and retried at its next turn; it never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter, FeedConfig, adapter_class
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.runner import FeedRunner
from cityhub.settings import Settings

log = logging.getLogger(__name__)
MIN_INTERVAL = 1.0


@dataclass
class ScheduledFeed:
    name: str  # unique among the configured feeds; the lease and report key
    adapter: FeedAdapter
    tenant: str
    interval: float


def feed_configs(raw: Sequence[dict[str, Any]]) -> list[FeedConfig]:
    """The ``feeds`` setting read into FeedConfigs; ValueError naming what is wrong."""
    configs = []
    for index, table in enumerate(raw):
        where = f"feeds[{index}]"
        unknown = set(table) - {"adapter", "tenant", "interval", "options", "name"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        adapter = table.get("adapter")
        if not isinstance(adapter, str) or not adapter:
            raise ValueError(f"{where}: adapter (a short name) is required")
        tenant = table.get("tenant")
        if tenant is not None and not isinstance(tenant, str):
            raise ValueError(f"{where}: tenant must be a string")
        interval = table.get("interval", 300)
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise ValueError(f"{where}: interval must be a number of seconds")
        if interval < MIN_INTERVAL:
            raise ValueError(f"{where}: interval must be at least {MIN_INTERVAL:g} seconds")
        options = table.get("options", {})
        if not isinstance(options, dict):
            raise ValueError(f"{where}: options must be a table")
        configs.append(FeedConfig(adapter, tenant, float(interval), dict(options)))
    return configs


def build_adapter(config: FeedConfig, settings: Settings) -> FeedAdapter:
    cls = adapter_class(config.adapter)
    api_key = str(getattr(settings, cls.key_setting, "")) if cls.key_setting else ""
    return cls(config.options, api_key=api_key)


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Values never to show in logs, reports or dead letters."""
    return tuple(
        key
        for key in (settings.seoul_api_key, settings.data_go_kr_api_key, settings.odpt_api_key)
        if key
    )


class FeedScheduler:
    def __init__(self, settings: Settings, runner: FeedRunner) -> None:
        self.settings = settings
        self.runner = runner
        self.feeds: list[ScheduledFeed] = []
        names: set[str] = set()
        for config in feed_configs(settings.feeds):
            adapter = build_adapter(config, settings)
            tenant = adapter.default_tenant if config.tenant is None else config.tenant
            name = f"{adapter.name}@{tenant}"
            suffix = 2
            while name in names:
                name, suffix = f"{adapter.name}@{tenant}#{suffix}", suffix + 1
            names.add(name)
            self.feeds.append(ScheduledFeed(name, adapter, tenant, config.interval))
        self._tasks: list[asyncio.Task[None]] = []
        self._fetcher: Fetcher | None = None

    def start(self) -> None:
        if not self.feeds or self._tasks:
            return
        self._fetcher = Fetcher(
            timeout=self.settings.feed_timeout,
            retries=self.settings.feed_retries,
            secrets=secrets_of(self.settings),
        )
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._loop(feed)) for feed in self.feeds]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._fetcher is not None:
            await self._fetcher.aclose()
            self._fetcher = None

    async def _loop(self, feed: ScheduledFeed) -> None:
        await asyncio.sleep(random.uniform(0, 1.0))  # workers starting together spread out
        while True:
            started = time.time()
            try:
                store = self.runner.store
                # The lease ends a little before the next turn so clock jitter never skips one.
                if await store.claim_feed_run(feed.name, started, started + feed.interval * 0.9):
                    assert self._fetcher is not None
                    report = await self.runner.run(feed.adapter, self._fetcher, feed.tenant)
                    await store.record_feed_run(feed.name, orjson.dumps(report.as_json()).decode())
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken feed must not stop the schedule
                log.exception("feed %s failed", feed.name)
            await asyncio.sleep(max(0.0, started + feed.interval - time.time()))
