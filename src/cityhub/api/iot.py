"""IoT device provisioning (the FIWARE IoT Agent north API: ``/iot/services``,
``/iot/devices``, ``/iot/about``) and the ingestion dead letters (``/ingest/deadLetters``).

Payloads are the IoT Agent's (``{"services": [...]}``, ``{"devices": [...]}``, model/iot.py);
the tenant is the ``NGSILD-Tenant`` header, as everywhere in the hub; errors are NGSI-LD
ProblemDetails like the rest of the API.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.common import hub_of, json_input, tenant_headers, tenant_of
from cityhub.api.negotiation import JSON, empty_response, json_response
from cityhub.api.params import integer_param
from cityhub.errors import BadRequestData
from cityhub.services.tenants import require_tenant

MAX_PAGE = 1000


def _page(request: Request) -> tuple[int, int]:
    limit = integer_param(request, "limit", 20)
    if limit > MAX_PAGE:
        raise BadRequestData(f"limit must be at most {MAX_PAGE}")
    return limit, integer_param(request, "offset", 0)


def _json(request: Request, body: Any, status: int = 200) -> Response:
    return json_response(
        body, status=status, media=JSON, headers=tenant_headers(tenant_of(request))
    )


async def create_services(request: Request) -> Response:
    """POST /iot/services — provision service groups (201)."""
    data = await json_input(request)
    await hub_of(request).iot.create_services(tenant_of(request), data.body)
    return empty_response(201, tenant_headers(tenant_of(request)))


async def list_services(request: Request) -> Response:
    """GET /iot/services — the tenant's service groups."""
    services = await hub_of(request).iot.list_services(tenant_of(request))
    return _json(request, {"count": len(services), "services": services})


async def delete_service(request: Request) -> Response:
    """DELETE /iot/services?apikey=K — a service group and its devices (204)."""
    tenant = tenant_of(request)
    await hub_of(request).iot.delete_service(tenant, request.query_params.get("apikey"))
    return empty_response(204, tenant_headers(tenant))


async def create_devices(request: Request) -> Response:
    """POST /iot/devices — provision devices and create their entities (201)."""
    data = await json_input(request)
    await hub_of(request).iot.create_devices(tenant_of(request), data.body)
    return empty_response(201, tenant_headers(tenant_of(request)))


async def list_devices(request: Request) -> Response:
    """GET /iot/devices — the tenant's devices, a page at a time."""
    limit, offset = _page(request)
    devices, count = await hub_of(request).iot.list_devices(tenant_of(request), limit, offset)
    return _json(request, {"count": count, "devices": devices})


async def get_device(request: Request) -> Response:
    """GET /iot/devices/{device_id}."""
    device = await hub_of(request).iot.get_device(
        tenant_of(request), request.path_params["device_id"]
    )
    return _json(request, device)


async def delete_device(request: Request) -> Response:
    """DELETE /iot/devices/{device_id} (204; its entity stays)."""
    tenant = tenant_of(request)
    await hub_of(request).iot.delete_device(tenant, request.path_params["device_id"])
    return empty_response(204, tenant_headers(tenant))


async def about(request: Request) -> Response:
    """GET /iot/about — the device agent's state and counters."""
    agent = hub_of(request).device_agent
    body: dict[str, Any] = {"mqtt": None}
    if agent is not None:
        c = agent.counters
        body["mqtt"] = {
            "broker": f"{agent.host}:{agent.port}",
            "connected": c.connected,
            "received": c.received,
            "stored": c.stored,
            "deadLettered": c.dead_lettered,
            "recentErrors": c.errors,
        }
    return _json(request, body)


async def list_dead_letters(request: Request) -> Response:
    """GET /ingest/deadLetters — what ingestion could not store, newest first."""
    hub, tenant = hub_of(request), tenant_of(request)
    await require_tenant(hub.store, tenant)
    limit, offset = _page(request)
    letters = await hub.store.dead_letters(tenant, limit, offset)
    items = [
        {
            "id": d.id,
            "source": d.source,
            "reason": d.reason,
            "raw": d.raw,
            "receivedAt": d.received_at,
        }
        for d in letters
    ]
    return _json(
        request, {"count": await hub.store.count_dead_letters(tenant), "deadLetters": items}
    )


def routes() -> list[Route]:
    return [
        Route("/iot/services", create_services, methods=["POST"]),
        Route("/iot/services", list_services, methods=["GET"]),
        Route("/iot/services", delete_service, methods=["DELETE"]),
        Route("/iot/devices", create_devices, methods=["POST"]),
        Route("/iot/devices", list_devices, methods=["GET"]),
        Route("/iot/devices/{device_id}", get_device, methods=["GET"]),
        Route("/iot/devices/{device_id}", delete_device, methods=["DELETE"]),
        Route("/iot/about", about, methods=["GET"]),
        Route("/ingest/deadLetters", list_dead_letters, methods=["GET"]),
    ]
