"""A regional hub's city hubs, from its settings (``[[sources]]``, issue 8): each becomes a
context source registration the hub keeps in step with the configuration at every start —
created when missing, updated when the configuration changed — so a region is federated by
a small file, not by hand-made API calls.

A table: ``name`` (becomes the registration id ``urn:ngsi-ld:ContextSourceRegistration:
config-<name>``), ``endpoint`` (the city hub's base URL), ``types`` (entity types it answers
for, short Smart Data Models names or IRIs), ``tenant`` (the city hub's tenant holding them),
``key`` (the partner key the city hub gave this region, sent as ``Authorization: Bearer``),
``here`` (the regional tenant the registration lives in; default the default tenant),
``mode`` (default inclusive), ``operations`` (default ["federationOps"]) and ``area``
([west, south, east, north] in degrees: where the city's entities are, the registration's
``location``, so geo-queries elsewhere are not sent to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cityhub.errors import AlreadyExists
from cityhub.ingest.feeds.contexts import CORE, context_of

PREFIX = "urn:ngsi-ld:ContextSourceRegistration:config-"
_KEYS = {"name", "endpoint", "types", "tenant", "key", "here", "mode", "operations", "area"}


@dataclass(frozen=True)
class ConfiguredSource:
    here: str
    body: dict[str, Any]  # a CsourceRegistration in the terms of ``context``
    context: list[str]


def configured_sources(tables: Sequence[dict[str, Any]]) -> list[ConfiguredSource]:
    """The ``sources`` setting read into registrations; ValueError naming what is wrong."""
    found = []
    names: set[str] = set()
    for index, table in enumerate(tables):
        where = f"sources[{index}]"
        unknown = set(table) - _KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        name, endpoint, types = table.get("name"), table.get("endpoint"), table.get("types")
        if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"{where}: name must be letters, digits, '-' or '_'")
        if name in names:
            raise ValueError(f"{where}: two sources are named {name!r}")
        names.add(name)
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"{where}: endpoint must be an http(s) URL")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ValueError(f"{where}: types must be a non-empty list of entity types")
        for member in ("tenant", "key", "here", "mode"):
            if member in table and not isinstance(table[member], str):
                raise ValueError(f"{where}: {member} must be a string")
        operations = table.get("operations", ["federationOps"])
        if not isinstance(operations, list) or not all(isinstance(o, str) for o in operations):
            raise ValueError(f"{where}: operations must be a list of operation names")
        context = list(dict.fromkeys(url for t in types for url in context_of(t) if url != CORE))
        context.append(CORE)
        body: dict[str, Any] = {
            "id": PREFIX + name,
            "type": "ContextSourceRegistration",
            "registrationName": f"{name} (configured)",
            "information": [{"entities": [{"type": t} for t in types]}],
            "endpoint": endpoint,
            "mode": table.get("mode", "inclusive"),
            "operations": operations,
        }
        if table.get("tenant"):
            body["tenant"] = table["tenant"]
        if "area" in table:
            body["location"] = _area(table["area"], where)
        if table.get("key"):
            body["contextSourceInfo"] = [
                {"key": "Authorization", "value": f"Bearer {table['key']}"}
            ]
        found.append(ConfiguredSource(str(table.get("here", "")), body, context))
    return found


def _area(raw: Any, where: str) -> dict[str, Any]:
    """[west, south, east, north] as a GeoJSON Polygon."""
    numbers = isinstance(raw, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in raw
    )
    if not numbers or len(raw) != 4:
        raise ValueError(f"{where}: area must be [west, south, east, north] in degrees")
    west, south, east, north = (float(v) for v in raw)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"{where}: area {raw} is not a box west < east, south < north")
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


async def register_configured(sources: list[ConfiguredSource], service: Any, contexts: Any) -> None:
    """Create each configured registration, or bring an existing one in line (PATCH)."""
    for source in sources:
        tm = await contexts.resolve(source.context)
        try:
            await service.create(source.here, source.body, tm, source.context)
        except AlreadyExists:
            fragment = {k: v for k, v in source.body.items() if k not in ("id", "type")}
            await service.update(source.here, source.body["id"], fragment, tm)
