"""citydata facilities and incidents → Off/OnStreetParking, EVChargingStation,
BikeHireDockingStation and Alert (road incidents of ``ACDNT_CNTRL_STTS``).

CATALOG §1. Upstream quirks handled here: ``PRK_CD`` repeats within one response (two
sections of one street lot, with their own capacity and place), ``CHARGER_STTS`` has one
element per charger with the station fields repeated, and incidents carry no id.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cityhub.ingest.feeds.kr_openapi import rows, seoul_time
from cityhub.ingest.feeds.ngsi import date_time, entity, language, point, prop
from cityhub.ingest.feeds.records import Entity, RecordError
from cityhub.ingest.feeds.seoul_citydata_area import common
from cityhub.ingest.feeds.seoul_parking import (
    fee_category,
    fee_schedule,
    parking_code,
    parking_type,
    per_minute,
    spot_numbers,
    street_address,
)
from cityhub.ingest.feeds.values import integer, is_empty, lon_lat, number, required, text

ALERT_SOURCE = "https://data.seoul.go.kr"
# ACDNT_TYPE → (subCategory, severity): the project's mapping (CATALOG §1 for subCategory).
INCIDENTS = {
    "사고": ("carAccident", "medium"),
    "통제": ("roadClosed", "medium"),
    "행사": ("roadClosed", "low"),
    "공사": ("roadWorks", "low"),
}
# CHARGER_TYPE parts ("DC차데모+AC3상" has two) → EVChargingStation socketType.
SOCKETS = {"AC완속": "J-1772", "DC차데모": "CHAdeMO", "DC콤보": "CCS/SAE", "AC3상": "Type2"}
AVAILABLE = "사용가능"
_LOCAL_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def _local_id(raw: Any, field: str) -> str:
    value = required(text(raw, field), field)
    if not _LOCAL_ID.match(value):
        raise RecordError(f"{field}: {value!r} cannot be part of an id")
    return str(value)


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def _place(record: dict[str, Any], lon_field: str, lat_field: str) -> tuple[float, float] | None:
    lon, lat = record.get(lon_field), record.get(lat_field)
    if is_empty(lon) and is_empty(lat):
        return None
    return lon_lat(lon, lat, f"{lon_field}/{lat_field}")


def car_park(record: Any, repeated: set[str]) -> Entity:
    """A PRK_STTS lot. When its PRK_CD repeats in the response, each section is told apart by
    a suffix derived from its own coordinates (or address), the same whatever the order."""
    if not isinstance(record, dict):
        raise RecordError("A PRK_STTS record must be an object")
    code = parking_code(record.get("PRK_CD"), "PRK_CD")
    kind = parking_type(text(record.get("PRK_TYPE"), "PRK_TYPE"))
    place = _place(record, "LNG", "LAT")
    street = text(record.get("ROAD_ADDR"), "ROAD_ADDR") or text(record.get("ADDRESS"), "ADDRESS")
    local_id = code
    if code in repeated:
        if place is None and street is None:
            raise RecordError(f"PRK_CD {code} repeats and this one has no place to tell it apart")
        key = f"{place[0]:.6f},{place[1]:.6f}" if place is not None else str(street)
        local_id = f"{code}-{_digest(key)[:8]}"
    observed = seoul_time(record.get("CUR_PRK_TIME"), "CUR_PRK_TIME")
    live = text(record.get("CUR_PRK_YN"), "CUR_PRK_YN") == "Y" and observed is not None
    fee = number(record.get("RATES"), "RATES")
    minutes = number(record.get("TIME_RATES"), "TIME_RATES")
    schedule = fee_schedule(
        fee,
        minutes,
        number(record.get("ADD_RATES"), "ADD_RATES"),
        number(record.get("ADD_TIME_RATES"), "ADD_TIME_RATES"),
    )
    return entity(
        f"urn:ngsi-ld:{kind}:KR-Seoul:{local_id}",
        kind,
        name=language({"ko": text(record.get("PRK_NM"), "PRK_NM")}),
        address=prop(street_address(street)),
        location=None if place is None else point(*place),
        **spot_numbers(
            integer(record.get("CPCTY"), "CPCTY"),
            integer(record.get("CUR_PRK_CNT"), "CUR_PRK_CNT"),
            live,
            observed,
        ),
        category=prop(fee_category(text(record.get("PAY_YN"), "PAY_YN"))),
        priceRatePerMinute=prop(per_minute(fee, minutes) if schedule else None),
        priceCurrency=prop("KRW" if schedule else None),
        feeSchedule=prop(schedule),
        parkingCode=prop(code),
        **common(),
    )


def charging_station(group: Any) -> Entity:
    """The rows of one STAT_ID as one station: ``capacity`` = its chargers, counted once each
    by CHARGER_ID, ``availableCapacity`` = those 사용가능 (available)."""
    first = group[0]
    if not isinstance(first, dict):
        raise RecordError("A CHARGER_STTS record must be an object")
    station = _local_id(first.get("STAT_ID"), "STAT_ID")
    chargers: dict[str, dict[str, Any]] = {}
    for row in group:
        for detail in rows(row.get("CHARGER_DETAILS")) or [row]:  # older rows are flat
            if not isinstance(detail, dict):
                raise RecordError("A CHARGER_DETAILS record must be an object")
            charger = required(text(detail.get("CHARGER_ID"), "CHARGER_ID"), "CHARGER_ID")
            chargers.setdefault(charger, detail)
    listed: list[dict[str, Any]] = []
    for charger, detail in sorted(chargers.items()):
        kind = text(detail.get("CHARGER_TYPE"), "CHARGER_TYPE")
        facts = {
            "id": charger,
            "type": kind,
            "socketType": sorted({SOCKETS.get(p.strip(), "Other") for p in (kind or "").split("+")})
            if kind
            else None,
            "status": text(detail.get("CHARGER_STAT"), "CHARGER_STAT"),
            "outputKW": number(detail.get("OUTPUT"), "OUTPUT"),
            "statusChangedAt": seoul_time(detail.get("STATUPDDT"), "STATUPDDT"),
        }
        listed.append({key: value for key, value in facts.items() if value is not None})
    sockets = sorted({socket for facts in listed for socket in facts.get("socketType", [])})
    times = [facts["statusChangedAt"] for facts in listed if "statusChangedAt" in facts]
    observed = max(times) if times else None  # all +09:00, so the text order is time order
    place = _place(first, "STAT_X", "STAT_Y")
    return entity(
        f"urn:ngsi-ld:EVChargingStation:KR:{station}",
        "EVChargingStation",
        name=language({"ko": text(first.get("STAT_NM"), "STAT_NM")}),
        address=prop(street_address(text(first.get("STAT_ADDR"), "STAT_ADDR"))),
        location=None if place is None else point(*place),
        capacity=prop(len(listed)),
        availableCapacity=prop(
            sum(facts.get("status") == AVAILABLE for facts in listed), observed_at=observed
        ),
        socketType=prop(sockets or ["Other"]),
        allowedVehicleType=prop(["car"]),
        openingHours=prop(text(first.get("STAT_USETIME"), "STAT_USETIME")),
        observationDateTime=date_time(observed),
        chargers=prop(listed),
        **common(),
    )


def bike_station(record: Any) -> Entity:
    """A Seoul public bike (따릉이) dock. The block has no time: counts carry no observedAt."""
    if not isinstance(record, dict):
        raise RecordError("A SBIKE_STTS record must be an object")
    spot = _local_id(record.get("SBIKE_SPOT_ID"), "SBIKE_SPOT_ID")
    place = _place(record, "SBIKE_X", "SBIKE_Y")
    return entity(
        f"urn:ngsi-ld:BikeHireDockingStation:KR-Seoul:{spot}",
        "BikeHireDockingStation",
        name=language({"ko": text(record.get("SBIKE_SPOT_NM"), "SBIKE_SPOT_NM")}),
        location=None if place is None else point(*place),
        availableBikeNumber=prop(integer(record.get("SBIKE_PARKING_CNT"), "SBIKE_PARKING_CNT")),
        totalSlotNumber=prop(integer(record.get("SBIKE_RACK_CNT"), "SBIKE_RACK_CNT")),
        # bikes docked per rack, in percent (above 100 when bikes are parked beside racks)
        occupancyRate=prop(number(record.get("SBIKE_SHARED"), "SBIKE_SHARED"), unit="P1"),
        **common(),
    )


def incident_alert(record: Any) -> Entity:
    """A road incident or closure. It has no id upstream and appears in the response of every
    area it touches, so it is named by what does not change: when it began, where it is and
    its kind (not by area, nor by the update time ``ACDNT_TIME``)."""
    if not isinstance(record, dict):
        raise RecordError("An ACDNT_CNTRL_STTS record must be an object")
    began = seoul_time(record.get("ACDNT_OCCR_DT"), "ACDNT_OCCR_DT")
    place = _place(record, "ACDNT_X", "ACDNT_Y")
    if began is None and place is None:
        raise RecordError("ACDNT_OCCR_DT and ACDNT_X/ACDNT_Y are missing: nothing identifies it")
    issued = seoul_time(record.get("ACDNT_TIME"), "ACDNT_TIME") or began
    kind = text(record.get("ACDNT_TYPE"), "ACDNT_TYPE")
    detail = text(record.get("ACDNT_DTYPE"), "ACDNT_DTYPE")
    kind_en = text(record.get("ACDNT_ENG_TYPE"), "ACDNT_ENG_TYPE")
    detail_en = text(record.get("ACDNT_ENG_DTYPE"), "ACDNT_ENG_DTYPE")
    where = "" if place is None else f"{place[0]:.6f},{place[1]:.6f}"
    digest = _digest(began or "", where, kind or "", detail or "")[:12]
    sub_category, severity = INCIDENTS.get((kind or "").replace(" ", ""), (None, "informational"))
    facts = {
        "incidentType": kind,
        "incidentTypeEn": kind_en,
        "incidentDetail": detail,
        "incidentDetailEn": detail_en,
    }
    return entity(
        f"urn:ngsi-ld:Alert:KR-Seoul:ACDNT-{digest}",
        "Alert",
        name=language({"ko": detail or kind, "en": detail_en or kind_en}),
        category=prop("traffic"),
        subCategory=prop(sub_category),
        severity=prop(severity),
        description=language(
            {
                "ko": text(record.get("ACDNT_INFO"), "ACDNT_INFO"),
                "en": text(record.get("ACDNT_ENG_INFO"), "ACDNT_ENG_INFO"),
            }
        ),
        dateIssued=date_time(issued),
        validFrom=date_time(began),
        validTo=date_time(seoul_time(record.get("EXP_CLR_DT"), "EXP_CLR_DT")),
        location=None if place is None else point(*place),
        alertSource=prop(ALERT_SOURCE),
        data=prop({key: value for key, value in facts.items() if value is not None} or None),
        **common(),
    )
