"""Real hubs as processes on 127.0.0.1 for the federation tests: city hubs and a regional
hub started as an operator starts them (``python -m cityhub serve``), each on its own
database, with helpers to load entities and register sources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.scenarios.test_serve import Server, free_port, start_server

SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
PARKING_CTX = SDM.format("Parking")
TRANSPORT_CTX = SDM.format("Transportation")


def link(context: str) -> str:
    return f'<{context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


@dataclass
class Hub:
    name: str
    server: Server

    @property
    def url(self) -> str:
        return self.server.base_url

    def client(self, **headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers=headers)


async def start_hub(
    name: str, database_url: str, tmp: Path, *, config: str | None = None, workers: int = 1
) -> Hub:
    config_path = None
    if config is not None:
        config_path = tmp / f"{name}.toml"
        config_path.write_text(config, encoding="utf-8")
    server = start_server(
        database_url, tmp / name, workers=workers, config=config_path, port=free_port()
    )
    await server.wait_healthy()
    return Hub(name, server)


def parking(
    city: str, n: int, lon: float, lat: float, free: int, *, observed: str = "2026-11-29T09:00:00Z"
) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:OffStreetParking:{city}:{n:03d}",
        "type": "OffStreetParking",
        "name": {"type": "LanguageProperty", "languageMap": {"en": f"{city} lot {n}"}},
        "availableSpotNumber": {"type": "Property", "value": free, "observedAt": observed},
        "totalSpotNumber": {"type": "Property", "value": 100},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "@context": [PARKING_CTX, CORE],
    }


def crowd(city: str, n: int, people: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:CrowdFlowObserved:{city}:{n:03d}",
        "type": "CrowdFlowObserved",
        "peopleCount": {"type": "Property", "value": people},
        "@context": [TRANSPORT_CTX, CORE],
    }


async def load(hub: Hub, tenant: str, entities: list[dict[str, Any]]) -> None:
    async with hub.client() as http:
        for start in range(0, len(entities), 500):
            response = await http.post(
                "/ngsi-ld/v1/entityOperations/upsert",
                content=orjson.dumps(entities[start : start + 500]),
                headers={"Content-Type": "application/ld+json", "NGSILD-Tenant": tenant},
            )
            assert response.status_code in (201, 204), response.text


async def register(
    region: Hub,
    source: Hub,
    tenant: str,
    types: list[str],
    *,
    reg_id: str | None = None,
    extra: dict[str, Any] | None = None,
    region_tenant: str | None = None,
) -> str:
    body: dict[str, Any] = {
        "id": reg_id or f"urn:ngsi-ld:ContextSourceRegistration:{source.name}-{tenant}",
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": t} for t in types]}],
        "endpoint": source.url,
        "tenant": tenant,
        "mode": "inclusive",
        "operations": ["federationOps"],
        "@context": [PARKING_CTX, TRANSPORT_CTX, CORE],
    }
    body.update(extra or {})
    headers = {"Content-Type": "application/ld+json"}
    if region_tenant:
        headers["NGSILD-Tenant"] = region_tenant
    async with region.client() as http:
        response = await http.post(
            "/ngsi-ld/v1/csourceRegistrations", content=orjson.dumps(body), headers=headers
        )
        assert response.status_code == 201, response.text
    return str(body["id"])
