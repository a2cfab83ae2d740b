"""``cityhub demo``: seed the demo cities, then serve the hub while they keep changing.

On the first start the last 24 hours are written too (every 15 minutes), so history charts
have something to show; later starts keep the history and only bring the cities up to date.
Writes go through the feed runner (unchanged values cost nothing, history follows, and
subscriptions are notified like for any other change).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import uvicorn

from cityhub.demo.replay import TICK_SECONDS, DemoReplay
from cityhub.hub import Hub
from cityhub.settings import Settings

log = logging.getLogger(__name__)
BACKFILL = timedelta(hours=24)
BACKFILL_STEP = timedelta(minutes=15)
FEED = "demo"


async def seed(hub: Hub, replay: DemoReplay) -> dict[str, int]:
    """Write the cities as they are now (and the past day on a first start); entities per
    tenant."""
    first = not await hub.store.tenant_exists(next(iter(replay.base)))
    counts = {}
    for tenant, entities in replay.base.items():
        fixed = [e for e in entities if e["demoData"]["value"] == "replayed"]
        await hub.feeds.store_items(FEED, tenant, fixed)
        counts[tenant] = len(entities)
    if first:
        moment = replay.now - BACKFILL
        while moment <= replay.now:
            for tenant, entities in replay.at(moment, every=True).items():
                await hub.feeds.store_items(FEED, tenant, entities)
            moment += BACKFILL_STEP
    for tenant, entities in replay.at(replay.now, every=True).items():
        await hub.feeds.store_items(FEED, tenant, entities)
    return counts


async def tick_forever(hub: Hub, replay: DemoReplay) -> None:
    """Every tick, the entities whose turn it is move on."""
    while True:
        now = datetime.now(UTC)
        await asyncio.sleep(TICK_SECONDS - now.timestamp() % TICK_SECONDS)
        try:
            for tenant, entities in replay.at(datetime.now(UTC)).items():
                await hub.feeds.store_items(FEED, tenant, entities)
        except Exception:  # a failed tick must not end the demo
            log.exception("demo tick failed")


def describe(counts: dict[str, int], settings: Settings) -> str:
    base = f"http://{'localhost' if settings.host in ('0.0.0.0', '::') else settings.host}"
    lines = [
        f"CityHub demo on {base}:{settings.port}/ ({settings.backend}: {settings.database_url})",
        *(f"  tenant {t:<8} {n:>5} entities" for t, n in sorted(counts.items())),
        "  Seoul and Tokyo: real feed samples replayed with times shifted to now; measured",
        "  values vary gently (demoData=varied). Beijing: simulated values on real places",
        "  (demoData=simulated). Try:",
        f"  curl '{base}:{settings.port}/ngsi-ld/v1/entities?type=OffStreetParking"
        "&options=keyValues'"
        " -H 'NGSILD-Tenant: seoul' -H 'Link: <https://raw.githubusercontent.com/smart-data-models/"
        'dataModel.Parking/master/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"\'',
    ]
    return "\n".join(lines)


async def run_demo(
    settings: Settings, seed_value: int, *, live: bool = True, city: str | None = None
) -> None:
    """Serve the demo cities (or only ``city``) until stopped."""
    from cityhub.app import create_app

    replay = DemoReplay(seed_value, datetime.now(UTC))
    if city is not None:
        replay.base = {city: replay.base[city]}
    hub = Hub(settings)
    app = create_app(settings, hub=hub)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if serving.done():
        await serving  # startup failed: let its error show
        return
    counts = await seed(hub, replay)
    print(describe(counts, settings), flush=True)
    ticker = asyncio.create_task(tick_forever(hub, replay)) if live else None
    try:
        await serving
    finally:
        if ticker is not None:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
