"""Entity representations: normalized, concise, simplified and GeoJSON (clauses 4.5, 4.5.17),
with attribute projection (attrs, pick, omit), language selection (clause 4.15) and
system attributes (sysAttrs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cityhub.jsonld.termmap import TermMap
from cityhub.model.attributes import ATTRIBUTE_TYPES, Instance
from cityhub.model.entity import Entity
from cityhub.model.values import looks_like_geometry

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
    keep: frozenset[str] | None = None  # attribute IRIs (attrs/pick), "scope"; None keeps all
    omit: frozenset[str] = frozenset()  # attribute IRIs (and "scope") to drop
    keep_id: bool = True
    keep_type: bool = True


def render_entity(entity: Entity, tm: TermMap, options: RenderOptions) -> dict[str, Any]:
    """The compacted representation of one entity, without @context (clauses 4.5.1–4.5.4).

    Example (concise, core @context): ``{"id": "urn:ngsi-ld:T:1", "type": "T", "speed": 5,
    "name": {"languageMap": {"en": "Gate"}}}``.
    """
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
    return (options.keep is None or member in options.keep) and member not in options.omit


def _render_attribute(instances: list[Instance], tm: TermMap, options: RenderOptions) -> Any:
    if options.form == SIMPLIFIED:
        if len(instances) == 1:
            return simple_value(instances[0], tm, options)
        return {
            "dataset": {
                inst.get("datasetId", "@none"): simple_value(inst, tm, options)
                for inst in instances
            }
        }
    if len(instances) == 1:
        return render_instance(instances[0], tm, options, bare_ok=True)
    # Several instances (clause 4.5.5): a bare value among objects would no longer read back
    # as an array of instances, so each one keeps its object form.
    return [render_instance(inst, tm, options) for inst in instances]


def render_instance(
    instance: Instance, tm: TermMap, options: RenderOptions, *, bare_ok: bool = False
) -> Any:
    """One attribute instance, normalized (4.5.2.2, 4.5.3.2) or concise (4.5.2.3, 4.5.3.3).

    Concise drops ``type`` wherever the value member implies it; a Property whose value is a
    GeoJSON geometry keeps it, as it would otherwise read back as a GeoProperty.
    """
    kind = instance["type"]
    member = ATTRIBUTE_TYPES[kind]
    value = instance[member]
    if (
        len(instance) == 4
        and "modifiedAt" in instance
        and "createdAt" in instance
        and options.form == NORMALIZED
        and not options.sys_attrs
        and kind != "VocabProperty"
        and (options.lang is None or kind != "LanguageProperty")
    ):
        # Nothing but the value member beside the timestamps: the usual stored instance.
        return {"type": kind, member: value}
    out: dict[str, Any] = {}
    concise = options.form == CONCISE
    if not concise or (kind == "Property" and looks_like_geometry(value)):
        out["type"] = kind
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
            out[tm.compact(iri)] = _render_attribute(subs, tm, options)
    if concise and bare_ok and list(out) == ["value"] and _is_plain(value):
        return value
    return out


def _is_plain(value: Any) -> bool:
    """A value that reads back as a concise Property on its own (clause 4.5.2.3): a scalar or
    an array of scalars. JSON objects keep their ``value`` wrapper so that they are never
    taken for an attribute in normalized form or for a geometry."""
    if isinstance(value, list):
        return all(not isinstance(item, dict | list) for item in value)
    return not isinstance(value, dict)


def simple_value(instance: Instance, tm: TermMap, options: RenderOptions) -> Any:
    """The simplified value of one instance (clause 4.5.4): the bare value or object(s),
    except for the Property subtypes whose value member names them."""
    kind = instance["type"]
    value = instance[ATTRIBUTE_TYPES[kind]]
    if kind == "VocabProperty":
        return {"vocab": _compact_names(value, tm)}
    if kind == "JsonProperty":
        return {"json": value}
    if kind == "LanguageProperty":
        if options.lang is not None:
            return pick_language(value, options.lang)[1]
        return {"languageMap": value}
    if kind == "ListRelationship":
        return [item["object"] for item in value]
    return value


def _compact_names(value: Any, tm: TermMap) -> Any:
    if isinstance(value, list):
        return [tm.compact(v) for v in value]
    return tm.compact(value)


def parse_lang(text: str) -> tuple[tuple[str, float], ...]:
    """The lang parameter (clause 4.15): tags with optional q weights, best first; * is any.

    Tags weighted q=0 are not acceptable (IETF RFC 9110 clause 12.4.2) and are left out:
    ``"fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5"`` gives fr-CH, fr, en, * in that order.
    """
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
        if weight > 0 and tag.strip():
            prefs.append((tag.strip(), weight))
    prefs.sort(key=lambda item: -item[1])
    return tuple(prefs)


def pick_language(
    language_map: dict[str, Any], prefs: tuple[tuple[str, float], ...]
) -> tuple[str, Any]:
    """The best (tag, text) of a languageMap for the preferences (clause 4.15).

    Each preference is looked up exactly, then by dropping its last subtags (``zh-Hans-CN`` →
    ``zh-Hans`` → ``zh``), then as any tag of the same primary language. When nothing matches
    (or ``*`` is reached), the default ``@none`` text, else the first language, is returned.
    """
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted, _ in prefs:
        if wanted == "*":
            break
        subtags = wanted.lower().split("-")
        for end in range(len(subtags), 0, -1):
            tag = lowered.get("-".join(subtags[:end]))
            if tag is not None:
                return tag, language_map[tag]
        for low, tag in lowered.items():
            if low.split("-")[0] == subtags[0]:
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
    """A GeoJSON Feature (clauses 4.5.16.2, 4.5.17.1): the id, the geometry of the chosen
    GeoProperty and the rest of the rendered entity (type included) in ``properties``.

    The geometry is the default instance of the GeoProperty (clause 4.5.16.1); an entity
    without one gives ``null``, which is valid GeoJSON.
    """
    geometry = None
    for instance in entity.get(geometry_iri, []):
        if instance.get("type") == "GeoProperty" and "datasetId" not in instance:
            geometry = instance["value"]
            break
    properties = {key: value for key, value in rendered.items() if key != "id"}
    return {"id": entity["id"], "type": "Feature", "geometry": geometry, "properties": properties}
