"""Change events, published only after the transaction that made them commits (DESIGN rule 5).

Subscribers (notifications, the dashboard's live feed, federation hooks) register a listener;
a listener's failure is logged and never reaches the request that made the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CREATED = "entityCreated"
UPDATED = "entityUpdated"
DELETED = "entityDeleted"


@dataclass(frozen=True)
class ChangeEvent:
    """One committed change of one entity: its state before and after (None when absent)."""

    tenant: str
    kind: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # False when the change's history was recorded by the operation itself (temporal
    # provision, clause 5.6.11), so the store does not derive it again (model/history.py).
    historic: bool = True


Listener = Callable[[list[ChangeEvent]], Awaitable[None]]


class EventBus:
    """In-process fan-out of committed change events."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    async def publish(self, events: list[ChangeEvent]) -> None:
        if not events:
            return
        for listener in list(self._listeners):
            try:
                await listener(events)
            except Exception:  # a listener must never fail the committed request
                log.exception("Change listener %r failed", listener)
