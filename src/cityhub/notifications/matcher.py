"""Which committed changes a subscription is told about (clauses 5.8, 5.11, 4.x triggers).

A stored subscription (model/subscriptions.py) compiles once into a ``CompiledSubscription``:
its entity selectors, q, geoQ and scopeQ as one ``EntityQuery`` for the in-memory evaluator
(query/evaluate.py, the same semantics as the SQL compilers), its watched attributes and its
notification triggers. ``trigger_of`` then decides for one change event whether the
subscription fires and names the trigger (the notification's ``triggerReason``).

Triggers (clause 5.2.12): without ``notificationTrigger`` a subscription fires on
attributeCreated and attributeUpdated; ``entityUpdated`` stands for attributeCreated,
attributeUpdated and attributeDeleted. Creating an entity creates its attributes, and
deleting one deletes them. ``watchedAttributes`` narrows the attribute triggers to changes of
those attributes. Filters are checked on the entity as the change left it (as it was, for a
deletion).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityhub.events import CREATED, DELETED, ChangeEvent
from cityhub.jsonld.termmap import TermMap
from cityhub.model.subscriptions import DEFAULT_TRIGGERS, entity_type_selection
from cityhub.model.values import parse_datetime
from cityhub.query.ast import EntityQuery, EntitySelector, TypeAny, TypeName
from cityhub.query.evaluate import matches
from cityhub.query.geo import geo_query_from_json
from cityhub.query.q import parse_q
from cityhub.query.resolve import resolve_q
from cityhub.query.scope import parse_scope_query

_NOT_ATTRIBUTES = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "@context"})


@dataclass(frozen=True)
class CompiledSubscription:
    """A subscription ready to be matched against changes."""

    tenant: str
    id: str
    doc: dict[str, Any]
    query: EntityQuery
    watched: frozenset[str] | None
    triggers: frozenset[str]
    active: bool
    expires_at: datetime | None
    periodic: bool

    def live(self, now: datetime) -> bool:
        """Active and not expired: only then does it notify (status ``active``)."""
        return self.active and (self.expires_at is None or now < self.expires_at)


def compile_subscription(tenant: str, doc: dict[str, Any], tm: TermMap) -> CompiledSubscription:
    """Compile a stored subscription; ``tm`` is the TermMap of its ``@context`` (for q)."""
    selectors = None
    if "entities" in doc:
        selectors = tuple(
            EntitySelector(
                types=entity_type_selection(item),
                ids=(item["id"],) if "id" in item else None,
                id_pattern=item.get("idPattern") if "id" not in item else None,
            )
            for item in doc["entities"]
        )
    query = EntityQuery(
        selectors=selectors,
        q=resolve_q(parse_q(doc["q"]), tm) if "q" in doc else None,
        geo=geo_query_from_json(doc["geoQ"]) if "geoQ" in doc else None,
        scope=parse_scope_query(doc["scopeQ"]) if "scopeQ" in doc else None,
    )
    triggers = set(doc.get("notificationTrigger", DEFAULT_TRIGGERS))
    if "entityUpdated" in triggers:
        triggers |= {"attributeCreated", "attributeUpdated", "attributeDeleted"}
    watched = doc.get("watchedAttributes")
    return CompiledSubscription(
        tenant=tenant,
        id=doc["id"],
        doc=doc,
        query=query,
        watched=frozenset(watched) if watched else None,
        triggers=frozenset(triggers),
        active=doc.get("isActive", True),
        expires_at=parse_datetime(doc["expiresAt"], "expiresAt") if "expiresAt" in doc else None,
        periodic="timeInterval" in doc,
    )


def index_keys(sub: CompiledSubscription) -> list[str] | None:
    """Entity ids and type IRIs one of which an entity must have to match ``sub``, or None
    when its selectors cannot say (no entities member, type expressions with ``;``)."""
    selectors = sub.query.selectors
    if selectors is None:
        return None
    keys: list[str] = []
    for selector in selectors:
        if selector.ids is not None:
            keys.extend("id:" + entity_id for entity_id in selector.ids)
        elif isinstance(selector.types, TypeName):
            keys.append("type:" + selector.types.name)
        elif isinstance(selector.types, TypeAny) and all(
            isinstance(item, TypeName) for item in selector.types.items
        ):
            keys.extend("type:" + item.name for item in selector.types.items)  # type: ignore[union-attr]
        else:
            return None
    return keys


def event_keys(event: ChangeEvent) -> list[str]:
    """The index keys an entity offers (its id and its types), for ``index_keys``."""
    state = event.after if event.after is not None else event.before
    types = state.get("type", []) if state else []
    return ["id:" + event.entity_id, *("type:" + t for t in types)]


def attribute_changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[set[str], set[str], set[str]]:
    """Attribute IRIs created, updated (any instance differs) and deleted by a change."""
    old = {k: v for k, v in (before or {}).items() if k not in _NOT_ATTRIBUTES}
    new = {k: v for k, v in (after or {}).items() if k not in _NOT_ATTRIBUTES}
    created = set(new) - set(old)
    deleted = set(old) - set(new)
    updated = {name for name in set(new) & set(old) if new[name] != old[name]}
    return created, updated, deleted


Changes = tuple[set[str], set[str], set[str]]


def trigger_of(
    sub: CompiledSubscription, event: ChangeEvent, changes: Changes | None = None
) -> str | None:
    """The trigger for which ``sub`` notifies ``event``, or None when it does not.

    ``changes`` is ``attribute_changes`` of the event, when the caller computed it once for
    many subscriptions."""
    if sub.periodic:
        return None  # periodic subscriptions notify on their interval, not on changes
    reason = _reason(sub, event, changes or attribute_changes(event.before, event.after))
    if reason is None:
        return None
    state = event.before if event.kind == DELETED else event.after
    return reason if state is not None and matches(state, sub.query) else None


def _reason(sub: CompiledSubscription, event: ChangeEvent, changes: Changes) -> str | None:
    if event.kind == CREATED and "entityCreated" in sub.triggers:
        return "entityCreated" if _watched_any(sub, event.after) else None
    if event.kind == DELETED and "entityDeleted" in sub.triggers:
        return "entityDeleted"
    created, updated, deleted = changes
    if sub.watched is not None:
        created &= sub.watched
        updated &= sub.watched
        deleted &= sub.watched
    for trigger, changed in (
        ("attributeCreated", created),
        ("attributeUpdated", updated),
        ("attributeDeleted", deleted),
    ):
        if changed and trigger in sub.triggers:
            return trigger
    return None


def _watched_any(sub: CompiledSubscription, entity: dict[str, Any] | None) -> bool:
    return sub.watched is None or any(name in (entity or {}) for name in sub.watched)
