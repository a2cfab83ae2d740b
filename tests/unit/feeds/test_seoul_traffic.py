"""seoul-traffic: Seoul TOPIS road speed per link (TrafficInfo XML) → TrafficFlowObserved
(CATALOG §3; the real response quoted there is the sample)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.records import Item, Rejected
from cityhub.ingest.feeds.seoul_traffic import SeoulTraffic
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

KEY = "4d70414272"
# CATALOG §3, verbatim.
REAL = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><TrafficInfo><list_total_count>1'
    "</list_total_count><RESULT><CODE>INFO-000</CODE><MESSAGE>정상 처리되었습니다</MESSAGE>"
    "</RESULT><row><link_id>1220003800</link_id><prcs_spd>89</prcs_spd><prcs_trv_time>121"
    "</prcs_trv_time></row></TrafficInfo>"
).encode()
NO_DATA = (
    '<?xml version="1.0" encoding="UTF-8"?><RESULT><CODE>INFO-200</CODE>'
    "<MESSAGE>해당하는 데이터가 없습니다.</MESSAGE></RESULT>"
).encode()
FETCHED = datetime(2026, 8, 11, 9, 3, 27, tzinfo=UTC)  # 18:03:27 KST


def traffic_info(*rows: tuple[str, str, str]) -> bytes:
    body = "".join(
        f"<row><link_id>{link}</link_id><prcs_spd>{speed}</prcs_spd>"
        f"<prcs_trv_time>{seconds}</prcs_trv_time></row>"
        for link, speed, seconds in rows
    )
    return (
        f"<TrafficInfo><list_total_count>{len(rows)}</list_total_count><RESULT><CODE>INFO-000"
        f"</CODE><MESSAGE>정상 처리되었습니다</MESSAGE></RESULT>{body}</TrafficInfo>"
    ).encode()


def parse(payload: bytes, fetched_at: datetime = FETCHED) -> list[Item]:
    return SeoulTraffic().parse(payload, fetched_at=fetched_at, source="TrafficInfo.xml")


def test_real_response() -> None:
    at = "2026-08-11T18:00:00+09:00"  # fetch time rounded down to the 5-minute cycle
    assert parse(REAL) == [
        {
            "id": "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1220003800",
            "type": "TrafficFlowObserved",
            "averageVehicleSpeed": {
                "type": "Property",
                "value": 89.0,
                "unitCode": "KMH",
                "observedAt": at,
            },
            "travelTime": {"type": "Property", "value": 121, "unitCode": "SEC", "observedAt": at},
            "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": at}},
            "refRoadSegment": {
                "type": "Relationship",
                "object": "urn:ngsi-ld:RoadSegment:KR-Seoul:1220003800",
            },
            "dataProvider": {
                "type": "Property",
                "value": "Seoul Open Data Plaza (data.seoul.go.kr)",
            },
            "source": {
                "type": "Property",
                "value": "https://data.seoul.go.kr/dataList/OA-13291/A/1/datasetView.do",
            },
            "@context": [
                "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld",
                "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
            ],
        }
    ]


def test_refetch_within_one_cycle_is_identical_and_the_next_cycle_is_not() -> None:
    same_cycle = datetime(2026, 8, 11, 9, 4, 59, 999999, tzinfo=UTC)
    next_cycle = datetime(2026, 8, 11, 9, 5, 0, tzinfo=UTC)
    assert parse(REAL, same_cycle) == parse(REAL)
    later = parse(REAL, next_cycle)[0]
    assert isinstance(later, dict)
    assert later["dateObserved"]["value"]["@value"] == "2026-08-11T18:05:00+09:00"


def test_bad_rows_are_rejected_and_the_rest_mapped() -> None:
    payload = traffic_info(
        ("1220003800", "89", "121"),
        ("1220004100", "fast", "60"),
        ("", "40", "60"),
        ("12200O4300", "40", "60"),
        ("1220004500", "-3", "60"),
        ("1220004700", "", ""),
    )
    items = parse(payload)
    problems = {p.where: p.reason for p in items if isinstance(p, Rejected)}
    assert problems == {
        "row[1]": "prcs_spd: 'fast' is not a number",
        "row[2]": "link_id is missing",
        "row[3]": "link_id: '12200O4300' is not a link id",
        "row[4]": "prcs_spd: -3.0 is negative",
    }
    assert "<prcs_spd>fast</prcs_spd>" in next(p.raw for p in items if isinstance(p, Rejected))
    entities = [item for item in items if isinstance(item, dict)]
    assert [e["id"] for e in entities] == [
        "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1220003800",
        "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1220004700",
    ]
    assert "averageVehicleSpeed" not in entities[1]  # empty values are not reported as 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (NO_DATA, "TrafficInfo answered INFO-200: 해당하는 데이터가 없습니다."),
        (REAL[:-20], "The payload is not well-formed XML"),
        (b"<OtherService><row/></OtherService>", "The payload is not a TrafficInfo response"),
        (b"ERROR: service unavailable", "The payload is neither JSON nor XML"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [problem] = parse(payload)
    assert isinstance(problem, Rejected)
    assert problem.where == "payload"
    assert problem.reason.startswith(reason)


async def test_hub_accepts_every_entity() -> None:
    payload = traffic_info(("1220003800", "89", "121"), ("1220004100", "23", "310"))
    assert await assert_hub_accepts(parse(payload)) == 2


async def test_collect_asks_once_per_link() -> None:
    assert adapter_class("seoul-traffic") is SeoulTraffic
    with ContextServer() as server:
        server.route(f"/{KEY}/xml/TrafficInfo/1/1/1220003800", REAL, content_type="text/xml")
        server.route(
            f"/{KEY}/xml/TrafficInfo/1/1/1220004100",
            traffic_info(("1220004100", "23", "310")),
            content_type="text/xml",
        )
        adapter = SeoulTraffic(
            {"links": ["1220003800", "1220004100"], "base_url": server.base}, api_key=KEY
        )
        fetcher = Fetcher(retries=0)
        try:
            items = await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
        assert server.hits(f"/{KEY}/xml/TrafficInfo/1/1/1220003800") == 1
        assert server.hits(f"/{KEY}/xml/TrafficInfo/1/1/1220004100") == 1
    assert [item["id"] for item in items if isinstance(item, dict)] == [
        "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1220003800",
        "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1220004100",
    ]
    assert all(not isinstance(item, Rejected) for item in items)


async def test_collect_raises_when_every_link_fails() -> None:
    with ContextServer() as server:
        server.route(f"/{KEY}/xml/TrafficInfo/1/1/1220003800", b"", status=500)
        adapter = SeoulTraffic({"links": ["1220003800"], "base_url": server.base}, api_key=KEY)
        fetcher = Fetcher(retries=0)
        try:
            with pytest.raises(FetchError) as raised:
                await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
    assert "500" in str(raised.value) and KEY not in str(raised.value)
