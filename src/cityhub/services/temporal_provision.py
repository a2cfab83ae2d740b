"""Temporal Context Information Provision (clauses 5.6.11-5.6.16): adding, correcting and
removing attribute instances of an entity's temporal evolution directly.

Each operation parses its input first, then runs in one transaction. Instances added here
are recorded as given (with their observedAt); their createdAt/modifiedAt are the time they
were recorded. Creating a temporal evolution also creates the entity itself when it does
not exist, holding the latest instance of each attribute and datasetId, as clients
(and the ETSI conformance tests) expect the entity to be reachable afterwards.
"""

from __future__ import annotations

from cityhub.errors import BadRequestData, ResourceNotFound
from cityhub.events import CREATED, ChangeEvent
from cityhub.jsonld.termmap import TermMap
from cityhub.model import changes
from cityhub.model.attributes import Instance
from cityhub.model.entity import Entity
from cityhub.model.history import EntityMark, HistoryRow, instance_number, row_of
from cityhub.model.temporal_input import (
    TemporalFragment,
    parse_replacement_instance,
    parse_temporal_fragment,
)
from cityhub.model.values import check_name, is_uri, now_iso, require_uri
from cityhub.query.temporal import stored_micros
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import Store, TemporalEntityRecord, UnitOfWork


def _rows(entity_id: str, fragment: TemporalFragment, now: str) -> list[HistoryRow]:
    return [
        row_of(entity_id, attr, instance, now)
        for attr, instances in fragment.attributes.items()
        for instance in instances
    ]


def _latest(instances: list[Instance]) -> list[Instance]:
    """The newest instance per datasetId (by observedAt; else the last given)."""
    newest: dict[str | None, tuple[int, int, Instance]] = {}
    for order, instance in enumerate(instances):
        observed = instance.get("observedAt")
        when = stored_micros(observed) if observed else -(2**62)
        key = instance.get("datasetId")
        if key not in newest or (when, order) >= newest[key][:2]:
            newest[key] = (when, order, instance)
    return [item[2] for item in newest.values()]


def _current_entity(entity_id: str, types: list[str], fragment: TemporalFragment) -> Entity:
    entity: Entity = {"id": entity_id, "type": types}
    if fragment.scope:
        entity["scope"] = fragment.scope
    for attr, instances in fragment.attributes.items():
        entity[attr] = [dict(instance) for instance in _latest(instances)]
    return entity


class TemporalProvisionService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def _record(self, uow: UnitOfWork, entity_id: str) -> TemporalEntityRecord:
        record = await uow.temporal_entity(entity_id)
        if record is None:
            raise ResourceNotFound(f"Entity {entity_id} has no temporal evolution")
        return record

    async def upsert_temporal(self, tenant: str, body: object, tm: TermMap) -> tuple[str, bool]:
        """Create or Update Temporal Representation of an Entity (5.6.11): (id, whether the
        temporal evolution was created)."""
        fragment = parse_temporal_fragment(body, tm, what="Temporal entity")
        if fragment.entity_id is None:
            raise BadRequestData("A temporal entity needs an id")
        entity_id = fragment.entity_id
        now = now_iso()
        async with self.store.transaction(tenant) as uow:
            record = await uow.temporal_entity(entity_id)
            if record is None and fragment.types is None:
                raise BadRequestData(f"Temporal entity {entity_id} has no type")
            types = list(
                dict.fromkeys([*(record.types if record else []), *(fragment.types or [])])
            )
            mark = EntityMark(
                entity_id=entity_id,
                types=types,
                scopes=fragment.scope or (record.scopes if record else None),
                created_at=record.created_at if record else now,
                modified_at=now,
                deleted_at=record.deleted_at if record else None,
            )
            await uow.add_history([mark], _rows(entity_id, fragment, now))
            if record is None and await uow.get(entity_id) is None:
                entity = changes.new_entity(_current_entity(entity_id, types, fragment), now)
                await uow.insert([entity])
                uow.events.append(
                    ChangeEvent(tenant, CREATED, entity_id, None, entity, historic=False)
                )
        return entity_id, record is None

    async def append_attributes(
        self, tenant: str, entity_id: str, body: object, tm: TermMap
    ) -> None:
        """Add Attributes to Temporal Representation of an Entity (5.6.12)."""
        require_uri(entity_id, "Entity id")
        fragment = parse_temporal_fragment(body, tm)
        if fragment.entity_id is not None and fragment.entity_id != entity_id:
            raise BadRequestData(f"Body id {fragment.entity_id} does not match {entity_id}")
        await require_tenant(self.store, tenant)
        now = now_iso()
        async with self.store.transaction(tenant) as uow:
            record = await self._record(uow, entity_id)
            types = list(dict.fromkeys([*record.types, *(fragment.types or [])]))
            mark = EntityMark(
                entity_id,
                types,
                fragment.scope or record.scopes,
                record.created_at,
                now,
                record.deleted_at,
            )
            await uow.add_history([mark], _rows(entity_id, fragment, now))

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
        """Delete Attribute from Temporal Representation of an Entity (5.6.13): the default
        instances, one dataset's, or (deleteAll) every instance of the attribute."""
        require_uri(entity_id, "Entity id")
        iri = tm.expand(check_name(attr_name))
        if dataset_id is not None:
            require_uri(dataset_id, "datasetId")
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            await self._record(uow, entity_id)
            dataset = None if delete_all else (dataset_id or "")
            if not await uow.delete_attribute_history(entity_id, iri, dataset):
                raise ResourceNotFound(
                    f"Entity {entity_id} has no temporal instances of attribute {attr_name}"
                    + (f" in dataset {dataset_id}" if dataset_id and not delete_all else "")
                )

    async def _instance(
        self, uow: UnitOfWork, entity_id: str, iri: str, attr_name: str, instance_id: str
    ) -> tuple[int, str]:
        await self._record(uow, entity_id)
        number = instance_number(instance_id)
        found = None if number is None else await uow.find_instance(entity_id, iri, number)
        if number is None or found is None:
            raise ResourceNotFound(
                f"Attribute {attr_name} of entity {entity_id} has no instance {instance_id}"
            )
        return number, found[0]

    @staticmethod
    def _check_path(entity_id: str, attr_name: str, instance_id: str, tm: TermMap) -> str:
        require_uri(entity_id, "Entity id")
        iri = tm.expand(check_name(attr_name))
        if not is_uri(instance_id):
            raise BadRequestData(f"instanceId must be a URI, got {instance_id!r}")
        return iri

    async def modify_instance(
        self,
        tenant: str,
        entity_id: str,
        attr_name: str,
        instance_id: str,
        body: object,
        tm: TermMap,
    ) -> None:
        """Modify Attribute Instance in Temporal Representation of an Entity (5.6.14): the
        instance keeps its instanceId and createdAt; modifiedAt becomes now."""
        iri = self._check_path(entity_id, attr_name, instance_id, tm)
        instance = parse_replacement_instance(attr_name, iri, body, tm)
        await require_tenant(self.store, tenant)
        now = now_iso()
        async with self.store.transaction(tenant) as uow:
            number, _ = await self._instance(uow, entity_id, iri, attr_name, instance_id)
            await uow.replace_instance(number, row_of(entity_id, iri, instance, now))

    async def delete_instance(
        self, tenant: str, entity_id: str, attr_name: str, instance_id: str, tm: TermMap
    ) -> None:
        """Delete Attribute Instance from Temporal Representation of an Entity (5.6.15)."""
        iri = self._check_path(entity_id, attr_name, instance_id, tm)
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            number, _ = await self._instance(uow, entity_id, iri, attr_name, instance_id)
            await uow.delete_instance(entity_id, iri, number)

    async def delete_temporal(self, tenant: str, entity_id: str) -> None:
        """Delete Temporal Representation of an Entity (5.6.16): its whole history (the
        entity's current state, if any, stays)."""
        require_uri(entity_id, "Entity id")
        await require_tenant(self.store, tenant)
        async with self.store.transaction(tenant) as uow:
            if not await uow.delete_history(entity_id):
                raise ResourceNotFound(f"Entity {entity_id} has no temporal evolution")
