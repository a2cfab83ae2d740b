"""Seoul real-time city data (``citydata``, OA-21285) for one hotspot area per call.

CATALOG §1. ``http://openapi.seoul.go.kr:8088/{KEY}/{json|xml}/citydata/1/5/{AREA}`` answers
``{"list_total_count": 1, "RESULT": {"RESULT.CODE": "INFO-000", …}, "CITYDATA": {…}}`` (or
``<SeoulRtd.citydata>`` in XML, lists wrapped twice); errors come as ``{"RESULT": {"CODE":
"INFO-100", …}}``. The population-only sibling ``citydata_ppltn``
(``{"SeoulRtd.citydata_ppltn": [{…}]}``) is read too. Each block maps to its Smart Data
Model (see the ``seoul_citydata_*`` modules); one bad record never hides the others.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import quote

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.kr_disaster import disaster_alert
from cityhub.ingest.feeds.kr_openapi import (
    SEOUL_BASE_URL,
    SEOUL_PROVIDER,
    PayloadError,
    decode,
    fetch_each,
    payload_rejected,
    quiet_text,
    record_raw,
    rows,
    seoul_result,
)
from cityhub.ingest.feeds.records import Item, map_records
from cityhub.ingest.feeds.seoul_citydata_area import SOURCE, centroid, read_area, road_points
from cityhub.ingest.feeds.seoul_citydata_mobility import (
    area_traffic,
    crowd_flow,
    road_link,
)
from cityhub.ingest.feeds.seoul_citydata_places import (
    bike_station,
    car_park,
    charging_station,
    incident_alert,
)
from cityhub.ingest.feeds.seoul_citydata_weather import (
    air_quality,
    weather_forecast,
    weather_observed,
    weather_time,
)

PPLTN = "SeoulRtd.citydata_ppltn"


def _numbered(block: str, records: list[Any]) -> list[tuple[str, Any]]:
    return [(f"{block}[{index}]", record) for index, record in enumerate(records)]


def map_citydata(citydata: dict[str, Any]) -> list[Item]:
    """Every block of one area's CITYDATA, in a fixed order."""
    area = read_area(citydata)
    items: list[Item] = []

    people = rows(citydata.get("LIVE_PPLTN_STTS"))
    subway, bus = citydata.get("LIVE_SUB_PPLTN"), citydata.get("LIVE_BUS_PPLTN")
    items += map_records(
        _numbered("LIVE_PPLTN_STTS", people),
        lambda record: crowd_flow(record, area, subway, bus),
        raw=record_raw,
    )

    roads = citydata.get("ROAD_TRAFFIC_STTS")
    if isinstance(roads, dict):
        average = roads.get("AVG_ROAD_DATA")
        if average:
            road_centre = centroid(road_points(citydata))
            items += map_records(
                [("AVG_ROAD_DATA", average)],
                lambda record: area_traffic(record, area, road_centre),
                raw=record_raw,
            )
        items += map_records(
            _numbered("ROAD_TRAFFIC_STTS", rows(roads.get("ROAD_TRAFFIC_STTS"))),
            lambda record: road_link(record, average),
            raw=record_raw,
        )

    lots = rows(citydata.get("PRK_STTS"))
    codes = Counter(quiet_text(lot.get("PRK_CD")) for lot in lots if isinstance(lot, dict))
    repeated = {code for code, count in codes.items() if code is not None and count > 1}
    items += map_records(
        _numbered("PRK_STTS", lots), lambda record: car_park(record, repeated), raw=record_raw
    )

    for index, weather in enumerate(rows(citydata.get("WEATHER_STTS"))):
        where = f"WEATHER_STTS[{index}]"
        items += map_records(
            [(where, weather)], lambda record: weather_observed(record, area), raw=record_raw
        )
        items += map_records(
            [(where, weather)], lambda record: air_quality(record, area), raw=record_raw
        )
        forecasts = rows(weather.get("FCST24HOURS")) if isinstance(weather, dict) else []
        if forecasts:
            items += _forecasts(where, weather, forecasts, area)

    items += map_records(
        _numbered("ACDNT_CNTRL_STTS", rows(citydata.get("ACDNT_CNTRL_STTS"))),
        incident_alert,
        raw=record_raw,
    )
    items += map_records(
        _numbered("LIVE_DST_MESSAGE", rows(citydata.get("LIVE_DST_MESSAGE"))),
        lambda record: disaster_alert(
            record, provider=SEOUL_PROVIDER, source=SOURCE, serial_required=False
        ),
        raw=record_raw,
    )
    items += map_records(_stations(rows(citydata.get("CHARGER_STTS"))), charging_station)
    items += map_records(
        _numbered("SBIKE_STTS", rows(citydata.get("SBIKE_STTS"))), bike_station, raw=record_raw
    )
    return items


def _forecasts(where: str, weather: Any, forecasts: list[Any], area: Any) -> list[Item]:
    try:
        issued = weather_time(weather)
    except ValueError:  # the WeatherObserved of this block already carries the rejection
        return []
    return map_records(
        _numbered(f"{where}.FCST24HOURS", forecasts),
        lambda record: weather_forecast(record, area, issued),
        raw=record_raw,
    )


def _stations(chargers: list[Any]) -> list[tuple[str, list[Any]]]:
    """CHARGER_STTS rows grouped by STAT_ID, in order of first appearance; a row without a
    usable STAT_ID stays alone (and is rejected for it)."""
    groups: dict[str, list[Any]] = {}
    for index, row in enumerate(chargers):
        station = row.get("STAT_ID") if isinstance(row, dict) else None
        key = f"STAT_ID={station}" if isinstance(station, str) and station else f"#{index}"
        groups.setdefault(f"CHARGER_STTS[{key}]", []).append(row)
    return list(groups.items())


@register
class SeoulCityData(FeedAdapter):
    """Options: ``areas`` (area codes or names, default ["POI009"]), ``format`` ("json" or
    "xml"), ``base_url``."""

    name = "seoul-citydata"
    title = "Seoul real-time city data per hotspot (citydata): crowds, roads, parking, weather…"
    default_tenant = "seoul"
    key_setting = "seoul_api_key"

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        base = str(self.options.get("base_url", SEOUL_BASE_URL)).rstrip("/")
        shape = str(self.options.get("format", "json")).lower()
        if shape not in ("json", "xml"):
            raise ValueError(f"seoul-citydata format must be json or xml, not {shape!r}")
        key = quote(self.api_key, safe="")
        requests = [
            (f"area {area}", f"{base}/{key}/{shape}/citydata/1/5/{quote(str(area), safe='')}", None)
            for area in self.options.get("areas", ["POI009"])
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
        if PPLTN in document:
            return self._population(document[PPLTN], payload)
        envelope = document.get("SeoulRtd.citydata", document)
        result = seoul_result(envelope)
        if result is not None and result[0] != "INFO-000":
            code, message = result
            return [payload_rejected(f"citydata answered {code}: {message}", payload)]
        areas = rows(envelope.get("CITYDATA")) if isinstance(envelope, dict) else []
        if not areas or not all(isinstance(area, dict) for area in areas):
            return [payload_rejected("The payload is not a citydata response", payload)]
        items: list[Item] = []
        for citydata in areas:
            items += map_citydata(citydata)
        return items

    def _population(self, content: Any, payload: bytes) -> list[Item]:
        """citydata_ppltn: the LIVE_PPLTN_STTS record alone, no coordinates."""
        result = seoul_result(content)
        if result is not None and result[0] != "INFO-000":
            code, message = result
            return [payload_rejected(f"citydata_ppltn answered {code}: {message}", payload)]
        records = rows(content)
        return map_records(
            _numbered(PPLTN, records),
            lambda record: crowd_flow(record, read_area({}, record)),
            raw=record_raw,
        )
