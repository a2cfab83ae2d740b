"""HTTP binding of notifications (clause 7.2): POST the Notification to the endpoint URI."""

from __future__ import annotations

from typing import Any

import httpx

from cityhub.notifications.payload import Notification

DEFAULT_TIMEOUT_MS = 10_000


class HttpDelivery:
    """One pooled HTTP client for every http:// and https:// endpoint of this worker."""

    def __init__(self) -> None:
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )

    async def send(self, endpoint: dict[str, Any], notification: Notification) -> str | None:
        """None when the receiver answered 2xx, else what went wrong."""
        headers = {"Content-Type": notification.content_type, **notification.headers}
        timeout = (endpoint.get("timeout") or DEFAULT_TIMEOUT_MS) / 1000
        try:
            response = await self._client.post(
                endpoint["uri"], content=notification.encoded(), headers=headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def aclose(self) -> None:
        await self._client.aclose()
