"""Content negotiation and @context transport (clauses 6.3.4–6.3.6).

Requests carry their @context in a Link header (``application/json``) or in the body
(``application/ld+json``); responses return it the same way the client asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from cityhub.errors import BadRequestData, NotAcceptable, UnsupportedMediaType
from cityhub.jsonld.core import CORE_CONTEXT_URL

JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


def header_value(request: Request, name: bytes) -> str | None:
    """The first value of a request header, as ``request.headers.get`` gives it, without
    building Starlette's Headers mapping (a few µs per lookup on every request). ``name`` is
    in lower case, as ASGI servers pass header names."""
    for key, value in request.scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _media_ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        media, *params = (p.strip() for p in piece.split(";"))
        weight = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    weight = float(param[2:])
                except ValueError:
                    weight = 0.0
        ranges.append((media.lower(), weight))
    return ranges


def _specificity(media: str, candidate: str) -> int:
    """How specifically a media range names a type: 2 exact, 1 type/*, 0 */*, -1 no match."""
    if media == candidate:
        return 2
    if media.endswith("/*") and candidate.startswith(media[:-1]):
        return 1
    return 0 if media == "*/*" else -1


def negotiate(request: Request, offered: tuple[str, ...] = (JSON, JSON_LD)) -> str:
    """The best offered media type for the Accept header (clause 6.3.4); 406 when none fits.

    Each offered type takes the weight of the most specific range that matches it (RFC 9110
    clause 12.5.1), so ``application/json;q=0, */*`` refuses JSON; at equal weight a type the
    client named outright wins over one a wildcard matched, then the hub's order decides.
    """
    header = header_value(request, b"accept")
    if not header:
        return offered[0]
    key = (header, offered)
    chosen = _negotiated.get(key)
    if chosen is None:
        chosen = _best_offer(header, offered)
        if len(_negotiated) < _NEGOTIATED_LIMIT:
            _negotiated[key] = chosen
    return chosen


# Clients send the same few Accept headers again and again.
_negotiated: dict[tuple[str, tuple[str, ...]], str] = {}
_NEGOTIATED_LIMIT = 1024


def _best_offer(header: str, offered: tuple[str, ...]) -> str:
    ranges = _media_ranges(header)
    best: tuple[float, int, int] | None = None
    chosen = None
    for rank, candidate in enumerate(offered):
        weight, specificity = 0.0, -1
        for media, q in ranges:
            level = _specificity(media, candidate)
            if level > specificity or (level == specificity and q > weight):
                weight, specificity = q, level
        if specificity < 0 or weight <= 0:
            continue
        key = (weight, specificity, -rank)
        if best is None or key > best:
            best, chosen = key, candidate
    if chosen is None:
        raise NotAcceptable(f"None of {', '.join(offered)} matches Accept: {header}")
    return chosen


def link_context(request: Request) -> str | None:
    """The @context URL from a JSON-LD Link header, if any (clause 6.3.5)."""
    header = header_value(request, b"link")
    if not header:
        return None
    for link in header.split(","):
        parts = [p.strip() for p in link.split(";")]
        target = parts[0]
        if not (target.startswith("<") and target.endswith(">")):
            raise BadRequestData(f"Link header {header!r} is not of the form <url>; rel=...")
        params = {}
        for param in parts[1:]:
            key, _, value = param.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        if params.get("rel") == CONTEXT_REL:
            return target[1:-1]
    return None


@dataclass(frozen=True)
class RequestContext:
    """How the client expressed its @context: a URL, an inline value, or nothing."""

    value: Any  # None (core), a URL string, or an inline object/array
    from_body: bool


def body_media_type(request: Request) -> str:
    """The body's media type: JSON or JSON-LD; 415 UnsupportedMediaType otherwise."""
    header = header_value(request, b"content-type") or ""
    media = header.split(";")[0].strip().lower()
    if media in {JSON, JSON_LD}:
        return media
    if media == MERGE_PATCH and request.method == "PATCH":
        return JSON
    raise UnsupportedMediaType(
        f"Content-Type {header or '(none)'} is not supported; use {JSON} or {JSON_LD}"
    )


def request_context(request: Request, body: Any, media: str | None) -> RequestContext:
    """The @context of a request: body for JSON-LD, Link header for JSON (clause 6.3.5)."""
    link = link_context(request)
    if media == JSON_LD:
        if link is not None:
            raise BadRequestData("A JSON-LD body carries its own @context: remove the Link header")
        if isinstance(body, dict):
            if "@context" not in body:
                raise BadRequestData("A JSON-LD body needs an @context member")
            return RequestContext(body["@context"], True)
        if isinstance(body, list):
            return RequestContext(None, True)
    elif isinstance(body, dict) and "@context" in body:
        raise BadRequestData("@context in a JSON body needs Content-Type application/ld+json")
    return RequestContext(link, False)


def item_context(item: Any, media: str, fallback: RequestContext) -> Any:
    """The @context of one batch item: its own in JSON-LD bodies, else the request's."""
    if media == JSON_LD:
        if not isinstance(item, dict) or "@context" not in item:
            raise BadRequestData("Each entity of a JSON-LD batch needs an @context member")
        return item["@context"]
    if isinstance(item, dict) and "@context" in item:
        raise BadRequestData("@context in a JSON body needs Content-Type application/ld+json")
    return fallback.value


class _PreparedResponse(Response):
    """A response whose headers are built here, without Starlette's generic header pass."""

    def __init__(self, body: bytes, status: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


def prepared_response(body: bytes, status: int, raw_headers: list[tuple[bytes, bytes]]) -> Response:
    """A response from a body and headers built before (api/rendered.py)."""
    return _PreparedResponse(body, status, raw_headers)


def _link_header(url: str) -> bytes:
    return f'<{url}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'.encode("latin-1")


_CORE_LINK = _link_header(CORE_CONTEXT_URL)


def json_response(
    content: Any,
    *,
    status: int = 200,
    media: str = JSON,
    context: Any = None,
    context_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON, JSON-LD or GeoJSON response carrying the @context the way the client asked.

    ``context`` is the value to embed for JSON-LD (None means the core context);
    ``context_url`` is what a Link header points at for JSON and GeoJSON.
    """
    raw_headers = (
        [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if headers
        else []
    )
    if media == JSON_LD:
        value = context if context is not None else CORE_CONTEXT_URL
        if isinstance(content, list):
            content = [{**item, "@context": value} for item in content]
        elif isinstance(content, dict):
            content = {**content, "@context": value}
    else:
        link = _link_header(context_url) if context_url else _CORE_LINK
        raw_headers.append((b"link", link))
    body = orjson.dumps(content)
    raw_headers.append((b"content-length", str(len(body)).encode("latin-1")))
    raw_headers.append((b"content-type", media.encode("latin-1")))
    return _PreparedResponse(body, status, raw_headers)


def empty_response(status: int, headers: dict[str, str]) -> Response:
    """A response without a body (201 with Location, 204), as Starlette's Response builds it."""
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if status >= 200 and status not in (204, 304):
        raw_headers.append((b"content-length", b"0"))
    return _PreparedResponse(b"", status, raw_headers)
