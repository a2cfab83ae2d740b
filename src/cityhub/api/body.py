"""Reading request bodies safely: size limit, valid JSON, bounded nesting (clauses 5.5.4, 6.3.4)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request

from cityhub.api.negotiation import header_value
from cityhub.errors import BadRequestData, InvalidRequest, LengthRequired, PayloadTooLarge

# orjson refuses nesting deeper than this itself, before our own depth check can run.
_ORJSON_DEPTH_LIMIT = 1024


async def read_json(request: Request, max_bytes: int, max_depth: int) -> Any:
    """The parsed JSON body (clause 6.3.4, 5.5.4).

    Raises LengthRequired (411) without a Content-Length header, PayloadTooLarge (413) beyond
    ``max_bytes``, InvalidRequest for malformed JSON and BadRequestData for nesting deeper
    than ``max_depth``.
    """
    declared = header_value(request, b"content-length")
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
    raw = bytes(chunks)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if max_depth < _ORJSON_DEPTH_LIMIT and "depth" in str(exc).lower():
            raise _too_deep(max_depth) from exc
        raise InvalidRequest(f"The body is not valid JSON: {exc}") from exc
    check_structure(raw, body, max_depth)
    return body


# Only the structure characters survive; brackets of either kind become ( and ).
_BRACKETS = bytes.maketrans(b"[]{}", b"()()")
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')
_QUOTED = re.compile(rb'"[^"]*"')


def check_structure(raw: bytes, body: Any, max_depth: int) -> None:
    """Refuse a parsed body nesting deeper than ``max_depth`` or holding U+0000.

    Works on the raw bytes, which orjson has already validated, at C speed: JSON text can only
    carry U+0000 as the escape ``\\u0000``, so the object walk (``json_depth``) runs only when
    that sequence occurs; otherwise the depth is that of the brackets left once the strings are
    removed (``{"a": "[x", "b": [1]}`` → ``(())`` → 2).
    """
    if b"\\" in raw:
        if b"\\u0000" in raw:
            if json_depth(body, max_depth) > max_depth:
                raise _too_deep(max_depth)
            return
        # Escaped backslashes first (left to right, as JSON reads them), then escaped quotes;
        # any other escape loses its backslash in the translation below.
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = raw.translate(_BRACKETS, _NOT_STRUCTURE)
    if b'"' in structure:
        # Adjacent quotes close one string and open the next (or enclose an empty one): dropping
        # them merges strings, whose contents go anyway.
        structure = structure.replace(b'""', b"")
        if b'"' in structure:
            structure = _QUOTED.sub(b"", structure)
    depth = 0
    while structure:
        depth += 1
        if depth > max_depth:
            raise _too_deep(max_depth)
        # One pass removes every empty container, i.e. one level of the nesting tree.
        structure = structure.replace(b"()", b"")


def _too_deep(max_depth: int) -> BadRequestData:
    return BadRequestData(f"The body nests objects and arrays deeper than {max_depth} levels")


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping once past ``limit`` (iterative, no recursion).

    Scalars have depth 0, ``{}`` and ``[]`` depth 1, ``{"a": [1]}`` depth 2. Strings holding
    U+0000 are refused on the way (BadRequestData): PostgreSQL cannot store them in JSONB and
    both stores must accept the same input. Only containers are pushed, so a walk costs about
    as much as parsing the body.
    """
    if not isinstance(value, dict | list):
        _check_text(value)
        return 0
    deepest = 1
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        if isinstance(item, dict):
            for key in item:
                if "\x00" in key:
                    raise _nul_error()
            children: Any = item.values()
        else:
            children = item
        for child in children:
            if isinstance(child, dict | list):
                push((child, depth + 1))
            elif isinstance(child, str) and "\x00" in child:
                raise _nul_error()
    return deepest


def _check_text(value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise _nul_error()


def _nul_error() -> BadRequestData:
    return BadRequestData("The body contains the character U+0000, which cannot be stored")
