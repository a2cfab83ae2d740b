"""Context Source Registration management and discovery (clauses 5.9, 5.10) and the hub's own
identity as a context source (clause 5.15).

Parsing and the member rules live in model/registrations.py, matching in
model/registration_match.py; this service adds what needs the store: ids that must be new,
registrations that must exist, the rules between registrations and with the hub's own
entities (clause 4.3.6.3), tenants, pagination, and the CsourceNotifications a change causes.

Every write reads the tenant's csource version first, computes the change and its
notifications against what it then reads, and commits only if the version did not move in
between (otherwise it starts again), so concurrent writers on any worker never commit
notifications computed from a state that is no longer true.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cityhub import __version__
from cityhub.errors import (
    AlreadyExists,
    BadRequestData,
    Conflict,
    ResourceNotFound,
    TooManyResults,
)
from cityhub.jsonld.termmap import TermMap
from cityhub.model.csource_subscriptions import (
    NO_LONGER_MATCHING,
    compile_csource_subscription,
    relevant_part,
    trigger_reason,
)
from cityhub.model.registration_match import (
    RegistrationFilter,
    proxied_conflict,
    registration_matches,
)
from cityhub.model.registrations import (
    Registration,
    attribute_names,
    entity_info_types,
    merge_registration,
    parse_registration,
)
from cityhub.model.values import format_datetime, now_iso, require_uri
from cityhub.notifications.csource_delivery import CsourceNotifier
from cityhub.notifications.planner import ContextResolver
from cityhub.query.ast import EntityQuery, TypeAny, TypeName
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import DEFAULT_TENANT, CsourceOutboxItem, RegistrationRecord, Store

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 20
PROCESS_STARTED = time.monotonic()  # this module loads as the hub process starts


@dataclass(frozen=True)
class State:
    """A registration as a change found or left it, with its system times."""

    doc: Registration
    created_at: str
    modified_at: str


class RegistrationService:
    def __init__(
        self, store: Store, contexts: ContextResolver, notifier: CsourceNotifier, *, max_limit: int
    ) -> None:
        self.store = store
        self.contexts = contexts
        self.notifier = notifier
        self.max_limit = max_limit

    async def create(self, tenant: str, body: Any, tm: TermMap, context: Any) -> str:
        """Register Context Source (5.9.2): the new id. AlreadyExists (409) for a used id,
        Conflict (409) where clause 4.3.6.3 forbids the registration."""
        reg = parse_registration(body, tm, context, now=datetime.now(UTC))
        for _ in range(WRITE_ATTEMPTS):
            version = await self.store.csource_version(tenant)
            others = await self.store.registration_records(tenant)
            if any(record.doc["id"] == reg["id"] for record in others):
                raise AlreadyExists(f"Registration {reg['id']} already exists")
            await self._check_coexistence(tenant, reg, others)
            now = now_iso()
            notes = await registration_changes(
                self.store, self.contexts, tenant, None, State(reg, now, now)
            )
            outcome = await self.store.insert_registration(tenant, reg, now, version, notes)
            if outcome == "exists":
                raise AlreadyExists(f"Registration {reg['id']} already exists")
            if outcome == "created":
                self._kick(notes)
                return str(reg["id"])
        raise Conflict(f"Registration {reg['id']} could not be created: retry")

    async def retrieve(self, tenant: str, reg_id: str) -> RegistrationRecord:
        """Retrieve Context Source Registration (5.10.1); ResourceNotFound (404)."""
        require_uri(reg_id, "Registration id")
        await require_tenant(self.store, tenant)
        record = await self.store.get_registration(tenant, reg_id)
        if record is None:
            raise ResourceNotFound(f"Registration {reg_id} does not exist")
        return record

    async def query(
        self, tenant: str, flt: RegistrationFilter, *, limit: int, offset: int, count: bool
    ) -> tuple[list[RegistrationRecord], int | None, bool]:
        """Query Context Source Registrations (5.10.2): one page of the matching registrations
        (oldest first), the total when counted, and whether more follow. The tenant's
        registrations are matched in memory (model/registration_match.py): they are few."""
        if limit == 0 and not count:
            raise BadRequestData("limit=0 is only allowed together with count=true")
        if limit > self.max_limit:
            raise TooManyResults(f"limit {limit} is above this hub's maximum of {self.max_limit}")
        await require_tenant(self.store, tenant)
        records = await self.store.registration_records(tenant)
        matching = [record for record in records if registration_matches(record.doc, flt)]
        page = matching[offset : offset + limit]
        return page, len(matching) if count else None, offset + limit < len(matching)

    async def update(self, tenant: str, reg_id: str, fragment: Any, tm: TermMap) -> None:
        """Update Context Source Registration (5.9.3); ResourceNotFound (404), Conflict (409)
        where clause 4.3.6.3 forbids the result."""
        for _ in range(WRITE_ATTEMPTS):
            version = await self.store.csource_version(tenant)
            record = await self.retrieve(tenant, reg_id)
            doc = merge_registration(record.doc, fragment, tm, now=datetime.now(UTC))
            others = await self.store.registration_records(tenant)
            await self._check_coexistence(tenant, doc, others)
            now = max(now_iso(), later_than(record.modified_at))
            before = State(record.doc, record.created_at, record.modified_at)
            notes = await registration_changes(
                self.store, self.contexts, tenant, before, State(doc, record.created_at, now)
            )
            outcome = await self.store.replace_registration(tenant, doc, now, version, notes)
            if outcome == "missing":
                raise ResourceNotFound(f"Registration {reg_id} does not exist")
            if outcome == "done":
                self._kick(notes)
                return
        raise Conflict(f"Registration {reg_id} is being changed by others: retry")

    async def delete(self, tenant: str, reg_id: str) -> None:
        """Delete Context Source Registration (5.9.4); ResourceNotFound (404)."""
        for _ in range(WRITE_ATTEMPTS):
            version = await self.store.csource_version(tenant)
            record = await self.retrieve(tenant, reg_id)
            before = State(record.doc, record.created_at, record.modified_at)
            notes = await registration_changes(self.store, self.contexts, tenant, before, None)
            outcome = await self.store.delete_registration(tenant, reg_id, version, notes)
            if outcome == "missing":
                raise ResourceNotFound(f"Registration {reg_id} does not exist")
            if outcome == "done":
                self._kick(notes)
                return
        raise Conflict(f"Registration {reg_id} is being changed by others: retry")

    def _kick(self, notes: Sequence[CsourceOutboxItem]) -> None:
        if notes:
            self.notifier.kick()

    async def _check_coexistence(
        self, tenant: str, reg: Registration, others: Sequence[RegistrationRecord]
    ) -> None:
        """Clause 4.3.6.3 between registrations, and with the entities this hub holds: an
        exclusive registration may not claim attributes an entity here has, a redirect one
        may not cover an entity here (the hub would then answer for data it does not own)."""
        clash = proxied_conflict(reg, (record.doc for record in others))
        if clash is not None:
            raise Conflict(
                f"Registration {clash['id']} ({clash['mode']}) already covers entities and"
                f" attributes this {reg['mode']} registration names"
            )
        if reg["mode"] not in {"exclusive", "redirect"}:
            return
        for query in _local_queries(reg):
            found = await self.store.query_entities(tenant, query)
            if found.docs:
                entity = found.entities[0]["id"]
                raise Conflict(
                    f"Entity {entity} in this hub already holds what this {reg['mode']}"
                    " registration names"
                )


def _local_queries(reg: Registration) -> list[EntityQuery]:
    """Queries for entities here that a proxied registration would cover."""
    queries = []
    for info in reg["information"]:
        names = attribute_names(info)
        attrs = frozenset(names) if names else None
        for entity in info.get("entities") or [None]:
            if entity is None:
                queries.append(EntityQuery(attrs=attrs, limit=1))
                continue
            types = TypeAny(tuple(TypeName(t) for t in entity_info_types(entity)))
            queries.append(
                EntityQuery(
                    types=types,
                    ids=(entity["id"],) if "id" in entity else None,
                    id_pattern=entity.get("idPattern") if "id" not in entity else None,
                    attrs=attrs,
                    limit=1,
                )
            )
    return queries


async def registration_changes(
    store: Store,
    contexts: ContextResolver,
    tenant: str,
    before: State | None,
    after: State | None,
) -> list[CsourceOutboxItem]:
    """The CsourceNotifications a registration change causes (clause 5.11.7): one per live
    registration subscription it concerns, with its trigger reason."""
    now = datetime.now(UTC)
    created_at = now_iso()
    notes = []
    for doc in await store.csource_subscription_docs(tenant):
        try:
            tm = await contexts.resolve(doc.get("@context"))
            sub = compile_csource_subscription(doc, tm)
        except Exception:  # one broken subscription must not stop registrations
            log.exception("Registration subscription %s cannot be compiled", doc.get("id"))
            continue
        if not sub.live(now):
            continue
        reason = trigger_reason(sub, before.doc if before else None, after.doc if after else None)
        if reason is None:
            continue
        shown = after if after is not None else before
        assert shown is not None
        doc_shown = shown.doc
        if reason != NO_LONGER_MATCHING:
            doc_shown = relevant_part(doc_shown, sub.filter)
        payload = {
            "triggerReason": reason,
            "registrations": [
                {
                    "doc": doc_shown,
                    "createdAt": shown.created_at,
                    "modifiedAt": shown.modified_at,
                }
            ],
        }
        notes.append(CsourceOutboxItem(sub.id, payload, created_at))
    return notes


def later_than(moment: str) -> str:
    """A modifiedAt strictly after ``moment`` (clocks of several workers may disagree)."""
    later = datetime.fromisoformat(moment.removesuffix("Z")) + timedelta(microseconds=1)
    return later.isoformat(timespec="microseconds") + "Z"


# --- the hub as a context source (clause 5.15) ------------------------------------------

_NOT_TOKEN = re.compile(r"[^A-Za-z0-9!#$%&'*+\-.^_`|~]")


class SourceIdentityService:
    """Retrieve Context Source Identity Information (clause 5.15.1, data type 5.2.40)."""

    def __init__(self, store: Store, alias: str) -> None:
        self.store = store
        self.alias = alias
        self._id: str | None = None

    async def identity(self, tenant: str) -> dict[str, Any]:
        """The hub's ContextSourceIdentity as seen through ``tenant``; NonexistentTenant
        (404) for a tenant never written to."""
        await require_tenant(self.store, tenant)
        if self._id is None:
            self._id = await self.store.source_identity()
        return {
            "id": self._id,
            "type": "ContextSourceIdentity",
            "contextSourceAlias": self.tenant_alias(tenant),
            "contextSourceUptime": iso_duration(time.monotonic() - PROCESS_STARTED),
            "contextSourceTimeAt": format_datetime(datetime.now(UTC)),
            "contextSourceExtras": {"product": "CityHub", "version": __version__},
        }

    def tenant_alias(self, tenant: str) -> str:
        """The pseudonym (RFC 7230 Via) other hubs see for this hub's ``tenant``: in the
        multi-tenancy case it identifies the tenant, so each tenant has its own (Table
        5.2.40-1). The alias setting, else one made from the hub's id."""
        assert self._id is not None
        base = self.alias or "cityhub-" + self._id.rsplit(":", 1)[-1][:8]
        if tenant == DEFAULT_TENANT:
            return base
        return f"{base}.{_NOT_TOKEN.sub('-', tenant)}"


def iso_duration(seconds: float) -> str:
    """Seconds as an ISO 8601 duration: ``P1DT2H3M4.5S``, ``PT0S``.

    >>> iso_duration(93784.5)
    'P1DT2H3M4.5S'
    """
    whole = int(seconds)
    fraction = round(seconds - whole, 3)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    second = secs + fraction
    if second or not (days or clock):
        clock += f"{second:g}S" if fraction else f"{secs}S"
    return text + ("T" + clock if clock else "")
