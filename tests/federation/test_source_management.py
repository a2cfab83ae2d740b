"""A registration's ``management`` (clause 5.2.34) as the hub's source client honours it,
against a real HTTP server on 127.0.0.1: ``cacheDuration`` answers a consumption asked
again within the period from the previous answer; ``cooldown`` fails requests at once for
a while after a failure; ``timeout`` bounds the wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from cityhub.federation.remote import SourceAnswer, SourceFailure, Sources
from tests.http_server import ContextServer

ENTITIES = "/ngsi-ld/v1/entities"


@pytest.fixture
def server() -> Iterator[ContextServer]:
    with ContextServer() as serving:
        yield serving


@pytest.fixture
async def sources() -> AsyncIterator[Sources]:
    client = Sources(default_timeout=2.0)
    yield client
    await client.aclose()


def registration(endpoint: str, **management: Any) -> dict[str, Any]:
    return {
        "id": "urn:ngsi-ld:ContextSourceRegistration:city",
        "endpoint": endpoint,
        "management": management,
    }


async def ask(sources: Sources, reg: dict[str, Any], **params: str) -> Any:
    return await sources.request(
        reg, "GET", "entities", via="1.1 region", incoming={}, params=list(params.items())
    )


async def test_cache_duration_answers_the_same_query_again_from_the_kept_answer(
    sources: Sources, server: ContextServer
) -> None:
    server.route(
        ENTITIES, [{"id": "urn:ngsi-ld:Lot:1", "type": "Lot"}], content_type="application/json"
    )
    reg = registration(server.base, cacheDuration="PT0.5S")
    first = await ask(sources, reg, type="Lot")
    assert isinstance(first, SourceAnswer) and first.body[0]["id"] == "urn:ngsi-ld:Lot:1"
    first.body[0]["id"] = "changed by a caller"  # callers may change what they got
    again = await ask(sources, reg, type="Lot")
    assert isinstance(again, SourceAnswer) and again.body[0]["id"] == "urn:ngsi-ld:Lot:1"
    assert server.hits(ENTITIES) == 1
    await ask(sources, reg, type="Other")  # another question is asked
    assert server.hits(ENTITIES) == 2
    await asyncio.sleep(0.6)  # the period is over: asked again
    await ask(sources, reg, type="Lot")
    assert server.hits(ENTITIES) == 3
    plain = registration(server.base)  # no cacheDuration: every time
    await ask(sources, plain, type="Lot")
    await ask(sources, plain, type="Lot")
    assert server.hits(ENTITIES) == 5


async def test_cache_duration_keeps_no_error_answers(
    sources: Sources, server: ContextServer
) -> None:
    server.route(ENTITIES, {"detail": "busy"}, status=503, content_type="application/json")
    reg = registration(server.base, cacheDuration="PT10S")
    await ask(sources, reg, type="Lot")
    await ask(sources, reg, type="Lot")
    assert server.hits(ENTITIES) == 2


async def test_cooldown_fails_requests_at_once_for_a_while_after_a_failure(
    sources: Sources, server: ContextServer
) -> None:
    server.route(ENTITIES, [], content_type="application/json", delay=1.0)
    reg = registration(server.base, timeout=200, cooldown=600)
    slow = await ask(sources, reg, type="Lot")
    assert isinstance(slow, SourceFailure) and "0.2 s" in slow.reason
    server.route(ENTITIES, [], content_type="application/json")
    cooling = await ask(sources, reg, type="Lot")
    assert isinstance(cooling, SourceFailure) and "cooldown" in cooling.reason
    assert server.hits(ENTITIES) == 1  # not asked while cooling down
    await asyncio.sleep(0.7)
    recovered = await ask(sources, reg, type="Lot")
    assert isinstance(recovered, SourceAnswer) and recovered.status == 200
    assert server.hits(ENTITIES) == 2
