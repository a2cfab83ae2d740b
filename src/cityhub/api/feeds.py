"""The open-data feeds a hub knows and runs: ``GET /ingest/adapters`` (what can be run) and
``GET /ingest/feeds`` (what this hub runs on a schedule, with each feed's last run and this
worker's counters). Read-only; feeds are configured in the settings (``[[feeds]]``)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.common import hub_of
from cityhub.api.negotiation import JSON, json_response
from cityhub.ingest.feeds.base import adapters


async def list_adapters(request: Request) -> Response:
    """GET /ingest/adapters — every feed adapter this hub can run."""
    items = [
        {
            "name": cls.name,
            "title": cls.title,
            "defaultTenant": cls.default_tenant,
            "apiKeySetting": cls.key_setting,
        }
        for cls in adapters()
    ]
    return json_response(items, media=JSON)


async def list_feeds(request: Request) -> Response:
    """GET /ingest/feeds — the scheduled feeds, their last run (whichever worker ran it) and
    the totals counted by the worker answering."""
    hub = hub_of(request)
    reports = await hub.store.feed_run_reports()
    scheduler = hub.feed_scheduler
    items = []
    for feed in scheduler.feeds if scheduler is not None else []:
        counters = hub.feeds.counters.get(feed.adapter.name)
        item = {
            "name": feed.name,
            "adapter": feed.adapter.name,
            "tenant": feed.tenant,
            "interval": feed.interval,
            "lastRun": orjson.loads(reports[feed.name]) if feed.name in reports else None,
        }
        if counters is not None:
            item["counters"] = {
                "runs": counters.runs,
                "failedRuns": counters.failed_runs,
                "created": counters.created,
                "updated": counters.updated,
                "unchanged": counters.unchanged,
                "rejected": counters.rejected,
            }
        items.append(item)
    return json_response(items, media=JSON)


def routes() -> list[Route]:
    return [
        Route("/ingest/adapters", list_adapters, methods=["GET"]),
        Route("/ingest/feeds", list_feeds, methods=["GET"]),
    ]
