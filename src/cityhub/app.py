"""create_app(settings) → the ASGI application: routes, error rendering, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from cityhub import __version__
from cityhub.api import (
    batch,
    contexts,
    discovery,
    entities,
    entity_maps,
    feeds,
    gate,
    iot,
    queries,
    registrations,
    streams,
    subscriptions,
    temporal,
)
from cityhub.api.csources import csources_of
from cityhub.api.dispatch import hot_route, serve
from cityhub.api.problems import http_error_handler, ngsi_ld_error_handler, unexpected_error_handler
from cityhub.dashboard import routes as dashboard
from cityhub.errors import NgsiLdError
from cityhub.federation.configured import configured_sources, register_configured
from cityhub.hub import Hub
from cityhub.settings import Settings, load_settings

API_PREFIX = "/ngsi-ld/v1"


async def health(request: Request) -> Response:
    """Liveness and the store in use, for load balancers and operators."""
    hub: Hub = request.app.state.hub
    body = {"status": "ok", "version": __version__, "store": hub.store.backend}
    return Response(orjson.dumps(body), media_type="application/json")


class HubApp(Starlette):
    """Starlette, with the hot entity and batch routes dispatched directly (api.dispatch)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.state.hub.sharing.active:
            scope["app"] = self
            refused = gate.check(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        if scope["type"] == "http" and not self.user_middleware:
            hot = hot_route(scope)
            if hot is not None:
                scope["app"] = self
                await serve(hot[0], scope, receive, send, hot[1])
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, hub: Hub | None = None) -> Starlette:
    """The hub as an ASGI app; the store opens (and migrates) in the lifespan."""
    settings = settings or load_settings()
    the_hub = hub or Hub(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await the_hub.open()
        sources = configured_sources(settings.sources)
        if sources:
            service = csources_of(the_hub).registrations
            await register_configured(sources, service, the_hub.contexts)
        try:
            yield
        finally:
            await the_hub.close()

    api_routes = [
        *entities.routes(),
        *queries.routes(),
        *batch.routes(),
        *contexts.routes(),
        *discovery.routes(),
        *streams.routes(),  # before subscriptions: /subscriptions/{id}/stream
        *subscriptions.routes(),
        *registrations.routes(),
        *entity_maps.routes(),
        *temporal.routes(),
    ]
    app = HubApp(
        routes=[
            Mount(API_PREFIX, routes=api_routes),
            *iot.routes(),
            *feeds.routes(),
            *dashboard.routes(),
            Route("/health", health),
        ],
        exception_handlers={
            NgsiLdError: ngsi_ld_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.hub = the_hub
    return app


def create_app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings from CITYHUB_* and the optional TOML file."""
    return create_app(load_settings())
