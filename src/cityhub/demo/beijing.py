"""Beijing, simulated on real places (CATALOG §12: no open real-time feed exists for Beijing
traffic, parking or shelters; the air-quality back-ends are unofficial).

The places are real — the city's national air-quality monitoring stations, sections of the
2nd and 3rd Ring Roads and Chang'an Avenue, well-known car parks and crowd spots — with
approximate WGS84 coordinates; every value is invented (deterministic under the seed) and
every entity says so in ``dataProvider`` and ``demoData``. Local time is +08:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from cityhub.demo.vary import stable_unit
from cityhub.ingest.feeds.ngsi import date_time, entity, language, point, prop

CST = timezone(timedelta(hours=8))
PROVIDER = "CityHub demo: simulated values on real Beijing locations (no public real-time feed)"
PREFIX = "CN-Beijing-sim"

# National monitoring stations (name zh, name en, lon, lat).
AIR_STATIONS = [
    ("东四", "Dongsi", 116.417, 39.929),
    ("天坛", "Tiantan", 116.407, 39.886),
    ("官园", "Guanyuan", 116.339, 39.929),
    ("万寿西宫", "Wanshouxigong", 116.352, 39.878),
    ("奥体中心", "Olympic Sports Centre", 116.397, 39.982),
    ("农展馆", "Agricultural Exhibition Hall", 116.461, 39.937),
    ("万柳", "Wanliu", 116.287, 39.987),
    ("北部新区", "Northern New District", 116.174, 40.090),
    ("植物园", "Botanical Garden", 116.207, 40.002),
    ("丰台花园", "Fengtai Garden", 116.279, 39.863),
    ("云岗", "Yungang", 116.146, 39.824),
    ("古城", "Gucheng", 116.184, 39.914),
]

# Road sections: (id, name zh, name en, [(lon, lat), ...], free-flow km/h).
ROADS = [
    (
        "2R-N1",
        "二环路 西直门—德胜门",
        "2nd Ring Rd Xizhimen–Deshengmen",
        [(116.355, 39.940), (116.375, 39.948)],
        60,
    ),
    (
        "2R-N2",
        "二环路 德胜门—安定门",
        "2nd Ring Rd Deshengmen–Andingmen",
        [(116.375, 39.948), (116.408, 39.949)],
        60,
    ),
    (
        "2R-N3",
        "二环路 安定门—东直门",
        "2nd Ring Rd Andingmen–Dongzhimen",
        [(116.408, 39.949), (116.434, 39.941)],
        60,
    ),
    (
        "2R-E1",
        "二环路 东直门—朝阳门",
        "2nd Ring Rd Dongzhimen–Chaoyangmen",
        [(116.434, 39.941), (116.434, 39.924)],
        60,
    ),
    (
        "2R-E2",
        "二环路 朝阳门—建国门",
        "2nd Ring Rd Chaoyangmen–Jianguomen",
        [(116.434, 39.924), (116.435, 39.908)],
        60,
    ),
    (
        "2R-E3",
        "二环路 建国门—东便门",
        "2nd Ring Rd Jianguomen–Dongbianmen",
        [(116.435, 39.908), (116.434, 39.898)],
        60,
    ),
    (
        "2R-S1",
        "二环路 左安门—永定门",
        "2nd Ring Rd Zuo'anmen–Yongdingmen",
        [(116.434, 39.871), (116.402, 39.866)],
        60,
    ),
    (
        "2R-S2",
        "二环路 永定门—菜户营",
        "2nd Ring Rd Yongdingmen–Caihuying",
        [(116.402, 39.866), (116.356, 39.866)],
        60,
    ),
    (
        "2R-W1",
        "二环路 西便门—复兴门",
        "2nd Ring Rd Xibianmen–Fuxingmen",
        [(116.356, 39.897), (116.356, 39.907)],
        60,
    ),
    (
        "2R-W2",
        "二环路 复兴门—阜成门",
        "2nd Ring Rd Fuxingmen–Fuchengmen",
        [(116.356, 39.907), (116.356, 39.924)],
        60,
    ),
    (
        "2R-W3",
        "二环路 阜成门—西直门",
        "2nd Ring Rd Fuchengmen–Xizhimen",
        [(116.356, 39.924), (116.355, 39.940)],
        60,
    ),
    (
        "3R-N1",
        "三环路 北太平庄—马甸",
        "3rd Ring Rd Beitaipingzhuang–Madian",
        [(116.366, 39.967), (116.381, 39.968)],
        70,
    ),
    (
        "3R-N2",
        "三环路 马甸—太阳宫",
        "3rd Ring Rd Madian–Taiyanggong",
        [(116.381, 39.968), (116.446, 39.967)],
        70,
    ),
    (
        "3R-E1",
        "东三环 三元桥—国贸",
        "East 3rd Ring Rd Sanyuanqiao–Guomao",
        [(116.457, 39.961), (116.461, 39.909)],
        70,
    ),
    (
        "3R-E2",
        "东三环 国贸—潘家园",
        "East 3rd Ring Rd Guomao–Panjiayuan",
        [(116.461, 39.909), (116.460, 39.873)],
        70,
    ),
    (
        "3R-S1",
        "南三环 分钟寺—木樨园",
        "South 3rd Ring Rd Fenzhongsi–Muxiyuan",
        [(116.455, 39.855), (116.395, 39.853)],
        70,
    ),
    (
        "3R-W1",
        "西三环 六里桥—公主坟",
        "West 3rd Ring Rd Liuliqiao–Gongzhufen",
        [(116.311, 39.878), (116.310, 39.907)],
        70,
    ),
    (
        "3R-W2",
        "西三环 公主坟—紫竹桥",
        "West 3rd Ring Rd Gongzhufen–Zizhuqiao",
        [(116.310, 39.907), (116.310, 39.944)],
        70,
    ),
    (
        "CA-1",
        "长安街 复兴门—西单",
        "Chang'an Ave Fuxingmen–Xidan",
        [(116.356, 39.907), (116.374, 39.907)],
        50,
    ),
    (
        "CA-2",
        "长安街 西单—天安门",
        "Chang'an Ave Xidan–Tian'anmen",
        [(116.374, 39.907), (116.397, 39.907)],
        50,
    ),
    (
        "CA-3",
        "长安街 天安门—东单",
        "Chang'an Ave Tian'anmen–Dongdan",
        [(116.397, 39.907), (116.418, 39.907)],
        50,
    ),
    (
        "CA-4",
        "长安街 东单—建国门",
        "Chang'an Ave Dongdan–Jianguomen",
        [(116.418, 39.907), (116.435, 39.908)],
        50,
    ),
]

# Car parks: (id, zh, en, lon, lat, total spaces).
PARKING = [
    ("wangfujing", "王府井地下停车场", "Wangfujing underground car park", 116.411, 39.914, 620),
    ("xidan", "西单大悦城停车场", "Xidan Joy City car park", 116.374, 39.911, 800),
    ("guomao", "国贸商城停车场", "China World Mall car park", 116.460, 39.909, 1200),
    ("zhongguancun", "中关村广场停车场", "Zhongguancun Plaza car park", 116.316, 39.984, 900),
    ("sanlitun", "三里屯太古里停车场", "Taikoo Li Sanlitun car park", 116.455, 39.936, 700),
    ("beijingzhan", "北京站停车场", "Beijing Railway Station car park", 116.427, 39.903, 450),
    ("wangjing", "望京SOHO停车场", "Wangjing SOHO car park", 116.481, 40.000, 1100),
    ("jinrongjie", "金融街购物中心停车场", "Financial Street mall car park", 116.358, 39.916, 650),
    ("olympic", "奥林匹克公园停车场", "Olympic Park car park", 116.392, 40.000, 1500),
    ("nanluoguxiang", "南锣鼓巷停车场", "Nanluoguxiang car park", 116.405, 39.934, 180),
]

# Crowd spots: (id, zh, en, lon, lat, typical people).
CROWDS = [
    ("tiananmen", "天安门广场", "Tian'anmen Square", 116.3975, 39.9033, 30000),
    ("gugong", "故宫博物院", "Palace Museum", 116.397, 39.918, 25000),
    ("nanluoguxiang", "南锣鼓巷", "Nanluoguxiang", 116.403, 39.937, 12000),
    ("yiheyuan", "颐和园", "Summer Palace", 116.273, 39.999, 18000),
    ("sanlitun", "三里屯", "Sanlitun", 116.455, 39.936, 15000),
]


def _level(seed: int, *parts: object) -> float:
    return stable_unit(seed, "beijing", *parts)


def beijing_entities(seed: int, now: datetime) -> list[dict[str, Any]]:
    """The simulated city at ``now`` (values before variation)."""
    at = now.astimezone(CST).replace(microsecond=0).isoformat()
    label = {"dataProvider": prop(PROVIDER), "demoData": prop("simulated")}
    out: list[dict[str, Any]] = []
    for zh, en, lon, lat in AIR_STATIONS:
        pm25 = round(20 + 60 * _level(seed, "pm25", en), 1)
        out.append(
            entity(
                f"urn:ngsi-ld:AirQualityObserved:{PREFIX}:{en.replace(' ', '')}",
                "AirQualityObserved",
                name=language({"zh": zh, "en": en}),
                location=point(lon, lat),
                pm25=prop(pm25, unit="GQ", observed_at=at),
                pm10=prop(round(pm25 * 1.6, 1), unit="GQ", observed_at=at),
                no2=prop(round(20 + 30 * _level(seed, "no2", en), 1), unit="GQ", observed_at=at),
                airQualityIndex=prop(round(pm25 * 1.4), observed_at=at),
                dateObserved=date_time(at),
                **label,
            )
        )
    for road_id, zh, en, line, free_flow in ROADS:
        speed = round(free_flow * (0.25 + 0.7 * _level(seed, "speed", road_id)), 1)
        out.append(
            entity(
                f"urn:ngsi-ld:TrafficFlowObserved:{PREFIX}:{road_id}",
                "TrafficFlowObserved",
                name=language({"zh": zh, "en": en}),
                location={
                    "type": "GeoProperty",
                    "value": {"type": "LineString", "coordinates": [list(p) for p in line]},
                },
                averageVehicleSpeed=prop(speed, unit="KMH", observed_at=at),
                congested=prop(speed < 15),
                dateObserved=date_time(at),
                **label,
            )
        )
    for lot_id, zh, en, lon, lat, total in PARKING:
        free = round(total * (0.05 + 0.6 * _level(seed, "parking", lot_id)))
        out.append(
            entity(
                f"urn:ngsi-ld:OffStreetParking:{PREFIX}:{lot_id}",
                "OffStreetParking",
                name=language({"zh": zh, "en": en}),
                location=point(lon, lat),
                totalSpotNumber=prop(total),
                availableSpotNumber=prop(free, observed_at=at),
                occupiedSpotNumber=prop(total - free, observed_at=at),
                category=prop(["feeCharged"]),
                priceCurrency=prop("CNY"),
                observationDateTime=date_time(at),
                **label,
            )
        )
    for spot_id, zh, en, lon, lat, typical in CROWDS:
        people = round(typical * (0.4 + 0.8 * _level(seed, "crowd", spot_id)))
        out.append(
            entity(
                f"urn:ngsi-ld:CrowdFlowObserved:{PREFIX}:{spot_id}",
                "CrowdFlowObserved",
                name=language({"zh": zh, "en": en}),
                location=point(lon, lat),
                peopleCount=prop(people, observed_at=at),
                congested=prop(people > typical),
                dateObserved=date_time(at),
                **label,
            )
        )
    out.append(
        entity(
            f"urn:ngsi-ld:WeatherObserved:{PREFIX}:54511",
            "WeatherObserved",
            name=language({"zh": "北京南郊观象台", "en": "Beijing Observatory (Nanjiao)"}),
            location=point(116.47, 39.81),
            temperature=prop(round(2 + 12 * _level(seed, "temp"), 1), unit="CEL", observed_at=at),
            relativeHumidity=prop(
                round(0.25 + 0.4 * _level(seed, "rh"), 2), unit="P1", observed_at=at
            ),
            windSpeed=prop(round(1 + 6 * _level(seed, "wind"), 1), unit="MTS", observed_at=at),
            dateObserved=date_time(at),
            **label,
        )
    )
    issued = (now.astimezone(CST) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    out.append(
        entity(
            f"urn:ngsi-ld:Alert:{PREFIX}:wind-blue",
            "Alert",
            name=language({"zh": "大风蓝色预警", "en": "Gale warning (blue)"}),
            description=language(
                {
                    "zh": "模拟：预计今天白天至夜间，本市大部分地区有4级左右偏北风，阵风7级左右。",
                    "en": "Simulated: northerly winds around force 4, gusts around force 7, "
                    "over most of the city from today until tonight.",
                }
            ),
            category=prop("weather"),
            subCategory=prop("wind"),
            severity=prop("medium"),
            dateIssued=date_time(issued.isoformat()),
            validFrom=date_time(issued.isoformat()),
            validTo=date_time((issued + timedelta(hours=18)).isoformat()),
            areaServed=language({"zh": "北京市", "en": "Beijing"}),
            location=point(116.407, 39.904),
            alertSource=prop("CityHub demo (simulated)"),
            **label,
        )
    )
    out.append(
        entity(
            f"urn:ngsi-ld:Alert:{PREFIX}:roadworks-3R-E1",
            "Alert",
            name=language({"zh": "东三环施工", "en": "Road works on the East 3rd Ring Road"}),
            description=language(
                {
                    "zh": "模拟：东三环三元桥至国贸方向夜间施工，占用一条车道。",
                    "en": "Simulated: night road works, Sanyuanqiao towards Guomao, "
                    "one lane closed.",
                }
            ),
            category=prop("traffic"),
            subCategory=prop("roadWorks"),
            severity=prop("low"),
            dateIssued=date_time(issued.isoformat()),
            validFrom=date_time(issued.isoformat()),
            validTo=date_time((issued + timedelta(days=2)).isoformat()),
            location=point(116.459, 39.935),
            alertSource=prop("CityHub demo (simulated)"),
            **label,
        )
    )
    return out
