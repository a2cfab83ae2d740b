"""The feed adapter contract and the registry of adapters by short name.

An adapter knows one public feed: how to fetch it (``collect``, live, through the shared
:class:`~cityhub.ingest.feeds.fetch.Fetcher`) and how to map one payload (``parse``, pure, also
used to replay saved samples). Adapters are found by short name (``cityhub ingest
seoul-citydata``) or by dotted path ``package.module:Class`` for adapters outside CityHub.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.records import Item


@dataclass
class FeedConfig:
    """One configured feed: which adapter, into which tenant, how often, with what options."""

    adapter: str
    tenant: str | None = None  # None: the adapter's default tenant
    interval: float = 300.0  # seconds between runs inside ``cityhub serve``
    options: dict[str, Any] = field(default_factory=dict)


class FeedAdapter(ABC):
    """One public feed. Subclasses set the class variables and implement both methods."""

    name: ClassVar[str]  # short name, e.g. "seoul-citydata"
    title: ClassVar[str]  # one line for ``cityhub ingest --list``
    default_tenant: ClassVar[str]  # e.g. "seoul"
    key_setting: ClassVar[str | None] = None  # Settings field holding the API key, if any

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        self.options = dict(options or {})
        self.api_key = api_key

    @abstractmethod
    async def collect(self, fetcher: Fetcher) -> list[Item]:
        """Fetch the feed now and map what it holds (an unchanged feed may give nothing)."""

    @abstractmethod
    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        """Map one payload of this feed (as fetched, or a saved sample) to entities and
        rejections. Pure: no I/O, the same input always gives the same output."""


_REGISTRY: dict[str, type[FeedAdapter]] = {}


def register(cls: type[FeedAdapter]) -> type[FeedAdapter]:
    """Class decorator: make an adapter available by its short name."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"Two feed adapters are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin() -> None:
    from cityhub.ingest.feeds import catalog  # noqa: F401  (registers every built-in adapter)


def adapter_class(name: str) -> type[FeedAdapter]:
    """The adapter registered as ``name``, or the class at ``package.module:Class``."""
    _load_builtin()
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            found = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"Feed adapter {name!r} cannot be imported: {exc}") from None
        if not (isinstance(found, type) and issubclass(found, FeedAdapter)):
            raise ValueError(f"{name!r} is not a FeedAdapter")
        return found
    known = ", ".join(sorted(_REGISTRY))
    raise ValueError(f"No feed adapter {name!r}; known: {known}")


def adapters() -> Sequence[type[FeedAdapter]]:
    _load_builtin()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
