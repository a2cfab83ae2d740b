"""seoul-citydata: Seoul real-time city data per hotspot → CrowdFlowObserved,
TrafficFlowObserved, RoadSegment, Off/OnStreetParking, WeatherObserved, WeatherForecast,
AirQualityObserved, Alert, EVChargingStation, BikeHireDockingStation (CATALOG §1)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.records import Item, Rejected
from cityhub.ingest.feeds.seoul_citydata import SeoulCityData
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FIXTURES = shared_dir() / "fixtures" / "seoul-citydata"
SAMPLE = FIXTURES / "citydata.json"
PPLTN_SAMPLE = FIXTURES / "citydata-ppltn.json"
FETCHED = datetime(2026, 8, 11, 9, 3, 27, tzinfo=UTC)
KEY = "5a6b7c8d9e"

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
TRANSPORTATION = [SDM.format("Transportation"), CORE]
PARKING = [SDM.format("Parking"), CORE]
WEATHER = [SDM.format("Weather"), CORE]
ENVIRONMENT = [SDM.format("Environment"), CORE]
ALERT = [SDM.format("Alert"), CORE]
PROVIDER = {"type": "Property", "value": "Seoul Open Data Plaza (data.seoul.go.kr)"}
SOURCE = {
    "type": "Property",
    "value": "https://data.seoul.go.kr/dataList/OA-21285/F/1/datasetView.do",
}
T1730 = "2026-08-11T17:30:00+09:00"
T1800 = "2026-08-11T18:00:00+09:00"
# Mean of the 25 distinct facility coordinates of the sample (5 road vertices, 12 car parks,
# 2 subway and 3 bus stations, 2 bike docks, 1 charging station), to 1e-6 degree.
AREA_CENTRE = [126.977961, 37.567993]
ROAD_CENTRE = [126.979903, 37.570218]  # mean of the 5 distinct road vertices


def dt(value: str) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def ko(text: str) -> dict[str, Any]:
    return {"type": "LanguageProperty", "languageMap": {"ko": text}}


def measured(value: Any, unit: str | None = None, at: str = T1800) -> dict[str, Any]:
    attribute: dict[str, Any] = {"type": "Property", "value": value}
    if unit is not None:
        attribute["unitCode"] = unit
    attribute["observedAt"] = at
    return attribute


def value(v: Any, unit: str | None = None) -> dict[str, Any]:
    attribute: dict[str, Any] = {"type": "Property", "value": v}
    if unit is not None:
        attribute["unitCode"] = unit
    return attribute


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def parse(payload: bytes) -> list[Item]:
    return SeoulCityData().parse(payload, fetched_at=FETCHED, source="citydata.json")


def sample() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(SAMPLE.read_bytes())
    return document


def by_id(items: list[Item]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items if isinstance(item, dict)}


def rejected(items: list[Item]) -> list[Rejected]:
    return [item for item in items if isinstance(item, Rejected)]


CITYDATA_XML = "\n".join(
    [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<SeoulRtd.citydata>",
        " <list_total_count>1</list_total_count>",
        " <RESULT><RESULT.CODE>INFO-000</RESULT.CODE><RESULT.MESSAGE>정상 처리되었습"
        "니다.</RESULT.MESSAGE></RESULT>",
        " <CITYDATA>",
        "  <AREA_NM>광화문·덕수궁</AREA_NM><AREA_CD>POI009</AREA_CD>",
        "  <LIVE_PPLTN_STTS>",
        "   <LIVE_PPLTN_STTS>",
        "    <AREA_NM>광화문·덕수궁</AREA_NM><AREA_CD>POI009</AREA_CD>",
        "    <AREA_CONGEST_LVL>보통</AREA_CONGEST_LVL>",
        "    <AREA_CONGEST_MSG>사람이 몰려있을 수 있지만 크게 붐비지는 않아요. 도보 "
        "이동에 큰 제약이 없어요.</AREA_CONGEST_MSG>",
        "    <AREA_PPLTN_MIN>38000</AREA_PPLTN_MIN><AREA_PPLTN_MAX>40000</AREA_PPLTN_MAX>",
        "    <MALE_PPLTN_RATE>50.5</MALE_PPLTN_RATE>",
        "    <FEMALE_PPLTN_RATE>49.5</FEMALE_PPLTN_RATE><PPLTN_RATE_0>0.5</PPLTN_RATE_0>",
        "    <PPLTN_RATE_10>2.7</PPLTN_RATE_10><PPLTN_RATE_20>17.5</PPLTN_RATE_20>",
        "    <PPLTN_RATE_30>23.9</PPLTN_RATE_30><PPLTN_RATE_40>26.4</PPLTN_RATE_40>",
        "    <PPLTN_RATE_50>19.4</PPLTN_RATE_50><PPLTN_RATE_60>6.6</PPLTN_RATE_60>",
        "    <PPLTN_RATE_70>2.9</PPLTN_RATE_70><RESNT_PPLTN_RATE>40.8</RESNT_PPLTN_RATE>",
        "    <NON_RESNT_PPLTN_RATE>59.2</NON_RESNT_PPLTN_RATE><REPLACE_YN>N</REPLACE_YN>",
        "    <PPLTN_TIME>2026-08-11 17:30</PPLTN_TIME><FCST_YN>Y</FCST_YN>",
        "    <FCST_PPLTN>",
        "     <FCST_PPLTN>",
        "      <FCST_TIME>2026-08-11 19:00</FCST_TIME>",
        "      <FCST_CONGEST_LVL>보통</FCST_CONGEST_LVL>",
        "      <FCST_PPLTN_MIN>32000</FCST_PPLTN_MIN>",
        "      <FCST_PPLTN_MAX>34000</FCST_PPLTN_MAX>",
        "     </FCST_PPLTN>",
        "    </FCST_PPLTN>",
        "   </LIVE_PPLTN_STTS>",
        "  </LIVE_PPLTN_STTS>",
        "  <ROAD_TRAFFIC_STTS>",
        "   <AVG_ROAD_DATA>",
        "    <ROAD_MSG>해당 장소로 이동·진입시 시간이 오래 걸릴 수 있어요.</ROAD_MSG>",
        "    <ROAD_TRAFFIC_IDX>정체</ROAD_TRAFFIC_IDX>",
        "    <ROAD_TRAFFIC_SPD>13</ROAD_TRAFFIC_SPD>",
        "    <ROAD_TRAFFIC_TIME>2026-08-11 18:00</ROAD_TRAFFIC_TIME>",
        "   </AVG_ROAD_DATA>",
        "   <ROAD_TRAFFIC_STTS>",
        "    <LINK_ID>1000000301</LINK_ID><ROAD_NM>종로</ROAD_NM>",
        "    <START_ND_CD>1000081900</START_ND_CD><START_ND_NM>종로1가 82-2</START_ND_NM>",
        "    <START_ND_XY>126.9798999832241719_37.5701535606807582</START_ND_XY>",
        "    <END_ND_CD>1000008607</END_ND_CD><END_ND_NM>종로구청입구교차로</END_ND_NM>",
        "    <END_ND_XY>126.9793805233784241_37.5701494116837509</END_ND_XY>",
        "    <DIST>46.0</DIST><SPD>15.0</SPD><IDX>서행</IDX>",
        "    <XYLIST>126.9793805233784241_37.5701494116837509|126.9798999832241719_37"
        ".5701535606807582</XYLIST>",
        "   </ROAD_TRAFFIC_STTS>",
        "   <ROAD_TRAFFIC_STTS>",
        "    <LINK_ID>1000000401</LINK_ID><ROAD_NM>종로</ROAD_NM>",
        "    <START_ND_CD>1000008606</START_ND_CD><START_ND_NM>종로구청입구교차로</START_ND_NM>",
        "    <START_ND_XY>126.9793844377634713_37.5702575676490582</START_ND_XY>",
        "    <END_ND_CD>1000008905</END_ND_CD><END_ND_NM>SK빌딩</END_ND_NM>",
        "    <END_ND_XY>126.9809530025248421_37.5702700889503021</END_ND_XY>",
        "    <DIST>139.0</DIST><SPD>3.0</SPD><IDX>정체</IDX>",
        "    <XYLIST>126.9809530025248421_37.5702700889503021|126.9798986206276368_37"
        ".5702616744867512|126.9793844377634713_37.5702575676490582</XYLIST>",
        "   </ROAD_TRAFFIC_STTS>",
        "  </ROAD_TRAFFIC_STTS>",
        "  <PRK_STTS>",
        "   <PRK_STTS>",
        "    <PRK_NM>세종대로3 관광버스 승하차 허용 구간(시)</PRK_NM><PRK_CD>1582645</PRK_CD>",
        "    <PRK_TYPE>NS</PRK_TYPE><CPCTY>2</CPCTY><CUR_PRK_CNT></CUR_PRK_CNT>",
        "    <CUR_PRK_TIME></CUR_PRK_TIME><CUR_PRK_YN>N</CUR_PRK_YN><PAY_YN>N</PAY_YN>",
        "    <RATES>0</RATES><TIME_RATES>0</TIME_RATES><ADD_RATES>0</ADD_RATES>",
        "    <ADD_TIME_RATES>0</ADD_TIME_RATES>",
        "    <ADDRESS>중구 태평로2가 113-1 (신협 ~ 세븐일레븐)</ADDRESS><ROAD_ADDR></ROAD_ADDR>",
        "    <LNG>126.976973025</LNG><LAT>37.563362585</LAT>",
        "   </PRK_STTS>",
        "   <PRK_STTS>",
        "    <PRK_NM>뉴국제호텔 앞(구)</PRK_NM><PRK_CD>1512147</PRK_CD><PRK_TYPE>NS</PRK_TYPE>",
        "    <CPCTY>16</CPCTY><CUR_PRK_CNT></CUR_PRK_CNT><CUR_PRK_TIME></CUR_PRK_TIME>",
        "    <CUR_PRK_YN>N</CUR_PRK_YN><PAY_YN>Y</PAY_YN><RATES>600</RATES>",
        "    <TIME_RATES>5</TIME_RATES><ADD_RATES>600</ADD_RATES>",
        "    <ADD_TIME_RATES>5</ADD_TIME_RATES><ADDRESS>중구 무교동 18-0</ADDRESS>",
        "    <ROAD_ADDR></ROAD_ADDR><LNG>126.97839675</LNG><LAT>37.56818025</LAT>",
        "   </PRK_STTS>",
        "   <PRK_STTS>",
        "    <PRK_NM>뉴국제호텔 앞(구)</PRK_NM><PRK_CD>1512147</PRK_CD><PRK_TYPE>NS</PRK_TYPE>",
        "    <CPCTY>2</CPCTY><CUR_PRK_CNT></CUR_PRK_CNT><CUR_PRK_TIME></CUR_PRK_TIME>",
        "    <CUR_PRK_YN>N</CUR_PRK_YN><PAY_YN>Y</PAY_YN><RATES>600</RATES>",
        "    <TIME_RATES>5</TIME_RATES><ADD_RATES>600</ADD_RATES>",
        "    <ADD_TIME_RATES>5</ADD_TIME_RATES><ADDRESS>중구 무교동 45-0</ADDRESS>",
        "    <ROAD_ADDR></ROAD_ADDR><LNG>126.97852950000001</LNG>",
        "    <LAT>37.568073999999996</LAT>",
        "   </PRK_STTS>",
        "  </PRK_STTS>",
        "  <ACDNT_CNTRL_STTS>",
        "   <ACDNT_CNTRL_STTS>",
        "    <ACDNT_OCCR_DT>2026-06-03 21:00</ACDNT_OCCR_DT>",
        "    <EXP_CLR_DT>2026-11-02 07:00</EXP_CLR_DT><ACDNT_TYPE>공사</ACDNT_TYPE>",
        "    <ACDNT_ENG_TYPE>Construction</ACDNT_ENG_TYPE><ACDNT_DTYPE>도로보수</ACDNT_DTYPE>",
        "    <ACDNT_ENG_DTYPE>Road Repair</ACDNT_ENG_DTYPE>",
        "    <ACDNT_INFO>소공로 보행환경 개선공사(차로축소| 보도확장) 소공로 서울광장"
        "~한국은행앞/양방향 하위1개차로 통제</ACDNT_INFO>",
        "    <ACDNT_ENG_INFO>Sogong-ro Pedestrian Environment Improvement Project (La"
        "ne Reduction | Sidewalk Expansion) Sogong-ro: Seoul Plaza to in front of the"
        " Bank of Korea / One lower lane closed in both directions</ACDNT_ENG_INFO>",
        "    <ACDNT_X>126.97864791274915</ACDNT_X><ACDNT_Y>37.56470083559572</ACDNT_Y>",
        "    <ACDNT_TIME>2026-08-11 18:01</ACDNT_TIME>",
        "   </ACDNT_CNTRL_STTS>",
        "  </ACDNT_CNTRL_STTS>",
        "  <SBIKE_STTS>",
        "   <SBIKE_STTS>",
        "    <SBIKE_SPOT_NM>310. 청계광장 옆</SBIKE_SPOT_NM>",
        "    <SBIKE_SPOT_ID>ST-126</SBIKE_SPOT_ID><SBIKE_SHARED>25</SBIKE_SHARED>",
        "    <SBIKE_PARKING_CNT>2</SBIKE_PARKING_CNT><SBIKE_RACK_CNT>8</SBIKE_RACK_CNT>",
        "    <SBIKE_X>126.9774704</SBIKE_X><SBIKE_Y>37.56887817</SBIKE_Y>",
        "   </SBIKE_STTS>",
        "  </SBIKE_STTS>",
        "  <WEATHER_STTS>",
        "   <WEATHER_STTS>",
        "    <WEATHER_TIME>2026-08-11 18:00</WEATHER_TIME><TEMP>32.3</TEMP>",
        "    <MAX_TEMP>32.0</MAX_TEMP><MIN_TEMP>22.0</MIN_TEMP><HUMIDITY>45</HUMIDITY>",
        "    <WIND_DIRCT>NNE</WIND_DIRCT><WIND_SPD>3.6</WIND_SPD>",
        "    <PRECIPITATION>-</PRECIPITATION><PRECPT_TYPE>없음</PRECPT_TYPE>",
        "    <PCP_MSG>비 또는 눈 소식이 없어요.</PCP_MSG><SUNRISE>05:43</SUNRISE>",
        "    <SUNSET>19:31</SUNSET><UV_INDEX_LVL>낮음</UV_INDEX_LVL><UV_INDEX>1</UV_INDEX>",
        "    <UV_MSG>햇볕에 민감한 분들은 자외선 차단제를 발라주세요.</UV_MSG><PM25_I"
        "NDEX>좋음</PM25_INDEX>",
        "    <PM25>7</PM25><PM10_INDEX>좋음</PM10_INDEX><PM10>12</PM10>",
        "    <AIR_IDX>보통</AIR_IDX><AIR_IDX_MVL>56.0</AIR_IDX_MVL>",
        "    <AIR_IDX_MAIN></AIR_IDX_MAIN>",
        "    <AIR_MSG>호흡기가 예민하신 분들은 몸상태 유의하며 활동해주세요.</AIR_MSG>",
        "    <FCST24HOURS>",
        "     <FCST24HOURS>",
        "      <FCST_DT>202608111900</FCST_DT><TEMP>29</TEMP>",
        "      <PRECIPITATION>-</PRECIPITATION><PRECPT_TYPE>없음</PRECPT_TYPE>",
        "      <RAIN_CHANCE>0</RAIN_CHANCE><SKY_STTS>맑음</SKY_STTS>",
        "     </FCST24HOURS>",
        "    </FCST24HOURS>",
        "    <NEWS_LIST/>",
        "   </WEATHER_STTS>",
        "  </WEATHER_STTS>",
        "  <CHARGER_STTS>",
        "   <CHARGER_STTS>",
        "    <STAT_NM>NIA빌딩</STAT_NM><STAT_ID>HM110247</STAT_ID>",
        "    <STAT_ADDR>서울특별시 중구 청계천로 14</STAT_ADDR><STAT_X>126.9788175</STAT_X>",
        "    <STAT_Y>37.5687892</STAT_Y><STAT_USETIME>24시간 이용가능</STAT_USETIME>",
        "    <STAT_PARKPAY>Y</STAT_PARKPAY><STAT_LIMITYN>N</STAT_LIMITYN>",
        "    <STAT_LIMITDETAIL></STAT_LIMITDETAIL><STAT_KINDDETAIL>기타</STAT_KINDDETAIL>",
        "    <CHARGER_DETAILS>",
        "     <CHARGER_DETAILS>",
        "      <CHARGER_ID>02</CHARGER_ID><CHARGER_TYPE>AC완속</CHARGER_TYPE>",
        "      <CHARGER_STAT>충전중</CHARGER_STAT><STATUPDDT>2026-08-11 08:52</STATUPDDT>",
        "      <LASTTSDT>2026-08-10 08:42</LASTTSDT><LASTTEDT>2026-08-10 10:30</LASTTEDT>",
        "      <NOWTSDT>2026-08-11 08:51</NOWTSDT><OUTPUT>7</OUTPUT><METHOD>단독</METHOD>",
        "     </CHARGER_DETAILS>",
        "    </CHARGER_DETAILS>",
        "   </CHARGER_STTS>",
        "   <CHARGER_STTS>",
        "    <STAT_NM>NIA빌딩</STAT_NM><STAT_ID>HM110247</STAT_ID>",
        "    <STAT_ADDR>서울특별시 중구 청계천로 14</STAT_ADDR><STAT_X>126.9788175</STAT_X>",
        "    <STAT_Y>37.5687892</STAT_Y><STAT_USETIME>24시간 이용가능</STAT_USETIME>",
        "    <STAT_PARKPAY>Y</STAT_PARKPAY><STAT_LIMITYN>N</STAT_LIMITYN>",
        "    <STAT_LIMITDETAIL> </STAT_LIMITDETAIL><STAT_KINDDETAIL>기타</STAT_KINDDETAIL>",
        "    <CHARGER_DETAILS>",
        "     <CHARGER_DETAILS>",
        "      <CHARGER_ID>01</CHARGER_ID><CHARGER_TYPE>AC완속</CHARGER_TYPE>",
        "      <CHARGER_STAT>사용가능</CHARGER_STAT><STATUPDDT>2026-08-10 14:54</STATUPDDT>",
        "      <LASTTSDT>2026-08-10 08:04</LASTTSDT><LASTTEDT>2026-08-10 13:22</LASTTEDT>",
        "      <NOWTSDT></NOWTSDT><OUTPUT>7</OUTPUT><METHOD>단독</METHOD>",
        "     </CHARGER_DETAILS>",
        "    </CHARGER_DETAILS>",
        "   </CHARGER_STTS>",
        "  </CHARGER_STTS>",
        "  <LIVE_DST_MESSAGE/>",
        " </CITYDATA>",
        "</SeoulRtd.citydata>",
    ]
)


def json_part() -> bytes:
    """The JSON sample cut to what CITYDATA_XML renders (same records, same values)."""
    document = sample()
    full = document["CITYDATA"]
    people = dict(full["LIVE_PPLTN_STTS"][0])
    people["FCST_PPLTN"] = people["FCST_PPLTN"][:1]
    weather = dict(full["WEATHER_STTS"][0])
    weather["FCST24HOURS"] = weather["FCST24HOURS"][:1]
    document["CITYDATA"] = {
        "AREA_NM": full["AREA_NM"],
        "AREA_CD": full["AREA_CD"],
        "LIVE_PPLTN_STTS": [people],
        "ROAD_TRAFFIC_STTS": full["ROAD_TRAFFIC_STTS"],
        "PRK_STTS": [full["PRK_STTS"][i] for i in (2, 8, 9)],
        "ACDNT_CNTRL_STTS": full["ACDNT_CNTRL_STTS"],
        "SBIKE_STTS": full["SBIKE_STTS"][:1],
        "WEATHER_STTS": [weather],
        "CHARGER_STTS": full["CHARGER_STTS"],
        "LIVE_DST_MESSAGE": [],
    }
    return orjson.dumps(document)


def test_sample_maps_every_block_without_rejections() -> None:
    items = parse(SAMPLE.read_bytes())
    assert rejected(items) == []
    assert Counter(item["type"] for item in items if isinstance(item, dict)) == {
        "CrowdFlowObserved": 1,
        "TrafficFlowObserved": 3,  # the area's average and 2 links
        "RoadSegment": 2,
        "OffStreetParking": 8,
        "OnStreetParking": 4,  # PRK_TYPE NS
        "WeatherObserved": 1,
        "AirQualityObserved": 1,
        "WeatherForecast": 8,
        "Alert": 1,
        "EVChargingStation": 1,  # 2 rows, one station
        "BikeHireDockingStation": 2,
    }
    assert len(by_id(items)) == 32  # every id distinct


def test_sample_road_link_and_its_segment() -> None:
    entities = by_id(parse(SAMPLE.read_bytes()))
    geometry = {
        "type": "GeoProperty",
        "value": {
            "type": "LineString",
            "coordinates": [
                [126.9809530025248421, 37.5702700889503021],
                [126.9798986206276368, 37.5702616744867512],
                [126.9793844377634713, 37.5702575676490582],
            ],
        },
    }
    assert entities["urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1000000401"] == {
        "id": "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1000000401",
        "type": "TrafficFlowObserved",
        "name": ko("종로"),
        "location": geometry,
        "dateObserved": dt(T1800),
        "averageVehicleSpeed": measured(3.0, "KMH"),
        "congested": measured(True),
        "congestionLevel": measured(3),
        "congestionLevelName": ko("정체"),
        "refRoadSegment": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:RoadSegment:KR-Seoul:1000000401",
        },
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": TRANSPORTATION,
    }
    assert entities["urn:ngsi-ld:RoadSegment:KR-Seoul:1000000401"] == {
        "id": "urn:ngsi-ld:RoadSegment:KR-Seoul:1000000401",
        "type": "RoadSegment",
        "name": ko("종로"),
        "location": geometry,
        "startPoint": point(126.9793844377634713, 37.5702575676490582),
        "endPoint": point(126.9809530025248421, 37.5702700889503021),
        "length": value(139.0, "MTR"),
        "startNodeName": ko("종로구청입구교차로"),
        "endNodeName": ko("SK빌딩"),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": TRANSPORTATION,
    }
    slow = entities["urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:1000000301"]
    assert slow["congested"] == measured(False)  # 서행 (slow) is not congested
    assert slow["congestionLevel"] == measured(2)


def test_sample_area_average_road_traffic() -> None:
    entities = by_id(parse(SAMPLE.read_bytes()))
    assert entities["urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:POI009"] == {
        "id": "urn:ngsi-ld:TrafficFlowObserved:KR-Seoul:POI009",
        "type": "TrafficFlowObserved",
        "name": ko("광화문·덕수궁"),
        "description": ko("해당 장소로 이동·진입시 시간이 오래 걸릴 수 있어요."),
        "location": point(*ROAD_CENTRE),
        "dateObserved": dt(T1800),
        "averageVehicleSpeed": measured(13.0, "KMH"),
        "congested": measured(True),
        "congestionLevel": measured(3),
        "congestionLevelName": ko("정체"),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": TRANSPORTATION,
    }


def test_sample_crowd_flow() -> None:
    crowd = by_id(parse(SAMPLE.read_bytes()))["urn:ngsi-ld:CrowdFlowObserved:KR-Seoul:POI009"]
    assert crowd["name"] == ko("광화문·덕수궁")
    assert crowd["location"] == point(*AREA_CENTRE)
    assert crowd["dateObserved"] == dt(T1730)
    assert crowd["peopleCount"] == measured(39000, at=T1730)  # middle of 38000–40000
    assert crowd["peopleCountMin"] == measured(38000, at=T1730)
    assert crowd["peopleCountMax"] == measured(40000, at=T1730)
    assert crowd["congested"] == measured(False, at=T1730)  # 보통
    assert crowd["congestionLevel"] == measured(2, at=T1730)
    assert crowd["congestionLevelName"] == ko("보통")
    assert crowd["maleRate"] == measured(50.5, "P1", at=T1730)
    assert crowd["ageGroupRate"] == measured(
        {
            "0": 0.5,
            "10": 2.7,
            "20": 17.5,
            "30": 23.9,
            "40": 26.4,
            "50": 19.4,
            "60": 6.6,
            "70": 2.9,
        },
        "P1",
        at=T1730,
    )
    forecast = crowd["populationForecast"]["value"]
    assert len(forecast) == 8
    assert forecast[0] == {
        "time": "2026-08-11T19:00:00+09:00",
        "congestionLevel": 2,
        "congestionLevelName": "보통",
        "peopleCountMin": 32000,
        "peopleCountMax": 34000,
    }
    assert forecast[-1]["time"] == "2026-08-12T02:00:00+09:00"
    assert crowd["subwayRidership"] == value(
        {
            "stationCount": 4,
            "date": "2026-08-11",
            "today": {
                "boardingMin": 56600,
                "boardingMax": 56700,
                "alightingMin": 119900,
                "alightingMax": 120000,
            },
            "last30Minutes": {
                "boardingMin": 9800,
                "boardingMax": 9900,
                "alightingMin": 2500,
                "alightingMax": 2600,
            },
            "last10Minutes": {
                "boardingMin": 3000,
                "boardingMax": 3100,
                "alightingMin": 800,
                "alightingMax": 850,
            },
            "last5Minutes": {
                "boardingMin": 2800,
                "boardingMax": 2900,
                "alightingMin": 750,
                "alightingMax": 800,
            },
        }
    )
    assert crowd["busRidership"]["value"]["stationCount"] == 41
    assert (crowd["dataProvider"], crowd["source"], crowd["@context"]) == (
        PROVIDER,
        SOURCE,
        TRANSPORTATION,
    )


def test_area_centre_is_the_mean_of_the_facility_points() -> None:
    citydata = sample()["CITYDATA"]
    points = [
        tuple(float(n) for n in pair.split("_"))
        for link in citydata["ROAD_TRAFFIC_STTS"]["ROAD_TRAFFIC_STTS"]
        for pair in link["XYLIST"].split("|")
    ]
    for block, x, y in (
        ("PRK_STTS", "LNG", "LAT"),
        ("SUB_STTS", "SUB_STN_X", "SUB_STN_Y"),
        ("BUS_STN_STTS", "BUS_STN_X", "BUS_STN_Y"),
        ("SBIKE_STTS", "SBIKE_X", "SBIKE_Y"),
        ("CHARGER_STTS", "STAT_X", "STAT_Y"),
    ):
        points += [(float(row[x]), float(row[y])) for row in citydata[block]]
    distinct = set(points)
    assert len(distinct) == 25
    mean = [sum(p[i] for p in distinct) / len(distinct) for i in (0, 1)]
    assert mean == pytest.approx(AREA_CENTRE, abs=1e-6)


def test_sample_weather_air_and_forecast() -> None:
    entities = by_id(parse(SAMPLE.read_bytes()))
    assert entities["urn:ngsi-ld:WeatherObserved:KR-Seoul:POI009"] == {
        "id": "urn:ngsi-ld:WeatherObserved:KR-Seoul:POI009",
        "type": "WeatherObserved",
        "name": ko("광화문·덕수궁"),
        "location": point(*AREA_CENTRE),
        "dateObserved": dt(T1800),
        "temperature": measured(32.3, "CEL"),
        "relativeHumidity": measured(0.45),  # HUMIDITY 45 %
        "windSpeed": measured(3.6, "MTS"),
        "windDirection": measured(22.5, "DD"),  # NNE
        "precipitation": measured(0.0, "MMT"),  # "-": none
        "precipitationType": ko("없음"),
        "uVIndexMax": measured(1.0),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": WEATHER,
    }
    assert entities["urn:ngsi-ld:AirQualityObserved:KR-Seoul:POI009"] == {
        "id": "urn:ngsi-ld:AirQualityObserved:KR-Seoul:POI009",
        "type": "AirQualityObserved",
        "name": ko("광화문·덕수궁"),
        "location": point(*AREA_CENTRE),
        "dateObserved": dt(T1800),
        "typeofLocation": value("outdoor"),
        "pm25": measured(7.0, "GQ"),
        "pm10": measured(12.0, "GQ"),
        "airQualityIndex": measured(56),
        "airQualityLevel": measured("moderate"),  # 보통
        "airQualityLevelName": ko("보통"),
        "description": ko("호흡기가 예민하신 분들은 몸상태 유의하며 활동해주세요."),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": ENVIRONMENT,
    }
    assert entities["urn:ngsi-ld:WeatherForecast:KR-Seoul:POI009:202608112000"] == {
        "id": "urn:ngsi-ld:WeatherForecast:KR-Seoul:POI009:202608112000",
        "type": "WeatherForecast",
        "name": ko("광화문·덕수궁"),
        "location": point(*AREA_CENTRE),
        "dateIssued": dt(T1800),
        "validFrom": dt("2026-08-11T20:00:00+09:00"),
        "validTo": dt("2026-08-11T21:00:00+09:00"),
        "temperature": value(28.0, "CEL"),
        "precipitation": value(0.0, "MMT"),
        "precipitationProbability": value(0.0),
        "precipitationType": ko("없음"),
        "skyCondition": ko("구름많음"),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": WEATHER,
    }
    midnight = entities["urn:ngsi-ld:WeatherForecast:KR-Seoul:POI009:202608120000"]
    assert midnight["validFrom"] == dt("2026-08-12T00:00:00+09:00")


def test_sample_car_parks() -> None:
    entities = by_id(parse(SAMPLE.read_bytes()))
    assert entities["urn:ngsi-ld:OffStreetParking:KR-Seoul:3202173"] == {
        "id": "urn:ngsi-ld:OffStreetParking:KR-Seoul:3202173",
        "type": "OffStreetParking",
        "name": ko("백영북창빌딩"),
        "address": value({"streetAddress": "중구 북창동 18-9", "addressCountry": "KR"}),
        "location": point(126.977556, 37.562981),
        "totalSpotNumber": value(24),
        # no live count: CUR_PRK_YN is N, so no occupied/available/observationDateTime
        "category": value(["feeCharged"]),
        "priceRatePerMinute": value(66.67),  # 2000 KRW per 30 minutes
        "priceCurrency": value("KRW"),
        "feeSchedule": value(
            {
                "basicFee": 2000.0,
                "basicMinutes": 30.0,
                "additionalFee": 1000.0,
                "additionalMinutes": 10.0,
                "currency": "KRW",
            }
        ),
        "parkingCode": value("3202173"),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": PARKING,
    }
    bus_bay = entities["urn:ngsi-ld:OnStreetParking:KR-Seoul:1582645"]
    assert bus_bay["category"] == value(["free"])
    assert "priceRatePerMinute" not in bus_bay
    assert "feeSchedule" not in bus_bay  # a free bay lists zeros only


def test_repeated_parking_code_gets_stable_distinct_ids() -> None:
    items = parse(SAMPLE.read_bytes())
    twins = {
        id_: entity
        for id_, entity in by_id(items).items()
        if id_.startswith("urn:ngsi-ld:OnStreetParking:KR-Seoul:1512147")
    }
    assert len(twins) == 2
    assert all(id_.startswith("urn:ngsi-ld:OnStreetParking:KR-Seoul:1512147-") for id_ in twins)
    by_capacity = {entity["totalSpotNumber"]["value"]: entity for entity in twins.values()}
    assert by_capacity[16]["location"] == point(126.97839675, 37.56818025)
    assert by_capacity[2]["location"] == point(126.97852950000001, 37.568073999999996)
    assert all(entity["parkingCode"] == value("1512147") for entity in twins.values())
    # The same sections keep their ids when the response lists the lots in another order.
    document = sample()
    document["CITYDATA"]["PRK_STTS"].reverse()
    reordered = by_id(parse(orjson.dumps(document)))
    for id_, entity in twins.items():
        assert reordered[id_] == entity


def test_sample_incident_alert() -> None:
    alerts = [i for i in parse(SAMPLE.read_bytes()) if isinstance(i, dict) and i["type"] == "Alert"]
    assert len(alerts) == 1
    alert = dict(alerts[0])
    assert alert.pop("id").startswith("urn:ngsi-ld:Alert:KR-Seoul:ACDNT-")
    assert alert == {
        "type": "Alert",
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"ko": "도로보수", "en": "Road Repair"},
        },
        "category": value("traffic"),
        "subCategory": value("roadWorks"),  # 공사
        "severity": value("low"),
        "description": {
            "type": "LanguageProperty",
            "languageMap": {
                "ko": "소공로 보행환경 개선공사(차로축소| 보도확장) 소공로 서울광장~한국은행앞"
                "/양방향 하위1개차로 통제",
                "en": "Sogong-ro Pedestrian Environment Improvement Project (Lane Reduction |"
                " Sidewalk Expansion) Sogong-ro: Seoul Plaza to in front of the Bank of Korea"
                " / One lower lane closed in both directions",
            },
        },
        "dateIssued": dt("2026-08-11T18:01:00+09:00"),
        "validFrom": dt("2026-06-03T21:00:00+09:00"),
        "validTo": dt("2026-11-02T07:00:00+09:00"),
        "location": point(126.97864791274915, 37.56470083559572),
        "alertSource": value("https://data.seoul.go.kr"),
        "data": value(
            {
                "incidentType": "공사",
                "incidentTypeEn": "Construction",
                "incidentDetail": "도로보수",
                "incidentDetailEn": "Road Repair",
            }
        ),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": ALERT,
    }


def test_incident_keeps_its_id_when_only_the_update_time_changes() -> None:
    document = sample()
    first = [
        i for i in parse(orjson.dumps(document)) if isinstance(i, dict) and i["type"] == "Alert"
    ]
    document["CITYDATA"]["ACDNT_CNTRL_STTS"][0]["ACDNT_TIME"] = "2026-08-11 18:06"
    later = [
        i for i in parse(orjson.dumps(document)) if isinstance(i, dict) and i["type"] == "Alert"
    ]
    assert later[0]["id"] == first[0]["id"]
    assert later[0]["dateIssued"] == dt("2026-08-11T18:06:00+09:00")


def test_sample_charging_station_and_bikes() -> None:
    entities = by_id(parse(SAMPLE.read_bytes()))
    assert entities["urn:ngsi-ld:EVChargingStation:KR:HM110247"] == {
        "id": "urn:ngsi-ld:EVChargingStation:KR:HM110247",
        "type": "EVChargingStation",
        "name": ko("NIA빌딩"),
        "address": value({"streetAddress": "서울특별시 중구 청계천로 14", "addressCountry": "KR"}),
        "location": point(126.9788175, 37.5687892),
        "capacity": value(2),
        "availableCapacity": measured(1, at="2026-08-11T08:52:00+09:00"),  # 01 사용가능
        "socketType": value(["J-1772"]),  # AC완속
        "allowedVehicleType": value(["car"]),
        "openingHours": value("24시간 이용가능"),
        "observationDateTime": dt("2026-08-11T08:52:00+09:00"),
        "chargers": value(
            [
                {
                    "id": "01",
                    "type": "AC완속",
                    "socketType": ["J-1772"],
                    "status": "사용가능",
                    "outputKW": 7.0,
                    "statusChangedAt": "2026-08-10T14:54:00+09:00",
                },
                {
                    "id": "02",
                    "type": "AC완속",
                    "socketType": ["J-1772"],
                    "status": "충전중",
                    "outputKW": 7.0,
                    "statusChangedAt": "2026-08-11T08:52:00+09:00",
                },
            ]
        ),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": TRANSPORTATION,
    }
    assert entities["urn:ngsi-ld:BikeHireDockingStation:KR-Seoul:ST-977"] == {
        "id": "urn:ngsi-ld:BikeHireDockingStation:KR-Seoul:ST-977",
        "type": "BikeHireDockingStation",
        "name": ko("391. 시립미술관"),
        "location": point(126.97340393, 37.56505203),
        "availableBikeNumber": value(3),
        "totalSlotNumber": value(8),
        "occupancyRate": value(38.0, "P1"),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": TRANSPORTATION,
    }


def test_population_sibling_payload() -> None:
    items = parse(PPLTN_SAMPLE.read_bytes())
    at = "2026-08-13T09:05:00+09:00"
    assert items == [
        {
            "id": "urn:ngsi-ld:CrowdFlowObserved:KR-Seoul:POI009",
            "type": "CrowdFlowObserved",
            "name": ko("광화문·덕수궁"),
            # no coordinates at all in this payload: no location
            "dateObserved": dt(at),
            "peopleCount": measured(33000, at=at),
            "peopleCountMin": measured(32000, at=at),
            "peopleCountMax": measured(34000, at=at),
            "congested": measured(True, at=at),  # 약간 붐빔
            "congestionLevel": measured(3, at=at),
            "congestionLevelName": ko("약간 붐빔"),
            "congestionMessage": ko("사람들이 몰려있을 가능성이 크고 붐빈다고 느낄 수 있어요."),
            "maleRate": measured(53.2, "P1", at=at),
            "femaleRate": measured(46.8, "P1", at=at),
            "residentRate": measured(48.3, "P1", at=at),
            "nonResidentRate": measured(51.7, "P1", at=at),
            "dataProvider": PROVIDER,
            "source": SOURCE,
            "@context": TRANSPORTATION,
        }
    ]


def test_xml_form_maps_to_the_same_entities_as_json() -> None:
    from_xml = parse(CITYDATA_XML.encode())
    from_json = parse(json_part())
    assert rejected(from_xml) == []
    assert len(from_xml) == 15
    assert from_xml == from_json


def test_xml_road_links_wrapped_twice_are_read_too() -> None:
    wrapped = CITYDATA_XML.replace(
        "   </AVG_ROAD_DATA>", "   </AVG_ROAD_DATA><ROAD_TRAFFIC_STTS>"
    ).replace("\n  </ROAD_TRAFFIC_STTS>", "</ROAD_TRAFFIC_STTS>\n  </ROAD_TRAFFIC_STTS>")
    assert wrapped.count("<ROAD_TRAFFIC_STTS>") == CITYDATA_XML.count("<ROAD_TRAFFIC_STTS>") + 1
    assert parse(wrapped.encode()) == parse(CITYDATA_XML.encode())


def test_xml_rejection_keeps_the_record_as_xml() -> None:
    broken = CITYDATA_XML.replace("<CPCTY>16</CPCTY>", "<CPCTY>sixteen</CPCTY>")
    [problem] = rejected(parse(broken.encode()))
    assert problem.where == "PRK_STTS[1]"
    assert "CPCTY" in problem.reason
    assert problem.raw.startswith("<PRK_STTS>") and "<CPCTY>sixteen</CPCTY>" in problem.raw


def test_live_disaster_message_becomes_an_alert() -> None:
    document = sample()
    document["CITYDATA"]["LIVE_DST_MESSAGE"] = [
        {
            "DST_SE_NM": "호우",
            "EMRG_STEP_NM": "긴급재난",
            "MSG_CN": "[서울시] 오늘 18시 호우경보 발령. 하천변 산책로 이용을 자제하세요.",
            "CRT_DT": "2026-08-11 17:52:31",
        }
    ]
    items = parse(orjson.dumps(document))
    assert rejected(items) == []
    [alert] = [
        i for i in items if isinstance(i, dict) and i["id"].startswith("urn:ngsi-ld:Alert:KR-MOIS:")
    ]
    alert = dict(alert)
    # No SN inside citydata: named by the creation time and a digest of the text.
    assert alert.pop("id").startswith("urn:ngsi-ld:Alert:KR-MOIS:20260811175231-")
    assert alert == {
        "type": "Alert",
        "name": ko("호우"),
        "category": value("weather"),
        "subCategory": value("rainfall"),
        "severity": value("high"),  # 긴급재난
        "description": ko("[서울시] 오늘 18시 호우경보 발령. 하천변 산책로 이용을 자제하세요."),
        "dateIssued": dt("2026-08-11T17:52:31+09:00"),
        "validFrom": dt("2026-08-11T17:52:31+09:00"),
        "alertSource": value("https://www.safetydata.go.kr"),
        "data": value({"disasterType": "호우", "emergencyStep": "긴급재난"}),
        "dataProvider": PROVIDER,
        "source": SOURCE,
        "@context": ALERT,
    }


def test_bad_records_are_rejected_and_the_rest_mapped() -> None:
    document = sample()
    citydata = document["CITYDATA"]
    citydata["PRK_STTS"][0]["CPCTY"] = "many"  # a string where a number belongs
    citydata["PRK_STTS"][1]["LAT"] = "137.56351645"  # latitude out of range
    del citydata["PRK_STTS"][3]["PRK_CD"]  # no id
    citydata["ROAD_TRAFFIC_STTS"]["ROAD_TRAFFIC_STTS"][0]["SPD"] = "fast"
    citydata["SBIKE_STTS"][0]["SBIKE_X"] = "east"
    citydata["WEATHER_STTS"][0]["WIND_DIRCT"] = "sideways"
    citydata["CHARGER_STTS"][0]["STAT_Y"] = "91"  # spoils the station both rows make
    items = parse(orjson.dumps(document))
    reasons = {problem.where: problem.reason for problem in rejected(items)}
    assert reasons == {
        "PRK_STTS[0]": "CPCTY: 'many' is not a number",
        "PRK_STTS[1]": "LNG/LAT: latitude 137.56351645 is out of range",
        "PRK_STTS[3]": "PRK_CD is missing",
        "ROAD_TRAFFIC_STTS[0]": "SPD: 'fast' is not a number",
        "SBIKE_STTS[0]": "SBIKE_X/SBIKE_Y longitude: 'east' is not a number",
        "WEATHER_STTS[0]": "WIND_DIRCT: 'sideways' is not a compass direction",
        "CHARGER_STTS[STAT_ID=HM110247]": "STAT_X/STAT_Y: latitude 91.0 is out of range",
    }
    first = next(p for p in rejected(items) if p.where == "PRK_STTS[0]")
    assert orjson.loads(first.raw)["PRK_NM"] == "백영북창빌딩"
    assert Counter(item["type"] for item in items if isinstance(item, dict)) == {
        "CrowdFlowObserved": 1,
        "TrafficFlowObserved": 2,
        "RoadSegment": 1,
        "OffStreetParking": 5,  # 3 of the 8 spoiled
        "OnStreetParking": 4,
        "AirQualityObserved": 1,  # the same block's air fields are fine
        "WeatherForecast": 8,
        "Alert": 1,
        "BikeHireDockingStation": 1,
    }


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "The payload is neither JSON nor XML"),
        (b"   ", "The payload is empty"),
        (
            '{"RESULT":{"CODE":"INFO-100","MESSAGE":"인증키가 유효하지 않습니다."}}'.encode(),
            "citydata answered INFO-100: 인증키가 유효하지 않습니다.",
        ),
        (
            '<?xml version="1.0" encoding="UTF-8"?><RESULT><CODE>ERROR-500</CODE>'
            "<MESSAGE>서버 오류입니다.</MESSAGE></RESULT>".encode(),
            "citydata answered ERROR-500: 서버 오류입니다.",
        ),
        (b"<SeoulRtd.citydata><CITYDATA><AREA_CD>POI009", "The payload is not well-formed XML"),
        (b'{"list_total_count": 0}', "The payload is not a citydata response"),
        (b"[1, 2]", "The payload is not a JSON object"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [problem] = parse(payload)
    assert isinstance(problem, Rejected)
    assert problem.where == "payload"
    assert problem.reason.startswith(reason)
    assert problem.raw == payload.decode()


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in children:
        found += _paths(child, (*path, key))
    return found


SAMPLE_PATHS = _paths(sample())
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["-", "", "24:00", "1_2", "200_95", "1|2", "2026-08-11 25:00"]),
    st.lists(st.integers(-9, 9), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(-9, 9), max_size=2),
)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_value_anywhere_gives_entities_and_rejections_never_an_exception(
    data: st.DataObject,
) -> None:
    document = sample()
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(SAMPLE_PATHS))
        try:
            target = document
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = data.draw(ANY_VALUE)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced a parent
    items = parse(orjson.dumps(document))
    assert all(isinstance(item, dict | Rejected) for item in items)


def test_parse_is_deterministic() -> None:
    payload = SAMPLE.read_bytes()
    first = parse(payload)
    later = SeoulCityData().parse(payload, fetched_at=datetime(2026, 8, 12, tzinfo=UTC))
    assert first == later
    assert parse(CITYDATA_XML.encode()) == parse(CITYDATA_XML.encode())


async def test_hub_accepts_every_entity() -> None:
    assert await assert_hub_accepts(parse(SAMPLE.read_bytes())) == 32
    assert await assert_hub_accepts(parse(PPLTN_SAMPLE.read_bytes())) == 1
    assert await assert_hub_accepts(parse(CITYDATA_XML.encode())) == 15


def test_registered_under_its_name() -> None:
    assert adapter_class("seoul-citydata") is SeoulCityData
    assert SeoulCityData.key_setting == "seoul_api_key"
    assert SeoulCityData.default_tenant == "seoul"


async def test_collect_fetches_each_area_and_reports_the_one_that_failed() -> None:
    name = "광화문·덕수궁"
    with ContextServer() as server:
        body = SAMPLE.read_bytes()
        server.route(f"/{KEY}/json/citydata/1/5/POI009", body, content_type="application/json")
        server.route(
            f"/{KEY}/json/citydata/1/5/{quote(name)}", body, content_type="application/json"
        )
        adapter = SeoulCityData(
            {"areas": ["POI009", name, "POI999"], "base_url": server.base}, api_key=KEY
        )
        fetcher = Fetcher(retries=0)
        try:
            items = await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
        assert server.hits(f"/{KEY}/json/citydata/1/5/POI009") == 1
        assert server.hits(f"/{KEY}/json/citydata/1/5/{quote(name)}") == 1
        assert server.hits(f"/{KEY}/json/citydata/1/5/POI999") == 1
    [problem] = rejected(items)
    assert problem.where == "area POI999"
    assert "404" in problem.reason and KEY not in problem.reason
    entities = [item for item in items if isinstance(item, dict)]
    assert len(entities) == 64  # both areas answered with the sample
    assert entities[:32] == parse(body)


async def test_collect_xml_format() -> None:
    with ContextServer() as server:
        path = f"/{KEY}/xml/citydata/1/5/POI009"
        server.route(path, CITYDATA_XML.encode(), content_type="application/xml")
        adapter = SeoulCityData({"format": "xml", "base_url": server.base}, api_key=KEY)
        fetcher = Fetcher(retries=0)
        try:
            items = await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
        assert server.hits(path) == 1
    assert items == parse(CITYDATA_XML.encode())


async def test_collect_raises_when_no_area_can_be_fetched() -> None:
    with ContextServer() as server:
        adapter = SeoulCityData({"areas": ["POI999"], "base_url": server.base}, api_key=KEY)
        fetcher = Fetcher(retries=0)
        try:
            with pytest.raises(FetchError) as raised:
                await adapter.collect(fetcher)
        finally:
            await fetcher.aclose()
    assert KEY not in str(raised.value)
