"""Entity representations: normalized, concise, simplified and GeoJSON (clauses 4.5, 4.5.17),
with attribute projection (attrs, pick, omit), language selection (clause 4.15) and
system attributes (sysAttrs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import ATTRIBUTE_TYPES, Instance
from cityhub.model.entity import Entity

NORMALIZED = "normalized"
CONCISE = "concise"
SIMPLIFIED = "simplified"
_SYSTEM = ("createdAt", "modifiedAt")
_METADATA = ("observedAt", "unitCode", "datasetId")


@dataclass(frozen=True)
class RenderOptions:
    """How to render: form, sysAttrs, lang preferences and which members to keep."""

    form: str = NORMALIZED
    sys_attrs: bool = False
    lang: tuple[tuple[str, float], ...] | None = None
    keep: frozenset[str] | None = None  # attribute IRIs (attrs/pick); None keeps all
    omit: frozenset[str] = frozenset()  # attribute IRIs to drop
    keep_id: bool = True
    keep_type: bool = True


def render_entity(entity: Entity, tm: TermMap, options: RenderOptions) -> dict[str, Any]:
    """The compacted representation of one entity, without @context."""
    out: dict[str, Any] = {}
    if options.keep_id:
        out["id"] = entity["id"]
    if options.keep_type:
        types = [tm.compact(t) for t in entity["type"]]
        out["type"] = types[0] if len(types) == 1 else types
    if "scope" in entity and _kept("scope", options):
        scope = entity["scope"]
        out["scope"] = scope[0] if len(scope) == 1 else scope
    if options.sys_attrs and options.form != SIMPLIFIED:
        for member in _SYSTEM:
            if member in entity:
                out[member] = entity[member]
    for iri, instances in entity.items():
        if ":" not in iri:
            continue
        if (options.keep is not None and iri not in options.keep) or iri in options.omit:
            continue
        out[tm.compact(iri)] = _render_attribute(instances, tm, options)
    return out


def _kept(member: str, options: RenderOptions) -> bool:
    return options.keep is None or member in options.keep


def _render_attribute(instances: list[Instance], tm: TermMap, options: RenderOptions) -> Any:
    if options.form == SIMPLIFIED:
        if len(instances) == 1:
            return _simple_value(instances[0], tm, options)
        return {
            "dataset": {
                inst.get("datasetId", "@none"): _simple_value(inst, tm, options)
                for inst in instances
            }
        }
    rendered = [_render_instance(inst, tm, options) for inst in instances]
    return rendered[0] if len(rendered) == 1 else rendered


def _render_instance(instance: Instance, tm: TermMap, options: RenderOptions) -> Any:
    kind = instance["type"]
    member = ATTRIBUTE_TYPES[kind]
    out: dict[str, Any] = {}
    concise = options.form == CONCISE
    if not concise:
        out["type"] = kind
    value = instance[member]
    if kind == "VocabProperty":
        value = _compact_names(value, tm)
    elif kind == "LanguageProperty" and options.lang is not None:
        tag, text = pick_language(value, options.lang)
        if not concise:
            out["type"] = "Property"
        out["value"] = text
        out["lang"] = tag
        member = ""
    if member:
        out[member] = value
    if "objectType" in instance:
        out["objectType"] = _compact_names(instance["objectType"], tm)
    for meta in _METADATA:
        if meta in instance:
            out[meta] = instance[meta]
    if options.sys_attrs:
        for meta in _SYSTEM:
            if meta in instance:
                out[meta] = instance[meta]
    for iri, subs in instance.items():
        if ":" in iri:
            rendered = [_render_instance(sub, tm, options) for sub in subs]
            out[tm.compact(iri)] = rendered[0] if len(rendered) == 1 else rendered
    if concise and kind == "Property" and len(out) == 1 and not isinstance(value, dict | list):
        return value
    return out


def _simple_value(instance: Instance, tm: TermMap, options: RenderOptions) -> Any:
    kind = instance["type"]
    value = instance[ATTRIBUTE_TYPES[kind]]
    if kind == "VocabProperty":
        return _compact_names(value, tm)
    if kind == "LanguageProperty":
        if options.lang is not None:
            return pick_language(value, options.lang)[1]
        return {"languageMap": value}
    if kind == "ListRelationship":
        return [item["object"] for item in value]
    if kind == "Relationship":
        return value
    return value


def _compact_names(value: Any, tm: TermMap) -> Any:
    if isinstance(value, list):
        return [tm.compact(v) for v in value]
    return tm.compact(value)


def parse_lang(text: str) -> tuple[tuple[str, float], ...]:
    """The lang parameter (clause 4.15): tags with optional q weights, best first; * is any."""
    prefs: list[tuple[str, float]] = []
    for part in text.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        prefs.append((tag.strip(), weight))
    prefs.sort(key=lambda item: -item[1])
    return tuple(prefs)


def pick_language(
    language_map: dict[str, Any], prefs: tuple[tuple[str, float], ...]
) -> tuple[str, Any]:
    """The best (tag, text) of a languageMap for the preferences; @none, then any, as fallback."""
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted, _ in prefs:
        if wanted == "*":
            break
        tag = lowered.get(wanted.lower())
        if tag is not None:
            return tag, language_map[tag]
        primary = wanted.split("-")[0].lower()
        for low, tag in lowered.items():
            if low.split("-")[0] == primary:
                return tag, language_map[tag]
    if "@none" in language_map:
        return "@none", language_map["@none"]
    first = next(iter(language_map))
    return first, language_map[first]


def geojson_feature(
    entity: Entity,
    rendered: dict[str, Any],
    geometry_iri: str,
) -> dict[str, Any]:
    """A GeoJSON Feature (clause 4.5.17): geometry from the chosen GeoProperty, the rest in
    properties (the id becomes the Feature id)."""
    geometry = None
    for instance in entity.get(geometry_iri, []):
        if instance.get("type") == "GeoProperty" and "datasetId" not in instance:
            geometry = instance["value"]
            break
    else:
        candidates = [i for i in entity.get(geometry_iri, []) if i.get("type") == "GeoProperty"]
        if candidates:
            geometry = candidates[0]["value"]
    properties = {key: value for key, value in rendered.items() if key != "id"}
    feature: dict[str, Any] = {
        "id": entity["id"],
        "type": "Feature",
        "geometry": geometry,
        "properties": properties,
    }
    return feature
