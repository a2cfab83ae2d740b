"""Query Entities requests parsed before, reused while their inputs are the same.

A dashboard or an app polls the same Query Entities URL over and over. Parsing its
parameters (clause 5.7.2: the type expression of 4.17, the q language of 4.9, the geoQ of
4.10, scopeQ of 4.19, paging, and the render options of 6.3.7) cost about a fifth of a
one-entity answer's CPU. What parsing yields depends only on the raw query string, the
TermMap of the request's @context and the hub's settings, so a hub keeps the last results
per (query string, TermMap): the TermMap object itself is kept in the entry and compared by
identity, so a reloaded or different @context never reuses another's names. Only
successful parses are kept; a bad query raises its error every time. Bounded LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from cityhub.jsonld.termmap import TermMap

T = TypeVar("T")

SIZE = 512


class ParsedRequests(Generic[T]):
    """What one hub parsed from query strings, per TermMap."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[bytes, int], tuple[TermMap, T]] = OrderedDict()

    def get(self, query_string: bytes, tm: TermMap) -> T | None:
        key = (query_string, id(tm))
        found = self.entries.get(key)
        if found is None or found[0] is not tm:
            return None
        self.entries.move_to_end(key)
        return found[1]

    def put(self, query_string: bytes, tm: TermMap, parsed: T) -> None:
        self.entries[(query_string, id(tm))] = (tm, parsed)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


_parsed: WeakKeyDictionary[object, ParsedRequests[object]] = WeakKeyDictionary()


def parsed_of(owner: object) -> ParsedRequests[object]:
    """The parsed requests of one hub (its settings, e.g. the default limit, shape them)."""
    found = _parsed.get(owner)
    if found is None:
        found = _parsed[owner] = ParsedRequests()
    return found
