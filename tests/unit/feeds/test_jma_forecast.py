"""The ``jma-forecast`` adapter: bosai forecast JSON → WeatherForecast (CATALOG §6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.contexts import WEATHER
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jma_forecast import JmaForecastAdapter
from cityhub.ingest.feeds.records import Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

SAMPLES = shared_dir() / "fixtures" / "jma-bosai-json"
FORECAST = SAMPLES / "forecast-130000.json"
AREAS = SAMPLES / "area.json"
FETCHED = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
URL = "https://www.jma.go.jp/bosai/forecast/data/forecast/130000.json"
PROVIDER = {
    "type": "Property",
    "value": "出典：気象庁ホームページ Japan Meteorological Agency (www.jma.go.jp)",
}
ISSUED = "2021-02-24T17:00:00+09:00"
PREFIX = "urn:ngsi-ld:WeatherForecast:JP-JMA:"


def p(value: Any, unit: str | None = None) -> dict[str, Any]:
    built: dict[str, Any] = {"type": "Property", "value": value}
    if unit:
        built["unitCode"] = unit
    return built


def dt(value: str) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def lang(**texts: str) -> dict[str, Any]:
    return {"type": "LanguageProperty", "languageMap": texts}


def parse(payload: bytes, *, names: bool = False, source: str = URL) -> list[Any]:
    adapter = JmaForecastAdapter()
    if names:
        adapter.use_area_names(AREAS.read_bytes())
    return adapter.parse(payload, fetched_at=FETCHED, source=source)


def by_id(items: list[Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items if not isinstance(item, Rejected)}


def test_jma_forecast_sample_counts() -> None:
    items = parse(FORECAST.read_bytes())
    # 4 class10 areas × (3 short-term days 24–26 Feb + 5 weekly days 27 Feb–3 Mar)
    assert len(items) == 32
    assert not [item for item in items if isinstance(item, Rejected)]
    assert sorted({item["id"].split(":")[-2] for item in items}) == [
        "130010",
        "130020",
        "130030",
        "130040",
    ]


def test_jma_forecast_short_term_day_with_temperatures() -> None:
    found = by_id(parse(FORECAST.read_bytes(), names=True))
    tokyo = lang(ja="東京地方", en="Tokyo Region")
    assert found[PREFIX + "130010:20210225"] == {
        "id": PREFIX + "130010:20210225",
        "type": "WeatherForecast",
        "name": tokyo,
        "areaServed": tokyo,
        "dateIssued": dt(ISSUED),
        "validFrom": dt("2021-02-25T00:00:00+09:00"),
        "validTo": dt("2021-02-26T00:00:00+09:00"),
        "weatherType": lang(ja="晴れ　夕方　から　くもり"),
        "weatherCode": p("111"),
        "windDescription": lang(
            ja="北の風　後　南東の風　２３区西部　では　はじめ　北の風　やや強く"
        ),
        "waveDescription": lang(ja="１．５メートル　後　０．５メートル"),
        "precipitationProbability": p(0.1),  # 6-hourly 10, 0, 0, 10 %
        "dayMinimum": p({"temperature": 1.0}, "CEL"),  # 東京 at 00:00
        "dayMaximum": p({"temperature": 11.0}, "CEL"),  # 東京 at 09:00
        "dataProvider": PROVIDER,
        "source": p(URL),
        "@context": WEATHER,
    }


def test_jma_forecast_today_starts_at_the_issue() -> None:
    today = by_id(parse(FORECAST.read_bytes()))[PREFIX + "130010:20210224"]
    assert today["validFrom"] == dt(ISSUED)
    assert today["validTo"] == dt("2021-02-25T00:00:00+09:00")
    assert today["precipitationProbability"] == p(0.1)  # 18–24 h
    assert "dayMinimum" not in today and "dayMaximum" not in today
    assert today["name"] == lang(ja="東京地方")


def test_jma_forecast_weekly_fills_what_the_short_term_lacks() -> None:
    found = by_id(parse(FORECAST.read_bytes()))
    chichijima = found[PREFIX + "130040:20210226"]
    assert chichijima["weatherType"] == lang(ja="くもり　後　一時　雨")
    assert chichijima["weatherCode"] == p("212")
    assert chichijima["precipitationProbability"] == p(0.6)  # weekly
    assert chichijima["dayMinimum"] == p({"temperature": 17.0}, "CEL")  # 父島, weekly
    assert chichijima["dayMaximum"] == p({"temperature": 22.0}, "CEL")
    assert found[PREFIX + "130010:20210227"] == {
        "id": PREFIX + "130010:20210227",
        "type": "WeatherForecast",
        "name": lang(ja="東京地方"),
        "areaServed": lang(ja="東京地方"),
        "dateIssued": dt(ISSUED),
        "validFrom": dt("2021-02-27T00:00:00+09:00"),
        "validTo": dt("2021-02-28T00:00:00+09:00"),
        "weatherCode": p("201"),
        "precipitationProbability": p(0.3),
        "dayMinimum": p({"temperature": 2.0}, "CEL"),
        "dayMaximum": p({"temperature": 8.0}, "CEL"),
        "dataProvider": PROVIDER,
        "source": p(URL),
        "@context": WEATHER,
    }


def test_jma_forecast_parse_is_deterministic() -> None:
    assert parse(FORECAST.read_bytes()) == parse(FORECAST.read_bytes())


async def test_jma_forecast_entities_are_accepted_by_the_hub() -> None:
    assert await assert_hub_accepts(parse(FORECAST.read_bytes(), names=True)) == 32


def _sample() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(FORECAST.read_text())
    return loaded


def test_jma_forecast_bad_weekly_report_is_rejected_and_short_term_mapped() -> None:
    doc = _sample()
    doc[1]["timeSeries"][0]["areas"][0]["pops"][1] = "sixty"
    items = parse(json.dumps(doc).encode())
    bad = [item for item in items if isinstance(item, Rejected)]
    assert [(item.where, item.reason) for item in bad] == [("[1]", "pops: 'sixty' is not a number")]
    assert json.loads(bad[0].raw) == doc[1]
    found = by_id(items)
    assert len(found) == 12  # the short-term days alone
    assert "precipitationProbability" not in found[PREFIX + "130010:20210226"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda doc: doc[0]["timeSeries"][0]["areas"][1]["area"].pop("code"), "area code None"),
        (lambda doc: doc[0].update(reportDatetime="24日17時"), "reportDatetime: '24日17時'"),
        (lambda doc: doc[0]["timeSeries"][1]["areas"][0]["pops"].__setitem__(0, "130"), "130"),
        (lambda doc: doc[0]["timeSeries"][2]["areas"][0]["temps"].__setitem__(0, "-"), None),
    ],
)
def test_jma_forecast_bad_short_term_report(change: Any, reason: str | None) -> None:
    doc = _sample()
    change(doc)
    items = parse(json.dumps(doc).encode())
    bad = [item for item in items if isinstance(item, Rejected)]
    if reason is None:  # "-" is an empty value: the minimum is simply not given
        assert not bad
        assert "dayMinimum" not in by_id(items)[PREFIX + "130010:20210225"]
        return
    assert len(bad) == 1 and reason in bad[0].reason and bad[0].where == "[0]"
    assert len(by_id(items)) == 4 * 7  # the weekly report alone: 25 Feb – 3 Mar


def test_jma_forecast_temperatures_need_one_station_per_area() -> None:
    doc = _sample()
    doc[0]["timeSeries"][2]["areas"].pop()  # 3 stations for 4 areas: no guessing
    found = by_id(parse(json.dumps(doc).encode()))
    assert "dayMaximum" not in found[PREFIX + "130010:20210225"]
    assert found[PREFIX + "130010:20210226"]["dayMaximum"] == p({"temperature": 10.0}, "CEL")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"<html>404</html>", "The payload is not JSON"),
        (b"{}", "A forecast document is a non-empty list of reports"),
        (b"[]", "A forecast document is a non-empty list of reports"),
    ],
)
def test_jma_forecast_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    (item,) = parse(payload)
    assert isinstance(item, Rejected)
    assert (item.where, item.reason[: len(reason)]) == ("payload", reason)


async def test_jma_forecast_collect_reads_each_office_and_area_names_once() -> None:
    assert adapter_class("jma-forecast") is JmaForecastAdapter
    with ContextServer() as server:
        path = "/bosai/forecast/data/forecast/130000.json"
        server.route(path, FORECAST.read_bytes(), content_type="application/json")
        areas = "/bosai/common/const/area.json"
        server.route(areas, AREAS.read_bytes(), content_type="application/json")
        fetcher = Fetcher(retries=0)
        try:
            collector = JmaForecastAdapter({"base_url": server.url("/bosai"), "area_names": True})
            items = await collector.collect(fetcher)
            assert len(items) == 32
            first = by_id(items)[PREFIX + "130020:20210224"]
            assert first["name"] == lang(ja="伊豆諸島北部", en="Northern Izu Islands")
            assert first["source"] == p(server.url(path))
            assert len(await collector.collect(fetcher)) == 32
            assert (server.hits(path), server.hits(areas)) == (2, 1)
        finally:
            await fetcher.aclose()
