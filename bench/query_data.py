"""City entities and queries for bench/query.py: deterministic, Smart Data Models shapes.

Entities are normalized NGSI-LD with the core @context only (no Link header), so every
attribute name expands to the default vocabulary, and the queries use the same short names.
Four types, spread over 18 districts of Seoul, Tokyo and Beijing (each entity near one
district centre, Gaussian with σ ≈ 2 km):

* 40 % ``TrafficFlowObserved``: a LineString road segment (3–6 points, 80–250 m steps),
  averageVehicleSpeed (about 9 % congested below 15 km/h), intensity, occupancy, dateObserved
* 25 % ``OffStreetParking``: a Point, availableSpotNumber (with observedAt), totalSpotNumber,
  ``name`` as a LanguageProperty in ko, ja, zh-Hans and en (``"新宿区 駐車場 17"``)
* 20 % ``AirQualityObserved``: a Point, pm10, pm25, no2 (unitCode GQ), dateObserved
* 15 % ``Alert``: a small Polygon (an area of 150–600 m), severity informational … critical,
  category, subCategory, dateIssued

Batch ``k`` (entities ``k*size`` … ) is drawn from ``random.Random(f"{seed}:{k}")``, so any
batch can be rebuilt on its own and a run is the same every time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

# city → (district key, lon, lat, name in en, ko, ja, zh-Hans)
_DISTRICT_ROWS: dict[str, list[tuple[str, float, float, str, str, str, str]]] = {
    "seoul": [
        ("jongno", 126.979, 37.573, "Jongno", "종로구", "鍾路区", "钟路区"),
        ("jung", 126.997, 37.564, "Jung-gu", "중구", "中区", "中区"),
        ("gangnam", 127.047, 37.517, "Gangnam", "강남구", "江南区", "江南区"),
        ("mapo", 126.901, 37.566, "Mapo", "마포구", "麻浦区", "麻浦区"),
        ("yeongdeungpo", 126.896, 37.526, "Yeongdeungpo", "영등포구", "永登浦区", "永登浦区"),
        ("songpa", 127.106, 37.514, "Songpa", "송파구", "松坡区", "松坡区"),
    ],
    "tokyo": [
        ("chiyoda", 139.754, 35.694, "Chiyoda", "지요다구", "千代田区", "千代田区"),
        ("chuo", 139.772, 35.671, "Chuo", "주오구", "中央区", "中央区"),
        ("minato", 139.752, 35.658, "Minato", "미나토구", "港区", "港区"),
        ("shinjuku", 139.704, 35.694, "Shinjuku", "신주쿠구", "新宿区", "新宿区"),
        ("shibuya", 139.702, 35.664, "Shibuya", "시부야구", "渋谷区", "涩谷区"),
        ("taito", 139.780, 35.713, "Taito", "다이토구", "台東区", "台东区"),
    ],
    "beijing": [
        ("dongcheng", 116.416, 39.928, "Dongcheng", "둥청구", "東城区", "东城区"),
        ("xicheng", 116.366, 39.912, "Xicheng", "시청구", "西城区", "西城区"),
        ("chaoyang", 116.443, 39.921, "Chaoyang", "차오양구", "朝陽区", "朝阳区"),
        ("haidian", 116.298, 39.959, "Haidian", "하이뎬구", "海淀区", "海淀区"),
        ("fengtai", 116.287, 39.858, "Fengtai", "펑타이구", "豊台区", "丰台区"),
        ("shijingshan", 116.223, 39.906, "Shijingshan", "스징산구", "石景山区", "石景山区"),
    ],
}
LANGUAGES = ("en", "ko", "ja", "zh-Hans")
# city → [(district key, (lon, lat), {language: name})]
DISTRICTS: dict[str, list[tuple[str, tuple[float, float], dict[str, str]]]] = {
    city: [(row[0], (row[1], row[2]), dict(zip(LANGUAGES, row[3:], strict=True))) for row in rows]
    for city, rows in _DISTRICT_ROWS.items()
}
COUNTRY = {"seoul": "KR", "tokyo": "JP", "beijing": "CN"}
PARKING_WORD = {"en": "Car Park", "ko": "주차장", "ja": "駐車場", "zh-Hans": "停车场"}
KINDS = (
    ("TrafficFlowObserved", 0.40),
    ("OffStreetParking", 0.25),
    ("AirQualityObserved", 0.20),
    ("Alert", 0.15),
)
SEVERITIES = ("informational", "low", "medium", "high", "critical")
SEVERITY_WEIGHTS = (0.15, 0.35, 0.25, 0.17, 0.08)
ALERT_CATEGORIES = {
    "traffic": ("trafficJam", "carAccident", "roadClosed", "roadWorks"),
    "weather": ("heavyRain", "snow", "highTemperature", "strongWind"),
    "environment": ("airPollution", "noisePollution", "flood"),
    "security": ("suspiciousAction", "publicGathering"),
}
SIGMA_DEG = 0.018  # ≈ 2 km
M_PER_DEG_LAT = 111_320.0
DAY = "2026-08-11"


def _round(x: float) -> float:
    return round(x, 6)


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return (
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
        lat + north_m / M_PER_DEG_LAT,
    )


def _place(rng: random.Random) -> tuple[str, str, dict[str, str], float, float]:
    city = rng.choice(("seoul", "tokyo", "beijing"))
    key, (lon, lat), names = rng.choice(DISTRICTS[city])
    return city, key, names, lon + rng.gauss(0, SIGMA_DEG), lat + rng.gauss(0, SIGMA_DEG * 0.8)


def _time(rng: random.Random) -> str:
    minute = rng.randrange(24 * 60)
    return f"{DAY}T{minute // 60:02d}:{minute % 60:02d}:00Z"


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def _address(city: str, names: dict[str, str], rng: random.Random) -> dict[str, Any]:
    return _prop(
        {
            "streetAddress": f"{names['en']} street {rng.randrange(1, 300)}",
            "addressLocality": city.capitalize(),
            "addressRegion": names["en"],
            "addressCountry": COUNTRY[city],
        }
    )


def traffic_flow(entity_id: str, rng: random.Random) -> dict[str, Any]:
    city, district, names, lon, lat = _place(rng)
    heading = rng.uniform(0, 2 * math.pi)
    points = [(lon, lat)]
    for _ in range(rng.randrange(2, 6)):
        heading += rng.gauss(0, 0.25)
        step = rng.uniform(80, 250)
        points.append(_offset(*points[-1], step * math.sin(heading), step * math.cos(heading)))
    congested = rng.random() < 0.09
    speed = rng.uniform(2, 15) if congested else min(rng.gauss(42, 12), 110)
    when = _time(rng)
    return {
        "id": entity_id,
        "type": "TrafficFlowObserved",
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "LineString",
                "coordinates": [[_round(x), _round(y)] for x, y in points],
            },
        },
        "averageVehicleSpeed": _prop(round(max(speed, 0.5), 1), unitCode="KMH"),
        "intensity": _prop(rng.randrange(10, 1800)),
        "occupancy": _prop(round(rng.uniform(0.02, 0.98), 2)),
        "averageHeadwayTime": _prop(round(rng.uniform(0.4, 6.0), 1)),
        "laneId": _prop(rng.randrange(1, 5)),
        "laneDirection": _prop(rng.choice(("forward", "backward"))),
        "dateObserved": _prop(when),
        "dateObservedFrom": _prop(when),
        "address": _address(city, names, rng),
        "refRoadSegment": {
            "type": "Relationship",
            "object": f"urn:ngsi-ld:RoadSegment:{district}-{rng.randrange(5000)}",
        },
    }


def parking(entity_id: str, rng: random.Random) -> dict[str, Any]:
    city, _district, names, lon, lat = _place(rng)
    number = rng.randrange(1, 400)
    total = rng.choice((40, 80, 120, 200, 350, 500, 800))
    available = rng.randrange(0, total + 1)
    return {
        "id": entity_id,
        "type": "OffStreetParking",
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [_round(lon), _round(lat)]},
        },
        "name": {
            "type": "LanguageProperty",
            "languageMap": {
                lang: f"{names[lang]} {word} {number}" for lang, word in PARKING_WORD.items()
            },
        },
        "availableSpotNumber": _prop(available, observedAt=_time(rng)),
        "totalSpotNumber": _prop(total),
        "occupancy": _prop(round(1 - available / total, 2)),
        "category": _prop(
            rng.sample(["public", "private", "underground", "feeCharged", "free"], 2)
        ),
        "allowedVehicleType": _prop(["car", "motorcycle"] if rng.random() < 0.5 else ["car"]),
        "maximumParkingDuration": _prop(rng.choice(("PT2H", "PT8H", "P1D"))),
        "status": _prop(rng.choice(("open", "open", "open", "closed", "full"))),
        "address": _address(city, names, rng),
    }


def air_quality(entity_id: str, rng: random.Random) -> dict[str, Any]:
    city, _district, names, lon, lat = _place(rng)
    pm25 = round(rng.lognormvariate(3.1, 0.5), 1)
    level = "good" if pm25 < 15 else "moderate" if pm25 < 35 else "unhealthy"
    return {
        "id": entity_id,
        "type": "AirQualityObserved",
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [_round(lon), _round(lat)]},
        },
        "pm25": _prop(pm25, unitCode="GQ"),
        "pm10": _prop(round(pm25 * rng.uniform(1.2, 2.2), 1), unitCode="GQ"),
        "no2": _prop(round(rng.uniform(5, 120), 1), unitCode="GQ"),
        "temperature": _prop(round(rng.gauss(27, 4), 1), unitCode="CEL"),
        "relativeHumidity": _prop(round(rng.uniform(0.3, 0.95), 2)),
        "airQualityLevel": _prop(level),
        "dateObserved": _prop(_time(rng)),
        "typeOfLocation": _prop(rng.choice(("outdoor", "indoor"))),
        "address": _address(city, names, rng),
    }


def alert(entity_id: str, rng: random.Random) -> dict[str, Any]:
    _city, _district, _names, lon, lat = _place(rng)
    radius = rng.uniform(75, 300)
    corners = rng.randrange(4, 9)
    ring = [
        _offset(
            lon,
            lat,
            radius * math.cos(2 * math.pi * k / corners),
            radius * math.sin(2 * math.pi * k / corners),
        )
        for k in range(corners)
    ]
    ring.append(ring[0])
    category = rng.choice(tuple(ALERT_CATEGORIES))
    issued = _time(rng)
    return {
        "id": entity_id,
        "type": "Alert",
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Polygon",
                "coordinates": [[[_round(x), _round(y)] for x, y in ring]],
            },
        },
        "severity": _prop(rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]),
        "category": _prop(category),
        "subCategory": _prop(rng.choice(ALERT_CATEGORIES[category])),
        "dateIssued": _prop(issued),
        "validFrom": _prop(issued),
        "description": _prop(f"{category} alert, area of {2 * radius:.0f} m"),
        "alertSource": _prop(f"urn:ngsi-ld:Device:sensor-{rng.randrange(10_000)}"),
    }


_BUILDERS: dict[str, Callable[[str, random.Random], dict[str, Any]]] = {
    "TrafficFlowObserved": traffic_flow,
    "OffStreetParking": parking,
    "AirQualityObserved": air_quality,
    "Alert": alert,
}


def batch(seed: int, index: int, size: int, total: int) -> list[dict[str, Any]]:
    """Entities ``index*size`` … (at most ``total`` in all) of the data set."""
    rng = random.Random(f"{seed}:{index}")
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    out = []
    for n in range(index * size, min((index + 1) * size, total)):
        kind = rng.choices(kinds, weights)[0]
        out.append(_BUILDERS[kind](f"urn:ngsi-ld:{kind}:{n:07d}", rng))
    return out


def entities(seed: int, total: int, size: int = 1000) -> Iterator[dict[str, Any]]:
    for index in range(math.ceil(total / size)):
        yield from batch(seed, index, size, total)


# --- queries ------------------------------------------------------------------------------

# District polygon (Shibuya-ward-like, about 3.2 × 3.0 km) and points the geo-queries use.
SHIBUYA = [
    [139.6845, 35.6505],
    [139.7155, 35.6505],
    [139.7205, 35.6650],
    [139.7150, 35.6790],
    [139.6950, 35.6790],
    [139.6830, 35.6660],
    [139.6845, 35.6505],
]
SEOUL_CITY_HALL = [126.9780, 37.5665]
SHINJUKU_STATION = [139.7006, 35.6896]


@dataclass(frozen=True)
class BenchQuery:
    """One query: its URL parameters for GET /entities, or a Query body for POST
    /entityOperations/query, and a predicate giving the expected total (None: not checked
    in Python, e.g. geo-queries, which the stores are compared on instead)."""

    name: str
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    expect: Callable[[dict[str, Any]], bool] | None = None

    @property
    def count(self) -> bool:
        return self.params.get("count") == "true"

    def path(self, limit: int) -> str:
        """Path and query string on the hub (the limit is added to every query)."""
        items = {**self.params, "limit": str(limit)}
        text = "&".join(f"{k}={quote(v, safe='')}" for k, v in items.items())
        return ("/entityOperations/query?" if self.body is not None else "/entities?") + text


def _value(entity: dict[str, Any], attr: str) -> Any:
    found = entity.get(attr)
    return None if found is None else found.get("value")


def _in(low: float, high: float, attr: str) -> Callable[[dict[str, Any]], bool]:
    def test(e: dict[str, Any]) -> bool:
        value = _value(e, attr)
        return isinstance(value, int | float) and low <= value <= high

    return test


PARKING_NAME = "新宿区 駐車場 17"
NEAR = f"[{SEOUL_CITY_HALL[0]},{SEOUL_CITY_HALL[1]}]"
COMBINED_GEO = f"[{SHINJUKU_STATION[0]},{SHINJUKU_STATION[1]}]"

QUERIES: list[BenchQuery] = [
    BenchQuery(
        "by type",
        {"type": "TrafficFlowObserved"},
        expect=lambda e: e["type"] == "TrafficFlowObserved",
    ),
    BenchQuery(
        "type + q range",
        {"type": "TrafficFlowObserved", "q": "averageVehicleSpeed==0..15"},
        expect=lambda e: (
            e["type"] == "TrafficFlowObserved" and _in(0, 15, "averageVehicleSpeed")(e)
        ),
    ),
    BenchQuery(
        "type + q lang",
        {"type": "OffStreetParking", "q": f'name=="{PARKING_NAME}"'},
        expect=lambda e: (
            e["type"] == "OffStreetParking" and PARKING_NAME in e["name"]["languageMap"].values()
        ),
    ),
    BenchQuery(
        "near 1 km",
        {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": NEAR},
    ),
    BenchQuery(
        "within district",
        {"georel": "within", "geometry": "Polygon", "coordinates": str([SHIBUYA]).replace(" ", "")},
    ),
    BenchQuery(
        "type+q+geo",
        {
            "type": "OffStreetParking",
            "q": "availableSpotNumber>=50",
            "georel": "near;maxDistance==1500",
            "geometry": "Point",
            "coordinates": COMBINED_GEO,
        },
    ),
    BenchQuery(
        "count=true",
        {"type": "TrafficFlowObserved", "count": "true"},
        expect=lambda e: e["type"] == "TrafficFlowObserved",
    ),
    BenchQuery(
        "POST query",
        body={
            "type": "Query",
            "entities": [{"type": "OffStreetParking"}],
            "q": "availableSpotNumber>=50",
            "geoQ": {
                "georel": "near;maxDistance==1500",
                "geometry": "Point",
                "coordinates": SHINJUKU_STATION,
            },
        },
    ),
]
