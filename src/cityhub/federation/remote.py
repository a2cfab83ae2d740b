"""Requests to context sources (clause 4.3.6.3): one shared HTTP client (aiohttp: a
federated query makes one request per source, and httpx's per-request cost was a third of
a regional hub's CPU in bench/federation.py), per-source
timeouts, the source's tenant and ``contextSourceInfo`` headers, and ``Via`` naming every
hub the request went through, so a registration loop ends at the hub that sees itself
(RFC 9110 §7.6.3).

A source that fails (unreachable, slow, an error status, a body that is not NGSI-LD) gives
a :class:`SourceFailure` naming it; callers answer with what the others said and an
``NGSILD-Warning`` (clause 6.3.17), never an error of their own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import aiohttp
import orjson
from multidict import CIMultiDictProxy

API = "/ngsi-ld/v1/"
# Headers of the incoming request passed on to sources (the rest are the hub's business).
PASSED_HEADERS = ("link",)


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


class Sources:
    """The hub's client for its context sources."""

    def __init__(self, *, default_timeout: float = 5.0) -> None:
        self.default_timeout = default_timeout
        self._client: aiohttp.ClientSession | None = None

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
        return SourceAnswer(registration, status, parsed, answer_headers)
