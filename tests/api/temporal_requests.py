"""Requests and checks shared by the temporal API tests (clauses 5.6.11-5.6.16, 5.7.3, 5.7.4)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from tests.api.entity_requests import JSON, moment

TEMPORAL = "/ngsi-ld/v1/temporal/entities"
TEMPORAL_QUERY = "/ngsi-ld/v1/temporal/entityOperations/query"
BATCH = "/ngsi-ld/v1/entityOperations/"
DS_A = "urn:ngsi-ld:Dataset:a"
DS_B = "urn:ngsi-ld:Dataset:b"
EARLY = "2000-01-01T00:00:00Z"  # before every instance a test writes
EVER = {"timerel": "after", "timeAt": EARLY}
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"
CONTENT_RANGE = re.compile(rf"^date-time ({_STAMP})-({_STAMP})/(\*|\d+)$")


def unique(prefix: str = "Vehicle") -> str:
    """A name no other test uses: the PostgreSQL store keeps history across tests."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def ts(hour: int, minute: int = 0, second: float = 0, *, day: int = 1, month: int = 8) -> str:
    """A fixed 2020 instant in UTC: ts(12, 3) is 2020-08-01T12:03:00Z."""
    whole = int(second)
    fraction = f".{round((second - whole) * 1000):03d}" if second != whole else ""
    return f"2020-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{whole:02d}{fraction}Z"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def temporal_url(entity_id: str, attr: str | None = None, instance_id: str | None = None) -> str:
    """/temporal/entities/{id}[/attrs[/{attrId}[/{instanceId}]]], segments escaped."""
    url = f"{TEMPORAL}/{quote(entity_id, safe=':')}"
    if attr is not None:
        url += "/attrs"
        if attr:
            url += "/" + quote(attr, safe=":")
            if instance_id is not None:
                url += "/" + quote(instance_id, safe=":")
    return url


def prop(value: Any, at: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Property instance observed at `at`."""
    body: dict[str, Any] = {"type": "Property", "value": value, **extra}
    if at is not None:
        body["observedAt"] = at
    return body


def series(pairs: list[tuple[Any, str]], **extra: Any) -> list[dict[str, Any]]:
    """Property instances from (value, observedAt) pairs."""
    return [prop(value, at, **extra) for value, at in pairs]


def rel(target: str, at: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Relationship", "object": target, **extra}
    if at is not None:
        body["observedAt"] = at
    return body


async def create_temporal(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(TEMPORAL, json=body, headers=JSON)
    assert response.status_code == 201, response.text


async def retrieve(client: httpx.AsyncClient, entity_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(temporal_url(entity_id), params=params)
    assert response.status_code == 200, response.text
    assert "content-range" not in response.headers
    body: dict[str, Any] = response.json()
    return body


def instances(entity: dict[str, Any], attr: str) -> list[dict[str, Any]]:
    """The normalized temporal instances of an attribute (an array per the contract)."""
    found = entity[attr]
    assert isinstance(found, list), found
    return found


def observed(entity: dict[str, Any], attr: str, prop_name: str = "observedAt") -> list[datetime]:
    return [moment(item[prop_name]) for item in instances(entity, attr)]


def values(entity: dict[str, Any], attr: str, member: str = "value") -> list[Any]:
    return [item[member] for item in instances(entity, attr)]


def stamps(*texts: str) -> list[datetime]:
    """Comparable instants for expected times given with Z."""
    return [moment(text) for text in texts]


def now() -> datetime:
    """A client-side instant, floored to the millisecond (for 'at or after' checks)."""
    current = datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def later() -> datetime:
    """A client-side instant, rounded up to the millisecond (for 'at or before' checks)."""
    return now() + timedelta(milliseconds=1)


def within(text: str, start: datetime, end: datetime) -> bool:
    return start <= moment(text) <= end


def content_range(response: httpx.Response) -> tuple[datetime, datetime, str]:
    """A 206's `Content-Range: date-time <start>-<end>/<size>` as (start, end, size)."""
    assert response.status_code == 206, response.text
    match = CONTENT_RANGE.match(response.headers["content-range"])
    assert match, response.headers["content-range"]
    return moment(match[1]), moment(match[2]), match[3]


def vehicle(entity_id: str, kind: str) -> dict[str, Any]:
    """The ETSI-style vehicle: speed every two minutes from 12:03, fuelLevel hourly from 12:03."""
    return {
        "id": entity_id,
        "type": kind,
        "speed": series([(120, ts(12, 3)), (80, ts(12, 5)), (100, ts(12, 7))]),
        "fuelLevel": series([(67, ts(12, 3)), (53, ts(13, 3)), (40, ts(14, 3))]),
    }


def canon(instance: dict[str, Any]) -> dict[str, Any]:
    """An instance without its instanceId and with observedAt as an instant, for comparisons."""
    found = {key: value for key, value in instance.items() if key != "instanceId"}
    if "observedAt" in found:
        found["observedAt"] = moment(found["observedAt"])
    return found


def by_dataset_values(items: list[dict[str, Any]], member: str = "value") -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for item in items:
        grouped.setdefault(item.get("datasetId"), []).append(item[member])
    return grouped


def types_of(entity: dict[str, Any]) -> set[str]:
    kind = entity["type"]
    return set(kind) if isinstance(kind, list) else {kind}


TEMPORAL_Q = ("timerel", "timeAt", "endTimeAt", "timeproperty")
GEO_Q = ("georel", "geometry", "coordinates", "geoproperty")


async def temporal_query(
    client: httpx.AsyncClient,
    how: str,
    params: dict[str, str],
    entities: list[dict[str, str]] | None = None,
) -> httpx.Response:
    """GET /temporal/entities with params, or POST /temporal/entityOperations/query with the same
    query as a Query body (type becomes an entity selector unless `entities` is given; lastN,
    options, paging and the like stay in the URL)."""
    if how == "get":
        return await client.get(TEMPORAL, params=params)
    body: dict[str, Any] = {"type": "Query"}
    url_params: dict[str, str] = {}
    for key, value in params.items():
        if key in TEMPORAL_Q:
            body.setdefault("temporalQ", {})[key] = value
        elif key in GEO_Q:
            geo = json.loads(value) if key == "coordinates" else value
            body.setdefault("geoQ", {})[key] = geo
        elif key == "attrs":
            body["attrs"] = value.split(",")
        elif key in ("q", "scopeQ"):
            body[key] = value
        elif key == "type" and entities is None:
            body["entities"] = [{"type": value}]
        elif key not in ("type", "id", "idPattern"):
            url_params[key] = value
    if entities is not None:
        body["entities"] = entities
    return await client.post(TEMPORAL_QUERY, json=body, params=url_params, headers=JSON)


def by_id(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entity["id"]: entity for entity in found}


def simple(attribute: dict[str, Any]) -> dict[str, Any]:
    """A simplified temporal attribute with the time of each pair as an instant."""
    return {
        key: [[pair[0], moment(pair[1])] for pair in member] if isinstance(member, list) else member
        for key, member in attribute.items()
    }


def when(timerel: str, at: str, end: str | None = None, **more: str) -> dict[str, str]:
    """Temporal query parameters: when("between", ts(12), ts(13), lastN="2")."""
    params = {"timerel": timerel, "timeAt": at, **more}
    if end is not None:
        params["endTimeAt"] = end
    return params


async def find(
    client: httpx.AsyncClient, how: str, entity: str, kind: str, params: dict[str, str]
) -> dict[str, Any] | None:
    """The entity as retrieve, GET query or POST query show it (None: not returned)."""
    if how == "retrieve":
        return await retrieve(client, entity, **params)
    response = await temporal_query(client, how, {"type": kind, **params})
    assert response.status_code == 200, response.text
    return by_id(response.json()).get(entity)


def fill(template: Any, names: dict[str, str]) -> Any:
    """A template with {NAME} placeholders in every string filled in."""
    if isinstance(template, dict):
        return {key: fill(value, names) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, names) for value in template]
    return template.format(**names)


async def pause() -> str:
    """An instant strictly between the writes before and after it."""
    await asyncio.sleep(0.002)
    mid = iso(now())
    await asyncio.sleep(0.002)
    return mid


def case_id(case: Any) -> str:
    """A readable test id for a table row whose first item (or itself) is a parameter dict."""
    if isinstance(case, str):
        return case
    params = case[0] if isinstance(case, tuple) else case
    if not isinstance(params, dict):
        return str(params)
    return "&".join(f"{key}={value}" for key, value in params.items()) or "no-params"
