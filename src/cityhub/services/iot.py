"""IoT device provisioning and measures (FIWARE IoT Agent JSON semantics, model/iot.py).

Provisioning a device also creates the entity it feeds, with its static attributes, so a
measure only carries what it measured. A measure becomes an entity fragment that the batch
upsert (update mode, clause 5.6.8) writes: every measure is an attribute update with its
``observedAt`` and lands in the entity's history. Input that cannot be stored goes to the
dead letters with its reason and raw text.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from cityhub.errors import AlreadyExists, BadRequestData, NgsiLdError, ResourceNotFound
from cityhub.jsonld.termmap import TermMap
from cityhub.model.iot import entity_of, measures_fragment, parse_device, parse_service
from cityhub.model.values import now_iso
from cityhub.services.batch import BatchService
from cityhub.services.contexts import ContextService
from cityhub.storage.base import DeadLetter, Store

T = TypeVar("T")
LOOKUP_SECONDS = 30.0  # how long a worker trusts a service or device it read


@dataclass
class Measure:
    """One message: where it came from and what it said."""

    apikey: str
    device_id: str
    payload: bytes
    object_id: str | None  # the single-attribute topic's attribute, else None
    received_at: str

    @property
    def source(self) -> str:
        suffix = f"/{self.object_id}" if self.object_id else ""
        return f"mqtt:/{self.apikey}/{self.device_id}/attrs{suffix}"


@dataclass
class Prepared:
    """A measure made into an entity fragment, with what writing it needs."""

    tenant: str
    fragment: dict[str, Any]
    tm: TermMap
    measure: Measure


def _items(body: Any, member: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(member), list) or not body[member]:
        raise BadRequestData(f'The body must be {{"{member}": [ … ]}} with at least one item')
    items: list[Any] = body[member]
    return items


class IotService:
    def __init__(
        self,
        store: Store,
        contexts: ContextService,
        batch: BatchService,
        *,
        autoprovision: bool = False,
    ) -> None:
        self.store = store
        self.contexts = contexts
        self.batch = batch
        self.autoprovision = autoprovision
        # Services and devices as read lately: each message needs both, and thousands arrive
        # per second. Changes made through this worker clear them; another worker's are seen
        # within LOOKUP_SECONDS.
        self._lookups: dict[tuple[str, ...], tuple[float, Any]] = {}

    async def _cached(self, key: tuple[str, ...], read: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        hit = self._lookups.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        found = await read()
        if len(self._lookups) > 100_000:
            self._lookups.clear()
        self._lookups[key] = (now + LOOKUP_SECONDS, found)
        return found

    def forget(self) -> None:
        """Drop what was read (provisioning changed)."""
        self._lookups.clear()

    async def _termmap(self, service: dict[str, Any]) -> TermMap:
        return await self.contexts.resolve(service.get("context"))

    # --- provisioning ----------------------------------------------------------------------

    async def create_services(self, tenant: str, body: Any) -> None:
        """POST /iot/services: every group is stored, or none when a key is taken."""
        services = [parse_service(item) for item in _items(body, "services")]
        keys = [s["apikey"] for s in services]
        if len(set(keys)) != len(keys):
            raise BadRequestData("The body names an apikey twice")
        for service in services:
            if await self.store.iot_service(service["apikey"]) is not None:
                raise AlreadyExists(f"A service with apikey {service['apikey']} exists already")
        now = now_iso()
        for service in services:
            await self._termmap(service)  # an unreachable @context fails before storing
            if not await self.store.put_iot_service(tenant, service, now):
                raise AlreadyExists(f"A service with apikey {service['apikey']} exists already")
        self.forget()

    async def list_services(self, tenant: str) -> list[dict[str, Any]]:
        return await self.store.iot_services(tenant)

    async def delete_service(self, tenant: str, apikey: str | None) -> None:
        if not apikey:
            raise BadRequestData("Deleting a service needs its apikey")
        if not await self.store.delete_iot_service(tenant, apikey):
            raise ResourceNotFound(f"No service with apikey {apikey}")
        self.forget()

    async def _service_of(self, tenant: str, apikey: str) -> dict[str, Any]:
        found = await self.store.iot_service(apikey)
        if found is None or found[0] != tenant:
            raise ResourceNotFound(f"No service with apikey {apikey} in this tenant")
        return found[1]

    async def create_devices(self, tenant: str, body: Any) -> None:
        """POST /iot/devices: every device is stored (and its entity made), or none."""
        devices = []
        services: dict[str, dict[str, Any]] = {}
        for raw in _items(body, "devices"):
            apikey = raw.get("apikey") if isinstance(raw, dict) else None
            if not isinstance(apikey, str):
                raise BadRequestData("Each device needs the apikey of its service group")
            if apikey not in services:
                services[apikey] = await self._service_of(tenant, apikey)
            devices.append(parse_device(raw, services[apikey]))
        ids = [d["device_id"] for d in devices]
        if len(set(ids)) != len(ids):
            raise BadRequestData("The body names a device_id twice")
        entities = [(entity_of(d, services[d["apikey"]]), services[d["apikey"]]) for d in devices]
        taken = await self.store.put_iot_devices(tenant, devices, now_iso())
        if taken:
            raise AlreadyExists(f"Device {taken[0]} exists already")
        self.forget()
        for entity, service in entities:
            await self._ensure_entity(tenant, entity, service)

    async def _ensure_entity(
        self, tenant: str, entity: dict[str, Any], service: dict[str, Any]
    ) -> None:
        """The device's entity with its static attributes (kept when it exists)."""
        tm = await self._termmap(service)
        result = await self.batch.upsert(tenant, [entity], [tm], update_mode=True)
        if result.errors:
            raise BadRequestData(f"The device's entity cannot be made: {result.errors[0][1]}")

    async def list_devices(self, tenant: str, limit: int, offset: int) -> tuple[list[Any], int]:
        found = await self.store.iot_devices(tenant, limit, offset)
        return found, await self.store.count_iot_devices(tenant)

    async def get_device(self, tenant: str, device_id: str) -> dict[str, Any]:
        device = await self.store.iot_device_of(tenant, device_id)
        if device is None:
            raise ResourceNotFound(f"No device {device_id}")
        return device

    async def delete_device(self, tenant: str, device_id: str) -> None:
        if not await self.store.delete_iot_device(tenant, device_id):
            raise ResourceNotFound(f"No device {device_id}")
        self.forget()

    # --- measures ------------------------------------------------------------------------------

    async def prepare(self, measure: Measure) -> Prepared | DeadLetter:
        """The entity fragment of one message, or the dead letter saying why there is none."""
        raw = measure.payload.decode("utf-8", errors="replace")
        found = await self._cached(
            ("service", measure.apikey), lambda: self.store.iot_service(measure.apikey)
        )
        if found is None:
            return DeadLetter("", measure.source, "Unknown apikey", raw, measure.received_at)
        tenant, service = found
        located = await self._cached(
            ("device", measure.apikey, measure.device_id),
            lambda: self.store.iot_device(measure.apikey, measure.device_id),
        )
        try:
            if located is None:
                if not self.autoprovision:
                    raise BadRequestData(f"Device {measure.device_id} is not provisioned")
                await self.create_devices(
                    tenant,
                    {"devices": [{"device_id": measure.device_id, "apikey": measure.apikey}]},
                )
                located = await self.store.iot_device(measure.apikey, measure.device_id)
                assert located is not None
            measures = _measures(measure)
            fragment = measures_fragment(located[1], service, measures, measure.received_at)
            return Prepared(tenant, fragment, await self._termmap(service), measure)
        except NgsiLdError as exc:
            return DeadLetter(tenant, measure.source, exc.detail, raw, measure.received_at)

    async def store_measures(self, prepared: Sequence[Prepared]) -> list[DeadLetter]:
        """Write prepared measures, one batch upsert per tenant and round (an entity
        appears once per round, so two measures of one device both reach its history);
        the dead letters of entities the batch refused."""
        letters: list[DeadLetter] = []
        pending = list(prepared)
        while pending:
            round_items: dict[tuple[str, str], Prepared] = {}
            later: list[Prepared] = []
            for item in pending:
                key = (item.tenant, item.fragment["id"])
                if key in round_items:
                    later.append(item)
                else:
                    round_items[key] = item
            by_tenant: dict[str, list[Prepared]] = {}
            for item in round_items.values():
                by_tenant.setdefault(item.tenant, []).append(item)
            for tenant, items in by_tenant.items():
                result = await self.batch.upsert(
                    tenant, [i.fragment for i in items], [i.tm for i in items], update_mode=True
                )
                failed = {entity_id: error for entity_id, error in result.errors}
                for item in items:
                    error = failed.get(item.fragment["id"])
                    if error is not None:
                        raw = item.measure.payload.decode("utf-8", errors="replace")
                        letters.append(
                            DeadLetter(
                                tenant,
                                item.measure.source,
                                error.detail,
                                raw,
                                item.measure.received_at,
                            )
                        )
            pending = later
        return letters


def _measures(measure: Measure) -> dict[str, Any]:
    """The measures of a message: a JSON object, or one raw value on a single-attribute
    topic (a JSON scalar, or else the text itself)."""
    if measure.object_id is not None:
        try:
            value = orjson.loads(measure.payload)
        except orjson.JSONDecodeError:
            value = measure.payload.decode("utf-8", errors="replace")
        if isinstance(value, dict | list):
            raise BadRequestData("A single-attribute message must hold one value")
        return {measure.object_id: value}
    try:
        measures = orjson.loads(measure.payload)
    except orjson.JSONDecodeError as exc:
        raise BadRequestData(f"The message is not JSON: {exc}") from None
    if not isinstance(measures, dict) or not measures:
        raise BadRequestData("The message must be a JSON object of measures")
    return measures
