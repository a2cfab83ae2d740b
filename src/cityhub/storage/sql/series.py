"""Numbers of history series: one per (tenant, entity, attribute) with recorded instances
(the temporal migrations' ``temporal_series``), which instance rows refer to.

Series rows are never deleted, so a number read from a committed row stays right and the
stores keep them here; numbers a transaction creates become known only after it commits
(``learn``), since a rolled-back one may hand its number to another series.
"""

from __future__ import annotations

SeriesKey = tuple[str, str, str]  # tenant, entity id, attribute IRI


class SeriesNumbers:
    """A bounded map of committed series numbers (cleared when full: it refills from the
    rows the next writes touch)."""

    def __init__(self, size: int = 500_000) -> None:
        self.size = size
        self.known: dict[SeriesKey, int] = {}

    def get(self, key: SeriesKey) -> int | None:
        return self.known.get(key)

    def learn(self, numbers: dict[SeriesKey, int]) -> None:
        if len(self.known) + len(numbers) > self.size:
            self.known.clear()
        self.known.update(numbers)

    def split(
        self, tenant: str, pairs: set[tuple[str, str]], pending: dict[SeriesKey, int]
    ) -> tuple[dict[tuple[str, str], int], list[tuple[str, str]]]:
        """(numbers known for (entity, attribute) pairs, the pairs still to look up), from
        committed numbers and those this transaction already made (``pending``)."""
        found: dict[tuple[str, str], int] = {}
        missing: list[tuple[str, str]] = []
        for pair in sorted(pairs):
            key = (tenant, *pair)
            number = self.known.get(key)
            if number is None:
                number = pending.get(key)
            if number is None:
                missing.append(pair)
            else:
                found[pair] = number
        return found, missing
