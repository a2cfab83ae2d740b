"""The panel figures beside the map (issue 7, docs/dashboard.md summary endpoint)."""

from __future__ import annotations

from datetime import UTC, datetime

from cityhub.dashboard import summary

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def test_active_alerts_drop_expired_ones_and_put_the_most_severe_and_newest_first() -> None:
    alerts = [
        {"id": "a", "severity": "medium", "issued": "2026-11-29T08:00:00Z"},
        {"id": "b", "severity": "critical", "issued": "2026-11-29T07:00:00Z"},
        {"id": "c", "severity": "medium", "issued": "2026-11-29T08:30:00+00:00"},
        {
            "id": "d",
            "severity": "high",
            "issued": "2026-11-29T08:00:00Z",
            "validTo": "2026-11-29T08:59:00Z",
        },
        {
            "id": "e",
            "severity": "low",
            "issued": "2026-11-29T08:00:00Z",
            "validTo": "2026-11-29T10:00:00Z",
        },
        {"id": "f", "severity": None, "issued": None},
    ]
    assert [a["id"] for a in summary.active_alerts(alerts, NOW)] == ["b", "c", "a", "e", "f"]


def test_parking_sums_only_lots_with_a_live_count() -> None:
    lots = [
        {"free": 10.0, "total": 100.0},
        {"free": 0.0, "total": 50.0},
        {"free": None, "total": 500.0},  # no live count
    ]
    assert summary.parking(lots) == {
        "lots": 3,
        "counted": 2,
        "free": 10.0,
        "total": 150.0,
        "occupancy": 0.933,
    }
    assert summary.parking([])["occupancy"] is None


def test_traffic_share_of_congested_segments_and_mean_speed() -> None:
    segments = [
        {"speed": 10.0, "level": 3},
        {"speed": 50.0, "level": 0},
        {"speed": 20.0, "level": 2},
        {"speed": None, "level": None},
    ]
    assert summary.traffic(segments) == {
        "segments": 4,
        "congested": 1,
        "congestedShare": 0.333,
        "averageSpeed": 26.7,
    }


def test_air_names_the_worst_station() -> None:
    stations = [
        {"id": "x", "name": "X", "pm25": 12.0, "pm10": 30.0, "level": 0},
        {"id": "y", "name": "Y", "pm25": 80.0, "pm10": None, "level": 3},
        {"id": "z", "name": "Z", "pm25": None, "pm10": 20.0, "level": None},
    ]
    result = summary.air(stations)
    assert (result["stations"], result["pm25"], result["pm10"]) == (3, 46.0, 25.0)
    assert result["worst"] == {"id": "y", "name": "Y", "pm25": 80.0, "level": 3}


def test_crowding_lists_the_busiest_first() -> None:
    spots = [
        {"id": "a", "name": "A", "people": 100.0, "level": 1},
        {"id": "b", "name": "B", "people": 50.0, "level": 3},
        {"id": "c", "name": "C", "people": 900.0, "level": 1},
        {"id": "d", "name": "D", "people": None, "level": None},
    ]
    assert [s["id"] for s in summary.crowding(spots, limit=3)] == ["b", "c", "a"]


def test_alert_counts_by_severity() -> None:
    counts = summary.alert_counts([{"severity": "high"}, {"severity": "high"}, {"severity": "x"}])
    assert counts == {"informational": 0, "low": 0, "medium": 0, "high": 2, "critical": 0}
