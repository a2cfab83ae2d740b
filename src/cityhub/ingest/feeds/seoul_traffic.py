"""Seoul TOPIS road speed per link (``TrafficInfo``) → TrafficFlowObserved.

CATALOG §3. One link per call, XML only (JSON was refused with the sample key)::

    <TrafficInfo><list_total_count>1</list_total_count><RESULT><CODE>INFO-000</CODE>…
    <row><link_id>1220003800</link_id><prcs_spd>89</prcs_spd><prcs_trv_time>121</prcs_trv_time>
    </row></TrafficInfo>

The payload carries no time at all, so ``dateObserved`` is the fetch time rounded down to
TOPIS's 5-minute cycle. The entity id is the one ``seoul-citydata`` gives the same link (same
LINK_ID space), so both feeds add to one entity; the link's geometry and name come from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.kr_openapi import (
    SEOUL_BASE_URL,
    SEOUL_PROVIDER,
    PayloadError,
    cycle_start,
    decode,
    fetch_each,
    payload_rejected,
    record_raw,
    rows,
    seoul_result,
)
from cityhub.ingest.feeds.ngsi import date_time, entity, prop, relationship
from cityhub.ingest.feeds.records import Entity, Item, RecordError, map_records
from cityhub.ingest.feeds.values import integer, number, required, text

SOURCE = "https://data.seoul.go.kr/dataList/OA-13291/A/1/datasetView.do"
CYCLE_MINUTES = 5


def link_id(raw: Any, field: str) -> str:
    """A Seoul standard link id (10 digits; digits only, so it is safe inside an id)."""
    value = required(text(raw, field), field)
    if not value.isdigit() or not value.isascii():
        raise RecordError(f"{field}: {value!r} is not a link id")
    return str(value)


@register
class SeoulTraffic(FeedAdapter):
    """Options: ``links`` (LINK_IDs, one request each), ``base_url``."""

    name = "seoul-traffic"
    title = "Seoul TOPIS road speed per link (TrafficInfo) → TrafficFlowObserved"
    default_tenant = "seoul"
    key_setting = "seoul_api_key"

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        base = str(self.options.get("base_url", SEOUL_BASE_URL)).rstrip("/")
        key = quote(self.api_key, safe="")
        requests = [
            (f"link {link}", f"{base}/{key}/xml/TrafficInfo/1/1/{quote(str(link), safe='')}", None)
            for link in self.options.get("links", [])
        ]
        fetched, items = await fetch_each(fetcher, requests, (self.api_key, key))
        for _, answer in fetched:
            items.extend(self.parse(answer.body, fetched_at=answer.fetched_at, source=answer.url))
        return items

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        try:
            document = decode(payload)
        except PayloadError as exc:
            return [payload_rejected(str(exc), payload)]
        envelope = document.get("TrafficInfo", document)
        result = seoul_result(envelope)
        if result is not None and result[0] != "INFO-000":
            code, message = result
            return [payload_rejected(f"TrafficInfo answered {code}: {message}", payload)]
        if not isinstance(envelope, dict) or "TrafficInfo" not in document:
            return [payload_rejected("The payload is not a TrafficInfo response", payload)]
        observed = cycle_start(fetched_at, CYCLE_MINUTES)
        records = [(f"row[{i}]", row) for i, row in enumerate(rows(envelope.get("row")))]
        return map_records(records, lambda row: _link(row, observed), raw=record_raw)


def _link(row: Any, observed: str) -> Entity:
    if not isinstance(row, dict):
        raise RecordError("A TrafficInfo row must be an object")
    link = link_id(row.get("link_id"), "link_id")
    speed = number(row.get("prcs_spd"), "prcs_spd")
    if speed is not None and speed < 0:
        raise RecordError(f"prcs_spd: {speed} is negative")
    return entity(
        f"urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:{link}",
        "TrafficFlowObserved",
        averageVehicleSpeed=prop(speed, unit="KMH", observed_at=observed),
        # SDM has no travel time; seconds over the link as TOPIS computes it.
        travelTime=prop(
            integer(row.get("prcs_trv_time"), "prcs_trv_time"), unit="SEC", observed_at=observed
        ),
        dateObserved=date_time(observed),
        refRoadSegment=relationship(f"urn:ngsi-ld:RoadSegment:KR-Seoul:{link}"),
        dataProvider=prop(SEOUL_PROVIDER),
        source=prop(SOURCE),
    )
