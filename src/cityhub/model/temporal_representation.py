"""Temporal representations of entities: normalized (clauses 4.5.6-4.5.8), simplified
(``temporalValues``, clause 4.5.9) and aggregated (``aggregatedValues``, clause 4.5.19).

Input is what a temporal query read: the entity's record, its instances (oldest first) or
the per-period sums of them. Every attribute is an array of instances in the normalized
form, even with one instance, so clients index it the same way whatever the range held.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import ATTRIBUTE_TYPES
from cityhub.model.history import AggregateRow, TemporalEntityRecord, TemporalInstance, instance_id
from cityhub.model.representation import RenderOptions, render_instance, simple_value
from cityhub.query.temporal import Aggregation, TemporalQuery, format_micros, stored_micros

TEMPORAL_VALUES = "temporalValues"
AGGREGATED_VALUES = "aggregatedValues"
# The member of a simplified temporal attribute per attribute type (clause 4.5.9).
VALUES_MEMBERS = {
    "Property": "values",
    "GeoProperty": "values",
    "Relationship": "objects",
    "LanguageProperty": "languageMaps",
    "VocabProperty": "vocabs",
    "JsonProperty": "jsons",
    "ListProperty": "valueLists",
    "ListRelationship": "objectLists",
}


@dataclass(frozen=True)
class Periods:
    """Where each aggregation period starts and ends (clause 4.5.19): ``origin`` plus
    multiples of a fixed ``period`` (µs), the ``bounds`` of calendar periods, or for neither
    one period over the query's range (``start``/``end``, else the instances' own)."""

    origin: int | None = None
    period: int | None = None
    bounds: Sequence[int] | None = None
    start: int | None = None
    end: int | None = None

    def span(self, row: AggregateRow) -> tuple[int, int]:
        if self.bounds is not None:
            return self.bounds[row.bucket], self.bounds[row.bucket + 1]
        if self.period and self.origin is not None:
            start = self.origin + row.bucket * self.period
            return start, start + self.period
        return (
            self.start if self.start is not None else row.first_t,
            self.end if self.end is not None else row.last_t,
        )


def entity_head(
    record: TemporalEntityRecord,
    tm: TermMap,
    options: RenderOptions,
    newest_change: int | None = None,
) -> dict[str, Any]:
    """id, type, scope and (sysAttrs) createdAt/modifiedAt/deletedAt of a temporal entity.

    The record moves only with the entity's types, scope and deletion; ``newest_change``
    (µs), the latest modifiedAt among the instances shown, is its modifiedAt when later."""
    out: dict[str, Any] = {}
    if options.keep_id:
        out["id"] = record.entity_id
    if options.keep_type:
        types = [tm.compact(t) for t in record.types]
        out["type"] = types[0] if len(types) == 1 else types
    if record.scopes:
        out["scope"] = record.scopes[0] if len(record.scopes) == 1 else record.scopes
    if options.sys_attrs:
        out["createdAt"] = record.created_at
        out["modifiedAt"] = record.modified_at
        if newest_change is not None and newest_change > stored_micros(record.modified_at):
            out["modifiedAt"] = format_micros(newest_change)
        if record.deleted_at is not None:
            out["deletedAt"] = record.deleted_at
    return out


def _grouped(items: Sequence[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def render_normalized(
    instances: Sequence[TemporalInstance],
    tm: TermMap,
    options: RenderOptions,
    tq: TemporalQuery,
) -> dict[str, Any]:
    """Attributes as arrays of instances (normalized, or concise without the types the
    value members imply), each with its instanceId, the query's time property and
    (sysAttrs) its own createdAt/modifiedAt/deletedAt."""
    plain = RenderOptions(form=options.form, lang=options.lang)
    out: dict[str, Any] = {}
    for attr, items in _grouped(instances, lambda i: i.attr).items():
        rendered = []
        for item in items:
            instance = render_instance(item.doc, tm, plain)
            instance["instanceId"] = instance_id(item.number)
            if tq.timeproperty != "observedAt":
                instance[tq.timeproperty] = format_micros(item.time)
            if options.sys_attrs:
                instance["createdAt"] = format_micros(item.created_at)
                instance["modifiedAt"] = format_micros(item.modified_at)
            if item.deleted_at is not None:
                instance["deletedAt"] = format_micros(item.deleted_at)
            rendered.append(instance)
        out[tm.compact(attr)] = rendered
    return out


def _per_dataset(
    rows: Sequence[Any], build: Callable[[str, str, list[Any]], dict[str, Any]]
) -> Any:
    """One object per datasetId of an attribute; an array when there are several."""
    objects = [
        build(dataset, kind, items)
        for (dataset, kind), items in _grouped(rows, lambda r: (r.dataset_id, _kind(r))).items()
    ]
    return objects[0] if len(objects) == 1 else objects


def _kind(row: Any) -> str:
    if isinstance(row, AggregateRow):
        return row.kind
    kind: str = row.doc.get("type", "Property")
    return kind


def render_simplified(
    instances: Sequence[TemporalInstance], tm: TermMap, options: RenderOptions
) -> dict[str, Any]:
    """``{"type": "Property", "values": [[value, time], …]}`` per attribute and dataset."""
    plain = RenderOptions(lang=options.lang)

    def build(dataset: str, kind: str, items: list[TemporalInstance]) -> dict[str, Any]:
        obj: dict[str, Any] = {"type": kind}
        if dataset:
            obj["datasetId"] = dataset
        obj[VALUES_MEMBERS.get(kind, "values")] = [
            [_temporal_value(i.doc, kind, tm, plain), format_micros(i.time)] for i in items
        ]
        return obj

    return {
        tm.compact(attr): _per_dataset(items, build)
        for attr, items in _grouped(instances, lambda i: i.attr).items()
    }


def _temporal_value(doc: dict[str, Any], kind: str, tm: TermMap, options: RenderOptions) -> Any:
    if kind == "ListRelationship":
        return [item.get("object") for item in doc.get(ATTRIBUTE_TYPES[kind], [])]
    return simple_value(doc, tm, options)


def method_value(row: AggregateRow, method: str) -> Any:
    """One aggregation method's value over one period (clause 4.5.19); None where the
    method does not apply to the values (avg of strings, sum of relationships)."""
    n = row.numbers
    if method == "totalCount":
        return row.total
    if method == "distinctCount":
        return row.distinct_values
    if method == "min":
        return row.number_min if n else row.text_min
    if method == "max":
        return row.number_max if n else row.text_max
    if not n:
        return None
    assert row.number_sum is not None and row.number_sumsq is not None
    if method == "sum":
        return row.number_sum
    if method == "avg":
        return row.number_sum / n
    if method == "sumsq":
        return row.number_sumsq
    if method == "stddev":  # sample standard deviation: none for a single value
        if n < 2:
            return None
        variance = (row.number_sumsq - row.number_sum * row.number_sum / n) / (n - 1)
        return math.sqrt(max(variance, 0.0))
    raise ValueError(method)


def render_aggregated(
    rows: Sequence[AggregateRow], tm: TermMap, aggregation: Aggregation, periods: Periods
) -> dict[str, Any]:
    """``{"type": "Property", "avg": [[value, start, end], …], …}`` per attribute and
    dataset; periods without instances are left out."""

    def build(dataset: str, kind: str, items: list[AggregateRow]) -> dict[str, Any]:
        obj: dict[str, Any] = {"type": kind}
        if dataset:
            obj["datasetId"] = dataset
        spans = [periods.span(row) for row in items]
        for method in aggregation.methods:
            obj[method] = [
                [method_value(row, method), format_micros(start), format_micros(end)]
                for row, (start, end) in zip(items, spans, strict=True)
            ]
        return obj

    return {
        tm.compact(attr): _per_dataset(items, build)
        for attr, items in _grouped(rows, lambda r: r.attr).items()
    }
