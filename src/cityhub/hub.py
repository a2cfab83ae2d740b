"""The composition root: one store, the context registry and the services over them."""

from __future__ import annotations

from cityhub.services.batch import BatchService
from cityhub.services.contexts import ContextService
from cityhub.services.discovery import DiscoveryService
from cityhub.services.entities import EntityService
from cityhub.services.queries import QueryService
from cityhub.settings import Settings
from cityhub.storage import create_store
from cityhub.storage.base import Store


class Hub:
    """Everything one worker process needs; opened in the app's lifespan."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store: Store = store or create_store(settings)
        self.contexts = ContextService(self.store, settings)
        self.entities = EntityService(self.store)
        self.batch = BatchService(self.store)
        self.queries = QueryService(self.store, max_limit=settings.query_max_limit)
        self.discovery = DiscoveryService(self.store)

    async def open(self, *, migrate: bool = True) -> None:
        await self.store.open()
        if migrate:
            await self.store.migrate()

    async def close(self) -> None:
        await self.contexts.aclose()
        await self.store.close()
