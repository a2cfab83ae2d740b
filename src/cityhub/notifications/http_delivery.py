"""HTTP binding of notifications (clause 7.2): POST the Notification to the endpoint URI.

One aiohttp session per worker, connections kept alive per receiver: at hundreds of
notifications a second the client's own cost matters, and aiohttp's per-request CPU is a
fraction of httpx's (bench/notify.py; the same choice as the federation's source client).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from cityhub.notifications.payload import Notification

DEFAULT_TIMEOUT_MS = 10_000


class HttpDelivery:
    """One pooled HTTP client for every http:// and https:// endpoint of this worker."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use, inside the running loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, limit_per_host=64),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def send(self, endpoint: dict[str, Any], notification: Notification) -> str | None:
        """None when the receiver answered 2xx, else what went wrong."""
        headers = {"Content-Type": notification.content_type, **notification.headers}
        timeout = (endpoint.get("timeout") or DEFAULT_TIMEOUT_MS) / 1000
        try:
            async with asyncio.timeout(timeout):
                async with self.session.post(
                    endpoint["uri"],
                    data=notification.encoded(),
                    headers=headers,
                    allow_redirects=False,
                ) as response:
                    await response.read()
                    status = response.status
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}".strip()
        if 200 <= status < 300:
            return None
        return f"HTTP {status}"

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
