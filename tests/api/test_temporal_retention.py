"""History retention (issue 5): `temporal_retention_days` with per-tenant overrides drops
instances recorded longer ago than each tenant's limit, through the API a user sees."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from cityhub.hub import Hub
from cityhub.settings import load_settings
from tests.api.entity_requests import ENTITIES, JSON
from tests.api.temporal_requests import EVER, temporal_url, unique

DAY = 86_400.0


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"temporal_retention_days": 30.0, "temporal_retention_tenants": "kyoto=0,busan=2"}


async def _write(client: httpx.AsyncClient, entity_id: str, tenant: str | None) -> None:
    headers = {**JSON, **({"NGSILD-Tenant": tenant} if tenant else {})}
    body = {"id": entity_id, "type": "Sensor", "temperature": {"type": "Property", "value": 21}}
    response = await client.post(ENTITIES, json=body, headers=headers)
    assert response.status_code == 201, response.text


async def _instances(client: httpx.AsyncClient, entity_id: str, tenant: str | None) -> int:
    headers = {"NGSILD-Tenant": tenant} if tenant else {}
    params = {**EVER, "timeproperty": "createdAt"}
    response = await client.get(temporal_url(entity_id), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return len(response.json().get("temperature", []))


async def test_retention_drops_old_history_per_tenant(client: httpx.AsyncClient, hub: Hub) -> None:
    ids = {tenant: f"urn:ngsi-ld:Sensor:{unique()}" for tenant in ("", "kyoto", "busan")}
    for tenant, entity_id in ids.items():
        await _write(client, entity_id, tenant or None)
    # Ten days on: busan (2 days) forgets, the default (30 days) and kyoto (0: forever) keep.
    removed = await hub.temporal.apply_retention(now=time.time() + 10 * DAY)
    assert removed >= 1
    assert await _instances(client, ids["busan"], "busan") == 0
    assert await _instances(client, ids[""], None) == 1
    assert await _instances(client, ids["kyoto"], "kyoto") == 1
    # Forty days on the default tenant forgets too; kyoto still keeps everything.
    await hub.temporal.apply_retention(now=time.time() + 40 * DAY)
    assert await _instances(client, ids[""], None) == 0
    assert await _instances(client, ids["kyoto"], "kyoto") == 1


def test_retention_settings_refuse_malformed_tenant_lists() -> None:
    for bad in ("tokyo", "tokyo=x", "tokyo=-1"):
        with pytest.raises(ValueError, match="temporal_retention_tenants"):
            load_settings(environ={}, temporal_retention_tenants=bad)
    parsed = load_settings(
        environ={}, temporal_retention_tenants="tokyo=30, =7"
    ).retention_by_tenant()
    assert parsed == {"tokyo": 30.0, "": 7.0}
