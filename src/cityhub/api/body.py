"""Reading request bodies safely: size limit, valid JSON, bounded nesting (clauses 5.5.4, 6.3.4)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from cityhub.errors import BadRequestData, InvalidRequest, LengthRequired, PayloadTooLarge

# orjson refuses nesting deeper than this itself, before our own depth check can run.
_ORJSON_DEPTH_LIMIT = 1024


async def read_json(request: Request, max_bytes: int, max_depth: int) -> Any:
    """The parsed JSON body (clause 6.3.4, 5.5.4).

    Raises LengthRequired (411) without a Content-Length header, PayloadTooLarge (413) beyond
    ``max_bytes``, InvalidRequest for malformed JSON and BadRequestData for nesting deeper
    than ``max_depth``.
    """
    declared = request.headers.get("content-length")
    if declared is None:
        raise LengthRequired("A request body needs a Content-Length header")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body has {declared} bytes; the limit is {max_bytes}")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > max_bytes:
            raise PayloadTooLarge(f"The body exceeds the limit of {max_bytes} bytes")
    if not chunks:
        raise InvalidRequest("The request needs a JSON body")
    try:
        body = orjson.loads(bytes(chunks))
    except orjson.JSONDecodeError as exc:
        if max_depth < _ORJSON_DEPTH_LIMIT and "depth" in str(exc).lower():
            raise _too_deep(max_depth) from exc
        raise InvalidRequest(f"The body is not valid JSON: {exc}") from exc
    if json_depth(body, max_depth) > max_depth:
        raise _too_deep(max_depth)
    return body


def _too_deep(max_depth: int) -> BadRequestData:
    return BadRequestData(f"The body nests objects and arrays deeper than {max_depth} levels")


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping once past ``limit`` (iterative, no recursion).

    Scalars have depth 0, ``{}`` and ``[]`` depth 1, ``{"a": [1]}`` depth 2.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
