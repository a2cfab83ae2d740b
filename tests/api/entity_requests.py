"""Requests and checks shared by the entity and attribute API tests (clauses 5.6, 5.7.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

ENTITIES = "/ngsi-ld/v1/entities"
JSON = {"Content-Type": "application/json"}
JSON_LD = {"Content-Type": "application/ld+json"}
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
NGSI_NULL = "urn:ngsi-ld:null"


def entity_url(entity_id: str, *attr: str) -> str:
    """/entities/{entityId}[/attrs[/{attrId}]] with the id escaped as a path segment."""
    url = f"{ENTITIES}/{quote(entity_id, safe=':')}"
    if attr:
        url += "/attrs"
        if attr[0]:
            url += "/" + quote(attr[0], safe=":")
    return url


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(ENTITIES, json=body, headers=JSON)
    assert response.status_code == 201, response.text


async def fetch(client: httpx.AsyncClient, entity_id: str, **params: str) -> dict[str, Any]:
    """The entity as a client sees it (normalized, JSON, core @context)."""
    response = await client.get(entity_url(entity_id), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def snapshot(client: httpx.AsyncClient, entity_id: str) -> dict[str, Any]:
    """Everything a client can see of an entity, system attributes included."""
    return await fetch(client, entity_id, options="sysAttrs")


def assert_problem(response: httpx.Response, status: int, type_name: str) -> None:
    """An NGSI-LD error response (clause 5.5.3): ProblemDetails with the spec's type URI."""
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"] == ERRORS + type_name, problem
    assert problem.get("status", status) == status


def moment(text: str) -> datetime:
    """A DateTime member as a comparable moment; it must be in UTC with a Z (clause 4.6.3)."""
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


def by_dataset(instances: Any) -> dict[str | None, dict[str, Any]]:
    """Instances of a multi-attribute keyed by datasetId (their order is not specified)."""
    items = instances if isinstance(instances, list) else [instances]
    return {item.get("datasetId"): item for item in items}
