"""Deterministic seed entities for the query tests: one of each attribute kind and shape
that q, geoQ and scopeQ have to see through (clauses 4.9, 4.10, 4.19)."""

from __future__ import annotations

from typing import Any

SEOUL_LINE = {"type": "LineString", "coordinates": [[126.9768, 37.5663], [126.9770, 37.5720]]}
TOKYO_LINE = {"type": "LineString", "coordinates": [[139.7640, 35.6717], [139.7690, 35.6750]]}
BEIJING_LOT = {
    "type": "Polygon",
    "coordinates": [
        [
            [116.410, 39.912],
            [116.412, 39.912],
            [116.412, 39.914],
            [116.410, 39.914],
            [116.410, 39.912],
        ]
    ],
}
SEOUL_POINT = {"type": "Point", "coordinates": [126.9780, 37.5665]}
TOKYO_AREA = {
    "type": "Polygon",
    "coordinates": [
        [[139.70, 35.65], [139.80, 35.65], [139.80, 35.70], [139.70, 35.70], [139.70, 35.65]]
    ],
}


def seed_entities() -> list[dict[str, Any]]:
    return [
        {
            "id": "urn:ngsi-ld:Road:1",
            "type": "Road",
            "speed": {
                "type": "Property",
                "value": 50,
                "unitCode": "KMH",
                "observedAt": "2024-05-01T10:00:00Z",
            },
            "name": {
                "type": "LanguageProperty",
                "languageMap": {
                    "ko": "세종대로",
                    "en": "Sejong-daero",
                    "ja": ["世宗大路", "セジョン"],
                },
            },
            "lanes": {"type": "Property", "value": 4},
            "open": {"type": "Property", "value": True},
            "dateObserved": {"type": "Property", "value": "2024-05-01T10:00:00+09:00"},
            "location": {"type": "GeoProperty", "value": SEOUL_LINE},
            "scope": "/Seoul/Jongno",
        },
        {
            "id": "urn:ngsi-ld:Road:2",
            "type": "Road",
            "speed": {
                "type": "Property",
                "value": 12.5,
                "observedAt": "2024-05-01T11:30:00.250Z",
            },
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"en": "Ginza-dori", "ja": "銀座通り"},
            },
            "lanes": {"type": "Property", "value": 2},
            "open": {"type": "Property", "value": False},
            "tags": {"type": "ListProperty", "valueList": ["busy", "narrow"]},
            "refCity": {"type": "Relationship", "object": "urn:ngsi-ld:City:Tokyo"},
            "location": {"type": "GeoProperty", "value": TOKYO_LINE},
            "scope": "/Tokyo/Chuo",
        },
        {
            "id": "urn:ngsi-ld:OffStreetParking:1",
            "type": "OffStreetParking",
            "availableSpotNumber": {
                "type": "Property",
                "value": 120,
                "reliability": {
                    "type": "Property",
                    "value": 0.9,
                    "source": {"type": "Property", "value": "sensor"},
                },
            },
            "totalSpotNumber": {"type": "Property", "value": 200},
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"zh-Hans": "王府井停车场", "en": "Wangfujing Parking"},
            },
            "address": {
                "type": "Property",
                "value": {"streetAddress": "Wangfujing St", "addressLocality": "Beijing"},
            },
            "refCity": {"type": "Relationship", "object": "urn:ngsi-ld:City:Beijing"},
            "dateObserved": {"type": "Property", "value": "2024-05-01T02:00:00Z"},
            "location": {"type": "GeoProperty", "value": BEIJING_LOT},
            "scope": ["/Beijing/Dongcheng", "/Beijing/Parking/Public"],
        },
        {
            "id": "urn:ngsi-ld:OffStreetParking:2",
            "type": ["OffStreetParking", "Facility"],
            "availableSpotNumber": [
                {"type": "Property", "value": 5},
                {"type": "Property", "value": 8, "datasetId": "urn:ngsi-ld:Dataset:camera"},
            ],
            "totalSpotNumber": {"type": "Property", "value": 50},
            "operators": {
                "type": "ListRelationship",
                "objectList": [{"object": "urn:ngsi-ld:Org:A"}, {"object": "urn:ngsi-ld:Org:B"}],
            },
            "config": {"type": "JsonProperty", "json": {"mode": "auto", "levels": [1, 2]}},
            "location": {"type": "GeoProperty", "value": SEOUL_POINT},
            "scope": "/Seoul/Jung",
        },
        {
            "id": "urn:ngsi-ld:Alert:1",
            "type": "Alert",
            "severity": {"type": "Property", "value": "critical"},
            "category": {"type": "Property", "value": "traffic"},
            "dateIssued": {"type": "Property", "value": "2024-05-01T06:30:00+09:00"},
            "description": {
                "type": "LanguageProperty",
                "languageMap": {"ja": "通行止め", "en": "Road closed"},
            },
            "location": {"type": "GeoProperty", "value": TOKYO_AREA},
        },
    ]
