"""The operations a context source may support (clause 4.20) and the named groups of them.

A Context Source Registration lists ``operations`` by name (Table 4.20-1) or by group
(Table 4.20-2); ``expand_operations`` turns such a list into the single operations it
stands for, which is what the distributed-operation planner asks about.

The groups (GS CIM 009 V1.8, Table 4.20-2):

* ``retrieveOps``: retrieveEntity, queryEntity.
* ``updateOps``: updateEntity, updateAttrs, replaceEntity, replaceAttrs.
* ``federationOps``: every read operation a federating broker forwards (retrieve, query,
  queryBatch, the six type and attribute discovery operations), the five subscription
  operations and the four EntityMap operations.
* ``redirectionOps``: every single-entity write (create, update, append, delete attributes,
  delete, merge, replace), retrieve and query, the discovery operations and the EntityMap
  operations.
"""

from __future__ import annotations

from collections.abc import Iterable

OPERATIONS = (
    "createEntity",
    "updateEntity",
    "appendAttrs",
    "updateAttrs",
    "deleteAttrs",
    "deleteEntity",
    "createBatch",
    "upsertBatch",
    "updateBatch",
    "deleteBatch",
    "upsertTemporal",
    "appendAttrsTemporal",
    "deleteAttrsTemporal",
    "updateAttrInstanceTemporal",
    "deleteAttrInstanceTemporal",
    "deleteTemporal",
    "mergeEntity",
    "replaceEntity",
    "replaceAttrs",
    "mergeBatch",
    "retrieveEntity",
    "queryEntity",
    "queryBatch",
    "retrieveTemporal",
    "queryTemporal",
    "retrieveEntityTypes",
    "retrieveEntityTypeDetails",
    "retrieveEntityTypeInfo",
    "retrieveAttrTypes",
    "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo",
    "createSubscription",
    "updateSubscription",
    "retrieveSubscription",
    "querySubscription",
    "deleteSubscription",
    "retrieveEntityMap",
    "updateEntityMap",
    "deleteEntityMap",
    "createEntityMapQueryEntity",
    "createEntityMapQueryTemporal",
    "retrieveContextSourceIdentity",
)

_DISCOVERY = (
    "retrieveEntityTypes",
    "retrieveEntityTypeDetails",
    "retrieveEntityTypeInfo",
    "retrieveAttrTypes",
    "retrieveAttrTypeDetails",
    "retrieveAttrTypeInfo",
)
_ENTITY_MAP = (
    "retrieveEntityMap",
    "updateEntityMap",
    "deleteEntityMap",
    "createEntityMapQueryEntity",
)

OPERATION_GROUPS: dict[str, tuple[str, ...]] = {
    "retrieveOps": ("retrieveEntity", "queryEntity"),
    "updateOps": ("updateEntity", "updateAttrs", "replaceEntity", "replaceAttrs"),
    "federationOps": (
        "retrieveEntity",
        "queryEntity",
        "queryBatch",
        *_DISCOVERY,
        "createSubscription",
        "updateSubscription",
        "retrieveSubscription",
        "querySubscription",
        "deleteSubscription",
        *_ENTITY_MAP,
    ),
    "redirectionOps": (
        "createEntity",
        "updateEntity",
        "appendAttrs",
        "updateAttrs",
        "deleteAttrs",
        "deleteEntity",
        "mergeEntity",
        "replaceEntity",
        "replaceAttrs",
        "retrieveEntity",
        "queryEntity",
        *_DISCOVERY,
        *_ENTITY_MAP,
    ),
}

DEFAULT_OPERATIONS = ("federationOps",)  # clause 5.2.9: "If undefined, … federationOps"

# What an auxiliary registration may offer: it only ever answers retrievals (clause 4.3.6.2).
AUXILIARY_OPERATIONS = frozenset({"retrieveEntity", "queryEntity"})

_KNOWN = frozenset(OPERATIONS)


def is_operation_name(name: object) -> bool:
    """A single operation (Table 4.20-1) or a group name (Table 4.20-2)."""
    return isinstance(name, str) and (name in _KNOWN or name in OPERATION_GROUPS)


def expand_operations(names: Iterable[str]) -> list[str]:
    """The single operations ``names`` stand for, groups expanded, in code point order.

    >>> expand_operations(["retrieveOps", "queryBatch"])
    ['queryBatch', 'queryEntity', 'retrieveEntity']
    """
    found: set[str] = set()
    for name in names:
        found.update(OPERATION_GROUPS.get(name, (name,)))
    return sorted(found)
