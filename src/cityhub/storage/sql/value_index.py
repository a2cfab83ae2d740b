"""The attribute value index: which entities hold a number or a string in an attribute.

A q comparison on a top-level attribute (clause 4.9: ``availableSpotNumber>=50``,
``name=="Shibuya"``, ``refDevice==urn:…``) otherwise reads and walks the JSON of every
candidate entity: ~3 µs an entity for the row and its parse on SQLite, so ~70 ms for the
25,000 car parks of a city, whatever the answer's size. The index holds, for every entity,
the target elements of each of its attributes exactly as ``query.evaluate`` enumerates them
(``attribute_elements``: values, list elements, languageMap texts, relationship objects):

* numbers as rows (attribute key, value, entity id), ordered, for ``==``, ranges, ``<``,
  ``<=``, ``>``, ``>=``;
* strings as hashes of (tenant, attribute, text), for ``==`` on strings and URIs.

Both are prefilters: a query adds "the entity is among the index's candidates" to its exact
check, which still decides. So a hash collision costs a wasted check, never a wrong answer,
and keys may be short non-cryptographic checksums: CRC-32 of the tenant and attribute in
the high half, of the text in the low half (computing them is a fraction of the cost of the
JSON walk itself, which each write does anyway).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cityhub.model.attributes import ENTITY_MEMBERS
from cityhub.query.evaluate import instance_elements
from cityhub.storage.base import Entity

_ENTITY_MEMBERS = ENTITY_MEMBERS | {"@context"}

NumberRow = tuple[int, float]  # (attribute key, value)
ValueKeys = tuple[frozenset[NumberRow], frozenset[int]]  # numbers, string hashes
NO_VALUES: ValueKeys = (frozenset(), frozenset())


def _signed(value: int) -> int:
    """An unsigned 64-bit key as the signed integer both databases store."""
    return value - (1 << 64) if value >= 1 << 63 else value


@lru_cache(maxsize=4096)
def attribute_key(tenant: str, attribute: str) -> int:
    """The key of one tenant's attribute (the numbers' first column); attribute names
    repeat across entities, so each is computed once."""
    return zlib.crc32(f"{tenant}\x00{attribute}".encode())


def string_key(tenant: str, attribute: str, text: str) -> int:
    """The hash of a string in one tenant's attribute."""
    return _signed((attribute_key(tenant, attribute) << 32) | zlib.crc32(text.encode()))


def value_keys(tenant: str, entity: Entity) -> ValueKeys:
    """The index rows of one entity: (attribute key, number) pairs and string hashes."""
    numbers: set[NumberRow] = set()
    strings: set[int] = set()
    crc32 = zlib.crc32
    for name, instances in entity.items():
        if name in _ENTITY_MEMBERS or not isinstance(instances, list):
            continue
        key = attribute_key(tenant, name)
        high = key << 32
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            elements: Iterable[Any]
            if instance.get("type") == "Property":
                # The common case, inline: a Property's targets are its value, or the
                # scalar items of a value that is an array (query.evaluate._scalars).
                value = instance.get("value")
                elements = value if isinstance(value, list) else (value,)
            else:
                elements = instance_elements(instance)
            for element in elements:
                if isinstance(element, str):
                    strings.add(_signed(high | crc32(element.encode())))
                elif isinstance(element, int | float) and not isinstance(element, bool):
                    number = _as_real(element)
                    if number is not None:
                        numbers.add((key, number))
    return frozenset(numbers), frozenset(strings)


def _as_real(value: Any) -> float | None:
    """The number as the index stores it (a double; order-preserving, so a range over the
    rounded bounds still holds every match). None for what a double cannot hold."""
    try:
        return float(value)
    except OverflowError:
        return None


def real_bound(value: Any) -> float:
    """A query's numeric bound as the index compares it."""
    number = _as_real(value)
    if number is None:
        return float("inf") if value > 0 else float("-inf")
    return number
