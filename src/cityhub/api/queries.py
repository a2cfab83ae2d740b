"""Query Entities: ``GET /entities`` and ``POST /entityOperations/query`` (clause 5.7.2).

URL parameters (or the Query body, clause 5.2.23) become one ``EntityQuery`` with every name
resolved through the request's @context; the store runs it as one SQL query; the page is
rendered like Retrieve Entity renders one entity, with ``NGSILD-Results-Count`` (count=true,
clause 6.3.13) and ``Link`` headers to the next and previous pages (clause 5.5.9).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityhub.api.common import (
    hub_of,
    json_input,
    read_context,
    tenant_headers,
    tenant_of,
    termmap_for,
)
from cityhub.api.federated import query as federated_query
from cityhub.api.federated import shown, warning_headers
from cityhub.api.negotiation import GEO_JSON, JSON, JSON_LD, json_response, negotiate
from cityhub.api.params import flag, integer_param, list_param, page_links, render_options
from cityhub.api.parsed import parsed_of
from cityhub.errors import BadRequestData
from cityhub.jsonld.termmap import TermMap
from cityhub.model.representation import RenderOptions, geojson_feature, parse_lang, render_entity
from cityhub.model.values import check_name, require_uri
from cityhub.query.ast import EntityQuery, EntitySelector, GeoQuery
from cityhub.query.geo import geo_query_from_json, parse_geo_query
from cityhub.query.q import parse_q, regex_problem
from cityhub.query.resolve import resolve_geo, resolve_q, resolve_types
from cityhub.query.scope import parse_scope_query
from cityhub.query.types import parse_type_expression
from cityhub.storage.base import QueryResult

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
_MEDIA = (JSON, JSON_LD, GEO_JSON)
_SELECTING = (
    "type",
    "id",
    "idPattern",
    "attrs",
    "q",
    "georel",
    "geometry",
    "coordinates",
    "scopeQ",
)


def _id_pattern(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise BadRequestData("idPattern must be a non-empty regular expression")
    problem = regex_problem(raw)
    if problem:
        raise BadRequestData(f"idPattern: {problem}")
    return raw


def _ids(items: list[Any]) -> tuple[str, ...]:
    return tuple(require_uri(item, "Entity id") for item in items)


def _attrs(names: list[Any], tm: TermMap) -> frozenset[str]:
    checked = []
    for name in names:
        if not isinstance(name, str):
            raise BadRequestData("attrs must be attribute names")
        checked.append(tm.expand(check_name(name)))
    return frozenset(checked)


def _page(request: Request) -> tuple[int, int]:
    settings = hub_of(request).settings
    return (
        integer_param(request, "limit", settings.query_default_limit),
        integer_param(request, "offset", 0),
    )


async def query_entities(request: Request) -> Response:
    """GET /entities — Query Entities (5.7.2)."""
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    parsed = parsed_of(hub_of(request))
    query_string: bytes = request.scope.get("query_string") or b""
    known = parsed.get(query_string, tm)
    if known is not None:
        query, render = cast(tuple[EntityQuery, RenderOptions], known)
        return await _answer(request, media, ctx.value, tm, query, render)
    params = request.query_params
    if not any(name in params for name in _SELECTING):
        raise BadRequestData(
            "Query Entities needs at least one of type, id, idPattern, attrs, q, geoQ, scopeQ"
        )
    attrs = list_param(request, "attrs")
    query = query_from_params(request, tm, _attrs(attrs, tm) if attrs is not None else None)
    render = render_options(request, tm)
    parsed.put(query_string, tm, (query, render))
    return await _answer(request, media, ctx.value, tm, query, render)


def query_from_params(request: Request, tm: TermMap, attrs: frozenset[str] | None) -> EntityQuery:
    """The EntityQuery of URL parameters type, id, idPattern, q, geoQ, scopeQ, limit and
    offset (clause 5.7.2, also 5.7.4), with ``attrs`` as the caller resolved them."""
    params = request.query_params
    type_text = params.get("type")
    ids = list_param(request, "id")
    q_text = params.get("q")
    scope_text = params.get("scopeQ")
    geo = parse_geo_query(
        params.get("georel"),
        params.get("geometry"),
        params.get("coordinates"),
        params.get("geoproperty"),
    )
    limit, offset = _page(request)
    return EntityQuery(
        types=resolve_types(parse_type_expression(type_text), tm)
        if type_text is not None
        else None,
        ids=_ids(ids) if ids is not None else None,
        id_pattern=_id_pattern(params["idPattern"]) if "idPattern" in params else None,
        attrs=attrs,
        q=resolve_q(parse_q(q_text), tm) if q_text is not None else None,
        geo=resolve_geo(geo, tm) if geo is not None else None,
        scope=parse_scope_query(scope_text) if scope_text is not None else None,
        limit=limit,
        offset=offset,
    )


async def query_batch(request: Request) -> Response:
    """POST /entityOperations/query — Query Entities with a Query body (5.7.2, 5.2.23)."""
    media = negotiate(request, _MEDIA)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    body = data.body
    if not isinstance(body, dict):
        raise BadRequestData("The body must be a Query object")
    if body.get("type") != "Query":
        raise BadRequestData('A Query object needs "type": "Query"')
    selectors = None
    if "entities" in body:
        selectors = tuple(_selector(item, tm) for item in _list(body["entities"], "entities"))
    attrs = _list(body["attrs"], "attrs") if "attrs" in body else None
    q_text = _text(body, "q")
    scope_text = _text(body, "scopeQ")
    geo: GeoQuery | None = geo_query_from_json(body["geoQ"]) if "geoQ" in body else None
    if not (selectors or attrs or q_text or scope_text or geo):
        raise BadRequestData("A Query needs at least one of entities, attrs, q, geoQ, scopeQ")
    limit, offset = _page(request)
    query = EntityQuery(
        selectors=selectors,
        attrs=_attrs(attrs, tm) if attrs is not None else None,
        q=resolve_q(parse_q(q_text), tm) if q_text is not None else None,
        geo=resolve_geo(geo, tm) if geo is not None else None,
        scope=parse_scope_query(scope_text) if scope_text is not None else None,
        limit=limit,
        offset=offset,
    )
    render = render_options(request, tm)
    if attrs is not None:
        kept = _attrs(attrs, tm)
        render = dataclasses.replace(
            render, keep=kept if render.keep is None else render.keep & kept
        )
    lang = _text(body, "lang")
    if lang is not None:
        render = dataclasses.replace(render, lang=parse_lang(lang) or None)
    context = data.context.value
    return await _answer(request, media, context, tm, query, render)


class RenderedEntities:
    """Entities rendered before, reused while the stored entity is unchanged.

    Dashboards ask the same queries over and over, and parsing and compacting an entity
    costs far more CPU than reading it (at 100 entities a page: 0.7 ms of rendering and
    ~1 ms of parsing against 0.1 ms of SQL). An entry is keyed by tenant, the stored
    document's JSON text as the database returned it (exact where modifiedAt is not: two
    writes can share a timestamp), the request's TermMap and the render options, so a
    change made anywhere, by any worker, makes the next query render afresh; a hit needs
    neither parsing nor rendering nor encoding. The text itself is the key, not a digest of
    it: hashlib lets go of the GIL for inputs of 2 KiB and more (a city entity's usual
    size), and taking it back behind SQLite's reader threads cost the event loop ~10 µs per
    entity under load; ``bytes`` hash and compare without letting go. Each entry keeps the rendered
    object (JSON-LD and GeoJSON answers build new objects around it; callers never mutate
    it) and its JSON encoding (plain JSON answers splice it in as it is). Bounded LRU.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.entries: OrderedDict[
            tuple[Any, ...], tuple[TermMap, dict[str, Any], orjson.Fragment]
        ] = OrderedDict()

    def render(
        self, tenant: str, doc: bytes | str, tm: TermMap, render: RenderOptions
    ) -> tuple[dict[str, Any], orjson.Fragment]:
        """The rendered entity of one stored document, and its JSON encoding."""
        text = doc.encode() if isinstance(doc, str) else doc
        key = (id(tm), render, tenant, text)
        found = self.entries.get(key)
        if found is not None and found[0] is tm:
            self.entries.move_to_end(key)
            return found[1], found[2]
        rendered = render_entity(orjson.loads(text), tm, render)
        fragment = orjson.Fragment(orjson.dumps(rendered))
        self.entries[key] = (tm, rendered, fragment)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return rendered, fragment


_RENDERED = RenderedEntities()


def _list(raw: Any, name: str) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise BadRequestData(f"{name} must be a non-empty array")
    return raw


def _text(body: dict[str, Any], name: str) -> str | None:
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequestData(f"{name} must be a string")
    return raw


def _selector(raw: Any, tm: TermMap) -> EntitySelector:
    """EntitySelector (clause 5.2.33): type is required, id and idPattern optional."""
    if not isinstance(raw, dict):
        raise BadRequestData("Each item of entities must be an EntitySelector object")
    unknown = set(raw) - {"id", "idPattern", "type"}
    if unknown:
        raise BadRequestData(f"Unknown EntitySelector member {sorted(unknown)[0]!r}")
    type_text = raw.get("type")
    if not isinstance(type_text, str):
        raise BadRequestData("An EntitySelector needs a type")
    ids = None
    if "id" in raw:
        ids = _ids(raw["id"] if isinstance(raw["id"], list) else [raw["id"]])
    return EntitySelector(
        types=resolve_types(parse_type_expression(type_text), tm),
        ids=ids,
        id_pattern=_id_pattern(raw["idPattern"]) if "idPattern" in raw else None,
    )


async def _answer(
    request: Request,
    media: str,
    context: Any,
    tm: TermMap,
    query: EntityQuery,
    render: RenderOptions,
) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    count = flag(request, "count")
    query, federated, partner = await federated_query(request, tenant, query, tm, count=count)
    warnings: list[str] = []
    entity_map: str | None = None
    ids_only = False
    if federated is not None:
        result: QueryResult = federated.result
        warnings = federated.warnings
        entity_map = federated.entity_map
    else:
        ids_only = _ids_only(render, media) and partner is None
        result = await hub.queries.query_entities(tenant, query, count=count, ids_only=ids_only)
    if partner is not None:
        entities = shown(result.entities, partner)
        result = QueryResult([orjson.dumps(e) for e in entities], result.total, result.more)
    body: Any
    if ids_only:  # each doc is {"id": …} already, as pick=id renders it
        rendered = body = [orjson.loads(doc) for doc in result.docs]
    else:
        pairs = [_RENDERED.render(tenant, doc, tm, render) for doc in result.docs]
        rendered = body = [item for item, _ in pairs]
        if media == JSON:
            body = [fragment for _, fragment in pairs]
    if media == GEO_JSON:
        name = request.query_params.get("geometryProperty")
        geometry_iri = tm.expand(check_name(name)) if name else LOCATION
        body = {
            "type": "FeatureCollection",
            "features": [
                geojson_feature(entity, item, geometry_iri)
                for entity, item in zip(result.entities, rendered, strict=True)
            ],
        }
    headers = {**tenant_headers(tenant), **warning_headers(warnings)}
    if entity_map is not None:
        headers["NGSILD-EntityMap"] = entity_map
    if result.total is not None:
        headers["NGSILD-Results-Count"] = str(result.total)
    links = page_links(request, query.limit, query.offset, result.more, media)
    if links:
        headers["Link"] = links
    return json_response(
        body,
        media=media,
        context=context,
        context_url=context if isinstance(context, str) else None,
        headers=headers,
    )


def _ids_only(render: RenderOptions, media: str) -> bool:
    """``pick=id`` alone: the answer is the ids, and the store need not read a document."""
    return (
        render.keep == frozenset()
        and render.keep_id
        and not render.keep_type
        and not render.omit
        and not render.sys_attrs
        and media != GEO_JSON
    )


def routes() -> list[Route]:
    return [
        Route("/entities", query_entities, methods=["GET"]),
        Route("/entityOperations/query", query_batch, methods=["POST"]),
    ]
