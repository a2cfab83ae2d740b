"""Adapter ``jma-amedas``: JMA AMeDAS observations (bosai JSON, CATALOG §6) as WeatherObserved.

A map file ``/amedas/data/map/{yyyymmddhhmm00}.json`` holds every station at one time as
``{station: {element: [value, quality flag]}}``; where the stations are and what they are
called is in ``/amedas/const/amedastable.json`` (latitude and longitude as ``[degrees,
decimal minutes]``). The map itself carries no time: it is in the file name (JST), which
``latest_time.txt`` names. ``collect`` follows that chain and keeps the station table.

``parse`` accepts either
* an envelope ``{"observedAt": "2021-02-24T15:00:00+09:00", "map": {…}, "table": {…}}``, or
* a bare map file, whose time is read from ``source`` (the URL or the file name, e.g.
  ``amedas-map-20210224150000.json``) and whose table is the one given to the adapter
  (``use_station_table``, or option ``station_table`` = path of an amedastable.json).

A value whose quality flag is not 0 is left out (JMA marks missing and doubtful values so,
e.g. ``[0, null]`` for snow out of season). Wind direction codes are 16 compass points
clockwise from north (×22.5°); 0 means calm and gives no direction.

Options: ``base_url`` (default ``https://www.jma.go.jp/bosai``), ``stations`` (codes to keep,
default all), ``station_table``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.ngsi import date_time, entity, language, point, prop
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records, raw_text
from cityhub.ingest.feeds.values import JST, aware_time, iso, lon_lat, number, text

BASE_URL = "https://www.jma.go.jp/bosai"
DATA_PROVIDER = "出典：気象庁ホームページ Japan Meteorological Agency (www.jma.go.jp)"
_MAP_TIME = re.compile(r"(?<![0-9])([0-9]{14})(?:\.json)?(?:[?#].*)?$")

# element → (attribute, unit, scale); WeatherObserved terms, the extra rain windows as
# extensions named after the JMA element.
ELEMENTS: dict[str, tuple[str, str | None, float]] = {
    "temp": ("temperature", "CEL", 1.0),
    "humidity": ("relativeHumidity", None, 0.01),
    "wind": ("windSpeed", "MTS", 1.0),
    "gust": ("gustSpeed", "MTS", 1.0),
    "precipitation1h": ("precipitation", "MMT", 1.0),
    "precipitation10m": ("precipitation10m", "MMT", 1.0),
    "precipitation3h": ("precipitation3h", "MMT", 1.0),
    "precipitation24h": ("precipitation24h", "MMT", 1.0),
    "snow": ("snowHeight", "CMT", 1.0),
    "pressure": ("atmosphericPressure", "A97", 1.0),
    "visibility": ("visibility", "MTR", 1.0),
}


def map_time(source: str) -> str | None:
    """The observation time a map file's name gives (``…/20210224150000.json``), in JST."""
    match = _MAP_TIME.search(source)
    if match is None:
        return None
    try:  # not values.local_time: its 24:00 roll-over would misread minute 24 of a stamp
        moment = datetime.strptime(match.group(1), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return iso(moment.replace(tzinfo=JST))


def _reading(raw: Any, element: str) -> float | None:
    """The value of ``[value, flag]`` when its flag is 0; None when absent or flagged."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise RecordError(f"{element}: {raw!r} is not a [value, quality flag] pair")
    value, flag = raw
    if flag != 0 or isinstance(flag, bool):
        return None
    return number(value, element)


def _degrees(raw: Any, field: str) -> float:
    """``[degrees, decimal minutes]`` as decimal degrees."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise RecordError(f"{field}: {raw!r} is not [degrees, minutes]")
    degrees = number(raw[0], field)
    minutes = number(raw[1], field)
    if degrees is None or minutes is None:
        raise RecordError(f"{field} is missing")
    if not 0 <= minutes < 60:
        raise RecordError(f"{field}: {minutes} minutes is out of range")
    return round(degrees + minutes / 60, 6)


def station_entity(
    code: str, readings: Any, station: Any, observed_at: str, source: str
) -> Entity | None:
    """One station's WeatherObserved; None when every value is flagged (nothing observed)."""
    if not isinstance(readings, dict):
        raise RecordError(f"station {code}: {readings!r} is not an object")
    if not isinstance(station, dict):
        raise RecordError(f"station {code} is not in amedastable.json")
    lon, lat = lon_lat(
        _degrees(station.get("lon"), "lon"), _degrees(station.get("lat"), "lat"), "station"
    )
    altitude = number(station.get("alt"), "alt")
    measured: dict[str, Any] = {}
    for element, (attribute, unit, scale) in ELEMENTS.items():
        if element in readings and (value := _reading(readings[element], element)) is not None:
            measured[attribute] = prop(round(value * scale, 4), unit=unit, observed_at=observed_at)
    if "windDirection" in readings:
        compass = _reading(readings["windDirection"], "windDirection")
        if compass is not None and not (compass.is_integer() and 0 <= compass <= 16):
            raise RecordError(f"windDirection: {compass} is not a code from 0 to 16")
        if compass:  # 0 = calm: no direction
            measured["windDirection"] = prop(compass * 22.5, unit="DD", observed_at=observed_at)
    if not measured:
        return None
    names = {"ja": text(station.get("kjName"), "kjName"), "en": text(station.get("enName"), "en")}
    return entity(
        f"urn:ngsi-ld:WeatherObserved:JP-JMA:{code}",
        "WeatherObserved",
        dateObserved=date_time(observed_at),
        name=language(names),
        stationCode=prop(code),
        location=point(lon, lat, altitude),
        **measured,
        dataProvider=prop(DATA_PROVIDER),
        source=prop(source or None),
    )


def parse_map(
    map_doc: Any,
    table: Any,
    observed_at: str,
    *,
    source: str = "",
    stations: set[str] | None = None,
) -> list[Item]:
    """WeatherObserved per station of a decoded map file, located through the station table."""
    if not isinstance(map_doc, dict) or not isinstance(table, dict):
        reason = "The AMeDAS map and station table must be JSON objects"
        return [Rejected(reason, raw_text(map_doc), "payload")]
    records = (
        (code, (code, readings))
        for code, readings in map_doc.items()
        if stations is None or code in stations
    )

    def build(record: tuple[str, Any]) -> Entity | None:
        code, readings = record
        if not code.isdigit():
            raise RecordError(f"station code {code!r} is not a number")
        return station_entity(code, readings, table.get(code), observed_at, source)

    return map_records(records, build, raw=lambda record: raw_text({record[0]: record[1]}))


@register
class JmaAmedasAdapter(FeedAdapter):
    """AMeDAS: every JMA weather station, every 10 minutes (CATALOG §6) → WeatherObserved."""

    name = "jma-amedas"
    title = "Japan Meteorological Agency AMeDAS stations (10-minute observations) → WeatherObserved"
    default_tenant = "tokyo"

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        super().__init__(options, api_key)
        self._table: dict[str, Any] | None = None
        path = self.options.get("station_table")
        if path:
            self.use_station_table(Path(path).read_bytes())

    def use_station_table(self, table: bytes) -> None:
        """Give the station table (amedastable.json) that bare map files are read with."""
        loaded = orjson.loads(table)
        if not isinstance(loaded, dict):
            raise ValueError("amedastable.json must be a JSON object")
        self._table = loaded

    @property
    def base_url(self) -> str:
        return str(self.options.get("base_url", BASE_URL)).rstrip("/")

    @property
    def stations(self) -> set[str] | None:
        wanted = self.options.get("stations")
        return {str(code) for code in wanted} if wanted else None

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        latest = await fetcher.get(f"{self.base_url}/amedas/data/latest_time.txt")
        if latest is None:  # no newer observation
            return []
        try:
            moment = aware_time(latest.body.decode("utf-8", errors="replace"), "latest_time")
        except RecordError as exc:
            return [Rejected(str(exc), raw_text(latest.body), "latest_time.txt")]
        if moment is None:
            return [Rejected("latest_time.txt is empty", "", "latest_time.txt")]
        stamp = datetime.fromisoformat(moment).astimezone(JST).strftime("%Y%m%d%H%M00")
        url = f"{self.base_url}/amedas/data/map/{stamp}.json"
        fetched = await fetcher.get(url)
        if fetched is None:
            return []
        if self._table is None:
            table = await fetcher.get(
                f"{self.base_url}/amedas/const/amedastable.json", conditional=False
            )
            if table is None:
                raise FetchError("amedastable.json answered 304 to an unconditional request")
            try:
                self.use_station_table(table.body)
            except (orjson.JSONDecodeError, ValueError) as exc:
                reason = f"amedastable.json cannot be read: {exc}"
                return [Rejected(reason, raw_text(table.body), "amedastable.json")]
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        """A map file (its time from ``source``) or an envelope {observedAt, map, table}."""
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            return [Rejected(f"The payload is not JSON: {exc}", raw_text(payload), "payload")]
        table: Any = self._table
        if isinstance(doc, dict) and "map" in doc and "observedAt" in doc:
            try:
                observed_at = aware_time(doc.get("observedAt"), "observedAt")
            except RecordError as exc:
                return [Rejected(str(exc), raw_text(payload), "payload")]
            table = doc.get("table", table)
            doc = doc["map"]
        else:
            observed_at = map_time(source)
        if observed_at is None:
            reason = "The observation time is unknown: no observedAt and no time in the source name"
            return [Rejected(reason, raw_text(payload), "payload")]
        if table is None:
            return [Rejected("No AMeDAS station table was given", raw_text(payload), "payload")]
        url = source if source.startswith(("http://", "https://")) else ""
        return parse_map(doc, table, observed_at, source=url, stations=self.stations)
