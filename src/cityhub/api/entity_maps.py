"""EntityMaps as resources (GS CIM 009 v1.8 clause 5.14): ``GET``, ``PATCH`` and ``DELETE
/entityMaps/{entityMapId}``. Maps are made by Query Entities with ``entityMap=true``
(federation/entity_maps.py); here a client reads one (which entities, held where, until
when), extends or shortens its life (``expiresAt``, the only member a client may change) or
drops it when done paging."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.common import hub_of, json_input, tenant_headers, tenant_of
from cityhub.api.csources import respond
from cityhub.api.negotiation import JSON, JSON_LD, empty_response, negotiate
from cityhub.api.params import flag
from cityhub.errors import BadRequestData, ResourceNotFound
from cityhub.federation.entity_maps import EntityMap, EntityMaps
from cityhub.jsonld.core import CORE_CONTEXT_URL
from cityhub.model.values import require_uri

_MEDIA = (JSON, JSON_LD)


def _maps(request: Request) -> EntityMaps:
    return hub_of(request).federation.maps


async def _existing(request: Request, tenant: str) -> EntityMap:
    map_id = require_uri(request.path_params["map_id"], "EntityMap id")
    found = await _maps(request).get(tenant, map_id)
    if found is None:
        raise ResourceNotFound(f"EntityMap {map_id} does not exist (or has expired)")
    return found


async def retrieve_entity_map(request: Request) -> Response:
    """GET /entityMaps/{entityMapId} — Retrieve EntityMap (5.14.1): 200 with the map."""
    tenant = tenant_of(request)
    media = negotiate(request, _MEDIA)
    flag(request, "local")
    emap = await _existing(request, tenant)
    return respond(emap.as_json(), media, CORE_CONTEXT_URL, tenant_headers(tenant))


async def update_entity_map(request: Request) -> Response:
    """PATCH /entityMaps/{entityMapId} — Update EntityMap (5.14.2): only ``expiresAt`` may
    change (the members are the broker's record of a query); 204."""
    tenant = tenant_of(request)
    emap = await _existing(request, tenant)
    body = (await json_input(request)).body
    if not isinstance(body, dict):
        raise BadRequestData("An EntityMap fragment is a JSON object")
    unknown = set(body) - {"expiresAt", "@context", "id", "type"}
    if unknown:
        raise BadRequestData(
            f"Only expiresAt of an EntityMap can be changed, not {', '.join(sorted(unknown))}"
        )
    if "expiresAt" in body:
        raw = body["expiresAt"]
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise BadRequestData(f"expiresAt must be a DateTime, got {raw!r}") from None
        if not isinstance(raw, str) or moment.tzinfo is None:
            raise BadRequestData(f"expiresAt must be a DateTime in UTC, got {raw!r}")
        emap.expires_at = moment.astimezone(UTC).timestamp()
        await _maps(request).put(tenant, emap)
    return empty_response(204, tenant_headers(tenant))


async def delete_entity_map(request: Request) -> Response:
    """DELETE /entityMaps/{entityMapId} — Delete EntityMap (5.14.3): 204."""
    tenant = tenant_of(request)
    flag(request, "local")
    map_id = require_uri(request.path_params["map_id"], "EntityMap id")
    if not await _maps(request).delete(tenant, map_id):
        raise ResourceNotFound(f"EntityMap {map_id} does not exist")
    return empty_response(204, tenant_headers(tenant))


def routes() -> list[Route]:
    return [
        Route("/entityMaps/{map_id:path}", retrieve_entity_map, methods=["GET"]),
        Route("/entityMaps/{map_id:path}", update_entity_map, methods=["PATCH"]),
        Route("/entityMaps/{map_id:path}", delete_entity_map, methods=["DELETE"]),
    ]
