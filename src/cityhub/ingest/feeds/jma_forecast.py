"""Adapter ``jma-forecast``: JMA area forecasts (bosai JSON, CATALOG §6) as WeatherForecast.

``/forecast/data/forecast/{office}.json`` is ``[short-term, weekly]``. The short-term report
has three series: per forecast area (class10) the weather of today/tomorrow/the day after
(``weathers`` text, ``weatherCodes``, ``winds``, ``waves``), 6-hourly ``pops`` per area, and
``temps`` per AMeDAS station; the weekly one has daily ``weatherCodes``/``pops`` per area and
``tempsMin``/``tempsMax`` per station. One WeatherForecast is made per (area, day):
``urn:ngsi-ld:WeatherForecast:JP-JMA:{area}:{yyyymmdd}``, so each new issue updates the same
day. The short-term report wins; the weekly one fills the days and values it lacks.

Readings of this format (no specification exists):
* A day's ``precipitationProbability`` is the highest of its 6-hour chances (÷100).
* Temperature stations are matched to areas by position (JMA lists one per area, in the same
  order); when the counts differ, the temperatures are left out rather than guessed.
* In ``temps`` a 00:00 time is the morning minimum and 09:00 the daytime maximum; a minimum
  of the issue's own day is a repeat of its maximum (the morning is over) and is skipped.

Options: ``base_url`` (default ``https://www.jma.go.jp/bosai``), ``offices`` (default
``["130000"]``), ``area_names`` (true: also read ``common/const/area.json`` once for the
English area names; ``use_area_names`` gives it for replays).
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.ngsi import date_time, entity, language, prop
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records, raw_text
from cityhub.ingest.feeds.values import JST, aware_time, integer, iso, number, text

BASE_URL = "https://www.jma.go.jp/bosai"
DATA_PROVIDER = "出典：気象庁ホームページ Japan Meteorological Agency (www.jma.go.jp)"


@dataclass
class Day:
    """What the reports say about one area on one day."""

    area: str
    day: date
    name: str | None
    issued: str
    valid_from: str
    values: dict[str, Any] = field(default_factory=dict)
    pops: list[int] = field(default_factory=list)
    pops_report: int | None = None  # the report the chances come from (one only)

    def put(self, key: str, value: Any) -> None:
        """Keep the first value given: the short-term report is read before the weekly one."""
        if value is not None and key not in self.values:
            self.values[key] = value


def _times(series: dict[str, Any]) -> list[datetime]:
    defines = series.get("timeDefines")
    if not isinstance(defines, list):
        raise RecordError("timeDefines is not a list")
    moments = []
    for raw in defines:
        value = aware_time(raw, "timeDefines")
        if value is None:
            raise RecordError("timeDefines holds an empty time")
        moments.append(datetime.fromisoformat(value).astimezone(JST))
    return moments


def _at(values: Any, index: int) -> Any:
    return values[index] if isinstance(values, list) and index < len(values) else None


def _area(entry: Any, position: int) -> dict[str, Any]:
    area = entry.get("area") if isinstance(entry, dict) else None
    if not isinstance(area, dict):
        raise RecordError(f"areas[{position}] has no area")
    return area


class Forecast:
    """The days of one forecast document, merged from its reports in order."""

    def __init__(self) -> None:
        self.days: dict[tuple[str, date], Day] = {}

    def day(self, area: dict[str, Any], moment: datetime, issued: datetime) -> Day:
        code = text(area.get("code"), "area.code")
        if code is None or not code.isdigit():
            raise RecordError(f"area code {code!r} is not a code")
        key = (code, moment.date())
        if key not in self.days:
            start = datetime.combine(moment.date(), time(0), JST)
            name = text(area.get("name"), "area.name")
            self.days[key] = Day(code, moment.date(), name, iso(issued), iso(max(start, issued)))
        return self.days[key]

    def add_report(self, index: int, report: Any) -> None:
        """Merge one report; a report that cannot be read leaves the days as they were."""
        before = deepcopy(self.days)
        try:
            self._add_report(index, report)
        except Exception:
            self.days = before
            raise

    def _add_report(self, index: int, report: Any) -> None:
        if not isinstance(report, dict):
            raise RecordError("a report is not an object")
        raw_issued = aware_time(report.get("reportDatetime"), "reportDatetime")
        if raw_issued is None:
            raise RecordError("reportDatetime is missing")
        issued = datetime.fromisoformat(raw_issued).astimezone(JST)
        series_list = report.get("timeSeries")
        if not isinstance(series_list, list):
            raise RecordError("timeSeries is not a list")
        forecast_areas: list[dict[str, Any]] = []
        for series in series_list:
            if not isinstance(series, dict) or not isinstance(series.get("areas"), list):
                raise RecordError("a timeSeries has no areas list")
            moments = _times(series)
            entries = series["areas"]
            areas = [_area(entry, position) for position, entry in enumerate(entries)]
            if not forecast_areas and any("weatherCodes" in entry for entry in entries):
                forecast_areas = areas
            matched = len(entries) == len(forecast_areas)  # stations match areas by position
            for position, entry in enumerate(entries):
                if "weatherCodes" in entry or "pops" in entry:
                    self._area_values(index, entry, areas[position], moments, issued)
                elif matched and {"temps", "tempsMin", "tempsMax"} & entry.keys():
                    self._temperatures(entry, forecast_areas[position], moments, issued)

    def _area_values(
        self,
        report: int,
        entry: dict[str, Any],
        area: dict[str, Any],
        moments: list[datetime],
        issued: datetime,
    ) -> None:
        for index, moment in enumerate(moments):
            day = self.day(area, moment, issued)
            day.put("weatherCode", text(_at(entry.get("weatherCodes"), index), "weatherCodes"))
            day.put("weather", text(_at(entry.get("weathers"), index), "weathers"))
            day.put("wind", text(_at(entry.get("winds"), index), "winds"))
            day.put("wave", text(_at(entry.get("waves"), index), "waves"))
            pop = integer(_at(entry.get("pops"), index), "pops")
            if pop is None or day.pops_report not in (None, report):
                continue
            if not 0 <= pop <= 100:
                raise RecordError(f"pops: {pop} is not a percentage")
            day.pops.append(pop)
            day.pops_report = report

    def _temperatures(
        self, entry: dict[str, Any], area: dict[str, Any], moments: list[datetime], issued: datetime
    ) -> None:
        for index, moment in enumerate(moments):
            day = self.day(area, moment, issued)
            if "temps" in entry:
                value = number(_at(entry["temps"], index), "temps")
                if moment.hour != 0:
                    day.put("max", value)
                elif moment.date() != issued.date():
                    day.put("min", value)
            else:
                day.put("min", number(_at(entry.get("tempsMin"), index), "tempsMin"))
                day.put("max", number(_at(entry.get("tempsMax"), index), "tempsMax"))


def _entity(day: Day, names: dict[str, dict[str, str]], source: str) -> Entity:
    end = datetime.combine(day.day + timedelta(days=1), time(0), JST)
    values = day.values
    known = names.get(day.area, {})
    area_name = language({"ja": known.get("ja") or day.name, "en": known.get("en")})
    chance = max(day.pops) / 100 if day.pops else None
    return entity(
        f"urn:ngsi-ld:WeatherForecast:JP-JMA:{day.area}:{day.day:%Y%m%d}",
        "WeatherForecast",
        name=area_name,
        areaServed=area_name,
        dateIssued=date_time(day.issued),
        validFrom=date_time(day.valid_from),
        validTo=date_time(iso(end)),
        weatherType=language({"ja": values.get("weather")}),
        weatherCode=prop(values.get("weatherCode")),
        windDescription=language({"ja": values.get("wind")}),
        waveDescription=language({"ja": values.get("wave")}),
        precipitationProbability=prop(chance),
        dayMinimum=prop({"temperature": values["min"]}, unit="CEL") if "min" in values else None,
        dayMaximum=prop({"temperature": values["max"]}, unit="CEL") if "max" in values else None,
        dataProvider=prop(DATA_PROVIDER),
        source=prop(source or None),
    )


def parse_forecast(
    payload: bytes, source: str = "", names: dict[str, dict[str, str]] | None = None
) -> list[Item]:
    """WeatherForecast per (area, day) of one office's forecast document."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return [Rejected(f"The payload is not JSON: {exc}", raw_text(payload), "payload")]
    if not isinstance(doc, list) or not doc:
        reason = "A forecast document is a non-empty list of reports"
        return [Rejected(reason, raw_text(payload), "payload")]
    forecast = Forecast()
    rejected = map_records(
        ((f"[{index}]", (index, report)) for index, report in enumerate(doc)),
        lambda record: forecast.add_report(*record),
        raw=lambda record: raw_text(record[1]),
    )
    days = ((f"{code}:{day:%Y%m%d}", value) for (code, day), value in forecast.days.items())
    built = map_records(
        days,
        lambda day: _entity(day, names or {}, source),
        raw=lambda day: raw_text(day.values),
    )
    return rejected + built


def area_names(area_json: bytes) -> dict[str, dict[str, str]]:
    """Area code → {"ja", "en"} names from ``common/const/area.json``."""
    doc = orjson.loads(area_json)
    if not isinstance(doc, dict):
        raise ValueError("area.json must be a JSON object")
    names: dict[str, dict[str, str]] = {}
    for level in ("offices", "class10s", "class15s", "class20s"):
        for code, area in (doc.get(level) or {}).items():
            if isinstance(area, dict):
                found = {"ja": area.get("name"), "en": area.get("enName")}
                names[code] = {tag: name for tag, name in found.items() if isinstance(name, str)}
    return names


@register
class JmaForecastAdapter(FeedAdapter):
    """JMA short-term and weekly forecasts per area (CATALOG §6) → WeatherForecast."""

    name = "jma-forecast"
    title = "Japan Meteorological Agency area forecasts (3-day and weekly) → WeatherForecast"
    default_tenant = "tokyo"

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        super().__init__(options, api_key)
        self._names: dict[str, dict[str, str]] | None = None

    def use_area_names(self, area_json: bytes) -> None:
        """Give area.json, whose English names are then added to the area names."""
        self._names = area_names(area_json)

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        base = str(self.options.get("base_url", BASE_URL)).rstrip("/")
        if self.options.get("area_names") and self._names is None:
            try:
                found = await fetcher.get(f"{base}/common/const/area.json", conditional=False)
                if found is not None:
                    self.use_area_names(found.body)
            except (FetchError, orjson.JSONDecodeError, ValueError):
                pass  # names are a nicety: the forecast goes on with its own Japanese names
        items: list[Item] = []
        for office in self.options.get("offices", ["130000"]):
            url = f"{base}/forecast/data/forecast/{office}.json"
            fetched = await fetcher.get(url)
            if fetched is not None:
                items.extend(self.parse(fetched.body, fetched_at=fetched.fetched_at, source=url))
        return items

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        url = source if source.startswith(("http://", "https://")) else ""
        return parse_forecast(payload, url, self._names)
