"""Batch endpoints: /entityOperations/create|upsert|update|delete|merge (clauses 5.6.7–5.6.10,
5.6.20). All succeed → 201/204; otherwise 207 with a BatchOperationResult (clause 5.2.16).

Items an exclusive or redirect context source registration concerns are written one by one
through federation/forwarding.py (``forward_batch``); the rest go to the local batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.collector import collector_paused
from cityhub.api.common import (
    hub_of,
    json_input,
    read_context,
    tenant_headers,
    tenant_of,
    termmap_for,
)
from cityhub.api.federated import forward_of
from cityhub.api.negotiation import empty_response, item_context, json_response
from cityhub.api.params import options
from cityhub.errors import BadRequestData, NgsiLdError
from cityhub.federation import forwarding
from cityhub.federation.distributed import Forward
from cityhub.federation.forwarding import BatchForwarding, BatchItem, LocalWrite, Write
from cityhub.jsonld.termmap import TermMap
from cityhub.services.batch import BatchResult

Maps = list[TermMap | NgsiLdError]
# A batch item as a single-entity write (see federation/forwarding.py, BatchItem).
ItemWrite = Callable[[Write], BatchItem]


@dataclass
class BatchInput:
    body: Any
    media: str
    maps: Maps


async def _termmaps(request: Request) -> BatchInput:
    """Each item's TermMap, or the error its @context caused (reported for that item)."""
    data = await json_input(request)
    if not isinstance(data.body, list):
        raise BadRequestData("A batch operation body must be a JSON array")
    maps: Maps = []
    cache: dict[str, TermMap] = {}
    for item in data.body:
        try:
            context = item_context(item, data.media, data.context)
            key = repr(context)
            if key not in cache:
                cache[key] = await termmap_for(request, context)
            maps.append(cache[key])
        except NgsiLdError as exc:
            maps.append(exc)
    return BatchInput(data.body, data.media, maps)


async def _local_and_forwarded(
    request: Request,
    tenant: str,
    batch: BatchInput,
    item_write: ItemWrite,
    local_batch: Callable[[Any, Maps], Awaitable[BatchResult]],
) -> tuple[BatchResult, BatchForwarding]:
    """Forward the items a registration concerns, and run the local batch on the rest."""
    hub = hub_of(request)
    body = batch.body
    if not body or not await forwarding.has_proxied(hub.federation, tenant):
        return await local_batch(body, batch.maps), BatchForwarding()
    items: list[BatchItem | None] = []
    for raw, tm in zip(body, batch.maps, strict=True):
        entity_id = raw.get("id") if isinstance(raw, dict) else raw
        if not isinstance(entity_id, str) or isinstance(tm, NgsiLdError):
            items.append(None)  # the local batch reports what is wrong with it
            continue
        params: list[tuple[str, str]] = []
        write = Write(tenant, entity_id, None, raw, batch.media, tm, params, _forward(request))
        items.append(item_write(write))
    forwarded = await forwarding.forward_batch(hub.federation, items)
    if not forwarded.kept:
        return BatchResult(), forwarded
    kept = [body[i] for i in forwarded.kept]
    return await local_batch(kept, [batch.maps[i] for i in forwarded.kept]), forwarded


def _forward(request: Request) -> Callable[[], Forward]:
    return lambda: forward_of(request)


def _response(
    result: BatchResult, tenant: str, created_status: bool, forwarded: BatchForwarding
) -> Response:
    headers = tenant_headers(tenant)
    errors = [
        {"entityId": entity_id, "error": error.to_problem()} for entity_id, error in result.errors
    ]
    errors += forwarded.errors
    if errors:
        body = {"success": result.success + forwarded.success, "errors": errors}
        return json_response(body, status=207, headers=headers)
    created = result.created + forwarded.created
    if created_status and created:
        return json_response(created, status=201, headers=headers)
    return empty_response(204, headers)


@collector_paused
async def batch_create(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    batch = await _termmaps(request)

    def item(write: Write) -> BatchItem:
        async def local(body: Any) -> None:
            await hub.entities.create_entity(tenant, body, write.tm)

        return BatchItem(write, forwarding.CREATE_ENTITY, local)

    async def local_batch(body: Any, maps: Maps) -> BatchResult:
        return await hub.batch.create(tenant, body, maps)

    result, forwarded = await _local_and_forwarded(request, tenant, batch, item, local_batch)
    return _response(result, tenant, True, forwarded)


@collector_paused
async def batch_upsert(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    chosen = options(request, {"replace", "update"})
    if len(chosen) > 1:
        raise BadRequestData("options can be replace or update, not both")
    update_mode = "update" in chosen
    batch = await _termmaps(request)

    def item(write: Write) -> BatchItem:
        entity_id, tm = write.entity_id or "", write.tm

        async def create(body: Any) -> None:
            await hub.entities.create_entity(tenant, body, tm)

        async def replace(body: Any) -> None:
            await hub.entities.replace_entity(tenant, entity_id, body, tm)

        async def update(body: Any) -> Any:
            return await hub.entities.append_attributes(
                tenant, entity_id, body, tm, no_overwrite=False
            )

        existing: tuple[forwarding.WriteOperation, LocalWrite] = (
            (forwarding.APPEND_ATTRS, update)
            if update_mode
            else (forwarding.REPLACE_ENTITY, replace)
        )
        return BatchItem(write, forwarding.CREATE_ENTITY, create, existing)

    async def local_batch(body: Any, maps: Maps) -> BatchResult:
        return await hub.batch.upsert(tenant, body, maps, update_mode=update_mode)

    result, forwarded = await _local_and_forwarded(request, tenant, batch, item, local_batch)
    return _response(result, tenant, True, forwarded)


@collector_paused
async def batch_update(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    no_overwrite = "noOverwrite" in options(request, {"noOverwrite"})
    batch = await _termmaps(request)

    def item(write: Write) -> BatchItem:
        entity_id, tm = write.entity_id or "", write.tm
        if no_overwrite:
            write.params = [("options", "noOverwrite")]

        async def local(body: Any) -> Any:
            return await hub.entities.append_attributes(
                tenant, entity_id, body, tm, no_overwrite=no_overwrite
            )

        return BatchItem(write, forwarding.APPEND_ATTRS, local)

    async def local_batch(body: Any, maps: Maps) -> BatchResult:
        return await hub.batch.update(tenant, body, maps, no_overwrite=no_overwrite)

    result, forwarded = await _local_and_forwarded(request, tenant, batch, item, local_batch)
    return _response(result, tenant, False, forwarded)


@collector_paused
async def batch_merge(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    batch = await _termmaps(request)

    def item(write: Write) -> BatchItem:
        entity_id, tm = write.entity_id or "", write.tm

        async def local(body: Any) -> None:
            await hub.entities.merge_entity(tenant, entity_id, body, tm, None)

        return BatchItem(write, forwarding.MERGE_ENTITY, local)

    async def local_batch(body: Any, maps: Maps) -> BatchResult:
        return await hub.batch.merge(tenant, body, maps)

    result, forwarded = await _local_and_forwarded(request, tenant, batch, item, local_batch)
    return _response(result, tenant, False, forwarded)


@collector_paused
async def batch_delete(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    body = data.body
    if (
        not body
        or not isinstance(body, list)
        or not await forwarding.has_proxied(hub.federation, tenant)
    ):
        return _response(await hub.batch.delete(tenant, body), tenant, False, BatchForwarding())
    _, tm = await read_context(request)
    batch = BatchInput(body, data.media, [tm] * len(body))

    def item(write: Write) -> BatchItem:
        entity_id = write.entity_id or ""
        write.body = None

        async def local(_: Any) -> None:
            await hub.entities.delete_entity(tenant, entity_id)

        return BatchItem(write, forwarding.DELETE_ENTITY, local)

    async def local_batch(ids: Any, maps: Maps) -> BatchResult:
        return await hub.batch.delete(tenant, ids)

    result, forwarded = await _local_and_forwarded(request, tenant, batch, item, local_batch)
    return _response(result, tenant, False, forwarded)


def routes() -> list[Route]:
    return [
        Route("/entityOperations/create", batch_create, methods=["POST"]),
        Route("/entityOperations/upsert", batch_upsert, methods=["POST"]),
        Route("/entityOperations/update", batch_update, methods=["POST"]),
        Route("/entityOperations/merge", batch_merge, methods=["POST"]),
        Route("/entityOperations/delete", batch_delete, methods=["POST"]),
    ]
