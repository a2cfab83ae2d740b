"""Checks that feed entities are what the hub itself accepts (clause 5.6.1 create semantics),
resolving their @context offline from the bundled Smart Data Models contexts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cityhub.ingest.feeds.records import Rejected
from cityhub.jsonld.resolver import ContextResolver
from cityhub.model.entity import parse_entity

# No host is allowed: a context that is not core or bundled fails instead of going online.
_RESOLVER = ContextResolver(allow_hosts="")


async def assert_hub_accepts(items: Iterable[Any]) -> int:
    """Parse every entity among ``items`` as the hub would; returns how many were checked."""
    checked = 0
    for item in items:
        if isinstance(item, Rejected):
            continue
        tm = await _RESOLVER.resolve(item["@context"])
        parse_entity({k: v for k, v in item.items() if k != "@context"}, tm)
        checked += 1
    return checked
