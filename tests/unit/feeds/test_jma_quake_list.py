"""The ``jma-quakes`` adapter: bosai ``quake/data/list.json`` → Alert (CATALOG §6).

No sample of the list is stored; the entries below follow the catalog's field list (eid, ctt,
rdt, at, anm/en_anm, acd, cod, mag, maxi, int, ttl/en_ttl, ift, ser, json).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.contexts import ALERT
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jma_quake_list import JmaQuakeListAdapter
from cityhub.ingest.feeds.records import Rejected
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
BASE = "https://www.jma.go.jp/bosai"
LIST_URL = BASE + "/quake/data/list.json"

FULL = {
    "ctt": "20210217231000",
    "eid": "20210217230627",
    "rdt": "2021-02-17T23:09:00+09:00",
    "ttl": "震源・震度情報",
    "ift": "発表",
    "ser": "1",
    "at": "2021-02-17T23:06:00+09:00",
    "anm": "福島県沖",
    "acd": "289",
    "cod": "+37.6+141.6-50000/",
    "mag": "4.5",
    "maxi": "3",
    "int": [
        {"code": "04", "maxi": "3", "city": [{"code": "0420200", "maxi": "3"}]},
        {"code": "07", "maxi": "3", "city": [{"code": "0754600", "maxi": "3"}]},
    ],
    "json": "20210217231000_20210217230627_VXSE5k_1.json",
    "en_ttl": "Earthquake and Seismic Intensity Information",
    "en_anm": "Off the Coast of Fukushima Prefecture",
}
HYPOCENTRE = {
    **FULL,
    "ctt": "20210217230900",
    "rdt": "2021-02-17T23:08:00+09:00",
    "ttl": "震源に関する情報",
    "ser": "",
    "maxi": "",
    "int": [],
    "json": "20210217230900_20210217230627_VXSE52_1.json",
    "en_ttl": "Hypocenter Information",
}
INTENSITY = {
    **FULL,
    "ctt": "20210217230810",
    "rdt": "2021-02-17T23:08:00+09:00",
    "ttl": "震度速報",
    "ser": "",
    "anm": "",
    "acd": "",
    "cod": "",
    "mag": "",
    "json": "20210217230810_20210217230627_VXSE51_1.json",
    "en_ttl": "Seismic Intensity Information",
    "en_anm": "",
}
OTHER = {
    **FULL,
    "ctt": "20210218061500",
    "eid": "20210218061200",
    "rdt": "2021-02-18T06:15:00+09:00",
    "at": "2021-02-18T06:12:00+09:00",
    "anm": "千葉県北東部",
    "en_anm": "Northeastern Chiba Prefecture",
    "acd": "341",
    "cod": "+35.7+140.6-40000/",
    "mag": "3.1",
    "maxi": "1",
    "int": [{"code": "12", "maxi": "1", "city": [{"code": "1221500", "maxi": "1"}]}],
    "json": "20210218061500_20210218061200_VXSE5k_1.json",
}
LIST = [OTHER, FULL, HYPOCENTRE, INTENSITY]  # newest first, as the web lists them


def parse(records: Any, source: str = LIST_URL) -> list[Any]:
    payload = json.dumps(records, ensure_ascii=False).encode()
    return JmaQuakeListAdapter().parse(payload, fetched_at=FETCHED, source=source)


def p(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def dt(value: str) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def test_jma_quakes_latest_entry_per_event() -> None:
    items = parse(LIST)
    assert [item["id"] for item in items] == [
        "urn:ngsi-ld:Alert:JMA:quake:20210218061200",
        "urn:ngsi-ld:Alert:JMA:quake:20210217230627",
    ]
    assert items[1] == {
        "id": "urn:ngsi-ld:Alert:JMA:quake:20210217230627",
        "type": "Alert",
        "category": p("naturalDisaster"),
        "subCategory": p("earthquake"),
        "severity": p("medium"),
        "name": {
            "type": "LanguageProperty",
            "languageMap": {
                "ja": "震源・震度情報",
                "en": "Earthquake and Seismic Intensity Information",
            },
        },
        "dateIssued": dt("2021-02-17T23:09:00+09:00"),
        "validFrom": dt("2021-02-17T23:06:00+09:00"),
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [141.6, 37.6]},
        },
        "areaServed": {
            "type": "LanguageProperty",
            "languageMap": {"ja": "福島県沖", "en": "Off the Coast of Fukushima Prefecture"},
        },
        "alertSource": p(BASE + "/quake/data/20210217231000_20210217230627_VXSE5k_1.json"),
        "data": p(
            {
                "eventId": "20210217230627",
                "serial": "1",
                "infoType": "発表",
                "originTime": "2021-02-17T23:06:00+09:00",
                "epicentreName": "福島県沖",
                "epicentreCode": "289",
                "depth": 50.0,
                "magnitude": 4.5,
                "maxInt": "3",
                "intensity": {
                    "prefectures": [
                        {"code": "04", "maxInt": "3"},
                        {"code": "07", "maxInt": "3"},
                    ],
                    "cities": [
                        {"code": "0420200", "maxInt": "3"},
                        {"code": "0754600", "maxInt": "3"},
                    ],
                },
            }
        ),
        "dataProvider": p("出典：気象庁ホームページ Japan Meteorological Agency (www.jma.go.jp)"),
        "source": p(LIST_URL),
        "@context": ALERT,
    }


def test_jma_quakes_intensity_report_alone() -> None:
    (item,) = parse([INTENSITY])
    assert "location" not in item and "areaServed" not in item
    assert item["severity"] == p("medium")


def test_jma_quakes_cancelled_entry_sets_valid_to() -> None:
    (item,) = parse([{**FULL, "ift": "取消"}])
    assert item["validTo"] == dt("2021-02-17T23:09:00+09:00")
    assert "validFrom" not in item


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cod": "+95.6+141.6-50000/"}, "latitude 95.6 is out of range"),
        ({"mag": "big"}, "mag: 'big' is not a number"),
        ({"maxi": "8"}, "maxi: '8' is not a JMA seismic intensity"),
        ({"rdt": ""}, "rdt is missing"),
        ({"int": "3"}, "int: '3' is not a list"),
    ],
)
def test_jma_quakes_bad_entry_is_rejected_and_the_rest_mapped(
    change: dict[str, Any], reason: str
) -> None:
    items = parse([OTHER, {**FULL, **change}])
    (bad,) = [item for item in items if isinstance(item, Rejected)]
    assert bad.where == "[1]"
    assert reason in bad.reason
    assert json.loads(bad.raw)["eid"] == "20210217230627"
    assert [item["id"] for item in items if not isinstance(item, Rejected)] == [
        "urn:ngsi-ld:Alert:JMA:quake:20210218061200"
    ]


def test_jma_quakes_entry_without_event_id_is_rejected() -> None:
    items = parse([{**FULL, "eid": None}, "not an entry"])
    assert [(item.where, item.reason) for item in items] == [
        ("[0]", "eid is missing"),
        ("[1]", "'not an entry' is not an object"),
    ]


@pytest.mark.parametrize("payload", [b"<html>502</html>", b'{"error": "rate limited"}'])
def test_jma_quakes_unreadable_payload_is_one_rejection(payload: bytes) -> None:
    (item,) = JmaQuakeListAdapter().parse(payload, fetched_at=FETCHED)
    assert isinstance(item, Rejected)
    assert item.where == "payload"


def test_jma_quakes_parse_is_deterministic() -> None:
    assert parse(LIST) == parse(list(LIST))


async def test_jma_quakes_entities_are_accepted_by_the_hub() -> None:
    assert await assert_hub_accepts(parse(LIST)) == 2


async def test_jma_quakes_collect() -> None:
    assert adapter_class("jma-quakes") is JmaQuakeListAdapter
    with ContextServer() as server:
        server.route("/bosai/quake/data/list.json", LIST, content_type="application/json")
        fetcher = Fetcher(retries=0)
        try:
            collector = JmaQuakeListAdapter({"base_url": server.url("/bosai")})
            items = await collector.collect(fetcher)
            assert [item["id"][-14:] for item in items] == ["20210218061200", "20210217230627"]
            assert items[1]["alertSource"] == p(
                server.url("/bosai/quake/data/20210217231000_20210217230627_VXSE5k_1.json")
            )
            assert server.hits("/bosai/quake/data/list.json") == 1
        finally:
            await fetcher.aclose()
