"""Cities side by side (docs/dashboard.md, compare endpoint): each city's figures now and
their course over the period, from the temporal history aggregated in the database.

Series pool the period's instances of every entity of a kind: the average road speed of an
hour is the mean of all speeds observed in it; parking occupancy is 1 − (mean free spaces
summed over lots) / (their total spaces).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cityhub.dashboard import summary
from cityhub.dashboard.cities import cities_of
from cityhub.dashboard.layers import BY_ID
from cityhub.errors import BadRequestData
from cityhub.query.ast import EntityQuery
from cityhub.query.resolve import resolve_types
from cityhub.query.temporal import Aggregation, TemporalQuery, micros_of, parse_duration
from cityhub.query.types import parse_type_expression

if TYPE_CHECKING:
    from cityhub.dashboard.data import DashboardData

SERIES_PERIODS = {"P1D": (timedelta(days=1), "PT1H"), "P7D": (timedelta(days=7), "PT6H")}
MAX_ENTITIES = 1000  # per kind and city: the hub's query limit


async def _buckets(
    data: DashboardData, tenant: str, layer_id: str, attr: str, start: int, step: str
) -> dict[str, dict[int, tuple[float, int]]]:
    """entity id → bucket start (ms) → (sum, count) of the attribute's numbers."""
    layer = BY_ID[layer_id]
    tm = await data.termmap(layer.context)
    iri = tm.expand(attr)
    query = EntityQuery(
        types=resolve_types(parse_type_expression(",".join(layer.types)), tm),
        attrs=frozenset({iri}),
        limit=MAX_ENTITIES,
    )
    aggregation = Aggregation(("avg",), parse_duration(step))
    tq = TemporalQuery(timerel="after", time_at=start)
    answer = await data.hub.temporal.query(tenant, query, tq, None, aggregation)
    out: dict[str, dict[int, tuple[float, int]]] = defaultdict(dict)
    for entity_id, rows in answer.aggregates.items():
        for row in rows:
            if row.numbers and row.number_sum is not None and row.dataset_id == "":
                at = (start + row.bucket * aggregation.period.micros) // 1000
                out[entity_id][at] = (row.number_sum, row.numbers)
    return out


def _pooled_mean(buckets: dict[str, dict[int, tuple[float, int]]]) -> list[list[float]]:
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for per_entity in buckets.values():
        for at, (total, count) in per_entity.items():
            sums[at][0] += total
            sums[at][1] += count
    return [[at, round(s / n, 2)] for at, (s, n) in sorted(sums.items()) if n]


def _occupancy(
    buckets: dict[str, dict[int, tuple[float, int]]], totals: dict[str, float]
) -> list[list[float]]:
    free: dict[int, float] = defaultdict(float)
    spaces: dict[int, float] = defaultdict(float)
    for entity_id, per_entity in buckets.items():
        total = totals.get(entity_id)
        if not total:
            continue
        for at, (s, n) in per_entity.items():
            free[at] += s / n
            spaces[at] += total
    return [
        [at, round(max(0.0, 1 - free[at] / spaces[at]), 3)] for at in sorted(free) if spaces[at]
    ]


async def compare_cities(data: DashboardData, period: str, language: str) -> dict[str, Any]:
    if period not in SERIES_PERIODS:
        raise BadRequestData(f"period must be one of {', '.join(SERIES_PERIODS)}")
    span, step = SERIES_PERIODS[period]
    now = datetime.now(UTC)
    start = micros_of((now - span).replace(minute=0, second=0, microsecond=0))
    cities = []
    for city in cities_of(await data.hub.store.tenants()):
        tenant = city.tenant
        figures = await data.summary(tenant, language, now)
        lots = await data.readers(tenant, BY_ID["parking"])
        totals = {r.entity["id"]: t for r in lots if (t := r.number("totalSpotNumber"))}
        series = {
            "parkingOccupancy": _occupancy(
                await _buckets(data, tenant, "parking", "availableSpotNumber", start, step), totals
            ),
            "averageSpeed": _pooled_mean(
                await _buckets(data, tenant, "traffic", "averageVehicleSpeed", start, step)
            ),
            "pm25": _pooled_mean(await _buckets(data, tenant, "air", "pm25", start, step)),
        }
        cities.append(
            {
                "tenant": tenant,
                "name": city.as_json()["name"],
                "simulated": city.simulated,
                "now": {
                    "parkingOccupancy": figures["parking"]["occupancy"],
                    "averageSpeed": figures["traffic"]["averageSpeed"],
                    "pm25": figures["air"]["pm25"],
                    "alerts": summary.alert_counts(figures["alerts"]),
                },
                "series": series,
            }
        )
    return {"period": period, "cities": cities}
