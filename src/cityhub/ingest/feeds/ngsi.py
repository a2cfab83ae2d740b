"""Builders of NGSI-LD normalized attributes (clause 4.5) for feed entities.

They keep feed parsers short and uniform: a value of None means "not reported" and the
attribute is left out (``entity`` drops it), never stored as null or 0.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cityhub.ingest.feeds.contexts import context_of

Attribute = dict[str, Any]


def urn_part(value: str) -> str:
    """A local id fit for a URN and a URL path (clause 4.4.2 ids are URIs): ``/``, ``?``,
    ``#``, ``%``, blanks and non-ASCII characters percent-encoded, the rest as it is."""
    return quote(value, safe="-._~@:!$&'()*+,;=")


def prop(
    value: Any, *, unit: str | None = None, observed_at: str | None = None
) -> Attribute | None:
    """A Property; ``unit`` is a UN/CEFACT common code (CEL, KMH, MTS, GQ, …)."""
    if value is None:
        return None
    attribute: Attribute = {"type": "Property", "value": value}
    if unit is not None:
        attribute["unitCode"] = unit
    if observed_at is not None:
        attribute["observedAt"] = observed_at
    return attribute


def date_time(value: str | None) -> Attribute | None:
    """A Property holding a DateTime (``{"@type": "DateTime", "@value": …}``, clause 4.6.3)."""
    if value is None:
        return None
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def language(texts: dict[str, str | None]) -> Attribute | None:
    """A LanguageProperty (clause 4.5.18) from the texts that are present, e.g. {ko, en}."""
    present = {tag: text for tag, text in texts.items() if text}
    if not present:
        return None
    return {"type": "LanguageProperty", "languageMap": present}


def relationship(target: str | None) -> Attribute | None:
    if target is None:
        return None
    return {"type": "Relationship", "object": target}


def geo(geometry: dict[str, Any] | None) -> Attribute | None:
    """A GeoProperty holding a GeoJSON geometry, coordinates longitude first."""
    if geometry is None:
        return None
    return {"type": "GeoProperty", "value": geometry}


def point(lon: float, lat: float, alt: float | None = None) -> Attribute:
    coordinates = [lon, lat] if alt is None else [lon, lat, alt]
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": coordinates}}


def entity(entity_id: str, entity_type: str, **attributes: Attribute | None) -> dict[str, Any]:
    """An entity with the pinned @context of its type; attributes that are None are left out."""
    built: dict[str, Any] = {"id": entity_id, "type": entity_type}
    built.update({name: value for name, value in attributes.items() if value is not None})
    built["@context"] = context_of(entity_type)
    return built
