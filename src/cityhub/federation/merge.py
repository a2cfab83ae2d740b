"""Merging what several sources say about one entity (clause 4.3.6.3, issue 8).

Entities are in the hub's internal form (attribute IRIs → instances). The same entity from
several sources becomes one: every attribute any source has, and where two sources hold
the same attribute instance (same datasetId) the one observed most recently wins (its
``observedAt``, else its ``modifiedAt``; a tie keeps the earlier source, the local store
first). Types and scopes are united.
"""

from __future__ import annotations

from typing import Any

Entity = dict[str, Any]


def _stamp(instance: dict[str, Any]) -> str:
    return str(instance.get("observedAt") or instance.get("modifiedAt") or "")


def _later(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether instance ``b`` is more recent than ``a`` (times as normalised ISO strings:
    both carry the hub's UTC form once parsed, so text order is time order)."""
    return _stamp(b) > _stamp(a)


def merge_entities(versions: list[Entity]) -> Entity:
    """One entity from the versions of several sources (the first is preferred on ties)."""
    merged: Entity = {"id": versions[0]["id"], "type": []}
    for version in versions:
        merged["type"] = list(dict.fromkeys([*merged["type"], *version.get("type", [])]))
        if version.get("scope"):
            merged["scope"] = list(dict.fromkeys([*merged.get("scope", []), *version["scope"]]))
        for key in ("createdAt", "modifiedAt"):
            if key in version and (
                key not in merged or (key == "modifiedAt" and version[key] > merged[key])
            ):
                merged[key] = version[key]
        for iri, instances in version.items():
            if ":" not in iri:
                continue
            current = merged.setdefault(iri, [])
            for instance in instances:
                dataset = instance.get("datasetId")
                index = next(
                    (i for i, c in enumerate(current) if c.get("datasetId") == dataset), None
                )
                if index is None:
                    current.append(instance)
                elif _later(current[index], instance):
                    current[index] = instance
    return merged


def merge_all(groups: list[list[Entity]]) -> list[Entity]:
    """Entities of several sources (each list one source, the preferred first), one per id,
    in id order."""
    by_id: dict[str, list[Entity]] = {}
    for group in groups:
        for entity in group:
            by_id.setdefault(entity["id"], []).append(entity)
    return [
        versions[0] if len(versions) == 1 else merge_entities(versions)
        for _, versions in sorted(by_id.items())
    ]
