"""Discovery of entity types and attributes (clauses 5.7.5–5.7.10).

Everything is summarised by the store in SQL; this service holds the rules of the operations
(tenant, not found). Names stay IRIs here: the API layer compacts them with the request's
@context.
"""

from __future__ import annotations

from cityhub.errors import ResourceNotFound
from cityhub.services.tenants import require_tenant
from cityhub.storage.base import AttributeDetails, EntityTypeDetails, Store


class DiscoveryService:
    """The discovery operations of one hub, over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def retrieve_entity_types(self, tenant: str) -> list[str]:
        """Retrieve Available Entity Types (5.7.5): the type IRIs of existing entities."""
        await require_tenant(self.store, tenant)
        return await self.store.entity_types(tenant)

    async def retrieve_entity_type_details(self, tenant: str) -> list[EntityTypeDetails]:
        """Retrieve Details of Available Entity Types (5.7.6)."""
        await require_tenant(self.store, tenant)
        return await self.store.entity_type_details(tenant)

    async def retrieve_entity_type_info(self, tenant: str, type_iri: str) -> EntityTypeDetails:
        """Retrieve Available Entity Type Information (5.7.7); ResourceNotFound when no
        entity has the type."""
        await require_tenant(self.store, tenant)
        found = await self.store.entity_type_details(tenant, type_iri)
        if not found:
            raise ResourceNotFound(f"No entity of type {type_iri} exists")
        return found[0]

    async def retrieve_attributes(self, tenant: str) -> list[str]:
        """Retrieve Available Attributes (5.7.8): the attribute IRIs existing entities hold."""
        await require_tenant(self.store, tenant)
        return await self.store.attribute_names(tenant)

    async def retrieve_attribute_details(self, tenant: str) -> list[AttributeDetails]:
        """Retrieve Details of Available Attributes (5.7.9)."""
        await require_tenant(self.store, tenant)
        return await self.store.attribute_details(tenant)

    async def retrieve_attribute_info(self, tenant: str, attr_iri: str) -> AttributeDetails:
        """Retrieve Available Attribute Information (5.7.10); ResourceNotFound when no
        entity holds the attribute."""
        await require_tenant(self.store, tenant)
        found = await self.store.attribute_details(tenant, attr_iri)
        if not found:
            raise ResourceNotFound(f"No entity has an attribute {attr_iri}")
        return found[0]
