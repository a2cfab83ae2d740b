"""Per-request plumbing shared by the API modules: the hub, the tenant, body and @context."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from cityhub.api.body import read_json
from cityhub.api.negotiation import (
    RequestContext,
    body_media_type,
    header_value,
    request_context,
)
from cityhub.errors import BadRequestData, NgsiLdError, NoMultiTenantSupport
from cityhub.hub import Hub
from cityhub.jsonld.termmap import TermMap
from cityhub.storage.base import DEFAULT_TENANT

TENANT_HEADER = "ngsild-tenant"
_TENANT_HEADER = TENANT_HEADER.encode()
_TENANT = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def tenant_of(request: Request) -> str:
    """The NGSILD-Tenant header (clause 6.3.14); absent means the default tenant."""
    raw = header_value(request, _TENANT_HEADER)
    if raw is None or raw == "":
        return DEFAULT_TENANT
    if not hub_of(request).settings.multi_tenancy:
        raise NoMultiTenantSupport("This hub does not support tenants")
    if not _TENANT.match(raw):
        raise BadRequestData(f"Tenant {raw!r} is not a valid tenant name")
    return raw


def tenant_headers(tenant: str) -> dict[str, str]:
    """The NGSILD-Tenant response header: every response on a tenant names it (clause 5.5.10)."""
    return {"NGSILD-Tenant": tenant} if tenant else {}


def echoed_tenant_headers(request: Request) -> dict[str, str]:
    """tenant_headers for an error response: empty when the tenant itself is the error."""
    try:
        return tenant_headers(tenant_of(request))
    except NgsiLdError:
        return {}


@dataclass
class JsonInput:
    """A parsed body with its media type and @context."""

    body: Any
    media: str
    context: RequestContext


async def json_input(request: Request) -> JsonInput:
    """Read, check and parse a JSON or JSON-LD body (415, 413, 400 as the spec asks)."""
    settings = hub_of(request).settings
    media = body_media_type(request)
    body = await read_json(request, settings.max_body_bytes, settings.max_json_depth)
    return JsonInput(body, media, request_context(request, body, media))


async def termmap_for(request: Request, context: Any) -> TermMap:
    """The TermMap of a request @context. An inline context (an object, or an array holding
    one) is also kept as an ImplicitlyCreated context (clause 5.13) so it has a URL."""
    hub = hub_of(request)
    termmap = await hub.contexts.resolve(context)
    if isinstance(context, dict) or (
        isinstance(context, list) and any(isinstance(item, dict) for item in context)
    ):
        await hub.contexts.implicit_url(context, base_url(request))
    return termmap


async def read_context(request: Request) -> tuple[RequestContext, TermMap]:
    """@context of a request without a body (GET, DELETE): the Link header or the core."""
    ctx = request_context(request, None, None)
    if ctx.value is None:  # no Link header: the core context, without the resolver's await
        return ctx, hub_of(request).contexts.resolver.core
    return ctx, await termmap_for(request, ctx.value)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
