"""seoul-parking: Seoul municipal car parks with live counts (GetParkingInfo) →
OffStreetParking / OnStreetParking (CATALOG §2). No sample exists: the payloads below follow
the catalog's field table (40 fields, numbers as floats, HHMM hours, "" when not linked)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.records import Item, Rejected
from cityhub.ingest.feeds.seoul_parking import SeoulParking
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 9, 14, 5, 31, 2, tzinfo=UTC)
KEY = "6f70717273"
PARKING = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
PROVIDER = {"type": "Property", "value": "Seoul Open Data Plaza (data.seoul.go.kr)"}
SOURCE = {
    "type": "Property",
    "value": "https://data.seoul.go.kr/dataList/OA-21709/S/1/datasetView.do",
}
LOCATIONS = {"1010089": [126.99462, 37.57135]}


def row(**fields: Any) -> dict[str, Any]:
    """A GetParkingInfo row with every field the catalog lists; ``fields`` override."""
    base: dict[str, Any] = {
        "PKLT_CD": "1010089",
        "PKLT_NM": "종묘주차장 공영(시)",
        "ADDR": "종로구 훈정동 2-0",
        "PKLT_TYPE": "NW",
        "PRK_TYPE_NM": "노외 주차장",
        "OPER_SE": "1",
        "OPER_SE_NM": "시간제 주차장",
        "TELNO": "02-2290-6566",
        "PRK_STTS_YN": "1",
        "PRK_STTS_NM": "현재~20분이내 연계데이터 존재(현재 주차대수 표현)",
        "TPKCT": 1270.0,
        "NOW_PRK_VHCL_CNT": 586.0,
        "NOW_PRK_VHCL_UPDT_TM": "2026-09-14 14:27:53",
        "PAY_YN": "Y",
        "PAY_YN_NM": "유료",
        "NGHT_PAY_YN": "N",
        "NGHT_PAY_YN_NM": "야간 미개방",
        "WD_OPER_BGNG_TM": "0000",
        "WD_OPER_END_TM": "2400",
        "WE_OPER_BGNG_TM": "0000",
        "WE_OPER_END_TM": "2400",
        "LHLDY_OPER_BGNG_TM": "0000",
        "LHLDY_OPER_END_TM": "2400",
        "SAT_CHGD_FREE_SE": "N",
        "SAT_CHGD_FREE_NM": "유료",
        "LHLDY_CHGD_FREE_SE": "N",
        "LHLDY_CHGD_FREE_NAME": "유료",
        "PRD_AMT": "176000",
        "STRT_PKLT_MNG_NO": "",
        "BSC_PRK_CRG": 250.0,
        "BSC_PRK_HR": 5.0,
        "ADD_PRK_CRG": 250.0,
        "ADD_PRK_HR": 5.0,
        "BUS_BSC_PRK_CRG": 0.0,
        "BUS_BSC_PRK_HR": 0.0,
        "BUS_ADD_PRK_HR": 0.0,
        "BUS_ADD_PRK_CRG": 0.0,
        "DAY_MAX_CRG": 0.0,
        "SHRN_PKLT_MNG_NM": "",
        "SHRN_PKLT_MNG_URL": "",
        "SHRN_PKLT_YN": "N",
        "SHRN_PKLT_ETC": "",
    }
    base.update(fields)
    return base


ON_STREET = row(
    PKLT_CD="1033754",
    PKLT_NM="세종대로 노상 공영주차장(시)",
    ADDR="종로구 세종로 80-1",
    PKLT_TYPE="NS",
    PRK_TYPE_NM="노상 주차장",
    TELNO="",
    PRK_STTS_YN="0",
    PRK_STTS_NM="미연계중",
    TPKCT=24.0,
    NOW_PRK_VHCL_CNT=0.0,
    NOW_PRK_VHCL_UPDT_TM="",
    WD_OPER_BGNG_TM="0900",
    WD_OPER_END_TM="1900",
    WE_OPER_BGNG_TM="0000",
    WE_OPER_END_TM="0000",
    LHLDY_OPER_BGNG_TM="0000",
    LHLDY_OPER_END_TM="0000",
    PRD_AMT="",
    BSC_PRK_CRG=400.0,
    BSC_PRK_HR=5.0,
    ADD_PRK_CRG=400.0,
    ADD_PRK_HR=5.0,
    DAY_MAX_CRG=30000.0,
)
OVER_FULL = row(
    PKLT_CD="1012254",
    PKLT_NM="세운상가 공영(시)",
    TPKCT=100.0,
    NOW_PRK_VHCL_CNT=104.0,
    NOW_PRK_VHCL_UPDT_TM="2026-09-14 14:29:10",
)
FREE = row(
    PKLT_CD="1068041",
    PKLT_NM="창신동 공영(구)",
    PAY_YN="N",
    PAY_YN_NM="무료",
    PRD_AMT="0",
    BSC_PRK_CRG=0.0,
    BSC_PRK_HR=5.0,
    ADD_PRK_CRG=0.0,
    ADD_PRK_HR=5.0,
)


def envelope(rows: list[Any], code: str = "INFO-000") -> bytes:
    return orjson.dumps(
        {
            "GetParkingInfo": {
                "list_total_count": len(rows),
                "RESULT": {"CODE": code, "MESSAGE": "정상 처리되었습니다"},
                "row": rows,
            }
        }
    )


def parse(payload: bytes, options: dict[str, Any] | None = None) -> list[Item]:
    adapter = SeoulParking({"locations": LOCATIONS} if options is None else options)
    return adapter.parse(payload, fetched_at=FETCHED, source="GetParkingInfo.json")


def by_id(items: list[Item]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items if isinstance(item, dict)}


def prop(value: Any, observed_at: str | None = None) -> dict[str, Any]:
    attribute = {"type": "Property", "value": value}
    if observed_at:
        attribute["observedAt"] = observed_at
    return attribute


def test_live_off_street_lot() -> None:
    at = "2026-09-14T14:27:53+09:00"
    items = parse(envelope([row(), ON_STREET, OVER_FULL, FREE]))
    assert [item for item in items if isinstance(item, Rejected)] == []
    assert by_id(items)["urn:ngsi-ld:OffStreetParking:KR-Seoul:1010089"] == {
        "id": "urn:ngsi-ld:OffStreetParking:KR-Seoul:1010089",
        "type": "OffStreetParking",
        "name": {"type": "LanguageProperty", "languageMap": {"ko": "종묘주차장 공영(시)"}},
        "address": prop({"streetAddress": "종로구 훈정동 2-0", "addressCountry": "KR"}),
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [126.99462, 37.57135]},
        },
        "totalSpotNumber": prop(1270),
        "occupiedSpotNumber": prop(586, at),
        "availableSpotNumber": prop(684, at),
        "observationDateTime": prop({"@type": "DateTime", "@value": at}),
        "category": prop(["feeCharged"]),
        "priceRatePerMinute": prop(50.0),  # 250 KRW per 5 minutes (BSC_PRK_HR is minutes)
        "priceCurrency": prop("KRW"),
        "feeSchedule": prop(
            {
                "basicFee": 250.0,
                "basicMinutes": 5.0,
                "additionalFee": 250.0,
                "additionalMinutes": 5.0,
                "monthlyPass": 176000.0,
                "currency": "KRW",
            }
        ),
        "openingHours": prop("Mo-Fr 00:00-24:00, Sa-Su 00:00-24:00, PH 00:00-24:00"),
        "contactPoint": prop({"telephone": "02-2290-6566"}),
        "parkingCode": prop("1010089"),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": PARKING,
    }


def test_on_street_lot_without_live_link_or_location() -> None:
    entities = by_id(parse(envelope([ON_STREET])))
    assert entities == {
        "urn:ngsi-ld:OnStreetParking:KR-Seoul:1033754": {
            "id": "urn:ngsi-ld:OnStreetParking:KR-Seoul:1033754",
            "type": "OnStreetParking",
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"ko": "세종대로 노상 공영주차장(시)"},
            },
            "address": prop({"streetAddress": "종로구 세종로 80-1", "addressCountry": "KR"}),
            # not linked (PRK_STTS_YN 0): capacity only; no location option for it
            "totalSpotNumber": prop(24),
            "category": prop(["feeCharged"]),
            "priceRatePerMinute": prop(80.0),
            "priceCurrency": prop("KRW"),
            "feeSchedule": prop(
                {
                    "basicFee": 400.0,
                    "basicMinutes": 5.0,
                    "additionalFee": 400.0,
                    "additionalMinutes": 5.0,
                    "dailyMaximum": 30000.0,
                    "currency": "KRW",
                }
            ),
            "openingHours": prop("Mo-Fr 09:00-19:00"),  # 0000–0000: closed at weekends
            "parkingCode": prop("1033754"),
            "dataProvider": PROVIDER,
            "source": SOURCE,
            "@context": PARKING,
        }
    }


def test_count_above_capacity_and_free_lot() -> None:
    entities = by_id(parse(envelope([OVER_FULL, FREE])))
    full = entities["urn:ngsi-ld:OffStreetParking:KR-Seoul:1012254"]
    at = "2026-09-14T14:29:10+09:00"
    assert full["occupiedSpotNumber"] == prop(104, at)
    assert full["availableSpotNumber"] == prop(0, at)  # never negative
    free = entities["urn:ngsi-ld:OffStreetParking:KR-Seoul:1068041"]
    assert free["category"] == prop(["free"])
    assert "feeSchedule" not in free and "priceRatePerMinute" not in free


def test_bad_rows_are_rejected_and_the_rest_mapped() -> None:
    payload = envelope(
        [
            row(),
            row(PKLT_CD="1010090", TPKCT="many"),
            {k: v for k, v in row().items() if k != "PKLT_CD"},
            row(PKLT_CD="1010091", WD_OPER_BGNG_TM="9am"),
            ON_STREET,
            row(PKLT_NM="종묘주차장 (중복)"),
        ]
    )
    items = parse(payload)
    problems = {p.where: p.reason for p in items if isinstance(p, Rejected)}
    assert problems == {
        "row[1]": "TPKCT: 'many' is not a number",
        "row[2]": "PKLT_CD is missing",
        "row[3]": "WD_OPER_BGNG_TM: '9am' is not a time HHMM",
        "row[5]": "PKLT_CD 1010089 appears more than once; the first row was kept",
    }
    duplicate = next(p for p in items if isinstance(p, Rejected) and p.where == "row[5]")
    assert orjson.loads(duplicate.raw)["PKLT_NM"] == "종묘주차장 (중복)"
    assert sorted(by_id(items)) == [
        "urn:ngsi-ld:OffStreetParking:KR-Seoul:1010089",
        "urn:ngsi-ld:OnStreetParking:KR-Seoul:1033754",
    ]


def test_location_option_out_of_range_is_rejected() -> None:
    items = parse(envelope([row(), ON_STREET]), {"locations": {"1010089": [226.99, 37.57]}})
    [problem] = [item for item in items if isinstance(item, Rejected)]
    assert problem.reason == "locations[1010089]: longitude 226.99 is out of range"
    assert len(by_id(items)) == 1


def test_no_lot_in_the_district_is_no_data() -> None:
    payload = orjson.dumps(
        {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
    )
    assert parse(payload) == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            orjson.dumps(
                {"RESULT": {"CODE": "INFO-100", "MESSAGE": "인증키가 유효하지 않습니다."}}
            ),
            "GetParkingInfo answered INFO-100: 인증키가 유효하지 않습니다.",
        ),
        (b'{"GetParkingInfo": {"row": [', "The payload is neither JSON nor XML"),
        (b'{"CITYDATA": {}}', "The payload is not a GetParkingInfo response"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [problem] = parse(payload)
    assert isinstance(problem, Rejected)
    assert problem.where == "payload"
    assert problem.reason.startswith(reason)
    assert problem.raw == payload.decode()


def test_xml_form_is_read_like_json() -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><GetParkingInfo>'
        "<list_total_count>1</list_total_count>"
        "<RESULT><CODE>INFO-000</CODE><MESSAGE>정상 처리되었습니다</MESSAGE></RESULT>"
        "<row>"
        + "".join(f"<{k}>{v}</{k}>" for k, v in ON_STREET.items())
        + "</row></GetParkingInfo>"
    )
    assert parse(xml.encode()) == parse(envelope([ON_STREET]))


def test_parse_is_deterministic() -> None:
    payload = envelope([row(), ON_STREET, OVER_FULL, FREE])
    later = SeoulParking({"locations": LOCATIONS}).parse(
        payload, fetched_at=datetime(2026, 9, 15, tzinfo=UTC)
    )
    assert parse(payload) == later


async def test_hub_accepts_every_entity() -> None:
    assert await assert_hub_accepts(parse(envelope([row(), ON_STREET, OVER_FULL, FREE]))) == 4


async def test_collect_requests_the_whole_list_or_one_district() -> None:
    assert adapter_class("seoul-parking") is SeoulParking
    district = "종로구"
    with ContextServer() as server:
        body = envelope([row(), ON_STREET])
        server.route(f"/{KEY}/json/GetParkingInfo/1/1000/", body, content_type="application/json")
        district_path = f"/{KEY}/json/GetParkingInfo/1/1000/{quote(district)}"
        server.route(district_path, body, content_type="application/json")
        fetcher = Fetcher(retries=0)
        try:
            everything = await SeoulParking(
                {"base_url": server.base, "locations": LOCATIONS}, api_key=KEY
            ).collect(fetcher)
            one_district = await SeoulParking(
                {"base_url": server.base, "district": district}, api_key=KEY
            ).collect(fetcher)
        finally:
            await fetcher.aclose()
        assert server.hits(f"/{KEY}/json/GetParkingInfo/1/1000/") == 1
        assert server.hits(district_path) == 1
    assert everything == parse(body)
    assert sorted(by_id(one_district)) == [
        "urn:ngsi-ld:OffStreetParking:KR-Seoul:1010089",
        "urn:ngsi-ld:OnStreetParking:KR-Seoul:1033754",
    ]
    assert "location" not in by_id(one_district)["urn:ngsi-ld:OffStreetParking:KR-Seoul:1010089"]
