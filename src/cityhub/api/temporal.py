"""The temporal API: ``/temporal/entities`` and ``/temporal/entityOperations/query``
(clauses 5.6.11-5.6.16 provision, 5.7.3-5.7.4 consumption).

Parameters become a ``TemporalQuery`` (and an ``Aggregation``) here; the services read the
store, merged with the registered context sources' answers by federation/temporal.py
(``NGSILD-Warning`` naming any source left out); model/temporal_representation.py renders
normalized, ``temporalValues`` or ``aggregatedValues`` answers. A partial answer (more
instances than the hub's instance limit) is ``206`` with ``Content-Range`` (clause 6.3.10).
A partner hub reads shared types and attributes only, as with Query Entities.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

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
from cityhub.api.entities import EntityRoute
from cityhub.api.federated import caller, forward_of, warning_headers
from cityhub.api.negotiation import JSON, JSON_LD, empty_response, json_response, negotiate
from cityhub.api.params import attribute_deletion, flag, list_param, options, page_links
from cityhub.api.queries import _attrs, _list, _page, _selector, _text, query_from_params
from cityhub.errors import BadRequestData, ResourceNotFound
from cityhub.federation.sharing import restrict_query, shared_attrs
from cityhub.federation.temporal import TemporalFederation, TemporalResult, shown
from cityhub.federation.temporal_merge import label_instances
from cityhub.federation.temporal_sources import Ask, Incoming
from cityhub.jsonld.termmap import TermMap
from cityhub.model.representation import CONCISE, NORMALIZED, RenderOptions, parse_lang
from cityhub.model.temporal_representation import (
    AGGREGATED_VALUES,
    TEMPORAL_VALUES,
    entity_head,
    render_aggregated,
    render_normalized,
    render_simplified,
)
from cityhub.model.values import check_name, require_uri
from cityhub.query.ast import EntityQuery
from cityhub.query.geo import geo_query_from_json
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_geo, resolve_q
from cityhub.query.scope import parse_scope_query
from cityhub.query.temporal import (
    Aggregation,
    TemporalQuery,
    parse_aggregation,
    parse_temporal_query,
)
from cityhub.services.temporal import TemporalAnswer

_MEDIA = (JSON, JSON_LD)
_FORMS = {
    NORMALIZED: NORMALIZED,
    TEMPORAL_VALUES: TEMPORAL_VALUES,
    "simplified": TEMPORAL_VALUES,
    "keyValues": TEMPORAL_VALUES,
    AGGREGATED_VALUES: AGGREGATED_VALUES,
    CONCISE: CONCISE,
}
_OPTIONS = {*_FORMS, "sysAttrs"}
_SELECTING = ("type", "id", "idPattern", "attrs", "q", "georel", "scopeQ")


def _temporal_path(entity_id: str) -> str:
    return f"/ngsi-ld/v1/temporal/entities/{quote(entity_id, safe=':')}"


class Shape:
    """How an answer is rendered: its form, sysAttrs, lang, datasets, aggregation and
    projection (``attrs``: the attributes asked for, by attrs or pick; None: all)."""

    def __init__(
        self,
        form: str,
        render: RenderOptions,
        datasets: frozenset[str] | None,
        aggregation: Aggregation | None,
        attrs: frozenset[str] | None,
    ) -> None:
        self.form = form
        self.render = render
        self.datasets = datasets
        self.aggregation = aggregation
        self.attrs = attrs


def _projection(
    request: Request, tm: TermMap, attrs: list[Any] | None
) -> tuple[frozenset[str] | None, frozenset[str], bool, bool]:
    """(attributes kept, attributes omitted, keep id, keep type) from attrs, pick or omit
    (clause 4.21); they exclude each other."""
    pick = list_param(request, "pick")
    omit = list_param(request, "omit")
    if pick is not None and omit is not None:
        raise BadRequestData("pick and omit cannot be used together")
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestData("attrs cannot be used together with pick or omit")
    if attrs is not None:
        return _attrs(attrs, tm), frozenset(), True, True
    chosen = pick if pick is not None else omit
    if chosen is None:
        return None, frozenset(), True, True
    names = frozenset(
        tm.expand(check_name(name)) for name in chosen if name not in {"id", "type", "scope"}
    )
    if pick is not None:
        return names, frozenset(), "id" in pick, "type" in pick
    return None, names, "id" not in chosen, "type" not in chosen


def _shape(
    request: Request,
    tm: TermMap,
    attrs: list[Any] | None = None,
    methods: list[str] | None = None,
    lang: str | None = None,
) -> Shape:
    chosen = options(request, _OPTIONS)
    forms = {_FORMS[o] for o in chosen if o in _FORMS}
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in _FORMS:
            raise BadRequestData(
                f"format must be normalized, temporalValues or aggregatedValues, got {fmt!r}"
            )
        forms = {_FORMS[fmt]}
    if len(forms) > 1:
        raise BadRequestData("Only one of temporalValues and aggregatedValues can be asked")
    form = forms.pop() if forms else NORMALIZED
    aggregation = None
    if form == AGGREGATED_VALUES:
        aggregation = parse_aggregation(
            methods if methods is not None else list_param(request, "aggrMethods"),
            request.query_params.get("aggrPeriodDuration"),
        )
    lang_raw = lang if lang is not None else request.query_params.get("lang")
    parsed_lang = parse_lang(lang_raw) if lang_raw else None
    if lang_raw is not None and not parsed_lang:
        raise BadRequestData("lang must name at least one language")
    datasets = list_param(request, "datasetId")
    kept, omitted, keep_id, keep_type = _projection(request, tm, attrs)
    render = RenderOptions(
        form=CONCISE if form == CONCISE else NORMALIZED,
        sys_attrs="sysAttrs" in chosen,
        lang=parsed_lang,
        omit=omitted,
        keep_id=keep_id,
        keep_type=keep_type,
    )
    return Shape(
        form,
        render,
        frozenset("" if d == "@none" else require_uri(d, "datasetId") for d in datasets)
        if datasets is not None
        else None,
        aggregation,
        kept,
    )


def _temporal_params(request: Request, *, required: bool) -> TemporalQuery:
    params = request.query_params
    return parse_temporal_query(
        params.get("timerel"),
        params.get("timeAt"),
        params.get("endTimeAt"),
        params.get("timeproperty"),
        params.get("lastN"),
        required=required,
    )


def _render(
    answer: TemporalAnswer,
    tm: TermMap,
    tq: TemporalQuery,
    shape: Shape,
    passed: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The entities in the asked form; ``passed``: aggregated attributes a context source
    computed, by entity id, shown as it sent them."""
    out = []
    for record in answer.entities:
        entity_id = record.entity_id
        shown = answer.instances.get(entity_id)
        newest = max((i.modified_at for i in shown), default=None) if shown else None
        item = entity_head(record, tm, shape.render, newest)
        omitted = shape.render.omit
        if shape.aggregation is not None:
            rows = [r for r in answer.aggregates.get(entity_id, []) if r.attr not in omitted]
            periods = answer.periods.get(entity_id)
            if rows and periods is not None:
                item.update(render_aggregated(rows, tm, shape.aggregation, periods))
            elif passed and entity_id in passed:
                attrs = passed[entity_id].items()
                item.update((k, v) for k, v in attrs if tm.expand(k) not in omitted)
        else:
            instances = [i for i in answer.instances.get(entity_id, []) if i.attr not in omitted]
            if shape.form == TEMPORAL_VALUES:
                item.update(render_simplified(instances, tm, shape.render))
            else:
                attributes = render_normalized(instances, tm, shape.render, tq)
                label_instances(attributes, instances, tm)
                item.update(attributes)
        out.append(item)
    return out


def _respond(
    request: Request,
    body: Any,
    media: str,
    context: Any,
    answer: TemporalAnswer,
    extra: dict[str, str] | None = None,
) -> Response:
    headers = tenant_headers(tenant_of(request))
    if extra:
        headers.update(extra)
    status = 200
    if answer.content_range is not None:
        headers["Content-Range"] = answer.content_range
        status = 206
    return json_response(
        body,
        status=status,
        media=media,
        context=context,
        context_url=context if isinstance(context, str) else None,
        headers=headers,
    )


# --- consumption -----------------------------------------------------------------------


async def retrieve_temporal(request: Request) -> Response:
    """GET /temporal/entities/{entityId} — Retrieve Temporal Evolution of an Entity (5.7.3)."""
    hub, tenant = hub_of(request), tenant_of(request)
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    entity_id = require_uri(request.path_params["entity_id"], "Entity id")
    tq = _temporal_params(request, required=False)
    shape = _shape(request, tm, list_param(request, "attrs"))
    partner = caller(request)
    attrs = shape.attrs if partner is None else shared_attrs(shape.attrs, partner)
    ask = Ask(tq, attrs, shape.datasets, shape.aggregation)
    result = await TemporalFederation(hub).retrieve(tenant, entity_id, ask, tm, forward_of(request))
    if partner is not None:
        result = shown(result, partner, tm)
        if not result.answer.entities:
            raise ResourceNotFound(f"Entity {entity_id} has no temporal evolution")
    (body,) = _render(result.answer, tm, tq, shape, result.passed)
    if not body:  # pick or omit left nothing to show (clause 4.21)
        raise ResourceNotFound(f"Nothing of entity {entity_id} is left to show")
    return _respond(
        request, body, media, ctx.value, result.answer, warning_headers(result.warnings)
    )


async def query_temporal(request: Request) -> Response:
    """GET /temporal/entities — Query Temporal Evolution of Entities (5.7.4)."""
    media = negotiate(request, _MEDIA)
    ctx, tm = await read_context(request)
    params = request.query_params
    tq = _temporal_params(request, required=True)
    if not any(name in params for name in _SELECTING):
        raise BadRequestData(
            "Query Temporal Evolution of Entities needs at least one of type, id, idPattern,"
            " attrs, q, geoQ, scopeQ"
        )
    shape = _shape(request, tm, list_param(request, "attrs"))
    query = query_from_params(request, tm, shape.attrs)
    return await _answer(request, media, ctx.value, tm, query, tq, shape, Incoming())


async def query_temporal_batch(request: Request) -> Response:
    """POST /temporal/entityOperations/query — Query Temporal Evolution of Entities with a
    Query body (5.7.4, 5.2.23): the temporal query in its ``temporalQ`` member."""
    media = negotiate(request, _MEDIA)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    body = data.body
    if not isinstance(body, dict):
        raise BadRequestData("The body must be a Query object")
    if body.get("type") != "Query":
        raise BadRequestData('A Query object needs "type": "Query"')
    temporal = body.get("temporalQ")
    if not isinstance(temporal, dict):
        raise BadRequestData("A temporal Query needs a temporalQ object")
    tq = parse_temporal_query(
        _text(temporal, "timerel"),
        _text(temporal, "timeAt"),
        _text(temporal, "endTimeAt"),
        _text(temporal, "timeproperty"),
        temporal.get("lastN", request.query_params.get("lastN")),
        required=True,
    )
    selectors = None
    if "entities" in body:
        selectors = tuple(_selector(item, tm) for item in _list(body["entities"], "entities"))
    attrs = _list(body["attrs"], "attrs") if "attrs" in body else None
    q_text = _text(body, "q")
    scope_text = _text(body, "scopeQ")
    geo = geo_query_from_json(body["geoQ"]) if "geoQ" in body else None
    if not (selectors or attrs or q_text or scope_text or geo):
        raise BadRequestData("A Query needs at least one of entities, attrs, q, geoQ, scopeQ")
    methods = body.get("aggrMethods")
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",")]
    elif methods is not None and not (
        isinstance(methods, list) and all(isinstance(m, str) for m in methods)
    ):
        raise BadRequestData("aggrMethods must be an array of method names")
    shape = _shape(request, tm, attrs, methods, _text(body, "lang"))
    limit, offset = _page(request)
    query = EntityQuery(
        selectors=selectors,
        attrs=shape.attrs,
        q=resolve_q(parse_q(q_text), tm) if q_text is not None else None,
        geo=resolve_geo(geo, tm) if geo is not None else None,
        scope=parse_scope_query(scope_text) if scope_text is not None else None,
        limit=limit,
        offset=offset,
    )
    if shape.aggregation is not None and "aggrPeriodDuration" in body:
        duration = _text(body, "aggrPeriodDuration")
        shape.aggregation = parse_aggregation(list(shape.aggregation.methods), duration)
    incoming = Incoming(body, data.media)
    return await _answer(request, media, data.context.value, tm, query, tq, shape, incoming)


async def _answer(
    request: Request,
    media: str,
    context: Any,
    tm: TermMap,
    query: EntityQuery,
    tq: TemporalQuery,
    shape: Shape,
    incoming: Incoming,
) -> Response:
    hub, tenant = hub_of(request), tenant_of(request)
    count = flag(request, "count")
    partner = caller(request)
    if partner is not None:
        query = restrict_query(query, partner)
        query = dataclasses.replace(query, attrs=shared_attrs(query.attrs, partner))
    ask = Ask(tq, query.attrs, shape.datasets, shape.aggregation)
    result: TemporalResult = await TemporalFederation(hub).query(
        tenant, query, ask, tm, forward_of(request), incoming, count=count
    )
    if partner is not None:
        result = shown(result, partner, tm)
    answer = result.answer
    body = _render(answer, tm, tq, shape, result.passed)
    extra = warning_headers(result.warnings)
    if answer.total is not None:
        extra["NGSILD-Results-Count"] = str(answer.total)
    links = page_links(request, query.limit, query.offset, answer.more, media)
    if links:
        extra["Link"] = links
    return _respond(request, body, media, context, answer, extra)


# --- provision -------------------------------------------------------------------------


def _body(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k != "@context"}
    return data


async def upsert_temporal(request: Request) -> Response:
    """POST /temporal/entities — Create or Update Temporal Representation (5.6.11): 201
    with Location when the temporal evolution is new, else 204."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    entity_id, created = await hub.temporal_provision.upsert_temporal(tenant, _body(data.body), tm)
    headers = tenant_headers(tenant)
    if created:
        headers["Location"] = _temporal_path(entity_id)
        return empty_response(201, headers)
    return empty_response(204, headers)


async def append_temporal_attributes(request: Request) -> Response:
    """POST /temporal/entities/{entityId}/attrs — Add Attributes to Temporal Representation
    of an Entity (5.6.12)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    await hub.temporal_provision.append_attributes(
        tenant, request.path_params["entity_id"], _body(data.body), tm
    )
    return empty_response(204, tenant_headers(tenant))


async def delete_temporal_attribute(request: Request) -> Response:
    """DELETE /temporal/entities/{entityId}/attrs/{attrId} (5.6.13)."""
    hub, tenant = hub_of(request), tenant_of(request)
    _, tm = await read_context(request)
    dataset_id, delete_all = attribute_deletion(request)
    await hub.temporal_provision.delete_attribute(
        tenant,
        request.path_params["entity_id"],
        request.path_params["attr_id"],
        tm,
        dataset_id=dataset_id,
        delete_all=delete_all,
    )
    return empty_response(204, tenant_headers(tenant))


async def modify_temporal_instance(request: Request) -> Response:
    """PATCH /temporal/entities/{entityId}/attrs/{attrId}/{instanceId} (5.6.14)."""
    hub, tenant = hub_of(request), tenant_of(request)
    data = await json_input(request)
    tm = await termmap_for(request, data.context.value)
    await hub.temporal_provision.modify_instance(
        tenant,
        request.path_params["entity_id"],
        request.path_params["attr_id"],
        request.path_params["instance_id"],
        _body(data.body),
        tm,
    )
    return empty_response(204, tenant_headers(tenant))


async def delete_temporal_instance(request: Request) -> Response:
    """DELETE /temporal/entities/{entityId}/attrs/{attrId}/{instanceId} (5.6.15)."""
    hub, tenant = hub_of(request), tenant_of(request)
    _, tm = await read_context(request)
    await hub.temporal_provision.delete_instance(
        tenant,
        request.path_params["entity_id"],
        request.path_params["attr_id"],
        request.path_params["instance_id"],
        tm,
    )
    return empty_response(204, tenant_headers(tenant))


async def delete_temporal(request: Request) -> Response:
    """DELETE /temporal/entities/{entityId} — Delete Temporal Representation (5.6.16)."""
    hub, tenant = hub_of(request), tenant_of(request)
    await hub.temporal_provision.delete_temporal(tenant, request.path_params["entity_id"])
    return empty_response(204, tenant_headers(tenant))


def routes() -> list[Route]:
    entity = "/temporal/entities/{entity_id}"
    attr = entity + "/attrs/{attr_id}"
    return [
        Route("/temporal/entities", query_temporal, methods=["GET"]),
        Route("/temporal/entities", upsert_temporal, methods=["POST"]),
        Route("/temporal/entityOperations/query", query_temporal_batch, methods=["POST"]),
        EntityRoute(entity, retrieve_temporal, methods=["GET"]),
        EntityRoute(entity, delete_temporal, methods=["DELETE"]),
        EntityRoute(entity + "/attrs", append_temporal_attributes, methods=["POST"]),
        EntityRoute(attr, delete_temporal_attribute, methods=["DELETE"]),
        EntityRoute(attr + "/{instance_id}", modify_temporal_instance, methods=["PATCH"]),
        EntityRoute(attr + "/{instance_id}", delete_temporal_instance, methods=["DELETE"]),
    ]
