"""A small real HTTP server on 127.0.0.1 for tests that need remote documents (@contexts).

Routes map a path to a body, status, content type and an optional delay; every GET is counted
per path, so a test can assert how often the hub fetched something. The server runs in a
background thread (stdlib ``http.server``) on a free port and is stopped by ``close()``.

Example::

    with ContextServer() as server:
        url = server.route("/ctx.jsonld", {"@context": {"speed": "https://example.org/speed"}})
        ...
        assert server.hits("/ctx.jsonld") == 1
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_LD = "application/ld+json"


@dataclass(frozen=True)
class Route:
    """What the server answers on one path."""

    body: bytes
    status: int = 200
    content_type: str = JSON_LD
    delay: float = 0.0
    etag: str | None = None  # sent as ETag; a matching If-None-Match gets 304


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        with owner.lock:
            owner.counts[path] += 1
            owner.requests.append((self.path, dict(self.headers.items())))
            route = owner.routes.get(path)
        if route is not None and route.etag and self.headers.get("If-None-Match") == route.etag:
            self.send_response(304)
            self.send_header("ETag", route.etag)
            self.end_headers()
            return
        if route is None:
            route = Route(b'{"detail": "not found"}', status=404, content_type="application/json")
        if route.delay:
            time.sleep(route.delay)
        try:
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            if route.etag:
                self.send_header("ETag", route.etag)
            self.end_headers()
            self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing left to answer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ContextServer


class ContextServer:
    """An HTTP server on 127.0.0.1 (free port) serving configurable routes, counting GETs."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.counts: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path with query, headers)
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(
        self,
        path: str,
        body: Any,
        *,
        status: int = 200,
        content_type: str = JSON_LD,
        delay: float = 0.0,
        etag: str | None = None,
    ) -> str:
        """Serve ``body`` (bytes, str, or a JSON value) at ``path``; returns the full URL."""
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode()
        with self.lock:
            self.routes[path] = Route(raw, status, content_type, delay, etag)
        return self.url(path)

    def hits(self, path: str) -> int:
        """How many GET requests reached ``path``."""
        with self.lock:
            return self.counts[path]

    def total_hits(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def close(self) -> None:
        """Stop serving. ``shutdown()`` waits for the serving loop without a timeout, and a
        full test run once hung there for good: it is asked from a helper thread and waited
        for at most 5 s, then the socket is closed regardless (the threads are daemons)."""
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        stopper.join(timeout=5)
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ContextServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
