"""Adapter ``jma-quakes``: the JMA web's recent earthquake list (bosai ``/quake/data/list.json``,
CATALOG §6) as Alerts, the same entities as the VXSE5x telegrams (``jma_quakes.py``).

Each list entry is one telegram (震度速報, 震源に関する情報, 震源・震度情報…) with ``eid``
(EventID), ``rdt`` report time, ``at`` origin time, ``anm``/``en_anm`` epicentre in Japanese
and English, ``cod`` ISO 6709 hypocentre, ``mag``, ``maxi`` and ``int`` (maximum intensity per
prefecture and municipality). Several entries share an event; only the latest (by report
time) is mapped, so a batch never holds one id twice. Unlike the XML, the list gives English
names, which go into the LanguageProperties beside the Japanese.

Options: ``base_url`` (default ``https://www.jma.go.jp/bosai``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jma_quakes import INTENSITY_SEVERITY, hypocentre
from cityhub.ingest.feeds.ngsi import date_time, entity, language, point, prop, urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records, raw_text
from cityhub.ingest.feeds.values import aware_time, number, required, text

BASE_URL = "https://www.jma.go.jp/bosai"
DATA_PROVIDER = "出典：気象庁ホームページ Japan Meteorological Agency (www.jma.go.jp)"


def _max_int(raw: Any, field: str) -> str | None:
    value = text(raw, field)
    if value is not None and value not in INTENSITY_SEVERITY:
        raise RecordError(f"{field}: {value!r} is not a JMA seismic intensity")
    return value


def _intensities(raw: Any) -> dict[str, list[dict[str, Any]]] | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, list):
        raise RecordError(f"int: {raw!r} is not a list")
    prefectures, cities = [], []
    for pref in raw:
        if not isinstance(pref, dict):
            raise RecordError(f"int: {pref!r} is not an object")
        prefectures.append({"code": text(pref.get("code"), "int.code")})
        prefectures[-1]["maxInt"] = _max_int(pref.get("maxi"), "int.maxi")
        for city in pref.get("city") or []:
            if not isinstance(city, dict):
                raise RecordError(f"int.city: {city!r} is not an object")
            cities.append(
                {
                    "code": text(city.get("code"), "city.code"),
                    "maxInt": _max_int(city.get("maxi"), "city.maxi"),
                }
            )
    found = {"prefectures": prefectures, "cities": cities}
    cleaned = {
        key: [{k: v for k, v in row.items() if v is not None} for row in rows]
        for key, rows in found.items()
        if rows
    }
    return cleaned or None


def quake_entity(record: dict[str, Any], base_url: str, source: str) -> Entity:
    """One list entry as the event's Alert."""
    event = str(required(text(record.get("eid"), "eid"), "eid"))
    issued = aware_time(required(record.get("rdt"), "rdt"), "rdt")
    origin = aware_time(record.get("at"), "at")
    position = hypocentre(text(record.get("cod"), "cod"))
    max_int = _max_int(record.get("maxi"), "maxi")
    cancelled = text(record.get("ift"), "ift") == "取消"
    detail = text(record.get("json"), "json")
    data = {
        "eventId": event,
        "serial": text(record.get("ser"), "ser"),
        "infoType": text(record.get("ift"), "ift"),
        "originTime": origin,
        "epicentreName": text(record.get("anm"), "anm"),
        "epicentreCode": text(record.get("acd"), "acd"),
        "depth": position[2] if position else None,
        "magnitude": number(record.get("mag"), "mag"),
        "maxInt": max_int,
        "intensity": _intensities(record.get("int")),
    }
    alert_source = f"{base_url}/quake/data/{detail}" if detail else source or "気象庁"
    return entity(
        f"urn:ngsi-ld:Alert:JMA:quake:{urn_part(event)}",
        "Alert",
        category=prop("naturalDisaster"),
        subCategory=prop("earthquake"),
        severity=prop(INTENSITY_SEVERITY.get(max_int or "")),
        name=language(
            {"ja": text(record.get("ttl"), "ttl"), "en": text(record.get("en_ttl"), "en_ttl")}
        ),
        dateIssued=date_time(issued),
        validFrom=date_time(None if cancelled else origin),
        validTo=date_time(issued if cancelled else None),
        location=point(position[0], position[1]) if position else None,
        areaServed=language(
            {"ja": text(record.get("anm"), "anm"), "en": text(record.get("en_anm"), "en_anm")}
        ),
        alertSource=prop(alert_source),
        data=prop({key: value for key, value in data.items() if value is not None}),
        dataProvider=prop(DATA_PROVIDER),
        source=prop(source or None),
    )


def _latest(records: list[Any]) -> list[tuple[str, Any]]:
    """One entry per event, the latest report (``rdt``, then ``ctt``); malformed entries are
    kept so that they are rejected with their reason."""
    latest: dict[str, tuple[tuple[str, str], int]] = {}
    chosen: list[tuple[str, Any]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("eid"), str):
            chosen.append((f"[{index}]", record))
            continue
        order = (str(record.get("rdt") or ""), str(record.get("ctt") or ""))
        known = latest.get(record["eid"])
        if known is None or order > known[0]:
            latest[record["eid"]] = (order, index)
    chosen.extend((f"[{index}]", records[index]) for _, index in latest.values())
    return sorted(chosen, key=lambda pair: int(pair[0][1:-1]))


@register
class JmaQuakeListAdapter(FeedAdapter):
    """Recent earthquakes from the JMA web (CATALOG §6) → Alert."""

    name = "jma-quakes"
    title = "Japan Meteorological Agency recent earthquake list (bosai JSON) → Alert"
    default_tenant = "tokyo"

    @property
    def base_url(self) -> str:
        return str(self.options.get("base_url", BASE_URL)).rstrip("/")

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        url = f"{self.base_url}/quake/data/list.json"
        fetched = await fetcher.get(url)
        if fetched is None:
            return []
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            return [Rejected(f"The payload is not JSON: {exc}", raw_text(payload), "payload")]
        if not isinstance(doc, list):
            return [Rejected("The quake list is not a JSON list", raw_text(payload), "payload")]
        url = source if source.startswith(("http://", "https://")) else ""

        def build(record: Any) -> Entity:
            if not isinstance(record, dict):
                raise RecordError(f"{record!r} is not an object")
            return quake_entity(record, self.base_url, url)

        return map_records(_latest(doc), build)
