"""The API's way to a hub's context source services (registrations, registration
subscriptions, its identity; services/csources.py) and the response helper they share."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from cityhub.api.negotiation import json_response
from cityhub.hub import Hub
from cityhub.services.csources import Csources


def csources_of(hub: Hub) -> Csources:
    """The hub's context source services (made with the hub: services/csources.py)."""
    return hub.csources


def respond(body: Any, media: str, context: Any, headers: dict[str, str]) -> Response:
    return json_response(
        body,
        media=media,
        context=context,
        context_url=context if isinstance(context, str) else None,
        headers=headers,
    )


async def close_csources(hub: Hub) -> None:
    """Stop the hub's CsourceNotification delivery (shutdown, tests)."""
    await hub.csources.notifier.aclose()
