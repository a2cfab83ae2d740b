"""jp-shelters: GSI evacuation-site GeoJSON and the municipal standard dataset CSV →
PointOfInterest (CATALOG §9)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pyproj import Geod, Transformer

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jp_shelter_status import era_time
from cityhub.ingest.feeds.jp_shelters import JapanShelters, capacity
from cityhub.ingest.feeds.records import Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 9, 2, 9, 3, 12, tzinfo=UTC)
SAMPLE = shared_dir() / "fixtures" / "jp-shelters" / "gsi-emergency-131016.geojson"
GSI_URL = "https://hinanmap.gsi.go.jp/hinanjocp/defaultFtpData/geoJSON/mergeFromCity_2.geojson"
GSI_PATH = "/hinanjocp/defaultFtpData/geoJSON/mergeFromCity_2.geojson"
POI_CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.PointOfInterest/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
GSI_PROVIDER = (
    "出典：国土地理院 指定緊急避難場所・指定避難所データ "
    "(Geospatial Information Authority of Japan, hinanmap.gsi.go.jp)"
)

# The standard dataset 指定緊急避難場所一覧 as a municipality publishes it (columns of §9):
# free-text capacities, one latitude out of range, one coordinate written in words, one row
# without its ID.
HEADER = (
    "全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,名称_英字,所在地_全国地方公共団体コード,"
    "町字ID,所在地_連結表記,所在地_都道府県,所在地_市区町村,所在地_町字,所在地_番地以下,"
    "建物名等(方書),緯度,経度,標高,電話番号,災害種別_洪水,災害種別_崖崩れ、土石流及び地滑り,"
    "災害種別_高潮,災害種別_地震,災害種別_津波,災害種別_大規模な火事,災害種別_内水氾濫,"
    "災害種別_火山現象,指定避難所との重複,想定収容人数,対象となる町会・自治会"
)
MUNICIPAL_CSV = "\n".join(
    [
        HEADER,
        "172022,172022001,石川県七尾市,七尾市立御祓小学校,ナナオシリツミソギショウガッコウ,"
        "Misogi Elementary School,172022,,石川県七尾市小島町ニ部1,石川県,七尾市,小島町,ニ部1,,"
        "37.043361,136.962694,5,0767-53-0001,1,,1,1,,1,1,,1,約500人,御祓地区",
        "172022,172022002,石川県七尾市,七尾市文化ホール,ナナオシブンカホール,Nanao Culture Hall,"
        "172022,,石川県七尾市本府中町ヨ部41,石川県,七尾市,本府中町,ヨ部41,,37.036,136.9655,"
        ",,,,,1,,1,,,1,５００名,",
        "172022,172022003,石川県七尾市,和倉温泉総湯前広場,ワクラオンセンソウユマエヒロバ,,172022,,"
        ",石川県,七尾市,和倉町,ワ部6,,137.0857,136.9105,,,,,,1,1,1,,,,不明,",
        "172022,172022004,石川県七尾市,七尾港,ナナオコウ,,172022,,,石川県,七尾市,府中町,,,"
        "北緯37度,136.97,,,,,,,,,,,,1200,",
        "172022,,石川県七尾市,無番号の広場,,,172022,,,石川県,七尾市,,,,37.05,136.95,,,,,,,,,,,,,",
    ]
)

# The GSI 指定避難所 variant (mergeFromCity_1): no hazard flags, 受入対象者 instead.
SHELTER_GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [139.756774, 35.694133]},
            "properties": {
                "NO": 1,
                "共通ID": "E1310100005101",
                "都道府県名及び市町村名": "東京都千代田区",
                "施設・場所名": "神田一橋中学校",
                "住所": "東京都千代田区一ツ橋2-6-14",
                "指定緊急避難場所との住所同一": "1",
                "その他市町村長が必要と認める事項": "",
                "受入対象者": "要配慮者",
                "備考": "",
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [239.7, 35.69]},
            "properties": {"共通ID": "E1310100099101", "施設・場所名": "範囲外"},
        },
    ],
}


# A live opening-status list as volunteers turn a municipal page into CSV (§9): the time label
# in the Japanese era above the header, a headcount that is sometimes text.
STATUS_CSV = "\n".join(
    [
        "令和6年9月2日午後6時現在",
        "ID,名称,人数,開設状況",
        "172022001,七尾市立御祓小学校,12人,開設",
        "172022002,七尾市文化ホール,250,満員",
        "172022005,中島小学校,,閉鎖",
        "172022006,田鶴浜体育館,多数,開設",
        ",名無し避難所,3,開設",
    ]
)


def parse(payload: bytes, **options: object) -> list:
    return JapanShelters(options).parse(payload, fetched_at=FETCHED)


def entities(items: list) -> list[dict]:
    return [i for i in items if not isinstance(i, Rejected)]


def rejected(items: list) -> list[Rejected]:
    return [i for i in items if isinstance(i, Rejected)]


def test_adapter_is_registered_for_tokyo() -> None:
    cls = adapter_class("jp-shelters")
    assert cls is JapanShelters
    assert cls.default_tenant == "tokyo"
    assert cls.key_setting is None


def test_gsi_sample_gives_28_evacuation_sites() -> None:
    items = parse(SAMPLE.read_bytes())
    assert rejected(items) == []
    assert len(items) == 28
    assert len({e["id"] for e in items}) == 28
    assert all(e["category"]["value"] == ["evacuationSite"] for e in items)
    assert items[0] == {
        "id": "urn:ngsi-ld:PointOfInterest:JP-GSI:E1310100005201",
        "type": "PointOfInterest",
        "name": {"type": "LanguageProperty", "languageMap": {"ja": "神田一橋中学校"}},
        "category": {"type": "Property", "value": ["evacuationSite"]},
        "address": {
            "type": "Property",
            "value": {
                "addressCountry": "JP",
                "addressRegion": "東京都",
                "addressLocality": "千代田区",
                "streetAddress": "一ツ橋2-6-14",
            },
        },
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [139.756774, 35.694133]},
        },
        "hazardTypes": {
            "type": "Property",
            "value": ["flood", "landslide", "earthquake", "inlandFlooding"],
        },
        "dataProvider": {"type": "Property", "value": GSI_PROVIDER},
        "source": {"type": "Property", "value": GSI_URL},
        "@context": POI_CONTEXT,
    }
    sophia = next(e for e in items if e["id"].endswith("E1310100017201"))
    assert sophia["name"]["languageMap"] == {"ja": "上智大学"}
    assert sophia["hazardTypes"]["value"] == ["flood", "stormSurge"]
    assert "capacity" not in sophia  # the GSI data has no capacity


def test_gsi_shelter_variant_is_an_evacuation_shelter_without_hazards() -> None:
    items = parse(orjson.dumps(SHELTER_GEOJSON))
    assert items[0] == {
        "id": "urn:ngsi-ld:PointOfInterest:JP-GSI:E1310100005101",
        "type": "PointOfInterest",
        "name": {"type": "LanguageProperty", "languageMap": {"ja": "神田一橋中学校"}},
        "category": {"type": "Property", "value": ["evacuationShelter"]},
        "description": {"type": "LanguageProperty", "languageMap": {"ja": "受入対象者: 要配慮者"}},
        "address": {
            "type": "Property",
            "value": {
                "addressCountry": "JP",
                "addressRegion": "東京都",
                "addressLocality": "千代田区",
                "streetAddress": "一ツ橋2-6-14",
            },
        },
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [139.756774, 35.694133]},
        },
        "dataProvider": {"type": "Property", "value": GSI_PROVIDER},
        "source": {"type": "Property", "value": GSI_URL.replace("_2.geojson", "_1.geojson")},
        "@context": POI_CONTEXT,
    }
    [bad] = rejected(items)
    assert bad.where == "features[1]"
    assert "longitude 239.7 is out of range" in bad.reason
    assert "範囲外" in bad.raw


def test_municipal_csv_rows_with_free_text_capacity_and_bad_rows() -> None:
    items = parse(MUNICIPAL_CSV.encode())
    good = entities(items)
    assert [e["id"] for e in good] == [
        "urn:ngsi-ld:PointOfInterest:JP-172022:evacuationSite:172022001",
        "urn:ngsi-ld:PointOfInterest:JP-172022:evacuationSite:172022002",
    ]
    assert good[0] == {
        "id": "urn:ngsi-ld:PointOfInterest:JP-172022:evacuationSite:172022001",
        "type": "PointOfInterest",
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"ja": "七尾市立御祓小学校", "en": "Misogi Elementary School"},
        },
        "category": {"type": "Property", "value": ["evacuationSite"]},
        "address": {
            "type": "Property",
            "value": {
                "addressCountry": "JP",
                "addressRegion": "石川県",
                "addressLocality": "七尾市",
                "streetAddress": "小島町ニ部1",
            },
        },
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [136.962694, 37.043361]},
        },
        "capacity": {"type": "Property", "value": 500},
        "hazardTypes": {
            "type": "Property",
            "value": ["flood", "stormSurge", "earthquake", "largeFire", "inlandFlooding"],
        },
        "dataProvider": {
            "type": "Property",
            "value": "石川県七尾市 自治体標準オープンデータセット (municipal open data)",
        },
        "@context": POI_CONTEXT,
    }
    assert good[1]["capacity"]["value"] == 500  # "５００名", full-width digits
    assert good[1]["name"]["languageMap"] == {"ja": "七尾市文化ホール", "en": "Nanao Culture Hall"}
    bad = rejected(items)
    assert [b.where for b in bad] == ["row[2]", "row[3]", "row[4]"]
    assert "latitude 137.0857 is out of range" in bad[0].reason
    assert "'北緯37度' is not a number" in bad[1].reason
    assert bad[2].reason == "ID is missing"
    assert bad[0].raw.startswith("172022,172022003,石川県七尾市,和倉温泉総湯前広場")


def test_municipal_csv_source_is_the_url_it_came_from() -> None:
    adapter = JapanShelters({"url": "https://city.example/shelters.csv"})
    items = adapter.parse(MUNICIPAL_CSV.encode(), fetched_at=FETCHED)
    assert items[0]["source"] == {"type": "Property", "value": "https://city.example/shelters.csv"}
    passed = adapter.parse(MUNICIPAL_CSV.encode(), fetched_at=FETCHED, source="https://x/y.csv")
    assert passed[0]["source"]["value"] == "https://x/y.csv"


def test_municipal_csv_in_shift_jis_with_bom_free_header_gives_the_same_entities() -> None:
    assert parse(MUNICIPAL_CSV.encode("cp932")) == parse(MUNICIPAL_CSV.encode("utf-8-sig"))


@pytest.mark.parametrize(
    ("raw", "people"),
    [
        ("約500人", 500),
        ("500名", 500),
        ("1,200人（屋内）", 1200),
        ("１２００", 1200),
        ("200～300人", 200),
        ("不明", None),
        ("", None),
        ("5000㎡", None),
        (350, 350),
    ],
)
def test_capacity_reads_the_first_number_of_free_text(raw: object, people: int | None) -> None:
    assert capacity(raw) == people


def test_plane_rectangular_coordinates_are_converted_to_wgs84() -> None:
    """EPSG:6675 is JGD2011 zone VII, origin 36°N 137°10'E (published parameters): the
    origin must land there, and another point where a PROJ string of the same parameters
    (not the EPSG database) puts it, both within a centimetre."""
    x, y = 5_000.0, -20_000.0
    zone_vii = "+proj=tmerc +lat_0=36 +lon_0=137.166666666667 +k=0.9999 +x_0=0 +y_0=0 +ellps=GRS80"
    expected = Transformer.from_crs(zone_vii, "+proj=longlat +ellps=GRS80", always_xy=True)
    lon, lat = expected.transform(x, y)
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6675"}},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [0.0, 0.0]},
                "properties": {"共通ID": "E1720200001201", "施設・場所名": "原点"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"共通ID": "E1720200002201", "施設・場所名": "南の点"},
            },
        ],
    }
    origin, south = parse(orjson.dumps(doc))
    geod = Geod(ellps="GRS80")
    got = origin["location"]["value"]["coordinates"]
    assert geod.inv(got[0], got[1], 137 + 10 / 60, 36.0)[2] < 0.01
    got = south["location"]["value"]["coordinates"]
    assert geod.inv(got[0], got[1], lon, lat)[2] < 0.01
    # The option gives the same for a file without a crs member (JGD2000 zone VII here).
    del doc["crs"]
    again = parse(orjson.dumps(doc), crs="EPSG:2449")
    assert again[0]["location"]["value"]["coordinates"] == [137.1666667, 36.0]


def test_plane_rectangular_option_applies_to_csv_columns() -> None:
    csv_text = "ID,名称,所在地_全国地方公共団体コード,緯度,経度\n9,原点,172022,0,0\n"
    [site] = parse(csv_text.encode(), crs="EPSG:6675")
    assert site["location"]["value"]["coordinates"] == [137.1666667, 36.0]


def test_unsupported_crs_is_refused() -> None:
    with pytest.raises(ValueError, match="EPSG:3857 is not supported"):
        JapanShelters({"crs": "EPSG:3857"})
    doc = {"type": "FeatureCollection", "crs": {"properties": {"name": "EPSG:3857"}}}
    [bad] = parse(orjson.dumps(doc | {"features": []}))
    assert bad.where == "payload"
    assert "EPSG:3857 is not supported" in bad.reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
        (b'{"type": "Feature"}', "not a FeatureCollection"),
        (b'{"type": "FeatureCollection"}', "no features array"),
        ("名前,住所\n公園,どこか\n".encode(), "neither the GSI columns"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [bad] = parse(payload)
    assert bad.where == "payload"
    assert reason in bad.reason


def test_bad_features_are_rejected_and_the_rest_mapped() -> None:
    doc = orjson.loads(SAMPLE.read_bytes())
    doc["features"][3]["geometry"]["coordinates"] = ["139.7", "north"]
    doc["features"][5]["properties"]["共通ID"] = ""
    doc["features"][7]["geometry"] = None
    items = parse(orjson.dumps(doc))
    assert len(entities(items)) == 25
    assert [(b.where, b.reason) for b in rejected(items)] == [
        ("features[3]", "location latitude: 'north' is not a number"),
        ("features[5]", "共通ID is missing"),
        ("features[7]", "the geometry is not a Point"),
    ]


def test_live_status_gives_occupancy_and_status_on_the_same_ids() -> None:
    items = parse(STATUS_CSV.encode("cp932"), municipality="172022")
    observed = "2024-09-02T18:00:00+09:00"
    assert entities(items) == [
        {
            "id": "urn:ngsi-ld:PointOfInterest:JP-172022:evacuationSite:172022001",
            "type": "PointOfInterest",
            "occupancy": {"type": "Property", "value": 12, "observedAt": observed},
            "status": {"type": "Property", "value": "open", "observedAt": observed},
            "dataProvider": {
                "type": "Property",
                "value": "避難所開設状況 (municipal shelter opening status)",
            },
            "@context": POI_CONTEXT,
        },
        {
            "id": "urn:ngsi-ld:PointOfInterest:JP-172022:evacuationSite:172022002",
            "type": "PointOfInterest",
            "occupancy": {"type": "Property", "value": 250, "observedAt": observed},
            "status": {"type": "Property", "value": "full", "observedAt": observed},
            "dataProvider": {
                "type": "Property",
                "value": "避難所開設状況 (municipal shelter opening status)",
            },
            "@context": POI_CONTEXT,
        },
        {
            "id": "urn:ngsi-ld:PointOfInterest:JP-172022:evacuationSite:172022005",
            "type": "PointOfInterest",
            "status": {"type": "Property", "value": "closed", "observedAt": observed},
            "dataProvider": {
                "type": "Property",
                "value": "避難所開設状況 (municipal shelter opening status)",
            },
            "@context": POI_CONTEXT,
        },
    ]
    assert [(r.where, r.reason) for r in rejected(items)] == [
        ("row[3]", "人数: '多数' is not a number"),
        ("row[4]", "ID is missing"),
    ]
    # The ids are those of the site list of the same municipality.
    sites = parse(MUNICIPAL_CSV.encode())
    assert items[0]["id"] == sites[0]["id"]


def test_live_status_by_common_id_with_a_time_column() -> None:
    csv_text = (
        "共通ID,施設・場所名,人数,日時\n"
        "E1310100005201,神田一橋中学校,35,令和6年9月2日午前10時30分\n"
    )
    [site] = parse(csv_text.encode(), data_provider="千代田区 避難所開設状況")
    assert site["id"] == "urn:ngsi-ld:PointOfInterest:JP-GSI:E1310100005201"
    assert site["occupancy"]["observedAt"] == "2024-09-02T10:30:00+09:00"
    assert site["dataProvider"]["value"] == "千代田区 避難所開設状況"
    [bad] = parse("共通ID,人数\nE1310100005201,35\n".encode())
    assert bad.reason == "no time label (a 日時 column or a line above the header)"


@pytest.mark.parametrize(
    ("label", "iso"),
    [
        ("令和6年9月2日午後6時", "2024-09-02T18:00:00+09:00"),
        ("令和６年９月２日（月）午後６時３０分現在", "2024-09-02T18:30:00+09:00"),
        ("令和元年5月1日午前0時", "2019-05-01T00:00:00+09:00"),
        ("平成31年4月30日23時", "2019-04-30T23:00:00+09:00"),
        ("令和6年9月2日午前12時", "2024-09-02T12:00:00+09:00"),  # noon (1872 decree)
        ("令和6年9月2日午後12時", "2024-09-03T00:00:00+09:00"),  # midnight
        ("2024年9月2日 18時", "2024-09-02T18:00:00+09:00"),
        ("集計中", None),
    ],
)
def test_japanese_era_time_labels(label: str, iso: str | None) -> None:
    assert era_time(label, "time") == iso


def test_parse_is_deterministic() -> None:
    payload = SAMPLE.read_bytes()
    assert parse(payload) == parse(payload)
    assert parse(MUNICIPAL_CSV.encode()) == parse(MUNICIPAL_CSV.encode())


async def test_hub_accepts_every_entity() -> None:
    items = [
        *parse(SAMPLE.read_bytes()),
        *parse(orjson.dumps(SHELTER_GEOJSON)),
        *parse(MUNICIPAL_CSV.encode()),
        *parse(STATUS_CSV.encode(), municipality="172022"),
    ]
    assert await assert_hub_accepts(items) == 28 + 1 + 2 + 3


async def test_collect_fetches_the_gsi_file_and_a_municipal_csv() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with ContextServer() as server:
            server.route(GSI_PATH, SAMPLE.read_bytes(), content_type="application/geo+json")
            csv_url = server.route("/opendata/shelters.csv", MUNICIPAL_CSV, content_type="text/csv")
            items = await JapanShelters({"base_url": server.base}).collect(fetcher)
            assert server.hits(GSI_PATH) == 1
            assert len(entities(items)) == 28
            assert items[0]["source"]["value"] == server.url(GSI_PATH)
            items = await JapanShelters({"url": csv_url}).collect(fetcher)
            assert server.hits("/opendata/shelters.csv") == 1
            assert len(entities(items)) == 2 and len(rejected(items)) == 3
            assert items[0]["source"]["value"] == csv_url
    finally:
        await fetcher.aclose()
