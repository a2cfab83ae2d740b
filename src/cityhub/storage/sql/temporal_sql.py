"""SQL of temporal queries (clauses 5.7.3, 5.7.4), shared by both stores.

Both stores keep times as microseconds since the epoch (the temporal migrations), so one
text serves both, with their placeholders (``Params``) and a few hooks of their
``TemporalDialect``: the instances of an attribute for q, a geometry test, lists.

* **Entities**: ``temporal_entities e`` filtered by type/id/idPattern/scopeQ with the query
  compiler (the columns have the names of ``entities``), plus: some selected attribute has
  an instance in the time range (clause 5.7.4.4: entities without data in the interval are
  left out), q holds for some instance in the range, geoQ for some GeoProperty instance in
  the range.
* **Instances**: the rows of a page of entities, the first (or, with lastN, the last) ``n``
  per attribute and datasetId by the time property, via ``row_number()``.
* **Aggregates**: ``GROUP BY`` entity, attribute, datasetId and period, the period computed
  from the time (fixed durations) or found among the given bounds (calendar durations): the
  database returns one row per period, never the instances.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from cityhub.query.ast import EntityQuery
from cityhub.query.temporal import TemporalQuery
from cityhub.storage.sql.compiler import Params, compile_where

TIME_COLUMNS = {
    "observedAt": "observed_at",
    "createdAt": "created_at",
    "modifiedAt": "modified_at",
    "deletedAt": "deleted_at",
}
ENTITY_COLUMNS = "e.id, e.types, e.scopes, e.created_at, e.modified_at, e.deleted_at"
INSTANCE_COLUMNS = (
    "entity_id, attr, instance, dataset_id, t, created_at, modified_at, deleted_at, doc"
)


class TemporalDialect(Protocol):
    """What a store adds to the query compiler's dialect for temporal queries."""

    params: Params
    tenant: str  # the tenant's placeholder
    kind_expr: str  # an instance's attribute type, from ``a.doc``
    # Ends a subquery that must run per row, in the outer order, so that a page stops at
    # its limit: PostgreSQL would otherwise make an EXISTS a join over every entity.
    per_row: str
    distinct_expr: str  # what tells instance values apart (canonical JSON, or the number)

    def in_list(self, column: str, values: Sequence[str]) -> str:
        """``column`` is one of ``values``."""
        ...

    def with_range(self, tq: TemporalQuery, attrs: frozenset[str] | None) -> TemporalDialect:
        """A dialect whose q and geoQ look at the instances in ``tq``'s range."""
        ...

    def bucket_of_bounds(self, time: str, bounds: Sequence[int]) -> str:
        """The index of the period ``[bounds[k], bounds[k+1])`` holding ``time``."""
        ...


def time_condition(alias: str, tq: TemporalQuery, params: Params) -> str:
    """The instance's time property exists and lies in ``tq``'s interval (clause 4.11)."""
    column = f"{alias}.{TIME_COLUMNS[tq.timeproperty]}"
    parts = [f"{column} IS NOT NULL"]
    if tq.start is not None:
        parts.append(f"{column} >= {params.add(tq.start)}")
    if tq.end is not None:
        parts.append(f"{column} < {params.add(tq.end)}")
    return " AND ".join(parts)


def series_rows(
    entity: str,
    tq: TemporalQuery,
    dialect: TemporalDialect,
    attrs: frozenset[str] | None,
    attr: str | None = None,
) -> str:
    """``FROM … WHERE …`` of one entity's instances (alias ``a``, their series ``s``) of the
    selected attributes (or of ``attr``) in the range; ``entity`` is an SQL expression."""
    parts = [f"s.tenant = {dialect.tenant}", f"s.entity_id = {entity}"]
    if attrs is not None:
        parts.append(dialect.in_list("s.attr", sorted(attrs)))
    if attr is not None:
        parts.append(f"s.attr = {dialect.params.add(attr)}")
    parts.append(time_condition("a", tq, dialect.params))
    return (
        "FROM temporal_series s JOIN attribute_instances a ON a.series = s.id"
        f" WHERE {' AND '.join(parts)}"
    )


def entity_page(
    query: EntityQuery, tq: TemporalQuery, dialect: TemporalDialect
) -> tuple[str, str, int]:
    """(page SQL, count SQL, how many parameters the count uses): the query's temporal
    entities in id order, ``query.limit`` + 1 of them from ``query.offset`` (the extra one
    tells whether another page follows)."""
    params = dialect.params
    selecting = dataclasses.replace(query, q=None, geo=None, attrs=None)
    where = [f"e.tenant = {dialect.tenant}", compile_where(selecting, dialect)]  # type: ignore[arg-type]
    if query.q is not None or query.geo is not None:
        ranged = dialect.with_range(tq, query.attrs)
        matching = dataclasses.replace(
            EntityQuery(), q=query.q, geo=query.geo, limit=query.limit, offset=query.offset
        )
        where.append(compile_where(matching, ranged))  # type: ignore[arg-type]
    in_range = series_rows("e.id", tq, dialect, query.attrs)
    where.append(f"EXISTS (SELECT 1 {in_range}{dialect.per_row})")
    matching_sql = f"FROM temporal_entities e WHERE {' AND '.join(where)}"
    counted = len(params.values)
    page = (
        f"SELECT {ENTITY_COLUMNS} {matching_sql} ORDER BY e.id"
        f" LIMIT {params.add(query.limit + 1)} OFFSET {params.add(query.offset)}"
    )
    return page, f"SELECT count(*) {matching_sql}", counted


def entity_by_id(entity_id: str, dialect: TemporalDialect) -> str:
    """The temporal entity record of one id."""
    key = dialect.params.add(entity_id)
    return (
        f"SELECT {ENTITY_COLUMNS} FROM temporal_entities e"
        f" WHERE e.tenant = {dialect.tenant} AND e.id = {key}"
    )


def _rows(
    entity_ids: Sequence[str],
    attrs: frozenset[str] | None,
    datasets: frozenset[str] | None,
    tq: TemporalQuery,
    dialect: TemporalDialect,
) -> str:
    """``FROM … WHERE …`` of the entities' instances in range (aliases ``s``, ``a``)."""
    if len(entity_ids) == 1:
        entities = f"s.entity_id = {dialect.params.add(entity_ids[0])}"
    else:
        entities = dialect.in_list("s.entity_id", list(entity_ids))
    parts = [f"s.tenant = {dialect.tenant}", entities]
    if attrs is not None:
        parts.append(dialect.in_list("s.attr", sorted(attrs)))
    if datasets is not None:
        parts.append(dialect.in_list("a.dataset_id", sorted(datasets)))
    parts.append(time_condition("a", tq, dialect.params))
    return (
        "FROM temporal_series s JOIN attribute_instances a ON a.series = s.id"
        f" WHERE {' AND '.join(parts)}"
    )


def instances(
    entity_ids: Sequence[str],
    attrs: frozenset[str] | None,
    datasets: frozenset[str] | None,
    tq: TemporalQuery,
    per_attribute: int,
    dialect: TemporalDialect,
) -> str:
    """The instances of the entities in range, at most ``per_attribute`` per entity,
    attribute and datasetId: the oldest, or with lastN the newest; returned oldest first.
    ``datasets``: only these datasetIds ('' is the default instance)."""
    column = TIME_COLUMNS[tq.timeproperty]
    direction = "DESC" if tq.last_n is not None else "ASC"
    rows = _rows(entity_ids, attrs, datasets, tq, dialect)
    limit = dialect.params.add(per_attribute)
    return (
        f"SELECT {INSTANCE_COLUMNS} FROM (SELECT s.entity_id, s.attr, a.instance,"
        f" a.dataset_id, a.{column} AS t, a.created_at, a.modified_at, a.deleted_at, a.doc,"
        " row_number() OVER (PARTITION BY a.series, a.dataset_id"
        f" ORDER BY a.{column} {direction}, a.instance {direction}) AS rn {rows}) r"
        f" WHERE rn <= {limit} ORDER BY entity_id, attr, t, instance"
    )


def time_span(
    entity_ids: Sequence[str],
    attrs: frozenset[str] | None,
    tq: TemporalQuery,
    dialect: TemporalDialect,
) -> str:
    """The oldest and newest time of the entities' instances in range."""
    column = TIME_COLUMNS[tq.timeproperty]
    rows = _rows(entity_ids, attrs, None, tq, dialect)
    return f"SELECT min(a.{column}), max(a.{column}) {rows}"


AGGREGATE_COLUMNS = (
    "entity_id, attr, dataset_id, bucket, total, distinct_values, numbers, number_sum,"
    " number_sumsq, number_min, number_max, text_min, text_max, first_t, last_t, kinds"
)


def aggregates(
    entity_ids: Sequence[str],
    attrs: frozenset[str] | None,
    datasets: frozenset[str] | None,
    tq: TemporalQuery,
    origin: int | None,
    period_micros: int | None,
    bounds: Sequence[int] | None,
    dialect: TemporalDialect,
) -> str:
    """One row per entity, attribute, datasetId and period: the sums every aggregation
    method is computed from (clause 4.5.19). The period is ``floor((t - origin) / period)``
    for a fixed duration, the index among ``bounds`` for a calendar one, and 0 (the whole
    range) for neither."""
    column = f"a.{TIME_COLUMNS[tq.timeproperty]}"
    params = dialect.params
    if bounds is not None:
        bucket = dialect.bucket_of_bounds(column, bounds)
    elif period_micros:
        assert origin is not None
        offset = f"({column} - {params.add(origin)})"
        size = params.add(period_micros)
        # Integer division truncates toward zero on both databases; periods before the
        # origin (timerel=before) need the floor.
        bucket = (
            f"(CASE WHEN {offset} >= 0 THEN {offset} / {size}"
            f" ELSE -((-{offset} + {size} - 1) / {size}) END)"
        )
    else:
        bucket = "0"
    rows = _rows(entity_ids, attrs, datasets, tq, dialect)
    return (
        f"SELECT s.entity_id, s.attr, a.dataset_id, {bucket} AS bucket, count(*) AS total,"
        f" count(DISTINCT {dialect.distinct_expr}) AS distinct_values, count(a.num) AS numbers,"
        " sum(a.num) AS number_sum, sum(a.num * a.num) AS number_sumsq,"
        " min(a.num) AS number_min, max(a.num) AS number_max, min(a.str) AS text_min,"
        f" max(a.str) AS text_max, min({column}) AS first_t, max({column}) AS last_t,"
        f" min({dialect.kind_expr}) AS kinds"
        f" {rows} GROUP BY s.entity_id, s.attr, a.dataset_id, bucket"
        " ORDER BY s.entity_id, s.attr, a.dataset_id, bucket"
    )
