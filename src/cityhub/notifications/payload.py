"""The Notification a subscriber receives (clause 5.3.1) and the HTTP headers that go with it.

``data`` holds the entity as the change left it, rendered the way ``notification`` asks
(format, attributes, sysAttrs, the subscription's lang) and compacted with ``jsonldContext``
or else the @context the subscription was created with. A deleted entity is sent as its id,
type and ``deletedAt``. With ``showChanges`` each changed Property carries ``previousValue``
(Relationship: ``previousObject``, LanguageProperty: ``previousLanguageMap``).

The notification id is derived from the outbox row, so a retried or re-delivered
notification keeps its id and an idempotent receiver can drop the repeat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from cityhub.jsonld.core import CORE_CONTEXT_URL
from cityhub.jsonld.termmap import TermMap
from cityhub.model.representation import (
    CONCISE,
    NORMALIZED,
    SIMPLIFIED,
    RenderOptions,
    geojson_feature,
    parse_lang,
    render_entity,
)
from cityhub.storage.base import PendingNotification

JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
_FORMS = {
    "normalized": NORMALIZED,
    "concise": CONCISE,
    "keyValues": SIMPLIFIED,
    "simplified": SIMPLIFIED,
}
_PREVIOUS = {
    "Relationship": ("object", "previousObject"),
    "LanguageProperty": ("languageMap", "previousLanguageMap"),
}
_NAMESPACE = uuid.UUID("8d6f3a52-6b0e-4c36-9f0a-2f4c6c1e5b11")


@dataclass
class Notification:
    """What goes over the wire: the body's JSON value and the transport headers."""

    body: dict[str, Any]
    content_type: str
    headers: dict[str, str]
    tenant: str = ""

    def encoded(self) -> bytes:
        return orjson.dumps(self.body)


def notification_context(sub: dict[str, Any]) -> Any:
    """The @context notifications of ``sub`` are compacted with (clause 5.2.12)."""
    return sub.get("jsonldContext") or sub.get("@context") or CORE_CONTEXT_URL


def notification_id(item: PendingNotification) -> str:
    return f"urn:ngsi-ld:Notification:{uuid.uuid5(_NAMESPACE, f'{item.tenant}|{item.id}')}"


def build_notification(
    sub: dict[str, Any], item: PendingNotification, tm: TermMap, notified_at: str
) -> Notification:
    params = sub["notification"]
    endpoint = params["endpoint"]
    accept = endpoint.get("accept", JSON)
    after = item.payload.get("after")
    before = item.payload.get("before")
    if "entities" in item.payload:  # periodic: every matching entity
        options = _render_options(sub, params)
        entities = item.payload["entities"]
        rendered_all = [render_entity(entity, tm, options) for entity in entities]
        data: Any = rendered_all
        if accept == GEO_JSON:
            data = {
                "type": "FeatureCollection",
                "features": [
                    geojson_feature(entity, out, LOCATION)
                    for entity, out in zip(entities, rendered_all, strict=True)
                ],
            }
    elif after is None:  # entityDeleted
        types = [tm.compact(t) for t in (before or {}).get("type", [])]
        entity_out: dict[str, Any] = {
            "id": item.entity_id,
            "type": types[0] if len(types) == 1 else types,
        }
        if params.get("sysAttrs") and before is not None:
            entity_out.update({m: before[m] for m in ("createdAt", "modifiedAt") if m in before})
        entity_out["deletedAt"] = notified_at
        data = [entity_out]
    else:
        options = _render_options(sub, params)
        rendered = render_entity(after, tm, options)
        if params.get("showChanges") and before is not None:
            _add_previous(rendered, after, before, tm)
        if item.trigger == "attributeDeleted" and before is not None:
            _mark_deleted(rendered, after, before, tm, options)
        data = [rendered]
        if accept == GEO_JSON:
            data = {
                "type": "FeatureCollection",
                "features": [geojson_feature(after, rendered, LOCATION)],
            }
    body: dict[str, Any] = {
        "id": notification_id(item),
        "type": "Notification",
        "subscriptionId": sub["id"],
        "notifiedAt": notified_at,
        "data": data,
    }
    context = notification_context(sub)
    headers: dict[str, str] = {}
    if accept == JSON_LD:  # each entity carries its @context (clause 5.3.1); no Link header
        if isinstance(data, list):
            body["data"] = [{**entity, "@context": context} for entity in data]
        else:
            body["@context"] = context
    elif isinstance(context, str):
        headers["Link"] = f'<{context}>; rel="{CONTEXT_REL}"; type="{JSON_LD}"'
    else:  # an inline context has no URL to link to: it travels in the body
        body["@context"] = context
    if item.tenant:
        headers["NGSILD-Tenant"] = item.tenant
    for pair in endpoint.get("receiverInfo", []):
        headers[pair["key"]] = pair["value"]
    return Notification(body, accept, headers, item.tenant)


def _render_options(sub: dict[str, Any], params: dict[str, Any]) -> RenderOptions:
    keep = params.get("attributes", params.get("pick"))
    return RenderOptions(
        form=_FORMS[params.get("format", "normalized")],
        sys_attrs=bool(params.get("sysAttrs")),
        lang=parse_lang(sub["lang"]) if "lang" in sub else None,
        keep=frozenset(keep) if keep is not None else None,
        omit=frozenset(params.get("omit", ())),
    )


_NULL = "urn:ngsi-ld:null"
_NULL_MEMBER = {
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "JsonProperty": "json",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}


def _mark_deleted(
    rendered: dict[str, Any],
    after: dict[str, Any],
    before: dict[str, Any],
    tm: TermMap,
    options: RenderOptions,
) -> None:
    """Deleted attributes appear with the NGSI-LD null (clause 5.8.6): ``"urn:ngsi-ld:null"``
    in keyValues, else an instance whose value member holds it."""
    for iri, instances in before.items():
        if ":" not in iri or iri in after or not isinstance(instances, list) or not instances:
            continue
        if (options.keep is not None and iri not in options.keep) or iri in options.omit:
            continue
        kind = instances[0].get("type", "Property")
        if options.form == SIMPLIFIED:
            rendered[tm.compact(iri)] = _NULL
        else:
            member = _NULL_MEMBER.get(kind, "value")
            empty: Any = {"@none": _NULL} if member == "languageMap" else _NULL
            rendered[tm.compact(iri)] = {"type": kind, member: empty}


def _add_previous(
    rendered: dict[str, Any], after: dict[str, Any], before: dict[str, Any], tm: TermMap
) -> None:
    """previousValue / previousObject / previousLanguageMap on changed single instances."""
    for iri, instances in after.items():
        old = before.get(iri)
        if ":" not in iri or not old or old == instances or len(instances) != 1 or len(old) != 1:
            continue
        out = rendered.get(tm.compact(iri))
        if not isinstance(out, dict):
            continue
        member, previous = _PREVIOUS.get(old[0].get("type", ""), ("value", "previousValue"))
        if member in old[0]:
            out[previous] = old[0][member]
