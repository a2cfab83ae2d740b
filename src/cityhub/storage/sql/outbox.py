"""Outbox bookkeeping both stores share."""

from __future__ import annotations

from collections.abc import Sequence

from cityhub.storage.base import PendingNotification


def tally(
    done: Sequence[tuple[PendingNotification, str]],
) -> dict[tuple[str, str], tuple[int, str]]:
    """Per subscription: how many were delivered and when the last one was."""
    counts: dict[tuple[str, str], tuple[int, str]] = {}
    for item, when in done:
        key = (item.tenant, item.subscription_id)
        n, last = counts.get(key, (0, when))
        counts[key] = (n + 1, max(last, when))
    return counts
