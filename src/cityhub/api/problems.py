"""The one place errors become responses: NGSI-LD ProblemDetails (clause 5.5.3, RFC 7807)."""

from __future__ import annotations

import logging

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cityhub.errors import (
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NgsiLdError,
    ResourceNotFound,
)

log = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/json"


def problem_response(error: NgsiLdError) -> Response:
    return Response(
        orjson.dumps(error.to_problem()), status_code=error.status, media_type=PROBLEM_MEDIA_TYPE
    )


async def ngsi_ld_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NgsiLdError)
    return problem_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (unknown paths, methods) rendered as ProblemDetails too."""
    assert isinstance(exc, HTTPException)
    error: NgsiLdError
    if exc.status_code == 404:
        error = ResourceNotFound(f"No resource at {request.url.path}")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    else:
        error = InvalidRequest(str(exc.detail))
    response = problem_response(error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("Unexpected error on %s %s", request.method, request.url.path)
    return problem_response(InternalError(f"Unexpected error: {type(exc).__name__}"))
