"""The tolerant feed value readers (CATALOG: numbers as strings, empty as "", null or "-",
local times without offset, hour 24 as the end of a day, coordinates in range)."""

from __future__ import annotations

from typing import Any

import pytest

from cityhub.ingest.feeds.records import RecordError
from cityhub.ingest.feeds.values import (
    CST,
    KST,
    aware_time,
    epoch_time,
    integer,
    local_time,
    lon_lat,
    number,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("24", 24.0),
        (" 32.3 ", 32.3),
        ("1,234", 1234.0),
        (7, 7.0),
        (0.5, 0.5),
        ("", None),
        (None, None),
        ("-", None),
    ],
)
def test_number_reads_strings_numbers_and_empty_values(raw: Any, expected: float | None) -> None:
    assert number(raw, "x") == expected


@pytest.mark.parametrize("raw", ["fast", True, [1], "nan", "inf"])
def test_number_rejects_what_is_not_a_finite_number(raw: Any) -> None:
    with pytest.raises(RecordError, match=r"^x: "):
        number(raw, "x")


def test_integer_rejects_fractions() -> None:
    assert integer("24.0", "n") == 24
    with pytest.raises(RecordError, match="whole number"):
        integer("2.5", "n")


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        ("2026-08-11 18:05", "%Y-%m-%d %H:%M", "2026-08-11T18:05:00+09:00"),
        ("2026-08-11 24:00", "%Y-%m-%d %H:%M", "2026-08-12T00:00:00+09:00"),
        ("202608112400", "%Y%m%d%H%M", "2026-08-12T00:00:00+09:00"),
        ("20201231240000", "%Y%m%d%H%M%S", "2021-01-01T00:00:00+09:00"),
        # minute 24, second 00: a plain time, not the end of a day
        ("20210224152400", "%Y%m%d%H%M%S", "2021-02-24T15:24:00+09:00"),
    ],
)
def test_local_time_adds_the_offset_and_reads_hour_24_as_next_day(
    raw: str, fmt: str, expected: str
) -> None:
    assert local_time(raw, "t", (fmt,), KST) == expected


def test_local_time_uses_the_zone_given() -> None:
    assert local_time("2026-11-29 08:00", "t", ("%Y-%m-%d %H:%M",), CST) == (
        "2026-11-29T08:00:00+08:00"
    )


def test_local_time_rejects_other_forms() -> None:
    with pytest.raises(RecordError, match="not a time"):
        local_time("11/08/2026", "t", ("%Y-%m-%d %H:%M",), KST)


def test_aware_time_requires_an_offset() -> None:
    assert aware_time("2026-10-04T21:00:00+09:00", "t") == "2026-10-04T21:00:00+09:00"
    assert aware_time("2026-10-04T12:00:00Z", "t") == "2026-10-04T12:00:00+00:00"
    with pytest.raises(RecordError, match="no time zone"):
        aware_time("2026-10-04T21:00:00", "t")


def test_epoch_time_is_utc_and_zero_is_no_time() -> None:
    assert epoch_time(1284457468, "t") == "2010-09-14T09:44:28Z"
    assert epoch_time(0, "t") is None


@pytest.mark.parametrize(("lon", "lat"), [("181", "37"), ("127", "-91"), ("x", "37"), ("", "37")])
def test_lon_lat_rejects_out_of_range_or_missing_coordinates(lon: str, lat: str) -> None:
    with pytest.raises(RecordError):
        lon_lat(lon, lat, "location")


def test_lon_lat_reads_strings() -> None:
    assert lon_lat("126.97", "37.57", "location") == (126.97, 37.57)
