"""The one place errors become responses: NGSI-LD ProblemDetails (clauses 5.5.3, 6.3.2, 6.3.3)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route

from cityhub.api.common import echoed_tenant_headers
from cityhub.errors import (
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NgsiLdError,
    ResourceNotFound,
)

log = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/json"


def problem_response(error: NgsiLdError, headers: dict[str, str] | None = None) -> Response:
    """Clause 6.3.3: application/json, the type's status, a ProblemDetails body, no Link."""
    return Response(
        orjson.dumps(error.to_problem()),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


async def ngsi_ld_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NgsiLdError)
    return problem_response(exc, echoed_tenant_headers(request))


def _allowed_methods(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> set[str]:
    """Methods of every route whose path matches, descending into mounts."""
    allowed: set[str] = set()
    for route in routes:
        match, child_scope = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount):
            allowed |= _allowed_methods(route.routes, {**scope, **child_scope})
        elif isinstance(route, Route) and route.methods:
            allowed |= route.methods
    return allowed


def allow_header(request: Request) -> str:
    """The Allow header of a 405 (clause 6.3.2, RFC 7231 section 6.5.5): all methods the path
    supports, although each method is routed separately."""
    root = request.scope.get("app_root_path", "")
    scope = {"type": "http", "path": request.scope["path"], "root_path": root, "method": ""}
    return ", ".join(sorted(_allowed_methods(request.app.router.routes, scope)))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (unknown paths, methods) rendered as ProblemDetails too."""
    assert isinstance(exc, HTTPException)
    error: NgsiLdError
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error = ResourceNotFound(f"No resource at {request.url.path}")
    elif exc.status_code == 405:
        allowed = allow_header(request)
        error = MethodNotAllowed(
            f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        )
        headers["Allow"] = allowed
    else:
        error = InvalidRequest(str(exc.detail))
    return problem_response(error, headers)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("Unexpected error on %s %s", request.method, request.url.path)
    return problem_response(InternalError(f"Unexpected error: {type(exc).__name__}"))
