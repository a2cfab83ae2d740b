"""Aggregated temporal representation (clause 4.5.19, options=aggregatedValues): every method
checked against an independent computation over the values sent, bucket alignment, one bucket
for PT0S or no duration, booleans, strings, relationships, datasets, calendar durations and
parameter errors. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.entity_requests import assert_problem, moment
from tests.api.temporal_requests import (
    DS_A,
    case_id,
    create_temporal,
    find,
    prop,
    rel,
    retrieve,
    series,
    temporal_query,
    temporal_url,
    ts,
    unique,
    when,
)

METHODS = ["totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq"]
Points = list[tuple[Any, str]]
Step = timedelta | int  # an int is a number of calendar months


@pytest.fixture
def kind() -> str:
    return unique()


def aggregated(methods: list[str], duration: str | None = None, **more: str) -> dict[str, str]:
    params = {"options": "aggregatedValues", "aggrMethods": ",".join(methods), **more}
    if duration is not None:
        params["aggrPeriodDuration"] = duration
    return params


def aggregate(method: str, values: list[Any], ordered: bool = True) -> Any:
    """What a method gives for the values of one period, computed here independently."""
    if method == "totalCount":
        return len(values)
    if method == "distinctCount":
        return len({repr(value) for value in values})
    if any(isinstance(value, str) for value in values):  # strings (ordered) or relationship targets
        if ordered and method in ("min", "max"):
            return min(values) if method == "min" else max(values)
        return None
    numbers = [int(value) if isinstance(value, bool) else value for value in values]
    return {
        "sum": math.fsum(numbers),
        "avg": statistics.fmean(numbers),
        "min": min(numbers),
        "max": max(numbers),
        "stddev": statistics.stdev(numbers) if len(numbers) > 1 else None,  # sample
        "sumsq": math.fsum(n * n for n in numbers),
    }[method]


def add_months(moment_: datetime, months: int) -> datetime:
    index = moment_.month - 1 + months
    return moment_.replace(year=moment_.year + index // 12, month=index % 12 + 1)


def bucket(at: datetime, origin: datetime, step: Step) -> tuple[datetime, datetime]:
    if isinstance(step, timedelta):
        start = origin + (at - origin) // step * step
        return start, start + step
    months = (at.year - origin.year) * 12 + at.month - origin.month
    if add_months(origin, months) > at:
        months -= 1
    start = add_months(origin, months // step * step)
    return start, add_months(start, step)


def expected_periods(
    points: Points, method: str, origin: str, step: Step, ordered: bool = True
) -> list[list[Any]]:
    """[value, start, end] for each non-empty period [start, start + step) from origin."""
    groups: dict[tuple[datetime, datetime], list[Any]] = {}
    for value, at in sorted(points, key=lambda point: moment(point[1])):
        groups.setdefault(bucket(moment(at), moment(origin), step), []).append(value)
    return [
        [aggregate(method, values, ordered), start, end]
        for (start, end), values in sorted(groups.items())
    ]


def assert_periods(got: list[list[Any]], expected: list[list[Any]]) -> None:
    assert [(moment(start), moment(end)) for _, start, end in got] == [
        (start, end) for _, start, end in expected
    ], got
    for (value, _, _), (want, _, _) in zip(got, expected, strict=True):
        if want is None or isinstance(want, str):
            assert value == want, got
        else:
            assert value is not None and float(value) == pytest.approx(want), got


# --- Every method, numbers, booleans and strings ----------------------------------------------

MOMENTS = [ts(12, 1), ts(12, 4), ts(12, 14), ts(12, 16), ts(12, 29), ts(12, 47)]
OUTSIDE = [ts(11, 59), ts(13, 0)]  # before timeAt, and endTimeAt itself (excluded)
SAMPLES = {
    "numbers": ([10, 12.5, 7, 3, 3, 20], [100, 200]),
    "booleans": ([True, False, True, True, False, True], [False, False]),
    "strings": (["b", "a", "c", "c", "a", "d"], ["zz", "0"]),
}


@pytest.mark.parametrize("how", ["retrieve", "get"])
@pytest.mark.parametrize("sample", list(SAMPLES))
async def test_temporal_query_returns_200_with_every_aggregation_method_per_period(
    client: httpx.AsyncClient, kind: str, how: str, sample: str
) -> None:
    """PT15M from 12:00: periods 12:00 (3 instances), 12:15 (2), 12:45 (1); 12:30 is empty."""
    inside, outside = SAMPLES[sample]
    points = list(zip(inside, MOMENTS, strict=True))
    entity = f"urn:ngsi-ld:{kind}:agg"
    everything = points + list(zip(outside, OUTSIDE, strict=True))
    await create_temporal(client, {"id": entity, "type": kind, "level": series(everything)})
    params = aggregated(METHODS, "PT15M", **when("between", ts(12), ts(13)))
    body = await find(client, how, entity, kind, params)
    assert body is not None
    level = body["level"]
    assert level["type"] == "Property"
    assert set(level) - {"type"} == set(METHODS)
    for method in METHODS:
        expected = expected_periods(points, method, ts(12), timedelta(minutes=15))
        assert len(expected) == 3
        assert_periods(level[method], expected)


# --- Alignment of the periods -----------------------------------------------------------------

DAY = {"day": 1}
ALIGNMENTS = {  # name: (temporal query, duration, step, values at instants)
    "PT15M-at-12:07": (
        when("after", ts(12, 7)),
        "PT15M",
        timedelta(minutes=15),
        [(1, ts(12, 7)), (2, ts(12, 21)), (3, ts(12, 22)), (4, ts(12, 59)), (5, ts(13, 10))],
    ),
    "PT1H-at-11:30": (
        when("after", ts(11, 30)),
        "PT1H",
        timedelta(hours=1),
        [(1, ts(11, 40)), (2, ts(12, 10)), (3, ts(12, 29)), (4, ts(12, 31)), (5, ts(13, 45))],
    ),
    "P1D-at-06:00": (
        when("between", ts(6), ts(6, day=4)),
        "P1D",
        timedelta(days=1),
        [
            (1, ts(7)),
            (2, ts(23)),
            (3, ts(5, 59, day=2)),
            (4, ts(6, day=2)),
            (5, ts(12, day=3)),
            (6, ts(5, day=4)),
            (7, ts(6, day=4)),  # endTimeAt: excluded
        ],
    ),
}


@pytest.mark.parametrize("case", list(ALIGNMENTS))
async def test_retrieve_aggregated_returns_200_with_periods_aligned_at_time_at(
    client: httpx.AsyncClient, entity_id: str, case: str
) -> None:
    query, duration, step, points = ALIGNMENTS[case]
    await create_temporal(client, {"id": entity_id, "type": "Meter", "level": series(points)})
    body = await retrieve(client, entity_id, **aggregated(["sum", "totalCount"], duration), **query)
    inside = [p for p in points if p[1] != query.get("endTimeAt")]
    for method in ("sum", "totalCount"):
        assert_periods(
            body["level"][method], expected_periods(inside, method, query["timeAt"], step)
        )


async def test_retrieve_aggregated_returns_200_with_calendar_months_of_different_lengths(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    points = [
        (10, ts(0, month=1, day=15)),
        (20, ts(23, month=1, day=31)),  # in January, though 30 days after January 1st
        (5, ts(0, month=2, day=1)),
        (7, ts(12, month=2, day=29)),  # 2020 is a leap year
        (1, ts(0, month=3, day=1)),
        (2, ts(23, 59, month=3, day=31)),
    ]
    await create_temporal(client, {"id": entity_id, "type": "Meter", "level": series(points)})
    query = when("between", ts(0, month=1, day=1), ts(0, month=4, day=1))
    body = await retrieve(client, entity_id, **aggregated(["sum", "totalCount"], "P1M"), **query)
    sums = expected_periods(points, "sum", query["timeAt"], 1)
    assert [value for value, _, _ in sums] == [30, 12, 3]
    assert_periods(body["level"]["sum"], sums)
    assert_periods(
        body["level"]["totalCount"], expected_periods(points, "totalCount", query["timeAt"], 1)
    )


WHOLE = [(4, ts(12, 10)), (6, ts(12, 20)), (11, ts(12, 50))]
ONE_PERIOD = [  # (temporal query, period start, period end)
    (when("between", ts(12), ts(13)), ts(12), ts(13)),
    (when("after", ts(12)), ts(12), ts(12, 50)),
    (when("before", ts(13)), ts(12, 10), ts(13)),
    ({}, ts(12, 10), ts(12, 50)),
]


@pytest.mark.parametrize("duration", [None, "PT0S"])
@pytest.mark.parametrize(("query", "start", "end"), ONE_PERIOD, ids=case_id)
async def test_retrieve_aggregated_returns_200_with_one_period_without_a_duration(
    client: httpx.AsyncClient,
    entity_id: str,
    duration: str | None,
    query: dict[str, str],
    start: str,
    end: str,
) -> None:
    await create_temporal(client, {"id": entity_id, "type": "Meter", "level": series(WHOLE)})
    body = await retrieve(client, entity_id, **aggregated(["sum", "totalCount"], duration), **query)
    values = [value for value, _ in WHOLE]
    assert_periods(body["level"]["sum"], [[math.fsum(values), moment(start), moment(end)]])
    assert_periods(body["level"]["totalCount"], [[3, moment(start), moment(end)]])


@pytest.mark.parametrize(
    ("attrs", "origin"), [(None, ts(12, 3)), ("fuelLevel", ts(12, 40))], ids=["all", "fuel"]
)
async def test_retrieve_aggregated_returns_200_with_periods_from_the_oldest_selected_instance(
    client: httpx.AsyncClient, entity_id: str, attrs: str | None, origin: str
) -> None:
    """Without timeAt, periods start at the entity's oldest instance of the selected attributes."""
    speed = [(120, ts(12, 3)), (80, ts(12, 50)), (100, ts(13, 10))]
    fuel = [(67, ts(12, 40)), (53, ts(13, 20)), (40, ts(14, 30))]
    body = {"id": entity_id, "type": "Vehicle", "speed": series(speed), "fuelLevel": series(fuel)}
    await create_temporal(client, body)
    params = aggregated(["avg"], "PT1H", **({"attrs": attrs} if attrs else {}))
    found = await retrieve(client, entity_id, **params)
    for attr, points in (("speed", speed), ("fuelLevel", fuel)):
        if attrs in (None, attr):
            expected = expected_periods(points, "avg", origin, timedelta(hours=1))
            assert_periods(found[attr]["avg"], expected)
        else:
            assert attr not in found


# --- Relationships and datasets ---------------------------------------------------------------


async def test_retrieve_aggregated_returns_200_counting_relationship_targets(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    one, two = "urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"
    points = [(one, ts(12, 1)), (two, ts(12, 2)), (one, ts(12, 3))]
    driver = [rel(target, at) for target, at in points]
    await create_temporal(client, {"id": entity_id, "type": "Vehicle", "driver": driver})
    params = aggregated(METHODS, "PT1H", **when("between", ts(12), ts(13)))
    found = (await retrieve(client, entity_id, **params))["driver"]
    assert found["type"] == "Relationship"
    for method in METHODS:
        expected = expected_periods(points, method, ts(12), timedelta(hours=1), ordered=False)
        assert_periods(found[method], expected)
    assert [v for v, _, _ in found["totalCount"]] == [3]
    assert [v for v, _, _ in found["distinctCount"]] == [2]


async def test_retrieve_aggregated_returns_200_with_one_object_per_dataset(
    client: httpx.AsyncClient, entity_id: str
) -> None:
    default = [(10, ts(12, 1)), (20, ts(12, 2))]
    dataset = [(1, ts(12, 1)), (2, ts(12, 2)), (6, ts(12, 3))]
    speed = [*series(default), *series(dataset, datasetId=DS_A)]
    await create_temporal(client, {"id": entity_id, "type": "Vehicle", "speed": speed})
    params = aggregated(["sum", "avg"], "PT0S", **when("between", ts(12), ts(13)))
    found = (await retrieve(client, entity_id, **params))["speed"]
    assert isinstance(found, list) and len(found) == 2
    by_dataset = {item.get("datasetId"): item for item in found}
    assert set(by_dataset) == {None, DS_A}
    for dataset_id, points in ((None, default), (DS_A, dataset)):
        values = [value for value, _ in points]
        assert_periods(
            by_dataset[dataset_id]["sum"], [[math.fsum(values), moment(ts(12)), moment(ts(13))]]
        )
        assert_periods(
            by_dataset[dataset_id]["avg"],
            [[statistics.fmean(values), moment(ts(12)), moment(ts(13))]],
        )


# --- Errors -----------------------------------------------------------------------------------

BAD_AGGREGATIONS = {
    "no-methods": {"options": "aggregatedValues"},
    "unknown-method": aggregated(["median"]),
    "one-unknown-method": aggregated(["avg", "median"]),
    "duration-1h": aggregated(["avg"], "1h"),
    "duration-PT": aggregated(["avg"], "PT"),
    "duration-P1H": aggregated(["avg"], "P1H"),
    "duration-PT15X": aggregated(["avg"], "PT15X"),
}


@pytest.mark.parametrize("how", ["retrieve", "get"])
@pytest.mark.parametrize("case", list(BAD_AGGREGATIONS))
async def test_temporal_query_returns_400_when_an_aggregation_parameter_is_invalid(
    client: httpx.AsyncClient, kind: str, how: str, case: str
) -> None:
    entity = f"urn:ngsi-ld:{kind}:bad"
    await create_temporal(client, {"id": entity, "type": kind, "speed": prop(1, ts(12, 3))})
    params = {**BAD_AGGREGATIONS[case], **when("after", ts(12))}
    if how == "retrieve":
        response = await client.get(temporal_url(entity), params=params)
    else:
        response = await temporal_query(client, "get", {"type": kind, **params})
    assert_problem(response, 400, "BadRequestData")
