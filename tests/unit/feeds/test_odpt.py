"""odpt: Tokyo ODPT odpt:TrainInformation (v2 and v4) → Alert per railway (CATALOG §8)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.odpt import OdptTrainInformation
from cityhub.ingest.feeds.records import Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 9, 2, 9, 3, 12, tzinfo=UTC)
SAMPLE = shared_dir() / "fixtures" / "odpt" / "TrainInformationHibiya.v2.json"
ALERT_CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
V4_CONTEXT = "http://vocab.odpt.org/context_odpt.jsonld"
PROVIDER_V4 = "公共交通オープンデータセンター Public Transportation Open Data Center (odpt.org)"


def record(railway: str | None, **members: object) -> dict:
    """A v4 TrainInformation record as the API returns it (language maps {ja, en})."""
    base: dict = {
        "@context": V4_CONTEXT,
        "@id": f"urn:ucode:_00001C00000000000001000003{len(str(railway)):06X}",
        "@type": "odpt:TrainInformation",
        "dc:date": "2026-09-02T18:05:00+09:00",
        "dct:valid": "2026-09-02T18:10:00+09:00",
        "odpt:operator": "odpt.Operator:TokyoMetro",
        "odpt:timeOfOrigin": "2026-09-02T17:48:00+09:00",
        "odpt:trainInformationText": {
            "ja": "現在、平常どおり運転しています。",
            "en": "Trains are operating as usual.",
        },
    }
    if railway:
        base["odpt:railway"] = f"odpt.Railway:{railway}"
    base.update(members)
    return base


DELAY = record(
    "TokyoMetro.Marunouchi",
    **{
        "@id": "urn:uuid:6a1e4f2c-8b0d-4c11-9a53-0d6f3c0e2a71",
        "owl:sameAs": "odpt.TrainInformation:TokyoMetro.Marunouchi",
        "odpt:trainInformationStatus": {"ja": "遅延", "en": "Delay"},
        "odpt:trainInformationText": {
            "ja": "17時48分頃、新宿駅で人身事故のため、ダイヤが乱れています。",
            "en": "Due to an accident at Shinjuku Station, trains are delayed.",
        },
        "odpt:trainInformationCause": {"ja": "人身事故", "en": "Accident"},
        "odpt:trainInformationArea": {"ja": "新宿駅", "en": "Shinjuku Sta."},
        "odpt:railDirection": "odpt.RailDirection:TokyoMetro.Ikebukuro",
        "odpt:stationFrom": "odpt.Station:TokyoMetro.Marunouchi.Shinjuku",
        "odpt:stationTo": "odpt.Station:TokyoMetro.Marunouchi.Ikebukuro",
        "odpt:transferRailways": ["odpt.Railway:JR-East.ChuoRapid"],
        "odpt:resumeEstimate": "2026-09-02T18:40:00+09:00",
    },
)
V4 = [
    record("TokyoMetro.Ginza"),
    DELAY,
    record(
        "TokyoMetro.Chiyoda",
        **{"odpt:trainInformationStatus": {"ja": "運転見合わせ", "en": "Suspended"}},
    ),
    record(
        "TokyoMetro.Tozai",
        **{"odpt:trainInformationStatus": {"ja": "運転再開", "en": "Service resumed"}},
    ),
    record(
        None,
        **{
            "odpt:operator": "odpt.Operator:Toei",
            "odpt:trainInformationStatus": {"ja": "運行情報あり"},
        },
    ),
    record("TokyoMetro.Namboku", **{"dc:date": None}),
    record("TokyoMetro.Hanzomon", **{"dc:date": "2026-09-02T18:05:00"}),
    record(None, **{"odpt:operator": None}),
    record("TokyoMetro.Yurakucho", **{"odpt:trainInformationText": ["遅延"]}),
]


def parse(payload: bytes, source: str = "") -> list:
    return OdptTrainInformation().parse(payload, fetched_at=FETCHED, source=source)


def dt(value: str) -> dict:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def test_adapter_is_registered_for_tokyo_with_its_key() -> None:
    cls = adapter_class("odpt")
    assert cls is OdptTrainInformation
    assert cls.default_tenant == "tokyo"
    assert cls.key_setting == "odpt_api_key"


def test_v2_sample_normal_service_is_an_informational_alert() -> None:
    assert parse(SAMPLE.read_bytes()) == [
        {
            "id": "urn:ngsi-ld:Alert:JP-ODPT:TokyoMetro.Hibiya",
            "type": "Alert",
            "category": {"type": "Property", "value": "traffic"},
            "subCategory": {"type": "Property", "value": "normalService"},
            "severity": {"type": "Property", "value": "informational"},
            "description": {
                "type": "LanguageProperty",
                "languageMap": {"ja": "現在、平常どおり運転しています。"},
            },
            "dateIssued": dt("2019-06-06T15:55:03+09:00"),
            "validFrom": dt("2019-06-01T00:21:00+09:00"),
            "validTo": dt("2019-06-06T16:00:03+09:00"),
            "alertSource": {"type": "Property", "value": "odpt.Operator:TokyoMetro"},
            "dataProvider": {
                "type": "Property",
                "value": "東京メトロオープンデータ Tokyo Metro Open Data (tokyometroapp.jp)",
            },
            "data": {
                "type": "Property",
                "value": {
                    "railway": "odpt.Railway:TokyoMetro.Hibiya",
                    "operator": "odpt.Operator:TokyoMetro",
                    "odptId": "urn:ucode:_00001C000000000000010000030C3BE6",
                },
            },
            "@context": ALERT_CONTEXT,
        }
    ]


def test_v4_delay_with_language_maps() -> None:
    source = "https://api.odpt.org/api/v4/odpt:TrainInformation"
    items = parse(orjson.dumps(V4), source=source)
    assert items[1] == {
        "id": "urn:ngsi-ld:Alert:JP-ODPT:TokyoMetro.Marunouchi",
        "type": "Alert",
        "category": {"type": "Property", "value": "traffic"},
        "subCategory": {"type": "Property", "value": "delay"},
        "severity": {"type": "Property", "value": "medium"},
        "description": {
            "type": "LanguageProperty",
            "languageMap": {
                "ja": "17時48分頃、新宿駅で人身事故のため、ダイヤが乱れています。",
                "en": "Due to an accident at Shinjuku Station, trains are delayed.",
            },
        },
        "areaServed": {
            "type": "LanguageProperty",
            "languageMap": {"ja": "新宿駅", "en": "Shinjuku Sta."},
        },
        "dateIssued": dt("2026-09-02T18:05:00+09:00"),
        "validFrom": dt("2026-09-02T17:48:00+09:00"),
        "validTo": dt("2026-09-02T18:10:00+09:00"),
        "alertSource": {"type": "Property", "value": "odpt.Operator:TokyoMetro"},
        "dataProvider": {"type": "Property", "value": PROVIDER_V4},
        "source": {"type": "Property", "value": source},
        "data": {
            "type": "Property",
            "value": {
                "railway": "odpt.Railway:TokyoMetro.Marunouchi",
                "operator": "odpt.Operator:TokyoMetro",
                "status": {"ja": "遅延", "en": "Delay"},
                "cause": {"ja": "人身事故", "en": "Accident"},
                "area": {"ja": "新宿駅", "en": "Shinjuku Sta."},
                "railDirection": "odpt.RailDirection:TokyoMetro.Ikebukuro",
                "stationFrom": "odpt.Station:TokyoMetro.Marunouchi.Shinjuku",
                "stationTo": "odpt.Station:TokyoMetro.Marunouchi.Ikebukuro",
                "odptId": "urn:uuid:6a1e4f2c-8b0d-4c11-9a53-0d6f3c0e2a71",
                "sameAs": "odpt.TrainInformation:TokyoMetro.Marunouchi",
                "resumeEstimate": "2026-09-02T18:40:00+09:00",
                "transferRailways": ["odpt.Railway:JR-East.ChuoRapid"],
            },
        },
        "@context": ALERT_CONTEXT,
    }


def test_v4_statuses_map_to_severity() -> None:
    items = parse(orjson.dumps(V4))
    good = [i for i in items if not isinstance(i, Rejected)]
    assert [
        (i["id"].rsplit(":", 1)[1], i["subCategory"]["value"], i["severity"]["value"]) for i in good
    ] == [
        ("TokyoMetro.Ginza", "normalService", "informational"),
        ("TokyoMetro.Marunouchi", "delay", "medium"),
        ("TokyoMetro.Chiyoda", "suspended", "high"),
        ("TokyoMetro.Tozai", "resumed", "low"),
        ("Toei", "disrupted", "medium"),  # "運行情報あり" with no railway: per operator
    ]
    assert good[0]["description"]["languageMap"] == {
        "ja": "現在、平常どおり運転しています。",
        "en": "Trains are operating as usual.",
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"ja": "直通運転中止"}, ("disrupted", "medium")),
        ({"ja": "一部列車運休"}, ("suspended", "high")),
        ({"ja": "ダイヤ乱れ"}, ("delay", "medium")),
        ({"en": "Operation suspended"}, ("suspended", "high")),
        ({"ja": "平常運転", "en": "Normal"}, ("normalService", "informational")),
    ],
)
def test_status_words(status: dict, expected: tuple[str, str]) -> None:
    [alert] = parse(
        orjson.dumps([record("Toei.Asakusa", **{"odpt:trainInformationStatus": status})])
    )
    assert (alert["subCategory"]["value"], alert["severity"]["value"]) == expected


def test_bad_records_are_rejected_and_the_rest_mapped() -> None:
    items = parse(orjson.dumps(V4))
    bad = [i for i in items if isinstance(i, Rejected)]
    assert [(b.where, b.reason) for b in bad] == [
        ("[5]", "dc:date is missing"),
        ("[6]", "dc:date: '2026-09-02T18:05:00' has no time zone offset"),
        ("[7]", "odpt:railway is missing"),
        ("[8]", "odpt:trainInformationText: ['遅延'] is neither text nor a language map"),
    ]
    assert orjson.loads(bad[0].raw)["odpt:railway"] == "odpt.Railway:TokyoMetro.Namboku"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[{", "not valid JSON"),
        (b'{"title": "Invalid acl:consumerKey"}', "answered an error: Invalid acl:consumerKey"),
        (b'{"@type": "odpt:TrainInformation"}', "not an array of odpt:TrainInformation"),
        (b"<html>Service Temporarily Unavailable</html>", "not valid JSON"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [bad] = parse(payload)
    assert bad.where == "payload"
    assert reason in bad.reason


def test_other_types_in_the_array_are_skipped() -> None:
    station = {"@type": "odpt:Station", "owl:sameAs": "odpt.Station:TokyoMetro.Ginza.Shibuya"}
    assert parse(orjson.dumps([station])) == []


def test_parse_is_deterministic() -> None:
    assert parse(orjson.dumps(V4)) == parse(orjson.dumps(V4))


async def test_hub_accepts_every_entity() -> None:
    items = [*parse(SAMPLE.read_bytes()), *parse(orjson.dumps(V4))]
    assert await assert_hub_accepts(items) == 1 + 5


def test_query_names_the_operators_and_the_key() -> None:
    adapter = OdptTrainInformation(
        {"operator": ["odpt.Operator:TokyoMetro", "odpt.Operator:Toei"]}, api_key="k3y"
    )
    assert adapter.url == "https://api.odpt.org/api/v4/odpt:TrainInformation"
    assert adapter.params() == {
        "odpt:operator": "odpt.Operator:TokyoMetro,odpt.Operator:Toei",
        "acl:consumerKey": "k3y",
    }


async def test_collect_requests_train_information_with_the_key() -> None:
    fetcher = Fetcher(retries=0, secrets=("s3cret",))
    try:
        with ContextServer() as server:
            path = "/api/v4/odpt:TrainInformation"
            server.route(path, orjson.dumps(V4[:2]), content_type="application/json")
            adapter = OdptTrainInformation(
                {"base_url": server.url("/api/v4"), "operator": "odpt.Operator:TokyoMetro"},
                api_key="s3cret",
            )
            items = await adapter.collect(fetcher)
            assert server.hits(path) == 1
            assert [i["id"] for i in items] == [
                "urn:ngsi-ld:Alert:JP-ODPT:TokyoMetro.Ginza",
                "urn:ngsi-ld:Alert:JP-ODPT:TokyoMetro.Marunouchi",
            ]
            assert items[0]["source"]["value"] == server.url(path)  # no key in entities
            assert "s3cret" not in orjson.dumps(items).decode()
    finally:
        await fetcher.aclose()


async def test_collect_needs_the_api_key() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with pytest.raises(FetchError, match="needs an API key"):
            await OdptTrainInformation().collect(fetcher)
    finally:
        await fetcher.aclose()
