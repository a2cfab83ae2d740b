"""Batch endpoints: /entityOperations/create|upsert|update|delete|merge (clauses 5.6.7–5.6.10,
5.6.20). All succeed → 201/204; otherwise 207 with a BatchOperationResult (clause 5.2.16)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.collector import collector_paused
from cityhub.api.common import hub_of, json_input, tenant_headers, tenant_of, termmap_for
from cityhub.api.negotiation import empty_response, item_context, json_response
from cityhub.api.params import options
from cityhub.errors import BadRequestData, NgsiLdError
from cityhub.jsonld.termmap import TermMap
from cityhub.services.batch import BatchResult


async def _termmaps(request: Request) -> tuple[object, list[TermMap | NgsiLdError]]:
    """Each item's TermMap, or the error its @context caused (reported for that item)."""
    data = await json_input(request)
    if not isinstance(data.body, list):
        raise BadRequestData("A batch operation body must be a JSON array")
    maps: list[TermMap | NgsiLdError] = []
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
    return data.body, maps


def _response(result: BatchResult, tenant: str, created_status: bool) -> Response:
    headers = tenant_headers(tenant)
    if result.errors:
        body = {
            "success": result.success,
            "errors": [
                {"entityId": entity_id, "error": error.to_problem()}
                for entity_id, error in result.errors
            ],
        }
        return json_response(body, status=207, headers=headers)
    if created_status and result.created:
        return json_response(result.created, status=201, headers=headers)
    return empty_response(204, headers)


@collector_paused
async def batch_create(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    body, maps = await _termmaps(request)
    result = await hub.batch.create(tenant, body, maps)
    return _response(result, tenant, created_status=True)


@collector_paused
async def batch_upsert(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    chosen = options(request, {"replace", "update"})
    if len(chosen) > 1:
        raise BadRequestData("options can be replace or update, not both")
    body, maps = await _termmaps(request)
    result = await hub.batch.upsert(tenant, body, maps, update_mode="update" in chosen)
    return _response(result, tenant, created_status=True)


@collector_paused
async def batch_update(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    no_overwrite = "noOverwrite" in options(request, {"noOverwrite"})
    body, maps = await _termmaps(request)
    result = await hub.batch.update(tenant, body, maps, no_overwrite=no_overwrite)
    return _response(result, tenant, created_status=False)


@collector_paused
async def batch_merge(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    body, maps = await _termmaps(request)
    result = await hub.batch.merge(tenant, body, maps)
    return _response(result, tenant, created_status=False)


@collector_paused
async def batch_delete(request: Request) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    result = await hub.batch.delete(tenant, data.body)
    return _response(result, tenant, created_status=False)


def routes() -> list[Route]:
    return [
        Route("/entityOperations/create", batch_create, methods=["POST"]),
        Route("/entityOperations/upsert", batch_upsert, methods=["POST"]),
        Route("/entityOperations/update", batch_update, methods=["POST"]),
        Route("/entityOperations/merge", batch_merge, methods=["POST"]),
        Route("/entityOperations/delete", batch_delete, methods=["POST"]),
    ]
