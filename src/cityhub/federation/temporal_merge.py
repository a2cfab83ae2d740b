"""Temporal answers of several places merged into one (clauses 4.3.6.3, 5.7.3, 5.7.4).

Pure functions behind federation/temporal.py. A *place* is the local store or one context
source; each gives entity records and attribute instances in the hub's own shapes
(model/history.py), so the merged answer is rendered by the same code as a local one, in
every form (normalized, concise, temporalValues, aggregatedValues).

* **Reading** a source's normalized answer: entity members become a
  ``TemporalEntityRecord``, each attribute instance a :class:`SourcedInstance` (the
  instance in internal form, its time property in µs, the instanceId the source gave).
* **Union**: an instance several places hold (same entity, attribute, datasetId, instant of
  the time property and value) is kept once, the local store's first; then instances are
  ordered by time per attribute as the store orders them, and ``lastN`` keeps the newest N
  per attribute and datasetId of the union (each place sent its own newest N, so the
  newest N of all are among them).
* **Partial answers** (clause 6.3.10): a place that answered 206 holds more than it sent,
  up to its last instance (forwards) or from its oldest one (``lastN``, backwards); the
  union is complete only up to the nearest of those bounds and of the hub's own instance
  limit, so it is cut there and gets the ``Content-Range`` of what it covers.
* **Aggregation** (clause 4.5.19) of an entity several places hold: the sums the stores
  compute in SQL (storage/sql/temporal_sql.py ``aggregates``), computed here over the
  merged instances with the same periods, so both halves of a federation aggregate alike.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from cityhub.errors import NgsiLdError
from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import ATTRIBUTE_TYPES, ParseOptions, attribute_iri, parse_instance
from cityhub.model.entity import parse_types
from cityhub.model.history import AggregateRow, TemporalEntityRecord, TemporalInstance, aggregable
from cityhub.model.temporal_representation import Periods
from cityhub.model.values import check_scope, normalize_datetime
from cityhub.query.temporal import Aggregation, TemporalQuery, format_micros, stored_micros
from cityhub.services.temporal import calendar_bounds

_TOMBSTONES = ParseOptions(allow_null=True)  # deleted instances carry urn:ngsi-ld:null
_ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "deletedAt"})


@dataclass(slots=True)
class SourcedInstance(TemporalInstance):
    """An instance a context source sent, with the instanceId it gave (``label``) and the
    registration it came through (``source``)."""

    label: str = ""
    source: str = ""


def micros(text: Any) -> int | None:
    """A DateTime text as µs since the epoch; None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        return stored_micros(normalize_datetime(text, "DateTime"))
    except (NgsiLdError, ValueError):
        return None


# --- reading what a source sent ------------------------------------------------------------


def read_record(raw: dict[str, Any], tm: TermMap) -> TemporalEntityRecord | None:
    """The entity members of one temporal entity a source sent; None when it is no entity."""
    entity_id = raw.get("id")
    if not isinstance(entity_id, str) or "type" not in raw:
        return None
    try:
        types = parse_types(raw["type"], tm)
        scopes = check_scope(raw["scope"]) if "scope" in raw else None
    except NgsiLdError:
        return None
    created, modified = micros(raw.get("createdAt")), micros(raw.get("modifiedAt"))
    deleted = micros(raw.get("deletedAt"))
    return TemporalEntityRecord(
        entity_id,
        types,
        scopes,
        format_micros(created if created is not None else 0),
        format_micros(modified if modified is not None else created or 0),
        format_micros(deleted) if deleted is not None else None,
    )


def read_instances(
    raw: dict[str, Any], tm: TermMap, tq: TemporalQuery, source: str
) -> list[TemporalInstance]:
    """The attribute instances of one temporal entity a source sent in the normalized form;
    instances that are not valid, or lack the query's time property, are left out."""
    entity_id = str(raw.get("id"))
    found: list[TemporalInstance] = []
    for name, value in raw.items():
        if name in _ENTITY_MEMBERS or name.startswith("@"):
            continue
        try:
            iri = attribute_iri(name, tm)
        except NgsiLdError:
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                continue
            when = micros(item.get(tq.timeproperty))
            if when is None:
                continue
            try:
                doc = parse_instance(name, iri, item, tm, _TOMBSTONES)
            except NgsiLdError:
                continue
            created = micros(item.get("createdAt"))
            modified = micros(item.get("modifiedAt"))
            label = item.get("instanceId")
            found.append(
                SourcedInstance(
                    entity_id=entity_id,
                    attr=iri,
                    number=0,
                    dataset_id=doc.get("datasetId") or "",
                    time=when,
                    created_at=created if created is not None else when,
                    modified_at=modified if modified is not None else when,
                    deleted_at=micros(item.get("deletedAt")),
                    doc=doc,
                    label=label if isinstance(label, str) else "",
                    source=source,
                )
            )
    return found


def read_aggregated(raw: dict[str, Any], tm: TermMap) -> dict[str, Any]:
    """The attributes of one entity a source sent in the aggregated form, by name as sent
    (compacted with the request's own @context, so they are passed on unchanged)."""
    out = {}
    for name, value in raw.items():
        if name in _ENTITY_MEMBERS or name.startswith("@"):
            continue
        try:
            attribute_iri(name, tm)
        except NgsiLdError:
            continue
        out[name] = value
    return out


# --- merging ------------------------------------------------------------------------------


def merge_records(records: Sequence[TemporalEntityRecord]) -> TemporalEntityRecord:
    """One entity record from several places': types and scopes united (the first place's
    first), created at the earliest, modified at the latest, deleted only where every place
    has it deleted."""
    first = records[0]
    if len(records) == 1:
        return first
    types = list(dict.fromkeys(t for r in records for t in r.types))
    scopes = list(dict.fromkeys(s for r in records for s in r.scopes or ()))
    deleted = [r.deleted_at for r in records]
    return TemporalEntityRecord(
        first.entity_id,
        types,
        scopes or None,
        min((r.created_at for r in records), key=stored_micros),
        max((r.modified_at for r in records), key=stored_micros),
        None if None in deleted else max((d for d in deleted if d), key=stored_micros),
    )


def _value_key(instance: TemporalInstance) -> bytes:
    doc = instance.doc
    kind = doc.get("type", "Property")
    member = ATTRIBUTE_TYPES.get(kind, "value")
    return orjson.dumps([kind, doc.get(member)], option=orjson.OPT_SORT_KEYS)


def unite(places: Iterable[Iterable[TemporalInstance]]) -> list[TemporalInstance]:
    """The instances of every place (the preferred first), each instance once, ordered by
    entity, attribute and time (ties in the order of the places)."""
    seen: set[tuple[Any, ...]] = set()
    united: list[TemporalInstance] = []
    for instances in places:
        for instance in instances:
            key = (
                instance.entity_id,
                instance.attr,
                instance.dataset_id,
                instance.time,
                _value_key(instance),
            )
            if key not in seen:
                seen.add(key)
                united.append(instance)
    united.sort(key=lambda i: (i.entity_id, i.attr, i.time))
    return united


def keep_last(instances: list[TemporalInstance], last_n: int | None) -> list[TemporalInstance]:
    """The newest ``last_n`` instances per entity, attribute and datasetId (oldest first)."""
    if last_n is None:
        return instances
    groups: dict[tuple[str, str, str], list[TemporalInstance]] = {}
    for item in instances:
        groups.setdefault((item.entity_id, item.attr, item.dataset_id), []).append(item)
    kept = {id(i) for group in groups.values() for i in group[-last_n:]}
    return [i for i in instances if id(i) in kept]


def partial_bound(instances: Sequence[TemporalInstance], tq: TemporalQuery) -> int | None:
    """How far a partial answer is complete: its newest instance's time (forwards) or its
    oldest (lastN: backwards); None when it sent none."""
    if not instances:
        return None
    times = [i.time for i in instances]
    return min(times) if tq.last_n is not None else max(times)


def cut(
    instances: list[TemporalInstance], tq: TemporalQuery, limit: int, bounds: Sequence[int]
) -> tuple[list[TemporalInstance], str | None]:
    """The united instances cut to the range every place answered in full (``bounds``) and
    to the instance limit per attribute and datasetId, with the Content-Range of that range
    when anything was left out (as services/temporal.py ``_cut`` writes it)."""
    backward = tq.last_n is not None
    candidates = list(bounds)
    if not (backward and tq.last_n is not None and tq.last_n <= limit):
        groups: dict[tuple[str, str, str], list[TemporalInstance]] = {}
        for item in instances:
            groups.setdefault((item.entity_id, item.attr, item.dataset_id), []).append(item)
        for group in groups.values():
            if len(group) > limit:
                candidates.append(group[-limit].time if backward else group[limit - 1].time)
    if not candidates:
        return instances, None
    if backward:
        boundary = max(candidates)
        kept = [i for i in instances if i.time >= boundary]
        start = tq.end_time_at if tq.timerel == "between" else tq.time_at
        if tq.timerel not in {"before", "between"} or start is None:
            start = max((i.time for i in kept), default=boundary)
        size = str(tq.last_n)
    else:
        boundary = min(candidates)
        kept = [i for i in instances if i.time <= boundary]
        start = tq.time_at if tq.timerel in {"after", "between"} and tq.time_at else None
        if start is None:
            start = min((i.time for i in kept), default=boundary)
        size = "*"
    return kept, f"date-time {format_micros(start)}-{format_micros(boundary)}/{size}"


def label_instances(
    rendered: dict[str, Any], instances: Sequence[TemporalInstance], tm: TermMap
) -> None:
    """Give the rendered instances of sources the instanceIds the sources gave (the renderer
    writes the local store's; rendered attributes list instances in the order given). Two
    places number their instances independently: an instanceId already in the attribute
    gets the registration it came through as a fragment, so each stays unique."""
    if not any(isinstance(i, SourcedInstance) for i in instances):
        return
    by_attr: dict[str, list[TemporalInstance]] = {}
    for item in instances:
        by_attr.setdefault(item.attr, []).append(item)
    for attr, items in by_attr.items():
        shown = rendered.get(tm.compact(attr))
        if not isinstance(shown, list):
            continue
        pairs = list(zip(items, shown, strict=False))
        used = {
            str(out.get("instanceId")) for i, out in pairs if not isinstance(i, SourcedInstance)
        }
        for item, out in pairs:
            if isinstance(item, SourcedInstance):
                label = item.label or f"urn:ngsi-ld:Instance:{len(used)}"
                if label in used:
                    label = f"{label}#{item.source}"
                while label in used:
                    label += "-"
                used.add(label)
                out["instanceId"] = label


# --- aggregation of merged instances (clause 4.5.19) ---------------------------------------


def periods_of(
    instances: Sequence[TemporalInstance], tq: TemporalQuery, aggregation: Aggregation
) -> Periods | None:
    """The aggregation periods of one entity's instances, as services/temporal.py chooses
    them for the store (None: no instance, no period)."""
    period = aggregation.period
    if period.zero:
        return Periods(start=tq.start, end=tq.end)
    if tq.time_at is not None and not period.months:
        return Periods(origin=tq.time_at, period=period.micros)
    if not instances:
        return None
    first = min(i.time for i in instances)
    last = max(i.time for i in instances)
    origin = tq.time_at if tq.time_at is not None else first
    if period.months:
        return Periods(bounds=calendar_bounds(origin, first, last, aggregation))
    return Periods(origin=origin, period=period.micros)


def _bucket(time: int, periods: Periods) -> int:
    if periods.bounds is not None:
        return bisect.bisect_right(periods.bounds, time) - 1
    if periods.period and periods.origin is not None:
        return (time - periods.origin) // periods.period
    return 0


def aggregate(
    instances: Sequence[TemporalInstance], tq: TemporalQuery, aggregation: Aggregation
) -> tuple[list[AggregateRow], Periods | None]:
    """The per-period sums of one entity's instances, as the stores compute them (distinct
    values told apart by their canonical JSON, numbers by their value)."""
    periods = periods_of(instances, tq, aggregation)
    if periods is None:
        return [], None
    groups: dict[tuple[str, str, int], list[TemporalInstance]] = {}
    for item in instances:
        key = (item.attr, item.dataset_id, _bucket(item.time, periods))
        groups.setdefault(key, []).append(item)
    rows = []
    for (attr, dataset, bucket), items in sorted(groups.items()):
        numbers: list[float] = []
        texts: list[str] = []
        distinct: set[Any] = set()
        for item in items:
            kind = item.doc.get("type", "Property")
            value = item.doc.get(ATTRIBUTE_TYPES.get(kind, "value"))
            number, text = aggregable(kind, value)
            if number is not None:
                numbers.append(number)
            if text is not None:
                texts.append(text)
            plain = type(value) is int or type(value) is float
            distinct.add(
                ("n", number) if plain else ("j", orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
            )
        times = [i.time for i in items]
        rows.append(
            AggregateRow(
                entity_id=items[0].entity_id,
                attr=attr,
                dataset_id=dataset,
                bucket=bucket,
                total=len(items),
                distinct_values=len(distinct),
                numbers=len(numbers),
                number_sum=sum(numbers) if numbers else None,
                number_sumsq=sum(n * n for n in numbers) if numbers else None,
                number_min=min(numbers) if numbers else None,
                number_max=max(numbers) if numbers else None,
                text_min=min(texts) if texts else None,
                text_max=max(texts) if texts else None,
                first_t=min(times),
                last_t=max(times),
                kind=min(str(i.doc.get("type", "Property")) for i in items),
            )
        )
    return rows, periods
