"""gtfs-rt: GTFS-Realtime FeedMessage (binary or text format) → Alert and Vehicle (CATALOG §14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf import text_format
from google.transit import gtfs_realtime_pb2

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.gtfs_rt import GtfsRealtime
from cityhub.ingest.feeds.records import Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 9, 2, 9, 3, 12, tzinfo=UTC)
SAMPLES = shared_dir() / "fixtures" / "gtfs-realtime"
ALERT_CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
TRANSPORTATION_CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
FEED_URL = "https://api.example.jp/gtfs-rt/toei-bus/vehicle_position.pb"

# Vehicle positions as a Tokyo bus operator publishes them (text format of the same
# FeedMessage): a moving bus, a stopped one, one without a position, one off the globe, a
# trip update (not mapped) and a bilingual alert whose Japanese text carries no language.
VEHICLES = """
header {
  gtfs_realtime_version: "2.0"
  incrementality: FULL_DATASET
  timestamp: 1788339630
}
entity {
  id: "v1"
  vehicle {
    trip { trip_id: "T-01-0900" route_id: "01" start_date: "20260902" direction_id: 0 }
    vehicle { id: "B-1234" label: "都01 渋谷駅前行" license_plate: "品川200か1234" }
    position { latitude: 35.6895 longitude: 139.6917 bearing: 90.5 speed: 8.5 }
    current_stop_sequence: 5
    stop_id: "0101-01"
    current_status: IN_TRANSIT_TO
    timestamp: 1788339600
    congestion_level: RUNNING_SMOOTHLY
    occupancy_status: MANY_SEATS_AVAILABLE
  }
}
entity {
  id: "v2"
  vehicle {
    vehicle { id: "B-5678" }
    position { latitude: 35.658 longitude: 139.7016 bearing: 180 speed: 0 }
    current_status: STOPPED_AT
  }
}
entity {
  id: "v3"
  vehicle { vehicle { id: "B-9999" } current_status: STOPPED_AT timestamp: 1788339600 }
}
entity {
  id: "v4"
  vehicle { vehicle { id: "B-0000" } position { latitude: 135.7 longitude: 139.7 } }
}
entity {
  id: "t1"
  trip_update { trip { trip_id: "T-01-0900" } stop_time_update { stop_sequence: 6 } }
}
entity {
  id: "a1"
  alert {
    active_period { start: 1788339600 end: 1788350400 }
    active_period { start: 1788426000 end: 1788436800 }
    informed_entity { route_id: "01" }
    cause: ACCIDENT
    effect: SIGNIFICANT_DELAYS
    severity_level: WARNING
    header_text {
      translation { text: "都01系統 遅延" }
      translation { text: "Route 01 delayed" language: "en-US" }
    }
    description_text {
      translation { text: "Delays after a traffic accident near Shibuya" language: "en" }
      translation { text: "渋谷駅付近の交通事故のため遅れが出ています" language: "ja" }
    }
  }
}
"""


def parse(payload: bytes, **options: object) -> list:
    adapter = GtfsRealtime({"agency": "toei", **options})
    return adapter.parse(payload, fetched_at=FETCHED, source=FEED_URL)


def binary(text: str) -> bytes:
    message = gtfs_realtime_pb2.FeedMessage()
    text_format.Parse(text, message)
    return message.SerializeToString()


def dt(value: str) -> dict:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def test_adapter_is_registered_for_the_default_tenant() -> None:
    cls = adapter_class("gtfs-rt")
    assert cls is GtfsRealtime
    assert cls.default_tenant == ""


def test_alert_sample_of_the_specification() -> None:
    payload = (SAMPLES / "alerts.asciipb").read_bytes()
    items = GtfsRealtime({"agency": "demo"}).parse(payload, fetched_at=FETCHED)
    assert items == [
        {
            "id": "urn:ngsi-ld:Alert:demo:0",
            "type": "Alert",
            "category": {"type": "Property", "value": "traffic"},
            "subCategory": {"type": "Property", "value": "roadWorks"},
            "severity": {"type": "Property", "value": "informational"},
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"en": "Stop at Elm street is closed, temporary stop at Oak street"},
            },
            "description": {
                "type": "LanguageProperty",
                "languageMap": {
                    "en": "Due to construction at Elm street the stop is closed. The temporary "
                    "stop can be found 300 meters north at Oak street"
                },
            },
            "dateIssued": dt("2010-09-14T09:44:28Z"),
            "validFrom": dt("2010-09-14T09:44:28Z"),
            "validTo": dt("2010-09-14T12:41:12Z"),
            "alertSource": {"type": "Property", "value": "demo"},
            "dataProvider": {"type": "Property", "value": "GTFS-Realtime feed of demo"},
            "data": {
                "type": "Property",
                "value": {
                    "cause": "CONSTRUCTION",
                    "effect": "DETOUR",
                    "active_period": [
                        {"start": "2010-09-14T09:44:28Z", "end": "2010-09-14T12:41:12Z"}
                    ],
                    "informed_entity": [
                        {"route_id": "219"},
                        {"stop_id": "16230"},
                        {"route_id": "100", "stop_id": "16299"},
                    ],
                    "url": {"en": "http://www.sometransitagency/alerts"},
                },
            },
            "@context": ALERT_CONTEXT,
        }
    ]


def test_trip_updates_are_skipped_not_rejected() -> None:
    payload = (SAMPLES / "trip-updates-full.asciipb").read_bytes()
    assert GtfsRealtime().parse(payload, fetched_at=FETCHED) == []


def test_vehicle_positions() -> None:
    items = parse(VEHICLES.encode())
    moving, stopped = items[0], items[1]
    observed = "2026-09-02T09:00:00Z"
    assert moving == {
        "id": "urn:ngsi-ld:Vehicle:toei:B-1234",
        "type": "Vehicle",
        "vehicleType": {"type": "Property", "value": "bus"},
        "category": {"type": "Property", "value": ["public", "tracked"]},
        "name": {"type": "Property", "value": "都01 渋谷駅前行"},
        "fleetVehicleId": {"type": "Property", "value": "B-1234"},
        "vehiclePlateIdentifier": {"type": "Property", "value": "品川200か1234"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [139.6917, 35.6895]},
            "observedAt": observed,
        },
        "speed": {"type": "Property", "value": 30.6, "unitCode": "KMH", "observedAt": observed},
        "bearing": {"type": "Property", "value": 90.5, "unitCode": "DD", "observedAt": observed},
        "heading": {"type": "Property", "value": 90.5, "unitCode": "DD", "observedAt": observed},
        "observationDateTime": dt(observed),
        "dataProvider": {"type": "Property", "value": "GTFS-Realtime feed of toei"},
        "source": {"type": "Property", "value": FEED_URL},
        "data": {
            "type": "Property",
            "value": {
                "trip": {
                    "trip_id": "T-01-0900",
                    "route_id": "01",
                    "start_date": "20260902",
                    "direction_id": 0,
                },
                "current_stop_sequence": 5,
                "stop_id": "0101-01",
                "current_status": "IN_TRANSIT_TO",
                "congestion_level": "RUNNING_SMOOTHLY",
                "occupancy_status": "MANY_SEATS_AVAILABLE",
            },
        },
        "@context": TRANSPORTATION_CONTEXT,
    }
    # No timestamp of its own: the header's; stopped: heading -1 as the SDM prescribes.
    header_time = "2026-09-02T09:00:30Z"
    assert stopped["location"]["observedAt"] == header_time
    assert stopped["speed"]["value"] == 0.0
    assert stopped["heading"]["value"] == -1
    assert stopped["bearing"]["value"] == 180.0
    assert "name" not in stopped and "vehiclePlateIdentifier" not in stopped
    assert [(r.where, r.reason) for r in items if isinstance(r, Rejected)] == [
        ("entity[2]", "VehiclePosition 'B-9999' has no position"),
        ("entity[3]", "position: latitude 135.7 is out of range"),
    ]
    assert 'id: "v3"' in items[2].raw


def test_alert_translations_follow_the_language_preference() -> None:
    items = parse(VEHICLES.encode(), languages="ja,en")
    alert = items[-1]
    assert alert["id"] == "urn:ngsi-ld:Alert:toei:a1"
    assert alert["name"]["languageMap"] == {"ja": "都01系統 遅延", "en": "Route 01 delayed"}
    assert list(alert["description"]["languageMap"]) == ["ja", "en"]
    assert alert["subCategory"]["value"] == "carAccident"
    assert alert["severity"]["value"] == "medium"
    # Two periods: the alert is valid from the first start to the last end.
    assert alert["validFrom"] == dt("2026-09-02T09:00:00Z")
    assert alert["validTo"] == dt("2026-09-03T12:00:00Z")
    assert alert["dateIssued"] == dt("2026-09-02T09:00:30Z")
    assert alert["alertSource"]["value"] == FEED_URL
    assert len(alert["data"]["value"]["active_period"]) == 2


def test_an_open_ended_period_leaves_validto_out() -> None:
    feed = """header { gtfs_realtime_version: "2.0" timestamp: 1788339630 }
    entity { id: "a" alert { active_period { start: 1788339600 } effect: NO_SERVICE } }"""
    [alert] = parse(feed.encode())
    assert alert["validFrom"] == dt("2026-09-02T09:00:00Z")
    assert "validTo" not in alert
    assert "subCategory" not in alert  # NO_SERVICE has no SDM counterpart
    assert alert["data"]["value"]["effect"] == "NO_SERVICE"


def test_a_deleted_alert_gets_its_end() -> None:
    feed = """header { gtfs_realtime_version: "2.0" incrementality: DIFFERENTIAL
    timestamp: 1788339630 }
    entity { id: "a1" is_deleted: true alert { cause: ACCIDENT } }
    entity { id: "v9" is_deleted: true vehicle { vehicle { id: "B-1" } } }"""
    assert parse(feed.encode()) == [
        {
            "id": "urn:ngsi-ld:Alert:toei:a1",
            "type": "Alert",
            "validTo": dt("2026-09-02T09:00:30Z"),
            "alertSource": {"type": "Property", "value": FEED_URL},
            "dataProvider": {"type": "Property", "value": "GTFS-Realtime feed of toei"},
            "@context": ALERT_CONTEXT,
        }
    ]


def test_binary_payload_gives_the_same_entities_as_text() -> None:
    assert parse(binary(VEHICLES)) == parse(VEHICLES.encode())


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x0a\x05\x0a\x032.0\x12\xff\xff", "not a GTFS-Realtime FeedMessage"),
        (b"header { gtfs_realtime_version: ", "not a GTFS-Realtime FeedMessage"),
        (b'entity { id: "x" }', "no header with gtfs_realtime_version"),
        (b'{"error": "invalid api key"}', "not a GTFS-Realtime FeedMessage"),
        (b"", "no header with gtfs_realtime_version"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [bad] = parse(payload)
    assert bad.where == "payload"
    assert reason in bad.reason


def test_entity_without_id_is_rejected() -> None:
    feed = VEHICLES.replace('id: "v2"', 'id: ""')
    items = parse(feed.encode())
    assert next((r.where, r.reason) for r in items if isinstance(r, Rejected)) == (
        "entity[1]",
        "FeedEntity has no id",
    )


def test_parse_is_deterministic() -> None:
    assert parse(VEHICLES.encode()) == parse(VEHICLES.encode())


async def test_hub_accepts_every_entity() -> None:
    items = [
        *parse((SAMPLES / "alerts.asciipb").read_bytes()),
        *parse(VEHICLES.encode()),
    ]
    assert await assert_hub_accepts(items) == 1 + 2 + 1


async def test_collect_reads_a_binary_feed() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with ContextServer() as server:
            url = server.route(
                "/gtfs-rt/vehicle_position.pb",
                binary(VEHICLES),
                content_type="application/x-protobuf",
            )
            items = await GtfsRealtime({"url": url, "agency": "toei"}).collect(fetcher)
            assert server.hits("/gtfs-rt/vehicle_position.pb") == 1
            ids = [i["id"] for i in items if not isinstance(i, Rejected)]
            assert ids == [
                "urn:ngsi-ld:Vehicle:toei:B-1234",
                "urn:ngsi-ld:Vehicle:toei:B-5678",
                "urn:ngsi-ld:Alert:toei:a1",
            ]
            assert items[0]["source"]["value"] == url
    finally:
        await fetcher.aclose()


async def test_collect_needs_a_url() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with pytest.raises(FetchError, match="needs the option url"):
            await GtfsRealtime().collect(fetcher)
    finally:
        await fetcher.aclose()
