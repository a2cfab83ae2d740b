"""The strings a q equality on a plain attribute name can match: the entity_strings index.

``name=="Gangnam Station"``, ``category==parking``, ``refParkingSite==urn:…`` compare a
string literal with the target elements of each instance of a top-level attribute
(query/ast.py "Target of an instance"): the value when it is a string, the strings of an
array value, every text of a languageMap, the object of a Relationship, the objects of a
ListRelationship, and so on. ``entity_strings`` holds exactly those (attribute IRI, string)
pairs of every entity, so such a query starts from an index instead of reading every document
of the type; the exact q check still runs on each candidate. Strings longer than
``STRING_INDEX_LIMIT`` are left out and queries for them do not use the index.

The PostgreSQL store writes these rows with the entity, in the same transaction (no
triggers: they made every write ~0.4 ms dearer). SQLite keeps no such table (see
storage/sqlite/index_tables.py) and prefilters on the document text instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cityhub.model.attributes import ATTRIBUTE_TYPES

STRING_INDEX_LIMIT = 256
_ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "@context"})


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        yield from (item for item in value if not isinstance(item, list | dict))
    elif not isinstance(value, dict):
        yield value


def _targets(instance: dict[str, Any]) -> Iterator[Any]:
    """The target elements of one instance for a plain attribute path (query/evaluate.py)."""
    kind = instance.get("type")
    member = ATTRIBUTE_TYPES.get(kind, "value") if isinstance(kind, str) else "value"
    if member not in instance:
        return
    value = instance[member]
    if kind == "LanguageProperty" and isinstance(value, dict):
        for text in value.values():
            yield from _scalars(text)
    elif kind == "ListRelationship" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                if "object" in item:
                    yield from _scalars(item["object"])
            elif not isinstance(item, list):
                yield item
    else:
        yield from _scalars(value)


def entity_strings(entity: dict[str, Any]) -> list[tuple[str, str]]:
    """(attribute IRI, string) pairs the entity_strings index holds for ``entity``."""
    found: dict[tuple[str, str], None] = {}
    for name, instances in entity.items():
        if name in _ENTITY_MEMBERS or not isinstance(instances, list):
            continue
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            for element in _targets(instance):
                if isinstance(element, str) and len(element) <= STRING_INDEX_LIMIT:
                    found[(name, element)] = None
    return list(found)
