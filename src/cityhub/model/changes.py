"""How each provision operation changes a stored entity (clauses 5.6.2–5.6.5, 5.6.17–5.6.19).

Pure functions: they take the current entity, the parsed input and the time, and return the new
entity plus what was (not) updated, so the services layer only loads, calls and stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityhub.errors import BadRequestData, ResourceNotFound
from cityhub.model.attributes import (
    ATTRIBUTE_TYPES,
    METADATA_MEMBERS,
    NGSI_NULL,
    VALUE_MEMBERS,
    Instance,
)
from cityhub.model.copying import json_copy
from cityhub.model.entity import Entity, Fragment, attribute_items


@dataclass
class UpdateResult:
    """Clause 5.2.18: names updated and (name, reason) pairs not updated."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.updated)


def stamp(instances: list[Instance], now: str, created: str | None = None) -> None:
    """Set createdAt/modifiedAt on instances and their sub-attributes (system attributes)."""
    for instance in instances:
        subs = [sub for key, sub in instance.items() if ":" in key]
        instance["createdAt"] = created or instance.get("createdAt") or now
        instance["modifiedAt"] = now
        for sub in subs:
            stamp(sub, now)


def _stamp_new(container: dict[str, Any], now: str) -> None:
    """createdAt = modifiedAt = now on every attribute instance, at any depth, of something
    just parsed (parsing never keeps system attributes, so nothing older survives)."""
    for key, instances in container.items():
        if ":" in key:
            for instance in instances:
                if len(instance) > 2:  # more than type and value: maybe sub-attributes
                    _stamp_new(instance, now)
                instance["createdAt"] = now
                instance["modifiedAt"] = now


def new_entity(entity: Entity, now: str) -> Entity:
    """A freshly created entity with every system timestamp set."""
    _stamp_new(entity, now)
    entity["createdAt"] = now
    entity["modifiedAt"] = now
    return entity


def replace_entity(current: Entity, replacement: Entity, now: str) -> Entity:
    """Replace Entity (5.6.18): everything but id and createdAt comes from the replacement."""
    _stamp_new(replacement, now)
    replacement["createdAt"] = current["createdAt"]
    replacement["modifiedAt"] = now
    return replacement


def _find(instances: list[Instance], dataset_id: str | None) -> int | None:
    for index, instance in enumerate(instances):
        if instance.get("datasetId") == dataset_id:
            return index
    return None


def _put_instance(existing: list[Instance], instance: Instance, now: str) -> None:
    index = _find(existing, instance.get("datasetId"))
    if index is None:
        stamp([instance], now, now)
        existing.append(instance)
    else:
        stamp([instance], now, existing[index].get("createdAt") or now)
        existing[index] = instance


def _is_null(instance: Instance) -> bool:
    """An NGSI-LD Null (clause 5.2.1): urn:ngsi-ld:null as value/object/vocab (or the only list
    item), or {"@none": "urn:ngsi-ld:null"} as the languageMap of a LanguageProperty."""
    member = ATTRIBUTE_TYPES.get(instance.get("type", ""), "value")
    value = instance.get(member)
    return bool(value == NGSI_NULL or value == [NGSI_NULL] or value == {"@none": NGSI_NULL})


def append_attributes(
    entity: Entity, fragment: Fragment, now: str, *, no_overwrite: bool
) -> UpdateResult:
    """Append Entity Attributes (5.6.3): add, or overwrite unless noOverwrite is asked."""
    result = UpdateResult()
    for iri, instances in fragment.attributes.items():
        name = fragment.names.get(iri, iri)
        existing = entity.get(iri)
        if existing is None:
            stamp(instances, now, now)
            entity[iri] = instances
            result.updated.append(name)
            continue
        appended = False
        for instance in instances:
            present = _find(existing, instance.get("datasetId")) is not None
            if present and no_overwrite:
                continue
            _put_instance(existing, instance, now)
            appended = True
        if appended:
            result.updated.append(name)
        else:
            result.not_updated.append((name, "Attribute exists and noOverwrite was asked"))
    _merge_entity_members(entity, fragment)
    if result.changed or fragment.types or fragment.scope:
        entity["modifiedAt"] = now
    return result


def update_attributes(entity: Entity, fragment: Fragment, now: str) -> UpdateResult:
    """Update Entity Attributes (5.6.2): only existing attributes (same datasetId) change;
    urn:ngsi-ld:null deletes."""
    result = UpdateResult()
    for iri, instances in fragment.attributes.items():
        name = fragment.names.get(iri, iri)
        existing = entity.get(iri)
        if existing is None:
            result.not_updated.append((name, "Attribute does not exist"))
            continue
        done = False
        for instance in instances:
            index = _find(existing, instance.get("datasetId"))
            if index is None:
                continue
            if _is_null(instance):
                del existing[index]
            else:
                stamp([instance], now, existing[index].get("createdAt") or now)
                existing[index] = instance
            done = True
        if not existing:
            del entity[iri]
        if done:
            result.updated.append(name)
        else:
            result.not_updated.append((name, "No instance with that datasetId exists"))
    if result.changed:
        entity["modifiedAt"] = now
    return result


def merge_entity(entity: Entity, fragment: Fragment, now: str, observed_at: str | None) -> None:
    """Merge Entity (5.6.17): JSON Merge Patch semantics on attributes and sub-attributes;
    urn:ngsi-ld:null deletes; an existing observedAt survives unless replaced."""
    for iri, instances in fragment.attributes.items():
        existing = entity.get(iri)
        for instance in instances:
            index = None if existing is None else _find(existing, instance.get("datasetId"))
            if _is_null(instance):
                if existing is not None and index is not None:
                    del existing[index]
                continue
            if existing is None or index is None:
                _strip_nulls(instance)
                stamp([instance], now, now)
                existing = entity.setdefault(iri, [])
                existing.append(instance)
                continue
            existing[index] = _merge_instance(existing[index], instance, now, observed_at)
        if existing is not None and not existing:
            entity.pop(iri, None)
    _merge_entity_members(entity, fragment)
    if fragment.scope_null:
        entity.pop("scope", None)
    entity["modifiedAt"] = now


def _merge_entity_members(entity: Entity, fragment: Fragment) -> None:
    if fragment.types:
        entity["type"] = list(dict.fromkeys([*entity["type"], *fragment.types]))
    if fragment.scope is not None:
        entity["scope"] = list(dict.fromkeys([*entity.get("scope", []), *fragment.scope]))


def _merge_instance(old: Instance, new: Instance, now: str, observed_at: str | None) -> Instance:
    merged = json_copy(old)
    kind = new.get("type", old.get("type"))
    if kind != old.get("type"):
        for member in VALUE_MEMBERS:
            merged.pop(member, None)
        merged["type"] = kind
    for member in VALUE_MEMBERS & new.keys():
        if isinstance(new[member], dict) and isinstance(merged.get(member), dict):
            merged[member] = json_merge_patch(merged[member], new[member])
        else:
            merged[member] = new[member]
    for member in METADATA_MEMBERS & new.keys():
        merged[member] = new[member]
    if "observedAt" not in new and "observedAt" in old and observed_at is not None:
        merged["observedAt"] = observed_at
    for iri, sub_instances in attribute_items(new):
        current = merged.get(iri)
        for sub in sub_instances:
            index = None if current is None else _find(current, sub.get("datasetId"))
            if _is_null(sub):
                if current is not None and index is not None:
                    del current[index]
            elif current is None or index is None:
                stamp([sub], now, now)
                current = merged.setdefault(iri, [])
                current.append(sub)
            else:
                current[index] = _merge_instance(current[index], sub, now, observed_at)
        if current is not None and not current:
            merged.pop(iri, None)
    merged["modifiedAt"] = now
    return merged


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 with urn:ngsi-ld:null (and JSON null) removing a member."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None or value == NGSI_NULL:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def _strip_nulls(instance: Instance) -> None:
    for iri, subs in attribute_items(instance):
        kept = [sub for sub in subs if not _is_null(sub)]
        if kept:
            instance[iri] = kept
        else:
            del instance[iri]


def partial_update_attribute(
    entity: Entity, iri: str, name: str, instances: list[Instance], now: str
) -> None:
    """Partial Attribute Update (5.6.4): merge the fragment into the existing instance."""
    existing = entity.get(iri)
    if existing is None:
        raise ResourceNotFound(f"Attribute {name} does not exist in entity {entity['id']}")
    for instance in instances:
        index = _find(existing, instance.get("datasetId"))
        if index is None:
            raise ResourceNotFound(
                f"Attribute {name} has no instance with datasetId {instance.get('datasetId')}"
            )
        old_kind = existing[index].get("type")
        if "type" in instance and instance["type"] != old_kind and not _is_null(instance):
            compatible = {instance["type"], old_kind} <= {"Property", "GeoProperty"}
            if not compatible:
                raise BadRequestData(
                    f"Attribute {name} is a {old_kind}; a partial update cannot make it a "
                    f"{instance['type']}"
                )
        if _is_null(instance):
            del existing[index]
            continue
        existing[index] = _merge_instance(existing[index], instance, now, None)
    if not existing:
        del entity[iri]
    entity["modifiedAt"] = now


def replace_attribute(
    entity: Entity, iri: str, name: str, instances: list[Instance], now: str
) -> None:
    """Replace Attribute (5.6.19): the attribute must exist; the instance is replaced whole."""
    existing = entity.get(iri)
    if existing is None:
        raise ResourceNotFound(f"Attribute {name} does not exist in entity {entity['id']}")
    for instance in instances:
        _put_instance(existing, instance, now)
    entity["modifiedAt"] = now


def delete_attribute(
    entity: Entity, iri: str, name: str, dataset_id: str | None, delete_all: bool, now: str
) -> None:
    """Delete Attribute (5.6.5): the default instance, one datasetId, or all instances."""
    existing = entity.get(iri)
    if existing is None:
        raise ResourceNotFound(f"Attribute {name} does not exist in entity {entity['id']}")
    if delete_all:
        del entity[iri]
    else:
        index = _find(existing, dataset_id)
        if index is None:
            label = f"datasetId {dataset_id}" if dataset_id else "a default instance"
            raise ResourceNotFound(f"Attribute {name} has no {label}")
        del existing[index]
        if not existing:
            del entity[iri]
    entity["modifiedAt"] = now


_SYSTEM_TIMES = ("createdAt", "modifiedAt")


def _content(instance: Instance) -> Instance:
    """An instance without its system timestamps, at every sub-attribute level."""
    return {
        key: [_content(sub) for sub in value] if ":" in key else value
        for key, value in instance.items()
        if key not in _SYSTEM_TIMES
    }


def drop_unchanged(entity: Entity, fragment: Fragment) -> bool:
    """Remove from ``fragment`` every instance the entity already holds with the same content
    (its system timestamps aside); True when something is left to change.

    Feeds resend whole snapshots every few minutes: what did not change must keep its
    modifiedAt and add no history (issue 6: the same observation twice changes nothing).
    """
    for iri in list(fragment.attributes):
        existing = entity.get(iri)
        if existing is None:
            continue
        kept = []
        for instance in fragment.attributes[iri]:
            index = _find(existing, instance.get("datasetId"))
            if index is None or _content(existing[index]) != _content(instance):
                kept.append(instance)
        if kept:
            fragment.attributes[iri] = kept
        else:
            del fragment.attributes[iri]
    if fragment.types and not set(fragment.types) <= set(entity["type"]):
        return True
    if fragment.scope is not None and not set(fragment.scope) <= set(entity.get("scope", [])):
        return True
    return bool(fragment.attributes)
