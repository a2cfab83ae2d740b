"""Korea's emergency text messages (긴급재난문자, safetydata.go.kr DSSP-IF-00247) → Alert.

CATALOG §10. The messages the Ministry of the Interior and Safety sends to phones; Seoul's
``citydata`` embeds the recent ones as ``LIVE_DST_MESSAGE`` and maps them with
:func:`disaster_alert` too. A response (captured by a third party, 2026-08) looks like
``{"header": {"resultCode": "00", "resultMsg": "NORMAL SERVICE", "errorMsg": null},
"totalCount": …, "body": [{"SN": 266798, "CRT_DT": "2026/08/18 02:00:10", "MSG_CN": …,
"RCPTN_RGN_NM": …, "EMRG_STEP_NM": "안전안내", "DST_SE_NM": "기타", …}]}``; a refused key
answers ``resultCode`` "30" with ``"body": null``.
"""

from __future__ import annotations

import hashlib
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
from cityhub.ingest.feeds.ngsi import date_time, entity, language, prop
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import KST, integer, local_time, required, text

BASE_URL = "https://www.safetydata.go.kr"
PATH = "/V2/api/DSSP-IF-00247"
SOURCE = BASE_URL + PATH
PROVIDER = "Ministry of the Interior and Safety (행정안전부), Safety Data Portal (safetydata.go.kr)"
TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S")

# CATALOG §10; the steps of the Korean public-alert system.
SEVERITY = {"위급재난": "critical", "긴급재난": "high", "안전안내": "informational"}

# DST_SE_NM (hazard) → Alert category and subCategory. The first seven are CATALOG §10; the
# others are the project's reading of further hazard names used in messages.
HAZARD: dict[str, tuple[str, str | None]] = {
    "호우": ("weather", "rainfall"),
    "지진": ("naturalDisaster", "earthquake"),
    "폭염": ("weather", "heatWave"),
    "한파": ("weather", "coldWave"),
    "대설": ("weather", "snow"),
    "태풍": ("weather", "tropicalCyclone"),
    "교통": ("traffic", None),
    "홍수": ("weather", "flood"),
    "강풍": ("weather", "wind"),
    "풍랑": ("weather", "badSeaState"),
    "안개": ("weather", "fog"),
    "지진해일": ("naturalDisaster", "tsunami"),
    "해일": ("naturalDisaster", "coastalEvent"),
    "산불": ("naturalDisaster", "forestFire"),
    "산사태": ("naturalDisaster", None),
    "화재": ("security", "buildingFire"),
    "미세먼지": ("environment", "airPollution"),
    "황사": ("environment", "airPollution"),
    "감염병": ("health", None),
}
# Anything else (기타, 실종 missing person, 정전 power cut…) is public-safety guidance.
OTHER_HAZARD: tuple[str, str | None] = ("security", None)

_SERIAL = re.compile(r"^[A-Za-z0-9_.-]+$")


def disaster_alert(
    record: Any, *, provider: str, source: str, serial_required: bool = True
) -> Entity:
    """One message as an Alert ``urn:ngsi-ld:Alert:KR-MOIS:{SN}``. Where ``SN`` may be absent
    (citydata's ``LIVE_DST_MESSAGE``), a message without it is named by its time and a hash
    of its text, so the same message read again maps to the same entity."""
    if not isinstance(record, dict):
        raise RecordError("A disaster message must be an object")
    issued = required(local_time(record.get("CRT_DT"), "CRT_DT", TIME_FORMATS, KST), "CRT_DT")
    message = required(text(record.get("MSG_CN"), "MSG_CN"), "MSG_CN")
    serial = _serial(record.get("SN"))
    if serial is None and serial_required:
        raise RecordError("SN is missing")
    if serial is None:
        digest = hashlib.sha1(message.encode()).hexdigest()[:10]
        local_id = f"{issued[:19].replace('-', '').replace(':', '').replace('T', '')}-{digest}"
    else:
        local_id = serial
    hazard = text(record.get("DST_SE_NM"), "DST_SE_NM")
    step = text(record.get("EMRG_STEP_NM"), "EMRG_STEP_NM")
    category, sub_category = HAZARD.get((hazard or "").replace(" ", ""), OTHER_HAZARD)
    region = text(record.get("RCPTN_RGN_NM"), "RCPTN_RGN_NM")
    extra = {"serialNumber": serial, "disasterType": hazard, "emergencyStep": step}
    return entity(
        f"urn:ngsi-ld:Alert:KR-MOIS:{local_id}",
        "Alert",
        name=language({"ko": hazard}),
        category=prop(category),
        subCategory=prop(sub_category),
        severity=prop(SEVERITY.get((step or "").replace(" ", ""))),
        description=language({"ko": message}),
        dateIssued=date_time(issued),
        validFrom=date_time(issued),
        areaServed=language({"ko": region}),
        alertSource=prop(BASE_URL),
        data=prop({key: value for key, value in extra.items() if value is not None}),
        dataProvider=prop(provider),
        source=prop(source),
    )


def _serial(raw: Any) -> str | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = integer(raw, "SN")
        return None if value is None else str(value)
    serial = text(raw, "SN")
    if serial is not None and not _SERIAL.match(serial):
        raise RecordError(f"SN: {serial!r} is not a message serial number")
    return serial


@register
class KoreaDisasterMessages(FeedAdapter):
    """Today's emergency text messages. Options: ``base_url``, ``region`` (``rgnNm`` filter,
    e.g. "서울특별시"; default: the whole country), ``rows`` (page size, default 1000)."""

    name = "kr-disaster"
    title = "Korea emergency text messages (safetydata.go.kr) → Alert"
    default_tenant = "seoul"
    key_setting = "data_go_kr_api_key"

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        # crtDt is the first day asked for; "today" is a Korean day whatever the host's zone.
        params = {
            "serviceKey": service_key(self.api_key),
            "returnType": "json",
            "pageNo": "1",
            "numOfRows": str(self.options.get("rows", 1000)),
            "crtDt": datetime.now(KST).strftime("%Y%m%d"),
        }
        if self.options.get("region"):
            params["rgnNm"] = str(self.options["region"])
        url = str(self.options.get("base_url", BASE_URL)).rstrip("/") + PATH
        fetched = await fetch_data_go_kr(fetcher, url, params, self.api_key)
        if fetched is None:
            return []
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=fetched.url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        document = gateway_document(payload)
        if isinstance(document, Rejected):
            return [document]
        header = document.get("header")
        if not isinstance(header, dict):
            return [payload_rejected("The payload is not a DSSP-IF-00247 response", payload)]
        code = str(header.get("resultCode", "")).strip()
        if code == "03":  # NODATA_ERROR: no message yet today
            return []
        if code not in ("00", "0"):
            why = header.get("errorMsg") or header.get("resultMsg") or "no reason given"
            return [payload_rejected(f"safetydata.go.kr answered {code}: {why}", payload)]
        body = document.get("body")
        if isinstance(body, dict):
            body = body.get("items")
        records = [(f"body[{index}]", record) for index, record in enumerate(rows(body))]
        return map_records(
            records,
            lambda record: disaster_alert(record, provider=PROVIDER, source=SOURCE),
            raw=record_raw,
        )
