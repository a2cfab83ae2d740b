"""The storage protocol: domain-shaped operations every backend implements identically.

A write happens inside ``Store.transaction(tenant)``, which yields a UnitOfWork: every entity
read through it is locked for the rest of the transaction, and nothing is visible to others
until it commits. Change events collected on the UnitOfWork are published after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from cityhub.events import ChangeEvent, EventBus
from cityhub.model.history import (
    AggregateRow,
    EntityMark,
    HistoryRow,
    TemporalEntityRecord,
    TemporalInstance,
)
from cityhub.query.ast import EntityQuery
from cityhub.query.temporal import TemporalQuery

Entity = dict[str, Any]
DEFAULT_TENANT = ""


@dataclass
class ContextRecord:
    """A JSON-LD @context known to the hub (clause 5.13.2 ``jsonldContexts`` entry)."""

    local_id: str
    url: str
    kind: str  # hosted | cached | implicitlyCreated
    body: dict[str, Any]
    created_at: str
    last_usage: str | None = None
    hits: int = 0


class QueryResult:
    """One page of a Query Entities answer (clause 5.7.2), ordered by entity id; ``total`` is
    the number of all matching entities when it was asked for (count=true).

    The page holds the stored documents as the database gave them (JSON text): a query
    answer is often served from rendered entities kept from earlier answers (api/queries.py),
    keyed by that text, and then never needs parsing. ``entities`` parses on first use.
    """

    __slots__ = ("_entities", "docs", "more", "total")

    def __init__(
        self, docs: Sequence[bytes | str], total: int | None = None, more: bool = False
    ) -> None:
        self.docs = list(docs)
        self.total = total
        self.more = more  # whether entities follow this page
        self._entities: list[Entity] | None = None

    @property
    def entities(self) -> list[Entity]:
        if self._entities is None:
            self._entities = [orjson.loads(doc) for doc in self.docs]
        return self._entities


@dataclass
class EntityTypeDetails:
    """What the entities of one type hold (clauses 5.2.25, 5.2.26), all names as IRIs.

    ``attributes`` maps each attribute IRI found on entities of the type to the attribute
    types of its instances (``["Property", "Relationship"]``), both in code point order.
    """

    type_iri: str
    entity_count: int
    attributes: dict[str, list[str]]


@dataclass
class AttributeDetails:
    """One attribute across a tenant's entities (clause 5.2.28), all names as IRIs.

    ``instance_count`` counts attribute instances (every datasetId of a multi-attribute);
    ``attribute_types`` and ``entity_types`` are in code point order.
    """

    attribute_iri: str
    instance_count: int
    attribute_types: list[str]
    entity_types: list[str]


@dataclass
class SubscriptionRecord:
    """A stored subscription (model/subscriptions.py stored form) and what its deliveries
    recorded (clause 5.2.14 status members)."""

    doc: dict[str, Any]
    created_at: str
    modified_at: str
    times_sent: int = 0
    times_failed: int = 0
    last_notification: str | None = None
    last_success: str | None = None
    last_failure: str | None = None
    last_status: str | None = None


@dataclass
class OutboxItem:
    """One notification to deliver, written in the transaction of the change behind it."""

    subscription_id: str
    trigger: str
    entity_id: str
    payload: dict[str, Any]  # {"after": entity or None, "before": entity or None}
    created_at: str


@dataclass
class PendingNotification:
    """An outbox row claimed for delivery (its lease ends at ``claimed_until``)."""

    id: int
    tenant: str
    subscription_id: str
    trigger: str
    entity_id: str
    payload: dict[str, Any]
    created_at: str
    attempts: int
    claimed_until: float = 0.0  # the lease this worker holds; every later step checks it


@dataclass
class DeadLetter:
    """Input an ingestion path could not store (clause-free: CityHub's own), kept with the
    reason and the raw input for an operator to inspect."""

    tenant: str
    source: str  # where it came from, e.g. "mqtt:/4jggokg/sensor01/attrs"
    reason: str
    raw: str
    received_at: str
    id: int = 0


@dataclass
class RegistrationRecord:
    """A stored context source registration (model/registrations.py stored form) and what
    distributed operations through it recorded (clause 5.2.9 status members)."""

    doc: dict[str, Any]
    created_at: str
    modified_at: str
    times_sent: int = 0
    times_failed: int = 0
    last_success: str | None = None
    last_failure: str | None = None
    last_status: str | None = None


@dataclass
class CsourceOutboxItem:
    """One CsourceNotification to deliver (clause 5.3.2), queued with the change behind it:
    ``payload`` is ``{"triggerReason", "registrations": [{"doc", "createdAt",
    "modifiedAt"}]}`` with stored registrations."""

    subscription_id: str
    payload: dict[str, Any]
    created_at: str


@dataclass
class PendingCsourceNotification:
    """A queued CsourceNotification claimed for delivery, with its subscription's document
    and last notification time (for throttling)."""

    id: int
    tenant: str
    subscription_id: str
    payload: dict[str, Any]
    created_at: str
    attempts: int
    claimed_until: float
    subscription: dict[str, Any]
    last_notification: str | None = None


class UnitOfWork(Protocol):
    """One write transaction on one tenant."""

    events: list[ChangeEvent]

    async def get(self, entity_id: str) -> Entity | None:
        """The entity, locked until commit, or None."""
        ...

    async def get_many(self, entity_ids: Sequence[str]) -> dict[str, Entity]:
        """The existing entities among the ids, locked until commit."""
        ...

    async def insert(self, entities: Sequence[Entity]) -> list[str]:
        """Insert new entities; returns the ids that existed already (not inserted)."""
        ...

    async def update(self, entities: Sequence[Entity]) -> None:
        """Store the new state of existing entities."""
        ...

    async def delete(self, entity_ids: Sequence[str]) -> list[str]:
        """Delete entities; returns the ids that were deleted."""
        ...

    async def subscriptions_version(self) -> int:
        """The tenant's subscription version as this transaction sees it."""
        ...

    async def subscription_docs(self) -> list[dict[str, Any]]:
        """Every subscription of the tenant, as this transaction sees them."""
        ...

    async def add_notifications(self, items: Sequence[OutboxItem]) -> None:
        """Queue notifications; they become deliverable when this transaction commits."""
        ...

    # --- temporal evolution (clauses 5.6.11-5.6.16) --------------------------------------

    async def temporal_entity(self, entity_id: str) -> TemporalEntityRecord | None:
        """The entity's temporal record, or None when it has no temporal evolution."""
        ...

    async def add_history(self, marks: Sequence[EntityMark], rows: Sequence[HistoryRow]) -> None:
        """Record entity records and attribute instances (model/history.py)."""
        ...

    async def delete_history(self, entity_id: str) -> bool:
        """Remove an entity's whole temporal evolution; False when it had none."""
        ...

    async def delete_attribute_history(
        self, entity_id: str, attr: str, dataset_id: str | None
    ) -> int:
        """Remove an attribute's instances of one dataset ('' the default), or all (None)."""
        ...

    async def find_instance(self, entity_id: str, attr: str, number: int) -> tuple[str, int] | None:
        """(datasetId, createdAt in µs) of a recorded instance, or None."""
        ...

    async def replace_instance(self, number: int, row: HistoryRow) -> None:
        """New content for a recorded instance; it keeps its number and createdAt."""
        ...

    async def delete_instance(self, entity_id: str, attr: str, number: int) -> bool: ...


class CommitHook(Protocol):
    """What a store calls around each write transaction (notifications/planner.py)."""

    def quiet_version(self, tenant: str) -> int | None:
        """The tenant's subscription version at which it is known to have no subscription
        (0 when nothing is known yet), or None when it has some. A write that finds the
        tenant at this version may skip ``before_commit`` (the single-statement create)."""
        ...

    async def before_commit(self, tenant: str, uow: UnitOfWork) -> None:
        """Runs inside the transaction, after its changes, when it has change events."""
        ...


class Store(Protocol):
    """A backend: entities per tenant, the tenant list and the @context registry."""

    backend: str
    events: EventBus

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def migrate(self) -> list[str]:
        """Apply pending schema migrations; returns the names applied."""
        ...

    def transaction(self, tenant: str) -> AbstractAsyncContextManager[UnitOfWork]:
        """A write transaction; the tenant is created on first write."""
        ...

    async def create_one(self, tenant: str, entity: Entity, event: ChangeEvent) -> bool:
        """Insert one new entity in a transaction of its own (one round trip where the
        backend allows); False when the id exists. ``event`` is published after commit."""
        ...

    commit_hook: CommitHook | None
    """Called inside each write transaction that changed entities, before it commits."""

    async def tenant_exists(self, tenant: str) -> bool: ...

    async def tenants(self) -> list[str]: ...

    async def types_version(self, tenant: str, types: list[str]) -> tuple[int, str]:
        """How many entities of these (expanded) types the tenant holds and their latest
        ``modifiedAt``: it changes with every create, update and delete of such an entity,
        so a reader can keep what it derived from them until it does (the dashboard's
        layers)."""
        ...

    record_history: bool
    """Whether write transactions record the temporal evolution of what they change."""

    # --- temporal evolution (clauses 5.7.3, 5.7.4), storage/sql/temporal_sql.py -------------

    async def temporal_entity(self, tenant: str, entity_id: str) -> TemporalEntityRecord | None: ...

    async def temporal_page(
        self, tenant: str, query: EntityQuery, tq: TemporalQuery, *, count: bool = False
    ) -> tuple[list[TemporalEntityRecord], int | None, bool]:
        """A page of the entities with instances in range matching ``query`` (in id order),
        the total when counted, and whether more follow."""
        ...

    async def temporal_instances(
        self,
        tenant: str,
        entity_ids: Sequence[str],
        attrs: frozenset[str] | None,
        datasets: frozenset[str] | None,
        tq: TemporalQuery,
        per_attribute: int,
    ) -> list[TemporalInstance]:
        """Instances in range, at most ``per_attribute`` per entity, attribute and dataset
        (the newest with lastN, else the oldest), oldest first."""
        ...

    async def temporal_span(
        self,
        tenant: str,
        entity_ids: Sequence[str],
        attrs: frozenset[str] | None,
        tq: TemporalQuery,
    ) -> tuple[int | None, int | None]:
        """The oldest and newest time of the entities' instances in range (µs)."""
        ...

    async def temporal_aggregates(
        self,
        tenant: str,
        entity_ids: Sequence[str],
        attrs: frozenset[str] | None,
        datasets: frozenset[str] | None,
        tq: TemporalQuery,
        origin: int | None,
        period_micros: int | None,
        bounds: Sequence[int] | None,
    ) -> list[AggregateRow]:
        """Per entity, attribute, dataset and period, the sums of the instances in range."""
        ...

    async def history_tenants(self) -> list[str]:
        """Tenants that have a temporal evolution."""
        ...

    async def prune_history(self, tenant: str, before: int) -> int:
        """Delete the tenant's instances recorded before ``before`` (µs) in small
        transactions, so writes go on between them; returns how many."""
        ...

    async def drop_history_before(self, before: int) -> int:
        """Drop whole stored periods recorded before ``before`` for every tenant where the
        store keeps them apart (PostgreSQL partitions); returns how many were dropped."""
        ...

    async def get_entity(self, tenant: str, entity_id: str) -> Entity | None:
        """Read one entity outside any transaction."""
        ...

    async def get_entity_text(self, tenant: str, entity_id: str) -> bytes | None:
        """One entity's stored JSON text, unparsed (Retrieve Entity compares it with the
        text behind a response it sent before, and parses it only when they differ)."""
        ...

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, count: bool = False, ids_only: bool = False
    ) -> QueryResult:
        """Entities matching every filter of ``query``, compiled to SQL (storage/sql).
        ``ids_only``: each doc is just ``{"id": …}``, no document is read (``pick=id``, what
        a federating hub asks to find a deep page's entities)."""
        ...

    async def put_context(self, record: ContextRecord) -> None: ...

    async def get_context(self, local_id: str) -> ContextRecord | None: ...

    async def get_context_by_url(self, url: str) -> ContextRecord | None: ...

    async def list_contexts(self, kind: str | None = None) -> list[ContextRecord]: ...

    async def delete_context(self, local_id: str) -> bool: ...

    async def touch_context(self, local_id: str, when: str) -> None: ...

    # --- subscriptions (clause 5.8) ------------------------------------------------------

    async def create_subscription(self, tenant: str, doc: dict[str, Any], now: str) -> bool:
        """Store a new subscription (its tenant is created too); False when the id exists."""
        ...

    async def get_subscription(self, tenant: str, sub_id: str) -> SubscriptionRecord | None: ...

    async def list_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> list[SubscriptionRecord]:
        """One page of the tenant's subscriptions, oldest first (then by id)."""
        ...

    async def count_subscriptions(self, tenant: str) -> int: ...

    async def replace_subscription(
        self, tenant: str, doc: dict[str, Any], now: str, expected_modified_at: str
    ) -> bool:
        """Store a subscription's new state if it was not modified since
        ``expected_modified_at`` (optimistic concurrency); False otherwise."""
        ...

    async def delete_subscription(self, tenant: str, sub_id: str) -> bool:
        """Delete a subscription and the notifications still queued for it."""
        ...

    async def subscriptions_version(self, tenant: str) -> int: ...

    # --- notification outbox -----------------------------------------------------------

    async def claim_notifications(
        self, limit: int, lease_seconds: float, now: float
    ) -> list[PendingNotification]:
        """Due, unclaimed notifications (oldest first), leased to the caller."""
        ...

    async def notifications_delivered(
        self, delivered: Sequence[tuple[PendingNotification, str]]
    ) -> None:
        """Drop delivered notifications (each with the time it was sent) and record the
        successes on their subscriptions, in one transaction. Rows whose lease is no longer
        the caller's are left alone."""
        ...

    async def renew_notification(self, item: PendingNotification, until: float) -> bool:
        """Extend the caller's lease on a claimed row to ``until``; False when the row is no
        longer the caller's (its lease ran out and another claim took it, or it is gone)."""
        ...

    async def subscriptions_by_key(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The documents of the given (tenant, id) subscriptions that exist."""
        ...

    async def notification_failed(
        self, item: PendingNotification, when: str, retry_at: float | None
    ) -> None:
        """Record a failed attempt; try again at ``retry_at`` (None: give up, drop it).
        Nothing happens when the row is no longer the caller's."""
        ...

    async def discard_notification(self, item: PendingNotification) -> None:
        """Drop a notification unsent (throttled), without counting it."""
        ...

    async def queue_notifications(self, tenant: str, items: Sequence[OutboxItem]) -> None:
        """Queue notifications outside any entity change (periodic ones)."""
        ...

    async def pass_throttle(self, tenant: str, sub_id: str, now: str, since: str) -> bool:
        """Whether a throttled subscription may notify now: its last notification was at or
        before ``since``; then ``now`` becomes its last notification (one winner)."""
        ...

    async def claim_periodic(self, now: float, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """(tenant, subscription) of periodic subscriptions due at ``now``; each is moved on
        by its timeInterval, so one worker gets it."""
        ...

    # --- live feed (urn:cityhub:sse endpoints) --------------------------------------------

    async def append_feed(
        self, tenant: str, sub_id: str, body: dict[str, Any], keep_seconds: float
    ) -> None:
        """Add a notification to the subscription's live feed; drop ones older than
        ``keep_seconds``."""
        ...

    async def newest_feed_id(self, tenant: str, sub_id: str) -> int: ...

    async def read_feed(
        self, tenant: str, sub_id: str, after: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        """(id, notification) of the feed rows after ``after``, oldest first."""
        ...

    async def wait_for_feed(self, timeout: float) -> None:
        """Return when a feed may have grown (in any worker), or on timeout."""
        ...

    async def release_notifications(
        self, items: Sequence[PendingNotification], retry_at: float
    ) -> None:
        """Give claimed notifications back unsent (not counted as attempts), due at
        ``retry_at``."""
        ...

    async def wait_for_notifications(self, timeout: float) -> None:
        """Return when notifications may have been queued (by any worker), or on timeout."""
        ...

    # --- IoT device provisioning and dead letters (storage/*/iot.py) ----------------------

    async def put_iot_service(self, tenant: str, service: dict[str, Any], now: str) -> bool:
        """Store a service group; False when its API key is taken (in any tenant)."""
        ...

    async def iot_services(self, tenant: str) -> list[dict[str, Any]]: ...

    async def iot_service(self, apikey: str) -> tuple[str, dict[str, Any]] | None:
        """(tenant, service group) of an API key, or None."""
        ...

    async def delete_iot_service(self, tenant: str, apikey: str) -> bool:
        """Delete a service group and its devices."""
        ...

    async def put_iot_devices(
        self, tenant: str, devices: Sequence[dict[str, Any]], now: str
    ) -> list[str]:
        """Store every device, or none: returns the device ids the tenant has already."""
        ...

    async def iot_device(self, apikey: str, device_id: str) -> tuple[str, dict[str, Any]] | None:
        """(tenant, device) of a topic's API key and device id, or None."""
        ...

    async def iot_device_of(self, tenant: str, device_id: str) -> dict[str, Any] | None:
        """A device of the tenant by its id, or None."""
        ...

    async def iot_devices(self, tenant: str, limit: int, offset: int) -> list[dict[str, Any]]: ...

    async def count_iot_devices(self, tenant: str) -> int: ...

    async def delete_iot_device(self, tenant: str, device_id: str) -> bool: ...

    async def add_dead_letters(self, items: Sequence[DeadLetter]) -> None: ...

    async def dead_letters(self, tenant: str, limit: int, offset: int) -> list[DeadLetter]:
        """The tenant's dead letters, newest first."""
        ...

    async def count_dead_letters(self, tenant: str) -> int: ...

    # --- EntityMaps (clause 5.14), kept for every worker -------------------------------------

    async def put_entity_map(
        self, tenant: str, map_id: str, expires_at: float, doc: str, now: float
    ) -> None:
        """Keep (or replace) an EntityMap until ``expires_at`` (epoch seconds); maps expired
        by ``now`` are dropped on the way."""
        ...

    async def get_entity_map(self, tenant: str, map_id: str, now: float) -> str | None:
        """The map's JSON text while it has not expired, else None."""
        ...

    async def delete_entity_map(self, tenant: str, map_id: str) -> bool: ...

    # --- scheduled feeds (ingest/feeds/scheduler.py) --------------------------------------

    async def claim_feed_run(self, feed: str, now: float, until: float) -> bool:
        """Take the lease to run ``feed`` now when nobody holds it after ``now`` (epoch
        seconds); True for exactly one of the workers asking at once."""
        ...

    async def record_feed_run(self, feed: str, report: str) -> None:
        """Keep the JSON report of the feed's last run."""
        ...

    async def feed_run_reports(self) -> dict[str, str]:
        """Each feed's last report (JSON text), by feed name."""
        ...

    # --- discovery (clauses 5.7.5–5.7.10), computed in SQL over the current entities ---------

    async def entity_types(self, tenant: str) -> list[str]:
        """The type IRIs of the tenant's entities, in code point order."""
        ...

    async def entity_type_details(
        self, tenant: str, type_iri: str | None = None
    ) -> list[EntityTypeDetails]:
        """Each entity type of the tenant (only ``type_iri`` when given; then [] when no
        entity has it), in type IRI order."""
        ...

    async def attribute_names(self, tenant: str) -> list[str]:
        """The attribute IRIs the tenant's entities hold, in code point order."""
        ...

    async def attribute_details(
        self, tenant: str, attr_iri: str | None = None
    ) -> list[AttributeDetails]:
        """Each attribute of the tenant's entities (only ``attr_iri`` when given; then []
        when no entity holds it), in attribute IRI order."""
        ...

    # --- context source registrations and their subscriptions (clauses 5.9-5.11, 5.15) -----
    # Each write names the tenant's csource version it was computed at: it is refused
    # ("stale") when another write moved the version since, else it moves it and queues its
    # notifications in the same transaction (storage/*/registrations.py).

    async def csource_version(self, tenant: str) -> int: ...

    async def insert_registration(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        """Outcome "created" (its tenant is created too), "exists" (the id is taken) or "stale"."""
        ...

    async def replace_registration(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        """Outcome "done", "missing" or "stale"."""
        ...

    async def delete_registration(
        self, tenant: str, reg_id: str, version: int, notes: Sequence[CsourceOutboxItem]
    ) -> str:
        """Outcome "done", "missing" or "stale"."""
        ...

    async def get_registration(self, tenant: str, reg_id: str) -> RegistrationRecord | None: ...

    async def registration_records(self, tenant: str) -> list[RegistrationRecord]:
        """Every registration of the tenant, oldest first (then by id)."""
        ...

    async def registrations(self, tenant: str) -> list[dict[str, Any]]:
        """Every registration document of the tenant (the distributed-operation planner's
        view), oldest first."""
        ...

    async def record_registration_outcome(
        self, tenant: str, reg_id: str, ok: bool, when: str
    ) -> None:
        """Count a distributed operation through the registration (timesSent, timesFailed,
        lastSuccess, lastFailure, status)."""
        ...

    async def insert_csource_subscription(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        """Outcome "created", "exists" or "stale"."""
        ...

    async def replace_csource_subscription(
        self,
        tenant: str,
        doc: dict[str, Any],
        now: str,
        version: int,
        notes: Sequence[CsourceOutboxItem],
    ) -> str:
        """Outcome "done", "missing" or "stale"."""
        ...

    async def delete_csource_subscription(self, tenant: str, sub_id: str, version: int) -> str:
        """Outcome "done" (its queued notifications go too), "missing" or "stale"."""
        ...

    async def get_csource_subscription(
        self, tenant: str, sub_id: str
    ) -> SubscriptionRecord | None: ...

    async def list_csource_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> list[SubscriptionRecord]:
        """One page of the tenant's registration subscriptions, oldest first (then by id)."""
        ...

    async def count_csource_subscriptions(self, tenant: str) -> int: ...

    async def csource_subscription_docs(self, tenant: str) -> list[dict[str, Any]]: ...

    async def claim_csource_notifications(
        self, limit: int, lease_seconds: float, now: float
    ) -> list[PendingCsourceNotification]:
        """Due queued notifications, each the oldest its subscription has, leased to the
        caller (so each subscription's notifications go out in order)."""
        ...

    async def csource_notification_done(
        self, item: PendingCsourceNotification, when: str, ok: bool, retry_at: float | None
    ) -> None:
        """Record an attempt on the subscription; drop the row when it was delivered or
        ``retry_at`` is None, else make it due again then. Nothing happens when the row is no
        longer the caller's."""
        ...

    async def postpone_csource_notification(
        self, item: PendingCsourceNotification, until: float
    ) -> None:
        """Give a claimed row back unsent and uncounted, due at ``until`` (throttling)."""
        ...

    async def csource_outbox_due(self) -> float | None:
        """When a queued notification may next be claimable (epoch seconds), None when none
        is queued."""
        ...

    async def source_identity(self) -> str:
        """The hub's ``urn:ngsi-ld:ContextSourceIdentity:…`` id, made once and kept."""
        ...
