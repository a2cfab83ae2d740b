"""A small feed adapter for the feed framework's tests (loaded by dotted path, as an
operator's own adapter would be): a JSON array of road speed readings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.ngsi import date_time, entity, prop
from cityhub.ingest.feeds.records import Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import aware_time, number, required


def _reading(record: dict[str, Any]) -> dict[str, Any]:
    observed = aware_time(required(record.get("t"), "t"), "t")
    speed = number(record.get("speed"), "speed")
    if speed is None:
        raise RecordError("speed is missing")
    return entity(
        f"urn:ngsi-ld:TrafficFlowObserved:toy:{required(record.get('link'), 'link')}",
        "TrafficFlowObserved",
        averageVehicleSpeed=prop(speed, unit="KMH", observed_at=observed),
        dateObserved=date_time(observed),
        dataProvider=prop("toy feed"),
    )


class ToyAdapter(FeedAdapter):
    name = "toy"
    title = "Road speeds as a JSON array (tests)"
    default_tenant = "toytown"

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        fetched = await fetcher.get(self.options["url"])
        if fetched is None:
            return []
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=fetched.url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        try:
            records = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            return [Rejected(f"not JSON: {exc}", payload.decode(errors="replace"), "payload")]
        return map_records(((f"[{i}]", r) for i, r in enumerate(records)), _reading)
