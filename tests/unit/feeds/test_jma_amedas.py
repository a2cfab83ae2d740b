"""The ``jma-amedas`` adapter: AMeDAS map + station table → WeatherObserved (CATALOG §6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.contexts import WEATHER
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jma_amedas import JmaAmedasAdapter
from cityhub.ingest.feeds.records import Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

SAMPLES = shared_dir() / "fixtures" / "jma-bosai-json"
MAP = SAMPLES / "amedas-map-20210224150000.json"
TABLE = SAMPLES / "amedastable.json"
FETCHED = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
AT = "2021-02-24T15:00:00+09:00"
PROVIDER = {
    "type": "Property",
    "value": "出典：気象庁ホームページ Japan Meteorological Agency (www.jma.go.jp)",
}
TOKYO_STATION = {
    "type": "A",
    "elems": "11111111",
    "lat": [35, 41.5],
    "lon": [139, 45],
    "alt": 25,
    "kjName": "東京",
    "knName": "トウキョウ",
    "enName": "Tokyo",
}


def m(value: float, unit: str | None = None) -> dict[str, Any]:
    measured: dict[str, Any] = {"type": "Property", "value": value}
    if unit:
        measured["unitCode"] = unit
    measured["observedAt"] = AT
    return measured


def adapter(**options: Any) -> JmaAmedasAdapter:
    return JmaAmedasAdapter({"station_table": str(TABLE), **options})


def parse_sample(**options: Any) -> list[Any]:
    return adapter(**options).parse(MAP.read_bytes(), fetched_at=FETCHED, source=MAP.name)


def envelope(readings: dict[str, Any], table: dict[str, Any] | None = None) -> bytes:
    doc = {"observedAt": AT, "map": readings, "table": table or {"44132": TOKYO_STATION}}
    return json.dumps(doc).encode()


def parse(payload: bytes, source: str = "") -> list[Any]:
    return JmaAmedasAdapter().parse(payload, fetched_at=FETCHED, source=source)


def entities(items: list[Any]) -> list[dict[str, Any]]:
    return [item for item in items if not isinstance(item, Rejected)]


TOKYO = {
    "id": "urn:ngsi-ld:WeatherObserved:JP-JMA:44132",
    "type": "WeatherObserved",
    "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": AT}},
    "name": {"type": "LanguageProperty", "languageMap": {"ja": "東京", "en": "Tokyo"}},
    "stationCode": {"type": "Property", "value": "44132"},
    "location": {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [139.75, 35.691667, 25.0]},
    },
    "temperature": m(10.8, "CEL"),
    "relativeHumidity": m(0.24),
    "windSpeed": m(4.4, "MTS"),
    "precipitation": m(0.0, "MMT"),
    "precipitation10m": m(0.0, "MMT"),
    "precipitation3h": m(0.0, "MMT"),
    "precipitation24h": m(0.0, "MMT"),
    "snowHeight": m(0.0, "CMT"),
    "windDirection": m(315.0, "DD"),  # code 14 (NW) × 22.5°
    "dataProvider": PROVIDER,
    "@context": WEATHER,
}


def test_jma_amedas_sample_counts() -> None:
    items = parse_sample()
    # 1,295 stations; 7 report nothing with quality flag 0 and are skipped
    assert (len(entities(items)), len(items) - len(entities(items))) == (1288, 0)


def test_jma_amedas_sample_station_entities() -> None:
    found = {item["id"]: item for item in parse_sample()}
    assert found["urn:ngsi-ld:WeatherObserved:JP-JMA:44132"] == TOKYO
    soya = found["urn:ngsi-ld:WeatherObserved:JP-JMA:11001"]
    assert soya["name"]["languageMap"] == {"ja": "宗谷岬", "en": "Cape Soya"}
    assert soya["location"]["value"]["coordinates"] == [141.935, 45.52, 26.0]
    assert soya["temperature"] == m(-7.0, "CEL")
    assert soya["windDirection"] == m(337.5, "DD")  # code 15 (NNW)
    assert "relativeHumidity" not in soya and "snowHeight" not in soya
    # 35231: everything flagged 5 except snow depth, which is flagged too → nothing observed
    assert "urn:ngsi-ld:WeatherObserved:JP-JMA:35231" not in found


def test_jma_amedas_parse_is_deterministic() -> None:
    assert parse_sample() == parse_sample()


async def test_jma_amedas_entities_are_accepted_by_the_hub() -> None:
    assert await assert_hub_accepts(parse_sample()) == 1288


def test_jma_amedas_envelope_and_bare_map_agree() -> None:
    table = json.loads(TABLE.read_text())
    readings = json.loads(MAP.read_text())
    wrapped = json.dumps({"observedAt": AT, "map": readings, "table": table}).encode()
    assert parse(wrapped) == parse_sample()


def test_jma_amedas_station_option_limits_the_stations() -> None:
    items = parse_sample(stations=["44132", "11001"])
    assert [item["id"][-5:] for item in items] == ["11001", "44132"]


def test_jma_amedas_flagged_values_and_calm_are_left_out() -> None:
    readings = {
        "44132": {
            "temp": [None, 5],
            "humidity": [57, 0],
            "wind": [0.2, 0],
            "windDirection": [0, 0],
            "snow": [0, None],
            "precipitation1h": [1.5, 1],
        }
    }
    (item,) = parse(envelope(readings))
    assert set(item) - {"id", "type", "@context"} == {
        "dateObserved",
        "name",
        "stationCode",
        "location",
        "relativeHumidity",
        "windSpeed",
        "dataProvider",
    }
    assert item["relativeHumidity"] == m(0.57)


@pytest.mark.parametrize(
    ("readings", "table", "reason"),
    [
        ({"44132": {"temp": ["warm", 0]}}, None, "temp: 'warm' is not a number"),
        ({"44132": {"temp": 10.8}}, None, "temp: 10.8 is not a [value, quality flag] pair"),
        ({"44132": {"windDirection": [17, 0]}}, None, "windDirection: 17.0 is not a code"),
        ({"99999": {"temp": [1, 0]}}, None, "station 99999 is not in amedastable.json"),
        (
            {"44132": {"temp": [1, 0]}},
            {"44132": {**TOKYO_STATION, "lat": [95, 0]}},
            "station: latitude 95.0 is out of range",
        ),
        (
            {"44132": {"temp": [1, 0]}},
            {"44132": {**TOKYO_STATION, "lon": [139, 75]}},
            "lon: 75.0 minutes is out of range",
        ),
        (
            {"44132": {"temp": [1, 0]}},
            {"44132": {**TOKYO_STATION, "lat": None}},
            "lat: None is not [degrees, minutes]",
        ),
    ],
)
def test_jma_amedas_bad_station_is_rejected_and_the_rest_mapped(
    readings: dict[str, Any], table: dict[str, Any] | None, reason: str
) -> None:
    stations = {"44132": TOKYO_STATION, "11016": {**TOKYO_STATION, "kjName": "稚内"}}
    stations.update(table or {})
    good = {"11016": {"temp": [-6.8, 0]}}
    items = parse(envelope({**readings, **good}, stations))
    (bad,) = [item for item in items if isinstance(item, Rejected)]
    assert reason in bad.reason
    assert bad.where in readings
    assert json.loads(bad.raw) == {bad.where: readings[bad.where]}
    assert [item["id"] for item in entities(items)] == ["urn:ngsi-ld:WeatherObserved:JP-JMA:11016"]


@pytest.mark.parametrize(
    ("payload", "source", "reason"),
    [
        (b"<html>503</html>", MAP.name, "The payload is not JSON"),
        (b'{"44132": {"temp": [1, 0]}}', "map.json", "The observation time is unknown"),
        (b'{"44132": {"temp": [1, 0]}}', MAP.name, "No AMeDAS station table was given"),
        (b'{"observedAt": "15:00", "map": {}}', "", "observedAt: '15:00' is not an ISO 8601"),
        (
            b'{"observedAt": "2021-02-24T15:00:00+09:00", "map": [], "table": {}}',
            "",
            "must be JSON objects",
        ),
    ],
)
def test_jma_amedas_unreadable_payload_is_one_rejection(
    payload: bytes, source: str, reason: str
) -> None:
    (item,) = parse(payload, source)
    assert isinstance(item, Rejected)
    assert item.where == "payload"
    assert reason in item.reason


async def test_jma_amedas_collect_follows_latest_time() -> None:
    assert adapter_class("jma-amedas") is JmaAmedasAdapter
    with ContextServer() as server:
        server.route("/bosai/amedas/data/latest_time.txt", AT, content_type="text/plain")
        map_path = "/bosai/amedas/data/map/20210224150000.json"
        server.route(map_path, MAP.read_bytes(), content_type="application/json")
        table_path = "/bosai/amedas/const/amedastable.json"
        server.route(table_path, TABLE.read_bytes(), content_type="application/json")
        fetcher = Fetcher(retries=0)
        try:
            collector = JmaAmedasAdapter({"base_url": server.url("/bosai"), "stations": ["44132"]})
            items = await collector.collect(fetcher)
            source = {"type": "Property", "value": server.url(map_path)}
            assert items == [{**TOKYO, "source": source}]
            await collector.collect(fetcher)
            assert (server.hits(map_path), server.hits(table_path)) == (2, 1)  # table kept
        finally:
            await fetcher.aclose()
