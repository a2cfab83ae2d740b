"""Entity provision and retrieval (clauses 5.6.1–5.6.6, 5.6.17–5.6.19, 5.7.1).

Each method parses its input with the request's TermMap first (so invalid input never opens a
transaction), then loads, changes and stores inside one transaction, and records the change
events that are published after commit. Only creation makes a tenant; every other operation on
a tenant never written to is a NonexistentTenant (clause 5.5.10).
"""

from __future__ import annotations

from typing import Any

import orjson

from cityhub.errors import AlreadyExists, BadRequestData, ResourceNotFound
from cityhub.events import CREATED, DELETED, UPDATED, ChangeEvent
from cityhub.jsonld.termmap import TermMap
from cityhub.model import changes
from cityhub.model.attributes import ParseOptions, parse_attribute
from cityhub.model.copying import json_copy
from cityhub.model.entity import Entity, parse_entity, parse_fragment
from cityhub.model.values import check_name, normalize_datetime, now_iso, require_uri
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import Store, UnitOfWork

NULL_OK = ParseOptions(allow_null=True)


def _event(tenant: str, kind: str, before: Entity | None, after: Entity | None) -> ChangeEvent:
    entity_id = (after or before or {})["id"]
    return ChangeEvent(tenant, kind, entity_id, before, after)


class EntityService:
    """The entity operations of one hub, over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def _load(self, uow: UnitOfWork, entity_id: str) -> Entity:
        entity = await uow.get(entity_id)
        if entity is None:
            raise ResourceNotFound(f"Entity {entity_id} does not exist")
        return entity

    async def create_entity(self, tenant: str, body: Any, tm: TermMap) -> str:
        """Create Entity (5.6.1); AlreadyExists when the id is taken."""
        entity = changes.new_entity(parse_entity(body, tm), now_iso())
        if not await self.store.create_one(tenant, entity, _event(tenant, CREATED, None, entity)):
            raise AlreadyExists(f"Entity {entity['id']} already exists")
        return str(entity["id"])

    async def retrieve_entity(self, tenant: str, entity_id: str) -> Entity:
        """Retrieve Entity (5.7.1), in internal form; the API layer renders it."""
        entity: Entity = orjson.loads(await self.retrieve_entity_text(tenant, entity_id))
        return entity

    async def retrieve_entity_text(self, tenant: str, entity_id: str) -> bytes:
        """Retrieve Entity (5.7.1) as the stored JSON text of its internal form."""
        require_uri(entity_id, "Entity id")
        await require_tenant(self.store, tenant)
        text = await self.store.get_entity_text(tenant, entity_id)
        if text is None:
            raise ResourceNotFound(f"Entity {entity_id} does not exist")
        return text

    async def replace_entity(self, tenant: str, entity_id: str, body: Any, tm: TermMap) -> None:
        """Replace Entity (5.6.18): the body's id, if any, must match the path."""
        require_uri(entity_id, "Entity id")
        if isinstance(body, dict):
            if "id" in body and body["id"] != entity_id:
                raise BadRequestData(f"Body id {body['id']} does not match {entity_id}")
            body = {**body, "id": entity_id}
        replacement = parse_entity(body, tm)
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = changes.replace_entity(current, replacement, now_iso())
            await uow.update([new])
            uow.events.append(_event(tenant, UPDATED, current, new))

    async def merge_entity(
        self, tenant: str, entity_id: str, body: Any, tm: TermMap, observed_at: str | None
    ) -> None:
        """Merge Entity (5.6.17)."""
        require_uri(entity_id, "Entity id")
        fragment = parse_fragment(body, tm, NULL_OK)
        if fragment.entity_id is not None and fragment.entity_id != entity_id:
            raise BadRequestData(f"Body id {fragment.entity_id} does not match {entity_id}")
        observed = normalize_datetime(observed_at, "observedAt") if observed_at else None
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = json_copy(current)
            changes.merge_entity(new, fragment, now_iso(), observed)
            await uow.update([new])
            uow.events.append(_event(tenant, UPDATED, current, new))

    async def delete_entity(self, tenant: str, entity_id: str) -> None:
        """Delete Entity (5.6.6)."""
        require_uri(entity_id, "Entity id")
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            await uow.delete([entity_id])
            uow.events.append(_event(tenant, DELETED, current, None))

    async def append_attributes(
        self, tenant: str, entity_id: str, body: Any, tm: TermMap, *, no_overwrite: bool
    ) -> changes.UpdateResult:
        """Append Entity Attributes (5.6.3)."""
        require_uri(entity_id, "Entity id")
        fragment = parse_fragment(body, tm)
        self._check_body_id(fragment.entity_id, entity_id)
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = json_copy(current)
            result = changes.append_attributes(new, fragment, now_iso(), no_overwrite=no_overwrite)
            if new != current:
                await uow.update([new])
                uow.events.append(_event(tenant, UPDATED, current, new))
        return result

    async def update_attributes(
        self, tenant: str, entity_id: str, body: Any, tm: TermMap
    ) -> changes.UpdateResult:
        """Update Entity Attributes (5.6.2)."""
        require_uri(entity_id, "Entity id")
        fragment = parse_fragment(body, tm, NULL_OK)
        self._check_body_id(fragment.entity_id, entity_id)
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = json_copy(current)
            result = changes.update_attributes(new, fragment, now_iso())
            if result.changed:
                await uow.update([new])
                uow.events.append(_event(tenant, UPDATED, current, new))
        return result

    def _attribute(self, attr_name: str, tm: TermMap) -> str:
        check_name(attr_name)
        return tm.expand(attr_name)

    async def partial_update_attribute(
        self, tenant: str, entity_id: str, attr_name: str, body: Any, tm: TermMap
    ) -> None:
        """Partial Attribute Update (5.6.4)."""
        require_uri(entity_id, "Entity id")
        iri = self._attribute(attr_name, tm)
        instances = parse_attribute(attr_name, iri, body, tm, NULL_OK)
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = json_copy(current)
            changes.partial_update_attribute(new, iri, attr_name, instances, now_iso())
            await uow.update([new])
            uow.events.append(_event(tenant, UPDATED, current, new))

    async def replace_attribute(
        self, tenant: str, entity_id: str, attr_name: str, body: Any, tm: TermMap
    ) -> None:
        """Replace Attribute (5.6.19)."""
        require_uri(entity_id, "Entity id")
        iri = self._attribute(attr_name, tm)
        instances = parse_attribute(attr_name, iri, body, tm)
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = json_copy(current)
            changes.replace_attribute(new, iri, attr_name, instances, now_iso())
            await uow.update([new])
            uow.events.append(_event(tenant, UPDATED, current, new))

    async def delete_attribute(
        self,
        tenant: str,
        entity_id: str,
        attr_name: str,
        tm: TermMap,
        *,
        dataset_id: str | None,
        delete_all: bool,
    ) -> None:
        """Delete Attribute (5.6.5)."""
        require_uri(entity_id, "Entity id")
        iri = self._attribute(attr_name, tm)
        if dataset_id is not None:
            require_uri(dataset_id, "datasetId")
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            current = await self._load(uow, entity_id)
            new = json_copy(current)
            changes.delete_attribute(new, iri, attr_name, dataset_id, delete_all, now_iso())
            await uow.update([new])
            uow.events.append(_event(tenant, UPDATED, current, new))

    @staticmethod
    def _check_body_id(body_id: str | None, entity_id: str) -> None:
        if body_id is not None and body_id != entity_id:
            raise BadRequestData(f"Body id {body_id} does not match {entity_id}")
