"""The @context API: /jsonldContexts (clause 5.13)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.body import read_json
from cityhub.api.common import base_url, hub_of, tenant_headers, tenant_of
from cityhub.api.negotiation import JSON, JSON_LD, body_media_type, negotiate
from cityhub.api.params import flag
from cityhub.services.contexts import ContextService


def _json(
    content: object, media: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=media, headers=headers)


async def add_context(request: Request) -> Response:
    """POST /jsonldContexts — Add @context (5.13.2): 201 with its URL in Location.

    The body is ``{"@context": ...}`` as application/json or application/ld+json alike: here
    the @context is the payload itself, not the context of an entity (clause 6.3.5 rules out
    @context only in the JSON bodies of the entity operations).
    """
    hub, tenant = hub_of(request), tenant_of(request)
    body_media_type(request)
    settings = hub.settings
    body = await read_json(request, settings.max_body_bytes, settings.max_json_depth)
    url = await hub.contexts.add_hosted(body, base_url(request))
    return Response(status_code=201, headers={"Location": url, **tenant_headers(tenant)})


async def list_contexts(request: Request) -> Response:
    """GET /jsonldContexts — List @contexts (5.13.3): URLs, or metadata with details=true."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, (JSON, JSON_LD))
    records = await hub.contexts.list(request.query_params.get("kind"))
    if flag(request, "details"):
        body: object = [ContextService.metadata(r) for r in records]
    else:
        body = [r.url for r in records]
    return _json(body, media, headers=tenant_headers(tenant))


async def serve_context(request: Request) -> Response:
    """GET /jsonldContexts/{contextId} — Serve @context (5.13.4)."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, (JSON_LD, JSON))
    context_id = request.path_params["context_id"]
    if flag(request, "details"):
        record = await hub.contexts.find(context_id)
        return _json(ContextService.metadata(record), media, headers=tenant_headers(tenant))
    return _json(await hub.contexts.serve(context_id), media, headers=tenant_headers(tenant))


async def delete_context(request: Request) -> Response:
    """DELETE /jsonldContexts/{contextId} — Delete and Reload @context (5.13.5)."""
    hub, tenant = hub_of(request), tenant_of(request)
    await hub.contexts.delete(request.path_params["context_id"], reload=flag(request, "reload"))
    return Response(status_code=204, headers=tenant_headers(tenant))


def routes() -> list[Route]:
    return [
        Route("/jsonldContexts", add_context, methods=["POST"]),
        Route("/jsonldContexts", list_contexts, methods=["GET"]),
        Route("/jsonldContexts/{context_id:path}", serve_context, methods=["GET"]),
        Route("/jsonldContexts/{context_id:path}", delete_context, methods=["DELETE"]),
    ]
