"""Seoul municipal car parks, live counts (``GetParkingInfo``, OA-21709) → Off/OnStreetParking.

CATALOG §2 (no sample: built from the field table). ``{"GetParkingInfo": {"list_total_count":
122, "RESULT": {"CODE": "INFO-000", …}, "row": [{PKLT_CD, PKLT_NM, ADDR, PKLT_TYPE (NW 노외 /
NS 노상), TPKCT, NOW_PRK_VHCL_CNT, NOW_PRK_VHCL_UPDT_TM, PRK_STTS_YN, PAY_YN, BSC_PRK_CRG,
BSC_PRK_HR (minutes), WD_/WE_/LHLDY_OPER_BGNG_TM|END_TM (HHMM), …}]}}``.

GetParkingInfo has no coordinates: the ``locations`` option (PKLT_CD → [lon, lat]) places a
lot, otherwise location is left out. The Smart Data Model requires location for
OffStreetParking, NGSI-LD does not; the hub stores the rest. The entity ids are those of
citydata's ``PRK_STTS`` (same Seoul parking code), so where both feeds know a lot, its
location and live count meet in one entity.
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
    decode,
    fetch_each,
    payload_rejected,
    quiet_text,
    record_raw,
    rows,
    seoul_result,
    seoul_time,
)
from cityhub.ingest.feeds.ngsi import Attribute, date_time, entity, language, point, prop
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import integer, lon_lat, number, required, text

SOURCE = "https://data.seoul.go.kr/dataList/OA-21709/S/1/datasetView.do"
# Day groups of the operating hours, as schema.org openingHours day ranges ("PH" = holidays).
DAY_GROUPS = (("WD", "Mo-Fr"), ("WE", "Sa-Su"), ("LHLDY", "PH"))


def parking_type(kind: str | None) -> str:
    """NS (노상, on the street) is OnStreetParking; NW (노외) and the building lots are off."""
    return "OnStreetParking" if kind == "NS" else "OffStreetParking"


def parking_code(raw: Any, field: str) -> str:
    value = required(text(raw, field), field)
    if not value.replace("-", "").isalnum() or not value.isascii():
        raise RecordError(f"{field}: {value!r} is not a parking code")
    return str(value)


def fee_category(pay: str | None) -> list[str] | None:
    """PAY_YN (Y/N, or the names 유료/무료) as the Parking model's category values."""
    if pay in ("Y", "유료"):
        return ["feeCharged"]
    if pay in ("N", "무료"):
        return ["free"]
    return None


def per_minute(fee: float | None, minutes: float | None) -> float | None:
    """A fee for a number of minutes as KRW per minute (2000 per 30 min → 66.67)."""
    if fee is None or not minutes or minutes <= 0:
        return None
    return round(fee / minutes, 2)


def fee_schedule(
    fee: float | None,
    minutes: float | None,
    extra_fee: float | None,
    extra_minutes: float | None,
    *,
    daily: float | None = None,
    monthly: float | None = None,
) -> dict[str, Any] | None:
    """The tariff as an extension (SDM has only a per-minute rate): the first period, each
    further period, the daily cap and the monthly pass, in KRW. None for a free lot (all
    fees 0)."""
    if not any((fee, extra_fee, daily, monthly)):
        return None
    schedule = {
        "basicFee": fee,
        "basicMinutes": minutes,
        "additionalFee": extra_fee,
        "additionalMinutes": extra_minutes,
        "dailyMaximum": daily,
        "monthlyPass": monthly,
    }
    return {**{k: v for k, v in schedule.items() if v is not None}, "currency": "KRW"}


def spot_numbers(
    total: int | None, occupied: int | None, live: bool, observed: str | None
) -> dict[str, Attribute | None]:
    """totalSpotNumber, and the live counts only when the lot reports them (CATALOG: a lot
    without a live link keeps an old or empty count). Counts above capacity happen upstream;
    availableSpotNumber is then 0, never negative."""
    attributes: dict[str, Attribute | None] = {"totalSpotNumber": prop(total)}
    if live and occupied is not None:
        if occupied < 0:
            raise RecordError(f"occupied spot count {occupied} is negative")
        available = None if total is None else max(total - occupied, 0)
        attributes["occupiedSpotNumber"] = prop(occupied, observed_at=observed)
        attributes["availableSpotNumber"] = prop(available, observed_at=observed)
        attributes["observationDateTime"] = date_time(observed)
    return attributes


def street_address(street: str | None) -> dict[str, str] | None:
    return None if street is None else {"streetAddress": street, "addressCountry": "KR"}


def opening_hours(row: dict[str, Any]) -> str | None:
    """The HHMM pairs as schema.org openingHours, e.g. ``Mo-Fr 09:00-19:00, Sa-Su 00:00-24:00``.
    Equal begin and end (``0000``–``0000``) means no operation in that group."""
    parts = []
    for prefix, days in DAY_GROUPS:
        begin = _hhmm(row.get(f"{prefix}_OPER_BGNG_TM"), f"{prefix}_OPER_BGNG_TM")
        end = _hhmm(row.get(f"{prefix}_OPER_END_TM"), f"{prefix}_OPER_END_TM")
        if begin is not None and end is not None and begin != end:
            parts.append(f"{days} {begin}-{end}")
    return ", ".join(parts) or None


def _hhmm(raw: Any, field: str) -> str | None:
    value = text(raw, field)
    if value is None:
        return None
    value = value.replace(":", "").zfill(4)
    if not (value.isdigit() and len(value) == 4 and int(value[:2]) <= 24 and int(value[2:]) < 60):
        raise RecordError(f"{field}: {raw!r} is not a time HHMM")
    if value[:2] == "24" and value[2:] != "00":
        raise RecordError(f"{field}: {raw!r} is past 24:00")
    return f"{value[:2]}:{value[2:]}"


@register
class SeoulParking(FeedAdapter):
    """Options: ``locations`` ({PKLT_CD: [lon, lat]}), ``district`` (e.g. "종로구"; default
    all of Seoul), ``base_url``."""

    name = "seoul-parking"
    title = "Seoul municipal car parks, live occupancy (GetParkingInfo) → Off/OnStreetParking"
    default_tenant = "seoul"
    key_setting = "seoul_api_key"

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        base = str(self.options.get("base_url", SEOUL_BASE_URL)).rstrip("/")
        key = quote(self.api_key, safe="")
        url = f"{base}/{key}/json/GetParkingInfo/1/1000/"
        if self.options.get("district"):
            url += quote(str(self.options["district"]), safe="")
        fetched, items = await fetch_each(
            fetcher, [("GetParkingInfo", url, None)], (self.api_key, key)
        )
        for _, answer in fetched:
            items.extend(self.parse(answer.body, fetched_at=answer.fetched_at, source=answer.url))
        return items

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        try:
            document = decode(payload)
        except PayloadError as exc:
            return [payload_rejected(str(exc), payload)]
        envelope = document.get("GetParkingInfo", document)
        result = seoul_result(envelope)
        if result is not None and result[0] == "INFO-200":  # no lot matches (district filter)
            return []
        if result is not None and result[0] != "INFO-000":
            code, message = result
            return [payload_rejected(f"GetParkingInfo answered {code}: {message}", payload)]
        if "GetParkingInfo" not in document or not isinstance(envelope, dict):
            return [payload_rejected("The payload is not a GetParkingInfo response", payload)]
        records = [(f"row[{i}]", row) for i, row in enumerate(rows(envelope.get("row")))]
        kept, repeated = _first_of_each(records)
        return map_records(kept, self._lot, raw=record_raw) + repeated

    def _lot(self, row: Any) -> Entity:
        if not isinstance(row, dict):
            raise RecordError("A GetParkingInfo row must be an object")
        code = parking_code(row.get("PKLT_CD"), "PKLT_CD")
        kind = parking_type(text(row.get("PKLT_TYPE"), "PKLT_TYPE"))
        observed = seoul_time(row.get("NOW_PRK_VHCL_UPDT_TM"), "NOW_PRK_VHCL_UPDT_TM")
        live = text(row.get("PRK_STTS_YN"), "PRK_STTS_YN") in ("1", "Y") and observed is not None
        fee = number(row.get("BSC_PRK_CRG"), "BSC_PRK_CRG")
        minutes = number(row.get("BSC_PRK_HR"), "BSC_PRK_HR")  # minutes, despite "HR"
        schedule = fee_schedule(
            fee,
            minutes,
            number(row.get("ADD_PRK_CRG"), "ADD_PRK_CRG"),
            number(row.get("ADD_PRK_HR"), "ADD_PRK_HR"),
            # 0 here means "no daily cap" and "no monthly pass", not a price of 0
            daily=number(row.get("DAY_MAX_CRG"), "DAY_MAX_CRG") or None,
            monthly=number(row.get("PRD_AMT"), "PRD_AMT") or None,
        )
        phone = text(row.get("TELNO"), "TELNO")
        pay = text(row.get("PAY_YN"), "PAY_YN") or text(row.get("PAY_YN_NM"), "PAY_YN_NM")
        return entity(
            f"urn:ngsi-ld:{kind}:KR-Seoul:{code}",
            kind,
            name=language({"ko": text(row.get("PKLT_NM"), "PKLT_NM")}),
            address=prop(street_address(text(row.get("ADDR"), "ADDR"))),
            location=self._location(code),
            **spot_numbers(
                integer(row.get("TPKCT"), "TPKCT"),
                integer(row.get("NOW_PRK_VHCL_CNT"), "NOW_PRK_VHCL_CNT"),
                live,
                observed,
            ),
            category=prop(fee_category(pay)),
            priceRatePerMinute=prop(per_minute(fee, minutes) if schedule else None),
            priceCurrency=prop("KRW" if schedule else None),
            feeSchedule=prop(schedule),
            openingHours=prop(opening_hours(row)),
            contactPoint=prop({"telephone": phone} if phone else None),
            parkingCode=prop(code),
            dataProvider=prop(SEOUL_PROVIDER),
            source=prop(SOURCE),
        )

    def _location(self, code: str) -> dict[str, Any] | None:
        coordinates = (self.options.get("locations") or {}).get(code)
        if coordinates is None:
            return None
        lon, lat = lon_lat(coordinates[0], coordinates[1], f"locations[{code}]")
        return point(lon, lat)


def _first_of_each(records: list[tuple[str, Any]]) -> tuple[list[tuple[str, Any]], list[Item]]:
    """One entity per lot: a later row repeating a PKLT_CD becomes a Rejected."""
    seen: set[str] = set()
    kept: list[tuple[str, Any]] = []
    repeated: list[Item] = []
    for where, row in records:
        code = quiet_text(row.get("PKLT_CD")) if isinstance(row, dict) else None
        if code is not None and code in seen:
            reason = f"PKLT_CD {code} appears more than once; the first row was kept"
            repeated.append(Rejected(reason, record_raw(row), where))
            continue
        if code is not None:
            seen.add(code)
        kept.append((where, row))
    return kept, repeated
