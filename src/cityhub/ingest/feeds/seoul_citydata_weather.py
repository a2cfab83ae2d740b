"""citydata ``WEATHER_STTS`` → WeatherObserved, WeatherForecast (``FCST24HOURS``) and
AirQualityObserved.

CATALOG §1. One record per area, hourly (``WEATHER_TIME``), from the Korea Meteorological
Administration and AirKorea via Seoul. Precipitation ``"-"`` means none (0 mm); other
non-numeric amounts (KMA writes ranges such as ``"1mm 미만"``) are kept as text only.
Humidity and rain chance are percentages upstream and 0–1 fractions in Smart Data Models.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from cityhub.ingest.feeds.kr_openapi import seoul_time
from cityhub.ingest.feeds.ngsi import date_time, entity, language, prop
from cityhub.ingest.feeds.records import Entity, RecordError
from cityhub.ingest.feeds.seoul_citydata_area import Area, common
from cityhub.ingest.feeds.seoul_citydata_mobility import half_up
from cityhub.ingest.feeds.values import iso, number, required, text

# 16-point compass (English as sent, Korean as KMA writes it) → degrees from north.
_POINTS = (
    ("N", "북"), ("NNE", "북북동"), ("NE", "북동"), ("ENE", "동북동"),
    ("E", "동"), ("ESE", "동남동"), ("SE", "남동"), ("SSE", "남남동"),
    ("S", "남"), ("SSW", "남남서"), ("SW", "남서"), ("WSW", "서남서"),
    ("W", "서"), ("WNW", "서북서"), ("NW", "북서"), ("NNW", "북북서"),
)  # fmt: skip
COMPASS = {name: index * 22.5 for index, names in enumerate(_POINTS) for name in names}
# AIR_IDX → the project's airQualityLevel vocabulary (SDM leaves it free text).
AIR_LEVELS = {"좋음": "good", "보통": "moderate", "나쁨": "unhealthy", "매우나쁨": "veryUnhealthy"}
_NO_RAIN = {"-", "없음", "강수없음"}
_AMOUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:mm)?$")


def weather_time(record: Any) -> str:
    if not isinstance(record, dict):
        raise RecordError("A WEATHER_STTS record must be an object")
    return str(required(seoul_time(record.get("WEATHER_TIME"), "WEATHER_TIME"), "WEATHER_TIME"))


def precipitation(raw: Any, field: str) -> tuple[float | None, str | None]:
    """(millimetres, text kept when the amount is not a plain number)."""
    if isinstance(raw, str) and raw.strip() in _NO_RAIN:
        return 0.0, None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return number(raw, field), None
    value = text(raw, field)
    if value is None:
        return None, None
    amount = _AMOUNT.match(value)
    return (float(amount.group(1)), None) if amount else (None, value)


def wind_direction(raw: Any, field: str) -> float | None:
    value = text(raw, field)
    if value is None:
        return None
    if value in COMPASS:
        return COMPASS[value]
    try:
        degrees = number(value, field)  # some sources send degrees already
    except RecordError:
        degrees = None
    if degrees is None or not 0 <= degrees <= 360:
        raise RecordError(f"{field}: {raw!r} is not a compass direction")
    return degrees


def fraction(raw: Any, field: str) -> float | None:
    """A percentage as a 0–1 fraction (45 → 0.45)."""
    value = number(raw, field)
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise RecordError(f"{field}: {value} is not a percentage")
    return round(value / 100, 4)


def weather_observed(record: Any, area: Area) -> Entity:
    observed = weather_time(record)
    amount, amount_text = precipitation(record.get("PRECIPITATION"), "PRECIPITATION")
    return entity(
        f"urn:ngsi-ld:WeatherObserved:KR-Seoul:{area.id_part()}",
        "WeatherObserved",
        name=language({"ko": area.name}),
        location=area.location(),
        dateObserved=date_time(observed),
        temperature=prop(number(record.get("TEMP"), "TEMP"), unit="CEL", observed_at=observed),
        relativeHumidity=prop(fraction(record.get("HUMIDITY"), "HUMIDITY"), observed_at=observed),
        windSpeed=prop(
            number(record.get("WIND_SPD"), "WIND_SPD"), unit="MTS", observed_at=observed
        ),
        windDirection=prop(
            wind_direction(record.get("WIND_DIRCT"), "WIND_DIRCT"), unit="DD", observed_at=observed
        ),
        precipitation=prop(amount, unit="MMT", observed_at=observed),
        precipitationText=language({"ko": amount_text}),
        precipitationType=language({"ko": text(record.get("PRECPT_TYPE"), "PRECPT_TYPE")}),
        uVIndexMax=prop(number(record.get("UV_INDEX"), "UV_INDEX"), observed_at=observed),
        **common(),
    )


def weather_forecast(item: Any, area: Area, issued: str) -> Entity:
    """One hour of FCST24HOURS, named by area and hour so each refresh of the same hour's
    forecast updates one entity. The payload gives no issue time: ``dateIssued`` is the
    WEATHER_TIME of the block that carried it. ``validTo`` is one hour after FCST_DT."""
    if not isinstance(item, dict):
        raise RecordError("A FCST24HOURS record must be an object")
    valid_from = required(seoul_time(item.get("FCST_DT"), "FCST_DT"), "FCST_DT")
    start = datetime.fromisoformat(valid_from)
    amount, amount_text = precipitation(item.get("PRECIPITATION"), "PRECIPITATION")
    return entity(
        f"urn:ngsi-ld:WeatherForecast:KR-Seoul:{area.id_part()}:{start:%Y%m%d%H%M}",
        "WeatherForecast",
        name=language({"ko": area.name}),
        location=area.location(),
        dateIssued=date_time(issued),
        validFrom=date_time(valid_from),
        validTo=date_time(iso(start + timedelta(hours=1))),
        temperature=prop(number(item.get("TEMP"), "TEMP"), unit="CEL"),
        precipitation=prop(amount, unit="MMT"),
        precipitationText=language({"ko": amount_text}),
        precipitationProbability=prop(fraction(item.get("RAIN_CHANCE"), "RAIN_CHANCE")),
        precipitationType=language({"ko": text(item.get("PRECPT_TYPE"), "PRECPT_TYPE")}),
        skyCondition=language({"ko": text(item.get("SKY_STTS"), "SKY_STTS")}),
        **common(),
    )


def air_quality(record: Any, area: Area) -> Entity | None:
    """The air fields of WEATHER_STTS; None when the block has no air measurement."""
    observed = weather_time(record)
    pm25 = number(record.get("PM25"), "PM25")
    pm10 = number(record.get("PM10"), "PM10")
    index = number(record.get("AIR_IDX_MVL"), "AIR_IDX_MVL")
    if pm25 is None and pm10 is None and index is None:
        return None
    word = text(record.get("AIR_IDX"), "AIR_IDX")
    return entity(
        f"urn:ngsi-ld:AirQualityObserved:KR-Seoul:{area.id_part()}",
        "AirQualityObserved",
        name=language({"ko": area.name}),
        location=area.location(),
        dateObserved=date_time(observed),
        typeofLocation=prop("outdoor"),
        pm25=prop(pm25, unit="GQ", observed_at=observed),
        pm10=prop(pm10, unit="GQ", observed_at=observed),
        airQualityIndex=prop(None if index is None else half_up(index), observed_at=observed),
        airQualityLevel=prop(AIR_LEVELS.get((word or "").replace(" ", "")), observed_at=observed),
        airQualityLevelName=language({"ko": word}),
        mainPollutant=prop(text(record.get("AIR_IDX_MAIN"), "AIR_IDX_MAIN")),
        description=language({"ko": text(record.get("AIR_MSG"), "AIR_MSG")}),
        **common(),
    )
