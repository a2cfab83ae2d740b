"""Direct dispatch of the hot NGSI-LD routes, ahead of Starlette's router (DESIGN §9).

Starlette's Mount + Route scan and its two exception middlewares cost about as much CPU as
retrieving an entity. The entity, query and batch endpoints are found here by splitting the raw
path once; anything unusual (other paths, HEAD, percent-encoded literals, empty segments,
a root_path) goes to Starlette, which also produces every 404 and 405, so the behaviour is
the router's: entity ids are whole raw segments, percent-decoded (see EntityRoute).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from cityhub.api import batch, entities, queries
from cityhub.api.common import echoed_tenant_headers
from cityhub.api.problems import http_error_handler, problem_response, unexpected_error_handler
from cityhub.errors import NgsiLdError

Endpoint = Callable[[Request], Awaitable[Response]]

_PREFIX = b"/ngsi-ld/v1/"

_ENTITIES: dict[str, Endpoint] = {
    "POST": entities.create_entity,
    "GET": queries.query_entities,
}
_ENTITY: dict[str, Endpoint] = {
    "GET": entities.retrieve_entity,
    "PUT": entities.replace_entity,
    "PATCH": entities.merge_entity,
    "DELETE": entities.delete_entity,
}
_ATTRS: dict[str, Endpoint] = {
    "POST": entities.append_attributes,
    "PATCH": entities.update_attributes,
}
_ATTR: dict[str, Endpoint] = {
    "PATCH": entities.partial_attribute_update,
    "PUT": entities.replace_attribute,
    "DELETE": entities.delete_attribute,
}
_BATCH: dict[str, Endpoint] = {
    "create": batch.batch_create,
    "upsert": batch.batch_upsert,
    "update": batch.batch_update,
    "merge": batch.batch_merge,
    "delete": batch.batch_delete,
    "query": queries.query_batch,
}


def hot_route(scope: Scope) -> tuple[Endpoint, dict[str, str]] | None:
    """The endpoint and path parameters of a hot route, or None to leave it to Starlette.

    ``/ngsi-ld/v1/entities/urn:ngsi-ld:T:1/attrs/speed`` with PATCH gives
    (partial_attribute_update, {"entity_id": "urn:ngsi-ld:T:1", "attr_id": "speed"}).
    """
    raw = scope.get("raw_path")
    if not raw or not raw.startswith(_PREFIX) or scope.get("root_path"):
        return None
    parts = raw[len(_PREFIX) :].decode("latin-1").split("/")
    method = scope["method"]
    count = len(parts)
    head = parts[0]
    if head == "entities":
        if count == 1:
            endpoint = _ENTITIES.get(method)
            return None if endpoint is None else (endpoint, {})
        entity = parts[1]
        if not entity:
            return None
        if count == 2:
            table = _ENTITY
        elif parts[2] != "attrs":
            return None
        elif count == 3:
            table = _ATTRS
        elif count == 4 and parts[3]:
            endpoint = _ATTR.get(method)
            if endpoint is None:
                return None
            return endpoint, {"entity_id": unquote(entity), "attr_id": unquote(parts[3])}
        else:
            return None
        endpoint = table.get(method)
        return None if endpoint is None else (endpoint, {"entity_id": unquote(entity)})
    if head == "entityOperations" and count == 2 and method == "POST":
        endpoint = _BATCH.get(parts[1])
        return None if endpoint is None else (endpoint, {})
    return None


async def serve(
    endpoint: Endpoint, scope: Scope, receive: Receive, send: Send, params: dict[str, str]
) -> None:
    """Run one endpoint with the error rendering Starlette's middlewares would give it."""
    scope["path_params"] = params
    request = Request(scope, receive, send)
    try:
        response = await endpoint(request)
    except NgsiLdError as exc:
        response = problem_response(exc, echoed_tenant_headers(request))
    except HTTPException as exc:
        response = await http_error_handler(request, exc)
    except Exception as exc:
        # As ServerErrorMiddleware: a 500 ProblemDetails, then the error goes to the server.
        await (await unexpected_error_handler(request, exc))(scope, receive, send)
        raise
    await response(scope, receive, send)
