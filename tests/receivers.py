"""A real notification receiver: an HTTP server on 127.0.0.1 that records every POST.

Tests point subscriptions at ``receiver.url("/notify")``, make changes through the API and
wait for what arrives. ``status`` sets what the receiver answers (a test makes it fail and
then recover); every request is recorded either way, answered or not.

Example::

    with NotificationReceiver() as receiver:
        ... create a subscription with endpoint receiver.url("/n") ...
        [received] = await receiver.wait_for(1)
        assert received.body["type"] == "Notification"
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    status: int  # what the receiver answered


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        owner = self.server.owner
        status = owner.status
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        if owner.delay:
            time.sleep(owner.delay)
        if owner.hold:
            with owner.lock:
                owner.holding += 1
            owner.release.wait(30)
            with owner.lock:
                owner.holding -= 1
        with owner.lock:
            owner.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
            )
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub gave up waiting (its timeout)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: NotificationReceiver


class NotificationReceiver:
    def __init__(self, *, hold: bool = False, delay: float = 0.0) -> None:
        self.status = 200
        self.delay = delay  # seconds each request takes before it is answered
        # With hold, each request waits (counted in ``holding``) until ``release`` is set.
        self.hold = hold
        self.holding = 0
        self.release = threading.Event()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def accepted(self) -> list[Received]:
        """Requests answered with 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` accepted notifications; fails when they do not come in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            accepted = self.accepted()
            if len(accepted) >= count:
                return accepted[:count]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.accepted())} of {count} notifications arrived")

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> NotificationReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
