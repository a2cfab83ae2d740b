"""Type and attribute discovery across context sources (clauses 5.7.5–5.7.10 as distributed
operations, 4.3.6): each matching source is asked the same question, its answer read into
the hub's own details (names expanded through the request's @context) and united with the
local ones — entity and instance counts add up, attribute and type names join.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cityhub.federation.remote import SourceAnswer, SourceFailure
from cityhub.jsonld.termmap import TermMap
from cityhub.storage.base import AttributeDetails, EntityTypeDetails

if TYPE_CHECKING:
    from cityhub.federation.distributed import Federation, Forward


@dataclass
class SourcesSaid:
    bodies: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


async def ask(
    federation: Federation,
    tenant: str,
    operation: str,
    path: str,
    forward: Forward,
    params: list[tuple[str, str]],
) -> SourcesSaid:
    """Every matching source's 200 answer to GET ``path`` (404s are "none here")."""
    said = SourcesSaid()
    regs = await federation.plan(tenant, operation, forward, None)
    if not regs:
        return said
    answers = await asyncio.gather(
        *(federation.sources.get(r, path, forward, params) for r in regs)
    )
    outcomes = []
    for answer in answers:
        if isinstance(answer, SourceFailure):
            said.warnings.append(answer.warning())
            outcomes.append((answer.registration_id, False))
            continue
        assert isinstance(answer, SourceAnswer)
        reg_id = str(answer.registration.get("id"))
        if answer.status == 200:
            said.bodies.append(answer.body)
            outcomes.append((reg_id, True))
        elif answer.status == 404:
            outcomes.append((reg_id, True))
        else:
            said.warnings.append(answer.failure().warning())
            outcomes.append((reg_id, False))
    federation.record(tenant, outcomes)
    return said


def _names(items: Any, tm: TermMap) -> set[str]:
    return {tm.expand(n) for n in items if isinstance(n, str)} if isinstance(items, list) else set()


def type_iris(bodies: Iterable[Any], tm: TermMap) -> set[str]:
    """From EntityTypeList answers (5.2.24)."""
    found: set[str] = set()
    for body in bodies:
        if isinstance(body, dict):
            found |= _names(body.get("typeList"), tm)
    return found


def attribute_iris(bodies: Iterable[Any], tm: TermMap) -> set[str]:
    """From AttributeList answers (5.2.27)."""
    found: set[str] = set()
    for body in bodies:
        if isinstance(body, dict):
            found |= _names(body.get("attributeList"), tm)
    return found


def merge_type_details(
    local: list[EntityTypeDetails], bodies: Iterable[Any], tm: TermMap
) -> list[EntityTypeDetails]:
    """EntityType[] (5.2.25) and EntityTypeInfo (5.2.26) answers joined with the local ones."""
    merged = {
        d.type_iri: EntityTypeDetails(
            d.type_iri, d.entity_count, {k: list(v) for k, v in d.attributes.items()}
        )
        for d in local
    }
    for body in bodies:
        for item in body if isinstance(body, list) else [body]:
            if not isinstance(item, dict) or not isinstance(item.get("typeName"), str):
                continue
            iri = tm.expand(item["typeName"])
            target = merged.setdefault(iri, EntityTypeDetails(iri, 0, {}))
            count = item.get("entityCount")
            if isinstance(count, int) and not isinstance(count, bool):
                target.entity_count += count
            for name in item.get("attributeNames") or []:
                if isinstance(name, str):
                    target.attributes.setdefault(tm.expand(name), [])
            for detail in item.get("attributeDetails") or []:
                if isinstance(detail, dict) and isinstance(detail.get("attributeName"), str):
                    kinds = target.attributes.setdefault(tm.expand(detail["attributeName"]), [])
                    for kind in detail.get("attributeTypes") or []:
                        if kind not in kinds:
                            kinds.append(kind)
                            kinds.sort()
    return [merged[k] for k in sorted(merged)]


def merge_attribute_details(
    local: list[AttributeDetails], bodies: Iterable[Any], tm: TermMap
) -> list[AttributeDetails]:
    """Attribute[] (5.2.28) answers joined with the local ones."""
    merged = {
        d.attribute_iri: AttributeDetails(
            d.attribute_iri, d.instance_count, list(d.attribute_types), list(d.entity_types)
        )
        for d in local
    }
    for body in bodies:
        for item in body if isinstance(body, list) else [body]:
            if not isinstance(item, dict) or not isinstance(item.get("attributeName"), str):
                continue
            iri = tm.expand(item["attributeName"])
            target = merged.setdefault(iri, AttributeDetails(iri, 0, [], []))
            count = item.get("attributeCount")
            if isinstance(count, int) and not isinstance(count, bool):
                target.instance_count += count
            for kind in item.get("attributeTypes") or []:
                if isinstance(kind, str) and kind not in target.attribute_types:
                    target.attribute_types.append(kind)
            for name in item.get("typeNames") or []:
                if isinstance(name, str):
                    type_iri = tm.expand(name)
                    if type_iri not in target.entity_types:
                        target.entity_types.append(type_iri)
            target.attribute_types.sort()
            target.entity_types.sort()
    return [merged[k] for k in sorted(merged)]
