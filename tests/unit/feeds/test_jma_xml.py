"""The ``jma-xml`` adapter: JMA disaster XML telegrams → Alert (CATALOG §5).

Expected entities are written from the catalog's mapping table and the telegrams themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.contexts import ALERT
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jma_quakes import hypocentre
from cityhub.ingest.feeds.jma_xml import JmaXmlAdapter
from cityhub.ingest.feeds.records import RecordError, Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

SAMPLES = shared_dir() / "fixtures" / "jma-xml"
FETCHED = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
PROVIDER = {"type": "Property", "value": "出典：気象庁 Japan Meteorological Agency"}
DATA_URL = "https://www.data.jma.go.jp/developer/xml/data/"


def parse(payload: bytes | str, *, source: str = "", drills: bool = True) -> list[Any]:
    raw = payload.encode() if isinstance(payload, str) else payload
    adapter = JmaXmlAdapter({"include_drills": drills})
    return adapter.parse(raw, fetched_at=FETCHED, source=source)


def sample(name: str, **kwargs: Any) -> list[Any]:
    return parse((SAMPLES / name).read_bytes(), **kwargs)


def entities(items: list[Any]) -> list[dict[str, Any]]:
    return [item for item in items if not isinstance(item, Rejected)]


def rejected(items: list[Any]) -> list[Rejected]:
    return [item for item in items if isinstance(item, Rejected)]


def by_id(items: list[Any], entity_id: str) -> dict[str, Any]:
    found = [item for item in entities(items) if item["id"] == entity_id]
    assert len(found) == 1, entity_id
    return found[0]


def p(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def dt(value: str) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def ja(value: str) -> dict[str, Any]:
    return {"type": "LanguageProperty", "languageMap": {"ja": value}}


# sample → (entities with drills included, rejections, entities by default)
COUNTS = {
    "15_12_01_161130_VPWW53.xml": (43, 0, 43),  # 15 municipalities' kinds, 4 with none
    "15_12_01_161130_VPWW54.xml": (46, 0, 46),  # the same + 3 大雨警報 replaced by 特別警報
    "15_17_01_250630_VPWW55.xml": (16, 0, 16),  # 15 in force + 1 lifted (解除)
    "17_01_01_190529_VXWW50.xml": (51, 0, 51),  # 60 municipalities, 9 of them なし
    "18_03_01_190412_VPOA50.xml": (2, 0, 2),  # 石狩, 後志 (空知 なし)
    "20210217140808_0_VXSE51_010000.xml": (1, 0, 1),
    "20210217140847_0_VXSE52_010000.xml": (1, 0, 1),
    "20210217140958_0_VXSE53_010000.xml": (1, 0, 1),
    "32-35_01_03_240613_VXSE53.xml": (1, 0, 0),  # 訓練
    "32-39_12_02_191025_VTSE41.xml": (66, 0, 0),  # 訓練, 66 津波予報区
    "38-39_03_01_210805_VTSE41.xml": (1, 0, 1),  # 取消
}


def test_every_sample_is_counted() -> None:
    assert sorted(path.name for path in SAMPLES.glob("*.xml")) == sorted(COUNTS)


@pytest.mark.parametrize(("name", "counts"), sorted(COUNTS.items()))
def test_jma_xml_sample_counts(name: str, counts: tuple[int, int, int]) -> None:
    items = sample(name)
    assert (len(entities(items)), len(rejected(items))) == counts[:2]
    assert len(sample(name, drills=False)) == counts[2]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_jma_xml_parse_is_deterministic(name: str) -> None:
    assert sample(name, source=DATA_URL + name) == sample(name, source=DATA_URL + name)


async def test_jma_xml_entities_are_accepted_by_the_hub() -> None:
    checked = 0
    for name in sorted(COUNTS):
        checked += await assert_hub_accepts(sample(name, source=DATA_URL + name))
    assert checked == sum(counts[0] for counts in COUNTS.values())


def test_jma_xml_drills_are_dropped_unless_asked() -> None:
    assert sample("32-39_12_02_191025_VTSE41.xml", drills=False) == []
    assert sample("32-35_01_03_240613_VXSE53.xml", drills=False) == []
    test = (SAMPLES / "20210217140847_0_VXSE52_010000.xml").read_text().replace("通常", "試験")
    assert parse(test, drills=False) == []
    assert len(parse(test, drills=True)) == 1


def test_jma_xml_vpww53_special_warning_of_a_municipality() -> None:
    items = sample("15_12_01_161130_VPWW53.xml")
    assert by_id(items, "urn:ngsi-ld:Alert:JMA:3220200:33") == {
        "id": "urn:ngsi-ld:Alert:JMA:3220200:33",
        "type": "Alert",
        "category": p("weather"),
        "subCategory": p("rainfall"),
        "severity": p("critical"),
        "name": ja("大雨特別警報"),
        "description": ja(
            "【特別警報（大雨）】浜田地区、大田邑智地区に特別警報を発表しています。"
            "土砂災害や低い土地の浸水、河川の増水に最大級の警戒をしてください。"
        ),
        "dateIssued": dt("2016-02-12T15:44:00+09:00"),
        "validFrom": dt("2016-02-12T15:44:00+09:00"),
        "areaServed": ja("浜田市"),
        "alertSource": p("松江地方気象台"),
        "data": p(
            {
                "areaCode": "3220200",
                "kindCode": "33",
                "kindName": "大雨特別警報",
                "status": "発表",
                "condition": "土砂災害、浸水害",
            }
        ),
        "dataProvider": PROVIDER,
        "@context": ALERT,
    }


def test_jma_xml_vpww53_categories_and_severities() -> None:
    items = entities(sample("15_12_01_161130_VPWW53.xml"))
    flood = by_id(items, "urn:ngsi-ld:Alert:JMA:3220500:04")  # 大田市 洪水警報
    assert (flood["category"]["value"], flood["subCategory"]["value"]) == (
        "naturalDisaster",
        "flood",
    )
    thunder = by_id(items, "urn:ngsi-ld:Alert:JMA:3250500:14")  # 吉賀町 雷注意報
    assert (thunder["category"]["value"], thunder["subCategory"]["value"]) == (
        "weather",
        "thunderstorms",
    )
    assert thunder["severity"]["value"] == "medium"
    severities = [item["severity"]["value"] for item in items]
    # 3 大雨特別警報; 3 大雨警報 + 6 洪水警報; the rest 注意報
    assert (severities.count("critical"), severities.count("high")) == (3, 9)
    assert severities.count("medium") == 31
    assert not any(item["id"].startswith("urn:ngsi-ld:Alert:JMA:32525") for item in items)


def test_jma_xml_vpww54_lifts_the_kind_a_special_warning_replaced() -> None:
    items = sample("15_12_01_161130_VPWW54.xml", source=DATA_URL + "x_VPWW54_320000.xml")
    replaced = by_id(items, "urn:ngsi-ld:Alert:JMA:3220200:03")  # 浜田市 大雨警報 → 33
    assert replaced["validTo"] == dt("2016-02-12T15:44:00+09:00")
    assert "validFrom" not in replaced
    assert replaced["data"] == p(
        {"areaCode": "3220200", "kindCode": "03", "kindName": "大雨警報", "replacedBy": "33"}
    )
    assert replaced["alertSource"] == p(DATA_URL + "x_VPWW54_320000.xml")
    assert replaced["source"] == p(DATA_URL + "x_VPWW54_320000.xml")
    kept = by_id(items, "urn:ngsi-ld:Alert:JMA:3220500:03")  # 大田市 大雨警報 継続
    assert "validTo" not in kept


def test_jma_xml_vpww55_level_based_kinds() -> None:
    items = sample("15_17_01_250630_VPWW55.xml")
    matsue = by_id(items, "urn:ngsi-ld:Alert:JMA:3220100:03")
    assert matsue["severity"] == p("high")
    assert matsue["name"] == ja("レベル３大雨警報")
    assert matsue["data"]["value"]["level"] == 3
    assert by_id(items, "urn:ngsi-ld:Alert:JMA:3234300:10")["severity"] == p("medium")
    assert by_id(items, "urn:ngsi-ld:Alert:JMA:3252800:10") == {
        "id": "urn:ngsi-ld:Alert:JMA:3252800:10",
        "type": "Alert",
        "category": p("weather"),
        "subCategory": p("rainfall"),
        "severity": p("medium"),
        "name": ja("レベル２大雨注意報"),
        "description": ja("東部、西部では、低い土地の浸水や河川の増水に警戒して下さい。"),
        "dateIssued": dt("2024-11-02T11:19:00+09:00"),
        "validTo": dt("2024-11-02T11:19:00+09:00"),
        "areaServed": ja("隠岐の島町"),
        "alertSource": p("松江地方気象台"),
        "data": p(
            {
                "areaCode": "3252800",
                "kindCode": "10",
                "kindName": "レベル２大雨注意報",
                "status": "解除",
                "lastKindCode": "10",
                "level": 2,
            }
        ),
        "dataProvider": PROVIDER,
        "@context": ALERT,
    }


def test_jma_xml_vxww50_landslide_alert_and_its_lifting() -> None:
    items = sample("17_01_01_190529_VXWW50.xml")
    kitakyushu = by_id(items, "urn:ngsi-ld:Alert:JMA:4010000:landslide")
    assert kitakyushu["category"] == p("naturalDisaster")
    assert kitakyushu["subCategory"] == p("floodRisk")
    assert kitakyushu["severity"] == p("critical")
    assert kitakyushu["name"] == ja("土砂災害警戒情報")
    assert kitakyushu["validFrom"] == dt("2013-08-31T11:05:00+09:00")
    assert kitakyushu["data"] == p(
        {
            "hazard": "landslide",
            "areaCode": "4010000",
            "prefectureCode": "400000",
            "kindCode": "3",
            "kindName": "警戒",
            "status": "継続",
            "level": 4,
        }
    )
    fukuoka = by_id(items, "urn:ngsi-ld:Alert:JMA:4013000:landslide")
    assert fukuoka["validTo"] == dt("2013-08-31T11:05:00+09:00")
    assert "validFrom" not in fukuoka
    lifted = [item for item in entities(items) if "validTo" in item]
    assert len(lifted) == 26  # 解除 items; the other 25 are 警戒 (継続)


def test_jma_xml_vpoa50_record_rain() -> None:
    items = sample("18_03_01_190412_VPOA50.xml")
    assert [item["id"] for item in items] == [
        "urn:ngsi-ld:Alert:JMA:recordRain:JPSP201903281834_201903281953:016010",
        "urn:ngsi-ld:Alert:JMA:recordRain:JPSP201903281834_201903281953:016030",
    ]
    ishikari = items[0]
    assert ishikari["subCategory"] == p("rainfall")
    assert ishikari["severity"] == p("high")
    assert ishikari["areaServed"] == ja("石狩地方")
    assert ishikari["description"]["languageMap"]["ja"].startswith("１９時４０分北海道で")


QUAKE = "urn:ngsi-ld:Alert:JMA:quake:20210217230627"


def test_jma_xml_vxse51_intensity_only() -> None:
    name = "20210217140808_0_VXSE51_010000.xml"
    assert sample(name, source=DATA_URL + name) == [
        {
            "id": QUAKE,
            "type": "Alert",
            "category": p("naturalDisaster"),
            "subCategory": p("earthquake"),
            "severity": p("medium"),
            "name": ja("震度速報"),
            "description": ja(
                "１７日２３時０６分ころ、地震による強い揺れを感じました。"
                "震度３以上が観測された地域をお知らせします。"
            ),
            "dateIssued": dt("2021-02-17T23:08:00+09:00"),
            "validFrom": dt("2021-02-17T23:06:00+09:00"),
            "alertSource": p(DATA_URL + name),
            "data": p(
                {
                    "eventId": "20210217230627",
                    "infoType": "発表",
                    "maxInt": "3",
                    "intensity": {
                        "prefectures": [
                            {"code": "04", "name": "宮城県", "maxInt": "3"},
                            {"code": "07", "name": "福島県", "maxInt": "3"},
                        ],
                        "areas": [
                            {"code": "222", "name": "宮城県中部", "maxInt": "3"},
                            {"code": "251", "name": "福島県浜通り", "maxInt": "3"},
                        ],
                    },
                    "comments": ["今後の情報に注意してください。"],
                }
            ),
            "dataProvider": PROVIDER,
            "source": p(DATA_URL + name),
            "@context": ALERT,
        }
    ]


def test_jma_xml_vxse52_hypocentre_only() -> None:
    assert sample("20210217140847_0_VXSE52_010000.xml") == [
        {
            "id": QUAKE,
            "type": "Alert",
            "category": p("naturalDisaster"),
            "subCategory": p("earthquake"),
            "name": ja("震源に関する情報"),
            "description": ja("きょう１７日２３時０６分ころ、地震がありました。"),
            "dateIssued": dt("2021-02-17T23:08:00+09:00"),
            "validFrom": dt("2021-02-17T23:06:00+09:00"),
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [141.6, 37.6]},
            },
            "areaServed": ja("福島県沖"),
            "alertSource": p("気象庁"),
            "data": p(
                {
                    "eventId": "20210217230627",
                    "infoType": "発表",
                    "originTime": "2021-02-17T23:06:00+09:00",
                    "epicentreName": "福島県沖",
                    "epicentreCode": "289",
                    "depth": 50.0,
                    "magnitude": 4.5,
                    "magnitudeType": "Mj",
                    "comments": ["この地震による津波の心配はありません。"],
                }
            ),
            "dataProvider": PROVIDER,
            "@context": ALERT,
        }
    ]


def test_jma_xml_vxse53_hypocentre_and_intensities() -> None:
    (quake,) = sample("20210217140958_0_VXSE53_010000.xml")
    assert quake["id"] == QUAKE
    assert quake["severity"] == p("medium")
    assert quake["location"]["value"]["coordinates"] == [141.6, 37.6]
    facts = quake["data"]["value"]
    assert (facts["serial"], facts["maxInt"], facts["magnitude"], facts["depth"]) == (
        "1",
        "3",
        4.5,
        50.0,
    )
    intensity = facts["intensity"]
    assert len(intensity["prefectures"]) == 6
    assert intensity["cities"][0] == {"code": "0420200", "name": "石巻市", "maxInt": "3"}
    assert len(intensity["cities"]) == 100  # every <City> of the telegram


def test_jma_xml_vxse53_drill_with_trailing_blanks_in_intensity() -> None:
    (quake,) = sample("32-35_01_03_240613_VXSE53.xml")
    assert quake["id"] == "urn:ngsi-ld:Alert:JMA:quake:20091001134500"
    assert quake["severity"] == p("high")  # MaxInt 5-
    assert quake["areaServed"] == ja("駿河湾")
    assert quake["location"]["value"]["coordinates"] == [138.5, 34.8]
    assert len(quake["data"]["value"]["intensity"]["cities"]) == 129
    assert {"4"} <= {city["maxInt"] for city in quake["data"]["value"]["intensity"]["cities"]}


def test_jma_xml_vtse41_area_alert() -> None:
    items = sample("32-39_12_02_191025_VTSE41.xml")
    assert by_id(items, "urn:ngsi-ld:Alert:JMA:tsunami:20160901071000:300") == {
        "id": "urn:ngsi-ld:Alert:JMA:tsunami:20160901071000:300",
        "type": "Alert",
        "category": p("naturalDisaster"),
        "subCategory": p("tsunami"),
        "severity": p("critical"),
        "name": ja("大津波警報：発表"),
        "description": ja(
            "＊＊＊これは訓練です＊＊＊\n東日本大震災クラスの津波が来襲します。\n"
            "大津波警報・津波警報を発表しました。\nただちに避難してください。"
        ),
        "dateIssued": dt("2016-09-01T07:13:00+09:00"),
        "validFrom": dt("2016-09-01T07:13:00+09:00"),
        "areaServed": ja("茨城県"),
        "alertSource": p("気象庁"),
        "data": p(
            {
                "eventId": "20160901071000",
                "areaCode": "300",
                "kindCode": "53",
                "kindName": "大津波警報：発表",
                "lastKindCode": "00",
                "lastKindName": "津波なし",
                "firstHeight": {"arrivalTime": "2016-09-01T08:10:00+09:00"},
                "maxHeight": {"unit": "m", "description": "巨大", "condition": "不明"},
                "earthquake": {
                    "originTime": "2016-09-01T07:10:00+09:00",
                    "epicentreName": "和歌山県南方沖",
                    "epicentreCode": "689",
                    "depth": 10.0,
                    "magnitudeType": "Mj",
                    "magnitudeDescription": "Ｍ８を超える巨大地震",
                },
            }
        ),
        "dataProvider": PROVIDER,
        "@context": ALERT,
    }
    severities = [item["severity"]["value"] for item in entities(items)]
    assert (severities.count("critical"), severities.count("high")) == (29, 15)
    assert severities.count("medium") == 22


def test_jma_xml_vtse41_cancellation_expires_the_event() -> None:
    assert sample("38-39_03_01_210805_VTSE41.xml") == [
        {
            "id": "urn:ngsi-ld:Alert:JMA:tsunami:20210805103531",
            "type": "Alert",
            "category": p("naturalDisaster"),
            "subCategory": p("tsunami"),
            "name": ja("津波注意報・津波予報"),
            "description": ja("津波注意報を取り消します。"),
            "dateIssued": dt("2021-08-05T12:56:00+09:00"),
            "validTo": dt("2021-08-05T12:56:00+09:00"),
            "alertSource": p("気象庁"),
            "data": p(
                {
                    "eventId": "20210805103531",
                    "infoType": "取消",
                    "text": "先ほどの、津波注意報を取り消します。",
                    "cancels": "^urn:ngsi-ld:Alert:JMA:tsunami:20210805103531:",
                }
            ),
            "dataProvider": PROVIDER,
            "@context": ALERT,
        }
    ]


def _frame(title: str, body: str, *, info_type: str = "発表", event: str = "20240101161010") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/">
<Control><Title>{title}</Title><DateTime>2024-01-01T07:10:30Z</DateTime><Status>通常</Status>
<EditorialOffice>気象庁本庁</EditorialOffice><PublishingOffice>気象庁</PublishingOffice></Control>
<Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
<Title>{title}</Title><ReportDateTime>2024-01-01T16:10:30+09:00</ReportDateTime>
<TargetDateTime>2024-01-01T16:10:30+09:00</TargetDateTime><EventID>{event}</EventID>
<InfoType>{info_type}</InfoType><Serial>3</Serial><InfoKind>{title}</InfoKind>
<InfoKindVersion>1.0_0</InfoKindVersion><Headline><Text>緊急地震速報です。</Text></Headline></Head>
<Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/seismology1/"
 xmlns:jmx_eb="http://xml.kishou.go.jp/jmaxml1/elementBasis1/">{body}</Body></Report>"""


EARTHQUAKE = """<Earthquake><OriginTime>2024-01-01T16:10:09+09:00</OriginTime>
<ArrivalTime>2024-01-01T16:10:09+09:00</ArrivalTime><Hypocenter><Area><Name>石川県能登地方</Name>
<Code type="震央地名">390</Code>
<jmx_eb:Coordinate description="北緯３７．５度　東経１３７．２度　深さ１０ｋｍ"
 datum="日本測地系">{coordinate}</jmx_eb:Coordinate></Area></Hypocenter>
<jmx_eb:Magnitude type="Mj" description="Ｍ７．４">{magnitude}</jmx_eb:Magnitude></Earthquake>"""

EEW_BODY = (
    EARTHQUAKE.format(coordinate="+37.5+137.2-10000/", magnitude="7.4")
    + """<Intensity><Forecast><ForecastInt><From>6+</From><To>over</To></ForecastInt>
<Pref><Name>石川県</Name><Code>17</Code>
<Area><Name>石川県能登</Name><Code>390</Code>
<Category><Kind><Name>緊急地震速報（警報）</Name><Code>19</Code></Kind></Category>
<ForecastInt><From>6+</From><To>over</To></ForecastInt>
<Condition>既に主要動到達と推測</Condition></Area>
<Area><Name>石川県加賀</Name><Code>391</Code>
<Category><Kind><Name>緊急地震速報（警報）</Name><Code>19</Code></Kind></Category>
<ForecastInt><From>5+</From><To>6-</To></ForecastInt></Area></Pref>
<Pref><Name>富山県</Name><Code>16</Code>
<Area><Name>富山県東部</Name><Code>380</Code>
<Category><Kind><Name>緊急地震速報（警報）</Name><Code>19</Code></Kind></Category>
<ForecastInt><From>5-</From><To>5+</To></ForecastInt></Area></Pref></Forecast></Intensity>
<Comments><WarningComment codeType="固定付加文"><Text>強い揺れに警戒してください。</Text>
<Code>0201</Code></WarningComment></Comments>"""
)


def test_jma_xml_vxse43_earthquake_early_warning() -> None:
    assert parse(_frame("緊急地震速報（警報）", EEW_BODY), drills=False) == [
        {
            "id": "urn:ngsi-ld:Alert:JMA:eew:20240101161010",
            "type": "Alert",
            "category": p("naturalDisaster"),
            "subCategory": p("earthquake"),
            "severity": p("critical"),
            "name": ja("緊急地震速報（警報）"),
            "description": ja("強い揺れに警戒してください。"),
            "dateIssued": dt("2024-01-01T16:10:30+09:00"),
            "validFrom": dt("2024-01-01T16:10:09+09:00"),
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [137.2, 37.5]},
            },
            "areaServed": ja("石川県能登、石川県加賀、富山県東部"),
            "alertSource": p("気象庁"),
            "data": p(
                {
                    "eventId": "20240101161010",
                    "serial": "3",
                    "infoType": "発表",
                    "originTime": "2024-01-01T16:10:09+09:00",
                    "epicentreName": "石川県能登地方",
                    "epicentreCode": "390",
                    "depth": 10.0,
                    "magnitude": 7.4,
                    "magnitudeType": "Mj",
                    "forecastInt": {"from": "6+", "to": "over"},
                    "areas": [
                        {
                            "code": "390",
                            "name": "石川県能登",
                            "kindCode": "19",
                            "forecastInt": {"from": "6+", "to": "over"},
                            "condition": "既に主要動到達と推測",
                        },
                        {
                            "code": "391",
                            "name": "石川県加賀",
                            "kindCode": "19",
                            "forecastInt": {"from": "5+", "to": "6-"},
                        },
                        {
                            "code": "380",
                            "name": "富山県東部",
                            "kindCode": "19",
                            "forecastInt": {"from": "5-", "to": "5+"},
                        },
                    ],
                }
            ),
            "dataProvider": PROVIDER,
            "@context": ALERT,
        }
    ]


def test_jma_xml_cancelled_quake_keeps_its_entity_with_valid_to() -> None:
    (quake,) = parse(
        _frame(
            "震源・震度に関する情報",
            "<Text>先ほどの地震情報を取り消します。</Text>",
            info_type="取消",
        )
    )
    assert quake["id"] == "urn:ngsi-ld:Alert:JMA:quake:20240101161010"
    assert quake["validTo"] == dt("2024-01-01T16:10:30+09:00")
    assert "validFrom" not in quake


@pytest.mark.parametrize(
    ("coordinate", "magnitude", "reason"),
    [
        ("+95.0+137.2-10000/", "7.4", "latitude 95.0 is out of range"),
        ("37.5N137.2E", "7.4", "is not an ISO 6709 point"),
        ("+37.5+137.2-10000/", "seven", "Magnitude: 'seven' is not a number"),
    ],
)
def test_jma_xml_bad_earthquake_values_are_rejected(
    coordinate: str, magnitude: str, reason: str
) -> None:
    body = EARTHQUAKE.format(coordinate=coordinate, magnitude=magnitude)
    (item,) = parse(_frame("震源に関する情報", body))
    assert isinstance(item, Rejected)
    assert reason in item.reason
    assert "<Report" in item.raw


def test_jma_xml_unknown_intensity_is_rejected() -> None:
    body = "<Intensity><Observation><MaxInt>9</MaxInt></Observation></Intensity>"
    (item,) = parse(_frame("震度速報", body))
    assert isinstance(item, Rejected)
    assert item.reason == "Observation/MaxInt: '9' is not a JMA seismic intensity"


def test_jma_xml_quake_without_event_id_is_rejected() -> None:
    (item,) = parse(_frame("震源に関する情報", "", event=""))
    assert isinstance(item, Rejected)
    assert item.reason == "Head/EventID is missing"


def _replace_nth(text: str, old: str, new: str, nth: int) -> str:
    parts = text.split(old)
    assert len(parts) > nth + 1, old
    return old.join(parts[: nth + 1]) + new + old.join(parts[nth + 1 :])


def test_jma_xml_bad_warning_items_are_rejected_and_the_rest_mapped() -> None:
    text = (SAMPLES / "15_12_01_161130_VPWW53.xml").read_text()
    head, body = text.split('<Warning type="気象警報・注意報（市町村等）">')
    body = body.replace("<Code>3220100</Code>", "<Code>松江</Code>", 1)  # item 0, 松江市
    flood = "<Name>洪水注意報</Name>\n          <Code>18</Code>\n"
    body = _replace_nth(body, flood, "<Name>洪水注意報</Name>\n", 1)  # item 2, 出雲市
    items = parse(head + '<Warning type="気象警報・注意報（市町村等）">' + body)
    where = "Warning[気象警報・注意報（市町村等）]/Item"
    assert [(item.where, item.reason) for item in rejected(items)] == [
        (f"{where}[0]", "Area/Code '松江' is not an area code"),
        (f"{where}[2]", "Kind/Code is missing (Status '継続')"),
    ]
    assert rejected(items)[0].raw.startswith("<Item>")
    assert "<Code>松江</Code>" in rejected(items)[0].raw
    assert "3220300" in rejected(items)[1].raw
    assert len(entities(items)) == 43 - 3 - 3


def test_jma_xml_bad_tsunami_item_is_rejected_and_the_rest_mapped() -> None:
    text = (SAMPLES / "32-39_12_02_191025_VTSE41.xml").read_text()
    text = text.replace(
        "<Area><Name>茨城県</Name><Code>300</Code></Area>", "<Area><Name>茨城県</Name></Area>"
    )
    text = text.replace(
        "<ArrivalTime>2016-09-01T07:30:00+09:00</ArrivalTime>",
        "<ArrivalTime>7時半</ArrivalTime>",
        1,
    )
    items = parse(text)
    assert [(item.where, item.reason) for item in rejected(items)] == [
        ("Tsunami/Forecast/Item[0]", "Area/Code None is not a 津波予報区 code"),
        ("Tsunami/Forecast/Item[1]", "ArrivalTime: '7時半' is not an ISO 8601 time"),
    ]
    assert len(entities(items)) == 64


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"<Report><Control>", "The payload is not well-formed XML"),
        (b"\x00\x01 not xml", "The payload is not well-formed XML"),
        (
            "<Report><Control><Title>震度速報</Title><Status>通常</Status></Control></Report>".encode(),
            "the telegram has no Control or Head",
        ),
        (
            b"<html><body>503 Service Unavailable</body></html>",
            "a JMA telegram starts with <Report>",
        ),
    ],
)
def test_jma_xml_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    (item,) = parse(payload)
    assert isinstance(item, Rejected)
    assert item.where == "payload"
    assert reason in item.reason


def test_jma_xml_entity_expansion_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><Report>&a;</Report>'
    (item,) = parse(bomb)
    assert isinstance(item, Rejected)
    assert item.where == "payload"


def test_jma_xml_atom_and_unmapped_telegrams_give_nothing() -> None:
    assert parse(atom([DATA_URL + "a.xml"])) == []
    assert parse(_frame("府県天気予報", "")) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+37.6+141.6-50000/", (141.6, 37.6, 50.0)),
        ("-33.8+151.2/", (151.2, -33.8, None)),
        ("+3736.0+14136.0-10000/", (141.6, 37.6, 10.0)),
        ("+373600+1413600+0/", (141.6, 37.6, 0.0)),
        ("", None),
    ],
)
def test_jma_xml_iso6709_hypocentre(raw: str, expected: Any) -> None:
    assert hypocentre(raw) == expected


def test_jma_xml_iso6709_longitude_out_of_range() -> None:
    with pytest.raises(RecordError, match=r"longitude 190\.0 is out of range"):
        hypocentre("+37.6+190.0-50000/")


def atom(links: list[str]) -> str:
    entries = "".join(
        f"""<entry><title>震源に関する情報</title><id>urn:uuid:{index}</id>
<updated>2021-02-17T14:09:58Z</updated><author><name>気象庁</name></author>
<link type="application/xml" href="{link}"/><content type="text">…</content></entry>"""
        for index, link in enumerate(links)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" lang="ja"><title>高頻度（地震火山）</title>
<subtitle>JMAXML publishing feed</subtitle><updated>2021-02-17T23:10:01+09:00</updated>
<id>urn:uuid:feed</id><link href="https://www.jma.go.jp/" rel="related"/>
<rights>Published by Japan Meteorological Agency</rights>{entries}</feed>"""


QUAKE_PATH = "/developer/xml/data/20210217140847_0_VXSE52_010000.xml"
DRILL_PATH = "/developer/xml/data/20091001045001_0_VXSE53_010000.xml"
FEED_PATH = "/developer/xml/feed/eqvol.xml"


def _serve(server: ContextServer, feed: list[str]) -> None:
    server.route(
        FEED_PATH, atom([server.url(path) for path in feed]), content_type="application/atom+xml"
    )
    for path, name in [
        (QUAKE_PATH, "20210217140847_0_VXSE52_010000.xml"),
        (DRILL_PATH, "32-35_01_03_240613_VXSE53.xml"),
    ]:
        server.route(path, Path(SAMPLES / name).read_bytes(), content_type="application/xml")


async def test_jma_xml_collect_follows_new_atom_links_once() -> None:
    adapter = adapter_class("jma-xml")
    assert adapter is JmaXmlAdapter
    with ContextServer() as server:
        _serve(server, [DRILL_PATH, QUAKE_PATH])  # newest first, as JMA lists them
        fetcher = Fetcher(retries=0)
        try:
            collector = JmaXmlAdapter(
                {"base_url": server.url("/developer/xml"), "feeds": ["eqvol"]}
            )
            items = await collector.collect(fetcher)
            assert [item["id"] for item in items] == [QUAKE]
            assert items[0]["alertSource"] == p(server.url(QUAKE_PATH))
            assert (server.hits(FEED_PATH), server.hits(QUAKE_PATH), server.hits(DRILL_PATH)) == (
                1,
                1,
                1,
            )
            assert await collector.collect(fetcher) == []
            assert (server.hits(FEED_PATH), server.hits(QUAKE_PATH), server.hits(DRILL_PATH)) == (
                2,
                1,
                1,
            )

            drills = JmaXmlAdapter(
                {
                    "base_url": server.url("/developer/xml"),
                    "feeds": ["eqvol"],
                    "include_drills": True,
                }
            )
            ids = [item["id"] for item in await drills.collect(fetcher)]
            # JMA lists the newest first; they are mapped oldest first
            assert ids == [QUAKE, "urn:ngsi-ld:Alert:JMA:quake:20091001134500"]
        finally:
            await fetcher.aclose()


async def test_jma_xml_collect_filters_by_office_and_type() -> None:
    with ContextServer() as server:
        _serve(server, [DRILL_PATH, QUAKE_PATH])
        fetcher = Fetcher(retries=0)
        try:
            base = server.url("/developer/xml")
            osaka = JmaXmlAdapter({"base_url": base, "feeds": ["eqvol"], "offices": ["270000"]})
            assert await osaka.collect(fetcher) == []
            hypocentres = JmaXmlAdapter({"base_url": base, "feeds": ["eqvol"], "types": ["VXSE52"]})
            assert [item["id"] for item in await hypocentres.collect(fetcher)] == [QUAKE]
            assert (server.hits(QUAKE_PATH), server.hits(DRILL_PATH)) == (1, 0)
        finally:
            await fetcher.aclose()


async def test_jma_xml_collect_rejects_a_missing_telegram_and_retries_it() -> None:
    with ContextServer() as server:
        missing = "/developer/xml/data/20210217141000_0_VXSE53_010000.xml"
        _serve(server, [missing, QUAKE_PATH])
        fetcher = Fetcher(retries=0)
        try:
            collector = JmaXmlAdapter(
                {"base_url": server.url("/developer/xml"), "feeds": ["eqvol"]}
            )
            items = await collector.collect(fetcher)
            assert [item["id"] for item in entities(items)] == [QUAKE]
            (bad,) = rejected(items)
            assert bad.where == server.url(missing)
            assert "HTTP 404" in bad.reason
            await collector.collect(fetcher)
            assert (server.hits(missing), server.hits(QUAKE_PATH)) == (2, 1)
        finally:
            await fetcher.aclose()
