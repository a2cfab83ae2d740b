"""The dashboard's files: its own (``web/static``) and the front-end packages installed from
the npm registry into ``web/node_modules`` (``npm ci``), served by the hub — no CDN.

Only the package files the page uses are served (an allow-list), gzip-compressed once in
memory when the browser accepts it (MapLibre is a few hundred kB).
"""

from __future__ import annotations

import gzip
import mimetypes
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from cityhub.errors import ResourceNotFound

WEB = Path(__file__).parent / "web"
STATIC = WEB / "static"
_VENDOR = re.compile(
    r"^(maplibre-gl/dist/[\w.-]+\.(?:mjs|css|map)"
    r"|uplot/dist/[\w.-]+\.(?:js|css))$"
)
_COMPRESS_ABOVE = 4096
_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".html": "text/html",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class Assets:
    def __init__(self, node_modules: Path | None = None) -> None:
        self.node_modules = node_modules or WEB / "node_modules"
        self._cache: dict[tuple[Path, bool], tuple[float, bytes]] = {}

    def _body(self, path: Path, compressed: bool) -> bytes:
        mtime = path.stat().st_mtime
        cached = self._cache.get((path, compressed))
        if cached is not None and cached[0] == mtime:
            return cached[1]
        body = path.read_bytes()
        if compressed:
            body = gzip.compress(body, 6)
        self._cache[(path, compressed)] = (mtime, body)
        return body

    def response(self, request: Request, path: Path, *, immutable: bool) -> Response:
        """The file, or 304 when the browser holds this version (its ETag: every load of
        the page would otherwise fetch MapLibre and the basemap again)."""
        if not path.is_file():
            raise ResourceNotFound(f"No dashboard file {path.name}")
        stat = path.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers={"ETag": etag, "Vary": "Accept-Encoding"})
        media = (
            _TYPES.get(path.suffix)
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream"
        )
        compress = (
            "gzip" in request.headers.get("accept-encoding", "")
            and path.stat().st_size > _COMPRESS_ABOVE
        )
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
            "Vary": "Accept-Encoding",
            "ETag": etag,
        }
        if compress:
            headers["Content-Encoding"] = "gzip"
        if media.startswith("text/") or media == "application/json":
            media += "; charset=utf-8"
        return Response(self._body(path, compress), media_type=media, headers=headers)

    def vendor(self, request: Request, relative: str) -> Response:
        if not _VENDOR.match(relative):
            raise ResourceNotFound(f"{relative} is not a dashboard package file")
        path = self.node_modules / relative
        if not path.is_file():
            raise ResourceNotFound(
                f"{relative} is missing: install the dashboard's packages with "
                f"`npm ci --prefix {WEB}` (scripts/hub.sh does it)"
            )
        return self.response(request, path, immutable=False)

    def static(self, request: Request, relative: str) -> Response:
        path = (STATIC / relative).resolve()
        if STATIC.resolve() not in path.parents:
            raise ResourceNotFound(f"No dashboard file {relative}")
        return self.response(request, path, immutable=False)
