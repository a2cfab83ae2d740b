"""What a change adds to an entity's temporal evolution (clauses 4.5.6–4.5.8).

Pure functions from an entity's state before and after a change to the attribute instances
the change recorded: one per instance created or changed (its modifiedAt moved), and a
tombstone per instance deleted (value ``urn:ngsi-ld:null`` and ``deletedAt``, clause 4.5.7).
Both stores write these rows in the transaction of the change itself, so the current state
and its history always commit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from cityhub.events import ChangeEvent
from cityhub.model.attributes import ATTRIBUTE_TYPES, NGSI_NULL, Instance
from cityhub.model.entity import Entity

INSTANCE_PREFIX = "urn:ngsi-ld:Instance:"


@dataclass(slots=True)
class HistoryRow:
    """One recorded attribute instance.

    ``number``: what sum/avg/min/max/stddev/sumsq aggregate (a number, a boolean as 1 or 0,
    an array's length), ``text``: a string value (lexicographic min/max), ``value``: the
    value's canonical JSON (distinctCount). Times are DateTime texts.
    """

    entity_id: str
    attr: str
    dataset_id: str  # "" for the default instance
    observed_at: str | None
    created_at: str
    modified_at: str
    deleted_at: str | None
    number: float | None
    text: str | None
    value: str | None  # None for a number: distinctCount counts ``number`` then
    doc: dict[str, Any]


@dataclass(slots=True)
class EntityMark:
    """The temporal entity's own record after a change (types and scope are the latest)."""

    entity_id: str
    types: list[str]
    scopes: list[str] | None
    created_at: str
    modified_at: str
    deleted_at: str | None


@dataclass(slots=True)
class TemporalEntityRecord:
    """An entity with a temporal evolution (clause 4.5.6): its latest types and scope, and
    when it was deleted while it is (DateTime texts)."""

    entity_id: str
    types: list[str]
    scopes: list[str] | None
    created_at: str
    modified_at: str
    deleted_at: str | None


@dataclass(slots=True)
class TemporalInstance:
    """One recorded attribute instance as a temporal query reads it; ``time`` is the
    query's time property, all times in microseconds since the epoch."""

    entity_id: str
    attr: str
    number: int
    dataset_id: str  # "" for the default instance
    time: int
    created_at: int
    modified_at: int
    deleted_at: int | None
    doc: dict[str, Any]


@dataclass(slots=True)
class AggregateRow:
    """The sums of one period of one attribute (and datasetId) of one entity, from which
    every aggregation method is computed (clause 4.5.19); times in microseconds."""

    entity_id: str
    attr: str
    dataset_id: str
    bucket: int
    total: int
    distinct_values: int
    numbers: int
    number_sum: float | None
    number_sumsq: float | None
    number_min: float | None
    number_max: float | None
    text_min: str | None
    text_max: str | None
    first_t: int
    last_t: int
    kind: str


def instance_id(number: int) -> str:
    return f"{INSTANCE_PREFIX}{number}"


def instance_number(text: str) -> int | None:
    """The stored number of an instanceId this hub made, or None."""
    if not text.startswith(INSTANCE_PREFIX):
        return None
    digits = text[len(INSTANCE_PREFIX) :]
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 19 else None


def aggregable(kind: str, value: Any) -> tuple[float | None, str | None]:
    """(number, text) of an instance's value for the aggregation methods (clause 4.5.19)."""
    if kind in {"Relationship", "ListRelationship"}:
        return None, None
    if isinstance(value, bool):
        return (1.0 if value else 0.0), None
    if isinstance(value, int | float):
        return float(value), None
    if isinstance(value, str):
        return None, value
    if isinstance(value, list) and kind in {"Property", "ListProperty"}:
        return float(len(value)), None
    return None, None


def row_of(
    entity_id: str,
    attr: str,
    instance: Instance,
    recorded: str,
    deleted_at: str | None = None,
) -> HistoryRow:
    """The history row of one instance as it is now (recorded at ``recorded``)."""
    kind = instance["type"]
    value = instance.get(ATTRIBUTE_TYPES.get(kind, "value"))
    number, text = aggregable(kind, value)
    plain_number = type(value) is int or type(value) is float
    # The instance as stored: readers take its system members from the row's columns.
    doc = (
        instance
        if "instanceId" not in instance
        else {k: v for k, v in instance.items() if k != "instanceId"}
    )
    return HistoryRow(
        entity_id=entity_id,
        attr=attr,
        dataset_id=instance.get("datasetId") or "",
        observed_at=instance.get("observedAt"),
        created_at=recorded,
        modified_at=recorded,
        deleted_at=deleted_at,
        number=number,
        text=text,
        value=None if plain_number else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode(),
        doc=doc,
    )


def tombstone(entity_id: str, attr: str, instance: Instance, when: str) -> HistoryRow:
    """The instance recorded when an attribute instance is deleted (clauses 4.5.7, 4.5.8)."""
    kind = instance["type"]
    member = ATTRIBUTE_TYPES.get(kind, "value")
    null: Any = {"@none": NGSI_NULL} if kind == "LanguageProperty" else NGSI_NULL
    doc: Instance = {"type": kind, member: null}
    if "datasetId" in instance:
        doc["datasetId"] = instance["datasetId"]
    return HistoryRow(
        entity_id=entity_id,
        attr=attr,
        dataset_id=instance.get("datasetId") or "",
        observed_at=None,
        created_at=when,
        modified_at=when,
        deleted_at=when,
        number=None,
        text=None,
        value=orjson.dumps(null, option=orjson.OPT_SORT_KEYS).decode(),
        doc=doc,
    )


def changed_rows(
    before: Entity | None, after: Entity | None, now: str, entity_id: str | None = None
) -> list[HistoryRow]:
    """The instances a change from ``before`` to ``after`` records, in attribute order.

    An instance is recorded when it is new or its modifiedAt moved (an update that sends
    the same value again is still a change the history shows); one that disappeared gets a
    tombstone at ``now``.
    """
    if before is None and after is None:
        return []
    entity_id = entity_id or (after or before or {})["id"]
    old = before or {}
    rows: list[HistoryRow] = []
    for attr, instances in (after or {}).items():
        if ":" not in attr:
            continue
        prior_list = old.get(attr)
        if (
            prior_list is not None
            and len(instances) == 1
            and len(prior_list) == 1
            and instances[0].get("datasetId") == prior_list[0].get("datasetId")
        ):
            # The usual shape, one instance before and after: compare without a lookup table.
            instance = instances[0]
            if prior_list[0].get("modifiedAt") != instance.get("modifiedAt"):
                rows.append(row_of(entity_id, attr, instance, instance.get("modifiedAt") or now))
            continue
        previous = {inst.get("datasetId"): inst for inst in prior_list or ()}
        for instance in instances:
            prior = previous.pop(instance.get("datasetId"), None)
            if prior is None or prior.get("modifiedAt") != instance.get("modifiedAt"):
                recorded = instance.get("modifiedAt") or now
                rows.append(row_of(entity_id, attr, instance, recorded))
        for gone in previous.values():
            rows.append(tombstone(entity_id, attr, gone, now))
    for attr, gone_instances in old.items():
        if ":" in attr and (after is None or attr not in after):
            rows.extend(tombstone(entity_id, attr, inst, now) for inst in gone_instances)
    return rows


def mark_of(event: ChangeEvent, now: str) -> EntityMark:
    """The temporal entity record after ``event``."""
    state = event.after or event.before or {}
    scopes = state.get("scope")
    return EntityMark(
        entity_id=event.entity_id,
        types=list(state.get("type", [])),
        scopes=list(scopes) if scopes else None,
        created_at=state.get("createdAt") or now,
        modified_at=(event.after or {}).get("modifiedAt") or now,
        deleted_at=now if event.after is None else None,
    )


def record_changes(event: ChangeEvent) -> bool:
    """Whether the change moves the temporal entity record: a creation, a deletion, new
    types or a new scope. Attribute updates leave it alone (the record exists from the
    entity's creation, or from the migration for entities stored before), which saves a
    write per change of the most common kind."""
    before, after = event.before, event.after
    return (
        before is None
        or after is None
        or before.get("type") != after.get("type")
        or before.get("scope") != after.get("scope")
    )


def creation(entity: Entity, now: str) -> tuple[list[EntityMark], list[HistoryRow]]:
    """The entity record and instances a newly created entity records."""
    event = ChangeEvent("", "entityCreated", entity["id"], None, entity)
    return [mark_of(event, now)], changed_rows(None, entity, now)


def history_of(
    events: Iterable[ChangeEvent], now: str
) -> tuple[list[EntityMark], list[HistoryRow]]:
    """Entity records and instance rows for the events a transaction committed (events a
    temporal provision made itself are left out: it records its own instances)."""
    marks: dict[str, EntityMark] = {}
    rows: list[HistoryRow] = []
    for event in events:
        if not event.historic or (event.before is None and event.after is None):
            continue
        if record_changes(event):
            marks[event.entity_id] = mark_of(event, now)
        rows.extend(changed_rows(event.before, event.after, now, event.entity_id))
    return list(marks.values()), rows
