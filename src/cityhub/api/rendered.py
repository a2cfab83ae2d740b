"""Rendered Retrieve Entity responses, reused while the stored entity is unchanged (DESIGN §9).

Rendering an entity (compaction, representation, JSON encoding, headers) costs more CPU than
reading it. The response is a pure function of the request's inputs (tenant, entity id,
media type, @context and its TermMap, query string) and of the stored document, so each worker
keeps the last responses it built and serves one again when a fresh read of the entity gives
the same document.

The cache never answers alone: every request still reads the entity from the store (so writes
by other workers or machines are seen at once), and the stored document is compared byte for
byte as the store holds its JSON text (the federated or partner view: its orjson encoding),
which tells apart what Python equality would not (``1``, ``1.0`` and ``true``; key order)
and needs no parsing on a hit. Timestamps are not trusted as validators: two writes may
share a ``modifiedAt``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from cityhub.jsonld.termmap import TermMap

# Bounds per worker: entries, bytes held (stored documents plus bodies), and the largest
# entry worth keeping (a typical 10–20 attribute entity takes about 4 kB).
CACHE_SIZE = 2048
CACHE_BYTES = 16 * 1024 * 1024
ENTRY_BYTES = 256 * 1024

Key = tuple[str, str, str, Any, bytes]  # tenant, entity id, media type, @context, query


@dataclass(frozen=True)
class Rendered:
    """One response and what it was built from."""

    termmap: TermMap  # compared by identity: a re-resolved @context renders anew
    params: Any  # the parsed query parameters, valid for this query string and TermMap
    stored: bytes  # the stored JSON text of the entity the response shows
    body: bytes
    raw_headers: tuple[tuple[bytes, bytes], ...]


class RenderedCache:
    """A bounded LRU of rendered entities for one hub."""

    def __init__(
        self, size: int = CACHE_SIZE, max_bytes: int = CACHE_BYTES, entry_bytes: int = ENTRY_BYTES
    ) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.entry_bytes = entry_bytes
        self.bytes = 0
        self._entries: OrderedDict[Key, Rendered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, termmap: TermMap) -> Rendered | None:
        """The entry built for ``key`` with this very TermMap, if any (not yet validated
        against the stored entity: the caller compares ``stored``)."""
        entry = self._entries.get(key)
        if entry is None or entry.termmap is not termmap:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Rendered) -> None:
        """Keep ``entry`` (unless it is too large), dropping the least recently used ones."""
        self.discard(key)
        size = _size(entry)
        if size > self.entry_bytes:
            return
        self._entries[key] = entry
        self.bytes += size
        while len(self._entries) > self.size or self.bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= _size(dropped)

    def discard(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= _size(entry)


def _size(entry: Rendered) -> int:
    return len(entry.stored) + len(entry.body)


_caches: WeakKeyDictionary[object, RenderedCache] = WeakKeyDictionary()


def cache_of(owner: object) -> RenderedCache:
    """The cache of one hub (each hub, i.e. each worker process, has its own)."""
    cache = _caches.get(owner)
    if cache is None:
        cache = _caches[owner] = RenderedCache()
    return cache
