"""Batch entity operations (clauses 5.6.7–5.6.10, 5.6.20).

Every item is validated and computed in memory first; the items that succeed are written in
one transaction with set-based statements, so each entity is applied whole or not at all and
a batch of 1,000 costs a handful of round trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityhub.errors import AlreadyExists, BadRequestData, NgsiLdError, ResourceNotFound
from cityhub.events import CREATED, DELETED, UPDATED, ChangeEvent
from cityhub.jsonld.termmap import TermMap
from cityhub.model import changes
from cityhub.model.attributes import STRICT
from cityhub.model.copying import json_copy
from cityhub.model.entity import Entity, Fragment, entity_from_fragment, parse_fragment
from cityhub.model.values import now_iso, require_uri
from cityhub.services.entities import NULL_OK
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import Store


@dataclass
class BatchResult:
    """Clause 5.2.16 BatchOperationResult: ids that succeeded, and per-entity errors."""

    success: list[str] = field(default_factory=list)
    errors: list[tuple[str | None, NgsiLdError]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # sync: already held as sent


def _entity_id_of(raw: Any) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return str(raw["id"])
    return None


def _require_array(body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise BadRequestData("A batch operation body must be a JSON array")
    if not body:
        raise BadRequestData("A batch operation body must not be empty")
    return body


class BatchService:
    """Batch create, upsert, update, merge and delete."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _parse_all(
        self,
        body: Any,
        tms: list[TermMap | NgsiLdError],
        result: BatchResult,
        *,
        need_type: bool,
        nulls: bool,
    ) -> list[Fragment]:
        fragments: list[Fragment] = []
        seen: set[str] = set()
        for raw, tm in zip(_require_array(body), tms, strict=True):
            entity_id = _entity_id_of(raw)
            try:
                if not isinstance(raw, dict):
                    raise BadRequestData("Each batch item must be a JSON object")
                if "id" not in raw:
                    raise BadRequestData("Batch item has no id")
                if isinstance(tm, NgsiLdError):
                    raise tm
                if need_type and "type" not in raw:
                    raise BadRequestData(f"Entity {raw['id']!r} has no type")
                fragment = parse_fragment(raw, tm, NULL_OK if nulls else STRICT)
                if fragment.entity_id in seen:
                    raise BadRequestData(f"Entity {fragment.entity_id} appears twice in the batch")
                assert fragment.entity_id is not None
                seen.add(fragment.entity_id)
                fragments.append(fragment)
            except NgsiLdError as exc:
                result.errors.append((entity_id, exc))
        return fragments

    async def create(self, tenant: str, body: Any, tms: list[TermMap | NgsiLdError]) -> BatchResult:
        """Batch Entity Creation (5.6.7)."""
        result = BatchResult()
        fragments = self._parse_all(body, tms, result, need_type=True, nulls=False)
        now = now_iso()
        entities = [changes.new_entity(entity_from_fragment(f), now) for f in fragments]
        if not entities:
            return result  # nothing valid: no transaction, so no tenant is created either
        async with self.store.transaction(tenant) as uow:
            existing = set(await uow.insert(entities))
            for entity in entities:
                if entity["id"] in existing:
                    err = AlreadyExists(f"Entity {entity['id']} already exists")
                    result.errors.append((entity["id"], err))
                else:
                    result.success.append(entity["id"])
                    uow.events.append(ChangeEvent(tenant, CREATED, entity["id"], None, entity))
        result.created = list(result.success)
        return result

    async def upsert(
        self, tenant: str, body: Any, tms: list[TermMap | NgsiLdError], *, update_mode: bool
    ) -> BatchResult:
        """Batch Entity Upsert (5.6.8): replace (default) or update existing entities."""
        result = BatchResult()
        fragments = self._parse_all(body, tms, result, need_type=True, nulls=False)
        if not fragments:
            return result
        now = now_iso()
        async with self.store.transaction(tenant) as uow:
            current = await uow.get_many([f.entity_id for f in fragments if f.entity_id])
            inserts: list[Entity] = []
            updates: list[Entity] = []
            for fragment in fragments:
                entity_id = fragment.entity_id
                assert entity_id is not None
                old = current.get(entity_id)
                if old is None:
                    entity = changes.new_entity(entity_from_fragment(fragment), now)
                    inserts.append(entity)
                    result.created.append(entity_id)
                    uow.events.append(ChangeEvent(tenant, CREATED, entity_id, None, entity))
                else:
                    if update_mode:
                        new = json_copy(old)
                        changes.append_attributes(new, fragment, now, no_overwrite=False)
                    else:
                        new = changes.replace_entity(old, entity_from_fragment(fragment), now)
                    updates.append(new)
                    uow.events.append(ChangeEvent(tenant, UPDATED, entity_id, old, new))
                result.success.append(entity_id)
            await uow.insert(inserts)
            await uow.update(updates)
        return result

    async def sync(self, tenant: str, body: Any, tms: list[TermMap | NgsiLdError]) -> BatchResult:
        """Upsert in update mode (5.6.8) for snapshots a feed resends: attributes whose
        content is already stored are left alone (their modifiedAt, no history, no
        notification), and an entity with nothing new is not written at all."""
        result = BatchResult()
        fragments = self._parse_all(body, tms, result, need_type=True, nulls=False)
        if not fragments:
            return result
        now = now_iso()
        async with self.store.transaction(tenant) as uow:
            current = await uow.get_many([f.entity_id for f in fragments if f.entity_id])
            inserts: list[Entity] = []
            updates: list[Entity] = []
            for fragment in fragments:
                entity_id = fragment.entity_id
                assert entity_id is not None
                old = current.get(entity_id)
                if old is None:
                    entity = changes.new_entity(entity_from_fragment(fragment), now)
                    inserts.append(entity)
                    result.created.append(entity_id)
                    uow.events.append(ChangeEvent(tenant, CREATED, entity_id, None, entity))
                elif changes.drop_unchanged(old, fragment):
                    new = json_copy(old)
                    changes.append_attributes(new, fragment, now, no_overwrite=False)
                    updates.append(new)
                    uow.events.append(ChangeEvent(tenant, UPDATED, entity_id, old, new))
                else:
                    result.unchanged.append(entity_id)
                    continue
                result.success.append(entity_id)
            await uow.insert(inserts)
            await uow.update(updates)
        return result

    async def update(
        self, tenant: str, body: Any, tms: list[TermMap | NgsiLdError], *, no_overwrite: bool
    ) -> BatchResult:
        """Batch Entity Update (5.6.9): append attributes to existing entities."""
        return await self._change_existing(
            tenant, body, tms, merge=False, no_overwrite=no_overwrite
        )

    async def merge(self, tenant: str, body: Any, tms: list[TermMap | NgsiLdError]) -> BatchResult:
        """Batch Entity Merge (5.6.20)."""
        return await self._change_existing(tenant, body, tms, merge=True, no_overwrite=False)

    async def _change_existing(
        self,
        tenant: str,
        body: Any,
        tms: list[TermMap | NgsiLdError],
        *,
        merge: bool,
        no_overwrite: bool,
    ) -> BatchResult:
        result = BatchResult()
        fragments = self._parse_all(body, tms, result, need_type=False, nulls=merge)
        await require_tenant(self.store, tenant)
        if not fragments:
            return result
        now = now_iso()
        async with self.store.transaction(tenant) as uow:
            current = await uow.get_many([f.entity_id for f in fragments if f.entity_id])
            updates: list[Entity] = []
            for fragment in fragments:
                entity_id = fragment.entity_id
                assert entity_id is not None
                old = current.get(entity_id)
                if old is None:
                    err = ResourceNotFound(f"Entity {entity_id} does not exist")
                    result.errors.append((entity_id, err))
                    continue
                new = json_copy(old)
                if merge:
                    changes.merge_entity(new, fragment, now, None)
                else:
                    outcome = changes.append_attributes(
                        new, fragment, now, no_overwrite=no_overwrite
                    )
                    if outcome.not_updated and not outcome.updated and fragment.attributes:
                        reasons = "; ".join(f"{n}: {r}" for n, r in outcome.not_updated)
                        result.errors.append((entity_id, BadRequestData(reasons)))
                        continue
                updates.append(new)
                result.success.append(entity_id)
                uow.events.append(ChangeEvent(tenant, UPDATED, entity_id, old, new))
            await uow.update(updates)
        return result

    async def delete(self, tenant: str, body: Any) -> BatchResult:
        """Batch Entity Delete (5.6.10): the body is an array of entity ids."""
        result = BatchResult()
        ids: dict[str, None] = {}
        for raw in _require_array(body):
            try:
                entity_id = require_uri(raw, "Entity id")
                if entity_id in ids:
                    raise BadRequestData(f"Entity {entity_id} appears twice in the batch")
                ids[entity_id] = None
            except NgsiLdError as exc:
                result.errors.append((raw if isinstance(raw, str) else None, exc))
        await require_tenant(self.store, tenant)
        if not ids:
            return result
        async with self.store.transaction(tenant) as uow:
            current = await uow.get_many(list(ids))
            deleted = set(await uow.delete([i for i in ids if i in current]))
            for entity_id in ids:
                if entity_id in deleted:
                    result.success.append(entity_id)
                    old = current[entity_id]
                    uow.events.append(ChangeEvent(tenant, DELETED, entity_id, old, None))
                else:
                    err = ResourceNotFound(f"Entity {entity_id} does not exist")
                    result.errors.append((entity_id, err))
        return result
