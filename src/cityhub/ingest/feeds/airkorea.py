"""AirKorea real-time air quality per station (getCtprvnRltmMesureDnsty) → AirQualityObserved.

CATALOG §11. ``{"response": {"header": {"resultCode": "00", …}, "body": {"items": [{…}]}}}``;
one item per station with ``dataTime`` (``2020-11-25 13:00`` KST, ``24:00`` possible), values
as strings and ``"-"`` for missing, gases in ppm and particles in µg/m³. The response has no
coordinates: the ``stations`` option (name → [lon, lat], e.g. from the station list service
``getMsrstnList``) places them, otherwise location is left out.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.kr_openapi import (
    fetch_data_go_kr,
    gateway_document,
    payload_rejected,
    record_raw,
    rows,
    service_key,
)
from cityhub.ingest.feeds.ngsi import date_time, entity, language, point, prop
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import KST, local_time, lon_lat, number, required, text

BASE_URL = "https://apis.data.go.kr"
PATH = "/B552584/ArpltnInforInqireSvc/getCtprvnRltmMesureDnsty"
SOURCE = "https://www.data.go.kr/data/15073861/openapi.do"
PROVIDER = "AirKorea, Korea Environment Corporation (한국환경공단 에어코리아), via data.go.kr"

# khaiGrade (Korean CAI grade) → the project's airQualityLevel vocabulary (SDM leaves it free).
GRADE = {"1": "good", "2": "moderate", "3": "unhealthy", "4": "veryUnhealthy"}
# item field → (attribute, UN/CEFACT unit): µg/m³ is GQ, ppm is 59.
POLLUTANTS = (
    ("pm10Value", "pm10", "GQ"),
    ("pm25Value", "pm25", "GQ"),
    ("no2Value", "no2", "59"),
    ("o3Value", "o3", "59"),
    ("coValue", "co", "59"),
    ("so2Value", "so2", "59"),
)
_LOCAL_ID = re.compile(r"^[^\s<>\"{}|\\^`]+$")


@register
class AirKorea(FeedAdapter):
    """Options: ``base_url``, ``sido`` (sidoName, default "서울"; "전국" for the country),
    ``stations`` ({stationName: [lon, lat]}), ``rows`` (default 1000), ``ver`` (default "1.0")."""

    name = "airkorea"
    title = "AirKorea real-time air quality by station → AirQualityObserved"
    default_tenant = "seoul"
    key_setting = "data_go_kr_api_key"

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        params = {
            "serviceKey": service_key(self.api_key),
            "returnType": "json",
            "numOfRows": str(self.options.get("rows", 1000)),
            "pageNo": "1",
            "sidoName": str(self.options.get("sido", "서울")),
            "ver": str(self.options.get("ver", "1.0")),
        }
        url = str(self.options.get("base_url", BASE_URL)).rstrip("/") + PATH
        fetched = await fetch_data_go_kr(fetcher, url, params, self.api_key)
        if fetched is None:
            return []
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=fetched.url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        document = gateway_document(payload)
        if isinstance(document, Rejected):
            return [document]
        response = document.get("response")
        header = response.get("header") if isinstance(response, dict) else None
        if not isinstance(response, dict) or not isinstance(header, dict):
            return [payload_rejected("The payload is not an AirKorea response", payload)]
        code = str(header.get("resultCode", "")).strip()
        if code == "03":  # NODATA_ERROR
            return []
        if code != "00":
            why = header.get("resultMsg") or "no reason given"
            return [payload_rejected(f"AirKorea answered {code}: {why}", payload)]
        body = response.get("body")
        items = rows(body.get("items")) if isinstance(body, dict) else []
        records = [(f"items[{index}]", item) for index, item in enumerate(items)]
        return map_records(records, self._station, raw=record_raw)

    def _station(self, item: Any) -> Entity | None:
        if not isinstance(item, dict):
            raise RecordError("An AirKorea item must be an object")
        name = required(text(item.get("stationName"), "stationName"), "stationName")
        local_id = text(item.get("stationCode"), "stationCode") or name
        if not _LOCAL_ID.match(local_id):
            raise RecordError(f"stationCode/stationName {local_id!r} cannot be part of an id")
        observed = required(
            local_time(item.get("dataTime"), "dataTime", ("%Y-%m-%d %H:%M",), KST), "dataTime"
        )
        measured = {
            attribute: prop(value, unit=unit, observed_at=observed)
            for field, attribute, unit in POLLUTANTS
            if (value := number(item.get(field), field)) is not None
        }
        index = number(item.get("khaiValue"), "khaiValue")
        grade = text(item.get("khaiGrade"), "khaiGrade")
        if grade is not None and grade not in GRADE:
            raise RecordError(f"khaiGrade: {grade!r} is not a grade 1–4")
        if not measured and index is None:
            return None  # the station sent nothing this hour (all "-")
        return entity(
            f"urn:ngsi-ld:AirQualityObserved:KR-AirKorea:{local_id}",
            "AirQualityObserved",
            name=language({"ko": name}),
            dateObserved=date_time(observed),
            location=self._location(name),
            address=prop(_address(item)),
            typeofLocation=prop("outdoor"),
            stationType=language({"ko": text(item.get("mangName"), "mangName")}),
            **measured,
            airQualityIndex=prop(
                None if index is None else math.floor(index + 0.5), observed_at=observed
            ),
            airQualityLevel=prop(GRADE.get(grade or ""), observed_at=observed),
            dataProvider=prop(PROVIDER),
            source=prop(SOURCE),
        )

    def _location(self, station: str) -> dict[str, Any] | None:
        stations = self.options.get("stations") or {}
        coordinates = stations.get(station)
        if coordinates is None:
            return None
        lon, lat = lon_lat(coordinates[0], coordinates[1], f"stations[{station}]")
        return point(lon, lat)


def _address(item: dict[str, Any]) -> dict[str, str] | None:
    region = text(item.get("sidoName"), "sidoName")
    return None if region is None else {"addressRegion": region, "addressCountry": "KR"}
