"""Entity endpoints: /entities and /entities/{entityId}[/attrs[/{attrId}]] (clauses 5.6, 5.7.1).

Writes that concern an exclusive or redirect context source registration are split between
those sources and the store by federation/forwarding.py; the handlers give it the local
operation to apply to what is left.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from cityhub.api.common import (
    JsonInput,
    hub_of,
    json_input,
    read_context,
    tenant_headers,
    tenant_of,
    termmap_for,
)
from cityhub.api.federated import entity_text as federated_entity_text
from cityhub.api.federated import forward_of, warning_headers
from cityhub.api.negotiation import (
    GEO_JSON,
    JSON,
    JSON_LD,
    empty_response,
    json_response,
    negotiate,
    prepared_response,
)
from cityhub.api.params import (
    DEFAULT_RENDER,
    attribute_deletion,
    list_param,
    options,
    render_options,
)
from cityhub.api.rendered import Rendered, cache_of
from cityhub.errors import ResourceNotFound
from cityhub.federation import forwarding
from cityhub.federation.forwarding import LocalWrite, Write, WriteOperation, WriteOutcome
from cityhub.jsonld.termmap import TermMap
from cityhub.model.changes import UpdateResult
from cityhub.model.representation import geojson_feature, render_entity
from cityhub.model.values import check_name

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
_RETRIEVE_MEDIA = (JSON, JSON_LD, GEO_JSON)
_NO_PARAMS = (DEFAULT_RENDER, None, None, None)  # render, type, geometryProperty, attrs


def _no_content(tenant: str) -> Response:
    return empty_response(204, tenant_headers(tenant))


def _update_result(result: UpdateResult, tenant: str) -> Response:
    """204 when every attribute was handled, else 207 with an UpdateResult (clause 5.2.18)."""
    if not result.not_updated:
        return _no_content(tenant)
    body = {
        "updated": result.updated,
        "notUpdated": [{"attributeName": n, "reason": r} for n, r in result.not_updated],
    }
    return json_response(body, status=207, headers=tenant_headers(tenant))


async def _distributed(
    request: Request,
    op: WriteOperation,
    tenant: str,
    tm: TermMap,
    local: LocalWrite,
    data: JsonInput | None = None,
) -> WriteOutcome | None:
    """The write split over exclusive/redirect sources and the store (None: not concerned,
    write locally as usual); see federation/forwarding.py."""
    if not await hub_of(request).federation.registrations(tenant):
        return None  # the common case, decided before the query string is parsed
    params = request.path_params
    write = Write(
        tenant,
        params.get("entity_id"),
        params.get("attr_id"),
        data.body if data is not None else None,
        data.media if data is not None else JSON,
        tm,
        request.query_params.multi_items(),
        lambda: forward_of(request),
    )
    return await forwarding.forward_write(hub_of(request).federation, op, write, local)


def _outcome_response(outcome: WriteOutcome, tenant: str, created: bool = False) -> Response:
    """201/204 when every part succeeded, else 207 with an UpdateResult or a
    BatchOperationResult (clauses 5.2.16, 5.2.18)."""
    headers = tenant_headers(tenant)
    if created and outcome.done:
        headers["Location"] = _location(outcome.entity_id)
    if outcome.complete:
        return empty_response(201 if created else 204, headers)
    return json_response(outcome.body(), status=207, headers=headers)


def _location(entity_id: str) -> str:
    return f"/ngsi-ld/v1/entities/{quote(entity_id, safe=':')}"


async def create_entity(request: Request) -> Response:
    """POST /entities — Create Entity (5.6.1): 201 with Location."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)

    async def local(body: Any) -> None:
        await hub.entities.create_entity(tenant, body, tm)

    outcome = await _distributed(request, forwarding.CREATE_ENTITY, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant, created=True)
    entity_id = await hub.entities.create_entity(tenant, data.body, tm)
    headers = {"Location": _location(entity_id)}
    headers.update(tenant_headers(tenant))
    return empty_response(201, headers)


async def retrieve_entity(request: Request) -> Response:
    """GET /entities/{entityId} — Retrieve Entity (5.7.1).

    A response built before for the same request inputs is sent again when the entity just
    read from the store is byte-identical to the one it showed (api/rendered.py).
    """
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, _RETRIEVE_MEDIA)
    ctx, tm = await read_context(request)
    entity_id = request.path_params["entity_id"]
    query: bytes = request.scope.get("query_string") or b""
    cache = cache_of(hub)
    key = (tenant, entity_id, media, ctx.value, query)
    cached = cache.get(key, tm)
    if cached is not None:
        params = cached.params  # the same query string parsed with the same TermMap
    elif query:
        params = (
            render_options(request, tm),
            list_param(request, "type"),
            request.query_params.get("geometryProperty"),
            list_param(request, "attrs"),
        )
    else:
        params = _NO_PARAMS
    stored, built, warnings = await federated_entity_text(request, tenant, entity_id, tm)
    if cached is not None:
        if cached.stored == stored:
            return prepared_response(cached.body, 200, list(cached.raw_headers))
        cache.discard(key)
    entity: dict[str, Any] = built if built is not None else orjson.loads(stored)
    render, wanted_types, geometry_name, attrs = params
    if wanted_types is not None:
        expanded = {tm.expand(check_name(t, "Entity type")) for t in wanted_types}
        if not expanded & set(entity["type"]):
            raise ResourceNotFound(
                f"Entity {entity['id']} is not of type {', '.join(wanted_types)}"
            )
    if attrs is not None and not any(tm.expand(name) in entity for name in attrs):
        # Query.attrs: an entity with none of the requested attributes is not found.
        raise ResourceNotFound(f"Entity {entity['id']} has none of the requested attributes")
    body: Any = render_entity(entity, tm, render)
    if media == GEO_JSON:
        geometry_iri = tm.expand(check_name(geometry_name)) if geometry_name else LOCATION
        body = geojson_feature(entity, body, geometry_iri)
    context_url = ctx.value if isinstance(ctx.value, str) else None
    response = json_response(
        body,
        media=media,
        context=ctx.value,
        context_url=context_url,
        headers={**tenant_headers(tenant), **warning_headers(warnings)},
    )
    if not warnings and (ctx.value is None or isinstance(ctx.value, str)):  # hashable: URL or core
        cache.put(
            key, Rendered(tm, params, stored, bytes(response.body), tuple(response.raw_headers))
        )
    return response


async def replace_entity(request: Request) -> Response:
    """PUT /entities/{entityId} — Replace Entity (5.6.18)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id = request.path_params["entity_id"]

    async def local(body: Any) -> None:
        await hub.entities.replace_entity(tenant, entity_id, body, tm)

    outcome = await _distributed(request, forwarding.REPLACE_ENTITY, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    await local(data.body)
    return _no_content(tenant)


async def merge_entity(request: Request) -> Response:
    """PATCH /entities/{entityId} — Merge Entity (5.6.17)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id = request.path_params["entity_id"]
    observed_at = request.query_params.get("observedAt")

    async def local(body: Any) -> None:
        await hub.entities.merge_entity(tenant, entity_id, body, tm, observed_at)

    outcome = await _distributed(request, forwarding.MERGE_ENTITY, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    await local(data.body)
    return _no_content(tenant)


async def delete_entity(request: Request) -> Response:
    """DELETE /entities/{entityId} — Delete Entity (5.6.6)."""
    hub, tenant = hub_of(request), tenant_of(request)
    entity_id = request.path_params["entity_id"]

    async def local(body: Any) -> None:
        await hub.entities.delete_entity(tenant, entity_id)

    if await forwarding.may_forward(hub.federation, tenant):  # else no @context is needed
        _, tm = await read_context(request)
        outcome = await _distributed(request, forwarding.DELETE_ENTITY, tenant, tm, local)
        if outcome is not None:
            return _outcome_response(outcome, tenant)
    await local(None)
    return _no_content(tenant)


async def append_attributes(request: Request) -> Response:
    """POST /entities/{entityId}/attrs — Append Entity Attributes (5.6.3)."""
    hub, tenant = hub_of(request), tenant_of(request)
    no_overwrite = "noOverwrite" in options(request, {"noOverwrite"})
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id = request.path_params["entity_id"]

    async def local(body: Any) -> UpdateResult:
        return await hub.entities.append_attributes(
            tenant, entity_id, body, tm, no_overwrite=no_overwrite
        )

    outcome = await _distributed(request, forwarding.APPEND_ATTRS, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    return _update_result(await local(data.body), tenant)


async def update_attributes(request: Request) -> Response:
    """PATCH /entities/{entityId}/attrs — Update Entity Attributes (5.6.2)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id = request.path_params["entity_id"]

    async def local(body: Any) -> UpdateResult:
        return await hub.entities.update_attributes(tenant, entity_id, body, tm)

    outcome = await _distributed(request, forwarding.UPDATE_ATTRS, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    return _update_result(await local(data.body), tenant)


async def partial_attribute_update(request: Request) -> Response:
    """PATCH /entities/{entityId}/attrs/{attrId} — Partial Attribute Update (5.6.4)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id, attr_id = request.path_params["entity_id"], request.path_params["attr_id"]

    async def local(body: Any) -> None:
        await hub.entities.partial_update_attribute(
            tenant, entity_id, attr_id, _without_context(body), tm
        )

    outcome = await _distributed(request, forwarding.PARTIAL_UPDATE, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    await local(data.body)
    return _no_content(tenant)


async def replace_attribute(request: Request) -> Response:
    """PUT /entities/{entityId}/attrs/{attrId} — Replace Attribute (5.6.19)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id, attr_id = request.path_params["entity_id"], request.path_params["attr_id"]

    async def local(body: Any) -> None:
        await hub.entities.replace_attribute(tenant, entity_id, attr_id, _without_context(body), tm)

    outcome = await _distributed(request, forwarding.REPLACE_ATTR, tenant, tm, local, data)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    await local(data.body)
    return _no_content(tenant)


def _without_context(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "@context"}
    return body


async def delete_attribute(request: Request) -> Response:
    """DELETE /entities/{entityId}/attrs/{attrId} — Delete Attribute (5.6.5)."""
    hub, tenant = hub_of(request), tenant_of(request)
    _, tm = await read_context(request)
    dataset_id, delete_all = attribute_deletion(request)
    entity_id, attr_id = request.path_params["entity_id"], request.path_params["attr_id"]

    async def local(body: Any) -> None:
        await hub.entities.delete_attribute(
            tenant, entity_id, attr_id, tm, dataset_id=dataset_id, delete_all=delete_all
        )

    outcome = await _distributed(request, forwarding.DELETE_ATTR, tenant, tm, local)
    if outcome is not None:
        return _outcome_response(outcome, tenant)
    await local(None)
    return _no_content(tenant)


class EntityRoute(Route):
    """A route whose parameters are whole raw path segments (clause 6.3.2).

    Entity ids are URIs and may hold "/" (``https://example.org/things/1``); a client escapes it
    as %2F inside the segment (RFC 3986 §3.3), which the decoded ``path`` has lost. Matching on
    the raw path keeps ``/entities/https:%2F%2Fexample.org%2Fthings%2F1/attrs/speed`` to
    ``entity_id="https://example.org/things/1"``, ``attr_id="speed"``.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw = scope.get("raw_path")
        root = scope.get("root_path", "")
        text = raw.decode("latin-1") if scope["type"] == "http" and raw else ""
        if not text.startswith(root + "/"):
            return super().matches(scope)
        segments = (unquote(segment) for segment in text[len(root) :].split("/"))
        escaped = "/".join(s.replace("%", "%25").replace("/", "%2F") for s in segments)
        match, child = super().matches({**scope, "path": root + escaped})
        if match != Match.NONE:
            params = dict(child["path_params"])
            for name in self.param_convertors:
                params[name] = unquote(params[name])
            child["path_params"] = params
        return match, child


def routes() -> list[Route]:
    return [
        Route("/entities", create_entity, methods=["POST"]),
        EntityRoute("/entities/{entity_id}", retrieve_entity, methods=["GET"]),
        EntityRoute("/entities/{entity_id}", replace_entity, methods=["PUT"]),
        EntityRoute("/entities/{entity_id}", merge_entity, methods=["PATCH"]),
        EntityRoute("/entities/{entity_id}", delete_entity, methods=["DELETE"]),
        EntityRoute("/entities/{entity_id}/attrs", append_attributes, methods=["POST"]),
        EntityRoute("/entities/{entity_id}/attrs", update_attributes, methods=["PATCH"]),
        EntityRoute(
            "/entities/{entity_id}/attrs/{attr_id}", partial_attribute_update, methods=["PATCH"]
        ),
        EntityRoute("/entities/{entity_id}/attrs/{attr_id}", replace_attribute, methods=["PUT"]),
        EntityRoute("/entities/{entity_id}/attrs/{attr_id}", delete_attribute, methods=["DELETE"]),
    ]
