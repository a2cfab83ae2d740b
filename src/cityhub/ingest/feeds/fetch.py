"""HTTP for feed adapters: timeouts, retries with backoff, conditional requests.

Open-data services are slow, flaky and rate-limited. A fetch retries connection errors,
timeouts, 429 and 5xx with exponential backoff (honouring ``Retry-After``), and remembers each
URL's ``ETag``/``Last-Modified`` so an unchanged feed answers 304 and costs nothing
(RFC 9110 §13.1). API keys live in settings and never appear in errors or dead letters.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_VALIDATORS = 4096  # URLs whose ETag/Last-Modified are remembered (oldest forgotten)


class FetchError(Exception):
    """A feed could not be fetched after the retries (the message says why, without keys)."""


@dataclass(frozen=True)
class Fetched:
    url: str  # as requested, with secrets masked
    status: int
    body: bytes
    content_type: str
    fetched_at: datetime


def masked(url: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            url = url.replace(secret, "***")
    return url


class Fetcher:
    """One HTTP client per running hub (or CLI run), shared by its adapters."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_bytes: int = 32 * 1024 * 1024,
        secrets: tuple[str, ...] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.secrets = secrets
        self._validators: dict[str, dict[str, str]] = {}
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=True,
            max_redirects=5,
            transport=transport,
            headers={"User-Agent": "CityHub feed adapter (+https://github.com/cityhub)"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        conditional: bool = True,
    ) -> Fetched | None:
        """The response body, or None when the server says it has not changed (304)."""
        shown = masked(str(httpx.URL(url, params=params)), self.secrets)
        request_headers = dict(headers or {})
        key = str(httpx.URL(url, params=params))
        if conditional:
            request_headers.update(self._validators.get(key, {}))
        attempt = 0
        while True:
            attempt += 1
            delay: float | None = None
            try:
                response = await self._client.get(url, params=params, headers=request_headers)
            except httpx.HTTPError as exc:
                reason = f"{shown}: {type(exc).__name__} {masked(str(exc), self.secrets)}".strip()
                delay = self._delay(attempt, None)
            else:
                if response.status_code == 304:
                    return None
                if response.status_code in RETRY_STATUSES:
                    reason = f"{shown} answered HTTP {response.status_code}"
                    delay = self._delay(attempt, response.headers.get("Retry-After"))
                elif response.status_code >= 400:
                    raise FetchError(f"{shown} answered HTTP {response.status_code}")
                else:
                    if len(response.content) > self.max_bytes:
                        raise FetchError(f"{shown} is larger than {self.max_bytes} bytes")
                    if conditional:
                        self._remember(key, response)
                    return Fetched(
                        shown,
                        response.status_code,
                        response.content,
                        response.headers.get("content-type", ""),
                        datetime.now(UTC),
                    )
            if attempt > self.retries:
                raise FetchError(f"{reason} (after {attempt} attempts)")
            await asyncio.sleep(delay)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 300.0)
            except ValueError:
                try:
                    when = parsedate_to_datetime(retry_after)
                    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), 300.0))
                except (TypeError, ValueError):
                    pass
        return float(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))

    def _remember(self, key: str, response: httpx.Response) -> None:
        validators = {}
        if etag := response.headers.get("etag"):
            validators["If-None-Match"] = etag
        if modified := response.headers.get("last-modified"):
            validators["If-Modified-Since"] = modified
        if validators:
            self._validators.pop(key, None)
            self._validators[key] = validators  # most recent last
            while len(self._validators) > MAX_VALIDATORS:
                del self._validators[next(iter(self._validators))]
        else:
            self._validators.pop(key, None)
