"""airkorea: AirKorea real-time air quality by station (getCtprvnRltmMesureDnsty) →
AirQualityObserved (CATALOG §11). No sample exists: the payloads follow the documented
response (values as strings, "-" for missing, dataTime in KST, 24:00 possible)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from cityhub.ingest.feeds.airkorea import AirKorea
from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetched, Fetcher
from cityhub.ingest.feeds.records import Item, Rejected
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 9, 14, 5, 20, tzinfo=UTC)
PATH = "/B552584/ArpltnInforInqireSvc/getCtprvnRltmMesureDnsty"
STATIONS = {"종로구": [126.97208, 37.57202]}
AT = "2026-09-14T14:00:00+09:00"


def item(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "so2Grade": "1",
        "coFlag": None,
        "khaiValue": "56",
        "so2Value": "0.003",
        "coValue": "0.4",
        "pm25Flag": None,
        "pm10Flag": None,
        "o3Grade": "2",
        "pm10Value": "32",
        "khaiGrade": "2",
        "pm25Value": "18",
        "sidoName": "서울",
        "no2Flag": None,
        "no2Grade": "1",
        "o3Flag": None,
        "pm25Grade": "1",
        "so2Flag": None,
        "dataTime": "2026-09-14 14:00",
        "coGrade": "1",
        "no2Value": "0.018",
        "stationName": "종로구",
        "pm10Grade": "1",
        "o3Value": "0.041",
        "mangName": "도시대기",
        "pm10Value24": "29",
        "pm25Value24": "16",
    }
    base.update(fields)
    return base


OFFLINE = item(
    stationName="한강대로",
    mangName="도로변대기",
    **{
        key: "-"
        for key in (
            "khaiValue",
            "khaiGrade",
            "so2Value",
            "coValue",
            "o3Value",
            "no2Value",
            "pm10Value",
            "pm25Value",
        )
    },
    pm10Flag="통신장애",
    pm25Flag="통신장애",
)


def response(items: list[Any], code: str = "00", message: str = "NORMAL_CODE") -> bytes:
    return orjson.dumps(
        {
            "response": {
                "header": {"resultCode": code, "resultMsg": message},
                "body": {
                    "totalCount": len(items),
                    "items": items,
                    "pageNo": 1,
                    "numOfRows": 1000,
                },
            }
        }
    )


def parse(payload: bytes, stations: dict[str, Any] | None = None) -> list[Item]:
    adapter = AirKorea({"stations": STATIONS if stations is None else stations})
    return adapter.parse(payload, fetched_at=FETCHED, source="airkorea.json")


def measured(value: Any, unit: str | None = None) -> dict[str, Any]:
    attribute: dict[str, Any] = {"type": "Property", "value": value}
    if unit:
        attribute["unitCode"] = unit
    attribute["observedAt"] = AT
    return attribute


def test_station_reading() -> None:
    assert parse(response([item()])) == [
        {
            "id": "urn:ngsi-ld:AirQualityObserved:KR-AirKorea:종로구",
            "type": "AirQualityObserved",
            "name": {"type": "LanguageProperty", "languageMap": {"ko": "종로구"}},
            "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": AT}},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [126.97208, 37.57202]},
            },
            "address": {
                "type": "Property",
                "value": {"addressRegion": "서울", "addressCountry": "KR"},
            },
            "typeofLocation": {"type": "Property", "value": "outdoor"},
            "stationType": {"type": "LanguageProperty", "languageMap": {"ko": "도시대기"}},
            "pm10": measured(32.0, "GQ"),
            "pm25": measured(18.0, "GQ"),
            "no2": measured(0.018, "59"),
            "o3": measured(0.041, "59"),
            "co": measured(0.4, "59"),
            "so2": measured(0.003, "59"),
            "airQualityIndex": measured(56),
            "airQualityLevel": measured("moderate"),  # khaiGrade 2
            "dataProvider": {
                "type": "Property",
                "value": "AirKorea, Korea Environment Corporation "
                "(한국환경공단 에어코리아), via data.go.kr",
            },
            "source": {
                "type": "Property",
                "value": "https://www.data.go.kr/data/15073861/openapi.do",
            },
            "@context": [
                "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld",
                "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
            ],
        }
    ]


def test_station_code_names_the_entity_and_24_00_is_next_midnight() -> None:
    [entity] = parse(response([item(stationCode="111123", dataTime="2026-09-14 24:00")]))
    assert isinstance(entity, dict)
    assert entity["id"] == "urn:ngsi-ld:AirQualityObserved:KR-AirKorea:111123"
    assert entity["dateObserved"]["value"]["@value"] == "2026-09-15T00:00:00+09:00"
    assert entity["pm10"]["observedAt"] == "2026-09-15T00:00:00+09:00"


def test_missing_values_are_left_out_and_a_silent_station_is_skipped() -> None:
    partial = item(stationName="중구", o3Value="-", coValue="", khaiValue="-", khaiGrade=None)
    items = parse(response([partial, OFFLINE]))
    assert len(items) == 1  # 한강대로 sent "-" everywhere
    entity = items[0]
    assert isinstance(entity, dict)
    assert entity["id"] == "urn:ngsi-ld:AirQualityObserved:KR-AirKorea:중구"
    assert "o3" not in entity and "co" not in entity
    assert "airQualityIndex" not in entity and "airQualityLevel" not in entity
    assert "location" not in entity  # no coordinates given for this station
    assert entity["pm10"] == measured(32.0, "GQ")


def test_bad_items_are_rejected_and_the_rest_mapped() -> None:
    items = parse(
        response(
            [
                item(),
                item(stationName="중구", pm10Value="32㎍"),
                item(stationName=""),
                item(stationName="용산구", khaiGrade="7"),
                item(stationName="성동구", dataTime="14:00"),
                "not an item",
            ]
        ),
        stations={"종로구": [126.97, 137.57]},
    )
    problems = {p.where: p.reason for p in items if isinstance(p, Rejected)}
    assert problems == {
        "items[0]": "stations[종로구]: latitude 137.57 is out of range",
        "items[1]": "pm10Value: '32㎍' is not a number",
        "items[2]": "stationName is missing",
        "items[3]": "khaiGrade: '7' is not a grade 1–4",
        "items[4]": "dataTime: '14:00' is not a time in the form %Y-%m-%d %H:%M",
        "items[5]": "An AirKorea item must be an object",
    }
    assert [item for item in items if isinstance(item, dict)] == []
    assert [entity["id"] for entity in parse(response([item(), item(stationName="중구")]))] == [
        "urn:ngsi-ld:AirQualityObserved:KR-AirKorea:종로구",
        "urn:ngsi-ld:AirQualityObserved:KR-AirKorea:중구",
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            b"<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
            b"<returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg>"
            b"<returnReasonCode>30</returnReasonCode></cmmMsgHeader></OpenAPI_ServiceResponse>",
            "The API gateway refused the request: 30 SERVICE_KEY_IS_NOT_REGISTERED_ERROR "
            "SERVICE ERROR",
        ),
        (
            response([], code="22", message="LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"),
            "AirKorea answered 22: LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR",
        ),
        (b'{"response": {"header": {"resultCode": "00"}', "The payload is neither JSON nor XML"),
        (
            b'{"header": {"resultCode": "00"}, "body": []}',
            "The payload is not an AirKorea response",
        ),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [problem] = parse(payload)
    assert isinstance(problem, Rejected)
    assert problem.where == "payload"
    assert problem.reason.startswith(reason)


def test_no_data_is_nothing() -> None:
    assert parse(response([], code="03", message="NODATA_ERROR")) == []


def test_parse_is_deterministic() -> None:
    payload = response([item(), item(stationName="중구"), OFFLINE])
    later = AirKorea({"stations": STATIONS}).parse(
        payload, fetched_at=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert parse(payload) == later


async def test_hub_accepts_every_entity() -> None:
    payload = response([item(), item(stationName="중구", stationCode="111121")])
    assert await assert_hub_accepts(parse(payload)) == 2


class RecordingFetcher(Fetcher):
    """The real fetcher, noting what each request asked for."""

    def __init__(self) -> None:
        super().__init__(retries=0)
        self.requests: list[tuple[str, dict[str, Any] | None]] = []

    async def get(self, url: str, **kwargs: Any) -> Fetched | None:
        self.requests.append((url, kwargs.get("params")))
        return await super().get(url, **kwargs)


async def test_collect_asks_for_the_province() -> None:
    assert adapter_class("airkorea") is AirKorea
    with ContextServer() as server:
        server.route(PATH, response([item()]), content_type="application/json;charset=UTF-8")
        # The portal shows keys percent-encoded too; the adapter sends the plain key once.
        adapter = AirKorea(
            {"base_url": server.base, "stations": STATIONS}, api_key="Ab12%2BCd34%3D%3D"
        )
        fetcher = RecordingFetcher()
        try:
            items = await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
        assert server.hits(PATH) == 1
    [(url, params)] = fetcher.requests
    assert url == server.base + PATH
    assert params == {
        "serviceKey": "Ab12+Cd34==",
        "returnType": "json",
        "numOfRows": "1000",
        "pageNo": "1",
        "sidoName": "서울",
        "ver": "1.0",
    }
    assert items == parse(response([item()]))
