"""Requests to context sources (clause 4.3.6.3): one shared HTTP client (aiohttp: a
federated query makes one request per source, and httpx's per-request cost was a third of
a regional hub's CPU in bench/federation.py), per-source
timeouts, the source's tenant and ``contextSourceInfo`` headers, and ``Via`` naming every
hub the request went through, so a registration loop ends at the hub that sees itself
(RFC 9110 §7.6.3).

A source that fails (unreachable, slow, an error status, a body that is not NGSI-LD) gives
a :class:`SourceFailure` naming it; callers answer with what the others said and an
``NGSILD-Warning`` (clause 6.3.17), never an error of their own.

The registration's ``management`` (clause 5.2.34) is honoured here: ``timeout``;
``cooldown`` — after a failure, requests within that many milliseconds fail at once
("a timeout error response for the registration is automatically returned") instead of
waiting on a source that is down; ``cacheDuration`` — a consumption (GET) asked again
within that period is answered from the previous answer ("a cached value ... shall be
returned where available"), so a busy regional hub does not ask a city the same question
many times a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from cityhub.errors import BadRequestData
from cityhub.query.temporal import parse_duration

API = "/ngsi-ld/v1/"
# Headers of the incoming request passed on to sources (the rest are the hub's business).
PASSED_HEADERS = ("link",)
CACHED_ANSWERS = 1024  # answers kept for management.cacheDuration, least recent out


@dataclass(frozen=True)
class SourceFailure:
    registration_id: str
    endpoint: str
    reason: str

    def warning(self) -> str:
        """An NGSILD-Warning value (clause 6.3.17: 199 Miscellaneous Warning)."""
        text = f"{self.endpoint} ({self.registration_id}): {self.reason}".replace('"', "'")
        return f'199 cityhub "{text}"'


@dataclass(frozen=True)
class SourceAnswer:
    registration: dict[str, Any]
    status: int
    body: Any
    headers: CIMultiDictProxy[str]
    raw: bytes = b""  # the body as received (a kept answer is parsed again for each use)

    def failure(self) -> SourceFailure:
        """This answer as a failure of its source: its status and the ProblemDetails'
        ``detail`` when the body has one."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        return SourceFailure(
            str(self.registration.get("id")),
            str(self.registration.get("endpoint")),
            f"HTTP {self.status}" + (f": {detail}" if detail else ""),
        )


def via_hubs(header: str | None) -> list[str]:
    """The hub identities a Via header names (received-by members)."""
    hubs = []
    for part in (header or "").split(","):
        fields = part.strip().split()
        if len(fields) >= 2:
            hubs.append(fields[1])
    return hubs


def endpoint_url(registration: dict[str, Any], path: str) -> str:
    base = str(registration["endpoint"]).rstrip("/")
    if not base.endswith("/ngsi-ld/v1"):
        base += "/ngsi-ld/v1"
    return urljoin(base + "/", path.lstrip("/"))


def source_headers(
    registration: dict[str, Any], via: str, incoming: dict[str, str]
) -> dict[str, str]:
    headers = {"Accept": "application/json", "Via": via}
    for name in PASSED_HEADERS:
        if name in incoming:
            headers[name] = incoming[name]
    tenant = registration.get("tenant")
    if isinstance(tenant, str) and tenant:
        headers["NGSILD-Tenant"] = tenant
    for item in registration.get("contextSourceInfo") or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            headers[item["key"]] = str(item.get("value", ""))
    return headers


def timeout_of(registration: dict[str, Any], default: float) -> float:
    """The registration's management.timeout (milliseconds), else the hub's default."""
    management = registration.get("management")
    if isinstance(management, dict):
        value = management.get("timeout")
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value) / 1000.0
    return default


def _management_number(registration: dict[str, Any], member: str) -> float | None:
    management = registration.get("management")
    if isinstance(management, dict):
        value = management.get(member)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def cache_seconds(registration: dict[str, Any]) -> float:
    """management.cacheDuration in seconds (0: answers are not kept)."""
    management = registration.get("management")
    text = management.get("cacheDuration") if isinstance(management, dict) else None
    if not isinstance(text, str):
        return 0.0
    try:
        return parse_duration(text).micros / 1_000_000
    except (BadRequestData, AttributeError):
        return 0.0


class Hop(Protocol):
    """What of an incoming request goes on to sources (distributed.Forward)."""

    @property
    def via(self) -> str: ...

    @property
    def headers(self) -> dict[str, str]: ...


class Sources:
    """The hub's client for its context sources."""

    def __init__(self, *, default_timeout: float = 5.0) -> None:
        self.default_timeout = default_timeout
        self._client: aiohttp.ClientSession | None = None
        self._failed_at: dict[str, float] = {}  # registration id -> monotonic time
        self._answers: OrderedDict[tuple[str, str, str], tuple[float, SourceAnswer]] = OrderedDict()

    @property
    def client(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=50),
                json_serialize=lambda value: orjson.dumps(value).decode(),
                auto_decompress=True,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def request(
        self,
        registration: dict[str, Any],
        method: str,
        path: str,
        *,
        via: str,
        incoming: dict[str, str],
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> SourceAnswer | SourceFailure:
        url = endpoint_url(registration, path)
        if params:
            url += "?" + urlencode(params)
        headers = source_headers(registration, via, incoming)
        reg_id = str(registration.get("id"))
        now = time.monotonic()
        cooldown = _management_number(registration, "cooldown")
        failed = self._failed_at.get(reg_id)
        if cooldown is not None and failed is not None and now < failed + cooldown / 1000:
            left = (failed + cooldown / 1000 - now) * 1000
            return SourceFailure(
                reg_id, url, f"no request for {left:.0f} ms more after a failure (cooldown)"
            )
        keep = cache_seconds(registration) if method == "GET" and body is None else 0.0
        key = ("", "", "")
        if keep:
            asked = sorted((k, v) for k, v in headers.items() if k != "Via")
            key = (reg_id, url, orjson.dumps(asked).decode())
            kept = self._answers.get(key)
            if kept is not None and kept[0] > now:
                self._answers.move_to_end(key)
                raw = kept[1].raw
                parsed = orjson.loads(raw) if raw else None
                return dataclasses.replace(kept[1], registration=registration, body=parsed)
        answer = await self._send(registration, method, url, headers, body, content_type)
        if isinstance(answer, SourceFailure) or answer.status >= 500:
            self._failed_at[reg_id] = time.monotonic()
        else:
            self._failed_at.pop(reg_id, None)
            if keep and answer.status == 200:
                self._answers[key] = (now + keep, answer)
                self._answers.move_to_end(key)
                while len(self._answers) > CACHED_ANSWERS:
                    self._answers.popitem(last=False)
        return answer

    async def get(
        self, registration: dict[str, Any], path: str, hop: Hop, params: list[tuple[str, str]]
    ) -> SourceAnswer | SourceFailure:
        """A consumption operation (GET) asked of a source on behalf of ``hop``'s request."""
        return await self.request(
            registration, "GET", path, via=hop.via, incoming=hop.headers, params=params
        )

    async def _send(
        self,
        registration: dict[str, Any],
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        content_type: str,
    ) -> SourceAnswer | SourceFailure:
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["Content-Type"] = content_type
        timeout = timeout_of(registration, self.default_timeout)
        reg_id = str(registration.get("id"))
        try:
            async with asyncio.timeout(timeout):
                async with self.client.request(
                    method, url, headers=headers, data=content, allow_redirects=False
                ) as response:
                    status = response.status
                    received = await response.read()
                    answer_headers = response.headers
        except TimeoutError:
            return SourceFailure(reg_id, url, f"no answer within {timeout:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return SourceFailure(reg_id, url, f"{type(exc).__name__}: {exc}".strip())
        parsed: Any = None
        if received:
            try:
                parsed = orjson.loads(received)
            except orjson.JSONDecodeError:
                return SourceFailure(reg_id, url, f"HTTP {status} with a body that is not JSON")
        return SourceAnswer(registration, status, parsed, answer_headers, received)
