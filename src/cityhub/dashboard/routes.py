"""The dashboard's HTTP routes: the page at ``/``, its files, and its JSON API
(docs/dashboard.md). Errors are NGSI-LD ProblemDetails like the rest of the hub."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from cityhub.api.common import hub_of
from cityhub.dashboard import i18n
from cityhub.dashboard.assets import STATIC, Assets
from cityhub.dashboard.basemap import Basemaps
from cityhub.dashboard.cities import City, cities_of
from cityhub.dashboard.data import DashboardData, layer_list
from cityhub.dashboard.live import ensure_subscription, events
from cityhub.errors import BadRequestData, ResourceNotFound
from cityhub.services.tenants import require_tenant

ATLAS = "world-atlas/countries-10m.json"


def _data(request: Request) -> DashboardData:
    state = request.app.state
    if not hasattr(state, "dashboard"):
        state.dashboard = DashboardData(hub_of(request))
    data: DashboardData = state.dashboard
    return data


def _assets(request: Request) -> Assets:
    state = request.app.state
    if not hasattr(state, "dashboard_assets"):
        folder = hub_of(request).settings.dashboard_assets
        state.dashboard_assets = Assets(Path(folder) if folder else None)
    assets: Assets = state.dashboard_assets
    return assets


def _basemaps(request: Request) -> Basemaps:
    state = request.app.state
    if not hasattr(state, "dashboard_basemaps"):
        state.dashboard_basemaps = Basemaps(_assets(request).node_modules / ATLAS)
    basemaps: Basemaps = state.dashboard_basemaps
    return basemaps


def _prepare_basemaps(request: Request, cities: list[City]) -> None:
    """Cut every city's basemap in a thread once, before the first page asks for one."""
    state = request.app.state
    basemaps = _basemaps(request)
    if getattr(state, "dashboard_basemaps_started", False) or not basemaps.available:
        return
    state.dashboard_basemaps_started = True

    def cut_all() -> None:
        for city in cities:
            basemaps.around(city.center)

    state.dashboard_basemaps_task = asyncio.get_running_loop().run_in_executor(None, cut_all)


def _language(request: Request) -> str:
    return i18n.supported(request.query_params.get("lang")) or i18n.DEFAULT


def _json(body: object) -> Response:
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-cache"}
    )


async def page(request: Request) -> Response:
    """GET / — the dashboard in the language of ?lang=, the cookie or Accept-Language."""
    language = i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("accept-language"),
    )
    template = STATIC / "index.html"
    if not template.is_file():
        raise ResourceNotFound("The dashboard page is not installed")
    messages = i18n.catalog(language)
    boot = {
        "lang": language,
        "messages": messages,
        "languages": [{"tag": t, "name": n} for t, n in i18n.LANGUAGES.items()],
    }
    # </script> can never close the boot block early: "<" is escaped in the JSON.
    boot_json = orjson.dumps(boot).decode().replace("<", "\\u003c")
    title = str(messages.get("app.title", "CityHub"))
    html = (
        template.read_text(encoding="utf-8")
        .replace("{{LANG}}", language)
        .replace("{{DIR}}", "ltr")
        .replace("{{TITLE}}", title.replace("&", "&amp;").replace("<", "&lt;"))
        .replace("{{BOOT_JSON}}", boot_json)
    )
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": "no-cache",
            "Content-Language": language,
            "Vary": "Accept-Language, Cookie",
        },
    )


async def static_file(request: Request) -> Response:
    return _assets(request).static(request, request.path_params["path"])


async def vendor_file(request: Request) -> Response:
    return _assets(request).vendor(request, request.path_params["path"])


async def config(request: Request) -> Response:
    """GET /dashboard/api/config — languages, cities, layers and map settings."""
    settings = hub_of(request).settings
    cities = cities_of(await hub_of(request).store.tenants())
    _prepare_basemaps(request, cities)
    return _json(
        {
            "languages": [{"tag": t, "name": n} for t, n in i18n.LANGUAGES.items()],
            "cities": [city.as_json() for city in cities],
            "layers": layer_list(),
            "map": {
                "style": settings.dashboard_map_style or None,
                "tiles": settings.dashboard_tile_url or None,
                "attribution": settings.dashboard_tile_attribution or None,
            },
            "basemap": _basemaps(request).available,
        }
    )


async def basemap(request: Request) -> Response:
    """GET /dashboard/api/cities/{tenant}/basemap — land, coastlines and borders around the
    city (dashboard/basemap.py), a GeoJSON FeatureCollection whose features say their kind."""
    tenant = request.path_params["tenant"]
    basemaps = _basemaps(request)
    if not basemaps.available:
        raise ResourceNotFound(
            f"The offline basemap is not installed: `npm ci --prefix {STATIC.parent}`"
        )
    cities = cities_of(await hub_of(request).store.tenants())
    city = next((c for c in cities if c.tenant == tenant), None)
    if city is None:
        raise ResourceNotFound(f"No city {tenant!r} on this hub")
    cut = await asyncio.get_running_loop().run_in_executor(None, basemaps.around, city.center)
    headers = {"Cache-Control": "no-cache", "ETag": cut.etag, "Vary": "Accept-Encoding"}
    if cut.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(cut.gzipped, media_type="application/geo+json", headers=headers)
    return Response(cut.body, media_type="application/geo+json", headers=headers)


async def layer(request: Request) -> Response:
    p = request.path_params
    body = await _data(request).features(p["tenant"], p["layer"], _language(request))
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


async def city_summary(request: Request) -> Response:
    return _json(await _data(request).summary(request.path_params["tenant"], _language(request)))


async def details(request: Request) -> Response:
    p = request.path_params
    return _json(await _data(request).details(p["tenant"], p["entity_id"], _language(request)))


async def history(request: Request) -> Response:
    p, q = request.path_params, request.query_params
    return _json(
        await _data(request).history(
            p["tenant"], p["entity_id"], q.get("attr", ""), q.get("period", "P1D")
        )
    )


async def compare(request: Request) -> Response:
    return _json(
        await _data(request).compare(request.query_params.get("period", "P1D"), _language(request))
    )


async def live(request: Request) -> Response:
    """GET /dashboard/api/cities/{tenant}/live — server-sent events of changed features."""
    data, tenant = _data(request), request.path_params["tenant"]
    await require_tenant(data.hub.store, tenant)
    await ensure_subscription(data, tenant)
    raw = request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    if raw and not (raw.isascii() and raw.isdigit()):
        raise BadRequestData(f"Last-Event-ID must be a feed position, got {raw!r}")
    after = int(raw) if raw else None
    stream = events(data, tenant, _language(request), after, request.is_disconnected)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


def routes() -> list[Route]:
    api = "/dashboard/api"
    city = api + "/cities/{tenant}"
    return [
        Route("/", page, methods=["GET"]),
        Route("/dashboard/static/{path:path}", static_file, methods=["GET"]),
        Route("/dashboard/vendor/{path:path}", vendor_file, methods=["GET"]),
        Route(api + "/config", config, methods=["GET"]),
        Route(api + "/compare", compare, methods=["GET"]),
        Route(city + "/layers/{layer}", layer, methods=["GET"]),
        Route(city + "/summary", city_summary, methods=["GET"]),
        Route(city + "/basemap", basemap, methods=["GET"]),
        Route(city + "/live", live, methods=["GET"]),
        Route(city + "/entities/{entity_id:path}/history", history, methods=["GET"]),
        Route(city + "/entities/{entity_id:path}", details, methods=["GET"]),
    ]
