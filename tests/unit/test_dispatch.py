"""The hot routes dispatched ahead of Starlette's router (api/dispatch.py): which requests
take the direct path, and which are left to the router (HEAD, odd paths, root_path)."""

from __future__ import annotations

from typing import Any

import pytest

from cityhub.api import batch, entities, queries
from cityhub.api.dispatch import hot_route


def scope(method: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "method": method, "raw_path": path.encode(), **extra}


@pytest.mark.parametrize(
    ("method", "path", "endpoint", "params"),
    [
        ("GET", "/ngsi-ld/v1/entities", queries.query_entities, {}),
        ("POST", "/ngsi-ld/v1/entities", entities.create_entity, {}),
        ("POST", "/ngsi-ld/v1/entityOperations/query", queries.query_batch, {}),
        ("POST", "/ngsi-ld/v1/entityOperations/upsert", batch.batch_upsert, {}),
        (
            "GET",
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Road:1",
            entities.retrieve_entity,
            {"entity_id": "urn:ngsi-ld:Road:1"},
        ),
        (
            "PATCH",
            "/ngsi-ld/v1/entities/urn%3Angsi-ld%3ARoad%3A1/attrs/speed",
            entities.partial_attribute_update,
            {"entity_id": "urn:ngsi-ld:Road:1", "attr_id": "speed"},
        ),
    ],
)
def test_hot_routes_reach_their_endpoint_directly(
    method: str, path: str, endpoint: Any, params: dict[str, str]
) -> None:
    assert hot_route(scope(method, path)) == (endpoint, params)


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("HEAD", "/ngsi-ld/v1/entities", {}),  # Starlette answers HEAD for GET routes
        ("DELETE", "/ngsi-ld/v1/entities", {}),  # 405 comes from the router
        ("GET", "/ngsi-ld/v1/entities/", {}),  # empty id segment
        ("GET", "/ngsi-ld/v1/entityOperations/query", {}),
        ("POST", "/ngsi-ld/v1/entityOperations/unknown", {}),
        ("GET", "/ngsi-ld/v1/subscriptions", {}),
        ("GET", "/ngsi-ld/v1/entities", {"root_path": "/hub"}),
    ],
)
def test_other_requests_are_left_to_the_router(
    method: str, path: str, extra: dict[str, Any]
) -> None:
    assert hot_route(scope(method, path, **extra)) is None
