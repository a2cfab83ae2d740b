"""kr-disaster: Korea's emergency text messages (safetydata.go.kr DSSP-IF-00247) → Alert
(CATALOG §10). No sample file exists: the first two messages are a real response a third
party recorded (2026-08-18, shape confirmed: header, top-level totalCount, body array, CRT_DT
"YYYY/MM/DD HH:MM:SS", SN a number); the others are written from the catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetched, Fetcher
from cityhub.ingest.feeds.kr_disaster import KoreaDisasterMessages
from cityhub.ingest.feeds.records import Item, Rejected
from cityhub.ingest.feeds.values import KST
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 8, 17, 19, 5, tzinfo=UTC)
PATH = "/V2/api/DSSP-IF-00247"
ALERT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
PROVIDER = "Ministry of the Interior and Safety (행정안전부), Safety Data Portal (safetydata.go.kr)"

RECORDED = [
    {
        "MSG_CN": "현재 대조기 기간으로 밀물 속도가 매우 빠릅니다.",
        "RCPTN_RGN_NM": "충청남도 당진시 석문면",
        "CRT_DT": "2026/08/18 02:00:10",
        "REG_YMD": "2026/08/18 02:01:05.000000000",
        "EMRG_STEP_NM": "안전안내",
        "SN": 266798,
        "DST_SE_NM": "기타",
        "MDFCN_YMD": "2026/08/18 02:10:35.000000000",
    },
    {
        "MSG_CN": "오늘 새벽 03:00 호우주의보 발효.",
        "RCPTN_RGN_NM": "경상남도 거제시 ",
        "CRT_DT": "2026/08/18 03:51:18",
        "REG_YMD": "2026/08/18 03:51:55.000000000",
        "EMRG_STEP_NM": "안전안내",
        "SN": 266799,
        "DST_SE_NM": "호우",
        "MDFCN_YMD": "2026/08/18 04:01:45.000000000",
    },
]
EARTHQUAKE = {
    "MSG_CN": "[기상청] 경북 경주시 남남서쪽 9km 지역 규모5.4 지진발생/ 낙하물로부터 몸 보호, "
    "진동 멈춘 후 야외 대피하며 여진 주의 [KMA] Earthquake M5.4 Gyeongju",
    "RCPTN_RGN_NM": "경상북도 전체,대구광역시 전체,울산광역시 전체",
    "CRT_DT": "2026/08/18 04:12:40",
    "EMRG_STEP_NM": "위급재난",
    "SN": 266802,
    "DST_SE_NM": "지진",
}
HEAT = {
    "MSG_CN": "폭염경보 발효 중. 야외활동 자제, 물 자주 마시기 등 건강에 유의 바랍니다.",
    "RCPTN_RGN_NM": "서울특별시 전체",
    "CRT_DT": "2026/08/18 11:00:03",
    "EMRG_STEP_NM": "긴급재난",
    "SN": "266810",
    "DST_SE_NM": "폭염",
}


def response(body: Any, code: str = "00", message: str = "NORMAL SERVICE") -> bytes:
    return orjson.dumps(
        {
            "header": {"resultMsg": message, "resultCode": code, "errorMsg": None},
            "numOfRows": 1000,
            "pageNo": 1,
            "totalCount": len(body) if isinstance(body, list) else 0,
            "body": body,
        }
    )


def parse(payload: bytes) -> list[Item]:
    return KoreaDisasterMessages().parse(payload, fetched_at=FETCHED, source="DSSP-IF-00247.json")


def value(v: Any) -> dict[str, Any]:
    return {"type": "Property", "value": v}


def ko(text: str) -> dict[str, Any]:
    return {"type": "LanguageProperty", "languageMap": {"ko": text}}


def dt(text: str) -> dict[str, Any]:
    return value({"@type": "DateTime", "@value": text})


def test_recorded_messages() -> None:
    items = parse(response(RECORDED))
    assert items[1] == {
        "id": "urn:ngsi-ld:Alert:KR-MOIS:266799",
        "type": "Alert",
        "name": ko("호우"),
        "category": value("weather"),
        "subCategory": value("rainfall"),
        "severity": value("informational"),  # 안전안내
        "description": ko("오늘 새벽 03:00 호우주의보 발효."),
        "dateIssued": dt("2026-08-18T03:51:18+09:00"),
        "validFrom": dt("2026-08-18T03:51:18+09:00"),
        "areaServed": ko("경상남도 거제시"),
        "alertSource": value("https://www.safetydata.go.kr"),
        "data": value(
            {"serialNumber": "266799", "disasterType": "호우", "emergencyStep": "안전안내"}
        ),
        "dataProvider": value(PROVIDER),
        "source": value("https://www.safetydata.go.kr/V2/api/DSSP-IF-00247"),
        "@context": ALERT,
    }
    other = items[0]
    assert isinstance(other, dict)
    assert other["id"] == "urn:ngsi-ld:Alert:KR-MOIS:266798"
    assert other["category"] == value("security")  # 기타: public-safety guidance
    assert "subCategory" not in other


@pytest.mark.parametrize(
    ("message", "category", "sub_category", "severity"),
    [
        (EARTHQUAKE, "naturalDisaster", "earthquake", "critical"),  # 위급재난
        (HEAT, "weather", "heatWave", "high"),  # 긴급재난
        ({**HEAT, "SN": 266811, "DST_SE_NM": "한파"}, "weather", "coldWave", "high"),
        ({**HEAT, "SN": 266812, "DST_SE_NM": "대설"}, "weather", "snow", "high"),
        ({**HEAT, "SN": 266813, "DST_SE_NM": "태풍"}, "weather", "tropicalCyclone", "high"),
        ({**HEAT, "SN": 266814, "DST_SE_NM": "교통"}, "traffic", None, "high"),
    ],
)
def test_hazard_and_step_mapping(
    message: dict[str, Any], category: str, sub_category: str | None, severity: str
) -> None:
    [alert] = parse(response([message]))
    assert isinstance(alert, dict)
    assert alert["category"] == value(category)
    assert alert.get("subCategory") == (None if sub_category is None else value(sub_category))
    assert alert["severity"] == value(severity)


def test_bad_messages_are_rejected_and_the_rest_mapped() -> None:
    items = parse(
        response(
            [
                {**HEAT, "SN": None},
                {**HEAT, "SN": "2668 10"},
                {**HEAT, "CRT_DT": "어제"},
                {**HEAT, "MSG_CN": ""},
                EARTHQUAKE,
            ]
        )
    )
    problems = {p.where: p.reason for p in items if isinstance(p, Rejected)}
    assert problems == {
        "body[0]": "SN is missing",
        "body[1]": "SN: '2668 10' is not a message serial number",
        "body[2]": "CRT_DT: '어제' is not a time in the form %Y/%m/%d %H:%M:%S",
        "body[3]": "MSG_CN is missing",
    }
    assert [item["id"] for item in items if isinstance(item, dict)] == [
        "urn:ngsi-ld:Alert:KR-MOIS:266802"
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            orjson.dumps(
                {
                    "header": {
                        "resultMsg": "SERVICE KEY IS NOT REGISTERED ERROR",
                        "resultCode": "30",
                        "errorMsg": "등록되지 않은 서비스키",
                    },
                    "body": None,
                }
            ),
            "safetydata.go.kr answered 30: 등록되지 않은 서비스키",
        ),
        (b'{"header": {"resultCode": "00"}, "body": [', "The payload is neither JSON nor XML"),
        (b'{"response": {"body": {"items": []}}}', "The payload is not a DSSP-IF-00247 response"),
        (
            b"<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
            b"<returnReasonCode>22</returnReasonCode></cmmMsgHeader></OpenAPI_ServiceResponse>",
            "The API gateway refused the request: 22 SERVICE ERROR",
        ),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [problem] = parse(payload)
    assert isinstance(problem, Rejected)
    assert problem.where == "payload"
    assert problem.reason.startswith(reason)


def test_no_message_today_is_nothing() -> None:
    assert parse(response(None, code="03", message="NODATA_ERROR")) == []
    assert parse(response([])) == []


def test_parse_is_deterministic() -> None:
    payload = response([*RECORDED, EARTHQUAKE, HEAT])
    later = KoreaDisasterMessages().parse(payload, fetched_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert parse(payload) == later


async def test_hub_accepts_every_entity() -> None:
    assert await assert_hub_accepts(parse(response([*RECORDED, EARTHQUAKE, HEAT]))) == 4


class RecordingFetcher(Fetcher):
    """The real fetcher, noting what each request asked for."""

    def __init__(self) -> None:
        super().__init__(retries=0)
        self.requests: list[tuple[str, dict[str, Any] | None]] = []

    async def get(self, url: str, **kwargs: Any) -> Fetched | None:
        self.requests.append((url, kwargs.get("params")))
        return await super().get(url, **kwargs)


async def test_collect_asks_for_todays_messages_in_korea() -> None:
    assert adapter_class("kr-disaster") is KoreaDisasterMessages
    with ContextServer() as server:
        server.route(PATH, response([*RECORDED, HEAT]), content_type="application/json")
        adapter = KoreaDisasterMessages(
            {"base_url": server.base, "region": "서울특별시"}, api_key="7VJ3395DDO11Q705"
        )
        fetcher = RecordingFetcher()
        before = datetime.now(KST).strftime("%Y%m%d")
        try:
            items = await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
        after = datetime.now(KST).strftime("%Y%m%d")
        assert server.hits(PATH) == 1
    [(url, params)] = fetcher.requests
    assert url == server.base + PATH
    assert params is not None
    assert params["crtDt"] in {before, after}
    assert {k: v for k, v in params.items() if k != "crtDt"} == {
        "serviceKey": "7VJ3395DDO11Q705",
        "returnType": "json",
        "pageNo": "1",
        "numOfRows": "1000",
        "rgnNm": "서울특별시",
    }
    assert [item["id"] for item in items if isinstance(item, dict)] == [
        "urn:ngsi-ld:Alert:KR-MOIS:266798",
        "urn:ngsi-ld:Alert:KR-MOIS:266799",
        "urn:ngsi-ld:Alert:KR-MOIS:266810",
    ]
