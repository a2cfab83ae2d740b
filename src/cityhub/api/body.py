"""Reading request bodies safely: size limit, valid JSON, bounded nesting (clause 6.3.3)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from cityhub.errors import BadRequestData, InvalidRequest, PayloadTooLarge


async def read_json(request: Request, max_bytes: int, max_depth: int) -> Any:
    """The parsed JSON body; 413 beyond ``max_bytes``, 400 for malformed or too deep JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
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
        raise InvalidRequest(f"The body is not valid JSON: {exc}") from exc
    depth = json_depth(body, max_depth)
    if depth > max_depth:
        raise BadRequestData(f"The body nests deeper than {max_depth} levels")
    return body


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping once past ``limit`` (iterative, no recursion)."""
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
