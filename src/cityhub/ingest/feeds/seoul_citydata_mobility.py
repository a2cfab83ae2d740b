"""citydata crowding and road traffic → CrowdFlowObserved, TrafficFlowObserved, RoadSegment.

CATALOG §1, rows ``LIVE_PPLTN_STTS`` (+ ``LIVE_SUB_PPLTN``, ``LIVE_BUS_PPLTN``; the sibling
service ``citydata_ppltn`` sends the same record alone) and ``ROAD_TRAFFIC_STTS``. Korean
levels become an ordinal ``congestionLevel`` (1 = least) with the Korean word kept in
``congestionLevelName``; Smart Data Models has no such attribute, nor a population range.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from cityhub.ingest.feeds.kr_openapi import rows, seoul_time
from cityhub.ingest.feeds.ngsi import date_time, entity, geo, language, point, prop, relationship
from cityhub.ingest.feeds.records import Entity, RecordError
from cityhub.ingest.feeds.seoul_citydata_area import Area, common, line, xy, xy_list
from cityhub.ingest.feeds.seoul_traffic import link_id
from cityhub.ingest.feeds.values import integer, is_empty, number, required, text

# AREA_CONGEST_LVL / FCST_CONGEST_LVL (spaces ignored: "약간 붐빔").
CROWD_LEVELS = {"여유": 1, "보통": 2, "약간붐빔": 3, "붐빔": 4}
CROWDED = 3  # 약간 붐빔 and 붐빔 are "congested" (CATALOG §1)
# IDX / ROAD_TRAFFIC_IDX: free flow, slow, jammed; only 정체 is "congested".
ROAD_LEVELS = {"원활": 1, "서행": 2, "정체": 3}
JAMMED = 3
AGE_GROUPS = ("0", "10", "20", "30", "40", "50", "60", "70")  # PPLTN_RATE_{n}: n..n+9, 70+
RIDERSHIP_PERIODS = (
    ("ACML", "today"),
    ("30WTHN", "last30Minutes"),
    ("10WTHN", "last10Minutes"),
    ("5WTHN", "last5Minutes"),
)


def level(raw: Any, field: str, levels: dict[str, int]) -> tuple[int | None, str | None]:
    """(ordinal, Korean word); an unknown word keeps its name without an ordinal."""
    name = text(raw, field)
    return (None if name is None else levels.get(name.replace(" ", ""))), name


def half_up(value: float) -> int:
    return math.floor(value + 0.5)


def crowd_flow(record: Any, area: Area, subway: Any = None, bus: Any = None) -> Entity:
    """The area's live population: ``peopleCount`` is the middle of the published range."""
    if not isinstance(record, dict):
        raise RecordError("A LIVE_PPLTN_STTS record must be an object")
    observed = required(seoul_time(record.get("PPLTN_TIME"), "PPLTN_TIME"), "PPLTN_TIME")
    low = integer(record.get("AREA_PPLTN_MIN"), "AREA_PPLTN_MIN")
    high = integer(record.get("AREA_PPLTN_MAX"), "AREA_PPLTN_MAX")
    count = half_up((low + high) / 2) if low is not None and high is not None else low or high
    ordinal, word = level(record.get("AREA_CONGEST_LVL"), "AREA_CONGEST_LVL", CROWD_LEVELS)

    def rate(field: str) -> dict[str, Any] | None:
        return prop(number(record.get(field), field), unit="P1", observed_at=observed)

    ages = {
        group: value
        for group in AGE_GROUPS
        if (value := number(record.get(f"PPLTN_RATE_{group}"), f"PPLTN_RATE_{group}")) is not None
    }
    forecast = [_forecast(item) for item in rows(record.get("FCST_PPLTN"))]
    return entity(
        f"urn:ngsi-ld:CrowdFlowObserved:KR-Seoul:{area.id_part()}",
        "CrowdFlowObserved",
        name=language({"ko": area.name}),
        location=area.location(),
        dateObserved=date_time(observed),
        peopleCount=prop(count, observed_at=observed),
        peopleCountMin=prop(low, observed_at=observed),
        peopleCountMax=prop(high, observed_at=observed),
        congested=prop(None if ordinal is None else ordinal >= CROWDED, observed_at=observed),
        congestionLevel=prop(ordinal, observed_at=observed),
        congestionLevelName=language({"ko": word}),
        congestionMessage=language(
            {"ko": text(record.get("AREA_CONGEST_MSG"), "AREA_CONGEST_MSG")}
        ),
        maleRate=rate("MALE_PPLTN_RATE"),
        femaleRate=rate("FEMALE_PPLTN_RATE"),
        residentRate=rate("RESNT_PPLTN_RATE"),
        nonResidentRate=rate("NON_RESNT_PPLTN_RATE"),
        ageGroupRate=prop(ages or None, unit="P1", observed_at=observed),
        populationForecast=prop(forecast or None),
        subwayRidership=prop(_ridership(subway, "SUB")),
        busRidership=prop(_ridership(bus, "BUS")),
        **common(),
    )


def _forecast(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RecordError("A FCST_PPLTN record must be an object")
    ordinal, word = level(item.get("FCST_CONGEST_LVL"), "FCST_CONGEST_LVL", CROWD_LEVELS)
    values = {
        "time": required(seoul_time(item.get("FCST_TIME"), "FCST_TIME"), "FCST_TIME"),
        "congestionLevel": ordinal,
        "congestionLevelName": word,
        "peopleCountMin": integer(item.get("FCST_PPLTN_MIN"), "FCST_PPLTN_MIN"),
        "peopleCountMax": integer(item.get("FCST_PPLTN_MAX"), "FCST_PPLTN_MAX"),
    }
    return {key: value for key, value in values.items() if value is not None}


def _ridership(block: Any, prefix: str) -> dict[str, Any] | None:
    """Boarding/alighting ranges at the area's subway or bus stops (no SDM equivalent)."""
    if not isinstance(block, dict):
        return None
    summary: dict[str, Any] = {}
    stations = integer(block.get(f"{prefix}_STN_CNT"), f"{prefix}_STN_CNT")
    if stations is not None:
        summary["stationCount"] = stations
    day = text(block.get(f"{prefix}_STN_TIME"), f"{prefix}_STN_TIME")
    if day is not None:
        try:
            summary["date"] = datetime.strptime(day, "%Y%m%d").date().isoformat()
        except ValueError:
            raise RecordError(f"{prefix}_STN_TIME: {day!r} is not a date YYYYMMDD") from None
    for code, period in RIDERSHIP_PERIODS:
        counts = {
            f"{direction}{end.title()}": value
            for direction, field in (("boarding", "GTON"), ("alighting", "GTOFF"))
            for end in ("MIN", "MAX")
            if (value := integer(block.get(f"{prefix}_{code}_{field}_PPLTN_{end}"), period))
            is not None
        }
        if counts:
            summary[period] = counts
    return summary or None


def road_time(average: Any) -> str:
    """ROAD_TRAFFIC_TIME of AVG_ROAD_DATA: the only time of the whole road block."""
    if not isinstance(average, dict):
        raise RecordError("AVG_ROAD_DATA is missing: the road block has no time")
    raw = average.get("ROAD_TRAFFIC_TIME")
    return str(required(seoul_time(raw, "ROAD_TRAFFIC_TIME"), "ROAD_TRAFFIC_TIME"))


def road_link(link: Any, average: Any) -> list[Entity]:
    """One road link: its traffic now (TrafficFlowObserved) and the link itself
    (RoadSegment, with DIST and the end nodes). The geometry is XYLIST in the order given."""
    if not isinstance(link, dict):
        raise RecordError("A ROAD_TRAFFIC_STTS record must be an object")
    link_code = link_id(link.get("LINK_ID"), "LINK_ID")
    observed = road_time(average)
    start = None if is_empty(link.get("START_ND_XY")) else xy(link["START_ND_XY"], "START_ND_XY")
    end = None if is_empty(link.get("END_ND_XY")) else xy(link["END_ND_XY"], "END_ND_XY")
    vertices = xy_list(link.get("XYLIST"), "XYLIST")
    if len(vertices) < 2 and start is not None and end is not None:
        vertices = [start, end]
    geometry = geo(line(vertices))
    speed = number(link.get("SPD"), "SPD")
    if speed is not None and speed < 0:
        raise RecordError(f"SPD: {speed} is negative")
    ordinal, word = level(link.get("IDX"), "IDX", ROAD_LEVELS)
    road_name = language({"ko": text(link.get("ROAD_NM"), "ROAD_NM")})
    segment_id = f"urn:ngsi-ld:RoadSegment:KR-Seoul:{link_code}"
    traffic = entity(
        f"urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:{link_code}",
        "TrafficFlowObserved",
        name=road_name,
        location=geometry,
        dateObserved=date_time(observed),
        averageVehicleSpeed=prop(speed, unit="KMH", observed_at=observed),
        congested=prop(None if ordinal is None else ordinal >= JAMMED, observed_at=observed),
        congestionLevel=prop(ordinal, observed_at=observed),
        congestionLevelName=language({"ko": word}),
        refRoadSegment=relationship(segment_id),
        **common(),
    )
    segment = entity(
        segment_id,
        "RoadSegment",
        name=road_name,
        location=geometry,
        startPoint=None if start is None else point(*start),
        endPoint=None if end is None else point(*end),
        length=prop(number(link.get("DIST"), "DIST"), unit="MTR"),
        startNodeName=language({"ko": text(link.get("START_ND_NM"), "START_ND_NM")}),
        endNodeName=language({"ko": text(link.get("END_ND_NM"), "END_ND_NM")}),
        **common(),
    )
    return [traffic, segment]


def area_traffic(average: Any, area: Area, centre: tuple[float, float] | None) -> Entity:
    """AVG_ROAD_DATA as the area's own TrafficFlowObserved, placed at the centroid of the
    road links (``centre``), else of the area."""
    observed = road_time(average)
    ordinal, word = level(average.get("ROAD_TRAFFIC_IDX"), "ROAD_TRAFFIC_IDX", ROAD_LEVELS)
    return entity(
        f"urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:{area.id_part()}",
        "TrafficFlowObserved",
        name=language({"ko": area.name}),
        description=language({"ko": text(average.get("ROAD_MSG"), "ROAD_MSG")}),
        location=area.location() if centre is None else point(*centre),
        dateObserved=date_time(observed),
        averageVehicleSpeed=prop(
            number(average.get("ROAD_TRAFFIC_SPD"), "ROAD_TRAFFIC_SPD"),
            unit="KMH",
            observed_at=observed,
        ),
        congested=prop(None if ordinal is None else ordinal >= JAMMED, observed_at=observed),
        congestionLevel=prop(ordinal, observed_at=observed),
        congestionLevelName=language({"ko": word}),
        **common(),
    )
